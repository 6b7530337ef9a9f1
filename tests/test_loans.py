"""Loan arithmetic, every figure worked out by hand in the comments."""

from datetime import date

import pytest

from kiosk.domain.errors import DomainError
from kiosk.domain.loans import Standing, Terms, due_at, schedule, split_payment
from kiosk.domain.rules import PafMethod

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
    assert late.new_penalty == 425  # 1 % a started month on 21 200, from 5 February: two months, rounded to 5


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
    # 1 %/month on 21 200 for the two months begun since 5 Feb: 424, rounded to 425.
    assert due.new_penalty == 425 and due.penalty == 425
    assert due.now == 425 + 1200 + 20000


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
    assert (split.penalty, split.paf, split.principal) == (425, 1200, 20000)
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
