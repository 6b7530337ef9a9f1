"""The kiosk's single-writer SQLite store.

Durability settings follow the hardware research: WAL with
``synchronous=FULL`` (NORMAL can lose the last commits on a power cut), and
every write in ``BEGIN IMMEDIATE`` so two writers queue instead of failing
half-way. An event is appended and its projections updated in one
transaction: after a crash either both are there or neither is.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from kiosk.domain.errors import DomainError
from kiosk.domain.events import GENESIS, Event, chain_hash, make_event
from kiosk.domain.projections import TABLES, Changes, Key, Row
from kiosk.domain.reducer import apply

from .clock import Clock, SystemClock
from .migrations import migrate


class StoreError(Exception):
    """The database is missing, locked or damaged (not a domain rule)."""


def connect(path: str | Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def _decode(table: str, row: sqlite3.Row | tuple[Any, ...], names: list[str]) -> Row:
    spec = dict(TABLES[table].columns)
    out: Row = {}
    for name, value in zip(names, row, strict=True):
        out[name] = json.loads(value) if spec[name] == "json" and value is not None else value
    return out


def _encode(table: str, row: Row) -> list[Any]:
    return [
        json.dumps(row[name], sort_keys=True, ensure_ascii=False)
        if kind == "json" and row[name] is not None
        else row[name]
        for name, kind in TABLES[table].columns
    ]


class SqliteView:
    """Projections read by primary key, straight from the (possibly uncommitted) database."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._sql = {
            name: (
                f"SELECT {', '.join(c for c, _ in t.columns)} FROM p_{name} WHERE "
                + " AND ".join(f"{k} = ?" for k in t.key),
                [c for c, _ in t.columns],
            )
            for name, t in TABLES.items()
        }

    def get(self, table: str, key: Key) -> Row | None:
        sql, names = self._sql[table]
        row = self.conn.execute(sql, key).fetchone()
        return _decode(table, row, names) if row else None

    def rows(self, table: str) -> list[Row]:
        names = [c for c, _ in TABLES[table].columns]
        cur = self.conn.execute(f"SELECT {', '.join(names)} FROM p_{table}")
        return [_decode(table, r, names) for r in cur]


class Writer:
    """Appends events inside one open transaction (see ``Store.write``)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn = store.conn
        self.view = store.view
        self.appended: list[Event] = []

    def append(self, type_: str, body: dict[str, Any]) -> Event:
        restoring = self.conn.execute("SELECT restore_to FROM sync_state WHERE id = 1").fetchone()
        if restoring and restoring[0] is not None:
            # A kiosk half rebuilt from the server: a new event here would fork the chain it is
            # rebuilding, and the restore could never finish.
            raise DomainError("restore_in_progress", "journal", until=restoring[0])
        last = self.conn.execute("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        clock = self.store.clock
        event = make_event(seq, type_, body, clock.now_ms(), clock.boot_id, clock.mono_ms()).chained(prev)
        return self._commit_event(event)

    def append_existing(self, event: Event, quarantined: str | None = None) -> Event:
        """Append an event made elsewhere (a restore from the server) with its own time and hash.

        The event must continue this journal exactly: next ``seq``, and a hash that
        chains from our head. The reducer still checks it, so a restored journal is
        held to the same rules as one recorded here, except an event the server
        ``quarantined`` (its reason): kept in the chain, it changes nothing, as there.
        """
        last = self.conn.execute("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        if event.seq != seq:
            raise StoreError(f"event {event.seq} does not continue the journal (expected {seq})")
        if chain_hash(prev, event) != event.hash:
            raise StoreError(f"event {event.seq} does not chain from the journal's head")
        if quarantined is None:
            return self._commit_event(event)
        self._insert_event(event)
        self.conn.execute("INSERT INTO journal_quarantine (seq, reason) VALUES (?, ?)", (event.seq, quarantined))
        self.appended.append(event)
        return event

    def _commit_event(self, event: Event) -> Event:
        """Reduce, then write the event and the rows it changes (the caller holds the transaction)."""
        changes = apply(self.view, event)  # raises DomainError: the caller's transaction rolls back
        self._insert_event(event)
        self.write_changes(changes)
        self.appended.append(event)
        return event

    def _insert_event(self, event: Event) -> None:
        self.conn.execute(
            "INSERT INTO journal (seq, type, body, device_time, boot_id, mono_ms, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (event.seq, event.type, event.body_json, event.device_time, event.boot_id, event.mono_ms, event.hash),
        )

    def write_changes(self, changes: Changes) -> None:
        for table, row in changes:
            self.conn.execute(self.store.upsert_sql[table], _encode(table, row))

    def execute(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> sqlite3.Cursor:
        """Write to a local table (PINs, print jobs…) in this same transaction."""
        return self.conn.execute(sql, params)


class Store:
    """One kiosk database. One instance per process; writes are serialised."""

    def __init__(self, path: str | Path, clock: Clock | None = None) -> None:
        self.path = Path(path)
        self.clock: Clock = clock or SystemClock()
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = connect(path)
            migrate(self.conn)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open {path}: {exc}") from exc
        self.db = sqlite_utils.Database(self.conn)
        self.view = SqliteView(self.conn)
        self.upsert_sql = {
            name: f"INSERT OR REPLACE INTO p_{name} ({', '.join(c for c, _ in t.columns)}) "
            f"VALUES ({', '.join('?' * len(t.columns))})"
            for name, t in TABLES.items()
        }
        self._lock = threading.RLock()
        self._depth = 0

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def write(self) -> Iterator[Writer]:
        """One use case, one transaction: everything appended inside commits together or not at all.

        Nested calls (a scenario replaying many use cases as one) become savepoints,
        so the outer caller still gets all-or-nothing.
        """
        with self._lock:
            depth = self._depth
            self.conn.execute(f"SAVEPOINT sp{depth}" if depth else "BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield Writer(self)
            except BaseException:
                self.conn.execute(f"ROLLBACK TO sp{depth}" if depth else "ROLLBACK")
                if depth:
                    self.conn.execute(f"RELEASE sp{depth}")
                raise
            finally:
                self._depth -= 1
            try:
                self.conn.execute(f"RELEASE sp{depth}" if depth else "COMMIT")
            except sqlite3.Error:
                # A failed COMMIT (disk full, I/O error: a dying SD card) leaves the
                # transaction open; roll it back so the store stays usable and the
                # failed use case is not visible to later reads.
                if not depth and self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise

    def append(self, type_: str, body: dict[str, Any]) -> Event:
        with self.write() as w:
            return w.append(type_, body)

    # -- reads ----------------------------------------------------------------------

    def query(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[dict[str, Any]]:
        """Rows as dicts (sqlite-utils); JSON columns come back as their text."""
        return list(self.db.query(sql, params))

    def get(self, table: str, key: Key) -> Row | None:
        return self.view.get(table, key)

    def head(self) -> tuple[int, str]:
        row = self.conn.execute("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else (0, GENESIS)

    def events(self, after: int = 0, limit: int | None = None) -> Iterator[Event]:
        # The body is read as bytes: a tampered, non-UTF-8 body must reach verify as a
        # broken chain (the replacement characters change its hash), not crash the reader.
        sql = (
            "SELECT seq, type, CAST(body AS BLOB), device_time, boot_id, mono_ms, hash FROM journal "
            "WHERE seq > ? ORDER BY seq"
        )
        params: list[Any] = [after]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        for seq, type_, body, device_time, boot_id, mono_ms, hash_ in self.conn.execute(sql, params):
            yield Event(seq, type_, body.decode("utf-8", errors="replace"), device_time, boot_id, mono_ms, hash_)

    def quarantined(self) -> dict[int, str]:
        """Events the server quarantined (seq: reason), kept in the chain without effect."""
        return dict(self.conn.execute("SELECT seq, reason FROM journal_quarantine").fetchall())

    def setting(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_setting(self, key: str, value: str) -> None:
        with self.write() as w:
            w.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, value))
