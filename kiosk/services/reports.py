"""Read models for people: balances per box and member, loans with arrears, meeting totals."""

from __future__ import annotations

from datetime import date
from typing import Any

from kiosk.domain.funds import Fund
from kiosk.domain.loans import due_at, standing_of, terms_of
from kiosk.domain.meetings import next_meeting

from .context import Kiosk


def as_of(k: Kiosk, group_id: str) -> date:
    """Arrears are counted at the last meeting: the kiosk's own clock may be wrong."""
    last = k.group(group_id)["last_meeting_date"]
    return date.fromisoformat(last) if last else date.today()


def loans(k: Kiosk, group_id: str, today: date | None = None) -> list[dict[str, Any]]:
    today = today or as_of(k, group_id)
    then = next_meeting(k.rules(group_id), today)  # "due now" as the repayments screen asks it
    out = []
    for row in k.store.query(
        "SELECT l.*, m.number, m.name FROM p_loans l JOIN p_members m USING (member_id) "
        "WHERE l.group_id = ? AND l.status = 'active' ORDER BY m.number, l.start",
        (group_id,),
    ):
        terms = terms_of(row)
        due = due_at(terms, standing_of(row), today, then)
        out.append(
            {
                "loan_id": row["loan_id"],
                "member_id": row["member_id"],
                "member_number": row["number"],
                "member": row["name"],
                "fund": row["fund"],
                "kind": row["kind"],
                "principal": row["principal"],
                "start": row["start"],
                "due_date": terms.due_date.isoformat(),
                "outstanding": due.principal_outstanding,
                "due_now": due.now,
                "payoff": due.payoff,
                "arrears": due.arrears,
                "penalty": due.penalty,
            }
        )
    return out


def balances(k: Kiosk, group_id: str) -> dict[str, Any]:
    group = k.group(group_id)
    today = as_of(k, group_id)
    loan_rows = loans(k, group_id, today)
    by_member: dict[str, dict[str, int]] = {}
    for loan in loan_rows:
        agg = by_member.setdefault(loan["member_id"], {"outstanding": 0, "arrears": 0})
        agg["outstanding"] += loan["outstanding"]
        agg["arrears"] += loan["arrears"]
    members = []
    for m in k.store.query("SELECT * FROM p_members WHERE group_id = ? ORDER BY number", (group_id,)):
        agg = by_member.get(m["member_id"], {"outstanding": 0, "arrears": 0})
        members.append(
            {
                "number": m["number"],
                "name": m["name"],
                "active": bool(m["active"]),
                "savings": k.savings(group_id, m["member_id"]),
                "loan_outstanding": agg["outstanding"],
                "arrears": agg["arrears"],
                "aid_received": m["aid_received"],
            }
        )
    return {
        "group": group["name"],
        "as_of": today.isoformat(),
        "meetings": group["meeting_count"],
        "rules_version": group["rules_version"],
        "funds": {f.value: k.cash(group_id, f.value) for f in Fund},
        "total_savings": sum(m["savings"] for m in members),
        "members": members,
        "loans": loan_rows,
    }


def meeting_summary(k: Kiosk, meeting_id: str) -> dict[str, Any]:
    """The procès-verbal's figures."""
    meeting = k.meeting(meeting_id)
    attendance: dict[str, int] = {}
    for row in k.store.query(
        "SELECT status, COUNT(*) AS n FROM p_attendance WHERE meeting_id = ? GROUP BY status", (meeting_id,)
    ):
        attendance[row["status"]] = row["n"]
    totals = k.store.query(
        "SELECT fund, kind, COUNT(*) AS n, SUM(amount) AS total FROM p_transactions "
        "WHERE meeting_id = ? GROUP BY fund, kind ORDER BY fund, kind",
        (meeting_id,),
    )
    return {"meeting": meeting, "attendance": attendance, "totals": totals}
