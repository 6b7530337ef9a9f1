"""The three boxes (caisses) and counting their cash by denomination (billetage)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from .errors import DomainError
from .money import MAX_AMOUNT


class Fund(StrEnum):
    VERTE = "verte"  # members' savings, lent to members
    ROUGE = "rouge"  # solidarity, not recoverable
    BLEUE = "bleue"  # outside money, owed to a lender


def parse_fund(value: object, field: str = "fund") -> Fund:
    try:
        return Fund(str(value))
    except ValueError:
        raise DomainError("fund_unknown", field, value=value) from None


# XOF notes and coins in circulation. The 500 exists as both a note and a coin;
# a count keeps them apart ("b500" / "c500") because treasurers count piles.
DENOMINATIONS: tuple[tuple[str, int], ...] = (
    ("b10000", 10000),
    ("b5000", 5000),
    ("b2000", 2000),
    ("b1000", 1000),
    ("b500", 500),
    ("c500", 500),
    ("c250", 250),
    ("c200", 200),
    ("c100", 100),
    ("c50", 50),
    ("c25", 25),
    ("c10", 10),
    ("c5", 5),
)
DENOMINATION_VALUES = dict(DENOMINATIONS)
SMALLEST_PIECE = min(DENOMINATION_VALUES.values())  # an amount no pile of these makes cannot be counted


def check_count(count: Mapping[str, object], field: str = "count") -> dict[str, int]:
    """Validate a billetage: known denominations, whole non-negative numbers."""
    if not isinstance(count, Mapping):
        raise DomainError("cash_count_invalid", field)
    clean: dict[str, int] = {}
    for key, pieces in count.items():
        if key not in DENOMINATION_VALUES:
            raise DomainError("denomination_unknown", f"{field}.{key}", value=key)
        if isinstance(pieces, bool) or not isinstance(pieces, int) or pieces < 0:
            raise DomainError("pieces_invalid", f"{field}.{key}", value=repr(pieces))
        if pieces:
            clean[key] = pieces
    if count_total(clean) > MAX_AMOUNT:
        raise DomainError("count_too_large", field, total=count_total(clean), max=MAX_AMOUNT)
    # Keep the canonical order so that equal counts serialise equally.
    return {k: clean[k] for k, _ in DENOMINATIONS if k in clean}


def count_total(count: Mapping[str, int]) -> int:
    return sum(DENOMINATION_VALUES[k] * n for k, n in count.items())


def count_for(amount: int) -> dict[str, int]:
    """A plausible billetage for ``amount`` (largest pieces first); for demos and tests."""
    if amount % SMALLEST_PIECE:
        raise DomainError("amount_not_countable", "amount", value=amount)
    out: dict[str, int] = {}
    rest = amount
    for key, value in DENOMINATIONS:
        if key == "c500":
            continue
        n, rest = divmod(rest, value)
        if n:
            out[key] = n
    return out
