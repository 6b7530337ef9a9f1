import pytest

from kiosk.domain.errors import DomainError
from kiosk.domain.rules import AidKind, PafMethod, Rules, parse_rules, validate


def test_defaults_are_valid_and_round_trip() -> None:
    rules = Rules()
    assert validate(rules) == []
    assert Rules.from_dict(rules.to_dict()) == rules
    assert rules.paf_method is PafMethod.FLAT and rules.rounding_unit == 5
    assert rules.aids["maladie"].kind is AidKind.LOAN


def test_partial_changes_apply_over_a_base() -> None:
    base = Rules(contribution_verte=500)
    rules = Rules.from_dict({"paf_rate_bp": 150, "paf_method": "declining"}, base=base)
    assert rules.contribution_verte == 500 and rules.paf_rate_bp == 150
    assert rules.paf_method is PafMethod.DECLINING


def test_every_problem_is_reported_with_its_field() -> None:
    _, problems = parse_rules(
        {
            "contribution_verte": -5,
            "paf_method": "compound",
            "rounding_unit": 3,
            "loan_min_months": 4,
            "loan_max_months": 2,
            "fines": {"retard": 0},
            "aids": {"deces": {"amount": 10000, "kind": "loan"}},
            "colour": "green",
        }
    )
    fields = {p.field for p in problems}
    assert {"contribution_verte", "paf_method", "fines.retard", "colour"} <= fields
    # cross-field checks run once the fields parse: fix the type errors and see them
    _, problems = parse_rules({"rounding_unit": 3, "loan_min_months": 4, "loan_max_months": 2})
    assert {p.field for p in problems} == {"rounding_unit", "loan_max_months"}


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"loan_savings_multiple": 0, "loan_cap": 0}, "loan_cap", "loan_ceiling_missing"),
        ({"paf_rate_bp": 5000}, "paf_rate_bp", "rate_too_high"),
        ({"entry_fee_fund": "bleue"}, "entry_fee_fund", "fund_not_allowed"),
        ({"absence_fine": "sieste"}, "absence_fine", "fine_unknown"),
        ({"share_out": "yes"}, "share_out", "boolean_invalid"),
        ({"contribution_verte": 1.5}, "contribution_verte", "amount_invalid"),
        ({"aids": {"deces": {"amount": 1000, "term_months": 2}}}, "aids.deces.term_months", "aid_term_for_grant"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(changes: dict, field: str, code: str) -> None:
    with pytest.raises(DomainError) as exc:
        Rules.from_dict(changes)
    assert (field, code) in {(p.field, p.code) for p in exc.value.problems}


def test_a_fine_or_an_aid_no_movement_could_carry_is_refused() -> None:
    from kiosk.domain.money import MAX_AMOUNT
    from kiosk.domain.rules import parse_rules

    for change in ({"fines": {"absence": MAX_AMOUNT + 1}}, {"aids": {"deces": {"amount": 10**15, "kind": "grant"}}}):
        rules, problems = parse_rules(change)
        assert rules is None and [p.code for p in problems] == ["amount_invalid"]
