"""The console's reading pages: overview, groups, a group, a member, kiosks, receipt verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from ..api.deps import EngineDep, Reader, SettingsDep, current_principal, limit, remote_key
from ..authz import Principal
from ..db import now_ms, read
from ..errors import LoginRequired
from . import fleet, members, queries
from .common import csrf_guard, lang_of, render, today
from .i18n import day, translate

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])
PER_PAGE = 50
MEETINGS_PER_PAGE = 20
MEMBER_LINES = 200  # a member's movements and savings lines shown, the newest (the export holds them all)

Page = Annotated[int, Query(ge=1, le=100_000)]
Text = Annotated[str, Query(max_length=100)]


def scope_words(me: Principal, lang: str) -> str:
    """A person's scope as they would write it: 'TG, BJ · Coopérative ELIKE' ('*': all countries)."""
    countries = ", ".join(translate(lang, "all_countries") if c == "*" else c for c in me.countries)
    return " · ".join(part for part in (countries, ", ".join(me.cooperatives)) if part)


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, me: Reader, engine: EngineDep, settings: SettingsDep) -> HTMLResponse:
    with read(engine) as conn:
        data = queries.overview(conn, me, today(request), now_ms(), settings.silent_days)
    return render(
        request,
        "overview.html",
        me,
        silent_days=settings.silent_days,
        stale_days=queries.STALE_MEETING_DAYS,
        idle_days=queries.IDLE_GROUP_DAYS,
        arrears_day=today(request).isoformat(),
        scope=scope_words(me, lang_of(request)),
        **data,
    )


@router.get("/groups", response_class=HTMLResponse)
def groups(
    request: Request,
    me: Reader,
    engine: EngineDep,
    settings: SettingsDep,
    q: Text = "",
    country: Text = "",
    page: Page = 1,
) -> HTMLResponse:
    silent_before = queries.silent_cutoff(now_ms(), settings.silent_days)
    with read(engine) as conn:
        total, rows, par = queries.groups_page(conn, me, q, country, page, PER_PAGE, today(request), silent_before)
        countries = queries.countries_seen(conn, me)
    for r in rows:
        r["par30_pct"] = queries.pct(par.get((r["kiosk_id"], r["group_id"]), 0), r["loans"])
        r["women_pct"] = queries.pct(r["women"], r["members"])
    pages = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    return render(
        request,
        "groups.html",
        me,
        rows=rows,
        total=total,
        q=q,
        country=country,
        countries=countries,
        page=page,
        pages=pages,
        silent_days=settings.silent_days,
        scope=scope_words(me, lang_of(request)),
    )


@router.get("/groups/{kiosk_id}/{group_id}", response_class=HTMLResponse)
def group(
    request: Request, kiosk_id: str, group_id: str, me: Reader, engine: EngineDep, settings: SettingsDep, mp: Page = 1
) -> HTMLResponse:
    with read(engine) as conn:
        data = queries.group(conn, me, kiosk_id, group_id, today(request))  # 404 outside the scope, first
        silence = queries.silence(conn, kiosk_id, now_ms(), settings.silent_days)
        meetings = queries.meetings(conn, kiosk_id, group_id, MEETINGS_PER_PAGE, (mp - 1) * MEETINGS_PER_PAGE)
        # The chart shows the latest meetings whatever page of the list is open: left out of later pages, it
        # said "no data yet" above a list of meetings.
        recent = list(reversed(queries.meetings(conn, kiosk_id, group_id, 26)))
        corrections = queries.corrections(conn, kiosk_id, group_id)
        office_log = members.office_log(conn, kiosk_id, group_id)
    more = data["group"]["meeting_count"] > mp * MEETINGS_PER_PAGE
    lang = lang_of(request)
    bars = [(day(m["date"], lang), round(100 * m["attended"] / m["slots"])) for m in recent if m["slots"]]
    return render(
        request,
        "group.html",
        me,
        meetings=meetings,
        recent_bars=bars,
        corrections=corrections,
        office_log=office_log,
        mp=mp,
        more=more,
        silence=silence,
        arrears_day=today(request).isoformat(),
        **data,
    )


@router.get("/groups/{kiosk_id}/{group_id}/members/{member_id}", response_class=HTMLResponse)
def member(
    request: Request, kiosk_id: str, group_id: str, member_id: str, me: Reader, engine: EngineDep
) -> HTMLResponse:
    with read(engine) as conn:
        data = members.member(conn, me, kiosk_id, group_id, member_id, today(request), MEMBER_LINES)
    return render(request, "member.html", me, arrears_day=today(request).isoformat(), **data)


@router.get("/kiosks", response_class=HTMLResponse)
def kiosks(request: Request, me: Reader, engine: EngineDep, settings: SettingsDep) -> HTMLResponse:
    with read(engine) as conn:
        rows = fleet.fleet(conn, me, now_ms(), settings.silent_days)
        flagged = fleet.incidents_seen(conn, me)
    return render(request, "kiosks.html", me, rows=rows, silent_days=settings.silent_days, incidents=flagged)


def maybe_principal(request: Request, settings: SettingsDep, engine: EngineDep) -> Principal | None:
    """The signed-in person if any: receipt verification answers anonymous visitors too (verdict only)."""
    try:
        return current_principal(request, settings, engine, None)
    except LoginRequired:
        return None


Maybe = Annotated[Principal | None, Depends(maybe_principal)]
Number = Annotated[str, Query(max_length=80)]


@router.get("/verify", response_class=HTMLResponse)
def verify(request: Request, me: Maybe, engine: EngineDep, number: Number = "", code: Number = "") -> HTMLResponse:
    return _verify(request, me, engine, number, code)


@router.get("/v/{number}/{code}", response_class=HTMLResponse)
def verify_qr(request: Request, number: str, code: str, me: Maybe, engine: EngineDep) -> HTMLResponse:
    """Where a receipt's QR code lands: ``/v/{number}/{code without the dash}``."""
    return _verify(request, me, engine, number[:80], code[:80])


def _verify(request: Request, me: Principal | None, engine: EngineDep, number: str, code: str) -> HTMLResponse:
    result = None
    if number or code:
        # Guessing codes anonymously is slowed down per address; only the checks that fail count, since after
        # a meeting a whole group checks its receipts from one phone, or from behind one operator's address.
        failures, address = request.app.state.verify_failure_limiter, remote_key(request)
        if me is None:
            limit(failures, address, spend=False)
        with read(engine) as conn:
            result = fleet.verify(conn, me, number, code)
        if me is None and result["verdict"] not in ("genuine", "quarantined"):
            failures.take(address)
    return render(request, "verify.html", me, result=result, number=number, code=code)
