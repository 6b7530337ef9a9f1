"""Money movements: each kind's postings, its side effects, and reversals.

Every movement is one balanced transaction inside one box. After the postings
the invariants are checked on the touched accounts only (O(legs)): no box's
cash below zero, no member's savings below zero, no loan below zero. An event
that would break one is refused whole.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import DomainError
from .events import Event
from .funds import Fund, parse_fund
from .lookups import active_member, check_two_officers, member_row
from .money import check_amount
from .postings import (
    Posting,
    account,
    cash,
    check_balanced,
    kind_of,
    lender,
    loan,
    reverse,
    savings,
    transfer,
)
from .projections import Changes, Row
from .rules import PafMethod

# Movement kinds whose cash leaves a box or that change a member's claim:
# the fixed rules want two officers for these.
DUAL_APPROVAL = frozenset({"loan", "aid", "withdrawal", "exit", "expense", "outside_out", "share_out", "reversal"})
NOT_REVERSIBLE = frozenset({"reversal", "discrepancy", "share_out", "exit"})


def touch_account(ch: Changes, group_id: str, name: str) -> Row:
    """The account's row, created at zero if new. Ours to change: ``get`` returns a copy, and ``put`` keeps one."""
    row = ch.get("accounts", (group_id, name))
    if row is None:
        row = {"group_id": group_id, "account": name, "fund": name.split(":", 1)[0], "balance": 0}
        ch.put("accounts", row)
    return row


def balance(ch: Changes, group_id: str, name: str) -> int:
    row = ch.get("accounts", (group_id, name))
    return row["balance"] if row else 0


def _check_account(name: str, bal: int) -> None:
    kind = kind_of(name)
    if kind == "cash" and bal < 0:
        raise DomainError("cash_insufficient", "amount", fund=name.split(":")[0], missing=-bal)
    if kind == "savings" and bal > 0:  # a liability: credit balance is what the member owns
        raise DomainError("savings_insufficient", "amount", missing=bal)
    if kind == "loan" and bal < 0:
        raise DomainError("loan_overpaid", "amount")
    if kind == "lender" and bal > 0:
        raise DomainError("lender_overpaid", "amount")


def record_txn(
    ch: Changes,
    ev: Event,
    txn_id: str,
    meeting: Row,
    *,
    kind: str,
    fund: Fund,
    amount: int,
    postings: list[Posting],
    member: str | None = None,
    loan_id: str | None = None,
    detail: dict[str, Any] | None = None,
    recorded_by: str | None = None,
    approvers: list[str] | None = None,
    reverses: str | None = None,
    reason: str | None = None,
    allow_empty: bool = False,
) -> None:
    """Post a balanced transaction. ``allow_empty``: a fact with no money (a member leaving with
    no savings) is still recorded as a transaction, with no legs."""
    if ch.get("transactions", (txn_id,)) is not None:
        raise DomainError("transaction_exists", "txn", value=txn_id)
    if allow_empty and not any(p.amount for p in postings):
        legs: list[Posting] = []
    else:
        legs = check_balanced(postings)
        if legs[0].fund is not fund:
            raise DomainError("transaction_crosses_funds", "fund")
    group_id = meeting["group_id"]
    for i, leg in enumerate(legs):
        row = touch_account(ch, group_id, leg.account)
        row["balance"] += leg.amount
        _check_account(leg.account, row["balance"])
        ch.put("accounts", row)
        ch.put(
            "postings", {"txn_id": txn_id, "leg": i, "group_id": group_id, "account": leg.account, "amount": leg.amount}
        )
    ch.put(
        "transactions",
        {
            "txn_id": txn_id,
            "group_id": group_id,
            "meeting_id": meeting["meeting_id"],
            "seq": ev.seq,
            "kind": kind,
            "member_id": member,
            "fund": fund.value,
            "amount": amount,
            "loan_id": loan_id,
            "reverses": reverses,
            "reversed_by": None,
            "reason": reason,
            "detail": detail or {},
            "recorded_by": recorded_by,
            "approvers": approvers,
            "legs": len(legs),
        },
    )


# -- one function per movement kind: validate the body, return what to record -----------

Planned = dict[str, Any]


def _member(ch: Changes, meeting: Row, b: dict[str, Any]) -> Row:
    return active_member(ch, meeting["group_id"], b["member"])


def _contribution(ch: Changes, meeting: Row, b: dict[str, Any]) -> Planned:
    m = _member(ch, meeting, b)
    fund, amount = parse_fund(b["fund"]), check_amount(b["amount"])
    if fund is Fund.VERTE:
        legs = transfer(cash(fund), savings(m["member_id"]), amount)
    elif fund is Fund.ROUGE:
        legs = transfer(cash(fund), account(fund, "contributions"), amount)
    else:
        raise DomainError("fund_not_allowed", "fund", value=fund.value)
    return {"fund": fund, "amount": amount, "postings": legs, "member": m["member_id"]}


def _income(kind: str) -> Callable[[Changes, Row, dict[str, Any]], Planned]:
    def plan(ch: Changes, meeting: Row, b: dict[str, Any]) -> Planned:
        m = _member(ch, meeting, b)
        fund, amount = parse_fund(b["fund"]), check_amount(b["amount"])
        if fund is Fund.BLEUE:
            raise DomainError("fund_not_allowed", "fund", value=fund.value)
        detail = {"fine": str(b["fine"])} if kind == "fines" else {}
        legs = transfer(cash(fund), account(fund, kind), amount)
        return {"fund": fund, "amount": amount, "postings": legs, "member": m["member_id"], "detail": detail}

    return plan


def _new_loan(
    ch: Changes, meeting: Row, b: dict[str, Any], *, fund: Fund, kind: str, terms: dict[str, Any], paf: int
) -> str:
    m = _member(ch, meeting, b)
    loan_id = b["loan"]
    if not isinstance(loan_id, str) or ch.get("loans", (loan_id,)) is not None:
        raise DomainError("loan_exists", "loan", value=loan_id)
    method = PafMethod(terms["method"])
    for name in ("rate_bp", "term_months", "rounding_unit", "penalty_bp"):
        if isinstance(terms[name], bool) or not isinstance(terms[name], int) or terms[name] < 0:
            raise DomainError("number_invalid", f"terms.{name}", value=terms[name])
    if terms["term_months"] < 1 or terms["rounding_unit"] < 1:
        raise DomainError("number_invalid", "terms.term_months", value=terms["term_months"])
    check_amount(paf, "paf", allow_zero=True)
    ch.put(
        "loans",
        {
            "loan_id": loan_id,
            "group_id": meeting["group_id"],
            "member_id": m["member_id"],
            "fund": fund.value,
            "kind": kind,
            "principal": check_amount(b["amount"]),
            "method": method.value,
            "rate_bp": terms["rate_bp"],
            "term_months": terms["term_months"],
            "rounding_unit": terms["rounding_unit"],
            "penalty_bp": terms["penalty_bp"],
            "start": meeting["date"],
            "meeting_id": meeting["meeting_id"],
            "txn_id": b["txn"],
            "paf_charged": paf,
            "paf_paid": 0,
            "principal_paid": 0,
            "penalty_charged": 0,
            "penalty_paid": 0,
            "paf_until": None,
            "penalty_until": None,
            "status": "active",
            "last_repayment": None,
        },
    )
    ch.update("members", (m["member_id"],), active_loans=m["active_loans"] + 1)
    return loan_id


def _loan(ch: Changes, meeting: Row, b: dict[str, Any]) -> Planned:
    fund, amount = parse_fund(b["fund"]), check_amount(b["amount"])
    if fund is Fund.ROUGE:
        raise DomainError("fund_not_allowed", "fund", value=fund.value)
    loan_id = _new_loan(ch, meeting, b, fund=fund, kind="loan", terms=b["terms"], paf=b["paf"])
    legs = transfer(loan(fund, loan_id), cash(fund), amount)
    return {"fund": fund, "amount": amount, "postings": legs, "member": b["member"], "loan_id": loan_id}


def _aid(ch: Changes, meeting: Row, b: dict[str, Any]) -> Planned:
    m = _member(ch, meeting, b)
    amount = check_amount(b["amount"])
    detail = {"aid": str(b["aid"])}
    if b.get("loan"):
        terms = {"method": "flat", "rate_bp": 0, "term_months": b["term_months"], "rounding_unit": 5, "penalty_bp": 0}
        loan_id = _new_loan(ch, meeting, b, fund=Fund.ROUGE, kind="aid", terms=terms, paf=0)
        legs = transfer(loan(Fund.ROUGE, loan_id), cash(Fund.ROUGE), amount)
    else:
        loan_id = None
        legs = transfer(account(Fund.ROUGE, "aid"), cash(Fund.ROUGE), amount)
    ch.update("members", (m["member_id"],), aid_received=m["aid_received"] + amount)
    return {
        "fund": Fund.ROUGE,
        "amount": amount,
        "postings": legs,
        "member": m["member_id"],
        "loan_id": loan_id,
        "detail": detail,
    }


def _repayment(ch: Changes, meeting: Row, b: dict[str, Any]) -> Planned:
    row = ch.get("loans", (b["loan"],))
    if row is None or row["group_id"] != meeting["group_id"]:
        raise DomainError("loan_unknown", "loan", value=b["loan"])
    if row["status"] != "active":
        raise DomainError("loan_not_active", "loan", status=row["status"])
    amount = check_amount(b["amount"])
    principal, paf, penalty = (check_amount(b[k], k, allow_zero=True) for k in ("principal", "paf", "penalty"))
    new_paf, new_penalty = (check_amount(b[k], k, allow_zero=True) for k in ("new_paf", "new_penalty"))
    if principal + paf + penalty != amount:
        raise DomainError("repayment_split_wrong", "amount", amount=amount)
    paf_charged = row["paf_charged"] + new_paf
    penalty_charged = row["penalty_charged"] + new_penalty
    if row["paf_paid"] + paf > paf_charged or row["penalty_paid"] + penalty > penalty_charged:
        raise DomainError("repayment_exceeds_balance", "amount", amount=amount)
    fund = Fund(row["fund"])
    legs = [Posting(cash(fund), amount), Posting(loan(fund, row["loan_id"]), -principal)]
    legs += [Posting(account(fund, "paf"), -paf), Posting(account(fund, "penalties"), -penalty)]
    updated = ch.update(
        "loans",
        (row["loan_id"],),
        principal_paid=row["principal_paid"] + principal,
        paf_paid=row["paf_paid"] + paf,
        penalty_paid=row["penalty_paid"] + penalty,
        paf_charged=paf_charged,
        penalty_charged=penalty_charged,
        paf_until=b.get("paf_until") or row["paf_until"],
        penalty_until=b.get("penalty_until") or row["penalty_until"],
        last_repayment=b["txn"],
    )
    _settle(ch, updated)
    detail = {k: b[k] for k in ("principal", "paf", "penalty", "new_paf", "new_penalty")} | {
        "prev_paf_until": row["paf_until"],
        "prev_penalty_until": row["penalty_until"],
        "prev_last": row["last_repayment"],
    }
    return {
        "fund": fund,
        "amount": amount,
        "postings": legs,
        "member": row["member_id"],
        "loan_id": row["loan_id"],
        "detail": detail,
    }


def _settle(ch: Changes, row: Row) -> None:
    """Mark a loan repaid (or active again after a reversal) and keep the member's count."""
    done = (
        row["principal_paid"] == row["principal"]
        and row["paf_paid"] == row["paf_charged"]
        and row["penalty_paid"] == row["penalty_charged"]
    )
    status = "repaid" if done else "active"
    if status != row["status"] and row["status"] in ("active", "repaid"):
        member = ch.get("members", (row["member_id"],))
        assert member is not None
        ch.update("members", (row["member_id"],), active_loans=member["active_loans"] + (-1 if done else 1))
        ch.update("loans", (row["loan_id"],), status=status)


def _withdrawal(ch: Changes, meeting: Row, b: dict[str, Any]) -> Planned:
    m = _member(ch, meeting, b)
    amount = check_amount(b["amount"])
    legs = transfer(savings(m["member_id"]), cash(Fund.VERTE), amount)
    return {"fund": Fund.VERTE, "amount": amount, "postings": legs, "member": m["member_id"]}


def _exit(ch: Changes, meeting: Row, b: dict[str, Any]) -> Planned:
    m = _member(ch, meeting, b)
    if m["active_loans"]:
        raise DomainError("exit_with_loan", "member", name=m["name"])
    owed = -balance(ch, meeting["group_id"], savings(m["member_id"]))
    amount = check_amount(b["amount"], allow_zero=True)
    if amount != owed:
        raise DomainError("exit_amount_wrong", "amount", expected=owed, value=amount)
    legs = transfer(savings(m["member_id"]), cash(Fund.VERTE), amount) if amount else []
    ch.update("members", (m["member_id"],), active=0, left_on=meeting["date"])
    return {"fund": Fund.VERTE, "amount": amount, "postings": legs, "member": m["member_id"], "allow_empty": True}


def _expense(ch: Changes, meeting: Row, b: dict[str, Any]) -> Planned:
    fund, amount = parse_fund(b["fund"]), check_amount(b["amount"])
    # str(): earlier journals hold a label None as "None" and must replay (use cases now refuse non-text).
    label = str(b["label"]).strip()
    if not label:
        raise DomainError("label_missing", "label")
    legs = transfer(account(fund, "expenses"), cash(fund), amount)
    return {"fund": fund, "amount": amount, "postings": legs, "detail": {"label": label}}


def _lender_name(b: dict[str, Any]) -> str:
    name = str(b["lender"]).strip()
    if not name or ":" in name:
        raise DomainError("lender_invalid", "lender", value=b["lender"])
    return name


def _outside_in(ch: Changes, meeting: Row, b: dict[str, Any]) -> Planned:
    name, amount = _lender_name(b), check_amount(b["amount"])
    legs = transfer(cash(Fund.BLEUE), lender(name), amount)
    return {"fund": Fund.BLEUE, "amount": amount, "postings": legs, "detail": {"lender": name}}


def _outside_out(ch: Changes, meeting: Row, b: dict[str, Any]) -> Planned:
    name = _lender_name(b)
    principal = check_amount(b["principal"], "principal", allow_zero=True)
    interest = check_amount(b["interest"], "interest", allow_zero=True)
    amount = check_amount(principal + interest)
    legs = [Posting(lender(name), principal), Posting(account(Fund.BLEUE, "lender_interest"), interest)]
    legs.append(Posting(cash(Fund.BLEUE), -amount))
    return {
        "fund": Fund.BLEUE,
        "amount": amount,
        "postings": legs,
        "detail": {"lender": name, "principal": principal, "interest": interest},
    }


def _share_out(ch: Changes, meeting: Row, b: dict[str, Any]) -> Planned:
    shares, payouts = b["shares"], b["payouts"]
    if not isinstance(shares, dict) or not isinstance(payouts, dict):
        raise DomainError("share_out_invalid", "shares")
    amounts = [a for a in shares.values() if type(a) is int]
    if any(a < 0 for a in amounts) and any(a > 0 for a in amounts):
        # A gain is shared, or a loss: never both at once, which would move savings from one member to another.
        raise DomainError("share_out_invalid", "shares")
    legs: list[Posting] = []
    for member_id, amount in shares.items():
        active_member(ch, meeting["group_id"], member_id, f"shares.{member_id}")
        # A negative share is the member's part of a loss (kiosk.domain.policies.share_out): it leaves
        # their savings, which the savings account's own check keeps from going below zero.
        size = check_amount(abs(amount) if type(amount) is int else amount, f"shares.{member_id}", allow_zero=True)
        if amount > 0:
            legs += transfer(account(Fund.VERTE, "distributed"), savings(member_id), size)
        elif amount < 0:
            legs += transfer(savings(member_id), account(Fund.VERTE, "distributed"), size)
    paid = 0
    for member_id, amount in payouts.items():
        active_member(ch, meeting["group_id"], member_id, f"payouts.{member_id}")
        if check_amount(amount, f"payouts.{member_id}", allow_zero=True):
            legs += transfer(savings(member_id), cash(Fund.VERTE), amount)
            paid += amount
    return {"fund": Fund.VERTE, "amount": paid, "postings": legs, "detail": {"shares": shares, "payouts": payouts}}


PLANS: dict[str, Callable[[Changes, Row, dict[str, Any]], Planned]] = {
    "contribution": _contribution,
    "entry_fee": _income("entry_fees"),
    "fine": _income("fines"),
    "loan": _loan,
    "repayment": _repayment,
    "aid": _aid,
    "withdrawal": _withdrawal,
    "exit": _exit,
    "expense": _expense,
    "outside_in": _outside_in,
    "outside_out": _outside_out,
    "share_out": _share_out,
}


def _beneficiary(ch: Changes, b: dict[str, Any]) -> str | None:
    if b["kind"] == "reversal":
        original = ch.get("transactions", (b["reverses"],))
        return original["member_id"] if original else None
    member = b.get("member")
    return member if isinstance(member, str) else None


def record_movement(ch: Changes, meeting: Row, recorder: Row, b: dict[str, Any], ev: Event) -> None:
    kind = b["kind"]
    if kind not in PLANS and kind != "reversal":
        raise DomainError("movement_unknown", "kind", value=kind)
    # Money coming in (a member's own contribution included) needs only the recording officer.
    approvers = None
    if kind in DUAL_APPROVAL:
        approvers = check_two_officers(ch, meeting["group_id"], b.get("approvers"), _beneficiary(ch, b))
    if kind == "reversal":
        _reversal(ch, meeting, recorder, b, ev, approvers or [])
        return
    plan = PLANS[kind](ch, meeting, b)
    record_txn(
        ch,
        ev,
        b["txn"],
        meeting,
        kind=kind,
        fund=plan["fund"],
        amount=plan["amount"],
        postings=plan["postings"],
        member=plan.get("member"),
        loan_id=plan.get("loan_id"),
        detail=plan.get("detail"),
        recorded_by=recorder["member_id"],
        approvers=approvers,
        allow_empty=bool(plan.get("allow_empty")),
    )


def _reversal(ch: Changes, meeting: Row, recorder: Row, b: dict[str, Any], ev: Event, approvers: list[str]) -> None:
    original = ch.get("transactions", (b["reverses"],))
    if original is None or original["group_id"] != meeting["group_id"]:
        raise DomainError("transaction_unknown", "reverses", value=b["reverses"])
    if original["kind"] in NOT_REVERSIBLE:
        raise DomainError("not_reversible", "reverses", kind=original["kind"])
    if original["reversed_by"]:
        raise DomainError("already_reversed", "reverses")
    reason = str(b.get("reason") or "").strip()
    if len(reason) < 3:
        raise DomainError("reason_missing", "reason")
    legs = []
    for i in range(original["legs"]):
        leg = ch.get("postings", (original["txn_id"], i))
        assert leg is not None
        legs.append(Posting(leg["account"], leg["amount"]))
    member = ch.get("members", (original["member_id"],)) if original["member_id"] else None
    if (
        member
        and not member["active"]
        and (original["loan_id"] or any(p.account == savings(member["member_id"]) for p in legs))
    ):
        # Savings given back to someone who left could never be paid out, nor a loan re-opened be repaid:
        # correct it another way.
        raise DomainError("member_left", "reverses", name=member["name"])
    _undo_side_effects(ch, original)
    record_txn(
        ch,
        ev,
        b["txn"],
        meeting,
        kind="reversal",
        fund=Fund(original["fund"]),
        amount=original["amount"],
        postings=reverse(legs),
        member=original["member_id"],
        loan_id=original["loan_id"],
        detail={"kind": original["kind"]},
        recorded_by=recorder["member_id"],
        approvers=approvers,
        reverses=original["txn_id"],
        reason=reason,
    )
    ch.update("transactions", (original["txn_id"],), reversed_by=b["txn"])


def _undo_side_effects(ch: Changes, original: Row) -> None:
    kind, detail = original["kind"], original["detail"]
    if kind in ("loan", "aid") and original["loan_id"]:
        row = ch.get("loans", (original["loan_id"],))
        assert row is not None
        if row["principal_paid"] or row["paf_paid"] or row["penalty_paid"]:
            raise DomainError("loan_has_repayments", "reverses")
        if row["status"] == "active":
            member = ch.get("members", (row["member_id"],))
            assert member is not None
            ch.update("members", (row["member_id"],), active_loans=member["active_loans"] - 1)
        ch.update("loans", (row["loan_id"],), status="cancelled")
    if kind == "aid":
        member = member_row(ch, original["group_id"], original["member_id"])
        ch.update("members", (member["member_id"],), aid_received=member["aid_received"] - original["amount"])
    if kind == "repayment":
        row = ch.get("loans", (original["loan_id"],))
        assert row is not None
        if row["last_repayment"] != original["txn_id"]:
            raise DomainError("reverse_later_repayment_first", "reverses")
        updated = ch.update(
            "loans",
            (row["loan_id"],),
            principal_paid=row["principal_paid"] - detail["principal"],
            paf_paid=row["paf_paid"] - detail["paf"],
            penalty_paid=row["penalty_paid"] - detail["penalty"],
            paf_charged=row["paf_charged"] - detail["new_paf"],
            penalty_charged=row["penalty_charged"] - detail["new_penalty"],
            paf_until=detail["prev_paf_until"],
            penalty_until=detail["prev_penalty_until"],
            last_repayment=detail["prev_last"],
        )
        _settle(ch, updated)
