"""Coordinators, kiosks, enrollment and revocation: shared by the HTTP API and ``muso-server``.

Enrollment follows the Mender/ODK pattern from research/sync.md §3.4: a
coordinator creates a one-time code that expires, for one kiosk id; the
kiosk makes its Ed25519 key pair, keeps the private half, and sends the code
with its public key and a signature proving it holds the private one. The
code is spent in the transaction that binds the key, so two kiosks racing
with one code cannot both win. A *replacement* code (``replace``) binds a new
key to an existing kiosk id — the old key is retired — so that a new Pi can
restore the journal and continue the same chain.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, update

from kiosk.domain.wire import enrollment_message, request_message

from . import reference
from .db import (
    enrollment_codes,
    fold_name,
    insert,
    kiosk_keys,
    kiosks,
    lock_kiosk,
    login_throttle,
    new_kiosk_row,
    now_ms,
    projections,
    read,
    users,
    web_sessions,
    write,
)
from .errors import BadRequest, Conflict, Forbidden, NotFound, SyncServerError, TooManyRequests, Unauthorized
from .security import (
    SignedRequest,
    check_password,
    code_hash,
    hash_password,
    new_enrollment_code,
    public_key,
    signature_ok,
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
            conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id))
        return _public(conn.execute(select(users).where(users.c.user_id == user_id)).mappings().one())


def set_password(engine: Engine, user_id: int, password: str) -> None:
    """A new password: an administrator's reset, or the user's own change once ``login`` has checked the
    current one. Every session of the account ends: whoever knew or used the old password is out."""
    hashed = hash_password(password)
    with write(engine) as conn:
        if conn.execute(update(users).where(users.c.user_id == user_id).values(password_hash=hashed)).rowcount != 1:
            raise NotFound("user_unknown", "no such user")
        conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id))


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


# -- enrollment ----------------------------------------------------------------------------------


KIOSK_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
MAX_ENROLLMENT_HOURS = 24 * 30


def create_enrollment(
    engine: Engine,
    kiosk_id: str,
    *,
    created_by: str,
    hours: int,
    name: str = "",
    replace: bool = False,
    groups: list[str] | None = None,
    country: str | None = None,
    cooperative: str | None = None,
    template: str | None = None,
) -> tuple[str, int]:
    """A one-time code for ``kiosk_id``; returns (code, expires_at). Only the code's hash is stored.

    Each of ``groups`` (names) is offered on the kiosk's home screen after its first sync, to be set up
    in one tap: in the kiosk's country and cooperative, on the règlement ``template`` names (or the
    default one)."""
    # Checked here, whatever the caller (API, console, command line): a kiosk enrolled under an id the
    # protocol cannot carry would spend its code and then fail every sync.
    if not isinstance(kiosk_id, str) or not KIOSK_ID.fullmatch(kiosk_id):
        raise BadRequest("kiosk_id_invalid", "a kiosk id is 1 to 64 letters, digits, '.', '_' or '-'")
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= MAX_ENROLLMENT_HOURS:
        raise BadRequest("hours_invalid", f"an enrollment code is valid for 1 to {MAX_ENROLLMENT_HOURS} hours")
    if country is not None and not is_country(country):
        raise BadRequest("country_invalid", "a country is a two-letter code such as TG or BJ")
    if template and not groups:  # said, not dropped: whoever gave it meant some group to start on it
        raise BadRequest("template_without_groups", "a template is the règlement of the groups named with it")
    code = new_enrollment_code()
    expires = now_ms() + hours * 3_600_000
    with write(engine) as conn:
        row = lock_kiosk(conn, kiosk_id)
        if row is None:
            if replace:
                raise NotFound("kiosk_unknown", f"kiosk {kiosk_id} has never enrolled: nothing to replace")
            row = new_kiosk_row(kiosk_id, name, "pending") | {"country": country, "cooperative": cooperative}
            conn.execute(kiosks.insert().values(**row))
        elif row["status"] != "pending" and not replace:
            raise Conflict(
                "kiosk_already_enrolled",
                f"kiosk {kiosk_id} is already enrolled: create a replacement code to move it to a new device",
            )
        # The kiosk sets a group up from this value as it is: without its country, a group of Benin
        # would be filed under Togo's coordinators (the kiosk's fallback), out of its own's sight.
        place = {"country": country or row["country"], "cooperative": cooperative or row["cooperative"]}
        if groups and not place["country"]:
            raise BadRequest("group_country_required", "groups need their country (TG, BJ): give the kiosk's country")
        missing = {k: v for k, v in place.items() if v and not row[k]}
        if missing:  # a kiosk made without its place: where its groups now stand is where it stands
            conn.execute(kiosks.update().where(kiosks.c.kiosk_id == kiosk_id).values(**missing))
        conn.execute(
            enrollment_codes.insert().values(
                code_hash=code_hash(code),
                kiosk_id=kiosk_id,
                replace=replace,
                created_by=created_by,
                created_at=now_ms(),
                expires_at=expires,
            )
        )
        for group in groups or []:
            value = {"name": group, **{k: v for k, v in place.items() if v}}
            if template:
                value["template"] = template
            reference.put(conn, "kiosk_group", str(uuid.uuid4()), value, scope=kiosk_id)
    return code, expires


def enroll(engine: Engine, code: str, key: str, proof: str, claimed: str | None) -> dict[str, Any]:
    public_key(key)  # a clear 400 for something that is not a key at all
    if not signature_ok(key, proof, enrollment_message(code, key)):
        raise Forbidden("proof_invalid", "the enrollment is not signed by the key it enrolls")
    now = now_ms()
    with write(engine) as conn:
        row = (
            conn.execute(select(enrollment_codes).where(enrollment_codes.c.code_hash == code_hash(code)))
            .mappings()
            .first()
        )
        if row is None:
            raise Forbidden("enrollment_code_unknown", "unknown enrollment code")
        if row["used_at"] is not None:
            if row["used_key"] == key:
                # The same device asking again, its first answer lost on the way (2G): the same answer,
                # nothing changed. Only the holder of the key could sign the proof.
                return _enrolled_again(conn, row, key)
            raise Forbidden("enrollment_code_used", "this enrollment code has already been used")
        if row["expires_at"] < now:
            raise Forbidden("enrollment_code_expired", "this enrollment code has expired: ask for a new one")
        kiosk_id = row["kiosk_id"]
        if claimed and claimed != kiosk_id:
            raise Conflict(
                "kiosk_id_mismatch",
                f"this code is for kiosk {kiosk_id}, but this device already keeps kiosk {claimed}'s journal",
                kiosk_id=kiosk_id,
            )
        # Spend the code first, conditionally: of two racing enrollments one updates a row, the other none.
        spent = conn.execute(
            update(enrollment_codes)
            .where(enrollment_codes.c.code_hash == row["code_hash"], enrollment_codes.c.used_at.is_(None))
            .values(used_at=now, used_key=key)
        ).rowcount
        if spent != 1:
            raise Forbidden("enrollment_code_used", "this enrollment code has already been used")
        kiosk = lock_kiosk(conn, kiosk_id)
        if kiosk is None:
            raise NotFound("kiosk_unknown", f"kiosk {kiosk_id} is unknown")
        if kiosk["status"] == "active" and not row["replace"]:
            raise Conflict("kiosk_already_enrolled", f"kiosk {kiosk_id} is already enrolled")
        if conn.scalar(select(kiosk_keys.c.kiosk_id).where(kiosk_keys.c.public_key == key)) is not None:
            raise Conflict("public_key_in_use", "this public key is already enrolled")
        conn.execute(
            update(kiosk_keys)
            .where(kiosk_keys.c.kiosk_id == kiosk_id, kiosk_keys.c.status == "active")
            .values(status="replaced", ended_at=now)
        )
        conn.execute(kiosk_keys.insert().values(public_key=key, kiosk_id=kiosk_id, status="active", created_at=now))
        conn.execute(update(kiosks).where(kiosks.c.kiosk_id == kiosk_id).values(status="active", revoked_at=None))
        return {
            "kiosk_id": kiosk_id,
            "replace": bool(row["replace"]),
            "acked_seq": int(kiosk["acked_seq"]),
            "head": kiosk["head"],
            "server_time": now_ms(),
        }


def _enrolled_again(conn: Connection, code: Any, key: str) -> dict[str, Any]:
    bound = conn.scalar(select(kiosk_keys.c.status).where(kiosk_keys.c.public_key == key))
    kiosk = conn.execute(select(kiosks).where(kiosks.c.kiosk_id == code["kiosk_id"])).mappings().first()
    if bound != "active" or kiosk is None or kiosk["status"] != "active":
        raise Forbidden("enrollment_code_used", "this enrollment code has already been used")
    return {
        "kiosk_id": kiosk["kiosk_id"],
        "replace": bool(code["replace"]),
        "acked_seq": int(kiosk["acked_seq"]),
        "head": kiosk["head"],
        "server_time": now_ms(),
    }


def revoke(engine: Engine, kiosk_id: str) -> dict[str, Any]:
    now = now_ms()
    with write(engine) as conn:
        if lock_kiosk(conn, kiosk_id) is None:
            raise NotFound("kiosk_unknown", f"kiosk {kiosk_id} is unknown")
        conn.execute(update(kiosks).where(kiosks.c.kiosk_id == kiosk_id).values(status="revoked", revoked_at=now))
        conn.execute(
            update(kiosk_keys)
            .where(kiosk_keys.c.kiosk_id == kiosk_id, kiosk_keys.c.status == "active")
            .values(status="revoked", ended_at=now)
        )
        # Codes not yet used die with the kiosk: a revoked device must not re-enroll with a code it saw.
        conn.execute(
            update(enrollment_codes)
            .where(enrollment_codes.c.kiosk_id == kiosk_id, enrollment_codes.c.used_at.is_(None))
            .values(expires_at=now - 1)
        )
        return dict(lock_kiosk(conn, kiosk_id) or {})


def list_kiosks(engine: Engine) -> list[dict[str, Any]]:
    with read(engine) as conn:
        return [dict(r) for r in conn.execute(select(kiosks).order_by(kiosks.c.kiosk_id)).mappings()]


def kiosk(engine: Engine, kiosk_id: str) -> dict[str, Any]:
    with read(engine) as conn:
        row = conn.execute(select(kiosks).where(kiosks.c.kiosk_id == kiosk_id)).mappings().first()
    if row is None:
        raise NotFound("kiosk_unknown", f"kiosk {kiosk_id} is unknown")
    return dict(row)


# -- kiosk requests ------------------------------------------------------------------------------


def _claimed(exc: SyncServerError, kiosk_id: str) -> SyncServerError:
    """A refusal filed under the kiosk the request says it comes from (unproven: marked so), so that
    the coordinators of that kiosk see a stolen or replaced Pi coming back, and which one."""
    exc.claimed_kiosk = kiosk_id  # type: ignore[attr-defined]
    exc.params["claimed_not_proven"] = True
    return exc


def authenticate(
    engine: Engine,
    signed: SignedRequest,
    method: str,
    target: str,
    body: bytes,
    window_ms: int,
    received_ms: int | None = None,
) -> str:
    """The kiosk id of a correctly signed request by an active kiosk (see security.py for why signatures).

    ``received_ms``: when the request began to arrive; its signing time is judged against that, not
    against the end of an upload that 2G may have made last minutes."""
    with read(engine) as conn:
        row = conn.execute(
            select(kiosks.c.status, kiosk_keys.c.public_key)
            .select_from(
                kiosks.outerjoin(
                    kiosk_keys, (kiosk_keys.c.kiosk_id == kiosks.c.kiosk_id) & (kiosk_keys.c.status == "active")
                )
            )
            .where(kiosks.c.kiosk_id == signed.kiosk_id)
        ).first()
    if row is None:
        raise Unauthorized("kiosk_unknown", "this kiosk is not enrolled")
    status, key = row
    if status == "revoked":
        raise _claimed(Forbidden("kiosk_revoked", "this kiosk has been revoked: ask a coordinator"), signed.kiosk_id)
    if key is None:
        raise Unauthorized("kiosk_unknown", "this kiosk is not enrolled")
    message = request_message(method, target, signed.kiosk_id, signed.time_ms, body)
    if not signature_ok(key, signed.signature, message):
        err = Unauthorized("signature_invalid", "the request is not signed by this kiosk's key")
        err.flag = True
        raise _claimed(err, signed.kiosk_id)
    now = received_ms if received_ms is not None else now_ms()
    if abs(signed.time_ms - now) > window_ms:
        raise Unauthorized(
            "clock_skew", "the kiosk's clock is too far from the server's: correct it and retry", server_time=now
        )
    return signed.kiosk_id
