"""The console's data as JSON (``/v1/console/...``), under the same authorization as the pages.

Authenticate with ``Authorization: Bearer <token>`` (``POST /v1/admin/token``)
or the console's session cookie. Read-only (GET), so a cookie cannot be
abused across sites to change anything. Amounts are integers of francs.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from ..api.deps import EngineDep, NoStore, Reader, SettingsDep
from ..db import now_ms, read
from . import fleet, indicators, members, queries
from .common import today
from .manage import download

router = APIRouter(prefix="/v1/console", tags=["console"], dependencies=[NoStore])
Text = Annotated[str, Query(max_length=100)]


def _plain(value: Any) -> Any:
    """Rows with JSON columns and chart tuples, as plain JSON."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@router.get("/overview", summary="Figures, charts' series and groups to follow, for the caller's scope")
def overview(request: Request, me: Reader, engine: EngineDep, settings: SettingsDep) -> dict[str, Any]:
    with read(engine) as conn:
        return _plain(queries.overview(conn, me, today(request), now_ms(), settings.silent_days))


@router.get("/groups", summary="Groups in scope with headline figures, 50 per page")
def groups(
    request: Request,
    me: Reader,
    engine: EngineDep,
    settings: SettingsDep,
    q: Text = "",
    country: Text = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> dict[str, Any]:
    silent_before = queries.silent_cutoff(now_ms(), settings.silent_days)
    with read(engine) as conn:
        total, rows, par = queries.groups_page(conn, me, q, country, page, 50, today(request), silent_before)
    for r in rows:
        r["par30"] = par.get((r["kiosk_id"], r["group_id"]), 0)
    return {"total": total, "page": page, "groups": rows}


Id = Annotated[str, Path(max_length=100)]


@router.get(
    "/groups/{kiosk_id}/{group_id}",
    summary="One group: funds, members, loans, meetings (cash discrepancies at opening and closing), corrections",
)
def group(
    request: Request,
    kiosk_id: Id,
    group_id: Id,
    me: Reader,
    engine: EngineDep,
    settings: SettingsDep,
    meetings: Annotated[int, Query(ge=0, le=1000)] = 20,
) -> dict[str, Any]:
    with read(engine) as conn:
        data = queries.group(conn, me, kiosk_id, group_id, today(request))
        data["silence"] = queries.silence(conn, kiosk_id, now_ms(), settings.silent_days)  # None while it syncs
        data["meetings"] = queries.meetings(conn, kiosk_id, group_id, meetings)
        data["corrections"] = queries.corrections(conn, kiosk_id, group_id)
    data.pop("names")
    return _plain(data)


@router.get("/groups/{kiosk_id}/{group_id}/members/{member_id}", summary="A member's statement")
def member(
    request: Request, kiosk_id: Id, group_id: Id, member_id: Id, me: Reader, engine: EngineDep
) -> dict[str, Any]:
    with read(engine) as conn:
        return _plain(members.member(conn, me, kiosk_id, group_id, member_id, today(request)))


@router.get("/kiosks", summary="Kiosks in scope: last sync, cursor, quarantined events, clock skew")
def kiosks(me: Reader, engine: EngineDep, settings: SettingsDep) -> list[dict[str, Any]]:
    with read(engine) as conn:
        return fleet.fleet(conn, me, now_ms(), settings.silent_days)


@router.get("/verify/{number}/{code}", summary="Verify a receipt: genuine (with its content), mismatch or unknown")
def verify(
    number: Annotated[str, Path(max_length=80)],
    code: Annotated[str, Path(max_length=80)],
    me: Reader,
    engine: EngineDep,
) -> dict[str, Any]:
    with read(engine) as conn:
        return _plain(fleet.verify(conn, me, number, code))


@router.get("/indicators", summary="Quarterly indicators (SAVIX style), one row per group and a TOTAL row")
def quarterly(
    request: Request, me: Reader, engine: EngineDep, quarter: Annotated[str, Query(max_length=10)] = ""
) -> dict[str, Any]:
    day = today(request)
    q = indicators.normal_quarter(quarter) if quarter else indicators.current_quarter(day)
    provisional = indicators.check_quarter(q, day)  # the quarter under way: its figures will still move
    with read(engine) as conn:
        return {"quarter": q, "provisional": provisional, "rows": indicators.quarterly(conn, me, q, day)}


@router.get(
    "/exports/{kind}", summary="An export as CSV or Excel: the console's rows, with column identifiers and raw codes"
)
async def export(
    request: Request,
    kind: Annotated[str, Path(pattern="^(members|movements|loans|meetings|indicators)$")],
    me: Reader,
    engine: EngineDep,
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv",
    group: Annotated[str, Query(max_length=200)] = "",
    since: Annotated[str, Query(alias="from", max_length=10)] = "",
    until: Annotated[str, Query(alias="to", max_length=10)] = "",
    quarter: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    # For programs: the columns' identifiers and the raw codes (the console's files are in words).
    return await download(request, me, engine, kind, format, group, since, until, quarter, None)
