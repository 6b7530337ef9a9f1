"""Named migrations, each recorded in the same transaction that applies it.

Never edit a migration that has shipped: add a new one. A kiosk in a village
may skip several releases and must still arrive at the same schema.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from kiosk.domain.members import OFFICER_ROLES
from kiosk.domain.projections import TABLES

SQL_TYPES = {"int": "INTEGER", "text": "TEXT", "json": "TEXT"}


def _journal(conn: sqlite3.Connection) -> None:
    conn.execute(
        """CREATE TABLE journal (
            seq INTEGER PRIMARY KEY,
            type TEXT NOT NULL,
            body TEXT NOT NULL,
            device_time INTEGER NOT NULL,
            boot_id TEXT NOT NULL,
            mono_ms INTEGER NOT NULL,
            hash TEXT NOT NULL
        )"""
    )
    # Append-only, enforced by the database itself: a bug or a curious hand
    # with the sqlite3 shell cannot edit history without dropping the trigger.
    conn.execute(
        "CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal "
        "BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END"
    )
    conn.execute(
        "CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal "
        "BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END"
    )


# The projection tables as they were when 0002 was written. A later change to
# TABLES needs a migration of its own (as 0004 does for p_receipts).
_FIRST_PROJECTIONS = (
    "groups",
    "rules",
    "members",
    "member_numbers",
    "meetings",
    "attendance",
    "accounts",
    "transactions",
    "postings",
    "loans",
)


def _projections(conn: sqlite3.Connection) -> None:
    for table in (TABLES[name] for name in _FIRST_PROJECTIONS):
        cols = ", ".join(f"{name} {SQL_TYPES[kind]}" for name, kind in table.columns)
        conn.execute(f"CREATE TABLE p_{table.name} ({cols}, PRIMARY KEY ({', '.join(table.key)})) WITHOUT ROWID")
    conn.execute("CREATE INDEX p_members_group ON p_members (group_id, number)")
    conn.execute("CREATE INDEX p_transactions_meeting ON p_transactions (meeting_id, seq)")
    conn.execute("CREATE INDEX p_transactions_member ON p_transactions (member_id, seq)")
    conn.execute("CREATE INDEX p_loans_member ON p_loans (member_id, status)")
    conn.execute("CREATE INDEX p_loans_group ON p_loans (group_id, status)")
    conn.execute("CREATE INDEX p_meetings_group ON p_meetings (group_id, number)")
    conn.execute("CREATE INDEX p_attendance_meeting ON p_attendance (meeting_id)")


def _local(conn: sqlite3.Connection) -> None:
    # Never synced: PIN hashes stay on the kiosk, settings are the kiosk's own.
    conn.execute(
        """CREATE TABLE officer_pins (
            member_id TEXT PRIMARY KEY,
            pin_hash TEXT NOT NULL,
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until INTEGER NOT NULL DEFAULT 0
        )"""
    )
    conn.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("CREATE TABLE meeting_progress (meeting_id TEXT PRIMARY KEY, step TEXT NOT NULL)")


def _print_queue(conn: sqlite3.Connection) -> None:
    # Receipts waiting for paper. Written in the same transaction as the movement
    # they prove, so a power cut or an empty paper roll never loses one. The id
    # gives the printing order. Local: jobs are never synced (receipt events are).
    conn.execute(
        """CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            receipt_seq INTEGER,
            doc TEXT NOT NULL,
            duplicate INTEGER NOT NULL DEFAULT 0,
            copy_of INTEGER REFERENCES print_jobs (id),
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_ms INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_ms INTEGER NOT NULL,
            printed_ms INTEGER
        )"""
    )
    conn.execute("CREATE INDEX print_jobs_status ON print_jobs (status, id)")
    conn.execute(
        "CREATE TABLE p_receipts (receipt_id TEXT, group_id TEXT, meeting_id TEXT, member_id TEXT, "
        "kind TEXT, seq INTEGER, txns TEXT, PRIMARY KEY (receipt_id)) WITHOUT ROWID"
    )


def _sync_state(conn: sqlite3.Connection) -> None:
    # What the sync server has acknowledged. acked_seq moves only when the
    # server's answer arrives, never when a request is sent: a lost answer
    # costs a resend, never an event. Local: none of this is synced.
    conn.execute(
        """CREATE TABLE sync_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            server_url TEXT,
            acked_seq INTEGER NOT NULL DEFAULT 0,
            acked_head TEXT NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000',
            ref_cursor INTEGER NOT NULL DEFAULT 0,
            last_attempt_ms INTEGER,
            last_success_ms INTEGER,
            last_error TEXT,
            failures INTEGER NOT NULL DEFAULT 0,
            restore_to INTEGER
        )"""
    )
    conn.execute("INSERT INTO sync_state (id) VALUES (1)")
    # The server's clock against this kiosk's monotonic clock, per boot: the Pi
    # has no real-time clock, so each boot's times are corrected on their own.
    conn.execute(
        """CREATE TABLE sync_clock (
            boot_id TEXT PRIMARY KEY,
            server_ms INTEGER NOT NULL,
            mono_ms INTEGER NOT NULL,
            device_ms INTEGER NOT NULL,
            rtt_ms INTEGER NOT NULL
        )"""
    )
    # Reference data pulled from the server (rule templates, groups assigned to this kiosk).
    conn.execute(
        """CREATE TABLE sync_reference (
            entity TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (entity, key)
        )"""
    )


def _quarantine(conn: sqlite3.Connection) -> None:
    # Events of this kiosk's journal that the server's reducer refused, learned on a restore: they
    # stay in the chain (their hashes link it) and change no projection, here as on the server.
    conn.execute(
        "CREATE TABLE journal_quarantine (seq INTEGER PRIMARY KEY REFERENCES journal (seq), reason TEXT NOT NULL)"
    )
    conn.execute(
        "CREATE TRIGGER journal_quarantine_no_update BEFORE UPDATE ON journal_quarantine "
        "BEGIN SELECT RAISE(ABORT, 'journal_quarantine is append-only'); END"
    )
    conn.execute(
        "CREATE TRIGGER journal_quarantine_no_delete BEFORE DELETE ON journal_quarantine "
        "BEGIN SELECT RAISE(ABORT, 'journal_quarantine is append-only'); END"
    )


def _journal_type_index(conn: sqlite3.Connection) -> None:
    # A member's page reads the names they went by from the journal (member_added, member_updated):
    # a few events among tens of thousands, found without reading all of them on a Pi's SD card.
    conn.execute("CREATE INDEX journal_type ON journal (type)")


def _pins_out_of_office(conn: sqlite3.Connection) -> None:
    # Leaving office (or the group) drops the officer's PIN since 2026-11-29; PINs of those who left
    # before then would come back to life with a new office.
    roles = sorted(r.value for r in OFFICER_ROLES)
    conn.execute(
        "DELETE FROM officer_pins WHERE member_id NOT IN (SELECT member_id FROM p_members WHERE active = 1 "
        f"AND role IN ({', '.join('?' * len(roles))}))",
        roles,
    )


MIGRATIONS: list[tuple[str, Callable[[sqlite3.Connection], None]]] = [
    ("0001_journal", _journal),
    ("0002_projections", _projections),
    ("0003_local_tables", _local),
    ("0004_print_queue", _print_queue),
    ("0005_sync_state", _sync_state),
    ("0006_journal_quarantine", _quarantine),
    ("0007_journal_type_index", _journal_type_index),
    ("0008_pins_out_of_office", _pins_out_of_office),
]


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply what is missing, one transaction per migration; return the names applied."""
    conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
    applied = []
    for name, step in MIGRATIONS:
        if name in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have applied it while we waited for the lock.
            if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
                conn.execute("ROLLBACK")
                continue
            step(conn)
            conn.execute("INSERT INTO _migrations VALUES (?, datetime('now'))", (name,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied
