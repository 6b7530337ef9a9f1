"""Chaos: a fault-injecting proxy on loopback between a recording kiosk and a real uvicorn server.

The proxy drops connections mid-request and mid-response, delays, sends
requests twice, answers 5xx (before and after the server did the work), and
the server is killed and restarted, over hundreds of random sync rounds while
the kiosk keeps recording meetings in another thread (another connection).
At the end the server's journal and projections must equal the kiosk's,
with every event stored and applied exactly once.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import threading
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select
from test_sync_support import (  # noqa: F401  (backend_fixture, server_fixture: fixtures)
    LiveServer,
    ServerDb,
    backend_fixture,
    kiosk_journal,
    kiosk_projections,
    running,
    server_journal_tuples,
    station,
)

from kiosk.store import Store
from kiosk.sync.client import SyncClient, http_client
from kiosk.sync.enrollment import enroll
from kiosk.sync.errors import SyncError
from sync_server.db import batches

ROUNDS = int(os.environ.get("MUSO_CHAOS_ROUNDS", "500"))
FAULTS = {
    "pass": 60,
    "drop_mid_request": 6,
    "drop_mid_response": 7,
    "delay": 8,
    "duplicate": 7,
    "error_before": 6,
    "error_after": 6,
}


def _read_request(conn: socket.socket) -> tuple[bytes, bytes] | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head, body


def _close_upstream(head: bytes) -> bytes:
    lines = [ln for ln in head.split(b"\r\n") if not ln.lower().startswith(b"connection:")]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n"


class ChaosProxy:
    def __init__(self, upstream_port: int, seed: int) -> None:
        self.upstream_port = upstream_port
        self.rnd = random.Random(seed)
        self.lock = threading.Lock()
        self.calm = False
        self.seen: Counter[str] = Counter()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.stopped = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stopped = True
        self.sock.close()

    def _serve(self) -> None:
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _fault(self) -> str:
        with self.lock:
            if self.calm:
                return "pass"
            return self.rnd.choices(list(FAULTS), weights=list(FAULTS.values()))[0]

    def _upstream(self, request: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10) as up:
            up.sendall(request)
            chunks = []
            while chunk := up.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                got = _read_request(conn)
                if got is None:
                    return
                head, body = got
                request = _close_upstream(head) + body
                fault = self._fault()
                self.seen[fault] += 1
                if fault == "drop_mid_request":
                    return  # the server never sees it; the client loses the connection
                if fault == "error_before":
                    conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    return
                if fault == "delay":
                    time.sleep(self.rnd.uniform(0.02, 0.25))
                if fault == "duplicate":
                    twin = threading.Thread(target=self._twin, args=(request,), daemon=True)
                    twin.start()
                response = self._upstream(request)
                if fault == "drop_mid_response":
                    conn.sendall(response[: max(1, len(response) // 2)])
                    return  # the server did the work; the client never hears of it
                if fault == "error_after":
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    return
                conn.sendall(response)
            except OSError:
                with contextlib.suppress(OSError):
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    def _twin(self, request: bytes) -> None:
        with contextlib.suppress(OSError):
            self._upstream(request)


def test_chaos_between_a_recording_kiosk_and_a_restarting_server(backend: ServerDb, tmp_path: Path) -> None:
    live = LiveServer(backend.url, {})
    live.start()
    proxy = ChaosProxy(live.port, seed=20261129)
    stop = threading.Event()
    try:
        with running(backend) as server:
            st = station(tmp_path / "k.db")
            enroll(st.store, live.base, server.code("K01"))

            def record() -> None:
                while not stop.is_set():
                    st.meeting(extra_movements=random.randint(0, 3))
                    stop.wait(0.3)

            recorder = threading.Thread(target=record)
            recorder.start()
            # the sync side has its own connection, as the daemon process has in production
            sync_store = Store(st.store.path)
            client = SyncClient.open(sync_store, http=http_client(f"http://127.0.0.1:{proxy.port}", timeout=3))
            client.batch_events = 100
            outcomes: Counter[str] = Counter()
            refused = []
            rnd = random.Random(7)
            started = time.monotonic()
            for i in range(ROUNDS):
                if i and i % 120 == 0:
                    live.stop(kill=rnd.random() < 0.5)  # SIGKILL (mid-transaction, maybe) or SIGTERM
                    live.start()
                try:
                    client.sync()
                    outcomes["ok"] += 1
                except SyncError as exc:
                    outcomes[exc.code] += 1
                    if not exc.transient:
                        refused.append(f"{exc.code}: {exc.message}")
            stop.set()
            recorder.join()
            chaos_s = time.monotonic() - started

            with proxy.lock:
                proxy.calm = True
            for _ in range(20):
                try:
                    if client.sync().acked_seq == st.store.head()[0]:
                        break
                except SyncError:
                    time.sleep(0.2)
            client.close()
            sync_store.close()

            assert not refused, refused
            assert outcomes["ok"] > ROUNDS // 4, outcomes
            assert all(proxy.seen[f] for f in FAULTS), proxy.seen
            head = st.store.head()[0]
            assert head > 200, "the kiosk should have kept recording throughout"
            rows = server.journal("K01")
            assert [r["seq"] for r in rows] == list(range(1, head + 1)), "lost or duplicated events"
            assert server_journal_tuples(server, "K01") == kiosk_journal(st.k)
            assert all(r["status"] == "applied" for r in rows)
            assert server.projections("K01") == kiosk_projections(st.k)
            with server.engine.connect() as conn:
                assert conn.scalar(select(func.sum(batches.c.new_events))) == head  # each applied exactly once
            print(
                f"chaos: {ROUNDS} rounds in {chaos_s:.0f} s, {head} events, {dict(outcomes)}, faults {dict(proxy.seen)}"
            )
    finally:
        stop.set()
        proxy.close()
        live.stop()
