"""The sync client (httpx): push what the server has not acknowledged, pull reference data, restore.

A sync whose cursor is known is one request: a push of everything after
``acked_seq`` (or a status request when there is nothing to push), whose
answer also says whether reference data changed. The cursor moves only on
the server's answer. A 409 ``gap`` answer carries the server's cursor and the
client resumes from there by itself; a kiosk that has never talked to this
server asks ``status`` first instead of resending from seq 1, and so does a
kiosk whose pending events went on a USB stick (the coordinator may have
imported it: what the server holds is not sent again over 2G).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.domain.wire import request_message
from kiosk.store import Store

from . import keys, state
from . import restore as restoring
from .batches import DICT_ENCODING, batch_body, hash_at, preset_dictionary
from .errors import SyncError

log = logging.getLogger(__name__)

USER_AGENT = "muso-kiosk/1"  # short: every header byte is paid for on 2G
TOO_LARGE = ("batch_too_large", "body_too_large", "decompressed_too_large")
MAX_REQUESTS = 10_000  # per sync: a guard against a server that never moves the cursor


@dataclass
class Report:
    requests: int = 0
    pushed: int = 0  # events the server acknowledged during this sync
    acked_seq: int = 0
    head_seq: int = 0
    pulled: int = 0
    quarantined: int = 0
    bytes_sent: int = 0


def _detail(resp: httpx.Response) -> dict[str, Any]:
    try:
        data = resp.json()
    except ValueError:
        return {}
    detail = data.get("detail") if isinstance(data, dict) else None
    return detail if isinstance(detail, dict) else {}


def answer(resp: httpx.Response, *required: str) -> dict[str, Any]:
    """A 200's JSON object with ``required`` keys. Anything else is not our server speaking (a captive
    portal's login page, a proxy's reply): a transient failure to retry later, not a crash."""
    try:
        data = resp.json()
    except ValueError:
        data = None
    if not isinstance(data, dict) or any(key not in data for key in required):
        kind = resp.headers.get("content-type", "no content type")
        raise SyncError("bad_reply", f"HTTP {resp.status_code} ({kind}): not the server's answer", transient=True)
    return data


def _retry_after(resp: httpx.Response, default: float = 30.0) -> float:
    """Seconds to wait from a Retry-After header: a number of seconds, or an HTTP date, read against the
    answer's own Date when it has one (this kiosk's clock may be wrong); an hour at most."""
    value = resp.headers.get("retry-after")
    if not value:
        return default
    try:
        return min(3600.0, max(0.0, float(value)))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
        now = parsedate_to_datetime(resp.headers["date"]).timestamp() if "date" in resp.headers else time.time()
    except (TypeError, ValueError, OverflowError):
        return default
    return min(3600.0, max(0.0, when - now))


NOT_A_ROUTE = (404, 405, 501)  # without our {"detail": {"code"}}: some other web server at that address


def refusal(resp: httpx.Response) -> SyncError:
    """The error for a refused request: the server's code and parameters kept, for words in French."""
    detail = _detail(resp)
    code = str(detail.get("code", ""))
    message = str(detail.get("message", resp.reason_phrase))
    if not code and resp.status_code in NOT_A_ROUTE:
        return SyncError("not_muso_server", f"HTTP {resp.status_code} {resp.reason_phrase}", status=resp.status_code)
    params = {k: v for k, v in detail.items() if k not in ("code", "message", "transient", "retry_after")}
    params.update(server_code=code, status=resp.status_code)
    return SyncError("refused", f"HTTP {resp.status_code} {code}: {message}", **params)


def http_client(server_url: str, timeout: float = 30.0) -> httpx.Client:
    return httpx.Client(
        base_url=server_url,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
    )


class SyncClient:
    def __init__(
        self, store: Store, http: httpx.Client, key: Ed25519PrivateKey, kiosk_id: str, *, batch_events: int = 200
    ) -> None:
        self.store = store
        self.http = http
        self.key = key
        self.kiosk_id = kiosk_id
        self.batch_events = batch_events
        self.max_body = 200 * 1024  # below the server's default cap; the server's status says its own
        self.use_dictionary = True
        self.report = Report()
        self.pins_dropped: set[str] = set()  # officers whose PIN a restore onto an older backup forgot
        self.server_url: str | None = None  # set by ``open``: the enrollment this client follows
        self._own_http = False

    @classmethod
    def open(cls, store: Store, http: httpx.Client | None = None, **kwargs: Any) -> SyncClient:
        """The client of an enrolled kiosk (key file next to the database, server URL in sync_state)."""
        kiosk_id = store.setting("kiosk_id")
        current = state.load(store)
        if not kiosk_id or not current.server_url:
            raise SyncError("not_enrolled", "run `muso-kiosk enroll --server URL --code CODE` first")
        key_file = keys.key_path(store.path)
        if not key_file.exists():
            # Enrolled, but the key is not beside the database: a backup put back on a new Pi (backups carry
            # the database, never the key). "Not enrolled" would send the technician for an ordinary code,
            # which the server refuses for a kiosk it knows: only a replacement code binds a new key to it.
            raise SyncError(
                "key_missing",
                f"no key at {key_file}, yet enrolled with {current.server_url}: a replacement code "
                "(create-enrollment --replace) and `muso-kiosk enroll` give this device a key",
            )
        key = keys.load(key_file)
        client = cls(store, http or http_client(current.server_url), key, kiosk_id, **kwargs)
        client.server_url = current.server_url
        client._own_http = http is None
        return client

    def _follow_enrollment(self, current: state.SyncState) -> None:
        """Take up a new enrollment made while this client was open (``muso-kiosk enroll --force``, with the
        sync daemon running): otherwise it would go on signing for the server the kiosk left, and take back
        that server's cursor and reference data that the enrollment had just forgotten."""
        if self.server_url is None:
            return  # made directly (tests, benchmarks): nothing to follow
        kiosk_id = self.store.setting("kiosk_id")
        key = keys.load(keys.key_path(self.store.path))
        if (current.server_url, kiosk_id, keys.public_text(key)) == (
            self.server_url, self.kiosk_id, keys.public_text(self.key)
        ):  # fmt: skip
            return
        if not self._own_http or not current.server_url or not kiosk_id:
            raise SyncError("enrollment_changed", "this kiosk was enrolled again: restart the sync")
        log.info("enrolled again (%s): syncing with it from now on", current.server_url)
        self.http.close()
        self.http = http_client(current.server_url)
        self.server_url, self.kiosk_id, self.key = current.server_url, kiosk_id, key

    def close(self) -> None:
        self.http.close()

    # -- HTTP -----------------------------------------------------------------------------------

    def _signing_time(self) -> int:
        return state.server_now(self.store) or self.store.clock.now_ms()

    def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, body: bytes = b"", **headers: str
    ) -> httpx.Response:
        """A signed request; learns the server's clock from every answer, and retries once on clock_skew."""
        target = f"{path}?{urlencode(params)}" if params else path
        for attempt in (1, 2):
            t = self._signing_time()
            sig = keys.sign(self.key, request_message(method, target, self.kiosk_id, t, body))
            sent = self.store.clock.mono_ms()
            try:
                resp = self.http.request(
                    method,
                    target,
                    content=body if body else None,
                    headers={"Authorization": f"Muso {self.kiosk_id} {t} {sig}", **headers},
                )
            except httpx.TransportError as exc:
                raise SyncError(
                    "network", f"{type(exc).__name__}: {exc}", transient=True, server=self.server_url
                ) from None
            finally:
                self.report.requests += 1
                self.report.bytes_sent += len(body)
            self._learn_clock(resp, sent)
            if resp.status_code == 401 and _detail(resp).get("code") == "clock_skew" and attempt == 1:
                continue  # the clock was corrected from this answer's server_time
            return resp
        return resp

    def _learn_clock(self, resp: httpx.Response, sent_mono: int) -> None:
        received = self.store.clock.mono_ms()
        server_ms = None
        try:
            data = resp.json() if resp.headers.get("content-type", "").startswith("application/json") else None
        except ValueError:
            data = None
        if isinstance(data, dict):
            server_ms = data.get("server_time") or (data.get("detail") or {}).get("server_time")
        if not isinstance(server_ms, int) and resp.headers.get("date") and state.server_now(self.store) is None:
            # The Date header has a one-second resolution: only better than nothing.
            try:
                server_ms = int(parsedate_to_datetime(resp.headers["date"]).timestamp() * 1000)
            except (TypeError, ValueError):
                server_ms = None
        if isinstance(server_ms, int):
            state.learn_clock(self.store, server_ms, sent_mono, received)

    def _raise(self, resp: httpx.Response) -> None:
        detail = _detail(resp)
        code = str(detail.get("code", ""))
        message = str(detail.get("message", resp.reason_phrase))
        if resp.status_code == 429:
            fallback = detail.get("retry_after")
            retry = _retry_after(resp, fallback if isinstance(fallback, (int, float)) else 30.0)
            raise SyncError("rate_limited", message, transient=True, retry_after=retry)
        if not code and resp.status_code in NOT_A_ROUTE:
            raise refusal(resp)
        if resp.status_code >= 500:
            raise SyncError("server_error", f"HTTP {resp.status_code}: {message}", transient=True)
        if code == "kiosk_revoked":
            raise SyncError("kiosk_revoked", message)
        if code == "chain_diverged":
            raise SyncError(
                "chain_diverged", message, **{k: v for k, v in detail.items() if k not in ("code", "message")}
            )
        raise refusal(resp)

    # -- sync ------------------------------------------------------------------------------------

    def sync(self) -> Report:
        """Push everything the server has not acknowledged, then pull reference data if it changed."""
        self.report = Report()
        current = state.load(self.store)
        self._follow_enrollment(current)
        if current.restore_to is not None:
            raise SyncError("restore_in_progress", "finish the restore before syncing")
        try:
            known = None
            # Asking first costs a request; pushing what a USB stick already delivered costs the whole of it.
            if current.last_success_ms is None or state.exported(self.store) > current.acked_seq:
                server = self.status()
                self._adopt(server)
                known = int(server["ref"])
            ref = self.push_pending()
            if ref is None and known is None:
                # Nothing new here, but the server's cursor is still checked: a server restored from an
                # older backup is sent again what it lost, and a kiosk restored from an older backup of its
                # own learns that the server is ahead before anyone records on it (a fork).
                server = self.status()
                self._adopt(server)
                ref = self.push_pending()
                ref = int(server["ref"]) if ref is None else ref
            elif ref is None:
                ref = known
            # Below our cursor too: the server was restored from a backup; pull answers 410 and we start over.
            if ref != state.load(self.store).ref_cursor:
                self.pull()
        except SyncError as exc:
            state.failed(self.store, f"{exc.code}: {exc.message}", self._signing_time())
            raise
        except Exception as exc:
            # Something we did not foresee (an answer of an odd shape, a bug): logged in full, shown in
            # ``sync status``, and retried with backoff like any failure: the queue must keep moving.
            log.exception("sync failed unexpectedly")
            failure = SyncError("unexpected", f"{type(exc).__name__}: {exc}", transient=True)
            state.failed(self.store, f"{failure.code}: {failure.message}", self._signing_time())
            raise failure from exc
        state.succeeded(self.store, self._signing_time())
        self.report.acked_seq = state.load(self.store).acked_seq
        self.report.head_seq = self.store.head()[0]
        return self.report

    def status(self) -> dict[str, Any]:
        resp = self.request("GET", "/v1/sync/status")
        if resp.status_code != 200:
            self._raise(resp)
        data = answer(resp, "acked_seq", "head", "ref")
        self.max_body = min(self.max_body, int(data.get("max_body_bytes", self.max_body)))
        self.batch_events = min(self.batch_events, int(data.get("max_batch_events", self.batch_events)))
        return data

    def _adopt(self, server: dict[str, Any]) -> None:
        """Take the server's cursor, after checking that its history is ours."""
        acked, head = int(server["acked_seq"]), str(server["head"])
        local_head = self.store.head()[0]
        if acked > local_head:
            state.set_behind(self.store, acked)  # no new meeting here until a restore (services.meetings)
            raise SyncError(
                "server_ahead", f"server holds {acked} events, this kiosk {local_head}", server=acked, local=local_head
            )
        if hash_at(self.store, acked) != head:
            seq = self.first_difference(acked)
            raise SyncError("chain_diverged", f"event {seq} differs between this kiosk and the server", seq=seq)
        state.acknowledge(self.store, acked, head)
        state.set_behind(self.store, None)

    def push_pending(self) -> int | None:
        """Push until the server has everything; returns the server's reference version (None if nothing to push)."""
        ref = None
        cursor = state.load(self.store).acked_seq
        for _ in range(MAX_REQUESTS):
            events = list(self.store.events(after=cursor, limit=self.batch_events))
            if not events:
                return ref
            preset = preset_dictionary(self.store, events[0].seq) if self.use_dictionary else None
            zdict = preset[1] if preset else None
            body = batch_body(self.store, self.kiosk_id, self.key, events, now=True, zdict=zdict)
            while len(body) > self.max_body and len(events) > 1:
                events = events[: len(events) // 2]
                body = batch_body(self.store, self.kiosk_id, self.key, events, now=True, zdict=zdict)
            headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
            if preset:
                headers.update({"Content-Encoding": DICT_ENCODING, "Muso-Dict": preset[0]})
            resp = self.request("POST", "/v1/sync/push", body=body, **headers)
            if resp.status_code == 200:
                ack = answer(resp, "acked_seq", "head", "ref")
                before = cursor
                self._adopt(ack)
                cursor = int(ack["acked_seq"])
                self.report.pushed += max(0, cursor - before)
                self.report.quarantined += len(ack.get("quarantined", []))
                ref = int(ack["ref"])
            elif resp.status_code == 413 and _detail(resp).get("code") in TOO_LARGE:
                # The server's caps are below what this client assumed (they are learned with the status,
                # which a client that knows its cursor does not ask): take them from the refusal.
                detail = _detail(resp)
                if isinstance(detail.get("max_events"), int) and 0 < detail["max_events"] < self.batch_events:
                    self.batch_events = detail["max_events"]
                elif (
                    detail["code"] == "body_too_large"
                    and isinstance(detail.get("limit"), int)
                    and 0 < detail["limit"] < self.max_body
                ):
                    self.max_body = detail["limit"]
                elif len(events) > 1:
                    self.batch_events = max(1, len(events) // 2)
                else:
                    self._raise(resp)
            elif resp.status_code == 409 and _detail(resp).get("code") == "dictionary_unknown":
                self.use_dictionary = False  # the server lacks the events it is made of: plain gzip will do
            elif resp.status_code == 409 and _detail(resp).get("code") == "gap":
                # The server lost or never had what we thought it had: resume from its cursor.
                detail = _detail(resp)
                self._adopt({"acked_seq": detail["acked_seq"], "head": detail["head"]})
                cursor = int(detail["acked_seq"])
            else:
                self._raise(resp)
        raise SyncError("server_error", "the server does not move the cursor", transient=True)

    def pull(self) -> None:
        cursor = state.load(self.store).ref_cursor
        for _ in range(MAX_REQUESTS):
            resp = self.request("GET", "/v1/sync/pull", params={"since": cursor})
            if resp.status_code == 410:
                cursor = 0  # the server forgot our cursor (restored from a backup): start over
                state.forget_reference(self.store)
                continue
            if resp.status_code != 200:
                self._raise(resp)
            data = answer(resp, "changes", "cursor", "more")
            state.apply_reference(self.store, data["changes"], int(data["cursor"]))
            self.report.pulled += len(data["changes"])
            cursor = int(data["cursor"])
            if not data["more"]:
                return
        raise SyncError("server_error", "the server does not move the pull cursor", transient=True)

    # -- restore (kiosk/sync/restore.py) ------------------------------------------------------------

    def restore(self, progress: Any = None) -> int:
        return restoring.restore(self, progress)

    def first_difference(self, differs: int) -> int:
        return restoring.first_difference(self, differs)

    def standing(self) -> str:
        return restoring.standing(self)

    def restore_page(self, after: int, limit: int | None = None) -> tuple[list[list[Any]], dict[int, str]]:
        """The server's journal of this kiosk after ``after``, and the reasons of what its reducer refused
        (which stays in the chain and changes nothing, here as there)."""
        resp = self.request("GET", "/v1/sync/restore", params={"after": after, **({"limit": limit} if limit else {})})
        if resp.status_code != 200:
            self._raise(resp)
        page = answer(resp, "events")
        quarantined = {int(seq): str(reason) for seq, reason in page.get("quarantined") or []}
        return list(page["events"]), quarantined
