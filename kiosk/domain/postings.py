"""Double-entry postings: debits positive, credits negative, each transaction sums to zero.

Accounts are named ``<fund>:<kind>[:<id>]`` so that every account belongs to
exactly one box. A transaction never crosses boxes, which is what lets each
box's cash be checked against its own postings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import DomainError
from .funds import Fund


@dataclass(frozen=True)
class Posting:
    account: str
    amount: int  # debit > 0, credit < 0

    @property
    def fund(self) -> Fund:
        return fund_of(self.account)


def fund_of(account: str) -> Fund:
    return Fund(account.split(":", 1)[0])


def cash(fund: Fund) -> str:
    return f"{fund}:cash"


def savings(member: str) -> str:
    return f"verte:savings:{member}"


def loan(fund: Fund, loan_id: str) -> str:
    return f"{fund}:loan:{loan_id}"


def lender(name: str) -> str:
    return f"bleue:lender:{name}"


def account(fund: Fund, kind: str) -> str:
    """A fund-level income, expense or equity account, e.g. ``verte:paf``."""
    return f"{fund}:{kind}"


def kind_of(account_name: str) -> str:
    return account_name.split(":")[1]


def transfer(debit: str, credit: str, amount: int) -> list[Posting]:
    return [Posting(debit, amount), Posting(credit, -amount)]


def check_balanced(postings: Iterable[Posting]) -> list[Posting]:
    legs = [p for p in postings if p.amount != 0]
    if not legs:
        raise DomainError("transaction_empty")
    if sum(p.amount for p in legs) != 0:
        raise DomainError("transaction_unbalanced", total=sum(p.amount for p in legs))
    if len({p.fund for p in legs}) != 1:
        raise DomainError("transaction_crosses_funds")
    return legs


def reverse(postings: Iterable[Posting]) -> list[Posting]:
    return [Posting(p.account, -p.amount) for p in postings]
