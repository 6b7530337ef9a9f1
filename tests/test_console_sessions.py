"""Console sessions, CSRF on every form, and logins slowed down per account and per address."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select, update
from test_console_support import PASSWORD, all_routes, csrf_of, login
from test_console_support import token as api_token
from test_sync_support import Server, ServerDb, backend_fixture, running  # noqa: F401  (fixture)

from sync_server import accounts
from sync_server.db import login_throttle, users, web_sessions
from sync_server.web import sessions


@pytest.fixture
def srv(backend: ServerDb) -> Iterator[Server]:
    with running(backend) as s:
        accounts.create_user(s.engine, "awa", PASSWORD, "admin")
        accounts.create_user(s.engine, "kofi", PASSWORD, "coordinator", countries=["TG"])
        yield s


def client(s: Server, base_url: str = "http://testserver") -> TestClient:
    return TestClient(s.client.app, base_url=base_url)


def test_the_session_cookie_is_httponly_lax_and_secure_over_https(backend: ServerDb) -> None:
    with running(backend) as s:
        accounts.create_user(s.engine, "awa", PASSWORD, "admin")
        resp = login(client(s), "awa")
        assert resp.status_code == 303
        cookie = next(c for c in resp.headers.get_list("set-cookie") if c.startswith("muso_session="))
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
        resp = login(client(s, "https://testserver"), "awa")
        cookie = next(c for c in resp.headers.get_list("set-cookie") if c.startswith("muso_session="))
        assert "Secure" in cookie  # "auto": the request came over HTTPS (behind a proxy: --proxy-headers)
    with running(backend, cookie_secure="always") as s:
        c = client(s)
        page = c.get("/login")
        assert "Secure" in page.headers["set-cookie"]


def test_a_new_session_at_each_login_and_logout_ends_it_on_the_server(srv: Server) -> None:
    c = client(srv)
    login(c, "awa")
    first = c.cookies["muso_session"]
    login(c, "awa")
    second = c.cookies["muso_session"]
    assert first != second  # no session fixation: a fresh token at every login
    assert c.get("/", follow_redirects=False).status_code == 200
    c.post("/logout", data={"csrf": csrf_of(c.get("/").text)})
    stolen = client(srv)
    stolen.cookies.set("muso_session", second)
    assert stolen.get("/", follow_redirects=False).status_code == 303  # the copy is dead too
    with srv.engine.connect() as conn:  # only hashes are stored, never the token itself
        hashes = list(conn.execute(select(web_sessions.c.token_hash)).scalars())
    assert first.split(".")[0] not in hashes and all(len(h) == 64 for h in hashes)


def test_forged_expired_and_idle_sessions_are_refused(srv: Server) -> None:
    c = client(srv)
    login(c, "awa")
    good = c.cookies["muso_session"]
    token, _, mac = good.partition(".")
    for bad in (f"{token}.{'A' * len(mac)}", f"{'B' * len(token)}.{mac}", token, "", "x" * 500):
        forged = client(srv)
        forged.cookies.set("muso_session", bad)
        resp = forged.get("/groups", follow_redirects=False)
        assert resp.status_code == 303 and resp.headers["location"] == "/login?next=/groups", bad
        assert forged.get("/v1/console/overview").status_code == 401
    with srv.engine.begin() as conn:  # idle longer than session_idle_s
        conn.execute(
            update(web_sessions).values(seen_at=web_sessions.c.seen_at - srv.settings.session_idle_s * 1000 - 1)
        )
    assert c.get("/", follow_redirects=False).status_code == 303
    login(c, "awa")
    with srv.engine.begin() as conn:  # or past its absolute lifetime
        conn.execute(update(web_sessions).values(expires_at=1))
    assert c.get("/", follow_redirects=False).status_code == 303


def test_disabling_a_user_or_changing_the_role_ends_their_sessions(srv: Server) -> None:
    kofi = client(srv)
    login(kofi, "kofi")
    assert kofi.get("/", follow_redirects=False).status_code == 200
    kofi_id, awa_id = _ids(srv, "kofi", "awa")
    admin = client(srv)
    login(admin, "awa")
    csrf = csrf_of(admin.get("/users").text)
    assert admin.post(f"/users/{kofi_id}", data={"csrf": csrf, "action": "disable"}).status_code == 200
    assert kofi.get("/", follow_redirects=False).status_code == 303
    assert login(kofi, "kofi").status_code == 401  # disabled: cannot log in again
    admin.post(f"/users/{kofi_id}", data={"csrf": csrf, "action": "enable"})
    login(kofi, "kofi")
    admin.post(f"/users/{kofi_id}", data={"csrf": csrf, "action": "scope", "role": "viewer", "countries": "BJ"})
    assert kofi.get("/", follow_redirects=False).status_code == 303
    # the last administrator cannot be disabled
    assert admin.post(f"/users/{awa_id}", data={"csrf": csrf, "action": "disable"}).status_code == 409


def _ids(s: Server, *names: str) -> list[int]:
    with s.engine.connect() as conn:
        return [conn.execute(select(users.c.user_id).where(users.c.username == n)).scalar_one() for n in names]


FORMS = {
    "/logout": {},
    "/enrollments": {"kiosk_id": "K77", "country": "TG", "nonce": "n" * 24},
    "/users": {"username": "mallory", "password": "x" * 12, "role": "admin"},
    "/kiosks/K01/revoke": {},
    "/account/password": {"current": PASSWORD, "new": "y" * 12, "again": "y" * 12},
    "/account/sessions": {},
}


def test_every_form_needs_this_session_s_csrf_token(srv: Server) -> None:
    c = client(srv)
    login(c, "awa")
    other = client(srv)
    login(other, "kofi")
    others_token = csrf_of(other.get("/").text)
    mine = csrf_of(c.get("/").text)
    posts = {path for path, methods in all_routes(srv.client.app) if "POST" in methods and not path.startswith("/v1")}
    expected = {"/login", "/logout", "/enrollments", "/enrollments/{handle}/revoke", "/users", "/users/{user_id}"}
    expected |= {"/kiosks/{kiosk_id}/revoke", "/account/password", "/account/sessions"}
    assert posts == expected  # every form of the console is below
    targets = [*FORMS, "/enrollments/abc/revoke", "/users/1"]
    for path in targets:
        data = FORMS.get(path, {"action": "disable"})
        for token in (None, "", others_token, mine[:-1] + ("A" if mine[-1] != "A" else "B")):
            body = dict(data) if token is None else {**data, "csrf": token}
            resp = c.post(path, data=body, follow_redirects=False)
            assert resp.status_code == 403, f"{path} with {token!r}: {resp.status_code}"
            assert "Formulaire expiré" in resp.text
    # nothing changed: still logged in (the other session too), no user, no code, kiosk untouched, same password
    assert c.get("/", follow_redirects=False).status_code == 200
    assert other.get("/", follow_redirects=False).status_code == 200 and login(client(srv), "awa").status_code == 303
    assert "mallory" not in c.get("/users").text and "K77" not in c.get("/enrollments").text
    # and with the right token the same forms work
    assert c.post("/enrollments", data={**FORMS["/enrollments"], "csrf": mine}).status_code == 200


def test_the_login_form_has_its_own_csrf_token(srv: Server) -> None:
    c = client(srv)
    page = c.get("/login")
    good = {"username": "awa", "password": PASSWORD, "csrf": csrf_of(page.text)}
    fresh = client(srv)  # no anonymous cookie: a login posted from another site
    assert fresh.post("/login", data=good, follow_redirects=False).status_code == 403
    assert c.post("/login", data={**good, "csrf": "nope"}, follow_redirects=False).status_code == 403
    assert c.post("/login", data=good, follow_redirects=False).status_code == 303


def test_logins_are_locked_per_account_after_repeated_failures(srv: Server) -> None:
    c = client(srv)
    for _ in range(srv.settings.login_max_failures):
        assert login(c, "awa", "wrong password!").status_code == 401
    locked = login(c, "awa")  # even the right password waits now
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
    assert "Trop d&#39;essais" in locked.text
    api = c.post("/v1/admin/token", json={"username": "awa", "password": PASSWORD})
    assert api.status_code == 429  # the API's login shares the lock
    assert login(c, "kofi").status_code == 303  # other accounts are not affected
    with srv.engine.begin() as conn:  # time passes: the lock expires
        conn.execute(update(login_throttle).values(locked_until=1))
    assert login(c, "awa").status_code == 303
    with srv.engine.connect() as conn:  # a success clears the account's count
        keys = set(conn.execute(select(login_throttle.c.key)).scalars())
    assert "user:awa" not in keys


def test_unknown_names_are_locked_the_same_way_and_addresses_are_locked_too(backend: ServerDb) -> None:
    with running(backend, login_addr_max_failures=7) as s:
        accounts.create_user(s.engine, "awa", PASSWORD, "admin")
        c = client(s)
        answers = [login(c, "ghost", "guess number one").status_code for _ in range(6)]
        assert answers == [401] * 5 + [429]  # same as a real account: existence does not leak
        assert login(c, "someone", "guess again!").status_code == 401
        assert login(c, "else", "guess again!").status_code == 401
        # 7 failures from this address (a refusal while locked is not a failure): locked for every name
        assert login(c, "awa").status_code == 429
        with s.engine.begin() as conn:
            lock = (
                conn.execute(select(login_throttle).where(login_throttle.c.key == "addr:testclient")).mappings().one()
            )
        assert lock["failures"] == 7 and lock["locked_until"] > 0


def test_security_headers_and_no_open_redirect(srv: Server) -> None:
    c = client(srv)
    page = c.get("/login")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff" and page.headers["cache-control"] == "no-store"
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        resp = login(c, "awa", next_=target)
        assert resp.headers["location"] == "/", target
    assert c.get("/lang/en?next=//evil.example", follow_redirects=False).headers["location"] == "/"


def test_sessions_live_in_the_database_so_any_worker_can_serve_them(backend: ServerDb, tmp_path: Path) -> None:
    with running(backend) as a:
        accounts.create_user(a.engine, "awa", PASSWORD, "admin")
        c = client(a)
        login(c, "awa")
        cookie = c.cookies["muso_session"]
    with running(backend) as b:  # another process (here: another app) with the same secret and database
        other = client(b)
        other.cookies.set("muso_session", cookie)
        assert other.get("/", follow_redirects=False).status_code == 200
    assert sessions.COOKIE == "muso_session"


def _sessions(s: Server, name: str) -> int:
    with s.engine.connect() as conn:
        return len(conn.execute(select(web_sessions).where(web_sessions.c.user_id == _ids(s, name)[0])).all())


def test_a_user_changes_their_password_and_their_other_sessions_end(srv: Server) -> None:
    phone, laptop = client(srv), client(srv)
    login(phone, "kofi")
    login(laptop, "kofi")
    script = api_token(client(srv), "kofi")
    page = laptop.get("/account")
    assert "Sessions ouvertes, celle-ci comprise : 2" in page.text
    csrf = csrf_of(page.text)

    def change(current: str, new: str, again: str | None = None) -> Response:
        data = {"csrf": csrf, "current": current, "new": new, "again": new if again is None else again}
        return laptop.post("/account/password", data=data, follow_redirects=False)

    for answer, text in (
        (change("not my password", "a brand new secret"), "Mot de passe actuel incorrect"),
        (change(PASSWORD, "a brand new secret", "a brand new secreT"), "Les deux nouveaux mots de passe"),
        (change(PASSWORD, "short"), "au moins 10 caractères"),
    ):
        assert answer.status_code == 400 and text in answer.text
    assert phone.get("/", follow_redirects=False).status_code == 200  # nothing changed
    assert login(client(srv), "kofi").status_code == 303
    done = change(PASSWORD, "a brand new secret")
    assert done.status_code == 303 and done.headers["location"] == "/account?saved=password"
    assert "Mot de passe changé" in laptop.get(done.headers["location"]).text  # who changed it stays in…
    assert phone.get("/", follow_redirects=False).status_code == 303  # …everyone else is out
    assert client(srv).get("/v1/console/kiosks", headers=script).status_code == 401  # the API's tokens too
    assert login(client(srv), "kofi").status_code == 401
    assert login(client(srv), "kofi", "a brand new secret").status_code == 303


def test_guessing_the_current_password_is_slowed_down_as_logins_are(srv: Server) -> None:
    c = client(srv)
    login(c, "kofi")
    csrf = csrf_of(c.get("/account").text)
    for _ in range(srv.settings.login_max_failures):
        wrong = {"csrf": csrf, "current": "a wrong guess", "new": "y" * 12, "again": "y" * 12}
        assert c.post("/account/password", data=wrong).status_code == 400
    right = {"csrf": csrf, "current": PASSWORD, "new": "y" * 12, "again": "y" * 12}
    locked = c.post("/account/password", data=right)
    assert locked.status_code == 429 and "Trop d&#39;essais" in locked.text
    assert login(client(srv), "kofi").status_code == 429  # the same lock as the login form's


def test_a_user_logs_out_their_other_devices(srv: Server) -> None:
    left_behind, here = client(srv), client(srv)
    login(left_behind, "kofi")
    login(here, "kofi")
    login(client(srv), "awa")
    csrf = csrf_of(here.get("/account").text)
    assert here.post("/account/sessions", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert left_behind.get("/", follow_redirects=False).status_code == 303
    page = here.get("/account?saved=sessions")
    assert "Vos autres sessions sont fermées" in page.text and "celle-ci comprise : 1" in page.text
    assert "Fermer mes autres sessions" not in page.text  # nothing left to close
    assert _sessions(srv, "awa") == 1  # another account's sessions are not touched


def test_logging_out_other_devices_ends_the_api_tokens_made_before(srv: Server) -> None:
    # A lost phone may hold an API token as well as a session: "log out my other devices" must end both.
    here = client(srv)
    login(here, "kofi")
    on_the_phone, awa_s = api_token(client(srv), "kofi"), api_token(client(srv), "awa")
    assert client(srv).get("/v1/console/kiosks", headers=on_the_phone).status_code == 200
    csrf = csrf_of(here.get("/account").text)
    assert here.post("/account/sessions", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    refused = client(srv).get("/v1/console/kiosks", headers=on_the_phone)
    assert refused.status_code == 401 and refused.json()["detail"]["code"] == "token_expired"
    assert here.get("/", follow_redirects=False).status_code == 200  # who logged the others out stays in
    assert "jetons d&#39;API obtenus avant ne servent plus" in here.get("/account?saved=sessions").text
    fresh = api_token(client(srv), "kofi")
    assert client(srv).get("/v1/console/kiosks", headers=fresh).status_code == 200
    assert client(srv).get("/v1/console/kiosks", headers=awa_s).status_code == 200  # another account's: untouched


def test_an_administrator_ending_someone_s_sessions_ends_their_api_tokens(srv: Server) -> None:
    kofi_id = _ids(srv, "kofi")[0]
    admin = client(srv)
    login(admin, "awa")
    csrf = csrf_of(admin.get("/users").text)
    before = api_token(client(srv), "kofi")
    admin.post(f"/users/{kofi_id}", data={"csrf": csrf, "action": "disable"})
    admin.post(f"/users/{kofi_id}", data={"csrf": csrf, "action": "enable"})
    # Re-enabled, the account must not find the tokens it held before working again.
    assert client(srv).get("/v1/console/kiosks", headers=before).status_code == 401
    before = api_token(client(srv), "kofi")
    admin.post(f"/users/{kofi_id}", data={"csrf": csrf, "action": "scope", "role": "viewer", "countries": "BJ"})
    assert client(srv).get("/v1/console/kiosks", headers=before).status_code == 401
    assert client(srv).get("/v1/console/kiosks", headers=api_token(client(srv), "kofi")).status_code == 200


def test_an_administrator_resets_a_forgotten_password(srv: Server) -> None:
    kofi = client(srv)
    login(kofi, "kofi")
    kofi_id, awa_id = _ids(srv, "kofi", "awa")
    admin = client(srv)
    login(admin, "awa")
    csrf = csrf_of(admin.get("/users").text)
    short = admin.post(f"/users/{kofi_id}", data={"csrf": csrf, "action": "password", "password": "short"})
    assert short.status_code == 400 and "au moins 10 caractères" in short.text
    assert kofi.get("/", follow_redirects=False).status_code == 200
    reset = {"csrf": csrf, "action": "password", "password": "given by hand"}
    assert admin.post(f"/users/{kofi_id}", data=reset, follow_redirects=False).status_code == 303
    assert kofi.get("/", follow_redirects=False).status_code == 303
    assert login(client(srv), "kofi").status_code == 401
    assert login(kofi, "kofi", "given by hand").status_code == 303
    # a coordinator resets nobody's password, not even an administrator's
    theirs = csrf_of(kofi.get("/").text)
    assert kofi.post(f"/users/{awa_id}", data={**reset, "csrf": theirs}).status_code == 403
    assert login(client(srv), "awa").status_code == 303
    # an administrator who resets their own stays in
    mine = admin.post(f"/users/{awa_id}", data={**reset, "password": "my own new one"}, follow_redirects=False)
    assert mine.status_code == 303 and admin.get("/users", follow_redirects=False).status_code == 200


def test_the_users_page_says_what_went_wrong_in_french(srv: Server) -> None:
    admin = client(srv)
    login(admin, "awa")
    csrf = csrf_of(admin.get("/users").text)
    taken = admin.post("/users", data={"csrf": csrf, "username": "kofi", "password": "y" * 12, "role": "viewer"})
    assert taken.status_code == 409 and "déjà pris" in taken.text
    awa_id = _ids(srv, "awa")[0]
    last = admin.post(f"/users/{awa_id}", data={"csrf": csrf, "action": "disable"})
    assert last.status_code == 409 and "dernier administrateur actif" in last.text
