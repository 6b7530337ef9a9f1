"""Money is an ``int`` of XOF (no minor unit, ever)."""

from __future__ import annotations

from .errors import DomainError

CURRENCY = "FCFA"
# No village group moves 100 million francs at once: above this a typo (or a forged event) is far likelier,
# and sums of such amounts must stay within SQLite's and PostgreSQL's 64-bit integers.
MAX_AMOUNT = 100_000_000


def check_amount(value: object, field: str = "amount", *, allow_zero: bool = False) -> int:
    """Return ``value`` if it is a whole, positive number of francs, else raise.

    ``bool`` is refused although it is an ``int`` subclass: ``True`` is not 1 F.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError("amount_not_integer", field, value=repr(value))
    if value < 0 or (value == 0 and not allow_zero):
        raise DomainError("amount_not_positive", field, value=value)
    if value > MAX_AMOUNT:
        raise DomainError("amount_too_large", field, value=value, max=MAX_AMOUNT)
    return value


def round_to_unit(numerator: int, denominator: int, unit: int) -> int:
    """Round ``numerator / denominator`` half up to a multiple of ``unit``.

    Integer arithmetic only, so that kiosk and server agree to the franc.
    """
    if denominator <= 0 or unit <= 0:
        raise ValueError("denominator and unit must be positive")
    if numerator < 0:
        return -round_to_unit(-numerator, denominator, unit)
    step = denominator * unit
    return ((2 * numerator + step) // (2 * step)) * unit


def group_thousands(amount: int) -> str:
    """``12500`` -> ``'12 500'`` with a plain space (printers know no U+202F)."""
    sign = "-" if amount < 0 else ""
    digits = str(abs(amount))
    groups = []
    while digits:
        groups.append(digits[-3:])
        digits = digits[:-3]
    return sign + " ".join(reversed(groups))


def format_xof(amount: int) -> str:
    return f"{group_thousands(amount)} {CURRENCY}"
