"""The coordinators' API: log in, enrollment codes, kiosks, revocation, reference data, incidents.

Minimal on purpose: the coordinators' console (accounts, dashboards,
exports) comes with its own issue; this is what sync needs to be operated.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from sqlalchemy import select

from .. import accounts
from .. import reference as ref
from ..db import incidents, now_ms, read, write
from ..schemas import (
    EnrollmentCode,
    EnrollmentRequest,
    KioskInfo,
    LoginRequest,
    ReferenceRow,
    ReferenceValue,
    Token,
)
from ..security import make_admin_token
from .deps import AdminDep, AnonymousLimit, EngineDep, SettingsDep, UserDep

router = APIRouter(prefix="/v1/admin", tags=["admin"])

Entity = Annotated[str, Path(max_length=32, description="rule_template | kiosk_group")]
RefKey = Annotated[str, Path(min_length=1, max_length=100)]


@router.post("/token", response_model=Token, responses={401: {"description": "wrong user name or password"}})
def token(body: LoginRequest, engine: EngineDep, settings: SettingsDep, _limit: None = AnonymousLimit) -> Token:
    user = accounts.login(engine, body.username, body.password)
    expires = now_ms() + settings.admin_token_ttl_s * 1000
    return Token(
        access_token=make_admin_token(settings.secret_key.get_secret_value(), user["user_id"], expires),
        expires_at=expires,
    )


@router.post("/enrollments", response_model=EnrollmentCode, status_code=201)
def create_enrollment(body: EnrollmentRequest, user: AdminDep, engine: EngineDep, settings: SettingsDep) -> Any:
    code, expires = accounts.create_enrollment(
        engine,
        body.kiosk_id,
        created_by=user["username"],
        hours=body.hours or settings.enrollment_ttl_hours,
        name=body.name,
        replace=body.replace,
        groups=body.groups,
    )
    return EnrollmentCode(code=code, kiosk_id=body.kiosk_id, replace=body.replace, expires_at=expires)


@router.get("/kiosks", response_model=list[KioskInfo])
def kiosks(_user: UserDep, engine: EngineDep) -> Any:
    return accounts.list_kiosks(engine)


@router.post("/kiosks/{kiosk_id}/revoke", response_model=KioskInfo)
def revoke(kiosk_id: str, _user: AdminDep, engine: EngineDep) -> Any:
    return accounts.revoke(engine, kiosk_id)


@router.get("/reference", response_model=list[ReferenceRow])
def reference_rows(_user: UserDep, engine: EngineDep) -> Any:
    with read(engine) as conn:
        return ref.listing(conn)


@router.put("/reference/{entity}/{key}", response_model=ReferenceRow)
def put_reference(entity: Entity, key: RefKey, body: ReferenceValue, _user: AdminDep, engine: EngineDep) -> Any:
    scope = body.kiosk_id or "*"
    with write(engine) as conn:
        version = ref.put(conn, entity, key, body.value, scope)
        value = json.loads(json.dumps(body.value))
    return ReferenceRow(entity=entity, key=key, scope=scope, version=version, deleted=False, value=value)


@router.delete("/reference/{entity}/{key}", status_code=204)
def delete_reference(
    entity: Entity,
    key: RefKey,
    _user: AdminDep,
    engine: EngineDep,
    kiosk_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    with write(engine) as conn:
        ref.delete(conn, entity, key, kiosk_id or "*")
    return Response(status_code=204)


@router.get("/incidents")
def incident_list(
    _user: UserDep, engine: EngineDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    """Refusals that looked like tampering or abuse, newest first."""
    with read(engine) as conn:
        rows = conn.execute(select(incidents).order_by(incidents.c.incident_id.desc()).limit(limit)).mappings()
        return [dict(r) for r in rows]
