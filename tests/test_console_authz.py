"""The authorization matrix: every role and scope × every page, export and API route of the console.

A new route that is not in the matrix fails ``test_every_route_is_in_the_matrix``. Out-of-scope groups
answer exactly like unknown ones (404, same body), so a coordinator of Togo cannot even learn that a
group exists in Benin.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_console_support import PASSWORD, PEOPLE, World, all_routes, csrf_of, login, served_world, signed_in, token
from test_sync_support import BACKENDS

ANON = "anonymous"
WHO = [ANON, *PEOPLE]
TG = {"admin", "coord_tg", "coord_coop", "viewer_all"}  # who may see the Togo group (K01)
BJ = {"admin", "coord_bj", "viewer_all", "viewer_bj"}  # ... and the Benin one (K02)
EVERYONE = set(PEOPLE)
MANAGERS = {"admin", "coord_tg", "coord_bj", "coord_coop", "nobody"}


@pytest.fixture(scope="module", params=BACKENDS)
def w(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from served_world(request.param, tmp_path_factory.mktemp("authz"))


@pytest.fixture(scope="module")
def clients(w: World) -> dict[str, TestClient]:
    out = {}
    for who in WHO:
        client = TestClient(w.client.app, base_url="http://testserver")
        if who != ANON:
            assert login(client, who).status_code == 303
        out[who] = client
    return out


def routes(w: World) -> list[tuple[str, str, set[str], str]]:
    """(route template, concrete URL, who may, kind) for every GET of the console."""
    g1, g2 = w.group_url("K01"), w.group_url("K02")
    m1 = w.kiosks["K01"].store.conn.execute("SELECT member_id FROM p_members ORDER BY number LIMIT 1").fetchone()[0]
    m2 = w.kiosks["K02"].store.conn.execute("SELECT member_id FROM p_members ORDER BY number LIMIT 1").fetchone()[0]
    receipt = w.receipts("K01")[-1]
    rnum, rcode = receipt["number"], receipt["code"].replace("-", "")
    api1, api2 = "/v1/console" + g1, "/v1/console" + g2
    out = [
        ("/", "/", EVERYONE, "page"),
        ("/groups", "/groups", EVERYONE, "page"),
        ("/groups/{kiosk_id}/{group_id}", g1, TG, "page"),
        ("/groups/{kiosk_id}/{group_id}", g2, BJ, "page"),
        ("/groups/{kiosk_id}/{group_id}/members/{member_id}", f"{g1}/members/{m1}", TG, "page"),
        ("/groups/{kiosk_id}/{group_id}/members/{member_id}", f"{g2}/members/{m2}", BJ, "page"),
        ("/kiosks", "/kiosks", EVERYONE, "page"),
        ("/enrollments", "/enrollments", MANAGERS, "page"),
        ("/users", "/users", {"admin"}, "page"),
        ("/account", "/account", EVERYONE, "page"),
        ("/exports", "/exports", EVERYONE, "page"),
        ("/verify", "/verify", EVERYONE | {ANON}, "page"),
        ("/v/{number}/{code}", f"/v/{rnum}/{rcode}", EVERYONE | {ANON}, "page"),
        ("/login", "/login", EVERYONE | {ANON}, "page"),
        ("/lang/{lang}", "/lang/en?next=/", EVERYONE | {ANON}, "redirect"),
        ("/exports/{kind}.{fmt}", "/exports/members.csv", EVERYONE, "file"),
        ("/exports/{kind}.{fmt}", "/exports/indicators.xlsx?quarter=2026-Q3", EVERYONE, "file"),
        ("/exports/{kind}.{fmt}", f"/exports/movements.xlsx?group=K01/{w.groups['K01']}", TG, "file"),
        ("/exports/{kind}.{fmt}", f"/exports/loans.csv?group=K02/{w.groups['K02']}", BJ, "file"),
        ("/v1/console/overview", "/v1/console/overview", EVERYONE, "api"),
        ("/v1/console/groups", "/v1/console/groups", EVERYONE, "api"),
        ("/v1/console/groups/{kiosk_id}/{group_id}", api1, TG, "api"),
        ("/v1/console/groups/{kiosk_id}/{group_id}", api2, BJ, "api"),
        ("/v1/console/groups/{kiosk_id}/{group_id}/members/{member_id}", f"{api1}/members/{m1}", TG, "api"),
        ("/v1/console/groups/{kiosk_id}/{group_id}/members/{member_id}", f"{api2}/members/{m2}", BJ, "api"),
        ("/v1/console/kiosks", "/v1/console/kiosks", EVERYONE, "api"),
        ("/v1/console/verify/{number}/{code}", f"/v1/console/verify/{rnum}/{rcode}", EVERYONE, "api"),
        ("/v1/console/indicators", "/v1/console/indicators?quarter=2026-Q3", EVERYONE, "api"),
        ("/v1/console/exports/{kind}", "/v1/console/exports/meetings?format=xlsx", EVERYONE, "api"),
        ("/v1/console/exports/{kind}", f"/v1/console/exports/members?group=K01/{w.groups['K01']}", TG, "api"),
        ("/v1/admin/kiosks", "/v1/admin/kiosks", EVERYONE, "api"),
        ("/v1/admin/incidents", "/v1/admin/incidents", EVERYONE, "api"),
        ("/v1/admin/reference", "/v1/admin/reference", {"admin"}, "api"),
    ]
    return out


# POST routes and who may use them; checked with a valid CSRF token in test_post_routes_by_role.
POSTS = {
    "/login": EVERYONE | {ANON},
    "/logout": EVERYONE,
    "/enrollments": MANAGERS,
    "/enrollments/{handle}/revoke": MANAGERS,
    "/users": {"admin"},
    "/users/{user_id}": {"admin"},
    "/kiosks/{kiosk_id}/revoke": {"admin"},
    "/account/password": EVERYONE,  # one's own account (tests/test_console_sessions.py)
    "/account/sessions": EVERYONE,
}
# The operators' write API (bearer tokens): who may, checked in test_admin_api_writes_by_role.
ADMIN_WRITES = {
    "/v1/admin/enrollments": MANAGERS,
    "/v1/admin/kiosks/{kiosk_id}/revoke": {"admin"},
    "/v1/admin/reference/{entity}/{key}": {"admin"},
}
NOT_CONSOLE = {"/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/static"}


def test_every_route_is_in_the_matrix(w: World) -> None:
    covered = {r[0] for r in routes(w)} | set(POSTS)
    found = all_routes(w.client.app)
    assert len(found) > 40
    for path, methods in found:
        if path in NOT_CONSOLE or path.startswith(("/v1/sync", "/v1/enroll")):
            continue  # kiosks' own API: signed requests, tested in test_sync_*
        if path == "/v1/admin/token" or (path.startswith("/v1/admin/") and "GET" not in methods):
            assert path == "/v1/admin/token" or path in ADMIN_WRITES, f"{path} {methods} is not in ADMIN_WRITES"
            continue
        assert path in covered, f"{path} {methods} is not in the authorization matrix"


def _expect(who: str, allowed: set[str], kind: str, url: str, resp: Any) -> None:
    where = f"{who} GET {url}: {resp.status_code}"
    if who in allowed:
        assert resp.status_code in ((303,) if kind == "redirect" else (200,)), where
        return
    if who == ANON:
        if kind == "api":
            assert resp.status_code == 401, where
        else:
            assert resp.status_code == 303 and resp.headers["location"].startswith("/login?next="), where
        return
    # signed in but not allowed: a role refusal (403), or for a group outside the scope the very
    # answer an unknown group gets (404), so that its existence does not leak
    assert resp.status_code in (403, 404), where
    if "/groups/" in url or "group=" in url:
        assert resp.status_code == 404, where


@pytest.mark.parametrize("who", WHO)
def test_every_get_route_by_role(w: World, clients: dict[str, TestClient], who: str) -> None:
    client = clients[who]
    for _route, url, allowed, kind in routes(w):
        resp = client.get(url, follow_redirects=False)
        _expect(who, allowed, kind, url, resp)


@pytest.mark.parametrize("who", sorted(EVERYONE))
def test_bearer_tokens_get_the_same_answers_as_sessions(w: World, who: str) -> None:
    client = TestClient(w.client.app, base_url="http://testserver")
    headers = token(client, who)
    for _route, url, allowed, kind in routes(w):
        if kind != "api":
            continue
        resp = client.get(url, headers=headers)
        assert (resp.status_code == 200) == (who in allowed), f"{who} {url}: {resp.status_code}"


def test_a_togo_coordinator_asking_for_a_benin_group_learns_nothing(w: World, clients: dict[str, TestClient]) -> None:
    tg = clients["coord_tg"]
    tg.cookies.set("lang", "fr")  # the matrix visited /lang/en
    benin = tg.get(w.group_url("K02"))
    unknown = tg.get("/groups/K02/00000000-0000-0000-0000-000000000000")
    assert benin.status_code == unknown.status_code == 404
    # the same page but for the address itself (in the language switch's link back)
    assert benin.text.replace(w.groups["K02"], "ID") == unknown.text.replace(
        "00000000-0000-0000-0000-000000000000", "ID"
    )
    api = tg.get("/v1/console" + w.group_url("K02"))
    assert api.status_code == 404 and api.json() == tg.get("/v1/console/groups/K02/nope").json()
    # and the lists and exports of the whole scope hold nothing of Benin
    assert "Bohicon" not in tg.get("/groups").text
    assert all(g["country"] == "TG" for g in tg.get("/v1/console/groups").json()["groups"])
    assert "Bohicon" not in tg.get("/exports/members.csv").text
    assert "Sèmè" not in tg.get("/exports/indicators.csv?quarter=2026-Q3").text
    assert [k["kiosk_id"] for k in tg.get("/v1/console/kiosks").json()] == ["K01"]
    assert [k["kiosk_id"] for k in tg.get("/v1/admin/kiosks").json()] == ["K01"]
    # a Benin receipt verifies as genuine (the paper is real) but its content is not shown
    receipt = w.receipts("K02")[-1]
    page = tg.get(f"/v/{receipt['number']}/{receipt['code'].replace('-', '')}")
    assert "authentique" in page.text and "hors de votre périmètre" in page.text
    assert "Sèmè" not in page.text


def test_scopes_add_up(w: World, clients: dict[str, TestClient]) -> None:
    figures = {who: clients[who].get("/v1/console/overview").json()["figures"] for who in EVERYONE}
    assert figures["admin"]["groups"] == figures["viewer_all"]["groups"] == 2
    assert figures["coord_tg"]["groups"] == figures["coord_coop"]["groups"] == figures["coord_bj"]["groups"] == 1
    assert figures["nobody"]["groups"] == 0 and figures["nobody"]["kiosks"] == 0
    for key in ("members", "savings", "loans", "aid"):
        assert figures["admin"][key] == figures["coord_tg"][key] + figures["coord_bj"][key], key
    clients["nobody"].cookies.set("lang", "fr")
    assert "pas encore de périmètre" in clients["nobody"].get("/").text


def test_post_routes_by_role(w: World) -> None:
    """Each form with a valid CSRF token: allowed roles succeed, others get 403 and nothing changes."""
    for who in sorted(EVERYONE - {"admin"}):
        client = TestClient(w.client.app, base_url="http://testserver")
        login(client, who)
        csrf = csrf_of(client.get("/exports").text)
        resp = client.post("/users", data={"csrf": csrf, "username": f"x-{who}", "password": "x" * 12, "role": "admin"})
        assert resp.status_code == 403, who
        assert client.post("/kiosks/K01/revoke", data={"csrf": csrf}).status_code == 403, who
        form = {"csrf": csrf, "nonce": f"nonce-of-{who}-0123456789", "kiosk_id": f"N-{who}", "country": "TG"}
        resp = client.post("/enrollments", data=form)
        if who in MANAGERS and who in ("coord_tg",):
            assert resp.status_code == 200 and "Code pour" in resp.text, who
        elif who in MANAGERS:
            assert resp.status_code == 403, who  # TG is outside their scope
        else:
            assert resp.status_code == 403, who  # viewers enroll nothing
    admin = TestClient(w.client.app, base_url="http://testserver")
    login(admin, "admin")
    status = {k["kiosk_id"]: k["status"] for k in admin.get("/v1/admin/kiosks").json()}
    assert status["K01"] == "active"  # nobody but an admin could revoke it
    page = admin.get("/users")
    assert "x-coord_tg" not in page.text
    # a coordinator re-issuing a code for a kiosk outside their scope is refused without detail
    bj = TestClient(w.client.app, base_url="http://testserver")
    login(bj, "coord_bj")
    csrf = csrf_of(bj.get("/enrollments").text)
    form = {"csrf": csrf, "nonce": "n" * 24, "kiosk_id": "K01", "replace": "true"}
    assert bj.post("/enrollments", data=form).status_code == 403
    assert "K01" not in bj.get("/enrollments").text
    # Groups to set up need their country, or the kiosk would file them under Togo: said, nothing made.
    csrf = csrf_of(admin.get("/enrollments").text)
    form = {"csrf": csrf, "nonce": "g" * 24, "kiosk_id": "N-groups", "groups": "MUSO Bohicon\nMUSO Abomey"}
    refused = admin.post("/enrollments", data=form)
    assert refused.status_code == 400 and "indiquez le pays du kiosque" in refused.text
    assert "N-groups" not in admin.get("/enrollments").text
    made = admin.post("/enrollments", data=form | {"nonce": "h" * 24, "country": "BJ"})
    assert made.status_code == 200 and "Code pour" in made.text


def test_admin_api_writes_by_role(w: World) -> None:
    client = TestClient(w.client.app, base_url="http://testserver")
    for who in sorted(EVERYONE):
        auth = token(client, who)
        body = {"kiosk_id": f"API-{who}", "country": "TG"}
        resp = client.post("/v1/admin/enrollments", json=body, headers=auth)
        ok = who in MANAGERS and who in ("admin", "coord_tg")  # TG inside their scope
        assert resp.status_code == (201 if ok else 403), f"{who}: {resp.status_code} {resp.text}"
        resp = client.put("/v1/admin/reference/rule_template/t", json={"value": {}}, headers=auth)
        assert resp.status_code == (200 if who == "admin" else 403), who
        resp = client.delete("/v1/admin/reference/rule_template/nothing", headers=auth)
        assert resp.status_code == (404 if who == "admin" else 403), who
        if who != "admin":
            assert client.post("/v1/admin/kiosks/K01/revoke", headers=auth).status_code == 403, who
    assert client.post("/v1/admin/enrollments", json={"kiosk_id": "X"}).status_code == 401


def test_the_api_changes_nothing_on_a_session_cookie_alone(w: World, clients: dict[str, TestClient]) -> None:
    # A browser sends the cookie along with another site's request: only a bearer token may change things.
    admin = clients["admin"]
    before = admin.get("/v1/console/kiosks").json()
    refused = [
        admin.post("/v1/admin/kiosks/K02/revoke", headers={"Origin": "http://evil.example"}),
        admin.post("/v1/admin/enrollments", json={"kiosk_id": "EVIL", "country": "TG"}),
        admin.put("/v1/admin/reference/rule_template/evil", json={"value": {}}),
    ]
    assert [r.status_code for r in refused] == [403] * 3
    assert {r.json()["detail"]["code"] for r in refused} == {"bearer_required"}
    assert admin.get("/v1/console/kiosks").json() == before
    assert admin.get("/v1/console/kiosks").status_code == 200  # reading with the cookie is fine


def test_a_kiosk_whose_groups_are_all_elsewhere_is_out_of_a_coordinator_s_scope(tmp_path: Any) -> None:
    """Declared in Togo at enrollment, it keeps a Benin group: the Togo coordinator must not see it, nor
    be able to issue a replacement code (a new device would restore the Benin group's whole journal)."""
    from test_console_support import SERVER, benin_scenario, make_kiosk

    from kiosk.sync import keys
    from kiosk.sync.client import SyncClient
    from kiosk.sync.enrollment import enroll
    from sync_server.enrollment import create_enrollment

    for world in served_world("sqlite", tmp_path):
        k, _group = make_kiosk(tmp_path / "K03.db", "K03", benin_scenario(weeks=3))
        code, _ = create_enrollment(world.server.engine, "K03", created_by="admin", hours=1, country="TG")
        enroll(k.store, SERVER, code, http=world.server.client)
        SyncClient(k.store, world.server.client, keys.load(keys.key_path(k.store.path)), "K03").sync()
        tg = TestClient(world.client.app, base_url="http://testserver")
        auth = token(tg, "coord_tg")
        assert [x["kiosk_id"] for x in tg.get("/v1/console/kiosks", headers=auth).json()] == ["K01"]
        again = tg.post("/v1/admin/enrollments", json={"kiosk_id": "K03", "replace": True}, headers=auth)
        assert again.status_code == 403
        bj = TestClient(world.client.app, base_url="http://testserver")
        assert "K03" in [x["kiosk_id"] for x in bj.get("/v1/console/kiosks", headers=token(bj, "coord_bj")).json()]


@pytest.mark.parametrize("kind", BACKENDS)
def test_guesses_at_once_are_counted_before_any_is_checked(tmp_path: Any, kind: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from test_sync_support import running, server_db

    from sync_server import accounts

    db = server_db(kind, tmp_path)
    try:
        # Many addresses at once (per-address limits lifted): the account's limit still holds.
        with running(db, anonymous_burst=1000, login_addr_max_failures=1000) as s:
            accounts.create_user(s.engine, "awa", "correct horse battery", "admin")

            def guess(i: int) -> int:
                body = {"username": "awa", "password": f"guess number {i}"}
                return s.client.post("/v1/admin/token", json=body).status_code

            with ThreadPoolExecutor(20) as pool:
                answers = list(pool.map(guess, range(20)))
            assert answers.count(401) == s.settings.login_max_failures, answers
            assert answers.count(429) == 20 - s.settings.login_max_failures
    finally:
        if db.cleanup:
            db.cleanup()


def test_a_coordinator_assigns_no_group_to_a_place_outside_their_scope(w: World) -> None:
    """Groups given with a code for a kiosk already known are set up where the code's place says: a Togo
    coordinator must not file a group under Benin's coordinators (their kiosk would then create it there,
    seen by Benin, and out of the sight of the one who asked)."""
    from sqlalchemy import select

    from sync_server.db import read, reference

    def assigned() -> list[str]:
        with read(w.server.engine) as conn:
            query = select(reference.c.value).where(reference.c.entity == "kiosk_group", reference.c.scope == "K01")
            return [json.loads(v)["name"] for v in conn.scalars(query)]

    client = TestClient(w.client.app, base_url="http://testserver")
    auth = token(client, "coord_tg")
    elsewhere = {"kiosk_id": "K01", "replace": True, "country": "BJ", "cooperative": "Coopérative Zou"}
    resp = client.post("/v1/admin/enrollments", json=elsewhere | {"groups": ["MUSO Planted"]}, headers=auth)
    assert resp.status_code == 403 and resp.json()["detail"]["code"] == "place_outside_scope", resp.text
    # K01 was declared with no place: its groups would go nowhere in Togo's sight either.
    resp = client.post(
        "/v1/admin/enrollments", json={"kiosk_id": "K01", "replace": True, "groups": ["X"]}, headers=auth
    )
    assert resp.status_code == 403 and resp.json()["detail"]["code"] == "place_outside_scope", resp.text
    tg = TestClient(w.client.app, base_url="http://testserver")
    login(tg, "coord_tg")
    csrf = csrf_of(tg.get("/enrollments").text)
    form = {"csrf": csrf, "nonce": "p" * 24, "kiosk_id": "K01", "replace": "true", "groups": "MUSO Planted"}
    assert tg.post("/enrollments", data=form | {"country": "BJ", "cooperative": "Coopérative Zou"}).status_code == 403
    assert assigned() == []
    # Inside their scope it is what the form is for; a replacement code with no group needs no place.
    made = client.post(
        "/v1/admin/enrollments", json={**elsewhere, "country": "TG", "groups": ["MUSO Agou"]}, headers=auth
    )
    assert made.status_code == 201, made.text
    assert (
        client.post("/v1/admin/enrollments", json={"kiosk_id": "K01", "replace": True}, headers=auth).status_code == 201
    )
    assert assigned() == ["MUSO Agou"]


def test_a_group_id_a_kiosk_chose_does_not_shape_an_export_s_headers(w: World) -> None:
    """A group's id is whatever its kiosk's group_created said (the reducer stores any text): a part of it
    goes into the export's file name. Quotes there ended the name early ('x.html";' made the browser
    save a CSV of names as an HTML page) and a character beyond Latin-1 made the download fail."""
    from sqlalchemy import delete, insert, select

    from sync_server.db import projections, write

    groups = projections["groups"]
    with write(w.server.engine) as conn:
        row = dict(conn.execute(select(groups).where(groups.c.kiosk_id == "K01")).mappings().one())
    hostile = ['x.html";', "g\u20ac\u2028\u00e9-1", "a\r\nSet-Cookie: x=1"]
    try:
        with write(w.server.engine) as conn:
            for gid in hostile:
                conn.execute(insert(groups).values(row | {"group_id": gid}))
        client = signed_in(w, "admin")
        for gid in hostile:
            for fmt in ("csv", "xlsx"):
                resp = client.get(f"/exports/members.{fmt}", params={"group": f"K01/{gid}"})
                assert resp.status_code == 200, (gid, fmt, resp.status_code)
                disposition = resp.headers["content-disposition"]
                name = disposition.removeprefix('attachment; filename="').removesuffix(f'.{fmt}"')
                assert name.startswith("muso-members-K01-") and re.fullmatch(r"[A-Za-z0-9._-]+", name), disposition
                assert "set-cookie" not in resp.headers
    finally:
        with write(w.server.engine) as conn:
            conn.execute(delete(groups).where(groups.c.kiosk_id == "K01", groups.c.group_id.in_(hostile)))


def test_the_api_s_answers_are_kept_in_no_cache(w: World, clients: dict[str, TestClient]) -> None:
    """The JSON API answers a browser's session cookie too, with the pages' personal data (names, phones,
    balances): on a shared phone, the back button after logging out must not bring them back from the
    browser's cache, as it cannot for the pages. And a token is no more to be cached than a password."""
    admin = clients["admin"]
    urls = [url for _route, url, who, kind in routes(w) if kind == "api" and "admin" in who]
    assert len(urls) > 10
    for url in urls:
        resp = admin.get(url)
        assert resp.status_code == 200, url
        assert resp.headers.get("cache-control") == "no-store", url
    tokens = admin.post("/v1/admin/token", json={"username": "viewer_bj", "password": PASSWORD})
    assert tokens.status_code == 200 and tokens.headers.get("cache-control") == "no-store"
