"""Two processes pushing the same kiosk at once, through a real uvicorn with two workers: each event stored once."""

from __future__ import annotations

import gzip
import itertools
import multiprocessing as mp
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from test_sync_support import (  # noqa: F401  (backend_fixture, server_fixture: fixtures)
    LiveServer,
    Server,
    ServerDb,
    backend_fixture,
    enrolled,
    kiosk_journal,
    kiosk_projections,
    running,
    server_fixture,
    server_journal_tuples,
    station,
)

from kiosk.store import Store
from kiosk.sync import state
from kiosk.sync.client import SyncClient
from kiosk.sync.enrollment import enroll
from sync_server.db import batches


def _pusher(db: str, barrier: Any, rounds: int, results: Any) -> None:
    store = Store(db)
    client = SyncClient.open(store)
    client.batch_events = 25
    for _ in range(rounds):
        barrier.wait(30)
        state.update(store, acked_seq=0, last_success_ms=0)  # forget the cursor: both resend everything
        try:
            results.put(client.sync().acked_seq)
        except Exception as exc:  # reported to the parent, which fails the test
            results.put(f"{type(exc).__name__}: {exc}")
        barrier.wait(30)
    client.close()
    store.close()


def test_two_processes_pushing_the_same_kiosk_store_each_event_once(backend: ServerDb, tmp_path: Path) -> None:
    live = LiveServer(backend.url, {}, workers=2)
    live.start()
    try:
        with running(backend) as server:
            st = station(tmp_path / "k.db")
            enroll(st.store, live.base, server.code("K01"))
            ctx = mp.get_context("spawn")
            rounds = 4
            barrier, results = ctx.Barrier(3), ctx.Queue()
            procs = [ctx.Process(target=_pusher, args=(str(st.store.path), barrier, rounds, results)) for _ in range(2)]
            for p in procs:
                p.start()
            for _ in range(rounds):
                st.meeting()
                barrier.wait(60)  # both push now
                barrier.wait(60)  # both done
            for p in procs:
                p.join(30)
            outcomes = [results.get(timeout=5) for _ in range(2 * rounds)]
            assert all(isinstance(o, int) for o in outcomes), outcomes
            head = st.store.head()[0]
            assert max(outcomes) == head
            rows = server.journal("K01")
            assert [r["seq"] for r in rows] == list(range(1, head + 1))
            assert server_journal_tuples(server, "K01") == kiosk_journal(st.k)
            assert server.projections("K01") == kiosk_projections(st.k)
            with server.engine.connect() as conn:
                stored = conn.scalar(select(func.sum(batches.c.new_events)))
            assert stored == head  # no event was ever counted (or applied) twice
    finally:
        live.stop()


@pytest.mark.parametrize("n", [8])
def test_concurrent_enrollments_with_one_code_let_exactly_one_win(server: Server, tmp_path: Path, n: int) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from kiosk.sync.errors import SyncError

    code = server.code("K01")
    stations = [station(tmp_path / f"k{i}.db") for i in range(n)]

    def attempt(st: Any) -> str:
        try:
            enroll(st.store, "http://testserver", code, http=server.client)
            return "ok"
        except SyncError as exc:
            return exc.message

    with ThreadPoolExecutor(n) as pool:
        outcomes = list(pool.map(attempt, stations))
    assert outcomes.count("ok") == 1, outcomes


def test_a_push_reduced_on_a_snapshot_that_another_push_overtook_is_reduced_again_under_the_lock(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ingest reduces a batch before taking the kiosk's lock; a push of the same kiosk landing in between

    makes that work stale. Here the other push lands exactly there, every time: the result must be the
    same as pushes one after the other.
    """
    import contextlib

    from kiosk.sync.batches import batch_body
    from sync_server import ingest
    from sync_server.schemas import PushBatch

    st = station(tmp_path / "k.db")
    st.meeting(extra_movements=4)
    client = enrolled(st, server, "K01")
    events = list(st.store.events())
    n = len(events)
    whole = PushBatch.model_validate_json(gzip.decompress(batch_body(st.store, "K01", client.key, events, now=False)))
    part = PushBatch.model_validate_json(
        gzip.decompress(batch_body(st.store, "K01", client.key, events[: n // 2], now=False))
    )

    reductions: list[int] = []
    real_reduce, real_write = ingest._reduce, ingest.write

    def counting_reduce(conn: Any, kiosk_id: str, chained: list[Any], acked: int, *rest: Any) -> Any:
        reductions.append(acked)
        return real_reduce(conn, kiosk_id, chained, acked, *rest)

    @contextlib.contextmanager
    def overtaken(engine: Any) -> Any:
        if not overtaken.done:  # type: ignore[attr-defined]
            overtaken.done = True  # type: ignore[attr-defined]
            assert ingest.push(engine, part, kiosk_id="K01", max_events=1000).acked_seq == n // 2
        with real_write(engine) as conn:
            yield conn

    overtaken.done = False  # type: ignore[attr-defined]
    monkeypatch.setattr(ingest, "_reduce", counting_reduce)
    monkeypatch.setattr(ingest, "write", overtaken)
    outcome = ingest.push(server.engine, whole, kiosk_id="K01", max_events=1000)
    client.close()

    assert outcome.acked_seq == n and outcome.new == n - n // 2
    # the whole batch from 0 (stale), the half batch from 0, then the whole batch again from n // 2
    assert reductions == [0, 0, n // 2]
    assert server_journal_tuples(server, "K01") == kiosk_journal(st.k)
    assert server.projections("K01") == kiosk_projections(st.k)
    with server.engine.connect() as conn:
        assert conn.scalar(select(func.sum(batches.c.new_events))) == n


def test_sqlite_writers_take_turns_on_a_lock_file_beside_the_database(tmp_path: Path) -> None:
    """Worker processes queue for SQLite's one writer on an flock, not by polling SQLite's lock."""
    import fcntl
    import os

    from sync_server.db import make_engine, write
    from sync_server.migrate import upgrade

    path = tmp_path / "server.db"
    upgrade(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    with write(engine):
        other = os.open(f"{path}-writer.lock", os.O_RDWR)  # another open file: as another process would hold it
        with pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free once the transaction is over
    fcntl.flock(other, fcntl.LOCK_UN)
    with pytest.raises(RuntimeError), write(engine):
        raise RuntimeError("a failed write")
    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a failed one frees it too
    os.close(other)
    engine.dispose()


def test_rollups_rebuilt_while_the_kiosk_keeps_pushing_miss_none_of_its_events(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``rebuild-rollups`` replays a journal without a lock: a push landing meanwhile makes it replay again,

    and a kiosk that keeps pushing is replayed under its lock the third time.
    """
    from kiosk.sync.batches import batch_body
    from sync_server import ingest, rollup
    from sync_server.db import console_months, console_totals
    from sync_server.schemas import PushBatch

    st = station(tmp_path / "k.db")
    for _ in range(3):
        st.meeting(extra_movements=2)
    client = enrolled(st, server, "K01")
    events = list(st.store.events())
    cut = [0, len(events) // 3, 2 * len(events) // 3, len(events)]
    parts = [
        PushBatch.model_validate_json(gzip.decompress(batch_body(st.store, "K01", client.key, events[a:b], now=False)))
        for a, b in itertools.pairwise(cut)
    ]
    client.close()
    ingest.push(server.engine, parts[0], kiosk_id="K01", max_events=1000)

    def rollups() -> tuple[list[Any], list[Any]]:
        with server.engine.connect() as conn:
            return (
                sorted(tuple(r) for r in conn.execute(select(console_totals))),
                sorted(tuple(r) for r in conn.execute(select(console_months))),
            )

    replays: list[int] = []
    real_replay = rollup.replay

    def replay_while_pushing(applied: Any) -> Any:
        replays.append(1)
        if len(replays) <= 2:  # the next part lands while this replay runs
            ingest.push(server.engine, parts[len(replays)], kiosk_id="K01", max_events=1000)
        return real_replay(applied)

    monkeypatch.setattr(rollup, "replay", replay_while_pushing)
    assert rollup.rebuild(server.engine, ["K01"]) == 1
    assert len(replays) == 3  # two replays overtaken by a push, the third under the lock
    assert server.kiosk("K01")["acked_seq"] == len(events)
    during = rollups()
    monkeypatch.setattr(rollup, "replay", real_replay)
    rollup.rebuild(server.engine, ["K01"])  # nothing pushing now: the journal's own rollups
    assert rollups() == during and len(during[1]) > 1
