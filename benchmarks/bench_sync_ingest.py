"""Server ingest throughput vs a raw bulk insert of the same rows into the same database.

* **ingest**: ``sync_server.ingest.push`` on batches of 200 events, as an HTTP
  push would run it minus HTTP: JSON parsing and validation, the hash chain
  recomputed, the Ed25519 signature checked, the kiosk's reducer run on every
  event, journal rows and projection rows written, one transaction a batch;
* **raw**: the rows that ingest wrote (journal rows and the final projection
  rows), read back and inserted with ``executemany`` into a fresh database of the
  same kind, one transaction per 200 journal rows (with their share of the
  projection rows): no parsing, no hashing, no reducer.

Same engine settings for both (SQLite: WAL, ``synchronous=FULL``; PostgreSQL:
defaults). PostgreSQL runs when ``--pg URL`` or ``MUSO_TEST_DATABASE_URL`` is
given (a scratch schema is created and dropped).

Goal: ingest ≥ 0.5 × raw.

    .venv/bin/python benchmarks/bench_sync_ingest.py [--meetings 40] [--pg URL]
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
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
from kiosk.sync.client import batch_body
from sync_server import accounts, ingest
from sync_server.db import journal, make_engine, projections, write
from sync_server.migrate import upgrade
from sync_server.schemas import PushBatch

BATCH = 200


def enroll_direct(engine: Any, kiosk_id: str, key: Any) -> None:
    code, _ = accounts.create_enrollment(engine, kiosk_id, created_by="bench", hours=1)
    public = keys.public_text(key)
    accounts.enroll(engine, code, public, keys.sign(key, enrollment_message(code, public)), None)


def run(url: str, bodies: list[bytes], key: Any, fresh: Any) -> tuple[float, float, int, int]:
    engine = make_engine(url)
    enroll_direct(engine, "K07", key)
    started = time.perf_counter()
    for body in bodies:
        batch = PushBatch.model_validate_json(gzip.decompress(body))
        ingest.push(engine, batch, kiosk_id="K07", max_events=BATCH)
    ingest_s = time.perf_counter() - started
    with engine.connect() as conn:
        jrows = [dict(r) for r in conn.execute(select(journal).order_by(journal.c.seq)).mappings()]
        prows = {name: [dict(r) for r in conn.execute(select(projections[name])).mappings()] for name in TABLES}
    engine.dispose()

    raw_url = fresh()
    raw = make_engine(raw_url)
    chunks = [jrows[i : i + BATCH] for i in range(0, len(jrows), BATCH)]
    shares: list[list[tuple[str, dict[str, Any]]]] = [[] for _ in chunks]
    flat = [(name, row) for name, rows in prows.items() for row in rows]
    for i, item in enumerate(flat):
        shares[i * len(chunks) // max(1, len(flat))].append(item)
    started = time.perf_counter()
    for chunk, share in zip(chunks, shares, strict=True):
        with write(raw) as conn:
            conn.execute(journal.insert(), chunk)
            by_table: dict[str, list[dict[str, Any]]] = {}
            for name, row in share:
                by_table.setdefault(name, []).append(row)
            for name, rows in by_table.items():
                conn.execute(projections[name].insert(), rows)
    raw_s = time.perf_counter() - started
    raw.dispose()
    return ingest_s, raw_s, len(jrows), len(flat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=40)
    parser.add_argument("--pg", default=os.environ.get("MUSO_TEST_DATABASE_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        v = village(root / "kiosk.db")
        rnd = random.Random(3)
        for _ in range(args.meetings):
            v.meeting(rnd)
        key = keys.create(root / "kiosk.key")
        events = list(v.k.store.events())
        bodies = [
            batch_body(v.k.store, "K07", key, events[i : i + BATCH], now=True) for i in range(0, len(events), BATCH)
        ]
        print(f"journal: {len(events)} events ({args.meetings} meetings, built in {time.perf_counter() - t0:.0f} s)")

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
        for name, fresh in backends:
            ingest_s, raw_s, n, projected = run(fresh(), bodies, key, fresh)
            print(
                f"{name}: ingest {n / ingest_s:,.0f} events/s ({ingest_s:.2f} s); raw bulk insert of the same "
                f"{n} journal + {projected} projection rows {n / raw_s:,.0f} events/s ({raw_s:.2f} s); "
                f"ratio {raw_s / ingest_s:.2f}  (goal >= 0.5)"
            )
        for drop in drops:
            drop()
        if not args.pg:
            print("PostgreSQL: skipped (give --pg URL or set MUSO_TEST_DATABASE_URL)")


if __name__ == "__main__":
    main()
