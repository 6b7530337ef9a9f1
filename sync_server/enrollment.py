"""Kiosks: enrollment, revocation and the authentication of their requests. Shared by the HTTP API, the
console and ``muso-server``.

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

import re
import uuid
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from kiosk.domain.wire import enrollment_message, request_message

from . import reference
from .accounts import is_country
from .db import (
    enrollment_codes,
    kiosk_keys,
    kiosks,
    lock_kiosk,
    new_kiosk_row,
    now_ms,
    read,
    write,
)
from .errors import BadRequest, Conflict, Forbidden, NotFound, SyncServerError, Unauthorized
from .security import (
    SignedRequest,
    code_hash,
    new_enrollment_code,
    public_key,
    signature_ok,
)

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
        common = {k: v for k, v in place.items() if v} | ({"template": template} if template else {})
        for group in groups or []:
            reference.put(conn, "kiosk_group", str(uuid.uuid4()), {"name": group, **common}, scope=kiosk_id)
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
