"""FastAPI dependencies (``Annotated`` aliases): settings, engine, capped bodies, kiosks and coordinators."""

from __future__ import annotations

import ipaddress
import zlib
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from .. import accounts, enrollment
from ..authz import ADMIN, ENROLL, READ, Principal
from ..db import now_ms
from ..errors import (
    BadRequest,
    CsrfRefused,
    Forbidden,
    LoginRequired,
    NotAllowed,
    TooLarge,
    TooManyRequests,
    Unauthorized,
)
from ..ratelimit import RateLimiter
from ..security import parse_authorization, password_mark, read_admin_token, same_text
from ..settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]


def remote(request: Request) -> str:
    """The client's address, as sessions and incidents record it."""
    return request.client.host if request.client else "unknown"


def limit_key(host: str) -> str:
    """The client an address belongs to, for the per-address limits: an IPv6 address's /64.

    Whoever has IPv6 at all has a /64 (2**64 addresses) and may send each request from a new one:
    counted per address, every request would find a full allowance. An IPv4 address written as
    IPv6 (``::ffff:192.0.2.7``) is that IPv4 address."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # "unknown", a test client's name
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def remote_key(request: Request) -> str:
    """The key of the per-address limits (anonymous requests, failed kiosk signatures, receipt checks, logins)."""
    return limit_key(remote(request))


def limit(limiter: RateLimiter, key: str, *, spend: bool = True) -> None:
    wait = limiter.take(key) if spend else limiter.waiting(key)
    if wait:
        raise TooManyRequests("rate_limited", "too many requests: wait and retry", retry_after=round(wait + 0.5))


def anonymous_limit(request: Request) -> None:
    """Before authentication there is only the address to go by (enrollment, login)."""
    limit(request.app.state.anonymous_limiter, remote_key(request))


AnonymousLimit = Depends(anonymous_limit)


def no_store(response: Response) -> None:
    """The API's answers hold what the console's pages hold (names, phones, balances; a token): a browser
    with the session cookie must keep them out of its cache as it keeps the pages (shared phones)."""
    response.headers["Cache-Control"] = "no-store"


NoStore = Depends(no_store)


# -- bodies ---------------------------------------------------------------------------------


async def read_body(request: Request, cap: int) -> bytes:
    """The raw body, refused as soon as it passes ``cap`` bytes (before it is all in memory)."""
    cached = getattr(request.state, "raw_body", None)
    if cached is not None:
        return cached
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > cap:
        raise TooLarge("body_too_large", f"request bodies are limited to {cap} bytes", limit=cap)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise TooLarge("body_too_large", f"request bodies are limited to {cap} bytes", limit=cap)
        chunks.append(chunk)
    body = b"".join(chunks)
    request.state.raw_body = body
    return body


DICT_ENCODING = "x-muso-dict"


def decompress(body: bytes, encoding: str | None, cap: int, zdict: bytes | None = None) -> bytes:
    """Undo ``Content-Encoding`` (gzip or deflate) without ever producing more than ``cap`` bytes.

    A few KB of zeros can inflate to gigabytes: decompressing with a bound
    stops a bomb at ``cap`` instead of at the end of memory.
    """
    enc = (encoding or "identity").strip().lower()
    if enc == "identity":
        if len(body) > cap:
            raise TooLarge("decompressed_too_large", f"decompressed bodies are limited to {cap} bytes", limit=cap)
        return body
    wbits = {"gzip": 31, "x-gzip": 31, "deflate": 15, DICT_ENCODING: -15}.get(enc)
    if wbits is None:
        raise BadRequest("encoding_unsupported", f"Content-Encoding must be gzip, deflate, {DICT_ENCODING} or identity")
    if (enc == DICT_ENCODING) != (zdict is not None):
        raise BadRequest("dictionary_missing", f"{DICT_ENCODING} needs a Muso-Dict header (and only it)")
    inflater = zlib.decompressobj(wbits, zdict=zdict) if zdict is not None else zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(body, cap + 1)
        if len(out) <= cap and not inflater.unconsumed_tail:
            out += inflater.flush(cap + 1 - len(out))
    except zlib.error as exc:
        raise BadRequest("body_not_compressed", f"the body is not valid {enc} data") from exc
    if len(out) > cap or inflater.unconsumed_tail:
        raise TooLarge("decompressed_too_large", f"decompressed bodies are limited to {cap} bytes", limit=cap)
    if not inflater.eof or inflater.unused_data:
        raise BadRequest("body_truncated", f"the {enc} body is incomplete or has trailing bytes")
    return out


# -- kiosks ---------------------------------------------------------------------------------------

# Documents the scheme in OpenAPI; the value is checked in ``current_kiosk``.
kiosk_signature = APIKeyHeader(
    name="Authorization",
    scheme_name="KioskSignature",
    description="Muso <kiosk_id> <time_ms> <Ed25519 signature, base64url> (see sync_server/security.py)",
    auto_error=False,
)


@dataclass(frozen=True)
class Kiosk:
    kiosk_id: str
    body: bytes


def signed_target(request: Request) -> str:
    path = request.scope.get("path", "")
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


async def current_kiosk(
    request: Request,
    settings: SettingsDep,
    engine: EngineDep,
    _header: Annotated[str | None, Depends(kiosk_signature)] = None,
) -> Kiosk:
    failures, address = request.app.state.auth_failure_limiter, remote_key(request)
    limit(failures, address, spend=False)  # an address that keeps failing: refused before any signature is checked
    received = now_ms()  # before the body: a slow upload must not age the signature
    try:
        signed = parse_authorization(request.headers.get("authorization"))
        body = await read_body(request, settings.max_body_bytes)
        kiosk_id = await run_in_threadpool(
            enrollment.authenticate,
            engine,
            signed,
            request.method,
            signed_target(request),
            body,
            settings.signature_window_s * 1000,
            received,
        )
    except (Unauthorized, Forbidden):
        failures.take(address)
        raise
    request.state.kiosk_id = kiosk_id
    limit(request.app.state.kiosk_limiter, kiosk_id)
    return Kiosk(kiosk_id, body)


KioskDep = Annotated[Kiosk, Depends(current_kiosk)]


# -- console users: one authorization dependency for pages, exports and the API ---------------

bearer = HTTPBearer(auto_error=False, description="a token from POST /v1/admin/token")


def current_principal(
    request: Request,
    settings: SettingsDep,
    engine: EngineDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)] = None,
) -> Principal:
    """The signed-in person: a bearer token (scripts, the API) or the console's session cookie."""
    from ..web import sessions  # the console's cookie format; imported late to keep the API importable alone

    known = getattr(request.state, "principal", None)  # resolved by the console's CSRF guard on a POST
    if known is not None:
        return known
    if credentials is not None:
        user_id, mark, epoch = read_admin_token(
            settings.secret_key.get_secret_value(), credentials.credentials, now_ms()
        )
        user = accounts.user(engine, user_id)
        if not same_text(mark, password_mark(user["password_hash"])):
            raise Unauthorized("token_expired", "the password changed since this token was made: log in again")
        if epoch != user["token_epoch"]:
            raise Unauthorized(
                "token_expired", "the account's sessions were ended since this token was made: log in again"
            )
        principal = Principal.of(user, via="token")
    else:
        found = sessions.resume(engine, settings, request.cookies.get(sessions.COOKIE))
        if found is None:
            raise LoginRequired("login_required", "log in first (console session or Authorization: Bearer <token>)")
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            # A browser sends the cookie with any site's request: a change made with it alone could be
            # another site's doing. The console's forms passed their CSRF check already (above); the API
            # changes things with a bearer token only.
            raise CsrfRefused("bearer_required", "changes through the API need Authorization: Bearer <token>")
        principal = found
    request.state.principal = principal
    return principal


def allow(permission: str) -> Any:
    def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.may(permission):
            raise NotAllowed("not_allowed", "your role does not allow this", role=principal.role)
        return principal

    return check


Reader = Annotated[Principal, Depends(allow(READ))]  # admin, coordinator, viewer (within their scope)
Manager = Annotated[Principal, Depends(allow(ENROLL))]  # admin, coordinator (within their scope)
Admin = Annotated[Principal, Depends(allow(ADMIN))]
