"""The console's users: accounts, roles and scopes, passwords and logins (throttled). Shared by the HTTP
API, the console and ``muso-server``; kiosks' enrollment and authentication are in enrollment.py."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, update

from .db import (
    fold_name,
    insert,
    login_throttle,
    now_ms,
    projections,
    read,
    users,
    web_sessions,
    write,
)
from .errors import BadRequest, Conflict, NotFound, TooManyRequests, Unauthorized
from .security import (
    check_password,
    hash_password,
)

# admin: everything, users included; coordinator: read and enroll kiosks within a scope; viewer: read within a scope.
ROLES = ("admin", "coordinator", "viewer")
MAX_SCOPE_ITEMS = 50


def is_country(code: str) -> bool:
    """Two ASCII capitals, as groups and kiosks carry their country (TG, BJ)."""
    return re.fullmatch(r"[A-Z]{2}", code) is not None


def clean_scope(role: str, countries: list[str] | None, cooperatives: list[str] | None) -> tuple[list[str], list[str]]:
    """Countries (ISO codes, or "*" for all) and cooperatives (names); an admin has no scope (sees all)."""
    if role not in ROLES:
        raise BadRequest("role_unknown", f"role must be one of {', '.join(ROLES)}")
    cs = sorted({c.strip().upper() for c in countries or [] if c.strip()})
    co = sorted({c.strip() for c in cooperatives or [] if c.strip()})
    # Two ASCII letters, as groups and kiosks carry them: "Togo" would be kept as TOGO and match nothing,
    # leaving the person with an empty console and no word why.
    if any(not (c == "*" or is_country(c)) for c in cs):
        raise BadRequest("country_invalid", "a country is a two-letter code such as TG or BJ, or * for all")
    if any(len(c) > 200 for c in co) or len(cs) + len(co) > MAX_SCOPE_ITEMS:
        raise BadRequest("scope_invalid", "too many or too long scope entries")
    if role == "admin":
        return [], []
    return cs, co  # empty: sees nothing until an administrator gives a scope (safe by default)


def unmatched_scope(engine: Engine, countries: list[str], cooperatives: list[str]) -> list[str]:
    """Countries and cooperatives of a scope that no known group carries, each with the known cooperative it
    may have meant (the same name but for accents and case). A warning, never a refusal: the groups of a
    new cooperative may not have synced yet. A scope that matches nothing shows an empty console."""
    g = projections["groups"]
    with read(engine) as conn:
        known_countries = set(conn.scalars(select(g.c.country).distinct()))
        known_coops = sorted(c for c in conn.scalars(select(g.c.cooperative).distinct()) if c)
    out = [f"no known group in country {c} yet" for c in countries if c != "*" and c not in known_countries]
    for coop in cooperatives:
        if coop in known_coops:
            continue
        close = [k for k in known_coops if fold_name(k) == fold_name(coop)]
        out.append(f"no known group in cooperative {coop!r} yet" + (f": did you mean {close[0]!r}?" if close else ""))
    return out


# -- console users -------------------------------------------------------------------------


def create_user(
    engine: Engine,
    username: str,
    password: str,
    role: str = "admin",
    *,
    countries: list[str] | None = None,
    cooperatives: list[str] | None = None,
) -> int:
    username = username.strip()
    if not username or len(username) > 100:
        raise BadRequest("username_invalid", "a user name needs 1 to 100 characters")
    cs, co = clean_scope(role, countries, cooperatives)
    hashed = hash_password(password)
    with write(engine) as conn:
        if conn.scalar(select(users.c.user_id).where(users.c.username == username)) is not None:
            raise Conflict("user_exists", f"user {username!r} already exists")
        return int(
            conn.execute(
                users.insert()
                .values(
                    username=username,
                    password_hash=hashed,
                    role=role,
                    active=True,
                    created_at=now_ms(),
                    countries=json.dumps(cs),
                    cooperatives=json.dumps(co, ensure_ascii=False),
                )
                .returning(users.c.user_id)
            ).scalar_one()
        )


def list_users(engine: Engine) -> list[dict[str, Any]]:
    with read(engine) as conn:
        rows = conn.execute(select(users).order_by(users.c.username)).mappings()
        return [_public(r) for r in rows]


def _public(row: Any) -> dict[str, Any]:
    out = {k: v for k, v in dict(row).items() if k != "password_hash"}
    out["countries"] = json.loads(row["countries"] or "[]")
    out["cooperatives"] = json.loads(row["cooperatives"] or "[]")
    return out


def set_user(
    engine: Engine,
    user_id: int,
    *,
    active: bool | None = None,
    role: str | None = None,
    countries: list[str] | None = None,
    cooperatives: list[str] | None = None,
) -> dict[str, Any]:
    """Enable/disable a user or change a role and scope; disabling ends the user's sessions."""
    with write(engine) as conn:
        row = conn.execute(select(users).where(users.c.user_id == user_id)).mappings().first()
        if row is None:
            raise NotFound("user_unknown", "no such user")
        values: dict[str, Any] = {}
        if role is not None or countries is not None or cooperatives is not None:
            new_role = role or row["role"]
            cs, co = clean_scope(
                new_role,
                countries if countries is not None else json.loads(row["countries"]),
                cooperatives if cooperatives is not None else json.loads(row["cooperatives"]),
            )
            values |= {
                "role": new_role,
                "countries": json.dumps(cs),
                "cooperatives": json.dumps(co, ensure_ascii=False),
            }
        if active is not None:
            values["active"] = active
        if (values.get("active") is False or values.get("role", "admin") != "admin") and row["role"] == "admin":
            others = conn.scalar(
                select(users.c.user_id).where(
                    users.c.role == "admin", users.c.active.is_(True), users.c.user_id != user_id
                )
            )
            if others is None:
                raise Conflict("last_admin", "this is the last active administrator")
        if values:
            conn.execute(update(users).where(users.c.user_id == user_id).values(**values))
        if values.get("active") is False or "role" in values:
            end_sessions(conn, user_id)
        return _public(conn.execute(select(users).where(users.c.user_id == user_id)).mappings().one())


def set_password(engine: Engine, user_id: int, password: str) -> None:
    """A new password: an administrator's reset, or the user's own change once ``login`` has checked the
    current one. Every session of the account ends: whoever knew or used the old password is out."""
    hashed = hash_password(password)
    with write(engine) as conn:
        if conn.execute(update(users).where(users.c.user_id == user_id).values(password_hash=hashed)).rowcount != 1:
            raise NotFound("user_unknown", "no such user")
        end_sessions(conn, user_id)


def end_sessions(conn: Connection, user_id: int, keep: str | None = None) -> int:
    """End the account's console sessions, all but the one whose token hash is ``keep``, and every API token
    made until now; returns how many sessions. Tokens are not stored: raising the account's epoch is what
    refuses the ones already given (a re-enabled account must not find its old tokens working again either)."""
    query = delete(web_sessions).where(web_sessions.c.user_id == user_id)
    if keep is not None:
        query = query.where(web_sessions.c.token_hash != keep)
    gone = conn.execute(query).rowcount
    conn.execute(update(users).where(users.c.user_id == user_id).values(token_epoch=users.c.token_epoch + 1))
    return int(gone)


def login(
    engine: Engine,
    username: str,
    password: str,
    remote: str = "unknown",
    *,
    limit: int = 5,
    addr_limit: int = 30,
    window_ms: int = 15 * 60_000,
    base_ms: int = 60_000,
    cap_ms: int = 15 * 60_000,
) -> dict[str, Any]:
    """Check a password, slowed down per account and per client address after repeated failures.

    After ``limit`` failures for one user name (whether it exists or not: the
    answer must not tell) or ``addr_limit`` from one address within
    ``window_ms``, further attempts are refused without even checking the
    password, for ``base_ms`` doubling with each further failure up to
    ``cap_ms``. A success clears the account's count, not the address's.

    Each attempt is counted as a failure *before* the password is checked (and forgiven if it was
    right): checked first, ten attempts at once would all find the account unlocked.
    """
    keys = [f"user:{username.strip().lower()[:100]}", f"addr:{remote[:64]}"]
    now = now_ms()
    with write(engine) as conn:
        counts = [_throttle_row(conn, key, now) for key in keys]  # locked in this order: no deadlock
        wait = max((c["locked_until"] for c in counts if c["locked_until"] > now), default=0)
        if not wait:
            for count, lim in zip(counts, (limit, addr_limit), strict=True):
                _fail(conn, count, lim, now, window_ms, base_ms, cap_ms)
        row = conn.execute(select(users).where(users.c.username == username.strip())).mappings().first()
    if wait:
        raise TooManyRequests(
            "login_locked", "too many failed logins: wait and retry", retry_after=(wait - now) // 1000 + 1
        )
    if not check_password(password, row["password_hash"] if row else None) or row is None or not row["active"]:
        raise Unauthorized("login_failed", "wrong user name or password")
    with write(engine) as conn:
        conn.execute(delete(login_throttle).where(login_throttle.c.key == keys[0]))
        # This attempt was no failure of the address (an office behind one address logs in all day).
        conn.execute(
            update(login_throttle)
            .where(login_throttle.c.key == keys[1], login_throttle.c.failures > 0)
            .values(failures=login_throttle.c.failures - 1)
        )
    return dict(row)


def login_as_set(engine: Engine, settings: Any, username: str, password: str, remote: str) -> dict[str, Any]:
    """``login`` with the throttle the server's settings give: the console's form, the API's token and a
    password change all count their guesses against the same locks."""
    return login(
        engine,
        username,
        password,
        remote,
        limit=settings.login_max_failures,
        addr_limit=settings.login_addr_max_failures,
        base_ms=settings.login_lock_s * 1000,
        cap_ms=settings.login_lock_max_s * 1000,
    )


def _throttle_row(conn: Connection, key: str, now: int) -> Any:
    """The count of ``key``, made if new and locked until commit (PostgreSQL; SQLite has one writer):
    attempts at once are counted one after the other, each seeing the ones before."""
    blank = {"key": key, "failures": 0, "first_at": now, "locked_until": 0}
    conn.execute(insert(conn, login_throttle).values(**blank).on_conflict_do_nothing(index_elements=["key"]))
    query = select(login_throttle).where(login_throttle.c.key == key)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).mappings().one()


def _fail(conn: Connection, row: Any, limit: int, now: int, window: int, base: int, cap: int) -> None:
    if now - row["first_at"] > window and row["locked_until"] <= now:
        failures, first = 1, now
    else:
        failures, first = row["failures"] + 1, row["first_at"]
    locked = now + min(cap, base * 2 ** min(failures - limit, 20)) if failures >= limit else 0
    values = {"failures": failures, "first_at": first, "locked_until": locked}
    conn.execute(update(login_throttle).where(login_throttle.c.key == row["key"]).values(**values))


def user(engine: Engine, user_id: int) -> dict[str, Any]:
    with read(engine) as conn:
        row = conn.execute(select(users).where(users.c.user_id == user_id)).mappings().first()
    if row is None or not row["active"]:
        raise Unauthorized("user_inactive", "this account is disabled")
    return dict(row)
