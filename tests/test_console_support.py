"""Shared pieces for the console tests: real kiosks, synced through the real client, and people of each role.

A "world" is two kiosks built with the real services and scenarios (kiosk.demo's six-month
group in Togo, a shorter group in Benin), pushed to the server by the kiosk's own SyncClient,
and one account per role and scope. No mocks: the console reads what ingest wrote.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from test_sync_support import Server, ServerDb, running, server_db

from kiosk.demo import demo_scenario
from kiosk.scenario import Runner
from kiosk.services import Kiosk
from kiosk.store.clock import FixedClock
from kiosk.sync import keys, state
from kiosk.sync.client import SyncClient
from kiosk.sync.enrollment import enroll
from sync_server import accounts

PASSWORD = "correct horse battery"
TODAY = date(2026, 11, 20)  # the console's "today" in these tests: after both groups' last meetings
SERVER = "http://testserver"

# name -> (role, countries, cooperatives)
PEOPLE: dict[str, tuple[str, list[str], list[str]]] = {
    "admin": ("admin", [], []),
    "coord_tg": ("coordinator", ["TG"], []),
    "coord_bj": ("coordinator", ["BJ"], []),
    "coord_coop": ("coordinator", [], ["Coopérative ELIKE"]),
    "viewer_all": ("viewer", ["*"], []),
    "viewer_bj": ("viewer", ["BJ"], []),
    "nobody": ("coordinator", [], []),  # no scope yet: sees nothing
}


def benin_scenario(weeks: int = 10) -> dict[str, Any]:
    data = copy.deepcopy(demo_scenario(seed=11))
    data["group"] = {
        "name": "MUSO Sèmè de Bohicon",
        "country": "BJ",
        "cooperative": "Coopérative Zou",
        "village": "Sèmè",
    }
    data["meetings"] = data["meetings"][:weeks]
    return data


@dataclass
class World:
    server: Server
    kiosks: dict[str, Kiosk] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)  # kiosk id -> group id

    @property
    def client(self) -> Any:
        return self.server.client

    def receipts(self, kiosk_id: str, kind: str = "member") -> list[dict[str, Any]]:
        """The documents the kiosk printed (number, code, verify URL), as the member holds them."""
        rows = (
            self.kiosks[kiosk_id]
            .store.conn.execute("SELECT doc FROM print_jobs WHERE kind = ? ORDER BY id", (kind,))
            .fetchall()
        )
        return [json.loads(r[0]) for r in rows]

    def group_url(self, kiosk_id: str) -> str:
        return f"/groups/{kiosk_id}/{self.groups[kiosk_id]}"


def make_kiosk(path: Path, kiosk_id: str, scenario: dict[str, Any], server_url: str = SERVER) -> tuple[Kiosk, str]:
    k = Kiosk.open(path, FixedClock())
    k.store.set_setting("kiosk_id", kiosk_id)
    state.update(k.store, server_url=server_url)
    group_id = Runner(k).run(scenario)
    return k, group_id


def sync(server: Server, k: Kiosk, kiosk_id: str, http: Any = None) -> None:
    http = http or server.client
    enroll(k.store, SERVER if http is server.client else str(http.base_url), server.code(kiosk_id), http=http)
    SyncClient(k.store, http, keys.load(keys.key_path(k.store.path)), kiosk_id).sync()


def add_people(server: Server) -> None:
    for name, (role, countries, coops) in PEOPLE.items():
        accounts.create_user(server.engine, name, PASSWORD, role, countries=countries, cooperatives=coops)


@contextmanager
def world(db: ServerDb, tmp_path: Path, **overrides: Any) -> Iterator[World]:
    with running(db, **overrides) as server:
        server.client.app.state.today = lambda: TODAY
        w = World(server)
        for kiosk_id, scenario in (("K01", demo_scenario()), ("K02", benin_scenario())):
            k, group_id = make_kiosk(tmp_path / f"{kiosk_id}.db", kiosk_id, scenario)
            sync(server, k, kiosk_id)
            w.kiosks[kiosk_id], w.groups[kiosk_id] = k, group_id
        add_people(server)
        try:
            yield w
        finally:
            for k in w.kiosks.values():
                k.close()


def served_world(backend: str, tmp_path: Path) -> Iterator[World]:
    """The two-kiosk world on a fresh server database of ``backend``, dropped afterwards (module fixtures)."""
    db = server_db(backend, tmp_path)
    try:
        with world(db, tmp_path) as found:
            yield found
    finally:
        if db.cleanup:
            db.cleanup()


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found[1]


def login(client: Any, username: str, password: str = PASSWORD, next_: str = "/") -> httpx.Response:
    """Log in through the form, as a browser does; the session cookie stays in the client."""
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf": csrf_of(page.text), "next": next_},
        follow_redirects=False,
    )


_SIGNED_IN: dict[tuple[int, str, str], Any] = {}  # logins are slow (argon2) and rate-limited: one per person


def signed_in(w: World, who: str = "admin", lang: str = "fr") -> Any:
    """A client of ``w``'s app logged in as ``who``, reading ``lang``: made once per world, kept."""
    from fastapi.testclient import TestClient

    key = (id(w), who, lang)
    if key not in _SIGNED_IN:
        client = TestClient(w.client.app, base_url="http://testserver")
        assert login(client, who).status_code == 303
        client.cookies.set("lang", lang)
        _SIGNED_IN[key] = client
    return _SIGNED_IN[key]


def token(client: Any, username: str) -> dict[str, str]:
    resp = client.post("/v1/admin/token", json={"username": username, "password": PASSWORD})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def all_routes(app: Any) -> list[tuple[str, set[str]]]:
    """(path, methods) of every route, through FastAPI's included-router wrappers."""

    def walk(routes: list[Any]) -> Iterator[tuple[str, set[str]]]:
        for r in routes:
            if hasattr(r, "original_router"):
                yield from walk(r.original_router.routes)
            elif getattr(r, "path", ""):
                yield r.path, set(getattr(r, "methods", None) or ())

    return list(walk(app.routes))
