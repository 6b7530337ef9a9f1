"""Quarterly indicators in the style of SAVIX, per group and for the whole scope (formulas: docs/indicators.md).

Stocks (members, savings, loans, cash) are taken at the quarter's end: the
rollup's changes summed up to its last month. Flows (aid, income, attendance,
meetings) are the changes within its three months. Months are those of the
meetings' dates, so a quarter's figures do not depend on when kiosks synced.
Portfolio at risk at the quarter's end is rebuilt from each loan: its
principal repaid by then is what is repaid today minus the repayments dated
after the quarter (net of their corrections). Lateness is judged at the
quarter's end, or today for the quarter under way: judged at a date still to
come, a loan merely due would count as more than 30 days late.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from kiosk.domain.dates import add_months

from ..authz import Principal
from ..db import console_months, projections
from ..errors import BadRequest
from .loans import AT_RISK_DAYS, days_late
from .queries import pct

G, L, T, MT = projections["groups"], projections["loans"], projections["transactions"], projections["meetings"]
CM = console_months
STOCKS = ("members", "women", "savings", "loans", "loans_active", "cash_verte", "cash_rouge", "cash_bleue", "lender")
FLOWS = ("aid", "income", "attended", "slots", "meetings")
COLUMNS = (
    "kiosk_id",
    "group",
    "country",
    "cooperative",
    "members",
    "women_pct",
    "attendance_pct",
    "meetings",
    "savings",
    "loans_count",
    "loans",
    "par30",
    "par30_pct",
    "write_offs",
    "aid",
    "income",
    "return_pct",
    "cash_verte",
    "cash_rouge",
    "cash_bleue",
    "owed_outside",
)


def quarter(text: str) -> tuple[str, str, date]:
    """``2026-Q3`` → (first month, last month, last day)."""
    found = re.fullmatch(r"(\d{4})-?[Qq]([1-4])", text.strip())
    if not found:
        raise BadRequest("quarter_invalid", "a quarter is written like 2026-Q3")
    year, q = int(found[1]), int(found[2])
    if not 2000 <= year <= 2200:  # a typo, and date() would fail on 0000 or overflow after 9999
        raise BadRequest("quarter_invalid", "a quarter is written like 2026-Q3, between 2000 and 2200")
    first = date(year, 3 * q - 2, 1)
    end = add_months(first, 3).toordinal() - 1
    return first.isoformat()[:7], date.fromordinal(end).isoformat()[:7], date.fromordinal(end)


def normal_quarter(text: str) -> str:
    """``2026q3``, `` 2026Q3`` → ``2026-Q3``: a quarter is named one way in files, sheets and the API."""
    first, _, _ = quarter(text)
    return f"{first[:4]}-Q{(int(first[5:7]) - 1) // 3 + 1}"


def check_quarter(text: str, today: date) -> bool:
    """Refuse a quarter that has not begun (today's balances under its name would be made up); say
    whether it is still running, its figures provisional."""
    first, _, end = quarter(text)
    if date.fromisoformat(f"{first}-01") > today:
        raise BadRequest("quarter_future", f"{text} has not started: it has no figures yet", quarter=text.strip())
    return today <= end


def current_quarter(today: date) -> str:
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


def _sums(
    conn: Connection, p: Principal, fields: tuple[str, ...], *where: Any
) -> dict[tuple[str, str], dict[str, int]]:
    rows = conn.execute(
        select(CM.c.kiosk_id, CM.c.group_id, *[func.sum(CM.c[f]).label(f) for f in fields])
        .select_from(CM.join(G, and_(G.c.kiosk_id == CM.c.kiosk_id, G.c.group_id == CM.c.group_id)))
        .where(p.groups(G), *where)
        .group_by(CM.c.kiosk_id, CM.c.group_id)
    ).mappings()
    return {(r["kiosk_id"], r["group_id"]): {f: int(r[f] or 0) for f in fields} for r in rows}


def portfolio_at(
    conn: Connection, p: Principal, end: date, as_of: date | None = None
) -> dict[tuple[str, str], dict[str, int]]:
    """Per group at ``end``: loans outstanding (count, principal) and the part more than 30 days late on
    ``as_of`` (``end`` by default; today, for a quarter not yet over)."""
    judged = min(end, as_of or end)
    orig = T.alias("orig")
    later: dict[tuple[str, str], int] = {}
    for kiosk_id, loan_id, kind, detail, orig_detail in conn.execute(
        select(T.c.kiosk_id, T.c.loan_id, T.c.kind, T.c.detail, orig.c.detail)
        .select_from(
            T.join(MT, and_(MT.c.kiosk_id == T.c.kiosk_id, MT.c.meeting_id == T.c.meeting_id))
            .join(G, and_(G.c.kiosk_id == T.c.kiosk_id, G.c.group_id == T.c.group_id))
            .outerjoin(orig, and_(orig.c.kiosk_id == T.c.kiosk_id, orig.c.txn_id == T.c.reverses))
        )
        .where(
            p.groups(G),
            MT.c.date > end.isoformat(),
            T.c.loan_id.is_not(None),
            or_(T.c.kind == "repayment", and_(T.c.kind == "reversal", orig.c.kind == "repayment")),
        )
    ).all():
        principal = json.loads(detail if kind == "repayment" else orig_detail).get("principal", 0)
        later[(kiosk_id, loan_id)] = later.get((kiosk_id, loan_id), 0) + (
            principal if kind == "repayment" else -principal
        )
    candidates = or_(L.c.status == "active", L.c.loan_id.in_(sorted({loan for _, loan in later})))
    out: dict[tuple[str, str], dict[str, int]] = {}
    for row in conn.execute(
        select(L)
        .select_from(L.join(G, and_(G.c.kiosk_id == L.c.kiosk_id, G.c.group_id == L.c.group_id)))
        .where(p.groups(G), L.c.kind == "loan", L.c.status != "cancelled", L.c.start <= end.isoformat(), candidates)
    ).mappings():
        loan = dict(row)
        loan["principal_paid"] -= later.get((loan["kiosk_id"], loan["loan_id"]), 0)
        outstanding = loan["principal"] - loan["principal_paid"]
        if outstanding <= 0:
            continue
        g = out.setdefault((loan["kiosk_id"], loan["group_id"]), {"count": 0, "outstanding": 0, "par30": 0})
        g["count"] += 1
        g["outstanding"] += outstanding
        if days_late(loan, judged) > AT_RISK_DAYS:
            g["par30"] += outstanding
    return out


def quarterly(conn: Connection, p: Principal, quarter_text: str, today: date) -> list[dict[str, Any]]:
    """One row per group in scope, then a TOTAL row whose ratios are recomputed from the sums."""
    check_quarter(quarter_text, today)
    first, last, end = quarter(quarter_text)
    groups = {
        (r["kiosk_id"], r["group_id"]): dict(r)
        for r in conn.execute(
            select(G.c.kiosk_id, G.c.group_id, G.c.name, G.c.country, G.c.cooperative)
            .where(p.groups(G))
            .order_by(G.c.name)
        ).mappings()
    }
    stocks = _sums(conn, p, STOCKS, CM.c.month <= last)
    before = _sums(conn, p, ("savings",), CM.c.month < first)
    flows = _sums(conn, p, FLOWS, CM.c.month >= first, CM.c.month <= last)
    portfolio = portfolio_at(conn, p, end, as_of=today)
    rows = []
    total: dict[str, int] = {}
    for key, g in groups.items():
        s = stocks.get(key, dict.fromkeys(STOCKS, 0))
        f = flows.get(key, dict.fromkeys(FLOWS, 0))
        base = {
            **s,
            **f,
            "savings_start": before.get(key, {}).get("savings", 0),
            "par30": portfolio.get(key, {}).get("par30", 0),
        }
        for k, v in base.items():
            total[k] = total.get(k, 0) + v
        rows.append(_row(g["kiosk_id"], g["name"], g["country"], g["cooperative"], base))
    rows.append(_row("", "TOTAL", "", "", total or dict.fromkeys((*STOCKS, *FLOWS, "savings_start", "par30"), 0)))
    return rows


def _row(kiosk_id: str, name: str, country: str, cooperative: str, v: dict[str, int]) -> dict[str, Any]:
    average_savings = (v["savings_start"] + v["savings"]) / 2
    return {
        "kiosk_id": kiosk_id,
        "group": name,
        "country": country,
        "cooperative": cooperative,
        "members": v["members"],
        "women_pct": pct(v["women"], v["members"]),
        "attendance_pct": pct(v["attended"], v["slots"]),
        "meetings": v["meetings"],
        "savings": v["savings"],
        "loans_count": v["loans_active"],
        "loans": v["loans"],
        "par30": v["par30"],
        "par30_pct": pct(v["par30"], v["loans"]),
        "write_offs": 0,  # the MUSO domain has no write-off movement (docs/indicators.md)
        "aid": v["aid"],
        "income": v["income"],
        "return_pct": round(100.0 * 4 * v["income"] / average_savings, 1) if average_savings > 0 else None,
        "cash_verte": v["cash_verte"],
        "cash_rouge": v["cash_rouge"],
        "cash_bleue": v["cash_bleue"],
        "owed_outside": v["lender"],
    }
