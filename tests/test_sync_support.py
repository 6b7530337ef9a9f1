"""Shared pieces for the sync tests: a migrated server database per test (SQLite, and PostgreSQL when
``MUSO_TEST_DATABASE_URL`` is set), the real app behind a TestClient, a live uvicorn, kiosks that record.

No mocks: the kiosk's SyncClient talks to the real FastAPI app (in-process
through TestClient, or over loopback TCP to ``muso-server serve``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from conftest import Group, make_group
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, select, text

from kiosk.domain.projections import TABLES
from kiosk.services import Kiosk
from kiosk.services import meetings as M
from kiosk.services import movements as V
from kiosk.store.clock import FixedClock
from kiosk.store.database import SqliteView
from kiosk.sync import keys
from kiosk.sync.client import SyncClient
from kiosk.sync.enrollment import enroll
from sync_server import accounts, enrollment
from sync_server.app import create_app
from sync_server.db import incidents, journal, kiosks
from sync_server.migrate import upgrade
from sync_server.projections import rows as server_rows
from sync_server.settings import Settings

PG_URL = os.environ.get("MUSO_TEST_DATABASE_URL")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql", marks=pytest.mark.skipif(not PG_URL, reason="MUSO_TEST_DATABASE_URL is not set (no PostgreSQL)")
    ),
]
SECRET = "test-secret-not-for-production"
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class ServerDb:
    url: str
    cleanup: Any = None


def server_db(kind: str, tmp_path: Path) -> ServerDb:
    """A fresh, migrated database: a SQLite file, or a PostgreSQL schema of its own (dropped afterwards)."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'server.db'}"
        upgrade(url)
        return ServerDb(url)
    assert PG_URL
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    upgrade(url)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return ServerDb(url, drop)


def settings_for(url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": url,
        "secret_key": SECRET,
        "kiosk_rate_per_minute": 60_000,
        "kiosk_burst": 10_000,
        "anonymous_rate_per_minute": 60_000,
        "anonymous_burst": 10_000,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Server:
    settings: Settings
    client: TestClient
    engine: Engine

    def code(self, kiosk_id: str, *, replace: bool = False, hours: int = 1, groups: list[str] | None = None) -> str:
        code, _ = enrollment.create_enrollment(
            self.engine, kiosk_id, created_by="test", hours=hours, replace=replace, groups=groups
        )
        return code

    def admin_token(self, role: str = "admin") -> str:
        name = f"{role}-{uuid.uuid4().hex[:6]}"
        accounts.create_user(self.engine, name, "correct horse battery", role)
        resp = self.client.post("/v1/admin/token", json={"username": name, "password": "correct horse battery"})
        assert resp.status_code == 200, resp.text
        return resp.json()["access_token"]

    def journal(self, kiosk_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            q = select(journal).where(journal.c.kiosk_id == kiosk_id).order_by(journal.c.seq)
            return [dict(r) for r in conn.execute(q).mappings()]

    def projections(self, kiosk_id: str) -> dict[str, list[dict[str, Any]]]:
        with self.engine.connect() as conn:
            return {name: sort_rows(name, server_rows(conn, kiosk_id, name)) for name in TABLES}

    def kiosk(self, kiosk_id: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return dict(conn.execute(select(kiosks).where(kiosks.c.kiosk_id == kiosk_id)).mappings().one())

    def incidents(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(incidents).order_by(incidents.c.incident_id)).mappings()]

    def snapshot(self, kiosk_id: str) -> tuple[Any, ...]:
        """Everything a refused request must leave unchanged."""
        row = self.kiosk(kiosk_id)
        return (self.journal(kiosk_id), self.projections(kiosk_id), row["acked_seq"], row["head"], row["status"])


def sort_rows(table: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    key = TABLES[table].key
    return sorted(rows, key=lambda r: tuple(str(r[k]) for k in key))


def kiosk_projections(k: Kiosk) -> dict[str, list[dict[str, Any]]]:
    view = SqliteView(k.store.conn)
    return {name: sort_rows(name, view.rows(name)) for name in TABLES}


def kiosk_journal(k: Kiosk) -> list[tuple[Any, ...]]:
    return [(e.seq, e.type, e.body_json, e.device_time, e.boot_id, e.mono_ms, e.hash) for e in k.store.events()]


def server_journal_tuples(server: Server, kiosk_id: str) -> list[tuple[Any, ...]]:
    return [
        (r["seq"], r["type"], r["body"], r["device_time"], r["boot_id"], r["mono_ms"], r["hash"])
        for r in server.journal(kiosk_id)
    ]


@pytest.fixture(params=BACKENDS, name="backend")
def backend_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerDb]:
    db = server_db(request.param, tmp_path)
    yield db
    if db.cleanup:
        db.cleanup()


@contextmanager
def running(db: ServerDb, **overrides: Any) -> Iterator[Server]:
    settings = settings_for(db.url, **overrides)
    app = create_app(settings)
    with TestClient(app) as client:
        yield Server(settings, client, app.state.engine)


@pytest.fixture(name="server")
def server_fixture(backend: ServerDb) -> Iterator[Server]:
    with running(backend) as s:
        yield s


# -- kiosks ---------------------------------------------------------------------------------------


@dataclass
class Station:
    """A kiosk that records meetings and syncs them."""

    k: Kiosk
    group: Group
    meetings: int = 0
    day: date = field(default_factory=lambda: date(2026, 3, 2))

    @property
    def store(self) -> Any:
        return self.k.store

    def meeting(self, extra_movements: int = 0) -> None:
        g = self.group
        m = g.open(self.day)
        M.standard_contributions(self.k, m, g.treasurer)
        for i in range(extra_movements):
            V.fine(self.k, m, g.treasurer, g.member(i % len(g.members)), "retard")
        g.close(m)
        self.meetings += 1
        self.day += timedelta(days=7)


def station(path: Path, members: int = 6, clock: FixedClock | None = None) -> Station:
    k = Kiosk.open(path, clock or FixedClock())
    return Station(k, make_group(k, members))


def enrolled(st: Station, server: Server, kiosk_id: str, http: httpx.Client | None = None) -> SyncClient:
    enroll(st.store, "http://testserver", server.code(kiosk_id), http=http or server.client)
    return SyncClient(st.store, http or server.client, keys.load(keys.key_path(st.store.path)), kiosk_id)


def synced(server: Server, path: Path, kiosk_id: str = "K01") -> tuple[Station, SyncClient]:
    """A kiosk that has met once, enrolled as ``kiosk_id`` and synced."""
    st = station(path)
    st.meeting()
    client = enrolled(st, server, kiosk_id)
    client.sync()
    return st, client


def backup_of(st: Station, to: Path) -> Path:
    """A USB backup of the kiosk's database as it is now (`muso-kiosk backup` copies it), its key beside it
    as on the Pi."""
    to.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(to) as copy:
        st.store.conn.backup(copy)
    shutil.copy(keys.key_path(st.store.path), keys.key_path(to))
    return to


# -- a live server (uvicorn in a subprocess) -------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """``muso-server serve`` on loopback, which tests may kill and restart (and benchmarks run ``with``)."""

    def __init__(self, url: str, env: dict[str, str], workers: int = 1, args: tuple[str, ...] = ()) -> None:
        self.db_url = url
        self.port = free_port()
        self.workers = workers
        self.args = args  # more of ``serve``'s options (say, the systemd unit's)
        self.env = {**os.environ, **env, "DATABASE_URL": url, "MUSO_SERVER_SECRET_KEY": SECRET}
        self.env.setdefault("MUSO_SERVER_ENVIRONMENT", "test")
        self.env.setdefault("MUSO_SERVER_KIOSK_RATE_PER_MINUTE", "1000000")
        self.env.setdefault("MUSO_SERVER_KIOSK_BURST", "100000")
        self.proc: subprocess.Popen[bytes] | None = None
        self.log: IO[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        cmd = [sys.executable, "-m", "sync_server.cli", "serve", "--port", str(self.port)]
        cmd += ["--workers", str(self.workers), "--log-level", "warning", *self.args]
        # Its log in a file, not a pipe nobody reads while it runs (a full pipe would stall the server).
        self.log = tempfile.TemporaryFile()  # noqa: SIM115  (closed by stop(), which outlives this call)
        self.proc = subprocess.Popen(cmd, env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"server died: {self.log.read().decode(errors='replace')}")
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def log_text(self) -> str:
        """What the server has logged so far (warnings and errors: it runs with ``--log-level warning``)."""
        if self.log is None:
            return ""
        self.log.flush()
        self.log.seek(0)
        text = self.log.read().decode(errors="replace")
        self.log.seek(0, os.SEEK_END)
        return text

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            if kill:
                self.proc.kill()
            else:
                self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.log:
            self.log.close()
        self.proc = self.log = None


def dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


# -- hand-made batches (for tampering and abuse) ------------------------------------------------------


def raw_batch(
    key: Any,
    kiosk_id: str,
    events: list[Any],
    prev: str,
    *,
    head: str | None = None,
    batch_kiosk: str | None = None,
    now: tuple[str, int] | None = None,
) -> bytes:
    """A gzip push body for ``events`` (already chained), signed by ``key`` over ``head`` (default: the last hash)."""
    from kiosk.domain.wire import batch_message, dumps, encode_batch
    from kiosk.sync.batches import compress

    head = head or events[-1].hash
    who = batch_kiosk or kiosk_id
    message = batch_message(who, events[0].seq, events[0].seq + len(events) - 1, prev, head)
    doc = encode_batch(who, events, keys.sign(key, message), now)
    doc["head"] = head
    return compress(dumps(doc))


def push_raw(client: SyncClient, body: bytes, **headers: str) -> httpx.Response:
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip", **headers}
    return client.request("POST", "/v1/sync/push", body=body, **headers)
