"""The kiosk-facing API: enroll, push, status, pull, restore."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from sqlalchemy import select

from .. import enrollment, ingest
from .. import reference as ref
from ..db import EVENT_COLUMNS, journal, kiosks, now_ms, read
from ..errors import Unprocessable
from ..schemas import Ack, Enrolled, EnrollRequest, Pull, PushBatch, RestorePage, Status
from .deps import DICT_ENCODING, AnonymousLimit, EngineDep, KioskDep, SettingsDep, decompress, remote

router = APIRouter(prefix="/v1", tags=["sync"])

_ERRORS = {
    400: {"description": "malformed request"},
    401: {"description": "not signed, unknown kiosk, bad signature, or clock_skew (with server_time)"},
    403: {"description": "revoked kiosk, or a batch of another kiosk"},
    413: {"description": "body or decompressed body too large"},
    429: {"description": "rate limited (retry_after)"},
}


@router.post("/enroll", response_model=Enrolled, responses={403: {"description": "code unknown, used or expired"}})
def enroll(body: EnrollRequest, engine: EngineDep, _limit: None = AnonymousLimit) -> Enrolled:
    """Bind this kiosk's public key to the kiosk id of a one-time enrollment code."""
    return Enrolled(**enrollment.enroll(engine, body.code, body.public_key, body.proof, body.kiosk_id))


@router.post(
    "/sync/push",
    response_model=Ack,
    responses={**_ERRORS, 409: {"description": "gap (resend from acked_seq + 1) or chain_diverged"}, 422: {}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A PushBatch as JSON, with Content-Encoding gzip, or x-muso-dict (raw deflate whose "
            "preset dictionary is kiosk.domain.wire.dictionary of the events named by the Muso-Dict header)",
            "content": {"application/json": {"schema": PushBatch.model_json_schema()}},
        }
    },
)
def push(request: Request, kiosk: KioskDep, engine: EngineDep, settings: SettingsDep) -> Ack:
    """Store a contiguous, signed batch of journal events (idempotent; see sync_server/ingest.py)."""
    encoding = request.headers.get("content-encoding")
    zdict = None
    if (encoding or "").strip().lower() == DICT_ENCODING:
        zdict = ingest.preset_dictionary(engine, kiosk.kiosk_id, request.headers.get("muso-dict", ""))
    raw = decompress(kiosk.body, encoding, settings.max_decompressed_bytes, zdict)
    try:
        batch = PushBatch.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{"loc": list(e["loc"])[:6], "msg": e["msg"]} for e in exc.errors(include_input=False)[:20]]
        raise Unprocessable("batch_invalid", "the batch does not match the PushBatch schema", errors=errors) from None
    out = ingest.push(
        engine,
        batch,
        kiosk_id=kiosk.kiosk_id,
        max_events=settings.max_batch_events,
        source="http",
        remote=remote(request),
    )
    return Ack(
        acked_seq=out.acked_seq, head=out.head, server_time=out.server_time, ref=out.ref, quarantined=out.quarantined
    )


@router.get("/sync/status", response_model=Status, responses=_ERRORS)
def status(kiosk: KioskDep, engine: EngineDep, settings: SettingsDep) -> Status:
    """Where the server's copy of this kiosk's journal stands: a kiosk that lost its cursor re-learns it here."""
    row = enrollment.kiosk(engine, kiosk.kiosk_id)
    with read(engine) as conn:
        version = ref.version_for(conn, kiosk.kiosk_id)
    return Status(
        kiosk_id=row["kiosk_id"],
        status=row["status"],
        acked_seq=row["acked_seq"],
        head=row["head"],
        server_time=now_ms(),
        ref=version,
        quarantined=row["quarantined"],
        max_batch_events=settings.max_batch_events,
        max_body_bytes=settings.max_body_bytes,
        max_decompressed_bytes=settings.max_decompressed_bytes,
    )


@router.get("/sync/pull", response_model=Pull, responses={**_ERRORS, 410: {"description": "cursor unknown"}})
def pull(
    kiosk: KioskDep,
    engine: EngineDep,
    settings: SettingsDep,
    since: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int | None, Query(ge=1, le=5000)] = None,
) -> Pull:
    """Reference data changed after ``since`` (rule templates, groups assigned to this kiosk)."""
    with read(engine) as conn:
        changes, cursor, more = ref.pull(
            conn, kiosk.kiosk_id, since, min(limit or settings.pull_page, settings.pull_page)
        )
    return Pull(changes=changes, cursor=cursor, more=more)


@router.get("/sync/restore", response_model=RestorePage, responses=_ERRORS)
def restore(
    kiosk: KioskDep,
    engine: EngineDep,
    settings: SettingsDep,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> RestorePage:
    """This kiosk's journal after ``after``, page by page: a replacement kiosk rebuilds itself from it."""
    page = min(limit or settings.restore_page, settings.restore_page)
    with read(engine) as conn:
        acked = int(conn.scalar(select(kiosks.c.acked_seq).where(kiosks.c.kiosk_id == kiosk.kiosk_id)) or 0)
        rows = conn.execute(
            select(*EVENT_COLUMNS, journal.c.hash, journal.c.status, journal.c.reason)
            .where(journal.c.kiosk_id == kiosk.kiosk_id, journal.c.seq > after, journal.c.seq <= acked)
            .order_by(journal.c.seq)
            .limit(page)
        ).all()
    events = [tuple(r[:-2]) for r in rows]
    quarantined = [(r[0], r[-1] or "") for r in rows if r[-2] == "quarantined"]
    more = bool(events) and events[-1][0] < acked
    return RestorePage(events=events, quarantined=quarantined, acked_seq=acked, more=more)
