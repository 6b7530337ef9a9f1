"""The less common papers as a member reads them: a loan repaid late or early, a share-out, a member represented,
the procès-verbal of a meeting where money left the boxes for other things than loans and aid."""

from __future__ import annotations

from datetime import date

from conftest import Group, make_group
from paper_support import printed, queued

from kiosk.services import Kiosk
from kiosk.services import meetings as M
from kiosk.services import movements as V
from kiosk.services import statements as ST
from printer.escpos_out import as_text
from printer.layout import layout

GRANTED = date(2026, 1, 12)


def _lent(k: Kiosk, name: str = "MUSO Test") -> tuple[Group, str]:
    """Member 0 borrows 30 000 over 3 months (PAF 600 a month) at a meeting then closed."""
    g = make_group(k, 2, name=name)
    meeting = g.open(GRANTED)
    M.standard_contributions(k, meeting, g.treasurer, exceptions={g.member(0): {"verte": 25000}})
    loan = V.grant_loan(k, meeting, g.treasurer, g.member(0), 30000, 3, g.two())
    g.close(meeting)
    return g, loan


def test_an_échéancier_says_which_part_of_what_was_paid_is_penalties(kiosk: Kiosk) -> None:
    # Its installments add up to 31 800; "Déjà payé 31 905" under them read as 105 F paid too much.
    g, loan = _lent(kiosk)
    late = date(2026, 2, 16)  # the first installment fell due on 12 February
    meeting = g.open(late)
    due = V.loan_due(kiosk, loan, late)
    assert due.penalty == 105
    V.repay(kiosk, meeting, g.treasurer, loan, due.payoff)
    g.close(meeting)
    ST.print_schedule(kiosk, loan)
    [doc] = queued(kiosk, "schedule")
    for width in (32, 48):
        paper = printed(doc, width)
        assert "Déjà payé 31 905 FCFA dont pénalités de retard 105 FCFA Capital restant 0 FCFA" in paper
    # Paid on time, nothing is said of penalties.
    _, loan2 = _lent(kiosk, "MUSO Autre")
    ST.print_schedule(kiosk, loan2)
    assert "pénalité" not in printed(queued(kiosk, "schedule")[-1])


def test_a_loan_repaid_early_leaves_a_receipt_saying_nothing_is_left_to_pay(kiosk: Kiosk) -> None:
    # Repaid in full a month early, the receipt dropped its "Capital restant dû" line: nothing on the
    # paper said the loan was finished, or that the next installment was no longer owed.
    g, loan = _lent(kiosk)
    early = date(2026, 1, 26)
    meeting = g.open(early)
    V.repay(kiosk, meeting, g.treasurer, loan, V.loan_due(kiosk, loan, early).payoff)
    g.close(meeting)
    receipt = [d for d in queued(kiosk, "member") if d["member"]["name"] == "Membre 0"][-1]
    for width in (32, 48):
        paper = printed(receipt, width)
        assert "Remboursement (verte) 31 800 FCFA" in paper
        assert "Capital restant dû 0 FCFA" in paper and "Prochaine échéance" not in paper
    # A member who moved no loan is not told of one.
    other = [d for d in queued(kiosk, "member") if d["member"]["name"] == "Membre 1"][-1]
    assert "Capital" not in printed(other)


def test_a_loan_cancelled_leaves_a_receipt_saying_nothing_is_owed(kiosk: Kiosk) -> None:
    g = make_group(kiosk, 2)
    meeting = g.open(GRANTED)
    M.standard_contributions(kiosk, meeting, g.treasurer, exceptions={g.member(0): {"verte": 25000}})
    V.grant_loan(kiosk, meeting, g.treasurer, g.member(0), 30000, 3, g.two())
    [txn] = kiosk.store.query("SELECT txn_id FROM p_transactions WHERE kind = 'loan'")
    V.reverse(kiosk, meeting, g.treasurer, txn["txn_id"], "prêt saisi deux fois", g.two())
    g.close(meeting)
    receipt = next(d for d in queued(kiosk, "member") if d["member"]["name"] == "Membre 0")
    assert "Capital restant dû 0 FCFA" in printed(receipt)


def test_the_procès_verbal_says_what_was_spent_and_whose_savings_were_paid_out(kiosk: Kiosk) -> None:
    # "Dépense (verte) x1 1 500 FCFA", "Départ, épargne rendue (verte) x1", "Retrait d'épargne (verte) x1": the
    # group's record said neither what the money bought, who approved it, nor whom it was paid to.
    g = make_group(kiosk, 3, rules={"withdrawal": "any_time"})
    meeting = g.open(GRANTED)
    M.standard_contributions(kiosk, meeting, g.treasurer, exceptions={g.member(1): {"verte": 5000}})
    V.expense(kiosk, meeting, g.treasurer, "verte", 1500, "Cahiers et stylos", g.two())
    cancelled = V.expense(kiosk, meeting, g.treasurer, "rouge", 200, "Savon", g.two())
    V.reverse(kiosk, meeting, g.treasurer, cancelled, "déjà payé", g.two())
    V.withdraw(kiosk, meeting, g.treasurer, g.member(1), 2000, g.two())
    V.member_exit(kiosk, meeting, g.treasurer, g.member(2), g.two())
    g.close(meeting)
    report = queued(kiosk, "report")[-1]
    names = " et ".join(kiosk.member(a.member_id)["name"] for a in g.two())
    for width in (32, 48):
        paper = printed(report, width)
        assert f"DÉPENSES Cahiers et stylos (verte) 1 500 FCFA approuvé par {names} CORRECTIONS" in paper
        assert "ÉPARGNE RENDUE n° 6 Membre 1 (retrait) 2 000 FCFA n° 7 Membre 2 (départ) 1 000 FCFA" in paper
        assert "Savon (rouge)" not in paper and "CORRECTIONS Dépense Savon : déjà payé 200 FCFA" in paper


def test_a_member_represented_has_a_receipt_naming_who_stood_in_for_them(kiosk: Kiosk) -> None:
    # The husband paid for his wife and brought her receipt home: it said nothing of him, and the
    # procès-verbal counted "Représentés 1" without saying whom, or by whom.
    g = make_group(kiosk, 2)
    meeting = g.open(GRANTED)
    M.record_attendance(kiosk, meeting, {g.member(0): ("represented", "Son mari")})
    M.standard_contributions(kiosk, meeting, g.treasurer)
    g.close(meeting)
    mine, other = (next(d for d in queued(kiosk, "member") if d["member"]["name"] == f"Membre {i}") for i in (0, 1))
    for width in (32, 48):
        assert "Membre n° 5 : Membre 0 Représentée à la séance par : Son mari Vous avez versé" in printed(mine, width)
        assert "Représenté" not in printed(other, width)
        assert "Représentés 1 n° 5 Membre 0, par : Son mari Total des membres 6" in printed(
            queued(kiosk, "report")[-1], width
        )


def test_a_share_out_paid_says_it_is_the_savings_and_the_gains(kiosk: Kiosk) -> None:
    # "Vous avez reçu : Partage 28 530", then "Porté à votre épargne : Gains du partage 1 530" and
    # "Épargne 0": nothing on the paper tied the three together.
    g = make_group(kiosk, 2, rules={"share_out": True})
    meeting = g.open(GRANTED, attendance=None)
    V.contribution(kiosk, meeting, g.treasurer, g.member(0), "verte", 10000)
    V.contribution(kiosk, meeting, g.treasurer, g.member(1), "verte", 30000)
    loan = V.grant_loan(kiosk, meeting, g.treasurer, g.member(1), 20000, 1, g.two())
    V.repay(kiosk, meeting, g.treasurer, loan, V.loan_due(kiosk, loan, GRANTED).payoff)  # 400 F of PAF
    plan = V.do_share_out(kiosk, meeting, g.treasurer, g.two(), payout=True)
    g.close(meeting)
    gain = plan["shares"][g.member(0)]
    assert gain == 100
    receipt = next(d for d in queued(kiosk, "member") if d["member"]["name"] == "Membre 0")
    for width in (32, 48):
        paper = printed(receipt, width)
        assert "Partage (verte) 10 100 FCFA soit épargne 10 000 FCFA + gains 100 FCFA" in paper
        assert "Gains du partage (verte) 100 FCFA" in paper and "Épargne (verte) 0 FCFA" in paper


def test_a_share_out_paid_after_a_loss_says_the_loss_was_taken_from_the_savings() -> None:
    from printer.samples import DOCS

    doc = DOCS["member"]() | {
        "movements": [
            {"kind": "share_loss", "fund": "verte", "amount": 1000, "flow": "taken", "detail": {}},
            {"kind": "share_out", "fund": "verte", "amount": 9000, "flow": "out", "detail": {}},
        ]
    }
    for width in (32, 48):
        assert "Partage (verte) 9 000 FCFA soit épargne 10 000 FCFA - perte 1 000 FCFA" in printed(doc, width)
        assert not any(line.rstrip().endswith(" -") for line in as_text(layout(doc, width), width).splitlines())
