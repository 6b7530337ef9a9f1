"""Every kind of movement, its double-entry postings and its effect, with amounts by hand."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import Group, make_group

from kiosk.domain.errors import DomainError
from kiosk.i18n import message
from kiosk.services import Approval, Kiosk
from kiosk.services import meetings as M
from kiosk.services import movements as V

DAY = date(2026, 3, 2)


def legs(k: Kiosk, txn: str) -> dict[str, int]:
    """Postings of a transaction with member and loan ids replaced by placeholders."""
    out: dict[str, int] = {}
    for row in k.store.query("SELECT account, amount FROM p_postings WHERE txn_id = ? ORDER BY leg", (txn,)):
        parts = row["account"].split(":")
        name = ":".join(parts[:2] + (["x"] if len(parts) > 2 else []))
        out[name] = out.get(name, 0) + row["amount"]
    return out


def cash(k: Kiosk, g: Group) -> dict[str, int]:
    return M.expected_cash(k, g.group_id)


@pytest.fixture
def meeting(group: Group) -> str:
    return group.open(DAY)


def test_contributions_go_to_savings_or_to_the_group(kiosk: Kiosk, group: Group, meeting: str) -> None:
    m = group.member(0)
    verte = V.contribution(kiosk, meeting, group.treasurer, m, "verte", 1000)
    rouge = V.contribution(kiosk, meeting, group.treasurer, m, "rouge", 200)
    assert legs(kiosk, verte) == {"verte:cash": 1000, "verte:savings:x": -1000}
    assert legs(kiosk, rouge) == {"rouge:cash": 200, "rouge:contributions": -200}
    assert kiosk.savings(group.group_id, m) == 1000  # the red contribution is not the member's
    assert cash(kiosk, group) == {"verte": 1000, "rouge": 200, "bleue": 0}
    with pytest.raises(DomainError, match="fund_not_allowed"):
        V.contribution(kiosk, meeting, group.treasurer, m, "bleue", 100)


def test_entry_fee_and_fines_go_where_the_rules_say(kiosk: Kiosk) -> None:
    g = make_group(kiosk, rules={"entry_fee": 2500, "entry_fee_fund": "verte", "fine_fund": "rouge"})
    meeting = g.open(DAY)
    fee = V.entry_fee(kiosk, meeting, g.treasurer, g.member(1))
    fine = V.fine(kiosk, meeting, g.treasurer, g.member(1), "retard")
    assert legs(kiosk, fee) == {"verte:cash": 2500, "verte:entry_fees": -2500}
    assert legs(kiosk, fine) == {"rouge:cash": 200, "rouge:fines": -200}
    assert kiosk.savings(g.group_id, g.member(1)) == 0  # fees and fines are not savings
    with pytest.raises(DomainError, match="entry_fee_paid"):  # once per member: a second tap charges nothing
        V.entry_fee(kiosk, meeting, g.treasurer, g.member(1))
    V.reverse(kiosk, meeting, g.treasurer, fee, "saisi pour le mauvais membre", g.two())
    V.entry_fee(kiosk, meeting, g.treasurer, g.member(1))  # reversed: it may be charged again
    with pytest.raises(DomainError, match="fine_unknown"):
        V.fine(kiosk, meeting, g.treasurer, g.member(1), "bavardage")


def _fund_group(g: Group, meeting: str, amount: int = 5000) -> None:
    for i in range(len(g.members)):
        V.contribution(g.k, meeting, g.treasurer, g.member(i), "verte", amount)
        V.contribution(g.k, meeting, g.treasurer, g.member(i), "rouge", amount // 5)


def test_loan_disbursement_and_repayment_split(kiosk: Kiosk, group: Group, meeting: str) -> None:
    _fund_group(group, meeting)  # 6 x 5 000 in the verte, member 0 may borrow 15 000
    loan = V.grant_loan(kiosk, meeting, group.treasurer, group.member(0), 15000, 3, group.two())
    row = kiosk.store.get("loans", (loan,))
    assert row and row["paf_charged"] == 900  # 15 000 x 2 % x 3, fixed at disbursement (flat)
    assert legs(kiosk, row["txn_id"]) == {"verte:loan:x": 15000, "verte:cash": -15000}
    assert cash(kiosk, group)["verte"] == 30000 - 15000
    group.close(meeting)

    # Five weeks later (6 Apr): first installment (5 000 + 300, due 2 Apr) is late.
    m2 = group.open(date(2026, 4, 6))
    due = V.loan_due(kiosk, loan, date(2026, 4, 6))
    assert due.arrears == 5300 and due.penalty == 55  # 1 % of 5 300 = 53 -> 55
    split = V.repay(kiosk, m2, group.treasurer, loan, 5355)
    assert (split.penalty, split.paf, split.principal) == (55, 300, 5000)
    txn = kiosk.store.get("loans", (loan,))["last_repayment"]
    assert legs(kiosk, txn) == {"verte:cash": 5355, "verte:loan:x": -5000, "verte:paf": -300, "verte:penalties": -55}
    assert V.loan_due(kiosk, loan, date(2026, 4, 6)).arrears == 0


def test_early_repayment_closes_the_loan(kiosk: Kiosk, group: Group, meeting: str) -> None:
    _fund_group(group, meeting)
    loan = V.grant_loan(kiosk, meeting, group.treasurer, group.member(0), 10000, 2, group.two())
    payoff = V.loan_due(kiosk, loan, DAY).payoff
    assert payoff == 10400  # 10 000 + 2 % x 2 months
    V.repay(kiosk, meeting, group.treasurer, loan, payoff)
    assert kiosk.store.get("loans", (loan,))["status"] == "repaid"
    assert kiosk.member(group.member(0))["active_loans"] == 0
    with pytest.raises(DomainError, match="loan_not_active"):
        V.repay(kiosk, meeting, group.treasurer, loan, 5)


def test_loan_from_the_blue_box(kiosk: Kiosk, group: Group, meeting: str) -> None:
    _fund_group(group, meeting)
    inflow = V.outside_in(kiosk, meeting, group.treasurer, "KOFIP", 50000)
    assert legs(kiosk, inflow) == {"bleue:cash": 50000, "bleue:lender:x": -50000}
    loan = V.grant_loan(kiosk, meeting, group.treasurer, group.member(1), 12000, 3, group.two(), fund="bleue")
    assert kiosk.store.get("loans", (loan,))["fund"] == "bleue"
    assert cash(kiosk, group)["bleue"] == 38000
    out = V.outside_out(kiosk, meeting, group.treasurer, "KOFIP", 20000, 1000, group.two())
    assert legs(kiosk, out) == {"bleue:lender:x": 20000, "bleue:lender_interest": 1000, "bleue:cash": -21000}
    with pytest.raises(DomainError, match="lender_overpaid"):
        V.outside_out(kiosk, meeting, group.treasurer, "KOFIP", 30001, 0, group.two())


def test_aid_grant_and_interest_free_aid_loan(kiosk: Kiosk, group: Group, meeting: str) -> None:
    _fund_group(group, meeting, 10000)  # rouge: 6 x 2 000 = 12 000
    grant = V.give_aid(kiosk, meeting, group.treasurer, group.member(2), "deces", group.two())
    assert legs(kiosk, grant) == {"rouge:aid": 10000, "rouge:cash": -10000}
    V.contribution(kiosk, meeting, group.treasurer, group.member(3), "rouge", 5000)
    aid_loan = V.give_aid(kiosk, meeting, group.treasurer, group.member(3), "maladie", group.two())
    assert legs(kiosk, aid_loan) == {"rouge:loan:x": 5000, "rouge:cash": -5000}
    loan = V.active_loans(kiosk, group.member(3))[0]
    assert (loan["kind"], loan["rate_bp"], loan["paf_charged"]) == ("aid", 0, 0)
    assert kiosk.member(group.member(2))["aid_received"] == 10000
    with pytest.raises(DomainError, match="cash_insufficient"):
        V.give_aid(kiosk, meeting, group.treasurer, group.member(4), "deces", group.two())


def test_withdrawal_and_exit(kiosk: Kiosk) -> None:
    g = make_group(kiosk, rules={"withdrawal": "any_time"})
    meeting = g.open(DAY)
    _fund_group(g, meeting)
    w = V.withdraw(kiosk, meeting, g.treasurer, g.member(0), 2000, g.two())
    assert legs(kiosk, w) == {"verte:savings:x": 2000, "verte:cash": -2000}
    assert kiosk.savings(g.group_id, g.member(0)) == 3000
    with pytest.raises(DomainError, match="savings_insufficient"):
        V.withdraw(kiosk, meeting, g.treasurer, g.member(0), 3005, g.two())
    paid = V.member_exit(kiosk, meeting, g.treasurer, g.member(0), g.two())
    assert paid == 3000
    assert kiosk.member(g.member(0))["active"] == 0
    with pytest.raises(DomainError, match="member_left"):
        V.contribution(kiosk, meeting, g.treasurer, g.member(0), "verte", 1000)


def test_withdrawal_refused_when_rules_say_exit_only(kiosk: Kiosk, group: Group, meeting: str) -> None:
    _fund_group(group, meeting)
    with pytest.raises(DomainError, match="withdrawal_exit_only"):
        V.withdraw(kiosk, meeting, group.treasurer, group.member(0), 1000, group.two())


def test_exit_refused_while_a_loan_runs(kiosk: Kiosk, group: Group, meeting: str) -> None:
    _fund_group(group, meeting)
    V.grant_loan(kiosk, meeting, group.treasurer, group.member(0), 5000, 1, group.two())
    with pytest.raises(DomainError, match="exit_with_loan"):
        V.member_exit(kiosk, meeting, group.treasurer, group.member(0), group.two())


def test_group_expense(kiosk: Kiosk, group: Group, meeting: str) -> None:
    _fund_group(group, meeting)
    e = V.expense(kiosk, meeting, group.treasurer, "rouge", 1500, "cahiers", group.two())
    assert legs(kiosk, e) == {"rouge:expenses": 1500, "rouge:cash": -1500}
    with pytest.raises(DomainError, match="label_missing"):
        V.expense(kiosk, meeting, group.treasurer, "rouge", 100, "  ", group.two())


def test_share_out_distributes_earnings_in_proportion_to_savings(kiosk: Kiosk) -> None:
    g = make_group(kiosk, n_members=2, rules={"share_out": True})
    meeting = g.open(DAY, attendance=None)
    V.contribution(kiosk, meeting, g.treasurer, g.member(0), "verte", 10000)
    V.contribution(kiosk, meeting, g.treasurer, g.member(1), "verte", 30000)
    loan = V.grant_loan(kiosk, meeting, g.treasurer, g.member(1), 20000, 1, g.two())
    V.repay(kiosk, meeting, g.treasurer, loan, V.loan_due(kiosk, loan, DAY).payoff)  # 400 F of PAF earned
    plan = V.share_out_plan(kiosk, g.group_id)
    assert plan["distributable"] == 400
    assert plan["shares"][g.member(0)] == 100 and plan["shares"][g.member(1)] == 300
    result = V.do_share_out(kiosk, meeting, g.treasurer, g.two(), payout=True)
    assert result["payouts"][g.member(1)] == 30300
    assert kiosk.savings(g.group_id, g.member(0)) == 0
    assert cash(kiosk, g)["verte"] == 0


def test_a_loss_is_shared_out_in_proportion_to_savings_and_the_box_pays_what_it_holds(kiosk: Kiosk) -> None:
    # 40 000 saved, then 1 000 spent from the verte with no earnings: the box holds 39 000. Paying
    # everyone's savings back in full was refused ("caisse insuffisante"), and the cycle could not end.
    g = make_group(kiosk, n_members=2, rules={"share_out": True, "rounding_unit": 25})
    meeting = g.open(DAY, attendance=None)
    V.contribution(kiosk, meeting, g.treasurer, g.member(0), "verte", 10000)
    V.contribution(kiosk, meeting, g.treasurer, g.member(1), "verte", 30000)
    V.expense(kiosk, meeting, g.treasurer, "verte", 1000, "registre", g.two())
    plan = V.share_out_plan(kiosk, g.group_id)
    assert plan["distributable"] == -1000
    assert [plan["shares"][g.member(i)] for i in (0, 1)] == [-250, -750] and plan["left_over"] == 0
    assert sum(plan["shares"].values()) == -1000  # the officers saved nothing: they lose nothing
    result = V.do_share_out(kiosk, meeting, g.treasurer, g.two(), payout=True)
    assert [result["payouts"][g.member(i)] for i in (0, 1)] == [9750, 29250]
    assert kiosk.savings(g.group_id, g.member(0)) == 0 and cash(kiosk, g)["verte"] == 0
    # A second share-out has nothing left to share: said before any PIN.
    with pytest.raises(DomainError, match="share_out_nothing"):
        V.check_share_out(kiosk, meeting, payout=True)


def test_a_loss_that_does_not_divide_evenly_never_takes_more_than_a_member_saved(kiosk: Kiosk) -> None:
    g = make_group(kiosk, n_members=3, rules={"share_out": True, "rounding_unit": 100})
    meeting = g.open(DAY, attendance=None)
    for i, amount in enumerate((150, 10000, 20050)):
        V.contribution(kiosk, meeting, g.treasurer, g.member(i), "verte", amount)
    V.expense(kiosk, meeting, g.treasurer, "verte", 20000, "vol", g.two())
    plan = V.do_share_out(kiosk, meeting, g.treasurer, g.two(), payout=False)  # the loss taken from savings
    after = {i: kiosk.savings(g.group_id, g.member(i)) for i in range(3)}
    # Fair parts 99.3, 6 622.5 and 13 278.1 F: in hundreds, 0, 6 600 and 13 200, and the two hundreds
    # still missing to those the rounding favoured most (99.3 and 78.1 F short). Rounding everyone's
    # savings down instead took all 150 F of the smallest saver.
    assert after == {0: 50, 1: 3400, 2: 6750}
    assert sum(after.values()) + plan["left_over"] == cash(kiosk, g)["verte"] == 10200 and plan["left_over"] == 0
    [txn] = kiosk.store.query("SELECT txn_id FROM p_transactions WHERE kind = 'share_out'")
    assert legs(kiosk, txn["txn_id"]) == {"verte:savings:x": 20000, "verte:distributed": -20000}


def test_a_share_out_cannot_move_savings_from_one_member_to_another(kiosk: Kiosk) -> None:
    # A gain is shared or a loss: a body with both passed each share's own check, and moved one
    # member's savings to another's with two officers' PINs.
    g = make_group(kiosk, n_members=2, rules={"share_out": True})
    meeting = g.open(DAY, attendance=None)
    V.contribution(kiosk, meeting, g.treasurer, g.member(0), "verte", 10000)
    head = kiosk.store.head()
    body = {"txn": "t-forged", "meeting": meeting, "kind": "share_out", "by": g.treasurer,
            "shares": {g.member(0): -10000, g.officers["secretaire"]["member_id"]: 10000}, "payouts": {},
            "approvers": [a.member_id for a in g.two()]}  # fmt: skip
    with pytest.raises(DomainError, match="share_out_invalid"):
        kiosk.store.append("movement_recorded", body)
    assert kiosk.store.head() == head and kiosk.savings(g.group_id, g.member(0)) == 10000


def test_a_movement_shared_out_can_no_longer_be_reversed(kiosk: Kiosk) -> None:
    # A repayment recorded by mistake, then the share-out credits its PAF to every member: cancelled
    # afterwards, the members' savings exceeded the box's cash and loans by that PAF, for good.
    g = make_group(kiosk, n_members=2, rules={"share_out": True})
    meeting = g.open(DAY, attendance=None)
    V.contribution(kiosk, meeting, g.treasurer, g.member(0), "verte", 10000)
    red = V.contribution(kiosk, meeting, g.treasurer, g.member(0), "rouge", 200)
    loan = V.grant_loan(kiosk, meeting, g.treasurer, g.member(0), 10000, 1, g.two())
    V.repay(kiosk, meeting, g.treasurer, loan, V.loan_due(kiosk, loan, DAY).payoff)
    txn = kiosk.store.query("SELECT txn_id FROM p_transactions WHERE kind = 'repayment'")[0]["txn_id"]
    V.do_share_out(kiosk, meeting, g.treasurer, g.two(), payout=False)
    head = kiosk.store.head()
    with pytest.raises(DomainError, match="reversal_after_share_out"):
        V.reverse(kiosk, meeting, g.treasurer, txn, "pas payé en vrai", g.two())
    assert kiosk.store.head() == head
    V.reverse(kiosk, meeting, g.treasurer, red, "mauvaise caisse", g.two())  # the red box was not shared out
    later = V.contribution(kiosk, meeting, g.treasurer, g.member(1), "verte", 500)
    V.reverse(kiosk, meeting, g.treasurer, later, "saisi deux fois", g.two())  # nor what came after


def test_reversal_points_at_the_original_and_nets_to_zero(kiosk: Kiosk, group: Group, meeting: str) -> None:
    txn = V.contribution(kiosk, meeting, group.treasurer, group.member(0), "verte", 1000)
    rev = V.reverse(kiosk, meeting, group.treasurer, txn, "saisi deux fois", group.two())
    assert legs(kiosk, rev) == {"verte:cash": -1000, "verte:savings:x": 1000}
    original = kiosk.store.get("transactions", (txn,))
    reversal = kiosk.store.get("transactions", (rev,))
    assert original["reversed_by"] == rev and reversal["reverses"] == txn
    assert reversal["reason"] == "saisi deux fois"
    assert kiosk.savings(group.group_id, group.member(0)) == 0
    with pytest.raises(DomainError, match="already_reversed"):
        V.reverse(kiosk, meeting, group.treasurer, txn, "encore", group.two())
    with pytest.raises(DomainError, match="not_reversible"):
        V.reverse(kiosk, meeting, group.treasurer, rev, "annuler l'annulation", group.two())


def test_a_member_marked_paid_who_paid_nothing_has_both_contributions_reversed_under_one_approval(
    kiosk: Kiosk, group: Group, meeting: str
) -> None:
    M.standard_contributions(kiosk, meeting, group.treasurer)
    member = group.member(0)
    paid = {
        r["fund"]: r["txn_id"]
        for r in kiosk.store.query(
            "SELECT fund, txn_id FROM p_transactions WHERE meeting_id = ? AND member_id = ? AND kind = 'contribution'",
            (meeting, member),
        )
    }
    assert set(paid) == {"verte", "rouge"}
    before = kiosk.store.head()
    for bad, code in (([], "transaction_unknown"), ([paid["verte"]] * 2, "transaction_unknown")):
        with pytest.raises(DomainError, match=code):
            V.reverse_together(kiosk, meeting, group.treasurer, bad, "n'a pas payé", group.two())
    other = kiosk.store.query(
        "SELECT txn_id FROM p_transactions WHERE meeting_id = ? AND member_id = ? AND fund = 'rouge'",
        (meeting, group.member(1)),
    )[0]["txn_id"]
    V.reverse(kiosk, meeting, group.treasurer, other, "saisi deux fois", group.two())
    before = kiosk.store.head()
    with pytest.raises(DomainError, match="already_reversed"):  # one cannot be reversed: neither is
        V.reverse_together(kiosk, meeting, group.treasurer, [paid["verte"], other], "n'a pas payé", group.two())
    assert kiosk.store.head() == before and kiosk.savings(group.group_id, member) == 1000
    reversals = V.reverse_together(
        kiosk, meeting, group.treasurer, [paid["verte"], paid["rouge"]], "n'a pas payé", group.two()
    )
    assert kiosk.store.head()[0] == before[0] + 2
    assert kiosk.savings(group.group_id, member) == 0
    for fund, rev in zip(("verte", "rouge"), reversals, strict=True):
        original = kiosk.store.get("transactions", (paid[fund],))
        assert original["reversed_by"] == rev and kiosk.store.get("transactions", (rev,))["reason"] == "n'a pas payé"


def test_reversing_a_repayment_restores_the_loan(kiosk: Kiosk, group: Group, meeting: str) -> None:
    _fund_group(group, meeting)
    loan = V.grant_loan(kiosk, meeting, group.treasurer, group.member(0), 10000, 2, group.two())
    V.repay(kiosk, meeting, group.treasurer, loan, 10400)
    assert kiosk.store.get("loans", (loan,))["status"] == "repaid"
    txn = kiosk.store.get("loans", (loan,))["last_repayment"]
    V.reverse(kiosk, meeting, group.treasurer, txn, "mauvais membre", group.two())
    row = kiosk.store.get("loans", (loan,))
    assert (row["status"], row["principal_paid"], row["paf_paid"]) == ("active", 0, 0)
    assert kiosk.member(group.member(0))["active_loans"] == 1


def test_a_loan_with_repayments_cannot_be_reversed(kiosk: Kiosk, group: Group, meeting: str) -> None:
    _fund_group(group, meeting)
    loan = V.grant_loan(kiosk, meeting, group.treasurer, group.member(0), 10000, 2, group.two())
    V.repay(kiosk, meeting, group.treasurer, loan, 1000)
    with pytest.raises(DomainError, match="loan_has_repayments"):
        V.reverse(kiosk, meeting, group.treasurer, kiosk.store.get("loans", (loan,))["txn_id"], "erreur", group.two())


def test_a_member_with_no_savings_can_leave(kiosk: Kiosk, group: Group, meeting: str) -> None:
    assert V.member_exit(kiosk, meeting, group.treasurer, group.member(5), group.two()) == 0
    [txn] = kiosk.store.query("SELECT * FROM p_transactions WHERE kind = 'exit'")
    assert (txn["amount"], txn["legs"]) == (0, 0)  # recorded, though no money moved
    assert kiosk.member(group.member(5))["active"] == 0


def test_amounts_beyond_any_box_are_refused_and_change_nothing(kiosk: Kiosk, group: Group, meeting: str) -> None:
    before = kiosk.store.head()
    for amount in (100_000_001, 2**62, 10**30):
        with pytest.raises(DomainError, match="amount_too_large"):
            V.contribution(kiosk, meeting, group.treasurer, group.member(0), "verte", amount)
    with pytest.raises(DomainError, match="count_too_large"):
        M.close_meeting(kiosk, meeting, {"verte": {"b10000": 10**14}}, group.two())
    assert kiosk.store.head() == before
    V.contribution(kiosk, meeting, group.treasurer, group.member(0), "verte", 1000)  # and the books still work
    assert kiosk.savings(group.group_id, group.member(0)) == 1000


def test_what_refuses_a_movement_is_said_before_any_pin_is_checked(kiosk: Kiosk, group: Group, meeting: str) -> None:
    """A wrong PIN among the approvals would be refused as such: these refusals come before it, so no
    officer types a PIN (or counts a failure) for a movement that could never be recorded."""
    from kiosk.services import Approval

    president = group.officers["president"]["member_id"]
    wrong = [Approval(president, "0000"), group.approval("controleur")]
    before = kiosk.store.head()
    with pytest.raises(DomainError, match="cash_insufficient"):
        V.expense(kiosk, meeting, group.treasurer, "rouge", 100, "cahiers", wrong)
    with pytest.raises(DomainError, match="amount_not_integer"):
        V.outside_out(kiosk, meeting, group.treasurer, "ONG Espoir", 100.5, 0, wrong)  # type: ignore[arg-type]
    with pytest.raises(DomainError, match="lender_none"):
        V.outside_out(kiosk, meeting, group.treasurer, "ONG Espoir", 100, 0, wrong)
    other = make_group(kiosk, name="MUSO Voisine")
    with pytest.raises(DomainError, match="member_unknown"):
        V.withdraw(kiosk, meeting, group.treasurer, other.member(0), 100, wrong)
    with pytest.raises(DomainError, match="member_unknown"):
        V.grant_loan(kiosk, meeting, group.treasurer, other.member(0), 5000, 2, wrong)
    assert kiosk.store.head()[0] == before[0] + len(other.members) + 5  # the other group's own making
    failures = kiosk.store.conn.execute("SELECT failures FROM officer_pins WHERE member_id = ?", (president,))
    assert failures.fetchone()[0] == 0


def test_a_label_lender_or_reason_that_is_not_text_is_refused(kiosk: Kiosk, group: Group, meeting: str) -> None:
    # str() once made None a label reading "None"; a number as a reason crashed with AttributeError.
    txn = V.contribution(kiosk, meeting, group.treasurer, group.member(0), "rouge", 200)
    before = kiosk.store.head()
    with pytest.raises(DomainError, match="label_missing"):
        V.expense(kiosk, meeting, group.treasurer, "rouge", 100, None, group.two())  # type: ignore[arg-type]
    with pytest.raises(DomainError, match="lender_invalid"):
        V.outside_in(kiosk, meeting, group.treasurer, 12345, 1000)  # type: ignore[arg-type]
    with pytest.raises(DomainError, match="reason_missing"):
        V.reverse(kiosk, meeting, group.treasurer, txn, 12345, group.two())  # type: ignore[arg-type]
    assert kiosk.store.head() == before


def test_a_partner_is_paid_back_no_more_than_owed_nor_than_the_blue_box_holds(
    kiosk: Kiosk, group: Group, meeting: str
) -> None:
    with pytest.raises(DomainError, match="lender_none"):
        V.check_outside_out(kiosk, meeting, "ONG Espoir", 1000, 0)
    V.outside_in(kiosk, meeting, group.treasurer, "ONG Espoir", 50000)
    V.outside_in(kiosk, meeting, group.treasurer, "Plan Togo", 20000)
    assert V.lenders(kiosk, group.group_id) == [("ONG Espoir", 50000), ("Plan Togo", 20000)]
    V.check_outside_out(kiosk, meeting, "ONG Espoir", 50000, 0)
    with pytest.raises(DomainError, match="lender_overpaid") as over:
        V.check_outside_out(kiosk, meeting, "ONG Espoir", 50005, 0)
    assert (
        message(over.value.problems[0], with_field=False)
        == "remboursement supérieur à ce qui est dû à ONG Espoir (50 000 FCFA)"
    )
    with pytest.raises(DomainError, match="cash_insufficient"):
        V.check_outside_out(kiosk, meeting, "ONG Espoir", 50000, 21000)  # the interest: more than the box holds
    # A name typed otherwise than the money came in under is no partner the box owes: said, with the known ones.
    with pytest.raises(DomainError, match="lender_unknown"):
        V.check_outside_out(kiosk, meeting, "Plan", 0, 500)  # interest only, to no known partner
    with pytest.raises(DomainError, match="lender_unknown") as unknown:
        V.check_outside_out(kiosk, meeting, "Plan", 100, 0)
    assert "partenaires connus : ONG Espoir, Plan Togo" in message(unknown.value.problems[0])


def test_a_loan_term_must_be_a_number_of_months(kiosk: Kiosk, group: Group, meeting: str) -> None:
    _fund_group(group, meeting)
    for term in (True, 2.0, "2"):
        with pytest.raises(DomainError, match="number_invalid"):
            V.grant_loan(kiosk, meeting, group.treasurer, group.member(0), 5000, term, group.two())  # type: ignore[arg-type]
    assert not kiosk.store.query("SELECT 1 FROM p_loans")


def test_a_repaid_loan_of_a_member_who_left_cannot_be_reopened(kiosk: Kiosk, group: Group, meeting: str) -> None:
    _fund_group(group, meeting)
    loan = V.grant_loan(kiosk, meeting, group.treasurer, group.member(0), 3000, 1, group.two())
    V.repay(kiosk, meeting, group.treasurer, loan, V.loan_due(kiosk, loan, DAY).payoff)
    repayment = kiosk.store.get("loans", (loan,))["last_repayment"]
    V.member_exit(kiosk, meeting, group.treasurer, group.member(0), group.two())
    cash_before = cash(kiosk, group)
    with pytest.raises(DomainError, match="member_left"):
        V.reverse(kiosk, meeting, group.treasurer, repayment, "erreur de saisie", group.two())
    assert kiosk.store.get("loans", (loan,))["status"] == "repaid"
    assert cash(kiosk, group) == cash_before


def _at_once(tmp_path, first, second) -> list[object]:  # type: ignore[no-untyped-def]
    """``second`` from another process on the same kiosk, starting first, while ``first`` holds the
    writer's lock: what ``second`` read before its transaction is stale by the time it writes."""
    import threading
    import time

    from kiosk.store.clock import FixedClock

    k1 = Kiosk.open(tmp_path / "kiosk.db", FixedClock())
    k2 = Kiosk.open(tmp_path / "kiosk.db", FixedClock())
    results: list[object] = []

    def run(k: Kiosk, use_case) -> None:  # type: ignore[no-untyped-def]
        try:
            results.append(use_case(k))
        except DomainError as exc:
            results.append(exc.code)

    with k1.store.write():
        t = threading.Thread(target=run, args=(k2, second))
        t.start()
        time.sleep(0.3)
        run(k1, first)
    t.join(30)
    k2.close()
    k1.close()
    return results


def test_two_loans_at_once_keep_to_the_rules(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kiosk.store.clock import FixedClock

    with Kiosk.open(tmp_path / "kiosk.db", FixedClock()) as k:
        g = make_group(k)
        meeting = g.open(DAY)
        _fund_group(g, meeting)  # member 0 may borrow 15 000, one loan at a time

    def lend(k: Kiosk) -> object:
        return V.grant_loan(k, meeting, g.treasurer, g.member(0), 9000, 3, g.two())

    results = _at_once(tmp_path, lend, lend)
    assert sorted(map(str, results))[-1] == "loan_limit_reached"
    with Kiosk.open(tmp_path / "kiosk.db", FixedClock()) as k:
        assert [r["principal"] for r in k.store.query("SELECT principal FROM p_loans")] == [9000]
        assert k.member(g.member(0))["active_loans"] == 1


def test_two_repayments_at_once_charge_the_month_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kiosk.store.clock import FixedClock

    with Kiosk.open(tmp_path / "kiosk.db", FixedClock()) as k:
        g = make_group(k, rules={"paf_method": "declining"})
        meeting = g.open(DAY)
        _fund_group(g, meeting)
        loan = V.grant_loan(k, meeting, g.treasurer, g.member(0), 10000, 6, g.two())
        g.close(meeting)
        later = g.open(date(2026, 4, 6))
        month_paf = V.loan_due(k, loan, date(2026, 4, 6)).new_paf
        assert month_paf > 0

    def pay(k: Kiosk) -> object:
        return V.repay(k, later, g.treasurer, loan, 1000)

    _at_once(tmp_path, pay, pay)
    with Kiosk.open(tmp_path / "kiosk.db", FixedClock()) as k:
        row = k.store.get("loans", (loan,))
        assert row["paf_charged"] == month_paf  # as if paid one after the other
        assert row["penalty_paid"] + row["paf_paid"] + row["principal_paid"] == 2000


def test_a_share_out_is_on_each_member_s_receipt_and_statement(kiosk: Kiosk) -> None:
    import json

    from kiosk.services import statements as ST
    from printer.escpos_out import as_text
    from printer.layout import layout

    g = make_group(kiosk, n_members=2, rules={"share_out": True})
    first = g.open(DAY, attendance=None)
    V.contribution(kiosk, first, g.treasurer, g.member(0), "verte", 10000)
    V.contribution(kiosk, first, g.treasurer, g.member(1), "verte", 30000)
    g.close(first)
    last = g.open(date(2026, 3, 9), attendance=None)
    M.record_attendance(kiosk, last, {g.member(0): "absent", g.member(1): "present"})
    loan = V.grant_loan(kiosk, last, g.treasurer, g.member(1), 20000, 1, g.two())
    V.repay(kiosk, last, g.treasurer, loan, V.loan_due(kiosk, loan, date(2026, 3, 9)).payoff)  # 400 F earned
    V.do_share_out(kiosk, last, g.treasurer, g.two(), payout=True)
    g.close(last)
    docs = {
        doc["member"]["name"]: doc
        for doc in (json.loads(r["doc"]) for r in kiosk.store.query("SELECT doc FROM print_jobs WHERE kind = 'member'"))
        if doc["meeting"]["number"] == 2
    }
    absent = kiosk.member(g.member(0))["name"]
    assert absent in docs  # absent, but paid out: she gets her receipt too
    receipt = as_text(layout(docs[kiosk.member(g.member(1))["name"]]))
    assert "Porté à votre épargne :\n Gains du partage\n (verte)                300 FCFA" in receipt
    assert "Partage (verte)     30 300 FCFA" in receipt and "TOTAL REÇU           50 300 FCFA" in receipt
    assert [(m["kind"], m["amount"]) for m in docs[absent]["movements"]] == [("share_gain", 100), ("share_out", 10100)]
    statement = ST.statement_doc(kiosk, g.member(0))
    assert [(m["kind"], m["amount"]) for m in statement["movements"]][-2:] == [
        ("share_gain", 100),
        ("share_out", 10100),
    ]
    assert statement["balances"]["savings"] == 0


@pytest.mark.parametrize("method", ["flat", "declining"])
def test_a_weekly_group_asks_each_installment_before_it_is_late(kiosk: Kiosk, method: str) -> None:
    # Meetings every Monday, installments due on the 5th: the repayments screen asks each one at the
    # last Monday before the 5th. The member who pays what it asks pays the échéancier, no penalty.
    from datetime import timedelta

    from kiosk.domain.loans import schedule, terms_of

    g = make_group(kiosk, 2, rules={"paf_method": method})
    day = date(2026, 1, 5)
    m = g.open(day)
    M.standard_contributions(kiosk, m, g.treasurer, exceptions={g.member(0): {"verte": 25000}})
    loan = V.grant_loan(kiosk, m, g.treasurer, g.member(0), 30000, 3, g.two())
    plan = schedule(terms_of(kiosk.store.get("loans", (loan,))))
    g.close(m)
    asked = {}
    while kiosk.store.get("loans", (loan,))["status"] == "active" and day < date(2026, 6, 1):
        day += timedelta(days=7)
        m = g.open(day)
        [row] = V.loans_due(kiosk, m)
        assert row["arrears"] == row["penalty"] == 0, day
        if row["due_now"]:
            V.repay(kiosk, m, g.treasurer, loan, row["due_now"])
            asked[day] = row["due_now"]
            if day == date(2026, 2, 2):  # paid before the 5th: the receipt names the next installment
                from kiosk.services.receipts import member_balances

                next_due = member_balances(kiosk, g.group_id, g.member(0), day)["next_due"]
                assert next_due is not None and next_due["date"] == "2026-03-05"
        g.close(m)
    loan_row = kiosk.store.get("loans", (loan,))
    assert loan_row["status"] == "repaid" and loan_row["penalty_paid"] == 0
    assert loan_row["paf_paid"] == sum(i.paf for i in plan) and sum(asked.values()) == 30000 + loan_row["paf_paid"]
    assert {date(2026, 2, 2), date(2026, 3, 2), date(2026, 3, 30)} <= set(asked)  # the Mondays before the 5ths


# -- a member marked absent or excused at the meeting -------------------------------------------

AWAY_KINDS = ("contribution", "fine", "entry_fee", "repayment", "loan", "withdrawal", "exit")


def _marked(kiosk: Kiosk, status: str) -> tuple[Group, str, str]:
    """A second meeting where members 0 to 3 are marked ``status``; member 0 borrowed at the first."""
    from datetime import timedelta

    g = make_group(kiosk, rules={"withdrawal": "any_time"})
    first = g.open(DAY)
    _fund_group(g, first)  # 5 000 of savings each
    loan = V.grant_loan(kiosk, first, g.treasurer, g.member(0), 5000, 2, g.two())
    g.close(first)
    meeting = g.open(DAY + timedelta(days=7))
    mark = (status, "sa fille Ama") if status == "represented" else status
    M.record_attendance(kiosk, meeting, {g.member(i): mark for i in range(4)})
    return g, meeting, loan


def _movement(kiosk: Kiosk, g: Group, meeting: str, loan: str, kind: str, approvals: list | None = None) -> object:
    t, two = g.treasurer, approvals or g.two()
    return {
        "contribution": lambda: V.contribution(kiosk, meeting, t, g.member(1), "verte", 1000),
        "fine": lambda: V.fine(kiosk, meeting, t, g.member(1), "retard"),
        "entry_fee": lambda: V.entry_fee(kiosk, meeting, t, g.member(1)),
        "repayment": lambda: V.repay(kiosk, meeting, t, loan, 1000),
        "withdrawal": lambda: V.withdraw(kiosk, meeting, t, g.member(1), 1000, two),
        "loan": lambda: V.grant_loan(kiosk, meeting, t, g.member(2), 3000, 1, two),
        "exit": lambda: V.member_exit(kiosk, meeting, t, g.member(3), two),
    }[kind]()


@pytest.mark.parametrize("status", ["absent", "excused"])
@pytest.mark.parametrize("kind", AWAY_KINDS)
def test_no_money_moves_for_a_member_marked_absent_or_excused(kiosk: Kiosk, kind: str, status: str) -> None:
    # Marked away, then paid: the money sat with a member the screens count as away, and the next
    # meeting suggested an absence fine to a member who had paid.
    g, meeting, loan = _marked(kiosk, status)
    head = kiosk.store.head()
    with pytest.raises(DomainError) as refused:
        _movement(kiosk, g, meeting, loan, kind)
    assert refused.value.code == f"member_{status}"
    assert "Présences" in message(refused.value.problems[0]) and "représenté" in message(refused.value.problems[0])
    # Before any officer types a PIN: wrong ones are not even looked at.
    wrong = [Approval(a.member_id, "0000") for a in g.two()]
    with pytest.raises(DomainError, match=f"member_{status}"):
        _movement(kiosk, g, meeting, loan, kind, wrong)
    assert kiosk.store.head() == head  # nothing recorded
    # The checks the screens run before the confirmation say it too.
    if kind == "loan":
        assert V.check_loan(kiosk, meeting, g.member(2), 3000, 1)[0].code == f"member_{status}"
    checks = {
        "repayment": lambda: V.check_repayment(kiosk, meeting, loan, 1000),
        "withdrawal": lambda: V.check_withdrawal(kiosk, meeting, g.member(1), 1000),
        "exit": lambda: V.check_exit(kiosk, meeting, g.member(3)),
        "contribution": lambda: M.check_here(kiosk, meeting, g.member(1)),
    }
    if kind in checks:
        with pytest.raises(DomainError, match=f"member_{status}"):
            checks[kind]()


@pytest.mark.parametrize("status", ["present", "late", "represented"])
def test_money_moves_for_a_member_present_late_or_represented(kiosk: Kiosk, status: str) -> None:
    g, meeting, loan = _marked(kiosk, status)
    for kind in AWAY_KINDS:
        _movement(kiosk, g, meeting, loan, kind)
    kinds = {r["kind"] for r in kiosk.store.query("SELECT kind FROM p_transactions WHERE meeting_id = ?", (meeting,))}
    assert set(AWAY_KINDS) <= kinds


@pytest.mark.parametrize("status", ["absent", "excused"])
def test_solidarity_aid_and_corrections_reach_a_member_away(kiosk: Kiosk, status: str) -> None:
    # The officers bring the caisse rouge's aid to whom illness or a death keeps away; a correction
    # of an earlier meeting's movement needs nobody at this one.
    g, meeting, _loan = _marked(kiosk, status)
    V.contribution(kiosk, meeting, g.treasurer, g.member(5), "rouge", 5000)  # the rouge: 6 000 + 5 000
    V.give_aid(kiosk, meeting, g.treasurer, g.member(1), "naissance", g.two())  # a grant
    V.give_aid(kiosk, meeting, g.treasurer, g.member(2), "maladie", g.two())  # an interest-free aid loan
    # And the other way: aid first, then marked away.
    V.give_aid(kiosk, meeting, g.treasurer, g.member(4), "naissance", g.two())
    M.record_attendance(kiosk, meeting, {g.member(4): status})
    assert M.attendance(kiosk, meeting)[g.member(4)] == status
    earlier = kiosk.store.query(
        "SELECT txn_id FROM p_transactions WHERE member_id = ? AND kind = 'contribution' AND meeting_id != ?",
        (g.member(1), meeting),
    )[0]["txn_id"]
    V.reverse(kiosk, meeting, g.treasurer, earlier, "saisie en double", g.two())
    assert kiosk.member(g.member(1))["aid_received"] == 3000
