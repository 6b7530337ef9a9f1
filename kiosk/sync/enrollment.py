"""Enrollment: this kiosk's key pair, bound to the server with a coordinator's one-time code."""

from __future__ import annotations

import json
from typing import Any

import httpx

from kiosk.domain.events import GENESIS
from kiosk.domain.wire import enrollment_message
from kiosk.store import Store

from . import client, keys, state
from .errors import SyncError


def check_server_url(url: str) -> None:
    """A typo in the address is the technician's to fix, not a network problem to wait out."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise SyncError("server_url_invalid", f"not a server address: {url!r} (like https://sync.example.org)")


def same_server(a: str, b: str) -> bool:
    """One server whatever the spelling: a slash at the end, or TLS put in front of it since (http → https)."""
    x, y = httpx.URL(a.rstrip("/")), httpx.URL(b.rstrip("/"))
    return (x.host, x.path) == (y.host, y.path)


def enroll(
    store: Store, server_url: str, code: str, http: httpx.Client | None = None, *, force: bool = False
) -> dict[str, Any]:
    """Make this kiosk's key pair, enroll it with a one-time code, remember the server.

    The key is written before the request, as ``….new``. If the answer is lost
    on the way, the server may have bound the key and spent the code: the key
    is kept, and enrolling again with the same code sends the same key, which
    the server answers as the first time. A refusal discards it.

    A kiosk enrolled with another server is refused unless ``force``: its key is
    the only one that server takes from it, and the next sync would carry every
    group's journal to the new one. Forced, the old key is kept as ``….old`` and
    the answer says which server was left (``left_server``, ``old_key``).
    """
    check_server_url(server_url)
    path = keys.key_path(store.path)
    current = state.load(store)
    previous = current.server_url
    # Not "and the key file exists": a database put back from a backup comes without its key, and is
    # still the kiosk of the server it names.
    leaving = previous is not None and not same_server(previous, server_url)
    if leaving and current.restore_to is not None:
        # Half a journal restored from one server, the rest from another: finished where it began, or not at all.
        raise SyncError("enroll_during_restore", f"a restore from {previous} is under way", current=previous)
    if leaving and not force:
        raise SyncError(
            "enrolled_elsewhere",
            f"enrolled with {previous}; enrolling with {server_url} needs --force",
            current=previous,
            new=server_url,
        )
    pending_path = path.with_name(path.name + ".new")
    key = keys.load(pending_path) if pending_path.exists() else keys.create(pending_path)
    public = keys.public_text(key)
    local_id = store.setting("kiosk_id")
    body = {
        "code": code,
        "public_key": public,
        "proof": keys.sign(key, enrollment_message(code, public)),
        # A device that already keeps a journal must stay the kiosk it is.
        "kiosk_id": local_id if local_id and store.head()[0] > 0 else None,
    }
    own = http is None
    http = http or client.http_client(server_url)
    try:
        resp = http.post("/v1/enroll", content=json.dumps(body), headers={"Content-Type": "application/json"})
    except httpx.TransportError as exc:  # the key stays: the server may have bound it (see above)
        # Not "network": nothing retries an enrollment by itself, a person runs it again with the same code.
        raise SyncError("enroll_network", f"{type(exc).__name__}: {exc}", transient=True, server=server_url) from None
    finally:
        if own:
            http.close()
    if resp.status_code != 200:
        pending_path.unlink(missing_ok=True)
        refused = client.refusal(resp)
        if refused.params.get("server_code") == "enrollment_code_used" and previous is not None and path.exists():
            # Typically the same enroll run twice: the first did it, and this run's fresh key met the spent code.
            # "Ask for a new code" would send the technician for one the server then refuses (the kiosk is
            # enrolled already), when there is nothing to do.
            raise SyncError(
                "already_enrolled", f"already enrolled with {previous}; this code is spent", current=previous
            )
        if refused.params.get("server_code") == "kiosk_id_mismatch":
            refused.params["own_id"] = body["kiosk_id"]  # the technician asks for a code naming this one
        raise refused
    try:
        data = client.answer(resp, "kiosk_id")
    except SyncError:
        pending_path.unlink(missing_ok=True)
        raise
    old_key = None
    if leaving and path.exists():
        # Kept, not overwritten: with it the kiosk can still sign for the server it leaves, if that was a mistake.
        old_key = path.with_name(path.name + ".old")
        n = 0
        while old_key.exists():
            n += 1
            old_key = path.with_name(f"{path.name}.old.{n}")
        path.replace(old_key)
    pending_path.replace(path)
    store.set_setting("kiosk_id", data["kiosk_id"])
    # Forget what we believed about the server: the first sync asks it (status) before pushing.
    state.update(store, server_url=server_url, last_error=None, failures=0, last_success_ms=None)
    if leaving:
        # What the server left behind acknowledged, held or handed out is no word of the new one's: its cursor,
        # its "behind" mark, its reference data (pulled again whole from the new server at the first sync).
        state.update(store, acked_seq=0, acked_head=GENESIS)
        state.set_behind(store, None)
        state.forget_reference(store)
        data = {**data, "left_server": previous, "old_key": str(old_key) if old_key else None}
    if isinstance(data.get("server_time"), int):
        now = store.clock.mono_ms()
        state.learn_clock(store, data["server_time"], now, now)
    server_seq = data.get("acked_seq")
    if isinstance(server_seq, int) and server_seq > store.head()[0]:
        # A device taking over a kiosk that had synced: until `muso-kiosk restore`, whatever it records forks
        # the group's history. Noted as a sync would note it, so the app refuses now, not after the next sync.
        state.set_behind(store, server_seq)
    return data
