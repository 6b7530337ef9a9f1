"""Console sessions and CSRF tokens.

Why a server-side session table rather than a signed, expiring cookie
holding the user id: coordinators share phones and lose them. With a table,
logging out, disabling an account or changing its role or password ends its
sessions at the very next request, and a user can log out their other
devices (their API tokens too: see ``accounts.end_sessions``); a
self-contained cookie would stay valid until it expires, whatever
the server does. The cost is one primary-key read per page
(and a write at most once a minute to slide the idle timeout), negligible
next to the page's own queries.

The cookie holds a random 256-bit token, HMAC-signed with the server secret:
a forged or truncated cookie is refused without touching the database, and
rotating ``MUSO_SERVER_SECRET_KEY`` logs everyone out. The table stores only
the token's SHA-256, so a copy of the database cannot be turned into a
session. Cookies are ``HttpOnly`` (no script can read them), ``SameSite=Lax``
(not sent on cross-site POSTs) and ``Secure`` when served over HTTPS.

CSRF: every session has its own random token, put in a hidden field of each
form and compared (constant time) on every POST — a check that SameSite
cookies make redundant in current browsers, kept because old Android
browsers, common among coordinators, ignore SameSite. The login form, which
has no session yet, uses a double-submit token: an anonymous random cookie
and its HMAC in the form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from sqlalchemy import Engine, delete, func, select, update
from starlette.requests import Request
from starlette.responses import Response

from .. import accounts
from ..authz import Principal
from ..db import now_ms, read, users, web_sessions, write
from ..security import b64e, same_text
from ..settings import Settings

COOKIE = "muso_session"
PRE_COOKIE = "muso_pre"
SEEN_EVERY_MS = 60_000  # slide the idle timeout at most once a minute: no write per page view


def _mac(secret: str, purpose: str, value: str) -> str:
    return b64e(hmac.new(secret.encode(), f"{purpose}\n{value}".encode(), hashlib.sha256).digest())


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token(settings: Settings, cookie: str | None) -> str | None:
    token, _, mac = (cookie or "").partition(".")
    if not token or len(cookie or "") > 200:
        return None
    expected = _mac(settings.secret_key.get_secret_value(), "session", token)
    return token if same_text(mac, expected) else None


def start(engine: Engine, settings: Settings, user_id: int, remote: str) -> str:
    """A new session for ``user_id``; returns the cookie value."""
    token, now = secrets.token_urlsafe(32), now_ms()
    with write(engine) as conn:
        conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < now))  # housekeeping
        conn.execute(
            web_sessions.insert().values(
                token_hash=_hash(token),
                user_id=user_id,
                csrf=secrets.token_urlsafe(32),
                created_at=now,
                seen_at=now,
                expires_at=now + settings.session_max_s * 1000,
                remote=remote[:64],
            )
        )
    return f"{token}.{_mac(settings.secret_key.get_secret_value(), 'session', token)}"


def resume(engine: Engine, settings: Settings, cookie: str | None) -> Principal | None:
    """The signed-in person of a valid, live session cookie; None otherwise."""
    token = _token(settings, cookie)
    if token is None:
        return None
    now = now_ms()
    with read(engine) as conn:
        row = (
            conn.execute(
                select(users, web_sessions.c.csrf, web_sessions.c.seen_at, web_sessions.c.expires_at)
                .select_from(web_sessions.join(users, users.c.user_id == web_sessions.c.user_id))
                .where(web_sessions.c.token_hash == _hash(token))
            )
            .mappings()
            .first()
        )
    if row is None or not row["active"]:
        return None
    if row["expires_at"] <= now or now - row["seen_at"] > settings.session_idle_s * 1000:
        end(engine, settings, cookie)
        return None
    if now - row["seen_at"] > SEEN_EVERY_MS:
        with write(engine) as conn:
            conn.execute(update(web_sessions).where(web_sessions.c.token_hash == _hash(token)).values(seen_at=now))
    return Principal.of(row, csrf=row["csrf"])


def end(engine: Engine, settings: Settings, cookie: str | None) -> None:
    token = _token(settings, cookie)
    if token is not None:
        with write(engine) as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.token_hash == _hash(token)))


def end_others(engine: Engine, settings: Settings, user_id: int, cookie: str | None) -> int:
    """Log the account out everywhere but here (a phone left behind, a shared computer), its API tokens
    included: whoever holds the phone may have fetched one. Returns how many sessions ended."""
    token = _token(settings, cookie) or ""
    with write(engine) as conn:
        return accounts.end_sessions(conn, user_id, keep=_hash(token))


def count(engine: Engine, user_id: int) -> int:
    """The account's live sessions, this one included."""
    with read(engine) as conn:
        query = select(func.count()).where(web_sessions.c.user_id == user_id, web_sessions.c.expires_at > now_ms())
        return int(conn.scalar(query) or 0)


def csrf_ok(expected: str | None, submitted: Any) -> bool:
    return bool(expected) and isinstance(submitted, str) and same_text(expected or "", submitted)


def login_csrf(settings: Settings, pre: str) -> str:
    """The login form's token: the HMAC of the anonymous cookie (double submit, signed)."""
    return _mac(settings.secret_key.get_secret_value(), "login", pre)


def new_pre() -> str:
    return secrets.token_urlsafe(24)


def secure(request: Request, settings: Settings) -> bool:
    if settings.cookie_secure == "auto":
        return request.url.scheme == "https"
    return settings.cookie_secure == "always"


def set_cookie(response: Response, request: Request, settings: Settings, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure(request, settings),
    )


def clear_cookie(response: Response, request: Request, settings: Settings, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=secure(request, settings))
