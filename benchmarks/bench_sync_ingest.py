"""Server ingest throughput vs a raw bulk insert of the same rows into the same database.

* **ingest**: ``sync_server.ingest.push`` on batches of 200 events, as an HTTP
  push would run it minus HTTP: JSON parsing and validation, the hash chain
  recomputed, the Ed25519 signature checked, the kiosk's reducer run on every
  event, journal rows and projection rows written, one transaction a batch;
* **raw**: the rows that ingest wrote (journal rows and the final projection
  rows), read back and inserted into a fresh database of the same kind with the
  driver's ``executemany`` of plain INSERTs (no SQLAlchemy in the way: the
  cheapest way in, and the way ingest itself writes), one transaction per 200
  journal rows with their share of the projection rows: no parsing, no hashing,
  no reducer.

Two runs per database: one kiosk in one process, then one kiosk per core, each
in its own process, all at once (a server runs ``--workers`` = cores: ingest
checks and reduces outside the write lock, so workers overlap). The raw insert
of that run uses as many processes. Same engine settings for both (SQLite: WAL,
``synchronous=FULL``; PostgreSQL: defaults). PostgreSQL runs when ``--pg URL``
or ``MUSO_TEST_DATABASE_URL`` is given (a scratch schema is created and dropped).

Each pair (ingest, then raw, each on a fresh database) runs ``--repeat`` times:
on a shared machine one run can be 30 % off, and alternating the two sides
lets a slow spell hit both. Reported: the median time of each side, and the
range of the ratios of the pairs.

Goal: ingest ≥ 0.5 × raw.

    .venv/bin/python benchmarks/bench_sync_ingest.py [--meetings 40] [--workers N] [--repeat 3] [--pg URL]
"""

from __future__ import annotations

import argparse
import gzip
import multiprocessing as mp
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sync_common import postgres_schema, village
from sqlalchemy import select

from kiosk.domain.projections import TABLES
from kiosk.domain.wire import enrollment_message
from kiosk.sync import keys
from kiosk.sync.batches import batch_body
from sync_server import enrollment, ingest
from sync_server.db import journal, make_engine, projections, write
from sync_server.driver import param_mark
from sync_server.migrate import upgrade
from sync_server.schemas import PushBatch

BATCH = 200


def enroll_direct(engine: Any, kiosk_id: str, key: Any) -> None:
    code, _ = enrollment.create_enrollment(engine, kiosk_id, created_by="bench", hours=1)
    public = keys.public_text(key)
    enrollment.enroll(engine, code, public, keys.sign(key, enrollment_message(code, public)), None)


def _together(target: Any, jobs: list[tuple[Any, ...]]) -> float:
    """Run ``target(*job)`` in one process per job, started together; seconds from the first start to the last end."""
    if len(jobs) == 1:
        started = time.perf_counter()
        target(*jobs[0])
        return time.perf_counter() - started
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(len(jobs))
    spans = ctx.Queue()

    def run_one(job: tuple[Any, ...]) -> None:
        barrier.wait()
        started = time.perf_counter()  # CLOCK_MONOTONIC: comparable between processes
        target(*job)
        spans.put((started, time.perf_counter()))

    procs = [ctx.Process(target=run_one, args=(job,)) for job in jobs]
    for p in procs:
        p.start()
    got = [spans.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
        if p.exitcode:
            raise RuntimeError(f"a worker failed ({p.exitcode})")
    return max(end for _, end in got) - min(start for start, _ in got)


def _ingest(url: str, kiosk_id: str, bodies: list[bytes]) -> None:
    engine = make_engine(url)
    for body in bodies:
        batch = PushBatch.model_validate_json(gzip.decompress(body))
        ingest.push(engine, batch, kiosk_id=kiosk_id, max_events=BATCH)
    engine.dispose()


def _raw(url: str, chunks: list[tuple[list[tuple[Any, ...]], dict[str, list[tuple[Any, ...]]]]]) -> None:
    engine = make_engine(url)
    for jrows, prows in chunks:
        with write(engine) as conn:
            # The driver's executemany of plain INSERTs: the cheapest way in, and the way ingest writes.
            conn.exec_driver_sql(_insert_sql(conn, journal), jrows)
            for name, rows in prows.items():
                conn.exec_driver_sql(_insert_sql(conn, projections[name]), rows)
    engine.dispose()


def _insert_sql(conn: Any, table: Any) -> str:
    mark = param_mark(conn.dialect)
    names = [c.name for c in table.columns]
    return f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join([mark] * len(names))})"


def _raw_chunks(
    jrows: list[tuple[Any, ...]], prows: list[tuple[str, tuple[Any, ...]]]
) -> list[tuple[list[tuple[Any, ...]], dict[str, list[tuple[Any, ...]]]]]:
    """One kiosk's rows as transactions of BATCH journal rows, each with its share of the projection rows."""
    chunks = [jrows[i : i + BATCH] for i in range(0, len(jrows), BATCH)]
    shares: list[dict[str, list[tuple[Any, ...]]]] = [{} for _ in chunks]
    for i, (name, row) in enumerate(prows):
        shares[i * len(chunks) // max(1, len(prows))].setdefault(name, []).append(row)
    return list(zip(chunks, shares, strict=True))


def run(fresh: Any, bodies: dict[str, list[bytes]], kiosk_keys: dict[str, Any]) -> tuple[float, float, int, int]:
    """Ingest every kiosk's batches (one process per kiosk), then raw-insert the rows it wrote the same way."""
    url = fresh()
    engine = make_engine(url)
    for kiosk_id, key in kiosk_keys.items():
        enroll_direct(engine, kiosk_id, key)
    engine.dispose()
    ingest_s = _together(_ingest, [(url, kiosk_id, b) for kiosk_id, b in bodies.items()])
    engine = make_engine(url)
    jobs = []
    events = projected = 0
    with engine.connect() as conn:
        for kiosk_id in bodies:
            jrows = [
                tuple(r)
                for r in conn.execute(select(journal).where(journal.c.kiosk_id == kiosk_id).order_by(journal.c.seq))
            ]
            prows = [
                (name, tuple(r))
                for name in TABLES
                for r in conn.execute(select(projections[name]).where(projections[name].c.kiosk_id == kiosk_id))
            ]
            events, projected = events + len(jrows), projected + len(prows)
            jobs.append(_raw_chunks(jrows, prows))
    engine.dispose()
    raw_url = fresh()
    raw_s = _together(_raw, [(raw_url, chunks) for chunks in jobs])
    return ingest_s, raw_s, events, projected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=40)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="for the run with several kiosks")
    parser.add_argument("--repeat", type=int, default=3, help="pairs of runs (ingest, raw) per setting")
    parser.add_argument("--pg", default=os.environ.get("MUSO_TEST_DATABASE_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        v = village(root / "kiosk.db")
        rnd = random.Random(3)
        for _ in range(args.meetings):
            v.meeting(rnd)
        events = list(v.k.store.events())
        print(f"journal: {len(events)} events ({args.meetings} meetings, built in {time.perf_counter() - t0:.0f} s)")
        # The same journal pushed by several kiosks (each its own key, its own signatures).
        kiosk_keys = {f"K{n:02d}": keys.create(root / f"K{n:02d}.key") for n in range(max(1, args.workers))}
        bodies = {
            kiosk_id: [
                batch_body(v.k.store, kiosk_id, key, events[i : i + BATCH], now=True)
                for i in range(0, len(events), BATCH)
            ]
            for kiosk_id, key in kiosk_keys.items()
        }

        backends: list[tuple[str, Any]] = []
        counter = iter(range(100))

        def sqlite_db() -> str:
            url = f"sqlite:///{root / f'server-{next(counter)}.db'}"
            upgrade(url)
            return url

        backends.append(("SQLite", sqlite_db))
        drops = []
        if args.pg:

            def pg_db() -> str:
                url, drop = postgres_schema(args.pg)
                drops.append(drop)
                upgrade(url)
                return url

            backends.append(("PostgreSQL", pg_db))
        runs = sorted({1, max(1, args.workers)})
        for name, fresh in backends:
            for n in runs:
                some = dict(list(bodies.items())[:n])
                pairs = []
                for _ in range(max(1, args.repeat)):
                    ingest_s, raw_s, total, projected = run(fresh, some, {k: kiosk_keys[k] for k in some})
                    pairs.append((ingest_s, raw_s))
                ingest_s = statistics.median(i for i, _ in pairs)
                raw_s = statistics.median(r for _, r in pairs)
                ratios = sorted(r / i for i, r in pairs)
                who = "1 kiosk, 1 process" if n == 1 else f"{n} kiosks at once, {n} processes"
                print(
                    f"{name}, {who}: ingest {total / ingest_s:,.0f} events/s ({ingest_s:.2f} s); raw bulk insert "
                    f"of the same {total} journal + {projected} projection rows {total / raw_s:,.0f} events/s "
                    f"({raw_s:.2f} s); ratio {raw_s / ingest_s:.2f}, {ratios[0]:.2f}–{ratios[-1]:.2f} over "
                    f"{len(pairs)} pairs  (goal >= 0.5)"
                )
        for drop in drops:
            drop()
        if not args.pg:
            print("PostgreSQL: skipped (give --pg URL or set MUSO_TEST_DATABASE_URL)")


if __name__ == "__main__":
    main()
