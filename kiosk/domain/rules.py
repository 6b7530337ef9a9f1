"""The règlement: what a group's general assembly decided, versioned.

Everything about money is per group and lives here. What is *not* here is on
purpose: the fixed rules of the MUSO method (two officers, open meeting only,
reversals instead of edits) are enforced by the reducer and cannot be set off.

``validate`` returns every problem at once, each naming its field, so a
trainer fixing a scenario file sees the whole list in one go.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any

from .errors import DomainError, Problem
from .funds import Fund
from .money import MAX_AMOUNT


class PafMethod(StrEnum):
    FLAT = "flat"  # rate x principal x term, fixed at disbursement
    DECLINING = "declining"  # rate x outstanding principal per started month
    ONE_TIME = "one_time"  # rate x principal, once


class Frequency(StrEnum):
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"


class Withdrawal(StrEnum):
    ANY_TIME = "any_time"
    EXIT_ONLY = "exit_only"


class AidKind(StrEnum):
    GRANT = "grant"
    LOAN = "loan"  # interest-free, repaid into the caisse rouge


@dataclass(frozen=True)
class Aid:
    amount: int
    kind: AidKind = AidKind.GRANT
    term_months: int = 0  # only for loans


def default_fines() -> dict[str, int]:
    return {"absence": 500, "retard": 200, "indiscipline": 500}


def default_aids() -> dict[str, Aid]:
    return {
        "deces": Aid(10000),
        "maladie": Aid(5000, AidKind.LOAN, 3),
        "naissance": Aid(3000),
        "mariage": Aid(3000),
        "sinistre": Aid(10000, AidKind.LOAN, 6),
    }


@dataclass(frozen=True)
class Rules:
    """One version of a group's règlement. Defaults are a typical Togo MUSO."""

    frequency: Frequency = Frequency.WEEKLY
    contribution_verte: int = 1000
    contribution_rouge: int = 200
    entry_fee: int = 2000
    entry_fee_fund: Fund = Fund.ROUGE
    fines: Mapping[str, int] = field(default_factory=default_fines)
    fine_fund: Fund = Fund.ROUGE
    # Attendance statuses that suggest a fine, and which one.
    absence_fine: str = "absence"
    late_fine: str = "retard"
    loan_savings_multiple: int = 3  # 0: no limit by savings
    loan_cap: int = 100000  # 0: no absolute cap
    loan_min_months: int = 1
    loan_max_months: int = 6
    max_active_loans: int = 1
    paf_method: PafMethod = PafMethod.FLAT
    paf_rate_bp: int = 200  # basis points per month: 200 = 2 %/month
    rounding_unit: int = 5
    late_penalty_bp: int = 100  # per started month late, on the amount in arrears
    aids: Mapping[str, Aid] = field(default_factory=default_aids)
    withdrawal: Withdrawal = Withdrawal.EXIT_ONLY
    share_out: bool = False
    cycle_months: int = 12

    # -- serialisation -------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["fines"] = dict(self.fines)
        out["aids"] = {
            name: {"amount": a.amount, "kind": str(a.kind), "term_months": a.term_months}
            for name, a in self.aids.items()
        }
        return {k: (str(v) if isinstance(v, StrEnum) else v) for k, v in out.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, base: Rules | None = None) -> Rules:
        """Build rules from a (partial) mapping over ``base``; raise with every problem."""
        rules, problems = parse_rules(data, base=base)
        if problems:
            raise DomainError.of(problems)
        assert rules is not None
        return rules

    def fine_amount(self, name: str) -> int:
        return self.fines.get(name, 0)


_ENUMS: dict[str, type[StrEnum]] = {
    "frequency": Frequency,
    "entry_fee_fund": Fund,
    "fine_fund": Fund,
    "paf_method": PafMethod,
    "withdrawal": Withdrawal,
}
_AMOUNTS = ("contribution_verte", "contribution_rouge", "entry_fee", "loan_cap")
_COUNTS = (
    "loan_savings_multiple",
    "loan_min_months",
    "loan_max_months",
    "max_active_loans",
    "paf_rate_bp",
    "rounding_unit",
    "late_penalty_bp",
    "cycle_months",
)
MAX_RATE_BP = 2000  # 20 %/month: above this a typo is likelier than a decision


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def parse_rules(data: Mapping[str, Any], *, base: Rules | None = None) -> tuple[Rules | None, list[Problem]]:
    base = base or Rules()
    if not isinstance(data, Mapping):
        return None, [Problem("rules_not_object", "rules")]
    known = {f.name for f in fields(Rules)}
    problems: list[Problem] = [Problem("rules_field_unknown", k) for k in data if k not in known]
    values: dict[str, Any] = {f.name: getattr(base, f.name) for f in fields(Rules)}

    for name, value in data.items():
        if name in _ENUMS:
            try:
                values[name] = _ENUMS[name](value)
            except ValueError:
                problems.append(Problem("choice_invalid", name, {"value": value}))
        elif name in _AMOUNTS:
            if not _is_int(value) or not 0 <= value <= MAX_AMOUNT:
                problems.append(Problem("amount_invalid", name, {"value": value}))
            else:
                values[name] = value
        elif name in _COUNTS:
            if not _is_int(value) or value < 0:
                problems.append(Problem("number_invalid", name, {"value": value}))
            else:
                values[name] = value
        elif name == "share_out":
            if not isinstance(value, bool):
                problems.append(Problem("boolean_invalid", name, {"value": value}))
            else:
                values[name] = value
        elif name in ("absence_fine", "late_fine"):
            if not isinstance(value, str):
                problems.append(Problem("text_invalid", name, {"value": value}))
            else:
                values[name] = value
        elif name == "fines":
            values[name] = _parse_fines(value, problems)
        elif name == "aids":
            values[name] = _parse_aids(value, problems)

    if problems:
        return None, problems
    rules = Rules(**values)
    problems = validate(rules)
    return (None if problems else rules), problems


def _parse_fines(value: object, problems: list[Problem]) -> dict[str, int]:
    if not isinstance(value, Mapping):
        problems.append(Problem("catalogue_invalid", "fines"))
        return {}
    out: dict[str, int] = {}
    for name, amount in value.items():
        if not isinstance(name, str) or not name or not _is_int(amount) or not 0 < amount <= MAX_AMOUNT:
            problems.append(Problem("amount_invalid", f"fines.{name}", {"value": amount}))
        else:
            out[name] = amount
    return out


def _parse_aids(value: object, problems: list[Problem]) -> dict[str, Aid]:
    if not isinstance(value, Mapping):
        problems.append(Problem("catalogue_invalid", "aids"))
        return {}
    out: dict[str, Aid] = {}
    for name, spec in value.items():
        where = f"aids.{name}"
        if not isinstance(spec, Mapping):
            problems.append(Problem("catalogue_invalid", where))
            continue
        amount, kind, term = spec.get("amount"), spec.get("kind", "grant"), spec.get("term_months", 0)
        extra = set(spec) - {"amount", "kind", "term_months"}
        for k in sorted(extra):
            problems.append(Problem("rules_field_unknown", f"{where}.{k}"))
        if not _is_int(amount) or not 0 < amount <= MAX_AMOUNT:  # above it, no movement could carry it
            problems.append(Problem("amount_invalid", f"{where}.amount", {"value": amount}))
            continue
        try:
            aid_kind = AidKind(kind)
        except ValueError:
            problems.append(Problem("choice_invalid", f"{where}.kind", {"value": kind}))
            continue
        if not isinstance(term, int) or isinstance(term, bool) or term < 0:
            problems.append(Problem("number_invalid", f"{where}.term_months", {"value": term}))
            continue
        out[name] = Aid(amount, aid_kind, term)
    return out


def validate(rules: Rules) -> list[Problem]:
    """Cross-field checks: each problem names the field a person should change."""
    p: list[Problem] = []
    unit = rules.rounding_unit
    if unit not in (1, 5, 10, 25, 50, 100):
        p.append(Problem("rounding_unit_invalid", "rounding_unit", {"value": unit}))
    if rules.contribution_verte <= 0:
        p.append(Problem("amount_not_positive", "contribution_verte", {"value": rules.contribution_verte}))
    if rules.loan_min_months < 1:
        p.append(Problem("number_too_small", "loan_min_months", {"min": 1}))
    if rules.loan_max_months < rules.loan_min_months:
        p.append(Problem("term_range_invalid", "loan_max_months", {"min": rules.loan_min_months}))
    if rules.loan_max_months > 60:
        p.append(Problem("number_too_large", "loan_max_months", {"max": 60}))
    if rules.loan_savings_multiple == 0 and rules.loan_cap == 0:
        p.append(Problem("loan_ceiling_missing", "loan_cap"))
    if rules.max_active_loans < 1:
        p.append(Problem("number_too_small", "max_active_loans", {"min": 1}))
    for name in ("paf_rate_bp", "late_penalty_bp"):
        if getattr(rules, name) > MAX_RATE_BP:
            p.append(Problem("rate_too_high", name, {"max": MAX_RATE_BP}))
    if rules.entry_fee_fund is Fund.BLEUE:
        p.append(Problem("fund_not_allowed", "entry_fee_fund", {"value": "bleue"}))
    if rules.fine_fund is Fund.BLEUE:
        p.append(Problem("fund_not_allowed", "fine_fund", {"value": "bleue"}))
    for name in ("absence_fine", "late_fine"):
        ref = getattr(rules, name)
        if ref and ref not in rules.fines:
            p.append(Problem("fine_unknown", name, {"value": ref}))
    for name, aid in rules.aids.items():
        if aid.kind is AidKind.LOAN and not 1 <= aid.term_months <= 60:
            p.append(Problem("aid_term_invalid", f"aids.{name}.term_months", {"value": aid.term_months}))
        if aid.kind is AidKind.GRANT and aid.term_months:
            p.append(Problem("aid_term_for_grant", f"aids.{name}.term_months"))
    if rules.share_out and not 1 <= rules.cycle_months <= 24:
        p.append(Problem("number_invalid", "cycle_months", {"value": rules.cycle_months}))
    return p
