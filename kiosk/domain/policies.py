"""The règlement applied to a request: may this loan, aid, withdrawal or share-out happen?

Pure functions returning every problem (beancount-style): the UI shows them
in words before any officer types a PIN, the services refuse with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .errors import Problem
from .loans import max_loan
from .rules import Aid, Rules, Withdrawal


@dataclass(frozen=True)
class Borrower:
    name: str
    active: bool
    savings: int
    active_loans: int
    arrears: int = 0


def loan_problems(rules: Rules, who: Borrower, amount: int, term_months: int, cash_available: int) -> list[Problem]:
    p: list[Problem] = []
    if not who.active:
        p.append(Problem("member_left", "member", {"name": who.name}))
    if amount <= 0:
        p.append(Problem("amount_not_positive", "amount", {"value": amount}))
    ceiling = max_loan(rules, who.savings)
    if ceiling is not None and amount > ceiling:
        p.append(
            Problem(
                "loan_above_ceiling",
                "amount",
                {
                    "ceiling": ceiling,
                    "multiple": rules.loan_savings_multiple,
                    "savings": who.savings,
                    "cap": rules.loan_cap,
                },
            )
        )
    if isinstance(term_months, bool) or not isinstance(term_months, int):
        p.append(Problem("number_invalid", "term_months", {"value": term_months}))
    elif not rules.loan_min_months <= term_months <= rules.loan_max_months:
        p.append(
            Problem(
                "loan_term_out_of_range", "term_months", {"min": rules.loan_min_months, "max": rules.loan_max_months}
            )
        )
    if who.active_loans >= rules.max_active_loans:
        p.append(Problem("loan_limit_reached", "member", {"max": rules.max_active_loans}))
    if who.arrears > 0:
        p.append(Problem("loan_with_arrears", "member", {"arrears": who.arrears}))
    if amount > cash_available:
        p.append(Problem("cash_insufficient", "amount", {"missing": amount - cash_available}))
    return p


def aid_problem(rules: Rules, aid_type: str, cash_rouge: int) -> tuple[Aid | None, list[Problem]]:
    aid = rules.aids.get(aid_type)
    if aid is None:
        return None, [Problem("aid_unknown", "aid", {"value": aid_type, "known": sorted(rules.aids)})]
    if aid.amount > cash_rouge:
        return aid, [Problem("cash_insufficient", "amount", {"missing": aid.amount - cash_rouge, "fund": "rouge"})]
    return aid, []


def withdrawal_problems(rules: Rules, savings: int, amount: int, *, active_loans: int) -> list[Problem]:
    p: list[Problem] = []
    if rules.withdrawal is Withdrawal.EXIT_ONLY:
        p.append(Problem("withdrawal_exit_only", "amount"))
    if amount > savings:
        p.append(Problem("savings_insufficient", "amount", {"missing": amount - savings}))
    # Savings back a loan (the ceiling is a multiple of them): keep enough behind it.
    if active_loans and amount > 0:
        p.append(Problem("withdrawal_with_loan", "amount"))
    return p


def share_out(savings: Mapping[str, int], distributable: int, unit: int) -> tuple[dict[str, int], int]:
    """Split ``distributable`` in proportion to savings, rounded down to ``unit``.

    Returns the shares and what is left over (kept in the box for next cycle),
    so the split never creates or loses a franc.

    A negative ``distributable`` is a loss (a cash shortfall, expenses above the
    earnings): the box holds less than the members' savings, and they bear it in
    proportion to their savings, as they would have shared a gain (see ``_losses``).
    """
    total = sum(savings.values())
    if total <= 0 or distributable == 0:
        return {m: 0 for m in savings}, max(distributable, 0)
    if distributable > 0:
        shares = {m: (distributable * s // total) // unit * unit for m, s in savings.items()}
    else:
        shares = {m: -taken for m, taken in _losses(savings, -distributable, unit).items()}
    return shares, distributable - sum(shares.values())


def _losses(savings: Mapping[str, int], loss: int, unit: int) -> dict[str, int]:
    """Each member's part of ``loss``, in whole ``unit``s, adding up to at least the loss (or the box would
    pay out more than it holds) and at most the unit above it: the fair parts rounded down, then one unit
    more to those whose part was rounded down the most (largest remainder), never more than they saved.
    Rounding each member down and the roundings up to everyone would take up to a unit from each, and all
    the savings of whoever saved less than a unit."""
    total = sum(savings.values())
    loss = min(loss, total)  # the box and the loans never hold less than nothing
    taken = {m: loss * s // total // unit * unit for m, s in savings.items()}
    short = loss - sum(taken.values())
    by_remainder = sorted(savings, key=lambda m: (-(loss * savings[m] - taken[m] * total), m))
    for m in by_remainder:  # whole units first, to those the rounding favoured least
        if short <= 0:
            break
        if taken[m] + unit <= savings[m]:
            taken[m] += unit
            short -= unit
    for m in by_remainder:  # what no whole unit could cover: the last francs, from whoever still has them
        if short <= 0:
            break
        more = min(short, savings[m] - taken[m])
        taken[m] += more
        short -= more
    return taken
