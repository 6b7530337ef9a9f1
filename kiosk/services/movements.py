"""Money movements at an open meeting: one use case, one transaction each."""

from __future__ import annotations

from datetime import date
from typing import Any

from kiosk.domain.errors import DomainError, Problem
from kiosk.domain.funds import Fund, parse_fund
from kiosk.domain.loans import Due, Split, Terms, due_at, split_payment, standing_of, terms_of
from kiosk.domain.meetings import IN_PERSON, next_meeting
from kiosk.domain.money import check_amount
from kiosk.domain.policies import Borrower, aid_problem, loan_problems, share_out, withdrawal_problems
from kiosk.domain.postings import lender as lender_account
from kiosk.domain.rules import AidKind
from kiosk.store.pins import drop_pin

from .context import Approval, Kiosk, new_id
from .meetings import away_problem_of, check_here
from .receipts import issue_movement_receipt


def _record(k: Kiosk, meeting_id: str, by: str, kind: str, **fields: Any) -> str:
    txn = new_id()
    with k.store.write() as w:
        # Every use case's last word, under the writer's lock: whatever it asked before the PINs, the
        # member may have been marked absent since. The reducer does not judge it: journals recorded
        # before this rule must still apply.
        member = _in_person(k, kind, fields)
        if member:
            check_here(k, meeting_id, member)
        w.append("movement_recorded", {"txn": txn, "meeting": meeting_id, "kind": kind, "by": by, **fields})
        if k.store.setting("receipt_mode") == "movement":
            issue_movement_receipt(k, w, txn)
    return txn


def _in_person(k: Kiosk, kind: str, fields: dict[str, Any]) -> str | None:
    """The member whose money a movement of the IN_PERSON kinds moves (a repayment's is its loan's)."""
    if kind not in IN_PERSON:
        return None
    if kind == "repayment":
        row = k.store.get("loans", (fields["loan"],))
        return row["member_id"] if row else None  # an unknown loan: the reducer says so
    member = fields.get("member")
    return member if isinstance(member, str) else None


def _member_of(k: Kiosk, group_id: str, member_id: str) -> dict[str, Any]:
    """A member of this group: another group's would read as one with no savings, or too few."""
    member = k.member(member_id)
    if member["group_id"] != group_id:
        raise DomainError("member_unknown", "member", value=member_id)
    return member


def _meeting_group(k: Kiosk, meeting_id: str) -> str:
    return str(k.meeting(meeting_id)["group_id"])


def contribution(k: Kiosk, meeting_id: str, by: str, member_id: str, fund: str, amount: int) -> str:
    return _record(
        k, meeting_id, by, "contribution", member=member_id, fund=parse_fund(fund).value, amount=check_amount(amount)
    )


def fine(k: Kiosk, meeting_id: str, by: str, member_id: str, name: str, amount: int | None = None) -> str:
    rules = k.rules(_meeting_group(k, meeting_id))
    if name not in rules.fines:
        raise DomainError("fine_unknown", "fine", value=name)
    amount = rules.fines[name] if amount is None else check_amount(amount)
    return _record(k, meeting_id, by, "fine", member=member_id, fund=rules.fine_fund.value, amount=amount, fine=name)


def entry_fee(k: Kiosk, meeting_id: str, by: str, member_id: str) -> str:
    """The fee of joining, once per member (a second tap would charge it again)."""
    rules = k.rules(_meeting_group(k, meeting_id))
    if not rules.entry_fee:
        raise DomainError("entry_fee_none", "member")
    with k.store.write():
        if k.store.query(
            "SELECT 1 FROM p_transactions WHERE member_id = ? AND kind = 'entry_fee' AND reversed_by IS NULL",
            (member_id,),
        ):
            raise DomainError("entry_fee_paid", "member", name=k.member(member_id)["name"])
        return _record(
            k, meeting_id, by, "entry_fee", member=member_id, fund=rules.entry_fee_fund.value, amount=rules.entry_fee
        )


# -- loans --------------------------------------------------------------------------------


def borrower(k: Kiosk, member_id: str, today: date) -> Borrower:
    member = k.member(member_id)
    arrears = sum(loan_due(k, row["loan_id"], today).arrears for row in active_loans(k, member_id))
    return Borrower(
        member["name"],
        bool(member["active"]),
        k.savings(member["group_id"], member_id),
        member["active_loans"],
        arrears,
    )


def check_loan(
    k: Kiosk, meeting_id: str, member_id: str, amount: int, term_months: int, fund: str = "verte"
) -> list[Problem]:
    """The rule check, shown in words before the officers approve."""
    meeting = k.meeting(meeting_id)
    group_id = meeting["group_id"]
    _member_of(k, group_id, member_id)
    away = away_problem_of(k, meeting_id, member_id)
    who = borrower(k, member_id, date.fromisoformat(meeting["date"]))
    problems = loan_problems(k.rules(group_id), who, amount, term_months, k.cash(group_id, parse_fund(fund).value))
    return [away, *problems] if away else problems


def grant_loan(
    k: Kiosk,
    meeting_id: str,
    by: str,
    member_id: str,
    amount: int,
    term_months: int,
    approvals: list[Approval],
    *,
    fund: str = "verte",
) -> str:
    meeting = k.meeting(meeting_id)
    check_amount(amount)
    _refuse(check_loan(k, meeting_id, member_id, amount, term_months, fund))
    if parse_fund(fund) is Fund.ROUGE:
        raise DomainError("fund_not_allowed", "fund", value=fund)
    approvers = k.approve(approvals)
    with k.store.write():
        # Again under the writer's lock: another tap or process may have lent to this member meanwhile,
        # and the reducer cannot judge the règlement's ceiling or arrears on its own.
        _refuse(check_loan(k, meeting_id, member_id, amount, term_months, fund))
        rules = k.rules(meeting["group_id"])
        terms = Terms.from_rules(rules, amount, term_months, date.fromisoformat(meeting["date"]))
        loan_id = new_id()
        _record(
            k,
            meeting_id,
            by,
            "loan",
            member=member_id,
            loan=loan_id,
            fund=fund,
            amount=amount,
            paf=terms.fixed_paf(),
            terms={
                "method": terms.method.value,
                "rate_bp": terms.rate_bp,
                "term_months": term_months,
                "rounding_unit": terms.rounding_unit,
                "penalty_bp": terms.penalty_bp,
            },
            approvers=approvers,
        )
    return loan_id


def loan_due(k: Kiosk, loan_id: str, today: date) -> Due:
    """What a loan owes at the group's meeting of ``today`` (with what falls due before its next one)."""
    row = k.store.get("loans", (loan_id,))
    if row is None:
        raise DomainError("loan_unknown", "loan", value=loan_id)
    return due_at(terms_of(row), standing_of(row), today, next_meeting(k.rules(row["group_id"]), today))


def active_loans(k: Kiosk, member_id: str) -> list[dict[str, Any]]:
    return k.store.query("SELECT * FROM p_loans WHERE member_id = ? AND status = 'active' ORDER BY start", (member_id,))


def repay(k: Kiosk, meeting_id: str, by: str, loan_id: str, amount: int) -> Split:
    """Record a repayment, split into penalty, PAF and principal by the loan's terms."""
    # What is due is read inside the transaction: two repayments at once must not both charge this month's PAF.
    with k.store.write():
        due, split = _repayment(k, meeting_id, loan_id, amount)
        _record(
            k,
            meeting_id,
            by,
            "repayment",
            loan=loan_id,
            amount=amount,
            principal=split.principal,
            paf=split.paf,
            penalty=split.penalty,
            new_paf=due.new_paf,
            new_penalty=due.new_penalty,
            paf_until=due.paf_until.isoformat() if due.paf_until else None,
            penalty_until=due.penalty_until.isoformat() if due.penalty_until else None,
        )
    return split


def check_repayment(k: Kiosk, meeting_id: str, loan_id: str, amount: int) -> Split:
    """How a repayment would be split, or why it is refused, before the treasurer confirms it."""
    return _repayment(k, meeting_id, loan_id, amount)[1]


def _repayment(k: Kiosk, meeting_id: str, loan_id: str, amount: int) -> tuple[Due, Split]:
    meeting = k.meeting(meeting_id)
    row = k.store.get("loans", (loan_id,))
    if row is not None and row["status"] != "active":
        raise DomainError("loan_not_active", "loan", status=row["status"])
    if row is not None:
        check_here(k, meeting_id, row["member_id"])  # said at the tap, before the confirmation
    due = loan_due(k, loan_id, date.fromisoformat(meeting["date"]))
    return due, split_payment(due, check_amount(amount))


def loans_due(k: Kiosk, meeting_id: str) -> list[dict[str, Any]]:
    """Members with an active loan, what they owe now, and their arrears: the repayments screen."""
    meeting = k.meeting(meeting_id)
    today = date.fromisoformat(meeting["date"])
    then = next_meeting(k.rules(meeting["group_id"]), today)
    out = []
    for row in k.store.query(
        "SELECT l.*, m.name, m.number, m.sex FROM p_loans l JOIN p_members m USING (member_id) "
        "WHERE l.group_id = ? AND l.status = 'active' ORDER BY m.number",
        (meeting["group_id"],),
    ):
        due = due_at(terms_of(row), standing_of(row), today, then)
        out.append({**row, "due_now": due.now, "payoff": due.payoff, "arrears": due.arrears, "penalty": due.penalty})
    return out


# -- aid, withdrawals, exit --------------------------------------------------------------------


def _refuse(problems: list[Problem]) -> None:
    if problems:
        raise DomainError.of(problems)


# Use cases that need officers' PINs check the règlement twice: before the PINs, to refuse
# with words before anyone types one, and again inside the write transaction, on what is
# true then. The PIN check stays outside it: a wrong PIN's count must commit.


def _aid(k: Kiosk, meeting_id: str, aid_type: str) -> Any:
    group_id = _meeting_group(k, meeting_id)
    aid, problems = aid_problem(k.rules(group_id), aid_type, k.cash(group_id, "rouge"))
    _refuse(problems)
    return aid


def give_aid(k: Kiosk, meeting_id: str, by: str, member_id: str, aid_type: str, approvals: list[Approval]) -> str:
    _aid(k, meeting_id, aid_type)
    approvers = k.approve(approvals)
    with k.store.write():
        aid = _aid(k, meeting_id, aid_type)
        fields: dict[str, Any] = {"member": member_id, "aid": aid_type, "amount": aid.amount, "approvers": approvers}
        if aid.kind is AidKind.LOAN:
            fields |= {"loan": new_id(), "term_months": aid.term_months}
        return _record(k, meeting_id, by, "aid", **fields)


def check_withdrawal(k: Kiosk, meeting_id: str, member_id: str, amount: int) -> None:
    """The règlement's word on a withdrawal, before any officer types a PIN (and again when recording)."""
    group_id = _meeting_group(k, meeting_id)
    member = _member_of(k, group_id, member_id)
    away = away_problem_of(k, meeting_id, member_id)
    problems = withdrawal_problems(
        k.rules(group_id), k.savings(group_id, member_id), check_amount(amount), active_loans=member["active_loans"]
    )
    _refuse([away, *problems] if away else problems)


def withdraw(k: Kiosk, meeting_id: str, by: str, member_id: str, amount: int, approvals: list[Approval]) -> str:
    check_withdrawal(k, meeting_id, member_id, amount)
    approvers = k.approve(approvals)
    with k.store.write():
        check_withdrawal(k, meeting_id, member_id, amount)
        return _record(k, meeting_id, by, "withdrawal", member=member_id, amount=amount, approvers=approvers)


def check_exit(k: Kiosk, meeting_id: str, member_id: str) -> None:
    """Why the member cannot leave now, before the confirmation and any PIN (and again when recording)."""
    member = k.member(member_id)
    away = away_problem_of(k, meeting_id, member_id)
    problems = [away] if away else []
    if member["active_loans"]:
        problems.append(Problem("exit_with_loan", "member", {"name": member["name"]}))
    _refuse(problems)


def member_exit(k: Kiosk, meeting_id: str, by: str, member_id: str, approvals: list[Approval]) -> int:
    """A member leaves: their savings are paid back in full. Returns the amount paid."""
    check_exit(k, meeting_id, member_id)
    approvers = k.approve(approvals)
    with k.store.write() as w:
        check_exit(k, meeting_id, member_id)
        amount = k.savings(_meeting_group(k, meeting_id), member_id)
        _record(k, meeting_id, by, "exit", member=member_id, amount=amount, approvers=approvers)
        drop_pin(w, member_id)  # an officer who leaves leaves their office too
    return amount


# -- group money ---------------------------------------------------------------------------


def check_expense(k: Kiosk, meeting_id: str, fund: str, amount: int) -> None:
    """An expense the box cannot pay is refused before any officer types a PIN."""
    box = parse_fund(fund).value
    cash = k.cash(_meeting_group(k, meeting_id), box)
    if check_amount(amount) > cash:
        raise DomainError("cash_insufficient", "amount", fund=box, missing=amount - cash)


def lenders(k: Kiosk, group_id: str) -> list[tuple[str, int]]:
    """The partners whose money the blue box has held, with what it still owes each (most first).

    A partner's account is keyed by the name typed when their money came in: the screen offers these
    names, so that "Plan" is not typed for "Plan Togo" when paying them back."""
    prefix = lender_account("")
    rows = k.store.query(
        "SELECT account, balance FROM p_accounts WHERE group_id = ? AND substr(account, 1, ?) = ?",
        (group_id, len(prefix), prefix),
    )
    return sorted(((r["account"][len(prefix) :], -int(r["balance"])) for r in rows), key=lambda x: (-x[1], x[0]))


def check_outside_out(k: Kiosk, meeting_id: str, lender: str, principal: int, interest: int) -> None:
    """Paying a partner more than is owed, or more than the blue box holds, is refused before the PINs."""
    group_id = _meeting_group(k, meeting_id)
    name = _typed(lender, "lender_invalid", "lender").strip()
    principal = check_amount(principal, "principal", allow_zero=True)
    interest = check_amount(interest, "interest", allow_zero=True)
    row = k.store.get("accounts", (group_id, lender_account(name)))
    if row is None:  # a name typed otherwise than the money came in under: no partner, even for interest only
        known = ", ".join(n for n, _ in lenders(k, group_id))
        if not known:
            raise DomainError("lender_none", "lender", value=name)
        raise DomainError("lender_unknown", "lender", value=name, known=known)
    owed = -row["balance"]
    if principal > owed:
        raise DomainError("lender_overpaid", "amount", lender=name, owed=owed)
    check_expense(k, meeting_id, "bleue", principal + interest)


def _typed(value: object, code: str, field: str) -> str:
    """What a person typed: text, refused before it is recorded (the reducer keeps ``str()`` for old journals,
    which turned a label None into "None")."""
    if not isinstance(value, str) or not value.strip():
        raise DomainError(code, field, value=repr(value))
    return value


def expense(k: Kiosk, meeting_id: str, by: str, fund: str, amount: int, label: str, approvals: list[Approval]) -> str:
    _typed(label, "label_missing", "label")
    check_expense(k, meeting_id, fund, amount)  # before the PINs, as the screen does
    approvers = k.approve(approvals)
    return _record(
        k,
        meeting_id,
        by,
        "expense",
        fund=parse_fund(fund).value,
        amount=check_amount(amount),
        label=label,
        approvers=approvers,
    )


def outside_in(k: Kiosk, meeting_id: str, by: str, lender: str, amount: int) -> str:
    _typed(lender, "lender_invalid", "lender")
    return _record(k, meeting_id, by, "outside_in", lender=lender, amount=check_amount(amount))


def outside_out(
    k: Kiosk, meeting_id: str, by: str, lender: str, principal: int, interest: int, approvals: list[Approval]
) -> str:
    check_outside_out(k, meeting_id, lender, principal, interest)  # before the PINs, as the screen does
    approvers = k.approve(approvals)
    return _record(
        k, meeting_id, by, "outside_out", lender=lender, principal=principal, interest=interest, approvers=approvers
    )


def share_out_plan(k: Kiosk, group_id: str) -> dict[str, Any]:
    """What a share-out would give each member: savings plus a share of the verte's earnings."""
    members = k.store.query("SELECT member_id FROM p_members WHERE group_id = ? AND active = 1", (group_id,))
    savings = {m["member_id"]: k.savings(group_id, m["member_id"]) for m in members}
    loans = k.store.query(
        "SELECT COALESCE(SUM(balance), 0) AS s FROM p_accounts WHERE group_id = ? AND account LIKE 'verte:loan:%'",
        (group_id,),
    )[0]["s"]
    all_savings = -k.store.query(
        "SELECT COALESCE(SUM(balance), 0) AS s FROM p_accounts WHERE group_id = ? AND account LIKE 'verte:savings:%'",
        (group_id,),
    )[0]["s"]
    distributable = k.cash(group_id, "verte") + loans - all_savings
    shares, left = share_out(savings, distributable, k.rules(group_id).rounding_unit)
    return {"savings": savings, "shares": shares, "left_over": left, "distributable": distributable}


def do_share_out(k: Kiosk, meeting_id: str, by: str, approvals: list[Approval], *, payout: bool) -> dict[str, Any]:
    """End of cycle: credit each member's share of earnings; with ``payout``, hand out all savings."""
    check_share_out(k, meeting_id, payout=payout)
    approvers = k.approve(approvals)
    with k.store.write():
        # The plan is made on the books as they are under the writer's lock, not as they were before the PINs.
        plan = check_share_out(k, meeting_id, payout=payout)
        payouts = {m: plan["savings"][m] + plan["shares"][m] for m in plan["savings"]} if payout else {}
        _record(k, meeting_id, by, "share_out", shares=plan["shares"], payouts=payouts, approvers=approvers)
    return plan | {"payouts": payouts}


def check_share_out(k: Kiosk, meeting_id: str, *, payout: bool) -> dict[str, Any]:
    """The share-out's plan, or its refusal (asked before any officer types a PIN, and again after)."""
    group_id = _meeting_group(k, meeting_id)
    if not k.rules(group_id).share_out:
        raise DomainError("share_out_not_in_rules", "share_out")
    if payout and k.store.query(
        "SELECT 1 FROM p_loans WHERE group_id = ? AND fund = 'verte' AND status = 'active' LIMIT 1", (group_id,)
    ):
        raise DomainError("share_out_with_loans", "payout")
    plan = share_out_plan(k, group_id)
    if not any(plan["shares"].values()) and not (payout and any(plan["savings"].values())):
        raise DomainError("share_out_nothing", "share_out")  # no gain or loss to credit, no savings to pay
    return plan


# -- corrections -------------------------------------------------------------------------------


def reverse(k: Kiosk, meeting_id: str, by: str, txn_id: str, reason: str, approvals: list[Approval]) -> str:
    """Correct a mistake with a reversal that points at it; the original stays in the journal."""
    return reverse_together(k, meeting_id, by, [txn_id], reason, approvals)[0]


def reverse_together(
    k: Kiosk, meeting_id: str, by: str, txn_ids: list[str], reason: str, approvals: list[Approval]
) -> list[str]:
    """Several movements reversed for one reason under one approval, all or none: a member marked paid by
    the one-tap who paid nothing has two contributions (green and red) to undo, and two rounds of PINs for
    one mistake were one too many."""
    if not txn_ids or len(set(txn_ids)) != len(txn_ids):
        raise DomainError("transaction_unknown", "reverses", value=",".join(map(str, txn_ids)))
    for txn_id in txn_ids:
        original = k.store.get("transactions", (txn_id,))
        if original is None:
            raise DomainError("transaction_unknown", "reverses", value=txn_id)
        if k.store.query(
            "SELECT 1 FROM p_transactions WHERE group_id = ? AND fund = ? AND kind = 'share_out' "
            "AND reversed_by IS NULL AND seq > ? LIMIT 1",
            (original["group_id"], original["fund"], original["seq"]),
        ):
            # The share-out divided the box as it stood, this movement included: cancelled afterwards, its
            # money stays divided (PAF never paid, credited to every member's savings all the same).
            raise DomainError("reversal_after_share_out", "reverses", fund=original["fund"])
    if not isinstance(reason, str) or len(reason.strip()) < 3:
        raise DomainError("reason_missing", "reason")
    approvers = k.approve(approvals)
    with k.store.write():  # the reducer refuses one (already reversed, another group's): none is recorded
        return [
            _record(k, meeting_id, by, "reversal", reverses=txn_id, reason=reason.strip(), approvers=approvers)
            for txn_id in txn_ids
        ]
