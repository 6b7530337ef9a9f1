"""Calendar arithmetic for loan terms: whole months, no clock reads."""

from __future__ import annotations

import calendar
from datetime import date

from .errors import DomainError


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def started_months(start: date, end: date) -> int:
    """Months begun between ``start`` and ``end``: any part of a month counts as one.

    This is how PAF on a declining balance is charged in the field: a member who
    repays two weeks after borrowing pays one month, not half of one.
    """
    if end <= start:
        return 0
    months = (end.year - start.year) * 12 + (end.month - start.month)
    while add_months(start, months) >= end and months > 0:
        months -= 1
    return months + 1


def parse_date(value: object, field: str = "date") -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise DomainError("date_invalid", field, value=repr(value))
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DomainError("date_invalid", field, value=value) from None
