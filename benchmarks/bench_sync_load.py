"""1,000 simulated kiosks pushing concurrently from loopback: events/s sustained and latency.

``muso-server serve --workers 2`` on SQLite (or PostgreSQL with ``--pg URL``).
Each simulated kiosk has its own Ed25519 key, enrolled through the real
enrollment code path, and its own journal (one recorded template journal,
re-chained per kiosk under its own boot id), and pushes it in meeting-sized
signed, gzip batches one after the other, all kiosks at once (asyncio + httpx
in one client process, on the same two cores as the server).

Baseline in the same run: one kiosk alone pushing the same batches.

    .venv/bin/python benchmarks/bench_sync_load.py [--kiosks 1000] [--meetings 2] [--pg URL]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import itertools

import httpx
from bench_sync_common import LiveServer, postgres_schema, village
from bench_sync_ingest import enroll_direct
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.domain.events import GENESIS, Event
from kiosk.domain.wire import batch_message, chain, dumps, encode_batch, request_message
from kiosk.sync import keys
from kiosk.sync.batches import compress
from sync_server.db import make_engine
from sync_server.migrate import upgrade


def kiosk_batches(template: list[list[Event]], kiosk_id: str, key: Ed25519PrivateKey) -> list[tuple[bytes, int]]:
    """This kiosk's journal, re-chained under its own boot id, as signed gzip push bodies."""
    out, prev = [], GENESIS
    boot = f"boot-{kiosk_id}"
    for part in template:
        events = chain([Event(e.seq, e.type, e.body_json, e.device_time, boot, e.mono_ms) for e in part], prev)
        message = batch_message(kiosk_id, events[0].seq, events[-1].seq, prev, events[-1].hash)
        out.append((compress(dumps(encode_batch(kiosk_id, events, keys.sign(key, message)))), len(events)))
        prev = events[-1].hash
    return out


async def push_all(
    base: str, kiosks: list[tuple[str, Any, list[tuple[bytes, int]]]], concurrency: int
) -> tuple[float, list[float], int, collections.Counter[str]]:
    latencies: list[float] = []
    errors: collections.Counter[str] = collections.Counter()  # retried or refused, by kind
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=300, limits=limits) as http:

        async def one(kiosk_id: str, key: Any, batches: list[tuple[bytes, int]]) -> int:
            nonlocal errors
            sent = 0
            for body, n in batches:
                t = time.time_ns() // 1_000_000
                sig = keys.sign(key, request_message("POST", "/v1/sync/push", kiosk_id, t, body))
                headers = {
                    "Authorization": f"Muso {kiosk_id} {t} {sig}",
                    "Content-Type": "application/json",
                    "Content-Encoding": "gzip",
                }
                started = time.perf_counter()
                for _attempt in range(5):  # a kiosk retries a dropped connection or a 503 (pushes are idempotent)
                    try:
                        resp = await http.post("/v1/sync/push", content=body, headers=headers)
                        if resp.status_code < 500:
                            break
                        errors[f"HTTP {resp.status_code}, retried"] += 1
                    except httpx.TransportError as exc:
                        errors[f"{type(exc).__name__}, retried"] += 1
                    await asyncio.sleep(random.uniform(0.5, 2))
                else:
                    return sent
                latencies.append(time.perf_counter() - started)
                if resp.status_code != 200:
                    errors[f"HTTP {resp.status_code}, refused"] += 1
                    return sent
                sent += n
            return sent

        started = time.perf_counter()
        done = await asyncio.gather(*(one(k, key, b) for k, key, b in kiosks))
        wall = time.perf_counter() - started
    return wall, latencies, sum(done), errors


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiosks", type=int, default=1000)
    parser.add_argument("--meetings", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pg", default=None, help="PostgreSQL URL (default: SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        v = village(root / "template.db")
        rnd = random.Random(9)
        cuts = [0]
        for _ in range(args.meetings):
            v.meeting(rnd)
            cuts.append(v.k.store.head()[0])
        events = list(v.k.store.events())
        template = [events[a:b] for a, b in itertools.pairwise(cuts)]
        template[0] = events[: cuts[1]]
        drop = None
        if args.pg:
            url, drop = postgres_schema(args.pg)
        else:
            url = f"sqlite:///{root / 'server.db'}"
        upgrade(url)
        engine = make_engine(url)
        t0 = time.perf_counter()
        kiosks = []
        for i in range(args.kiosks + 1):
            kiosk_id = f"K{i:05d}"
            key = Ed25519PrivateKey.generate()
            enroll_direct(engine, kiosk_id, key)
            kiosks.append((kiosk_id, key, kiosk_batches(template, kiosk_id, key)))
        engine.dispose()
        per_kiosk = sum(n for _, n in kiosks[0][2])
        print(
            f"{args.kiosks} kiosks enrolled and their journals signed in {time.perf_counter() - t0:.0f} s; "
            f"each pushes {per_kiosk} events in {len(template)} batches"
        )
        with LiveServer(url, {}, workers=args.workers) as server:
            wall1, lat1, n1, err1 = asyncio.run(push_all(server.base, kiosks[:1], 1))
            wall, lat, n, errors = asyncio.run(push_all(server.base, kiosks[1:], args.kiosks))
            errors += err1
            logged = [line for line in server.log_text().splitlines() if "WARNING" in line or "ERROR" in line]
        backend = "PostgreSQL" if args.pg else "SQLite"
        print(f"{backend}, {args.workers} workers, client and server on the same 2 cores:")
        print(f"  1 kiosk alone: {n1 / wall1:,.0f} events/s, latency median {statistics.median(lat1) * 1000:.0f} ms")
        print(
            f"  {args.kiosks} kiosks at once: {n:,} events in {wall:.1f} s = {n / wall:,.0f} events/s sustained "
            f"({len(lat) / wall:,.0f} pushes/s), ratio to one kiosk {n / wall / (n1 / wall1):.2f}"
        )
        print(
            f"  latency per push: median {statistics.median(lat) * 1000:.0f} ms, p95 {pct(lat, 95) * 1000:.0f} ms, "
            f"p99 {pct(lat, 99) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms; "
            f"retried or refused: {dict(errors) or 'none'}"
        )
        if errors and logged:
            print("  the server's last warnings:", *logged[-5:], sep="\n    ")
        if drop:
            drop()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
