"""Push, status, pull and the clock: the kiosk's SyncClient against the real app (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from test_sync_support import (  # noqa: F401  (backend_fixture, server_fixture: fixtures)
    Server,
    ServerDb,
    backend_fixture,
    backup_of,
    enrolled,
    kiosk_journal,
    kiosk_projections,
    push_raw,
    raw_batch,
    running,
    server_fixture,
    server_journal_tuples,
    station,
)

from kiosk.domain.events import GENESIS, make_event
from kiosk.domain.projections import TABLES, MemoryView
from kiosk.domain.reducer import apply
from kiosk.domain.wire import chain
from kiosk.services import Kiosk
from kiosk.store.clock import FixedClock
from kiosk.sync import keys, state
from kiosk.sync.batches import batch_body, preset_dictionary
from kiosk.sync.client import SyncClient
from kiosk.sync.errors import SyncError
from sync_server.db import batches
from sync_server.errors import SyncServerError


def test_a_synced_journal_is_on_the_server_and_both_reducers_agree_row_by_row(server: Server, tmp_path: Path) -> None:
    st = station(tmp_path / "k.db")
    st.meeting(extra_movements=3)
    client = enrolled(st, server, "K01")
    report = client.sync()
    head_seq, head = st.store.head()
    assert report.acked_seq == head_seq and report.pushed == head_seq
    assert server_journal_tuples(server, "K01") == kiosk_journal(st.k)
    assert server.kiosk("K01")["head"] == head
    # the same reducer, three stores: kiosk SQLite, server SQL, and a replay in memory
    memory = MemoryView()
    for ev in st.store.events():
        memory.apply(apply(memory, ev))
    on_kiosk = kiosk_projections(st.k)
    on_server = server.projections("K01")
    for name in TABLES:
        assert on_server[name] == on_kiosk[name], name
        assert len(memory.rows(name)) == len(on_kiosk[name]), name
    assert sum(len(v) for v in on_server.values()) > 50
    assert state.load(st.store).acked_seq == head_seq
    assert state.pending(st.store) == {"events": 0, "meetings": 0, "head_seq": head_seq, "acked_seq": head_seq}


def _events(st):  # type: ignore[no-untyped-def]
    return list(st.store.events())


def test_a_database_error_midway_through_a_push_stores_nothing_and_the_next_sync_stores_all(
    backend: ServerDb, tmp_path: Path
) -> None:
    """Ingest writes its rows through the driver's cursor: a failure there still rolls the whole batch back

    and still comes out as SQLAlchemy's error (on SQLite an OperationalError, which the app answers 503:
    the kiosk keeps its events and retries)."""
    from sqlalchemy.exc import ProgrammingError

    with running(backend) as server:
        st = station(tmp_path / "k.db")
        st.meeting(extra_movements=2)
        client = enrolled(st, server, "K01")
        before = server.snapshot("K01")
        with server.engine.begin() as conn:  # the postings table gone: the batch fails in its last inserts
            conn.exec_driver_sql("ALTER TABLE p_postings RENAME TO p_postings_away")
        if backend.url.startswith("sqlite"):
            with pytest.raises(SyncError) as refused:
                client.sync()
            assert refused.value.code == "server_error" and "503" in str(refused.value)
        else:  # PostgreSQL calls a missing table a programming error: a 500, raised here by the test client
            with pytest.raises(SyncError) as failed:  # which the kiosk takes as a failure to retry
                client.sync()
            assert isinstance(failed.value.__cause__, ProgrammingError) and failed.value.transient
        with server.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE p_postings_away RENAME TO p_postings")
        assert server.snapshot("K01") == before
        assert state.load(st.store).acked_seq == 0
        report = client.sync()
        assert report.acked_seq == st.store.head()[0]
        assert server_journal_tuples(server, "K01") == kiosk_journal(st.k)
        assert server.projections("K01") == kiosk_projections(st.k)


def test_the_same_batch_twice_and_overlapping_batches_store_each_event_once(server: Server, tmp_path: Path) -> None:
    st = station(tmp_path / "k.db")
    st.meeting()
    client = enrolled(st, server, "K01")
    client.status()  # anchors the clock, so requests are signed in the server's time
    events = _events(st)
    n = len(events)
    first = raw_batch(client.key, "K01", events[:20], GENESIS)
    for _ in range(2):
        resp = push_raw(client, first)
        assert resp.status_code == 200, resp.text
        assert resp.json()["acked_seq"] == 20
    overlapping = raw_batch(client.key, "K01", events[10:n], events[9].hash)
    resp = push_raw(client, overlapping)
    assert resp.status_code == 200 and resp.json()["acked_seq"] == n
    assert push_raw(client, first).json()["acked_seq"] == n  # an old batch after a newer one: harmless
    rows = server.journal("K01")
    assert [r["seq"] for r in rows] == list(range(1, n + 1))
    assert server_journal_tuples(server, "K01") == kiosk_journal(st.k)
    assert server.projections("K01") == kiosk_projections(st.k)
    with server.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(batches)) == 2  # resends leave no trace


def test_a_gap_is_refused_with_the_cursor_and_the_client_recovers_by_itself(server: Server, tmp_path: Path) -> None:
    st = station(tmp_path / "k.db")
    st.meeting()
    client = enrolled(st, server, "K01")
    client.status()
    events = _events(st)
    resp = push_raw(client, raw_batch(client.key, "K01", events[:10], GENESIS))
    assert resp.json()["acked_seq"] == 10
    gap = push_raw(client, raw_batch(client.key, "K01", events[20:30], events[19].hash))
    assert gap.status_code == 409
    assert gap.json()["detail"]["code"] == "gap" and gap.json()["detail"]["acked_seq"] == 10
    assert [r["seq"] for r in server.journal("K01")] == list(range(1, 11))
    # The kiosk believes (wrongly) that the server has everything up to 30, e.g. after the
    # server was restored from a backup: its next push gaps, and it resumes from the server's cursor.
    state.acknowledge(st.store, 30, events[29].hash)
    state.succeeded(st.store, 0)  # and so it asks no status first
    st.meeting()
    report = client.sync()
    assert report.acked_seq == st.store.head()[0]
    assert server_journal_tuples(server, "K01") == kiosk_journal(st.k)
    assert server.projections("K01") == kiosk_projections(st.k)


def test_a_kiosk_that_lost_its_cursor_relearns_it_without_resending(server: Server, tmp_path: Path) -> None:
    st = station(tmp_path / "k.db")
    st.meeting()
    client = enrolled(st, server, "K01")
    client.sync()
    state.update(st.store, acked_seq=0, last_success_ms=None)  # sync_state lost
    st.meeting()
    synced = len(server.journal("K01"))
    report = client.sync()
    assert report.requests == 2  # status, then one push of the new meeting only
    assert report.pushed == st.store.head()[0] - synced
    assert server_journal_tuples(server, "K01") == kiosk_journal(st.k)


def test_a_server_restored_from_an_older_backup_gets_its_lost_events_again(server: Server, tmp_path: Path) -> None:
    st = station(tmp_path / "k.db")
    st.meeting()
    client = enrolled(st, server, "K01")
    client.status()
    events = _events(st)
    assert push_raw(client, raw_batch(client.key, "K01", events[:10], GENESIS)).json()["acked_seq"] == 10
    # The kiosk synced everything, then the server was put back to a backup holding 10 events; the
    # kiosk has recorded nothing since, so it has nothing new to push.
    state.acknowledge(st.store, len(events), events[-1].hash)
    state.succeeded(st.store, 0)
    report = client.sync()
    assert report.requests == 2 and report.pushed == len(events) - 10  # status, then what the server lost
    assert server_journal_tuples(server, "K01") == kiosk_journal(st.k)
    assert server.projections("K01") == kiosk_projections(st.k)


def test_a_kiosk_restored_from_an_older_backup_of_its_own_is_told_the_server_is_ahead(
    server: Server, tmp_path: Path
) -> None:
    st = station(tmp_path / "k.db")
    st.meeting()
    client = enrolled(st, server, "K01")
    client.sync()
    old = backup_of(st, tmp_path / "old" / "k.db")  # a USB backup of this moment
    st.meeting()
    client.sync()
    restored = Kiosk.open(old, FixedClock())  # the SD card died; the backup was put back
    again = SyncClient(restored.store, server.client, keys.load(keys.key_path(old)), "K01")
    with pytest.raises(SyncError) as refused:
        again.sync()  # it has nothing new, and must not report all is well
    assert refused.value.code == "server_ahead"
    assert "server_ahead" in (state.load(restored.store).last_error or "")
    restored.close()


def test_a_sync_with_a_known_cursor_is_one_request(server: Server, tmp_path: Path) -> None:
    st = station(tmp_path / "k.db")
    st.meeting()
    client = enrolled(st, server, "K01")
    client.sync()
    st.meeting()
    assert client.sync().requests == 1
    assert client.sync().requests == 1  # nothing to push: one status request


def test_events_the_reducer_refuses_are_quarantined_and_the_cursor_advances(server: Server, tmp_path: Path) -> None:
    st = station(tmp_path / "k.db")
    client = enrolled(st, server, "K01")
    client.sync()
    seq, head = st.store.head()
    meeting = str(uuid.uuid4())
    bogus = make_event(seq + 1, "movement_recorded", {"meeting": meeting, "kind": "contribution"}, 1, "b", 1)
    unknown = make_event(seq + 2, "teleported", {"x": 1}, 1, "b", 2)
    events = chain([bogus, unknown], head)
    resp = push_raw(client, raw_batch(client.key, "K01", events, head))
    assert resp.status_code == 200, resp.text
    assert resp.json()["acked_seq"] == seq + 2 and resp.json()["quarantined"] == [seq + 1, seq + 2]
    rows = server.journal("K01")[-2:]
    assert [r["status"] for r in rows] == ["quarantined", "quarantined"]
    assert "meeting_unknown" in rows[0]["reason"] and "event_type_unknown" in rows[1]["reason"]
    assert server.kiosk("K01")["quarantined"] == 2
    assert any(i["code"] == "events_quarantined" for i in server.incidents())


def test_values_no_database_can_store_are_quarantined_not_retried_for_ever(server: Server, tmp_path: Path) -> None:
    """A signed event the reducer took but the database could not store (a 6,000-character id over
    PostgreSQL's index limit, a dict where a text goes, an integer beyond 64 bits) failed the write on
    every push: the kiosk retried it for ever and nothing after it ever synced."""
    st = station(tmp_path / "k.db")
    client = enrolled(st, server, "K01")
    client.sync()
    seq, head = st.store.head()
    odd = [
        {"group": "g" * 6000, "name": "MUSO Longue"},
        {"group": str(uuid.uuid4()), "name": "MUSO Dict", "country": {"a": 1}},
        {"group": str(uuid.uuid4()), "name": "MUSO Grand", "country": 10**30},
        {"group": str(uuid.uuid4()), "name": "MUSO Juste", "country": "TG"},  # and the next one goes in
    ]
    events = chain(
        [make_event(seq + i + 1, "group_created", {**b, "rules": {}}, 1, "b", i) for i, b in enumerate(odd)], head
    )
    resp = push_raw(client, raw_batch(client.key, "K01", events, head))
    assert resp.status_code == 200, resp.text
    assert resp.json()["acked_seq"] == seq + 4 and resp.json()["quarantined"] == [seq + 1, seq + 2, seq + 3]
    rows = server.journal("K01")[-4:]
    assert [r["status"] for r in rows] == ["quarantined"] * 3 + ["applied"]
    assert all("value_unstorable" in r["reason"] for r in rows[:3])
    assert "groups.group_id" in rows[0]["reason"] and "groups.country" in rows[1]["reason"]


def _synced_to_a_server_that_knew_no_fines(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, SyncClient]:
    """A kiosk whose meeting with fines went to a server one version behind, whose reducer refused them."""
    import sync_server.ingest
    from kiosk.domain.errors import DomainError

    real_apply = sync_server.ingest.apply

    def older(view: Any, ev: Any) -> Any:
        if ev.type == "movement_recorded" and ev.body.get("kind") == "fine":
            raise DomainError("movement_unknown", "kind", value="fine")
        return real_apply(view, ev)

    st = station(tmp_path / "k.db")
    client = enrolled(st, server, "K01")
    monkeypatch.setattr(sync_server.ingest, "apply", older)
    st.meeting(extra_movements=3)
    client.sync()
    return st, client


def test_an_upgraded_server_applies_again_what_its_older_self_quarantined(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server one version behind its kiosks quarantined what it could not read yet (here: fines), and
    what leaned on it (the receipts citing them, the closing count then short): its books differed from
    the kiosk's for good, and so did a Pi restored from it. ``muso-server reapply`` replays the journal."""
    from sync_server import cli as server_cli
    from sync_server.reapply import reapply

    st, client = _synced_to_a_server_that_knew_no_fines(server, tmp_path, monkeypatch)
    assert server.kiosk("K01")["quarantined"] >= 3
    assert server.projections("K01") != kiosk_projections(st.k)
    monkeypatch.undo()  # the server upgraded
    before = server_journal_tuples(server, "K01")
    done = reapply(server.engine, "K01")
    assert done.now_applied >= 3 and done.now_quarantined == 0 and done.quarantined == 0
    assert server.projections("K01") == kiosk_projections(st.k)
    assert {r["status"] for r in server.journal("K01")} == {"applied"} and server.kiosk("K01")["quarantined"] == 0
    assert server_journal_tuples(server, "K01") == before  # the journal itself: not a byte changed
    st.meeting()  # and pushes go on from there
    client.sync()
    assert server.projections("K01") == kiosk_projections(st.k)
    again = reapply(server.engine, "K01")  # nothing left to change
    assert (again.now_applied, again.now_quarantined) == (0, 0)
    assert server.projections("K01") == kiosk_projections(st.k)
    with pytest.raises(SyncServerError, match="kiosk_unknown"):
        reapply(server.engine, "K99")
    url = server.settings.database_url
    assert server_cli.main(["--database-url", url, "reapply"]) == 0  # every kiosk
    assert server.projections("K01") == kiosk_projections(st.k)
    assert server_cli.main(["--database-url", url, "reapply", "--kiosk", "K99"]) != 0


def test_a_push_sent_again_does_not_put_back_what_the_kiosk_said_of_itself_then(server: Server, tmp_path: Path) -> None:
    st = station(tmp_path / "k.db")
    client = enrolled(st, server, "K01")
    st.meeting()
    first = batch_body(st.store, "K01", client.key, list(st.store.events()), now=True)
    assert push_raw(client, first).status_code == 200
    said_then = server.kiosk("K01")["print_pending"]
    st.meeting()
    client.sync()
    said_now = server.kiosk("K01")["print_pending"]
    assert said_now > said_then  # the second meeting's receipts wait too
    assert push_raw(client, first).status_code == 200  # sent again (an answer lost), or replayed
    assert server.kiosk("K01")["print_pending"] == said_now


def test_a_push_reduced_before_a_reapply_is_reduced_again_after_it(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A push reduces its batch on a snapshot, outside the kiosk's lock, and keeps that work if nothing
    moved meanwhile. A reapply rebuilds the books without moving the cursor: a push whose snapshot came
    before it wrote rows reduced from the old books (the fines an older server had quarantined)."""
    import contextlib

    import sync_server.ingest
    from sync_server.reapply import reapply

    real_write = sync_server.ingest.write
    st, client = _synced_to_a_server_that_knew_no_fines(server, tmp_path, monkeypatch)
    monkeypatch.undo()  # the server upgraded

    @contextlib.contextmanager
    def overtaken(engine: Any) -> Any:
        if not overtaken.done:  # type: ignore[attr-defined]
            overtaken.done = True  # type: ignore[attr-defined]
            reapply(engine, "K01")  # between the push's snapshot and its lock
        with real_write(engine) as conn:
            yield conn

    overtaken.done = False  # type: ignore[attr-defined]
    monkeypatch.setattr(sync_server.ingest, "write", overtaken)
    st.meeting(extra_movements=1)
    client.sync()
    assert overtaken.done  # type: ignore[attr-defined]
    assert server.projections("K01") == kiosk_projections(st.k)
    monkeypatch.setattr(sync_server.ingest, "write", real_write)
    from sync_server import rollup

    rebuilt = server.engine  # the rollups as a rebuild from the journal makes them: nothing counted twice
    with rebuilt.connect() as conn:
        before = sorted(map(tuple, conn.execute(select(rollup.console_totals)).all()))
    rollup.rebuild(server.engine, ["K01"])
    with rebuilt.connect() as conn:
        assert sorted(map(tuple, conn.execute(select(rollup.console_totals)).all())) == before


def test_time_is_corrected_per_boot_from_the_server_clock(server: Server, tmp_path: Path) -> None:
    clock = FixedClock(now=1_600_000_000_000, boot_id="boot-a")  # a Pi whose clock says September 2020
    st = station(tmp_path / "k.db", clock=clock)
    st.meeting()
    client = enrolled(st, server, "K01")
    client.sync()  # the first signed request is refused for clock_skew, corrected, and retried
    offset = state.clock_offset(st.store)
    assert offset is not None and offset > 180 * 86_400_000
    rows = server.journal("K01")
    real_now = server.kiosk("K01")["last_push_at"]
    assert all(r["est_time"] is not None and abs(r["est_time"] - real_now) < 60_000 for r in rows)
    ev = next(iter(st.store.events()))
    assert abs(state.corrected_time(st.store, ev) - rows[0]["est_time"]) < 5_000
    # a new boot that never talked to the server: its events keep only their device time
    st.store.clock.boot_id = "boot-b"
    st.meeting()
    uploaded = raw_batch(client.key, "K01", list(st.store.events(after=len(rows))), rows[-1]["hash"])
    assert push_raw(client, uploaded).status_code == 200
    assert all(r["est_time"] is None for r in server.journal("K01")[len(rows) :])


def test_a_boot_keeps_its_first_anchor_and_later_pushes_time_their_events_by_it(server: Server, tmp_path: Path) -> None:
    """Later pushes read a boot's anchor before taking the kiosk's lock: the first anchor still rules."""
    from sync_server.db import boot_anchors

    clock = FixedClock(now=1_600_000_000_000, boot_id="boot-a")
    st = station(tmp_path / "k.db", clock=clock)
    st.meeting()
    client = enrolled(st, server, "K01")
    client.sync()
    first = len(server.journal("K01"))
    with server.engine.connect() as conn:
        anchored = conn.execute(select(boot_anchors.c.server_ms, boot_anchors.c.mono_ms)).all()
    assert len(anchored) == 1
    server_ms, mono_ms = anchored[0]
    clock.mono += 600_000  # ten minutes later, same boot
    st.meeting()
    uploaded = raw_batch(
        client.key, "K01", list(st.store.events(after=first)), server.journal("K01")[-1]["hash"],
        now=("boot-a", clock.mono),
    )  # fmt: skip
    assert push_raw(client, uploaded).status_code == 200
    with server.engine.connect() as conn:
        assert conn.execute(select(boot_anchors.c.server_ms, boot_anchors.c.mono_ms)).all() == [(server_ms, mono_ms)]
    later = server.journal("K01")[first:]
    assert later and all(r["est_time"] == server_ms - (mono_ms - r["mono_ms"]) for r in later)
    assert all(r["est_time"] - server_ms >= 600_000 for r in later)


def test_reference_data_is_pulled_with_a_version_cursor(server: Server, tmp_path: Path) -> None:
    st = station(tmp_path / "k.db")
    token = server.admin_token()
    auth = {"Authorization": f"Bearer {token}"}
    client = enrolled(st, server, "K01")
    resp = server.client.put(
        "/v1/admin/reference/rule_template/standard", json={"value": {"contribution_verte": 1000}}, headers=auth
    )
    assert resp.status_code == 200, resp.text
    resp = server.client.put(
        "/v1/admin/reference/kiosk_group/g1",
        json={"value": {"name": "MUSO Bolou", "country": "TG"}, "kiosk_id": "K01"},
        headers=auth,
    )
    assert resp.status_code == 200
    server.client.put(
        "/v1/admin/reference/kiosk_group/g2",
        json={"value": {"name": "Ailleurs", "country": "TG"}, "kiosk_id": "K99"},
        headers=auth,
    )
    bad = server.client.put(
        "/v1/admin/reference/rule_template/bad", json={"value": {"contribution_verte": -5}}, headers=auth
    )
    assert bad.status_code == 422 and bad.json()["detail"]["code"] == "rules_invalid"
    # A kiosk creates an assigned group from its value in one tap: whatever is wrong is said here, not there.
    for value, kiosk_id, code in (
        ({"name": "Partout", "country": "TG"}, None, "kiosk_group_needs_kiosk"),  # every kiosk would create its own
        ({"name": "X"}, "K01", "group_country_required"),  # the kiosk would file it under Togo
        ({"name": "X", "country": "TG", "template": "standart"}, "K01", "template_unknown"),
        ({"name": "X", "country": "TG", "rules": {"rounding_unit": 7}}, "K01", "rules_invalid"),
        ({"name": "X", "country": "TG", "rules": "défaut"}, "K01", "rules_invalid"),
        ({"name": "X", "country": "TG", "rules": {}, "template": "standard"}, "K01", "group_value_invalid"),
        ({"name": "X", "country": "Togo"}, "K01", "group_value_invalid"),
        ({"name": "X", "country": "TG", "village": ["Bolou"]}, "K01", "group_value_invalid"),
        ({"name": "X", "country": "TG", "cooperative": "c" * 201}, "K01", "group_value_invalid"),
    ):
        body = {"value": value} | ({"kiosk_id": kiosk_id} if kiosk_id else {})
        refused = server.client.put("/v1/admin/reference/kiosk_group/g3", json=body, headers=auth)
        assert refused.status_code == 422 and refused.json()["detail"]["code"] == code, (value, refused.text)
    client.sync()
    assert state.reference(st.store, "rule_template")["standard"]["contribution_verte"] == 1000
    assert state.reference(st.store, "kiosk_group") == {"g1": {"name": "MUSO Bolou", "country": "TG"}}
    cursor = state.load(st.store).ref_cursor
    assert client.sync().requests == 1  # nothing changed: no pull
    assert server.client.delete("/v1/admin/reference/rule_template/standard", headers=auth).status_code == 204
    client.sync()
    assert state.reference(st.store, "rule_template") == {}
    assert state.load(st.store).ref_cursor > cursor
    # a cursor from the future (the server was restored from a backup): 410, and the kiosk starts over
    state.update(st.store, ref_cursor=10_000)
    gone = client.request("GET", "/v1/sync/pull", params={"since": 10_000})
    assert gone.status_code == 410
    with st.store.write() as w:
        w.execute("INSERT INTO sync_reference (entity, key, value, version) VALUES ('kiosk_group', 'lost', '{}', 9999)")
    client.sync()  # by itself: the server's version is below our cursor
    assert state.reference(st.store, "kiosk_group") == {"g1": {"name": "MUSO Bolou", "country": "TG"}}
    assert state.load(st.store).ref_cursor < 10_000


def test_groups_named_in_an_enrollment_are_offered_in_the_kiosk_s_country_on_its_template(
    server: Server, tmp_path: Path
) -> None:
    from kiosk.services import groups as G
    from kiosk.sync.enrollment import enroll
    from sync_server import enrollment, reference
    from sync_server.db import enrollment_codes, kiosks, write
    from sync_server.db import reference as reference_table

    with write(server.engine) as conn:
        reference.put(conn, "rule_template", "standard", {"contribution_verte": 1500})
    # Without a country the kiosk would file the group under Togo, out of a Benin coordinator's sight.
    with pytest.raises(SyncServerError, match="group_country_required"):
        enrollment.create_enrollment(server.engine, "K05", created_by="t", hours=1, groups=["MUSO Bohicon"])
    with server.engine.connect() as conn:  # refused: nothing made, not even the kiosk's row
        assert conn.scalar(select(func.count()).select_from(kiosks).where(kiosks.c.kiosk_id == "K05")) == 0
        assert conn.scalar(select(func.count()).select_from(enrollment_codes)) == 0
    for bad, code in (
        ({"country": "Bénin"}, "country_invalid"),
        ({"country": "BJ", "template": "standart"}, "template_unknown"),
    ):
        with pytest.raises(SyncServerError, match=code):
            enrollment.create_enrollment(server.engine, "K05", created_by="t", hours=1, groups=["G"], **bad)
    code, _ = enrollment.create_enrollment(
        server.engine, "K05", created_by="t", hours=1, groups=["MUSO Bohicon"],
        country="BJ", cooperative="Coop du Zou", template="standard",
    )  # fmt: skip
    k = Kiosk.open(tmp_path / "k.db", FixedClock())
    enroll(k.store, "http://testserver", code, http=server.client)
    SyncClient(k.store, server.client, keys.load(keys.key_path(k.store.path)), "K05").sync()
    (offered,) = G.assigned_groups(k)
    assert (offered["name"], offered["country"], offered["cooperative"]) == ("MUSO Bohicon", "BJ", "Coop du Zou")
    G.create_assigned_group(k, offered["group_id"])
    assert k.rules(offered["group_id"]).contribution_verte == 1500
    assert k.group(offered["group_id"])["country"] == "BJ"
    # A replacement code names more groups: they take the place the kiosk was enrolled for.
    enrollment.create_enrollment(server.engine, "K05", created_by="t", hours=1, replace=True, groups=["MUSO Abomey"])
    with server.engine.connect() as conn:
        values = list(conn.scalars(select(reference_table.c.value)))
    assert any('"MUSO Abomey"' in v and '"country": "BJ"' in v and "Coop du Zou" in v for v in values if v)
    # A kiosk made without its place takes the one its groups are given; a template needs groups to apply to.
    enrollment.create_enrollment(server.engine, "K06", created_by="t", hours=1)
    enrollment.create_enrollment(server.engine, "K06", created_by="t", hours=1, groups=["G"], country="TG")
    with server.engine.connect() as conn:
        assert conn.scalar(select(kiosks.c.country).where(kiosks.c.kiosk_id == "K06")) == "TG"
    with pytest.raises(SyncServerError, match="template_without_groups"):
        enrollment.create_enrollment(server.engine, "K07", created_by="t", hours=1, country="TG", template="standard")


def test_requests_beyond_the_rate_limit_get_429_and_the_client_backs_off(backend: ServerDb, tmp_path: Path) -> None:
    with running(backend, kiosk_rate_per_minute=1, kiosk_burst=3) as server:
        st = station(tmp_path / "k.db")
        client = enrolled(st, server, "K01")
        for _ in range(3):
            assert client.request("GET", "/v1/sync/status").status_code == 200
        resp = client.request("GET", "/v1/sync/status")
        assert resp.status_code == 429 and int(resp.headers["retry-after"]) >= 1
        with pytest.raises(SyncError) as err:
            client.sync()
        assert err.value.transient and err.value.code == "rate_limited" and err.value.retry_after >= 1
        assert state.load(st.store).failures == 1


def test_the_preset_dictionary_is_used_and_falls_back_to_gzip_when_the_server_lacks_it(
    server: Server, tmp_path: Path
) -> None:
    st = station(tmp_path / "k.db")
    st.meeting()
    client = enrolled(st, server, "K01")
    client.sync()
    st.meeting()
    events = list(st.store.events(after=state.load(st.store).acked_seq))
    header, zdict = preset_dictionary(st.store, events[0].seq)
    with_dict = batch_body(st.store, "K01", client.key, events, now=False, zdict=zdict)
    plain = batch_body(st.store, "K01", client.key, events, now=False)
    assert len(with_dict) < 0.9 * len(plain)
    # the server is asked for a dictionary made of events it does not hold
    bogus = f"{events[0].seq}-{events[1].seq}"
    resp = push_raw(client, with_dict, **{"Content-Encoding": "x-muso-dict", "Muso-Dict": bogus})
    assert resp.status_code == 409 and resp.json()["detail"]["code"] == "dictionary_unknown"
    for value in ("x", "5-1", "1-5000", "-"):
        resp = push_raw(client, with_dict, **{"Content-Encoding": "x-muso-dict", "Muso-Dict": value})
        assert resp.status_code == 400, value
    resp = push_raw(client, with_dict, **{"Content-Encoding": "x-muso-dict", "Muso-Dict": header})
    assert resp.status_code == 200 and resp.json()["acked_seq"] == events[-1].seq
    st.meeting()
    client.use_dictionary = True
    state.update(st.store, acked_seq=0)  # a stale cursor: the dictionary is refused, gzip then works
    report = client.sync()
    assert report.acked_seq == st.store.head()[0]
    assert server_journal_tuples(server, "K01") == kiosk_journal(st.k)


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        # a captive portal's login page, as mobile networks serve before the bundle is paid
        (lambda: httpx.Response(200, headers={"content-type": "text/html"}, text="<html>Wi-Fi</html>"), "bad_reply"),
        (lambda: httpx.Response(200, json={"ok": True}), "bad_reply"),  # JSON, but not the server's
        # Retry-After as an HTTP date (RFC 9110 allows it), read against the answer's own Date
        (
            lambda: httpx.Response(
                429, headers={"Retry-After": "Sun, 29 Nov 2026 07:00:01 GMT", "Date": "Sun, 29 Nov 2026 07:00:00 GMT"}
            ),
            "rate_limited",
        ),
    ],
    ids=["captive_portal", "foreign_json", "retry_after_date"],
)
def test_an_answer_that_is_not_the_server_s_is_a_failure_to_retry_not_a_crash(
    server: Server, tmp_path: Path, answer: Any, code: str
) -> None:
    import threading

    from kiosk.sync import daemon

    st = station(tmp_path / "k.db")
    client = enrolled(st, server, "K01")
    client.sync()
    st.meeting()
    client.http = httpx.Client(transport=httpx.MockTransport(lambda request: answer()), base_url="http://testserver")
    errors: list[SyncError] = []
    schedule = daemon.Schedule(min_backoff_s=0.01, max_backoff_s=0.02)
    assert daemon.run(client, schedule, threading.Event(), rounds=2, on_round=lambda r, e: errors.append(e)) == 0
    assert [(e.code, e.transient) for e in errors] == [(code, True)] * 2
    if code == "rate_limited":
        assert errors[0].retry_after == 1
    assert state.load(st.store).last_error.startswith(code) and state.load(st.store).failures == 2
    client.http = server.client  # the network is back: everything goes
    client.sync()
    assert state.load(st.store).acked_seq == st.store.head()[0]


def test_a_clock_anchor_beyond_any_clock_is_refused_with_nothing_stored(server: Server, tmp_path: Path) -> None:
    import gzip
    import json

    st = station(tmp_path / "k.db")
    client = enrolled(st, server, "K01")
    st.meeting()
    events = list(st.store.events(after=0, limit=50))
    doc = json.loads(gzip.decompress(batch_body(st.store, "K01", client.key, events, now=True)))
    doc["now"][1] = 2**63  # beyond a database's integers: it was a 500
    body = gzip.compress(json.dumps(doc).encode())
    resp = client.request(
        "POST", "/v1/sync/push", body=body, **{"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )
    assert resp.status_code == 422, resp.text
    assert server.journal("K01") == []
    client.sync()  # the kiosk's own batches still go
    assert len(server.journal("K01")) == st.store.head()[0]


@pytest.mark.parametrize("delta", [(2**62, 0, 2**62), (0, 2**62, 2**62), (-(2**62), 0, -(2**62))])
def test_event_times_beyond_any_clock_make_a_batch_unreadable(delta: tuple[int, int, int]) -> None:
    from kiosk.domain.errors import DomainError
    from kiosk.domain.wire import decode_events

    dt1, dmono, dt2 = delta
    rows = [["attendance_recorded", {}, dt1, 0, dmono], ["attendance_recorded", {}, dt2, 0, 0]]
    with pytest.raises(DomainError, match="batch_malformed"):
        decode_events(1, ["boot"], rows)
    assert len(decode_events(1, ["boot"], [["attendance_recorded", {}, 1_800_000_000_000, 0, 5]])) == 1


def test_a_server_with_smaller_batches_than_the_kiosk_assumed_still_gets_everything(
    backend: ServerDb, tmp_path: Path
) -> None:
    with running(backend, max_batch_events=50) as server:
        st = station(tmp_path / "k.db")
        client = enrolled(st, server, "K01")
        client.sync()
        for _ in range(2):
            st.meeting(extra_movements=60)
        # The next `muso-kiosk sync` is a new client that knows its cursor, so asks no status: it assumes 200.
        again = SyncClient(st.store, server.client, client.key, "K01")
        report = again.sync()
        assert report.acked_seq == st.store.head()[0] > 100
        assert server_journal_tuples(server, "K01") == kiosk_journal(st.k)
        assert again.batch_events == 50


def test_sync_status_tells_a_success_only_when_everything_went(server: Server, tmp_path: Path) -> None:
    st = station(tmp_path / "k.db")
    client = enrolled(st, server, "K01")
    st.meeting()

    def push_fails(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(503, json={"detail": {"code": "database_unavailable", "message": "retry"}})
        forwarded = server.client.request(request.method, str(request.url), headers=request.headers)
        return httpx.Response(forwarded.status_code, headers=forwarded.headers, content=forwarded.content)

    client.http = httpx.Client(transport=httpx.MockTransport(push_fails), base_url="http://testserver")
    with pytest.raises(SyncError):
        client.sync()  # the status answered, the push did not
    assert state.load(st.store).last_success_ms is None and state.load(st.store).failures == 1
    client.http = server.client
    client.sync()
    assert state.load(st.store).last_success_ms is not None and state.load(st.store).failures == 0


def test_a_meeting_whose_receipts_are_not_synced_is_counted_not_synced(tmp_path: Path) -> None:
    st = station(tmp_path / "k.db")
    st.meeting()
    closing = next(e for e in st.store.events() if e.type == "meeting_closed")
    assert st.store.head()[0] > closing.seq  # the receipts come after the closing
    state.acknowledge(st.store, closing.seq, closing.hash)
    pending = state.pending(st.store)
    assert pending["events"] > 0 and pending["meetings"] == 1


def test_the_daemon_outlives_a_kiosk_database_that_fails(server: Server, tmp_path: Path) -> None:
    import threading

    from kiosk.sync import daemon

    st = station(tmp_path / "k.db")
    client = enrolled(st, server, "K01")
    st.meeting()
    st.store.conn.execute("PRAGMA query_only = ON")  # every write fails, as on a card gone read-only
    errors: list[SyncError | None] = []
    schedule = daemon.Schedule(min_backoff_s=0.01, max_backoff_s=0.02)
    assert daemon.run(client, schedule, threading.Event(), rounds=2, on_round=lambda r, e: errors.append(e)) == 0
    assert [e.code for e in errors if e] == ["unexpected", "unexpected"]
    st.store.conn.execute("PRAGMA query_only = OFF")
    assert daemon.run(client, schedule, threading.Event(), rounds=1) == 1
    assert state.load(st.store).acked_seq == st.store.head()[0]
