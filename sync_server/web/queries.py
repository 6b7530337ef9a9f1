"""What the console shows, read from the projections and rollups — never from the journal.

Every query takes the signed-in ``Principal`` and joins ``p_groups`` with its
scope condition (``authz.Principal.groups``): the filter is in the SQL. A group
asked for by id outside the scope is not found, exactly like an unknown id.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, String, and_, case, false, func, not_, or_, select, tuple_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from kiosk.domain.funds import Fund, count_total

from ..authz import Principal
from ..db import (
    FOLD_FROM,
    FOLD_TO,
    ROLLUP_FIELDS,
    console_months,
    console_totals,
    fold_name,
    journal,
    kiosk_keys,
    kiosks,
    projections,
)
from ..errors import NotFound
from .loans import at_risk, standing

G = projections["groups"]
M = projections["members"]
L = projections["loans"]
A = projections["accounts"]
T = projections["transactions"]
MT = projections["meetings"]
P = projections["postings"]
AT = projections["attendance"]
CT, CM = console_totals, console_months
CHART_MONTHS = 24


def _totals_join() -> Any:
    return G.outerjoin(CT, and_(CT.c.kiosk_id == G.c.kiosk_id, CT.c.group_id == G.c.group_id))


def pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def months_back(today: date, n: int) -> list[str]:
    index = today.year * 12 + today.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - n + 1, index + 1)]


def _series(totals: dict[str, int], monthly: dict[str, dict[str, int]], months: list[str]) -> dict[str, Any]:
    """Figures at the end of each month, walking back from today's totals; attendance per month."""
    out: dict[str, Any] = {"months": months, "savings": [], "loans": [], "attendance": []}
    savings, loans = totals.get("savings", 0), totals.get("loans", 0)
    later = {m: v for m, v in monthly.items() if m > months[-1]}
    for v in later.values():  # meetings dated after today (a kiosk clock ahead): not yet in the window
        savings, loans = savings - v["savings"], loans - v["loans"]
    ends: list[tuple[int, int]] = []
    for m in reversed(months):
        ends.append((savings, loans))
        v = monthly.get(m)
        if v:
            savings, loans = savings - v["savings"], loans - v["loans"]
    ends.reverse()
    # A chart that is flat at zero for most of its width says nothing: start at the first month with
    # money (keeping six months at least, so that a young group still shows a trend).
    first = next((i for i, (s, loan) in enumerate(ends) if s or loan), len(months))
    start = max(0, min(first - 1, len(months) - 6))
    out["months"] = months[start:]
    for m, (s, loan) in list(zip(months, ends, strict=True))[start:]:
        out["savings"].append((m, s))
        out["loans"].append((m, loan))
        v = monthly.get(m)
        if v and v["slots"]:
            out["attendance"].append((m, round(100 * v["attended"] / v["slots"])))
    return out


def overview(conn: Connection, p: Principal, today: date, now_ms: int, silent_days: int) -> dict[str, Any]:
    scope = p.groups(G)
    sums = [func.coalesce(func.sum(CT.c[f]), 0).label(f) for f in ROLLUP_FIELDS]
    row = conn.execute(select(func.count().label("groups"), *sums).select_from(_totals_join()).where(scope)).mappings()
    figures = {k: int(v or 0) for k, v in row.one().items()}  # PostgreSQL sums bigints as numeric
    risky = conn.execute(
        select(L.c.kiosk_id, L.c.group_id, func.sum(L.c.principal - L.c.principal_paid))
        .select_from(L.join(G, and_(G.c.kiosk_id == L.c.kiosk_id, G.c.group_id == L.c.group_id)))
        .where(L.c.status == "active", L.c.kind == "loan", at_risk(today), scope)
        .group_by(L.c.kiosk_id, L.c.group_id)
    ).all()
    par_by_group = {(k, g): int(v or 0) for k, g, v in risky}
    figures["par30"] = sum(par_by_group.values())
    figures["par30_pct"] = pct(figures["par30"], figures["loans"])
    figures["women_pct"] = pct(figures["women"], figures["members"])
    figures["attendance_pct"] = pct(figures["attended"], figures["slots"])

    silent_before = silent_cutoff(now_ms, silent_days)
    k = conn.execute(
        select(
            func.count().label("kiosks"),
            func.coalesce(func.sum(case((silent_since(silent_before), 1), else_=0)), 0).label("silent"),
            # What a coordinator must see without opening the kiosks page: paper out, a printer
            # unplugged (receipts wait on the kiosk), events the server's reducer refused.
            func.coalesce(func.sum(case((func.coalesce(kiosks.c.printer_error, "") != "", 1), else_=0)), 0).label(
                "printers_down"
            ),
            func.coalesce(func.sum(kiosks.c.quarantined), 0).label("quarantined"),
        ).where(p.kiosks(), kiosks.c.status != "revoked")
    ).mappings()
    figures |= {name: int(v or 0) for name, v in k.one().items()}
    # A meeting left open for days: its closing count, receipts and procès-verbal never came.
    stale_before = date.fromordinal(today.toordinal() - STALE_MEETING_DAYS).isoformat()
    stale = [
        dict(r)
        for r in conn.execute(
            select(MT.c.kiosk_id, MT.c.group_id, MT.c.number, MT.c.date, G.c.name)
            .select_from(MT.join(G, and_(G.c.kiosk_id == MT.c.kiosk_id, G.c.group_id == MT.c.group_id)))
            .where(MT.c.status == "open", MT.c.date < stale_before, scope)
            .order_by(MT.c.date, G.c.name, MT.c.kiosk_id, MT.c.group_id)
        ).mappings()
    ]
    figures["stale_meetings"] = len(stale)
    # A group that no longer meets while its kiosk syncs as usual: nothing else would flag it until its
    # loans fall late. (A silent kiosk's groups are counted with it, above: their figures stopped.)
    idle_day = date.fromordinal(today.toordinal() - IDLE_GROUP_DAYS)
    idle_before = idle_day.isoformat()
    # A group that never met counts from the day its creation reached us (its kiosk's clock may be wrong).
    created = journal.alias("created")
    idle = [
        dict(r)
        for r in conn.execute(
            select(G.c.kiosk_id, G.c.group_id, G.c.name, G.c.last_meeting_date)
            .select_from(
                G.join(kiosks, kiosks.c.kiosk_id == G.c.kiosk_id).join(
                    created, and_(created.c.kiosk_id == G.c.kiosk_id, created.c.seq == G.c.created_seq)
                )
            )
            .where(
                scope,
                or_(
                    G.c.last_meeting_date < idle_before,
                    and_(G.c.last_meeting_date.is_(None), created.c.received_at < _day_ms(idle_day)),
                ),
                G.c.open_meeting.is_(None),  # one left open is listed as such
                kiosks.c.status == "active",
                not_(silent_since(silent_before)),
            )
            .order_by(G.c.last_meeting_date.nulls_first(), G.c.name, G.c.kiosk_id, G.c.group_id)
        ).mappings()
    ]
    figures["idle_groups"] = len(idle)

    months = months_back(today, CHART_MONTHS)
    monthly = {
        r["month"]: {k: int(v or 0) for k, v in r.items() if k != "month"}
        for r in conn.execute(
            select(CM.c.month, *[func.sum(CM.c[f]).label(f) for f in ("savings", "loans", "attended", "slots")])
            .select_from(CM.join(G, and_(G.c.kiosk_id == CM.c.kiosk_id, G.c.group_id == CM.c.group_id)))
            .where(CM.c.month >= months[0], scope)
            .group_by(CM.c.month)
        ).mappings()
    }
    series = _series(figures, monthly, months)

    attention = []
    if par_by_group:
        # Candidates by amount, with room for the ties that share and name then decide between.
        worst = sorted(par_by_group.items(), key=lambda kv: (-kv[1], kv[0]))[: 4 * ATTENTION]
        rows = group_rows(conn, p, keys=[k for k, _ in worst])
        for r in rows:
            r["par30"] = par_by_group.get((r["kiosk_id"], r["group_id"]), 0)
            r["par30_pct"] = pct(r["par30"], r["loans"])
        attention = sorted(rows, key=attention_order)[:ATTENTION]
    return {
        "figures": figures,
        "series": series,
        "attention": attention,
        "stale": stale[:ATTENTION],
        "idle": idle[:ATTENTION],
    }


ATTENTION = 10
STALE_MEETING_DAYS = 7
IDLE_GROUP_DAYS = 45  # a monthly group that skipped one meeting is not yet idle


def _day_ms(day: date) -> int:
    """The first millisecond of ``day``, UTC (the server's clock, as ``received_at`` counts)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def attention_order(r: dict[str, Any]) -> tuple[Any, ...]:
    """The heaviest arrears first: the amount at risk, then its share of the loans, then the name.

    By share alone, a tiny group with one late loan (100 %) would push out the group with the most money
    at risk; the name (then the ids) makes equal groups come in the same order at every visit."""
    name = r["name"] or ""
    return (-r["par30"], -(r["par30_pct"] or 0), name.casefold(), name, r["kiosk_id"], r["group_id"])


DAY_MS = 86_400_000


def silent_cutoff(now_ms: int, silent_days: int) -> int:
    """The moment before which a kiosk's last push makes it silent (``silent_since``)."""
    return now_ms - silent_days * DAY_MS


def silent_since(before: int) -> Any:
    """SQL: an active kiosk that has not pushed since ``before`` — counted from its enrollment (its key's
    creation) when that is later, so that a kiosk enrolled minutes ago and not yet synced is not silent,
    and a device replaced today is not silent for its predecessor's last push."""
    enrolled = (
        select(func.max(kiosk_keys.c.created_at))
        .where(kiosk_keys.c.kiosk_id == kiosks.c.kiosk_id, kiosk_keys.c.status == "active")
        .scalar_subquery()
    )
    return and_(
        kiosks.c.status == "active",
        func.coalesce(kiosks.c.last_push_at, 0) < before,
        func.coalesce(enrolled, kiosks.c.created_at) < before,
    )


class folded(FunctionElement[str]):
    """``lower(x)`` with accents taken off, the same on SQLite and PostgreSQL: a sort key for names."""

    type = String()
    inherit_cache = True


@compiles(folded, "postgresql")
def _folded_pg(element: folded, compiler: Any, **kw: Any) -> str:
    return f"translate(lower({compiler.process(element.clauses, **kw)}), '{FOLD_FROM}', '{FOLD_TO}')"


@compiles(folded)
def _folded(element: folded, compiler: Any, **kw: Any) -> str:
    return f"muso_fold({compiler.process(element.clauses, **kw)})"


def groups_page(
    conn: Connection, p: Principal, q: str, country: str, page: int, per_page: int, today: date, silent_before: int
) -> tuple[int, list[dict[str, Any]], dict[tuple[str, str], int]]:
    """One page of the groups list: how many match in all, the page's rows, and each row's PAR30."""
    total = count_groups(conn, p, q, country)
    rows = group_rows(
        conn, p, search=q, country=country, offset=(page - 1) * per_page, limit=per_page, silent_before=silent_before
    )
    return total, rows, par_for(conn, [(r["kiosk_id"], r["group_id"]) for r in rows], today)


def group_rows(
    conn: Connection,
    p: Principal,
    *,
    keys: list[tuple[str, str]] | None = None,
    search: str = "",
    country: str = "",
    offset: int = 0,
    limit: int = 50,
    silent_before: int | None = None,
) -> list[dict[str, Any]]:
    """Groups with their headline figures (one page of them); with ``silent_before``, whether their kiosk
    is silent (no push since then), so that a reader knows the figures stop at its last sync."""
    cols = [
        G.c.kiosk_id,
        G.c.group_id,
        G.c.name,
        G.c.country,
        G.c.cooperative,
        G.c.village,
        G.c.meeting_count,
        G.c.last_meeting_date,
        kiosks.c.last_push_at,
        *[func.coalesce(CT.c[f], 0).label(f) for f in ("members", "women", "savings", "loans", "loans_active", "aid")],
    ]
    if silent_before is not None:
        cols.append(func.coalesce(silent_since(silent_before), false()).label("silent"))
    q = (
        select(*cols)
        .select_from(_totals_join().outerjoin(kiosks, kiosks.c.kiosk_id == G.c.kiosk_id))
        .where(p.groups(G), *_filters(search, country))
    )
    if keys is not None:
        q = q.where(tuple_(G.c.kiosk_id, G.c.group_id).in_(keys))
    else:
        q = q.order_by(folded(G.c.name), G.c.name, G.c.kiosk_id, G.c.group_id).offset(offset).limit(limit)
    out = [dict(r) for r in conn.execute(q).mappings()]
    for r in out:
        if "silent" in r:
            r["silent"] = bool(r["silent"])  # SQLite answers 0 or 1
    return out


def silence(conn: Connection, kiosk_id: str, now_ms: int, silent_days: int) -> dict[str, Any] | None:
    """For a group's page: None while its kiosk syncs, else since when its figures have not moved.

    Silent as on the kiosks page (``silent_since``); the figures stop at its last push."""
    row = conn.execute(
        select(kiosks.c.last_push_at).where(
            kiosks.c.kiosk_id == kiosk_id, silent_since(silent_cutoff(now_ms, silent_days))
        )
    ).first()
    if row is None or not row.last_push_at:
        return None
    last = int(row.last_push_at)
    at = datetime.fromtimestamp(last / 1000, UTC).date().isoformat()
    return {"last_push_at": last, "date": at, "days": (now_ms - last) // DAY_MS}


def _filters(search: str, country: str) -> list[Any]:
    out = []
    if search:
        # Folded on both sides, as names are sorted: "elikem" finds "Élikem", "dede" finds "Ɖɛɖɛ". "%" and
        # "_" typed are letters to find, not wildcards.
        text = fold_name(search.strip())
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        kiosk = func.lower(G.c.kiosk_id) == search.strip().lower()  # "k01" is K01: people type ids in any case
        named = [folded(column).like(like, escape="\\") for column in (G.c.name, G.c.village)]
        out.append(or_(*named, kiosk))
    if country:
        out.append(G.c.country == country)
    return out


def countries_seen(conn: Connection, p: Principal) -> list[str]:
    """The countries of the groups a reader may see, for the groups page's filter: a fixed TG and BJ offered
    Benin to a coordinator of Togo (whose choice then found nothing), and no other country the NGO opens."""
    found = conn.scalars(select(G.c.country).where(p.groups(G), G.c.country.is_not(None)).distinct())
    return sorted(c for c in found if c)


def count_groups(conn: Connection, p: Principal, search: str = "", country: str = "") -> int:
    return int(conn.scalar(select(func.count()).select_from(G).where(p.groups(G), *_filters(search, country))) or 0)


def par_for(conn: Connection, keys: list[tuple[str, str]], today: date) -> dict[tuple[str, str], int]:
    if not keys:
        return {}
    rows = conn.execute(
        select(L.c.kiosk_id, L.c.group_id, func.sum(L.c.principal - L.c.principal_paid))
        .where(
            L.c.status == "active",
            L.c.kind == "loan",
            at_risk(today),
            tuple_(L.c.kiosk_id, L.c.group_id).in_(keys),
        )
        .group_by(L.c.kiosk_id, L.c.group_id)
    ).all()
    return {(k, g): int(v or 0) for k, g, v in rows}


def the_group(conn: Connection, p: Principal, kiosk_id: str, group_id: str) -> dict[str, Any]:
    row = (
        conn.execute(select(G).where(G.c.kiosk_id == kiosk_id, G.c.group_id == group_id, p.groups(G)))
        .mappings()
        .first()
    )
    if row is None:  # unknown, or outside the scope: the same answer, so existence does not leak
        raise NotFound("group_unknown", "no such group")
    return dict(row)


def group(conn: Connection, p: Principal, kiosk_id: str, group_id: str, today: date) -> dict[str, Any]:
    g = the_group(conn, p, kiosk_id, group_id)
    key = (A.c.kiosk_id == kiosk_id) & (A.c.group_id == group_id)
    accounts = dict(
        conn.execute(
            select(A.c.account, A.c.balance).where(
                key, or_(A.c.account.in_([f"{f.value}:cash" for f in Fund]), A.c.account.like("bleue:lender:%"))
            )
        ).all()
    )
    funds = {f.value: accounts.get(f"{f.value}:cash", 0) for f in Fund}
    owed_outside = -sum(v for k, v in accounts.items() if k.startswith("bleue:lender:"))
    savings = {
        name.rsplit(":", 1)[1]: -bal
        for name, bal in conn.execute(
            select(A.c.account, A.c.balance).where(key, A.c.account >= "verte:savings:", A.c.account < "verte:savings;")
        ).all()
    }
    loans = [
        dict(r)
        for r in conn.execute(
            select(L).where(L.c.status == "active", L.c.kiosk_id == kiosk_id, L.c.group_id == group_id)
        ).mappings()
    ]
    members = [
        dict(r)
        for r in conn.execute(
            select(M).where(M.c.kiosk_id == kiosk_id, M.c.group_id == group_id).order_by(M.c.number)
        ).mappings()
    ]
    names = {m["member_id"]: f"{m['number']}. {m['name']}" for m in members}
    outstanding: dict[str, int] = {}
    for loan in loans:
        loan |= standing(loan, today)
        loan["member"] = names.get(loan["member_id"], "?")
        # Every loan the member owes, aid loans too, as the kiosk's books and the member's own page count it.
        outstanding[loan["member_id"]] = outstanding.get(loan["member_id"], 0) + loan["outstanding"]
    for m in members:
        m["savings"] = savings.get(m["member_id"], 0)
        m["loans_owed"] = outstanding.get(m["member_id"], 0)
    loans.sort(key=lambda r: (-r["days_late"], r["member"]))
    totals = conn.execute(select(CT).where(CT.c.kiosk_id == kiosk_id, CT.c.group_id == group_id)).mappings().first()
    figures = {f: int(totals[f]) if totals else 0 for f in ROLLUP_FIELDS}
    member_loans = [r for r in loans if r["kind"] == "loan"]
    figures["par30"] = sum(r["outstanding"] for r in member_loans if r["days_late"] > 30)
    figures["par30_pct"] = pct(figures["par30"], figures["loans"])
    figures["women_pct"] = pct(figures["women"], figures["members"])
    figures["attendance_pct"] = pct(figures["attended"], figures["slots"])
    months = months_back(today, CHART_MONTHS)
    monthly = {
        r["month"]: dict(r)
        for r in conn.execute(
            select(CM).where(CM.c.kiosk_id == kiosk_id, CM.c.group_id == group_id, CM.c.month >= months[0])
        ).mappings()
    }
    return {
        "group": g,
        "funds": funds,
        "owed_outside": owed_outside,
        "figures": figures,
        "members": members,
        "loans": loans,
        "series": _series(figures, monthly, months),
        "names": names,
    }


def meetings(conn: Connection, kiosk_id: str, group_id: str, limit: int = 20, offset: int = 0) -> list[dict[str, Any]]:
    """The group's meetings, newest first, with attendance and cash discrepancies (opening and closing)."""
    rows = [
        dict(r)
        for r in conn.execute(
            select(MT)
            .where(MT.c.kiosk_id == kiosk_id, MT.c.group_id == group_id)
            .order_by(MT.c.date.desc(), MT.c.number.desc())
            .offset(offset)
            .limit(limit)
        ).mappings()
    ]
    ids = [r["meeting_id"] for r in rows]
    counts: dict[str, dict[str, int]] = {}
    if ids:
        for mid, status, n in conn.execute(
            select(AT.c.meeting_id, AT.c.status, func.count())
            .where(AT.c.kiosk_id == kiosk_id, AT.c.meeting_id.in_(ids))
            .group_by(AT.c.meeting_id, AT.c.status)
        ).all():
            counts.setdefault(mid, {})[status] = int(n)
    for r in rows:
        c = counts.get(r["meeting_id"], {})
        r["attendance"] = c
        r["attended"] = c.get("present", 0) + c.get("late", 0)
        r["slots"] = sum(c.values())
        r["discrepancy"] = _discrepancies(r)
    return rows


def _discrepancies(row: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Counted minus expected cash per fund, at opening and at closing, apart: ``{"open": {fund: F},
    "close": {fund: F}}`` (a fund whose count matched is left out).

    Never summed: 1 000 F missing at opening and 1 000 F too many at closing are two faults to look into
    (cash taken out between meetings, then put back?), not a meeting whose box was right."""
    out: dict[str, dict[str, int]] = {"open": {}, "close": {}}
    for when in ("open", "close"):
        counts = row[f"{when}_count"]
        expected = row[f"{when}_expected"]
        if not counts or not expected:
            continue
        counts, expected = json.loads(counts), json.loads(expected)
        for fund, exp in expected.items():
            diff = count_total(counts.get(fund, {})) - exp
            if diff:
                out[when][fund] = diff
    return out


def corrections(conn: Connection, kiosk_id: str, group_id: str, limit: int = 50) -> list[dict[str, Any]]:
    orig = T.alias("orig")
    q = (
        select(
            T.c.seq,
            T.c.amount,
            T.c.fund,
            T.c.reason,
            T.c.member_id,
            orig.c.kind.label("of_kind"),
            orig.c.seq.label("of_seq"),
            MT.c.date,
            MT.c.number.label("meeting_number"),
        )
        .select_from(
            T.outerjoin(orig, and_(orig.c.kiosk_id == T.c.kiosk_id, orig.c.txn_id == T.c.reverses)).outerjoin(
                MT, and_(MT.c.kiosk_id == T.c.kiosk_id, MT.c.meeting_id == T.c.meeting_id)
            )
        )
        .where(T.c.kiosk_id == kiosk_id, T.c.group_id == group_id, T.c.kind == "reversal")
        .order_by(T.c.seq.desc())
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(q).mappings()]
