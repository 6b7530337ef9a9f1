"""The journal: canonical events, the hash chain, migrations, verify and backups."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
from conftest import Group, make_group

from kiosk.domain.errors import DomainError
from kiosk.domain.events import GENESIS, canonical, make_event, verification_code, verify_chain
from kiosk.domain.projections import TABLES
from kiosk.services import Kiosk
from kiosk.services import meetings as M
from kiosk.store import Store
from kiosk.store.backup import backup
from kiosk.store.clock import FixedClock
from kiosk.store.migrations import MIGRATIONS
from kiosk.store.verify import verify


def test_canonical_json_is_sorted_compact_utf8_and_refuses_floats() -> None:
    assert canonical({"b": 1, "a": "Ɖɔvi"}) == '{"a":"Ɖɔvi","b":1}'
    with pytest.raises(DomainError, match="float_in_event"):
        canonical({"amount": 12.5})
    with pytest.raises(DomainError, match="float_in_event"):
        canonical({"x": [1, {"y": 0.0}]})


def test_the_chain_links_every_event_to_the_one_before() -> None:
    e1 = make_event(1, "t", {"a": 1}, 0, "b", 1).chained(GENESIS)
    e2 = make_event(2, "t", {"a": 2}, 0, "b", 2).chained(e1.hash)
    assert verify_chain([e1, e2]) == []
    forged = make_event(2, "t", {"a": 3}, 0, "b", 2).chained(GENESIS)  # not linked to e1
    assert [b.reason for b in verify_chain([e1, forged])] == ["hash"]
    assert [b.reason for b in verify_chain([e2])] == ["gap", "hash"]
    assert len(verification_code(e2.hash)) == 11


def _group_with_history(k: Kiosk) -> Group:
    g = make_group(k)
    m = g.open(date(2026, 3, 2))
    M.standard_contributions(k, m, g.treasurer)
    g.close(m, adjust={"rouge": 100})
    return g


def test_seq_is_gapless_and_every_event_is_chained(kiosk: Kiosk) -> None:
    _group_with_history(kiosk)
    events = list(kiosk.store.events())
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert verify_chain(events) == []
    assert all(e.boot_id == "test-boot" and e.mono_ms > 0 for e in events)


def test_verify_replays_everything_and_finds_tampering(kiosk: Kiosk) -> None:
    g = _group_with_history(kiosk)
    report = verify(kiosk.store)
    assert report.ok, report.problems
    # Someone with the sqlite3 shell raises their savings in the projection...
    account = f"verte:savings:{g.member(0)}"
    kiosk.store.conn.execute("UPDATE p_accounts SET balance = balance - 50000 WHERE account = ?", (account,))
    report = verify(kiosk.store)
    assert not report.ok
    assert any("p_accounts" in p or "accounts" in p for p in report.problems)


def test_verify_finds_an_edited_event_even_with_the_guard_removed(kiosk: Kiosk) -> None:
    _group_with_history(kiosk)
    kiosk.store.conn.execute("DROP TRIGGER journal_no_update")
    seq = kiosk.store.conn.execute("SELECT MIN(seq) FROM journal WHERE type = 'movement_recorded'").fetchone()[0]
    kiosk.store.conn.execute("UPDATE journal SET body = replace(body, '1000', '9000') WHERE seq = ?", (seq,))
    assert '"amount":9000' in kiosk.store.conn.execute("SELECT body FROM journal WHERE seq = ?", (seq,)).fetchone()[0]
    report = verify(kiosk.store)
    assert f"event {seq}: chain broken (hash)" in report.problems


def test_verify_finds_an_applied_event_marked_as_quarantined(kiosk: Kiosk) -> None:
    # Marking a movement "quarantined by the server" would make the replay leave it out: the books then disagree.
    _group_with_history(kiosk)
    seq = kiosk.store.conn.execute("SELECT MAX(seq) FROM journal WHERE type = 'movement_recorded'").fetchone()[0]
    kiosk.store.conn.execute("INSERT INTO journal_quarantine (seq, reason) VALUES (?, 'made up')", (seq,))
    assert not verify(kiosk.store).ok
    # Even with the projections rebuilt to match (the mark is not in the chain): the event applies
    # cleanly, so no server would have refused it.
    from kiosk.store.verify import replay

    memory, _ = replay(list(kiosk.store.events()), {seq})
    for name in TABLES:
        kiosk.store.conn.execute(f"DELETE FROM p_{name}")
    with kiosk.store.write() as w:
        w.write_changes([(name, row) for name in TABLES for row in memory.rows(name)])  # type: ignore[arg-type]
    report = verify(kiosk.store)
    assert f"event {seq} (movement_recorded) is marked quarantined but applies cleanly" in report.problems


def test_migrations_are_named_recorded_and_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    names = [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY name")]
    assert names == [name for name, _ in MIGRATIONS]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    store = Store(path)  # reopening applies nothing and keeps the data
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()


def test_a_failed_use_case_writes_nothing(kiosk: Kiosk) -> None:
    g = make_group(kiosk)
    m = g.open(date(2026, 3, 2))
    before = kiosk.store.head()
    entries = {g.member(0): "present", g.member(1): "nonsense"}
    with pytest.raises(DomainError):
        M.record_attendance(kiosk, m, entries)  # the first entry was valid, but the use case is one transaction
    assert kiosk.store.head() == before
    assert M.attendance(kiosk, m)[g.member(0)] == "present"  # from g.open, not from the failed call


def test_backup_is_consistent_and_verifies(kiosk: Kiosk, tmp_path: Path) -> None:
    _group_with_history(kiosk)
    dest = backup(kiosk.store, tmp_path)
    assert dest.exists() and not list(tmp_path.glob("*.part"))
    copy = Store(dest, FixedClock())
    assert copy.head() == kiosk.store.head()
    assert verify(copy).ok
    copy.close()


def test_a_damaged_file_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"this is not a database" * 100)
    from kiosk.store import StoreError

    with pytest.raises(StoreError, match="cannot open"):
        Store(path)


def test_the_signed_form_is_the_canonical_json_of_the_event() -> None:
    import json

    for body in ({}, {"a": "Ɖɔvi « é »", "n": [1, 2, {"z": None, "b": True}]}, {"amount": 12500}):
        event = make_event(7, "movement_recorded", body, 1767225600123, "boot-ɛ", 42)
        expected = canonical(
            {
                "seq": 7,
                "type": "movement_recorded",
                "body": json.loads(event.body_json),
                "device_time": 1767225600123,
                "boot_id": "boot-ɛ",
                "mono_ms": 42,
            }
        )
        assert event.signed_part() == expected


def test_a_failed_commit_leaves_the_store_usable(kiosk: Kiosk) -> None:
    before = kiosk.store.head()
    with pytest.raises(sqlite3.IntegrityError), kiosk.store.write() as w:
        w.execute("PRAGMA defer_foreign_keys = ON")  # the violation surfaces at COMMIT, like a full disk
        w.execute("INSERT INTO print_jobs (kind, doc, copy_of, created_ms) VALUES ('member', '{}', 999, 0)")
    assert not kiosk.store.conn.in_transaction
    assert kiosk.store.query("SELECT COUNT(*) AS n FROM print_jobs")[0]["n"] == 0
    kiosk.store.set_setting("still", "works")
    assert kiosk.store.head() == before
