"""The operators' API: log in, enrollment codes, kiosks, revocation, reference data, incidents.

What sync needs to be operated; the console's data is under ``/v1/console``
(sync_server/web/api.py). Same roles and scopes as the console: kiosks and
incidents are listed within the caller's scope, reference data and
revocation are for administrators, enrollment codes for coordinators within
their scope.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy import select

from .. import accounts, enrollment
from .. import reference as ref
from ..db import kiosks as kiosks_t
from ..db import now_ms, read, write
from ..schemas import (
    EnrollmentCode,
    EnrollmentRequest,
    KioskInfo,
    LoginRequest,
    ReferenceRow,
    ReferenceValue,
    Token,
)
from ..security import make_admin_token, password_mark
from ..web import fleet
from .deps import Admin, AnonymousLimit, EngineDep, Manager, NoStore, Reader, SettingsDep, remote_key

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[NoStore])

Entity = Annotated[str, Path(max_length=32, description="rule_template | kiosk_group")]
RefKey = Annotated[str, Path(min_length=1, max_length=100)]


@router.post("/token", response_model=Token, responses={401: {"description": "wrong user name or password"}})
def token(
    request: Request, body: LoginRequest, engine: EngineDep, settings: SettingsDep, _limit: None = AnonymousLimit
) -> Token:
    user = accounts.login_as_set(engine, settings, body.username, body.password, remote_key(request))
    expires = now_ms() + settings.admin_token_ttl_s * 1000
    mark = password_mark(user["password_hash"])
    return Token(
        access_token=make_admin_token(
            settings.secret_key.get_secret_value(), user["user_id"], expires, mark, user["token_epoch"]
        ),
        expires_at=expires,
    )


@router.post("/enrollments", response_model=EnrollmentCode, status_code=201)
def create_enrollment(body: EnrollmentRequest, me: Manager, engine: EngineDep, settings: SettingsDep) -> Any:
    with read(engine) as conn:
        fleet.check_enrollment(conn, me, body.kiosk_id, body.country, body.cooperative, bool(body.groups))
    code, expires = enrollment.create_enrollment(
        engine,
        body.kiosk_id,
        created_by=me.username,
        country=body.country,
        cooperative=body.cooperative,
        hours=body.hours or settings.enrollment_ttl_hours,
        name=body.name,
        replace=body.replace,
        groups=body.groups,
        template=body.template,
    )
    return EnrollmentCode(code=code, kiosk_id=body.kiosk_id, replace=body.replace, expires_at=expires)


@router.get("/kiosks", response_model=list[KioskInfo])
def kiosks(me: Reader, engine: EngineDep) -> Any:
    with read(engine) as conn:
        return [
            dict(r) for r in conn.execute(select(kiosks_t).where(me.kiosks()).order_by(kiosks_t.c.kiosk_id)).mappings()
        ]


@router.post("/kiosks/{kiosk_id}/revoke", response_model=KioskInfo)
def revoke(kiosk_id: str, _me: Admin, engine: EngineDep) -> Any:
    return enrollment.revoke(engine, kiosk_id)


@router.get("/reference", response_model=list[ReferenceRow])
def reference_rows(_me: Admin, engine: EngineDep) -> Any:
    with read(engine) as conn:
        return ref.listing(conn)


@router.put("/reference/{entity}/{key}", response_model=ReferenceRow)
def put_reference(entity: Entity, key: RefKey, body: ReferenceValue, _me: Admin, engine: EngineDep) -> Any:
    scope = body.kiosk_id or "*"
    with write(engine) as conn:
        version = ref.put(conn, entity, key, body.value, scope)
        value = json.loads(json.dumps(body.value))
    return ReferenceRow(entity=entity, key=key, scope=scope, version=version, deleted=False, value=value)


@router.delete("/reference/{entity}/{key}", status_code=204)
def delete_reference(
    entity: Entity,
    key: RefKey,
    _me: Admin,
    engine: EngineDep,
    kiosk_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    with write(engine) as conn:
        ref.delete(conn, entity, key, kiosk_id or "*")
    return Response(status_code=204)


@router.get("/incidents")
def incident_list(
    me: Reader, engine: EngineDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    """Refusals that looked like tampering or abuse, newest first (outside admins: their kiosks' only)."""
    with read(engine) as conn:
        return fleet.incident_rows(conn, me, limit)
