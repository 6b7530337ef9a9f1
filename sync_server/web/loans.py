"""Loan standing for the console: days late and portfolio at risk, in Python and in SQL.

Portfolio at risk (PAR > 30 days) is the outstanding principal of loans whose
oldest unpaid installment fell due more than 30 days ago. The overview needs
it over thousands of groups at once, so it is computed in SQL from the
``p_loans`` row alone: installments are monthly and equal (rounded down to
the group's unit, the last one takes the rest — ``kiosk.domain.loans.schedule``),
so the first unpaid installment is ``principal_paid // each + 1`` and falls due
that many months after the start. ``days_late`` is the same rule in Python,
on the domain's own schedule; a test checks that both agree.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, case, cast, func, or_

from kiosk.domain.loans import due_at, schedule, standing_of, terms_of

from ..db import projections

loans_t = projections["loans"]
AT_RISK_DAYS = 30


def first_unpaid_due(row: dict[str, Any]) -> date | None:
    """Due date of the oldest installment whose principal is not fully repaid (None: principal repaid)."""
    covered = row["principal_paid"]
    for inst in schedule(terms_of(row)):
        if covered < inst.principal:
            return inst.due
        covered -= inst.principal
    return None


def days_late(row: dict[str, Any], today: date) -> int:
    due = first_unpaid_due(row)
    return max(0, (today - due).days) if due else 0


def standing(row: dict[str, Any], today: date) -> dict[str, Any]:
    """What a loan row means today: outstanding, arrears (principal + PAF overdue), days late, next due.

    A loan no longer running (repaid, or cancelled by a reversal) owes nothing and is late for nothing."""
    if row.get("status", "active") != "active":
        return {"outstanding": 0, "arrears": 0, "days_late": 0, "due_date": terms_of(row).due_date.isoformat(),
                "payoff": 0}  # fmt: skip
    due = due_at(terms_of(row), standing_of(row), today)
    first = first_unpaid_due(row)
    return {
        "outstanding": row["principal"] - row["principal_paid"],
        "arrears": due.arrears,
        "days_late": max(0, (today - first).days) if first else 0,
        "due_date": terms_of(row).due_date.isoformat(),
        "payoff": due.payoff,
    }


def _int(expr: Any) -> Any:
    return cast(expr, Integer)


def at_risk(today: date, days: int = AT_RISK_DAYS, t: Any = loans_t) -> ColumnElement[bool]:
    """SQL: the loan's oldest unpaid installment fell due more than ``days`` days before ``today``.

    Month arithmetic without dialect functions: the due date is (start month +
    k) with the start's day clamped to the month's end, and comparing
    (month index, start day) with the cut-off's is the same as comparing the
    clamped dates, since the cut-off's day is never past its month's end.
    """
    cutoff = today - timedelta(days=days)
    n = t.c.term_months
    each = t.c.principal // n // t.c.rounding_unit * t.c.rounding_unit
    paid_parts = t.c.principal_paid // func.nullif(each, 0)
    k1 = case((or_(each == 0, paid_parts >= n - 1), n), else_=paid_parts + 1)
    start_index = _int(func.substr(t.c.start, 1, 4)) * 12 + _int(func.substr(t.c.start, 6, 2)) - 1
    due_index = start_index + k1
    start_day = _int(func.substr(t.c.start, 9, 2))
    cut_index = cutoff.year * 12 + cutoff.month - 1
    late = or_(due_index < cut_index, and_(due_index == cut_index, start_day < cutoff.day))
    return and_(t.c.principal_paid < t.c.principal, late)  # principal repaid: nothing of it is at risk
