"""Loan arithmetic, every figure worked out by hand in the comments."""

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.dates import add_months
from kiosk.domain.errors import DomainError
from kiosk.domain.loans import Due, Split, Standing, Terms, due_at, schedule, split_payment
from kiosk.domain.meetings import next_meeting
from kiosk.domain.rules import Frequency, PafMethod, Rules

START = date(2026, 1, 5)


def terms(method: PafMethod, principal: int = 30000, rate: int = 200, months: int = 3, penalty: int = 100) -> Terms:
    return Terms(principal, method, rate, months, 5, penalty, START)


def test_flat_paf_is_fixed_at_disbursement_and_spread_evenly() -> None:
    t = terms(PafMethod.FLAT)
    assert t.fixed_paf() == 1800  # 30 000 x 2 % x 3 months
    plan = schedule(t)
    assert [(i.due, i.principal, i.paf) for i in plan] == [
        (date(2026, 2, 5), 10000, 600),
        (date(2026, 3, 5), 10000, 600),
        (date(2026, 4, 5), 10000, 600),
    ]
    due = due_at(t, Standing(paf_charged=1800), date(2026, 2, 5))
    assert due.now == 10600  # first installment, due today, not yet late
    assert due.arrears == 0 and due.penalty == 0
    assert due.payoff == 31800  # early repayment still owes the flat PAF


def test_declining_paf_is_charged_per_started_month_on_what_is_left() -> None:
    t = terms(PafMethod.DECLINING)
    assert [i.paf for i in schedule(t)] == [600, 400, 200]  # 2 % of 30 000, 20 000, 10 000
    two_weeks = due_at(t, Standing(), date(2026, 1, 19))
    assert two_weeks.new_paf == 600  # one month begun
    assert two_weeks.payoff == 30600
    after_first = Standing(principal_paid=10000, paf_charged=600, paf_paid=600, paf_until=date(2026, 2, 5))
    due = due_at(t, after_first, date(2026, 3, 5))
    assert due.new_paf == 400  # 2 % of the 20 000 still owed, one month
    assert due.now == 10400


def test_declining_paf_of_the_month_still_running_is_owed_not_late() -> None:
    t = terms(PafMethod.DECLINING)
    week = due_at(t, Standing(), date(2026, 1, 12))
    assert (week.paf_now, week.arrears, week.new_penalty) == (600, 0, 0)  # no arrears a week after the grant
    # Nothing paid by 10 March: the February and March installments are late, with two months' PAF
    # (January's and February's); March's PAF runs until 5 April.
    late = due_at(t, Standing(), date(2026, 3, 10))
    assert late.new_paf == 1800 and late.arrears == 2 * 10000 + 1200
    # 1 % a started month, each for its own lateness: February's 10 000 and its month's 600 of PAF two
    # months (5 February, 5 March), March's 10 000 and 600 one month (since 5 March): 318, rounded to 320.
    assert late.new_penalty == 320


def test_one_time_paf_is_due_with_the_first_installment() -> None:
    t = terms(PafMethod.ONE_TIME)
    assert t.fixed_paf() == 600
    assert [i.total for i in schedule(t)] == [10600, 10000, 10000]


def test_rounding_goes_to_the_last_installment() -> None:
    t = terms(PafMethod.FLAT, principal=10000, rate=150)
    assert t.fixed_paf() == 450  # 10 000 x 1.5 % x 3
    assert [i.principal for i in schedule(t)] == [3330, 3330, 3340]  # 3 333 rounded down to 5 F
    assert sum(i.total for i in schedule(t)) == 10450


def test_arrears_and_late_penalty() -> None:
    t = terms(PafMethod.FLAT)
    due = due_at(t, Standing(paf_charged=1800), date(2026, 3, 10))
    # Two installments (5 Feb and 5 Mar) are late: 2 x 10 600 = 21 200.
    assert due.arrears == 21200
    # 1 %/month, each installment for its own months late: February's 10 600 for the two months begun
    # since 5 Feb, March's for the one begun since 5 Mar: 318, rounded to 320.
    assert due.new_penalty == 320 and due.penalty == 320
    assert due.now == 320 + 1200 + 20000


@pytest.mark.parametrize("method", list(PafMethod))
@pytest.mark.parametrize("months", [3, 6])
def test_the_penalty_does_not_depend_on_when_it_was_paid(method: PafMethod, months: int) -> None:
    """A member who pays nothing until the end owes the same penalty as one who paid each month's as it
    came: all the arrears for as long as the oldest had been late charged the silent one a third more,
    and late declining PAF dated back to the first installment did much the same."""
    t = Terms(30000, method, 200, months, 1, 100, START)  # a unit of 1 F: no rounding between the two
    end = add_months(START, months + 2) + timedelta(days=6)
    days = [add_months(START, n) + timedelta(days=4) for n in range(1, months + 2)]

    def charged(standing: Standing, due: Any, penalty_paid: int) -> Standing:
        return Standing(
            paf_charged=standing.paf_charged + due.new_paf,
            paf_until=due.paf_until,
            penalty_charged=standing.penalty_charged + due.new_penalty,
            penalty_paid=penalty_paid,
            penalty_until=due.penalty_until,
        )

    silent = due_at(t, Standing(), end).penalty
    standing = Standing()
    for day in days:
        due = due_at(t, standing, day)
        standing = charged(standing, due, standing.penalty_paid + due.penalty)  # the penalty, nothing else
    assert standing.penalty_paid > 0
    assert standing.penalty_paid + due_at(t, standing, end).penalty == silent


def test_declining_paf_left_unpaid_after_the_principal_is_late_from_its_own_month() -> None:
    t = terms(PafMethod.DECLINING)
    # All the principal paid by 10 March, not the 1 200 of PAF of January's and February's months.
    due = due_at(t, Standing(principal_paid=30000, paf_charged=1200, paf_until=date(2026, 3, 5)), date(2026, 3, 10))
    assert due.arrears == 1200
    # January's month's 600 two months late (since 5 February), February's one month (since 5 March): 1 %,
    # 18 → 20. (All of it dated from the first due date, it was 25.)
    assert due.new_penalty == 20


def test_late_paf_alone_is_late_too() -> None:
    t = terms(PafMethod.FLAT)
    # The principal paid ahead, the PAF of February's and March's installments (600 each) not at all.
    due = due_at(t, Standing(principal_paid=20000, paf_charged=1800), date(2026, 3, 10))
    assert due.arrears == 1200 and due.new_penalty == 20  # 600 two months + 600 one month, 1 %: 18 → 20


def test_partial_repayment_then_arrears_on_what_is_left() -> None:
    t = terms(PafMethod.FLAT)
    due = due_at(t, Standing(paf_charged=1800), date(2026, 2, 5))
    split = split_payment(due, 5000)
    assert (split.penalty, split.paf, split.principal) == (0, 600, 4400)
    later = due_at(t, Standing(principal_paid=4400, paf_charged=1800, paf_paid=600), date(2026, 3, 5))
    assert later.arrears == 5600  # 10 000 - 4 400 of the February installment
    assert later.new_penalty == 55  # 1 % of 5 600 = 56, rounded to 55
    assert later.now == 55 + 600 + 15600


def test_paying_what_is_due_clears_arrears_and_extra_goes_to_principal() -> None:
    t = terms(PafMethod.FLAT)
    due = due_at(t, Standing(paf_charged=1800), date(2026, 3, 10))
    split = split_payment(due, due.now)
    assert (split.penalty, split.paf, split.principal) == (320, 1200, 20000)
    extra = split_payment(due, due.now + 3000)
    assert extra.principal == 23000 and extra.paf == 1200


def test_early_repayment_closes_the_loan_and_overpaying_is_refused() -> None:
    t = terms(PafMethod.FLAT)
    due = due_at(t, Standing(paf_charged=1800), date(2026, 1, 19))
    split = split_payment(due, due.payoff)
    assert (split.penalty, split.paf, split.principal) == (0, 1800, 30000)
    with pytest.raises(DomainError, match="repayment_exceeds_balance"):
        split_payment(due, due.payoff + 5)
    with pytest.raises(DomainError, match="amount_not_positive"):
        split_payment(due, 0)


def test_what_falls_due_before_the_next_meeting_is_asked_at_this_one() -> None:
    # Meetings on Mondays; the first installment falls due on Thursday 5 February.
    t = terms(PafMethod.FLAT)
    monday = date(2026, 2, 2)
    assert due_at(t, Standing(paf_charged=1800), monday, date(2026, 2, 9)).now == 10600
    assert due_at(t, Standing(paf_charged=1800), monday).now == 0  # without a next meeting: by the calendar
    # ...and nothing is late before the due date, whatever is asked.
    assert due_at(t, Standing(paf_charged=1800), monday, date(2026, 2, 9)).arrears == 0


def test_the_next_meeting_follows_the_règlement_s_rhythm() -> None:
    day = date(2026, 1, 31)
    assert next_meeting(Rules(), day) == date(2026, 2, 7)
    assert next_meeting(Rules(frequency=Frequency.BIWEEKLY), day) == date(2026, 2, 14)
    assert next_meeting(Rules(frequency=Frequency.MONTHLY), day) == date(2026, 2, 28)


def test_declining_paf_months_run_from_the_loan_s_start() -> None:
    # From 31 January, the second month runs to 31 March, when the second installment falls due;
    # counted from the 28 February of the first charge, it ended on 28 March, a month's PAF early.
    t = replace(terms(PafMethod.DECLINING), start=date(2026, 1, 31))
    after_first = Standing(principal_paid=10000, paf_charged=600, paf_paid=600, paf_until=date(2026, 2, 28))
    due = due_at(t, after_first, date(2026, 3, 7))
    assert (due.new_paf, due.paf_until) == (400, date(2026, 3, 31))
    again = Standing(principal_paid=10000, paf_charged=1000, paf_paid=1000, paf_until=date(2026, 3, 31))
    assert due_at(t, again, date(2026, 3, 28)).new_paf == 0


def test_a_month_end_drifted_by_an_earlier_version_is_read_on_the_loan_s_calendar() -> None:
    # Recorded by an earlier version: charged "until 28 March" for a loan of 31 January. The month
    # still runs to 31 March: on the 30th its PAF is owed, not late.
    t = replace(terms(PafMethod.DECLINING), start=date(2026, 1, 31))
    old = Standing(principal_paid=10000, paf_charged=1000, paf_paid=600, paf_until=date(2026, 3, 28))
    due = due_at(t, old, date(2026, 3, 30))
    assert due.new_paf == 0 and due.arrears == 0


def test_late_penalty_months_run_on_the_loan_s_calendar() -> None:
    # A loan of 31 January: the first installment falls due on 28 February, the second on 31 March.
    # Late since 28 February, on 30 March the member is in the first month of lateness, not the second.
    t = replace(terms(PafMethod.FLAT), start=date(2026, 1, 31))
    due = due_at(t, Standing(paf_charged=1800), date(2026, 3, 30))
    assert (due.arrears, due.new_penalty, due.penalty_until) == (10600, 105, date(2026, 3, 31))
    charged = Standing(paf_charged=1800, penalty_charged=105, penalty_until=date(2026, 3, 31))
    later = due_at(t, charged, date(2026, 4, 2))
    assert later.new_penalty == 210 and later.penalty_until == date(2026, 4, 30)  # 1 % of 21 200: both late now


def test_declining_paf_falling_due_today_is_not_late() -> None:
    t = terms(PafMethod.DECLINING)
    due = due_at(t, Standing(paf_charged=600, paf_until=date(2026, 2, 5)), date(2026, 2, 5))
    assert due.arrears == 0 and due.now == 10600  # the first installment, due today: owed, not late


def _paid(s: Standing, due: Due, split: Split) -> Standing:
    """The loan's standing after a repayment (as kiosk.domain.ledger records it)."""
    return Standing(
        principal_paid=s.principal_paid + split.principal,
        paf_charged=s.paf_charged + due.new_paf,
        paf_paid=s.paf_paid + split.paf,
        penalty_charged=s.penalty_charged + due.new_penalty,
        penalty_paid=s.penalty_paid + split.penalty,
        paf_until=due.paf_until,
        penalty_until=due.penalty_until,
    )


@given(
    method=st.sampled_from(list(PafMethod)),
    frequency=st.sampled_from(list(Frequency)),
    principal=st.integers(1, 400).map(lambda n: n * 500),
    rate=st.integers(0, 500),
    months=st.integers(1, 12),
    start=st.dates(date(2026, 1, 1), date(2027, 12, 31)),
    penalty=st.integers(0, 500),
)
def test_a_member_who_pays_what_is_asked_at_every_meeting_is_never_late(
    method: PafMethod, frequency: Frequency, principal: int, rate: int, months: int, start: date, penalty: int
) -> None:
    """Whatever the day of the loan and the group's rhythm: never a penalty, and the échéancier's PAF exactly."""
    t = Terms(principal, method, rate, months, 5, penalty, start)
    rules = Rules(frequency=frequency)
    standing = Standing(paf_charged=t.fixed_paf())
    day = start
    while standing.principal_paid < principal or standing.paf_paid < standing.paf_charged:
        day = next_meeting(rules, day)
        assert day <= t.due_date + timedelta(days=31), "still owing a month after the last installment"
        due = due_at(t, standing, day, next_meeting(rules, day))
        assert due.arrears == 0 and due.penalty == 0, day
        if due.now:
            standing = _paid(standing, due, split_payment(due, due.now))
    assert standing.penalty_charged == 0
    assert standing.paf_paid == sum(i.paf for i in schedule(t))
