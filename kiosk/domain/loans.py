"""Loan arithmetic: PAF by the three field methods, schedules, what is due, and arrears.

All amounts are rounded half up to the group's rounding unit (default 5 F) at
one explicit place each, so a printed schedule and the kiosk never disagree.
PAF and penalties are booked when paid (cash basis); the loan remembers what
was charged so far and until when, which keeps every step O(1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .dates import add_months, started_months
from .errors import DomainError
from .money import round_to_unit
from .rules import PafMethod, Rules

BP = 10_000


@dataclass(frozen=True)
class Terms:
    principal: int
    method: PafMethod
    rate_bp: int
    term_months: int
    rounding_unit: int
    penalty_bp: int
    start: date

    @classmethod
    def from_rules(cls, rules: Rules, principal: int, term_months: int, start: date) -> Terms:
        return cls(
            principal,
            rules.paf_method,
            rules.paf_rate_bp,
            term_months,
            rules.rounding_unit,
            rules.late_penalty_bp,
            start,
        )

    @classmethod
    def interest_free(cls, principal: int, term_months: int, start: date, unit: int) -> Terms:
        return cls(principal, PafMethod.FLAT, 0, term_months, unit, 0, start)

    def round(self, numerator: int, denominator: int = BP) -> int:
        return round_to_unit(numerator, denominator, self.rounding_unit)

    def month_of(self, day: date | None) -> int:
        """Which month of the loan ``day`` falls in (0 before it starts, or for no day), counted on the
        loan's own calendar: from a 31 January start, the second month ends on 31 March, not on the
        28th that 28 February + one month gives."""
        return started_months(self.start, day) if day else 0

    @property
    def due_date(self) -> date:
        return add_months(self.start, self.term_months)

    def fixed_paf(self) -> int:
        """PAF fixed at disbursement (flat, one-time); declining PAF is charged as time passes."""
        if self.method is PafMethod.FLAT:
            return self.round(self.principal * self.rate_bp * self.term_months)
        if self.method is PafMethod.ONE_TIME:
            return self.round(self.principal * self.rate_bp)
        return 0


@dataclass(frozen=True)
class Installment:
    number: int
    due: date
    principal: int
    paf: int  # for declining loans, the PAF if every earlier installment is paid on time

    @property
    def total(self) -> int:
        return self.principal + self.paf


def _spread(total: int, parts: int, unit: int) -> list[int]:
    """Equal parts rounded down to ``unit``; the last part takes the remainder."""
    each = (total // parts) // unit * unit
    return [each] * (parts - 1) + [total - each * (parts - 1)]


def schedule(terms: Terms) -> list[Installment]:
    n = terms.term_months
    principals = _spread(terms.principal, n, terms.rounding_unit)
    if terms.method is PafMethod.FLAT:
        pafs = _spread(terms.fixed_paf(), n, terms.rounding_unit)
    elif terms.method is PafMethod.ONE_TIME:
        pafs = [terms.fixed_paf()] + [0] * (n - 1)
    else:
        outstanding, pafs = terms.principal, []
        for part in principals:
            pafs.append(terms.round(outstanding * terms.rate_bp))
            outstanding -= part
    return [Installment(i + 1, add_months(terms.start, i + 1), principals[i], pafs[i]) for i in range(n)]


@dataclass(frozen=True)
class Standing:
    """What has happened to a loan so far (a row of the ``loans`` projection)."""

    principal_paid: int = 0
    paf_charged: int = 0
    paf_paid: int = 0
    penalty_charged: int = 0
    penalty_paid: int = 0
    paf_until: date | None = None  # declining PAF charged up to this date
    penalty_until: date | None = None


@dataclass(frozen=True)
class Due:
    """What a member owes at a meeting, and what closing the loan would take."""

    penalty: int  # unpaid penalties, including those accruing today
    paf: int  # PAF owed now (all of it for flat/one-time when paying off)
    principal_now: int  # principal of installments due by today, unpaid
    principal_outstanding: int
    arrears: int  # installments due *before* today and unpaid (principal + PAF)
    # What a repayment today must record as newly charged, and until when.
    new_paf: int
    new_penalty: int
    paf_until: date | None
    penalty_until: date | None
    paf_now: int  # PAF due by today's schedule (flat/one-time) or accrued (declining)

    @property
    def now(self) -> int:
        """The amount to ask for at this meeting (installments due + arrears + penalty)."""
        return self.penalty + self.paf_now + self.principal_now

    @property
    def payoff(self) -> int:
        """Everything, to close the loan today (early repayment)."""
        return self.penalty + self.paf + self.principal_outstanding


def due_at(terms: Terms, standing: Standing, today: date, next_meeting: date | None = None) -> Due:
    """What the loan owes at a meeting held ``today``.

    ``next_meeting`` (kiosk.domain.meetings.next_meeting): installments falling due before
    it are asked today. A group meeting weekly on Mondays has no meeting on the 5th of the
    month a loan falls due: asked only once late, the member who pays every franc asked
    would pay a penalty, and declining PAF would charge a month more on the whole balance.
    Arrears and penalties are counted at ``today`` all the same.
    """
    plan = schedule(terms)
    outstanding = terms.principal - standing.principal_paid
    ask_before = next_meeting if next_meeting is not None and next_meeting > today else today + timedelta(days=1)
    scheduled_principal = sum(i.principal for i in plan if i.due < ask_before)
    principal_now = max(0, min(outstanding, scheduled_principal - standing.principal_paid))

    new_paf, paf_until = 0, standing.paf_until
    if terms.method is PafMethod.DECLINING:
        # Months are counted from the start, not from the last charge: from 28 Feb a month runs to
        # 28 Mar, from a 31 Jan start it runs to 31 Mar, when the installment falls due.
        charged = terms.month_of(standing.paf_until)
        months = terms.month_of(today) - charged
        if months > 0 and outstanding:
            new_paf = terms.round(outstanding * terms.rate_bp * months)
            paf_until = add_months(terms.start, charged + months)
        paf_charged = standing.paf_charged + new_paf
        paf_total_owed = paf_charged - standing.paf_paid
        paf_now = paf_total_owed
        # A month's PAF is charged when the month starts but falls due when it ends: the month
        # still running is owed, not late (else a loan is "in arrears" a week after it is granted).
        # Charged PAF is paid before principal (split_payment), so that month's PAF was charged
        # on today's outstanding.
        # Its end on the loan's own calendar: journals of earlier versions hold ends drifted to the 28th.
        month_end = add_months(terms.start, terms.month_of(paf_until)) if paf_until else None
        running = terms.round(outstanding * terms.rate_bp) if month_end and month_end >= today else 0
        overdue_paf_scheduled = max(0, paf_charged - running)
    else:
        fixed = terms.fixed_paf()
        paf_charged = max(standing.paf_charged, fixed)
        new_paf = paf_charged - standing.paf_charged
        paf_total_owed = paf_charged - standing.paf_paid
        paf_sched_now = sum(i.paf for i in plan if i.due < ask_before)
        paf_now = max(0, min(paf_total_owed, paf_sched_now - standing.paf_paid))
        overdue_paf_scheduled = sum(i.paf for i in plan if i.due < today)

    overdue = [i for i in plan if i.due < today]
    overdue_principal = sum(i.principal for i in overdue)
    paf_arrears = max(0, min(paf_total_owed, overdue_paf_scheduled - standing.paf_paid))
    arrears = max(0, overdue_principal - standing.principal_paid) + paf_arrears
    new_penalty, penalty_until = 0, standing.penalty_until
    if arrears and terms.penalty_bp:
        # Each late installment for its own months late, on the loan's own calendar (as declining PAF:
        # counted on from a 28 February due date, a month began on 28 March, three days before the
        # installment's own). All the arrears for as long as the oldest had been late charged a member
        # who paid nothing more than one who paid each month's penalty as it came, for the same lateness.
        now, floor = terms.month_of(today), terms.month_of(standing.penalty_until)
        if terms.method is PafMethod.DECLINING:
            # The months charged and ended, newest first, each at what it charged on what is owed now
            # (the schedule's figures assume every earlier installment paid on time; a late loan's are more).
            ended = terms.month_of(paf_until) - (1 if running else 0)
            # All the principal paid, a month charges nothing now: what was charged, a month on average.
            monthly = terms.round(outstanding * terms.rate_bp) or -(-paf_charged // max(1, terms.month_of(paf_until)))
            paf_dues = [(add_months(terms.start, m), monthly) for m in range(ended, 0, -1)]
        else:
            paf_dues = [(inst.due, inst.paf) for inst in reversed(overdue)]
        late_months = sum(
            part * (now - since)
            for due, part in _late_parts(overdue, standing.principal_paid, paf_dues, paf_arrears)
            if now > (since := max(terms.month_of(due), floor))
        )
        if late_months:
            new_penalty = terms.round(late_months * terms.penalty_bp)
            penalty_until = add_months(terms.start, now)
    penalty = standing.penalty_charged + new_penalty - standing.penalty_paid
    return Due(
        penalty=penalty,
        paf=paf_total_owed,
        principal_now=principal_now,
        principal_outstanding=outstanding,
        arrears=arrears,
        new_paf=new_paf,
        new_penalty=new_penalty,
        paf_until=paf_until,
        penalty_until=penalty_until,
        paf_now=paf_now,
    )


def _late_parts(
    overdue: list[Installment], principal_paid: int, paf_dues: list[tuple[date, int]], paf_arrears: int
) -> list[tuple[date, int]]:
    """What is unpaid of what fell due, with the date it fell due; the parts add up to the arrears.

    Payments cover the oldest first: the principal unpaid is the newest installments', and the PAF
    unpaid the newest of ``paf_dues`` (newest first); what is left over, the oldest's. Late PAF alone is
    late all the same."""
    parts = []
    covered = principal_paid
    for inst in overdue:
        paid = min(covered, inst.principal)
        covered -= paid
        if inst.principal > paid:
            parts.append((inst.due, inst.principal - paid))
    owed = paf_arrears
    for due, amount in paf_dues:
        share = min(owed, amount)
        if share:
            parts.append((due, share))
            owed -= share
    if owed and (paf_dues or overdue):
        parts.append((paf_dues[-1][0] if paf_dues else overdue[0].due, owed))
    return parts


@dataclass(frozen=True)
class Split:
    penalty: int
    paf: int
    principal: int

    @property
    def total(self) -> int:
        return self.penalty + self.paf + self.principal


def split_payment(due: Due, amount: int) -> Split:
    """Apply a payment: penalty, then what is due today (PAF, principal), then ahead.

    Paying what is due today always clears the arrears. Anything more goes to the
    principal first (it shortens the loan), then to PAF not yet due. Paying more
    than the whole loan is refused rather than silently kept.
    """
    if amount <= 0:
        raise DomainError("amount_not_positive", "amount", value=amount)
    if amount > due.payoff:
        raise DomainError("repayment_exceeds_balance", "amount", amount=amount, payoff=due.payoff)
    rest = amount
    penalty = min(rest, due.penalty)
    rest -= penalty
    paf = min(rest, due.paf_now)
    rest -= paf
    principal = min(rest, due.principal_outstanding)
    rest -= principal
    paf += rest  # only PAF not yet due is left; rest <= due.paf - due.paf_now
    return Split(penalty, paf, principal)


def max_loan(rules: Rules, savings_balance: int) -> int | None:
    """The ceiling the règlement sets for one member, or None when there is none."""
    limits = []
    if rules.loan_savings_multiple:
        limits.append(rules.loan_savings_multiple * savings_balance)
    if rules.loan_cap:
        limits.append(rules.loan_cap)
    return min(limits) if limits else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def terms_of(row: dict) -> Terms:  # type: ignore[type-arg]
    """Terms of a loan from its projection row."""
    return Terms(
        row["principal"],
        PafMethod(row["method"]),
        row["rate_bp"],
        row["term_months"],
        row["rounding_unit"],
        row["penalty_bp"],
        date.fromisoformat(row["start"]),
    )


def standing_of(row: dict) -> Standing:  # type: ignore[type-arg]
    return Standing(
        principal_paid=row["principal_paid"],
        paf_charged=row["paf_charged"],
        paf_paid=row["paf_paid"],
        penalty_charged=row["penalty_charged"],
        penalty_paid=row["penalty_paid"],
        paf_until=_date(row["paf_until"]),
        penalty_until=_date(row["penalty_until"]),
    )
