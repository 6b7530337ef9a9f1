"""Meetings (séances): their life cycle, attendance and the cash counted in each box."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from .dates import add_months
from .errors import DomainError, Problem
from .funds import Fund, check_count, count_total
from .rules import Frequency, Rules


class MeetingStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Attendance(StrEnum):
    PRESENT = "present"
    LATE = "late"
    ABSENT = "absent"
    EXCUSED = "excused"
    REPRESENTED = "represented"


# Who is expected to pay the standard contributions at a meeting: people who
# came, and those who sent someone with their money.
PAYING = frozenset({Attendance.PRESENT, Attendance.LATE, Attendance.REPRESENTED})


def parse_attendance(value: object, field: str = "status") -> Attendance:
    try:
        return Attendance(str(value))
    except ValueError:
        raise DomainError("attendance_unknown", field, value=value) from None


# Movement kinds whose money passes between the box and the member's own hands (or those of whoever
# they sent): the member, or their representative, is at the meeting. Left out, because they need
# nobody there: "aid" (the caisse rouge's solidarity goes to whom illness or a death keeps away, most
# often excused: the officers bring it, grant or aid loan alike), "reversal" (correcting a mistake,
# often an earlier meeting's, is the officers' doing), "share_out" (it credits every member's share,
# whether they came or not), and the movements of no member (expense, outside money, discrepancy).
IN_PERSON = frozenset({"contribution", "fine", "entry_fee", "loan", "repayment", "withdrawal", "exit"})


def attendance_problem(status: Attendance, name: str, movements: int, field: str = "status") -> Problem | None:
    """Why a member cannot be marked ``status`` when ``movements`` of theirs (of the IN_PERSON kinds,
    not reversed) stand at this meeting.

    Money a member paid or received in person (or through whoever represents them) says they were
    there: marked absent or excused afterwards, their payment would sit with a member the screens and
    the next meeting's fines count as away. The movements are corrected first (reversed), not hidden.
    """
    if status in PAYING or not movements:
        return None
    return Problem("absent_with_movements", field, {"name": name, "count": movements})


def away_problem(status: Attendance, name: str, field: str = "member") -> Problem | None:
    """Why no money of the IN_PERSON kinds moves for a member marked ``status`` at this meeting.

    Marked absent or excused, nobody came for them: money recorded for them anyway would sit with a
    member the screens count as away, and the next meeting would fine the absence of who paid. Whoever
    brought or takes the money for them makes them represented.
    """
    if status is Attendance.ABSENT:
        return Problem("member_absent", field, {"name": name})
    if status is Attendance.EXCUSED:
        return Problem("member_excused", field, {"name": name})
    return None


def suggested_fine(rules: Rules, status: Attendance) -> tuple[str, int] | None:
    """The fine the règlement suggests for an attendance status; the treasurer confirms it."""
    name = {Attendance.ABSENT: rules.absence_fine, Attendance.LATE: rules.late_fine}.get(status)
    if not name or name not in rules.fines:
        return None
    return name, rules.fines[name]


def next_meeting(rules: Rules, day: date) -> date:
    """When a group that meets on ``day`` meets next, if it keeps the rhythm of its règlement.

    Loans fall due by the calendar month, meetings come by the week: what falls due
    before the next meeting is asked at this one, the last a member can pay it at on time.
    """
    if rules.frequency is Frequency.MONTHLY:
        return add_months(day, 1)
    return day + timedelta(days=14 if rules.frequency is Frequency.BIWEEKLY else 7)


# One step of the guided flow; recorded so that a meeting cut by a power
# failure resumes where it was. Money can move in any step while open.
STEPS = ("open", "attendance", "contributions", "repayments", "loans", "aid", "other", "close", "receipts")


@dataclass(frozen=True)
class CashCheck:
    """Counted vs expected cash for one box at opening or closing."""

    fund: Fund
    expected: int
    counted: int

    @property
    def discrepancy(self) -> int:
        """Positive: more cash than the books say; negative: cash is missing."""
        return self.counted - self.expected


def check_counts(counts: Mapping[str, Mapping[str, object]], field: str = "count") -> dict[str, dict[str, int]]:
    """A billetage for each of the three boxes (a missing box counts as empty)."""
    if not isinstance(counts, Mapping):
        raise DomainError("cash_count_invalid", field)
    for key in counts:
        if key not in {f.value for f in Fund}:
            raise DomainError("fund_unknown", f"{field}.{key}", value=key)
    return {f.value: check_count(counts.get(f.value) or {}, f"{field}.{f.value}") for f in Fund}


def cash_checks(counts: Mapping[str, Mapping[str, int]], expected: Mapping[str, int]) -> list[CashCheck]:
    return [CashCheck(f, expected.get(f.value, 0), count_total(counts.get(f.value, {}))) for f in Fund]
