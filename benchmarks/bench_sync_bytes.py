"""Bytes on the wire per synced event, and requests per sync, for a typical meeting.

A kiosk with 24 members and 4 officers, enrolled and synced once (so its
cursor is known and its clock anchored), holds one more typical meeting
(attendance, the standard contributions, a few fines, close with its
receipts: about 100 events). Its next ``sync`` goes through a loopback proxy
that counts every TCP byte each way, HTTP headers included (plain HTTP:
TLS adds its handshake per connection, see docs/sync.md).

Baseline in the same run: the same events as uncompressed JSON objects, each
with its own hash and previous hash (what a naive sync would send), plus the
same headers.

Goals: ≤ 40 B/event, 1 request per sync when the cursor is known.

    .venv/bin/python benchmarks/bench_sync_bytes.py [--members 24]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sync_common import CountingProxy, LiveServer, village

from kiosk.store import Store
from kiosk.sync.client import SyncClient, http_client
from kiosk.sync.enrollment import enroll
from sync_server import enrollment
from sync_server.db import make_engine
from sync_server.migrate import upgrade


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=24)
    args = parser.parse_args()
    rnd = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'server.db'}"
        upgrade(url)
        engine = make_engine(url)
        code, _ = enrollment.create_enrollment(engine, "K07", created_by="bench", hours=1)
        v = village(Path(tmp) / "kiosk.db", args.members)
        v.meeting(rnd)
        with LiveServer(url, {}) as server:
            proxy = CountingProxy(server.port)
            enroll(v.k.store, server.base, code)
            # The sync daemon's own connection and real clock, as on a kiosk (the meetings' clock is simulated).
            sync_store = Store(v.k.store.path)
            client = SyncClient.open(sync_store, http=http_client(f"http://127.0.0.1:{proxy.port}"))
            client.sync()  # the first meeting: cursor known and clock anchored afterwards
            before = v.k.store.head()[0]
            v.meeting(rnd)
            events = list(v.k.store.events(after=before))
            proxy.reset()
            report = client.sync()
            up, down, requests = proxy.up, proxy.down, report.requests
            client.close()
            sync_store.close()
            proxy.close()
        engine.dispose()
        n = len(events)
        assert report.acked_seq == v.k.store.head()[0]
        headers = up - report.bytes_sent  # request lines and headers
        naive_body = sum(
            len(
                json.dumps(
                    {
                        "seq": e.seq,
                        "type": e.type,
                        "body": json.loads(e.body_json),
                        "device_time": e.device_time,
                        "boot_id": e.boot_id,
                        "mono_ms": e.mono_ms,
                        "prev_hash": p.hash,
                        "hash": e.hash,
                    },
                    ensure_ascii=False,
                ).encode()
            )
            for p, e in zip([events[0], *events[:-1]], events, strict=True)
        )
        naive = naive_body + headers + down
        print(f"typical meeting: {n} events ({args.members} members + 4 officers)")
        print(f"  one sync, cursor known: {requests} request(s)  (goal 1)")
        print(f"  up {up} B (body {report.bytes_sent} B compressed, request line+headers {headers} B), down {down} B")
        print(f"  on the wire: {(up + down) / n:.1f} B/event  (goal <= 40)")
        print(f"  baseline, naive JSON with per-event hashes: {naive / n:.1f} B/event")
        print(f"  ratio ours / naive: {(up + down) / naive:.3f}")
        print("  (plain HTTP on loopback: TLS adds its handshake per connection, see docs/sync.md)")


if __name__ == "__main__":
    main()
