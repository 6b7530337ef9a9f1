"""A group's members on the console: a member's page (savings, loans, movements, the lines that moved
their savings) and the log of offices, names and PINs. Read from the projections, but for that log,
which leaves no figure in them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, union_all

from kiosk.domain.receipts import FLOW, member_share, share_savings

from ..authz import Principal
from ..db import journal
from ..errors import NotFound
from .loans import standing
from .queries import MT, A, L, M, P, T, the_group

# What the group handed the member ("Vous avez reçu" on their receipt); everything else they paid in ("Vous
# avez versé"): the kiosk's own words for it (kiosk.domain.receipts.FLOW).
RECEIVED = frozenset(kind for kind, way in FLOW.items() if way == "out")


def flow(kind: str, detail: Any) -> str:
    """'in' (paid by the member) or 'out' (received): a correction goes the way of the movement it cancels."""
    if kind == "reversal":
        kind = (json.loads(detail) if isinstance(detail, str) else detail or {}).get("kind", kind)
    return FLOW.get(kind, "in")


def member(
    conn: Connection, p: Principal, kiosk_id: str, group_id: str, member_id: str, today: date, limit: int = 200
) -> dict[str, Any]:
    g = the_group(conn, p, kiosk_id, group_id)
    m = (
        conn.execute(select(M).where(M.c.kiosk_id == kiosk_id, M.c.member_id == member_id, M.c.group_id == group_id))
        .mappings()
        .first()
    )
    if m is None:
        raise NotFound("member_unknown", "no such member")
    savings = conn.scalar(
        select(A.c.balance).where(
            A.c.kiosk_id == kiosk_id, A.c.group_id == group_id, A.c.account == f"verte:savings:{member_id}"
        )
    )
    loans = [
        dict(r) | standing(dict(r), today)
        for r in conn.execute(
            select(L).where(L.c.kiosk_id == kiosk_id, L.c.member_id == member_id).order_by(L.c.start.desc())
        ).mappings()
    ]
    moves = [
        dict(r) | {"flow": flow(r["kind"], r["detail"])}
        for r in conn.execute(
            select(T, MT.c.date, MT.c.number.label("meeting_number"))
            .select_from(T.outerjoin(MT, and_(MT.c.kiosk_id == T.c.kiosk_id, MT.c.meeting_id == T.c.meeting_id)))
            .where(T.c.kiosk_id == kiosk_id, T.c.member_id == member_id)
            .order_by(T.c.seq.desc())
            .limit(limit + 1)  # one more than shown: whether older ones were left out
        ).mappings()
    ]
    current = -(savings or 0)
    lines, older_lines = savings_lines(conn, kiosk_id, group_id, member_id, current, limit)
    return {
        "group": g,
        "member": dict(m),
        "savings": current,
        "loans": loans,
        "movements": moves[:limit],
        "savings_lines": lines,
        # After some four years of weekly meetings the lists stop short of the member's first movements:
        # the page says so, or the oldest line shown passes for the first.
        "limit": limit,
        "older_movements": len(moves) > limit,
        "older_savings_lines": older_lines,
    }


def savings_lines(
    conn: Connection, kiosk_id: str, group_id: str, member_id: str, current: int, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    """What moved a member's savings, newest first, each with the savings it left: the relevé's first
    section, to compare line by line. The member's own movements and the group's share-outs (a share-out
    is the group's transaction, and moves every member's savings): the transactions through their
    indexes, then their postings by key. With them, whether older ones than the ``limit`` newest were left out."""
    own = select(T.c.txn_id).where(T.c.kiosk_id == kiosk_id, T.c.member_id == member_id)
    shared = select(T.c.txn_id).where(T.c.kiosk_id == kiosk_id, T.c.group_id == group_id, T.c.kind == "share_out")
    rows = conn.execute(
        select(T.c.seq, T.c.kind, T.c.fund, T.c.detail, MT.c.date, func.sum(P.c.amount).label("amount"))
        .select_from(
            P.join(T, and_(T.c.kiosk_id == P.c.kiosk_id, T.c.txn_id == P.c.txn_id)).outerjoin(
                MT, and_(MT.c.kiosk_id == T.c.kiosk_id, MT.c.meeting_id == T.c.meeting_id)
            )
        )
        .where(
            P.c.kiosk_id == kiosk_id,
            P.c.account == f"verte:savings:{member_id}",
            # One list, not two INs joined by OR: PostgreSQL then reads the postings by key, not the kiosk's all.
            P.c.txn_id.in_(union_all(own, shared)),
        )
        .group_by(T.c.seq, T.c.kind, T.c.fund, T.c.detail, MT.c.date)
        .order_by(T.c.seq.desc())
        .limit(limit + 1)
    ).all()
    out, after = [], current
    for r in (row._mapping for row in rows[:limit]):
        if r["kind"] == "share_out":  # the relevé's two lines: the gain (or loss), then the payout
            parts = member_share(r["fund"], r["detail"], member_id)
            moves = [(m["kind"], share_savings(m)) for m in parts]
        else:
            moves = [(r["kind"], -int(r["amount"]))]  # savings are owed to the member: a credit adds to them
        for kind, change in reversed(moves):
            out.append({"seq": r["seq"], "kind": kind, "date": r["date"], "change": change, "after": after})
            after -= change
    return out, len(rows) > limit


def office_log(conn: Connection, kiosk_id: str, group_id: str, limit: int = 30) -> list[dict[str, Any]]:
    """Offices given or taken, members renamed, officers' PINs changed or reset, newest first.

    Read from the journal, where these leave no figure: a coordinator who sees a PIN reset followed by
    loans approved with it, or a member renamed before a withdrawal, knows where to look.
    """
    body = journal.c.body
    # Bodies are canonical JSON (sorted keys, no spaces): a key or the group reads exactly so. Filtered
    # here, not after the LIMIT: thirty phone numbers corrected must not push a PIN reset off the page.
    watched = or_(
        journal.c.type == "pin_changed",
        and_(
            journal.c.type == "member_updated",
            or_(body.contains('"name":', autoescape=True), body.contains('"role":', autoescape=True)),
        ),
    )
    q = (
        select(journal.c.type, body, journal.c.est_time, journal.c.device_time)
        .where(
            journal.c.kiosk_id == kiosk_id,
            journal.c.status == "applied",
            watched,
            body.contains(f'"group":{json.dumps(group_id)}', autoescape=True),
        )
        .order_by(journal.c.seq.desc())
        .limit(limit)
    )
    out = []
    for r in conn.execute(q).mappings():
        b = json.loads(r["body"])
        ms = r["est_time"] or r["device_time"]
        when = datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()
        row = {"date": when, "member": b["member"], "approvers": b.get("approvers", [])}
        if r["type"] == "pin_changed":
            out.append(row | {"what": "pin_reset" if b.get("reset") else "pin_changed", "value": ""})
            continue
        # One row for each thing changed: a rename saved with a change of office is a rename too.
        if "role" in b:
            out.append(row | {"what": "office", "value": str(b["role"])})
        if "name" in b:
            out.append(row | {"what": "renamed", "value": str(b["name"])})
    return out
