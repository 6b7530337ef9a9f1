from datetime import date

import pytest

from kiosk.domain.dates import add_months, started_months
from kiosk.domain.errors import DomainError
from kiosk.domain.funds import check_count, count_for, count_total
from kiosk.domain.money import MAX_AMOUNT, check_amount, format_xof, round_to_unit


@pytest.mark.parametrize(
    ("num", "den", "unit", "expected"),
    [
        (1800, 1, 5, 1800),
        (4240, 10, 5, 425),  # 424.0 -> 425 (nearest multiple of 5 is 425 at distance 1)
        (4224, 10, 5, 420),  # 422.4 -> 420
        (4225, 10, 5, 425),  # 422.5 -> 425: half up
        (12, 10, 5, 0),  # 1.2 -> 0
        (25, 10, 5, 5),  # 2.5 -> 5: half up
        (149, 1, 100, 100),
        (150, 1, 100, 200),
        (-4225, 10, 5, -425),  # symmetric
    ],
)
def test_round_to_unit_is_half_up_in_integers(num: int, den: int, unit: int, expected: int) -> None:
    assert round_to_unit(num, den, unit) == expected


def test_amounts_print_with_plain_spaces() -> None:
    assert format_xof(12500) == "12 500 FCFA"
    assert format_xof(1234567) == "1 234 567 FCFA"
    assert format_xof(0) == "0 FCFA"
    assert format_xof(-500) == "-500 FCFA"
    assert "\u202f" not in format_xof(1000000) and "\xa0" not in format_xof(1000000)


@pytest.mark.parametrize("bad", [-1, 0, 1.5, "100", None, True, MAX_AMOUNT + 1, 2**62, 10**30])
def test_amounts_must_be_positive_whole_francs_of_a_plausible_size(bad: object) -> None:
    with pytest.raises(DomainError) as exc:
        check_amount(bad)
    assert exc.value.code in {"amount_not_integer", "amount_not_positive", "amount_too_large"}
    assert check_amount(MAX_AMOUNT) == MAX_AMOUNT


def test_months_are_calendar_months_clamped_to_month_end() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2026, 1, 10), date(2026, 1, 10), 0),
        (date(2026, 1, 10), date(2026, 1, 24), 1),  # two weeks: one month begun
        (date(2026, 1, 10), date(2026, 2, 10), 1),  # exactly one month
        (date(2026, 1, 10), date(2026, 2, 11), 2),
        (date(2026, 1, 31), date(2026, 3, 1), 2),
    ],
)
def test_started_months(start: date, end: date, months: int) -> None:
    assert started_months(start, end) == months


def test_cash_count_by_denomination() -> None:
    count = check_count({"b10000": 2, "c500": 1, "b500": 1, "c5": 3})
    assert count_total(count) == 21015
    assert list(count) == ["b10000", "b500", "c500", "c5"]  # canonical order
    assert count_total(count_for(176430)) == 176430
    with pytest.raises(DomainError, match="denomination_unknown"):
        check_count({"b3000": 1})
    with pytest.raises(DomainError, match="pieces_invalid"):
        check_count({"b1000": -1})
    # A count no box could hold (a typo, or a forged event) is refused, not turned into a discrepancy.
    with pytest.raises(DomainError, match="count_too_large"):
        check_count({"b10000": 10**14})
    with pytest.raises(DomainError, match="amount_not_countable"):
        count_for(1003)
