"""Tampering and abuse: each is refused, flagged for the coordinators, and changes nothing."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from test_sync_support import (  # noqa: F401  (backend_fixture, server_fixture: fixtures)
    Server,
    ServerDb,
    backend_fixture,
    enrolled,
    push_raw,
    raw_batch,
    running,
    server_fixture,
    station,
)

from kiosk.domain.events import Event, make_event
from kiosk.domain.wire import chain, enrollment_message, request_message
from kiosk.sync import keys, state
from kiosk.sync.batches import compress
from kiosk.sync.client import SyncClient
from kiosk.sync.enrollment import enroll
from kiosk.sync.errors import SyncError


def _synced(server: Server, tmp_path: Path, kiosk_id: str = "K01", meetings: int = 1):  # type: ignore[no-untyped-def]
    st = station(tmp_path / f"{kiosk_id}.db")
    for _ in range(meetings):
        st.meeting()
    client = enrolled(st, server, kiosk_id)
    client.sync()
    return st, client


def _refused(server: Server, kiosk_id: str, code: str, before: tuple, resp) -> None:  # type: ignore[no-untyped-def, type-arg]
    assert resp.json()["detail"]["code"] == code, resp.text
    assert server.snapshot(kiosk_id) == before, "a refused request changed something"
    assert any(i["code"] == code for i in server.incidents()), f"{code} was not flagged"


def _pending(st):  # type: ignore[no-untyped-def]
    acked = state.load(st.store).acked_seq
    hashes = {r["seq"]: r["hash"] for r in st.store.query("SELECT seq, hash FROM journal")}
    return list(st.store.events(after=acked)), hashes


def test_an_altered_event_is_refused(server: Server, tmp_path: Path) -> None:
    st, client = _synced(server, tmp_path)
    st.meeting()
    events, hashes = _pending(st)
    before = server.snapshot("K01")
    body = json.loads(events[3].body_json)
    body["amount"] = body.get("amount", 0) + 1000  # a contribution made bigger on the way
    altered = [*events[:3], Event(events[3].seq, events[3].type, json.dumps(body), *_times(events[3])), *events[4:]]
    prev = hashes[events[0].seq - 1]
    resp = push_raw(client, raw_batch(client.key, "K01", altered, prev, head=events[-1].hash))
    assert resp.status_code == 422
    _refused(server, "K01", "chain_mismatch", before, resp)


def _times(ev: Event) -> tuple:  # type: ignore[type-arg]
    return (ev.device_time, ev.boot_id, ev.mono_ms, ev.hash)


@pytest.mark.parametrize("how", ["reordered", "dropped"])
def test_reordered_or_dropped_events_are_refused(server: Server, tmp_path: Path, how: str) -> None:
    st, client = _synced(server, tmp_path)
    st.meeting()
    events, hashes = _pending(st)
    before = server.snapshot("K01")
    first = events[0].seq
    shuffled = [events[1], events[0], *events[2:]] if how == "reordered" else [events[0], *events[2:]]
    # renumbered so the batch still looks contiguous; the head is the kiosk's real one
    renumbered = [
        Event(first + i, e.type, e.body_json, e.device_time, e.boot_id, e.mono_ms) for i, e in enumerate(shuffled)
    ]
    resp = push_raw(client, raw_batch(client.key, "K01", renumbered, hashes[first - 1], head=events[-1].hash))
    assert resp.status_code == 422
    _refused(server, "K01", "chain_mismatch", before, resp)


def test_a_forged_batch_signature_is_refused(server: Server, tmp_path: Path) -> None:
    st, client = _synced(server, tmp_path)
    st.meeting()
    events, hashes = _pending(st)
    before = server.snapshot("K01")
    forger = Ed25519PrivateKey.generate()
    resp = push_raw(client, raw_batch(forger, "K01", events, hashes[events[0].seq - 1]))
    assert resp.status_code == 422
    _refused(server, "K01", "signature_invalid", before, resp)


def test_a_history_rewritten_after_sync_is_refused(server: Server, tmp_path: Path) -> None:
    """The kiosk itself (or someone with its key) re-chains an edited past: the server still has the original."""
    st, client = _synced(server, tmp_path)
    events = list(st.store.events())
    before = server.snapshot("K01")
    last = events[-1]
    body = json.loads(last.body_json)
    body["note"] = "written afterwards"
    edited = [*events[:-1], make_event(last.seq, last.type, body, last.device_time, last.boot_id, last.mono_ms)]
    rechained = chain(edited)  # a valid chain, validly signed below: only the server's memory tells
    resp = push_raw(client, raw_batch(client.key, "K01", rechained, "0" * 64))
    assert resp.status_code == 409
    _refused(server, "K01", "chain_diverged", before, resp)


def test_an_enrollment_code_works_once(server: Server, tmp_path: Path) -> None:
    st = station(tmp_path / "a.db")
    code = server.code("K01")
    enroll(st.store, "http://testserver", code, http=server.client)
    other = station(tmp_path / "b.db")
    with pytest.raises(SyncError) as err:
        enroll(other.store, "http://testserver", code, http=server.client)
    assert "enrollment_code_used" in err.value.message
    assert any(i["code"] == "enrollment_code_used" for i in server.incidents())
    assert not keys.key_path(other.store.path).exists()  # the refused device keeps no half-made key
    assert server.kiosk("K01")["status"] == "active"


def test_an_enrollment_whose_answer_is_lost_is_asked_again_with_the_same_code(server: Server, tmp_path: Path) -> None:
    import httpx

    class AnswerLost(httpx.BaseTransport):
        """The request reaches the server; its answer dies on the way back (2G)."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            server.client.request(request.method, request.url.path, content=request.content, headers=request.headers)
            raise httpx.ReadError("connection reset by peer", request=request)

    st = station(tmp_path / "k.db")
    code = server.code("K01")
    lossy = httpx.Client(transport=AnswerLost(), base_url="http://testserver")
    with pytest.raises(SyncError) as lost:
        enroll(st.store, "http://testserver", code, http=lossy)
    assert lost.value.code == "enroll_network" and lost.value.transient  # a person runs it again
    assert server.kiosk("K01")["status"] == "active"  # the server did bind the key
    answer = enroll(st.store, "http://testserver", code, http=server.client)  # the same code, again
    assert answer["kiosk_id"] == "K01"
    client = SyncClient.open(st.store, http=server.client)
    st.meeting()
    assert client.sync().acked_seq == st.store.head()[0]
    # Another device with the spent code is still refused.
    with pytest.raises(SyncError, match="enrollment_code_used"):
        enroll(station(tmp_path / "other.db").store, "http://testserver", code, http=server.client)


def test_expired_unknown_and_unproven_enrollments_are_refused(server: Server, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    public = keys.public_text(key)

    def attempt(code: str, proof_key: Ed25519PrivateKey = key) -> dict:  # type: ignore[type-arg]
        proof = keys.sign(proof_key, enrollment_message(code, public))
        resp = server.client.post("/v1/enroll", json={"code": code, "public_key": public, "proof": proof})
        assert resp.status_code == 403, resp.text
        return resp.json()["detail"]

    assert attempt("AAAA-BBBB-CCCC")["code"] == "enrollment_code_unknown"
    code = server.code("K02")
    assert attempt(code, Ed25519PrivateKey.generate())["code"] == "proof_invalid"
    with server.engine.begin() as conn:
        from sync_server.db import enrollment_codes

        conn.execute(enrollment_codes.update().values(expires_at=1))
    assert attempt(code)["code"] == "enrollment_code_expired"
    bad = server.client.post("/v1/enroll", json={"code": code, "public_key": "AAAA", "proof": "AAAA"})
    assert bad.status_code == 400 and bad.json()["detail"]["code"] == "public_key_invalid"
    assert server.kiosk("K02")["status"] == "pending"


def test_one_kiosk_cannot_push_as_another(server: Server, tmp_path: Path) -> None:
    a, _client_a = _synced(server, tmp_path, "KA")
    b, client_b = _synced(server, tmp_path, "KB")
    a.meeting()
    events, hashes = _pending(a)
    before = server.snapshot("KA")
    # B signs the request as itself, but the batch claims to be A's (signed with B's key too)
    body = raw_batch(client_b.key, "KB", events, hashes[events[0].seq - 1], batch_kiosk="KA")
    resp = push_raw(client_b, body)
    assert resp.status_code == 403
    _refused(server, "KA", "kiosk_mismatch", before, resp)
    # B claims to be A in the Authorization header: its signature is not A's
    impostor = SyncClient(b.store, server.client, client_b.key, "KA")
    resp = push_raw(impostor, raw_batch(client_b.key, "KA", events, hashes[events[0].seq - 1]))
    assert resp.status_code == 401
    _refused(server, "KA", "signature_invalid", before, resp)
    # filed under the kiosk it claimed to be, for its coordinators to see, and marked unproven
    flagged = [i for i in server.incidents() if i["code"] == "signature_invalid"][-1]
    assert flagged["kiosk_id"] == "KA" and '"claimed_not_proven": true' in flagged["detail"]


def test_a_revoked_kiosk_is_refused_at_once(server: Server, tmp_path: Path) -> None:
    st, client = _synced(server, tmp_path)
    st.meeting()
    token = server.admin_token()
    resp = server.client.post("/v1/admin/kiosks/K01/revoke", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200 and resp.json()["status"] == "revoked"
    before = server.snapshot("K01")
    with pytest.raises(SyncError) as err:
        client.sync()
    assert err.value.code == "kiosk_revoked" and not err.value.transient
    assert server.snapshot("K01") == before
    assert any(i["code"] == "kiosk_revoked" and i["kiosk_id"] == "K01" for i in server.incidents())
    # a coordinator cannot revoke, and nobody can without logging in
    coord = server.admin_token("coordinator")
    assert (
        server.client.post("/v1/admin/kiosks/K01/revoke", headers={"Authorization": f"Bearer {coord}"}).status_code
        == 403
    )
    assert server.client.post("/v1/admin/kiosks/K01/revoke").status_code == 401
    assert server.client.get("/v1/admin/kiosks", headers={"Authorization": "Bearer forged.token"}).status_code == 401


def test_an_old_or_replayed_request_signature_is_refused(server: Server, tmp_path: Path) -> None:
    _st, client = _synced(server, tmp_path)
    old = server.kiosk("K01")["last_push_at"] - 3_600_000
    sig = keys.sign(client.key, request_message("GET", "/v1/sync/status", "K01", old, b""))
    resp = server.client.get("/v1/sync/status", headers={"Authorization": f"Muso K01 {old} {sig}"})
    assert resp.status_code == 401 and resp.json()["detail"]["code"] == "clock_skew"
    assert isinstance(resp.json()["detail"]["server_time"], int)
    # a signature for another path does not open this one
    resp = server.client.get("/v1/sync/restore", headers={"Authorization": f"Muso K01 {old} {sig}"})
    assert resp.status_code == 401 and resp.json()["detail"]["code"] == "signature_invalid"
    for header in ("", "Muso", "Muso K01 x y", "Bearer abc", "Muso K01 1 " + "A" * 300):
        resp = server.client.get("/v1/sync/status", headers={"Authorization": header} if header else {})
        assert resp.status_code == 401


def test_an_oversized_body_is_refused_before_it_is_read(backend: ServerDb, tmp_path: Path) -> None:
    with running(backend, max_body_bytes=4096) as server:
        st, client = _synced(server, tmp_path)
        for _ in range(3):
            st.meeting()
        _events, _hashes = _pending(st)
        before = server.snapshot("K01")
        body = gzip.compress(json.dumps({"pad": __import__("os").urandom(6000).hex()}).encode())
        resp = push_raw(client, body)
        assert resp.status_code == 413
        _refused(server, "K01", "body_too_large", before, resp)


@pytest.mark.parametrize("path", ["/v1/enroll", "/v1/admin/token", "/login"])
def test_an_anonymous_oversized_body_is_refused_whatever_the_route(server: Server, path: str) -> None:
    """Routes that do not cap their body themselves (FastAPI reads it whole before validating): one
    anonymous 200 MB POST took 400 MB of the server's memory, before any rate limit."""
    big = b"x" * (2 << 20)
    declared = server.client.post(path, content=big, headers={"Content-Type": "application/json"})
    assert declared.status_code == 413 and declared.json()["detail"]["code"] == "body_too_large"
    chunked = server.client.post(path, content=iter([big[: 1 << 19]] * 4), headers={"Content-Type": "text/plain"})
    assert chunked.status_code == 413
    # A body of the usual size still reaches the route (and is refused there for what it says).
    small = server.client.post(path, json={"code": "ABCD-EFGH-IJKL", "public_key": "x", "signature": "y"})
    assert small.status_code not in (413, 500)


def test_a_body_over_the_cap_is_refused_as_it_passes_it_not_after_it_is_all_read() -> None:
    import asyncio

    from sync_server.bodycap import CapBody

    reached, sent, taken = [], [], []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        reached.append(scope["path"])

    async def receive():  # type: ignore[no-untyped-def]
        taken.append(1)
        return {"type": "http.request", "body": b"x" * 65536, "more_body": True}  # endless, chunked

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    scope = {"type": "http", "path": "/v1/enroll", "headers": []}
    asyncio.run(CapBody(app, limit=1 << 20)(scope, receive, send))
    assert not reached and sent[0]["status"] == 413
    assert len(taken) == 17  # 1 MB and one chunk: not a byte more than it takes to know


def test_a_decompression_bomb_is_stopped_at_the_cap(server: Server, tmp_path: Path) -> None:
    _st, client = _synced(server, tmp_path)
    before = server.snapshot("K01")
    bomb = compress(b"[" + b" " * (64 * 1024 * 1024) + b"]")  # 64 MB of spaces in ~64 KB
    assert len(bomb) < server.settings.max_body_bytes
    resp = push_raw(client, bomb)
    assert resp.status_code == 413
    _refused(server, "K01", "decompressed_too_large", before, resp)


@pytest.mark.parametrize(
    ("body", "encoding", "code", "status"),
    [
        (b"not gzip at all", "gzip", "body_not_compressed", 400),
        (compress(b'{"v":1}')[:-6], "gzip", "body_truncated", 400),
        (b"{}", "br", "encoding_unsupported", 400),
        (b'{"v": 1, "kiosk": "K01"}', "identity", "batch_invalid", 422),
        (compress(b"[1, 2, 3]"), "gzip", "batch_invalid", 422),
    ],
)
def test_malformed_bodies_get_a_clear_answer_and_change_nothing(
    server: Server, tmp_path: Path, body: bytes, encoding: str, code: str, status: int
) -> None:
    _st, client = _synced(server, tmp_path)
    before = server.snapshot("K01")
    resp = push_raw(client, body, **{"Content-Encoding": encoding})
    assert resp.status_code == status and resp.json()["detail"]["code"] == code, resp.text
    assert server.snapshot("K01") == before


def test_a_nul_character_anywhere_in_a_request_is_refused_at_the_door(server: Server, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient
    from test_console_support import add_people, csrf_of, login, token

    add_people(server)
    admin = TestClient(server.client.app, base_url="http://testserver", raise_server_exceptions=False)
    login(admin, "admin")
    auth = token(admin, "admin")
    anon = TestClient(server.client.app, base_url="http://testserver", raise_server_exceptions=False)
    page = anon.get("/login")

    def counts() -> tuple[int, ...]:
        with server.engine.connect() as conn:
            return tuple(
                conn.exec_driver_sql(f"SELECT COUNT(*) FROM {t}").scalar()
                for t in ("kiosks", "enrollment_codes", "reference", "incidents")
            )

    before = counts()
    answers = [
        anon.post("/v1/admin/token", json={"username": "ad\u0000min", "password": "x" * 12}),
        anon.post("/login", data={"username": "a\x00", "password": "p", "csrf": csrf_of(page.text), "next": "/"}),
        anon.post("/v1/enroll", json={"code": "AB\u0000CD-EFGH", "public_key": "A" * 43, "proof": "A" * 86}),
        anon.get("/verify?number=K01-%00&code=x"),
        admin.get("/groups/K%0001/x"),
        admin.get("/exports/members.csv?group=K%00/x"),
        admin.get("/v1/console/groups?q=%00", headers=auth),
        admin.post("/v1/admin/kiosks/K%00/revoke", headers=auth),
        admin.put("/v1/admin/reference/kiosk_group/k%00", json={"value": {"name": "x"}}, headers=auth),
        admin.post("/v1/admin/enrollments", json={"kiosk_id": "K09", "name": "a\u0000"}, headers=auth),
    ]
    assert [a.status_code for a in answers] == [400] * len(answers), [(a.request.url, a.text) for a in answers]
    assert {a.json()["detail"]["code"] for a in answers} == {"nul_in_request"}
    assert counts() == before
    # The same requests without the NUL are served as before.
    assert admin.get("/v1/console/groups?q=a", headers=auth).status_code == 200
    assert admin.post("/v1/admin/enrollments", json={"kiosk_id": "K09", "name": "a"}, headers=auth).status_code == 201


def test_an_address_that_keeps_failing_to_authenticate_is_refused_before_any_signature_is_checked(
    backend: ServerDb, tmp_path: Path
) -> None:
    from sqlalchemy import func, select

    from sync_server.db import incidents

    with running(backend, anonymous_rate_per_minute=1, anonymous_burst=3) as server:
        st = station(tmp_path / "k.db")
        client = enrolled(st, server, "K01")
        for _ in range(5):  # requests that authenticate spend nothing of the address's allowance
            assert client.request("GET", "/v1/sync/status").status_code == 200
        impostor = SyncClient(st.store, server.client, Ed25519PrivateKey.generate(), "K01")
        for _ in range(3):
            assert impostor.request("GET", "/v1/sync/status").status_code == 401
        with server.engine.connect() as conn:
            flagged = conn.scalar(select(func.count()).select_from(incidents))
        resp = impostor.request("GET", "/v1/sync/status")
        assert resp.status_code == 429 and int(resp.headers["retry-after"]) >= 1
        assert resp.json()["detail"]["code"] == "rate_limited"
        # The kiosk itself, from that address, waits too: the check comes before its signature is read.
        assert client.request("GET", "/v1/sync/status").status_code == 429
        with server.engine.connect() as conn:  # nothing more was checked, so nothing more flagged
            assert conn.scalar(select(func.count()).select_from(incidents)) == flagged


def test_an_ipv6_client_cannot_escape_the_address_limits_by_changing_address(backend: ServerDb) -> None:
    """Anyone given an IPv6 network holds at least a /64 of addresses (2**64 of them) and may send from any:
    counted per address, each request from a new one would find a full allowance, and the login, receipt
    and kiosk-authentication limits would hold nothing back. Counted per /64, the network is one client."""
    from fastapi.testclient import TestClient

    from sync_server.api import deps

    with running(backend, anonymous_rate_per_minute=1, anonymous_burst=3) as server:
        app = server.client.app

        def enroll_from(host: str) -> int:
            client = TestClient(app, base_url="http://testserver", client=(host, 40000))
            body = {"code": "AAAA-BBBB-CCCC", "public_key": "x" * 43, "proof": "y" * 86}
            return client.post("/v1/enroll", json=body).status_code

        answers = [enroll_from(f"2001:db8:1:2::{i:x}") for i in range(1, 7)]
        assert answers[3:] == [429] * 3, answers
        # Another /64, or an IPv4 address, has its own allowance; an IPv4 address written as IPv6 is the same one.
        assert enroll_from("2001:db8:1:3::1") != 429
        assert [enroll_from("192.0.2.7") for _ in range(3)].count(429) == 0
        assert enroll_from("::ffff:192.0.2.7") == 429
        # The logins of a /64 are counted together too (accounts.login's per-address lock).
        assert deps.limit_key("2001:db8:1:2:aaaa::1") == deps.limit_key("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
