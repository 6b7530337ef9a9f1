"""What a member's receipt and relevé say they owe and hold, and what the procès-verbal lists."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from conftest import Group, make_group
from paper_support import printed, queued

from kiosk.domain.loans import schedule, terms_of
from kiosk.services import Kiosk
from kiosk.services import meetings as M
from kiosk.services import movements as V
from kiosk.services import receipts as RC
from kiosk.services import statements as ST
from printer.escpos_out import as_text
from printer.layout import layout

GRANTED = date(2026, 1, 12)


def _borrow(k: Kiosk, g: Group) -> tuple[str, str]:
    """Member 0 borrows 30 000 over 3 months and takes the repayable aid for illness (5 000 over 3 months),
    both at the same meeting: their installments fall due the same days."""
    meeting = g.open(GRANTED)
    M.standard_contributions(k, meeting, g.treasurer, exceptions={g.member(0): {"verte": 25000, "rouge": 5000}})
    loan = V.grant_loan(k, meeting, g.treasurer, g.member(0), 30000, 3, g.two())
    V.give_aid(k, meeting, g.treasurer, g.member(0), "maladie", g.two())
    g.close(meeting)
    [aid] = [r["loan_id"] for r in V.active_loans(k, g.member(0)) if r["loan_id"] != loan]
    return loan, aid


def _granted(kiosk: Kiosk, method: str) -> tuple[Group, str]:
    """Member 0 borrows 30 000 over 3 months, the PAF by ``method``, at a meeting then closed."""
    g = make_group(kiosk, 2, rules={"paf_method": method})
    meeting = g.open(GRANTED)
    M.standard_contributions(kiosk, meeting, g.treasurer, exceptions={g.member(0): {"verte": 25000}})
    loan = V.grant_loan(kiosk, meeting, g.treasurer, g.member(0), 30000, 3, g.two())
    g.close(meeting)
    return g, loan


def _plan(k: Kiosk, loan_id: str) -> list:
    return schedule(terms_of(k.store.get("loans", (loan_id,))))


def test_the_next_installment_sums_every_loan_falling_due_that_day(kiosk: Kiosk) -> None:
    g = make_group(kiosk, 2)
    loan, aid = _borrow(kiosk, g)
    first = _plan(kiosk, loan)[0].total + _plan(kiosk, aid)[0].total
    assert first == 10600 + 1665
    balances = RC.member_balances(kiosk, g.group_id, g.member(0), GRANTED)
    assert balances["next_due"] == {"amount": 12265, "date": "2026-02-12", "loans": 2}
    receipt = next(d for d in queued(kiosk, "member") if d["member"]["name"] == "Membre 0")
    assert "Prochaine échéance le 12/02/2026 12 265 FCFA pour 2 prêts" in printed(receipt)
    statement = ST.statement_doc(kiosk, g.member(0))
    assert "Prochaine échéance le 12/02/2026 12 265 FCFA pour 2 prêts" in printed(statement)
    # The aid repaid ahead at the next meeting: only the loan falls due on the 12th, and the aid's
    # next installment comes a month later.
    meeting = g.open(GRANTED + timedelta(days=7))
    V.repay(kiosk, meeting, g.treasurer, aid, _plan(kiosk, aid)[0].total)
    g.close(meeting)
    balances = RC.member_balances(kiosk, g.group_id, g.member(0), GRANTED + timedelta(days=7))
    assert balances["next_due"] == {"amount": 10600, "date": "2026-02-12", "loans": 1}
    receipt = [d for d in queued(kiosk, "member") if d["member"]["name"] == "Membre 0"][-1]
    assert "pour 1" not in printed(receipt) and "prêts" not in printed(receipt)


def test_a_loan_s_receipt_says_its_terms_not_only_its_sum(kiosk: Kiosk) -> None:
    # The borrower took home "Prêt 30 000 FCFA" and nothing of what they had agreed to repay, or when.
    g = make_group(kiosk, 2)
    _borrow(kiosk, g)
    receipt = next(d for d in queued(kiosk, "member") if d["member"]["name"] == "Membre 0")
    paper = printed(receipt)
    assert "Prêt (verte) 30 000 FCFA 3 mois, PAF 1 800 FCFA, à rendre 31 800 FCFA, 1re échéance le 12/02/2026" in paper
    assert "Aide maladie à rembourser (rouge) 5 000 FCFA en 3 mois, sans PAF, 1re échéance le 12/02/2026" in paper
    # …and who let the money go: the two officers whose PINs approved it.
    names = " et ".join(kiosk.member(a.member_id)["name"] for a in g.two())
    assert paper.count(f"approuvé par {names}") == 2


def test_a_declining_loan_s_receipt_gives_its_monthly_rate(kiosk: Kiosk) -> None:
    _granted(kiosk, "declining")
    receipt = next(d for d in queued(kiosk, "member") if d["member"]["name"] == "Membre 0")
    assert "30 000 FCFA 3 mois, PAF 2,00 %/mois du reste dû, 1re échéance le 12/02/2026" in printed(receipt)


@pytest.mark.parametrize("method", ["flat", "declining", "one_time"])
def test_the_échéancier_s_paf_is_the_sum_of_its_installments_paf(kiosk: Kiosk, method: str) -> None:
    _, loan = _granted(kiosk, method)
    ST.print_schedule(kiosk, loan)
    [doc] = queued(kiosk, "schedule")
    planned = sum(i.paf for i in _plan(kiosk, loan))
    assert planned > 0 and doc["loan"]["paf_total"] == planned == sum(i["paf"] for i in doc["installments"])
    assert f"{planned:,} FCFA".replace(",", " ") in printed(doc)


def test_the_next_installment_is_its_own_amount_not_what_is_already_late(kiosk: Kiosk) -> None:
    g = make_group(kiosk, 2)
    loan, aid = _borrow(kiosk, g)
    day = date(2026, 2, 16)  # the first installments fell due on 12 February: nothing repaid
    meeting = g.open(day)
    g.close(meeting)
    late = sum(V.loan_due(kiosk, lid, day).arrears + V.loan_due(kiosk, lid, day).penalty for lid in (loan, aid))
    assert late > 10600 + 1665  # the first installments and a penalty
    balances = RC.member_balances(kiosk, g.group_id, g.member(0), day)
    second = _plan(kiosk, loan)[1].total + _plan(kiosk, aid)[1].total
    assert balances["late"] == late
    assert balances["next_due"] == {"amount": second, "date": "2026-03-12", "loans": 2} and second == 12265
    receipt = [d for d in queued(kiosk, "member") if d["member"]["name"] == "Membre 0"][-1]
    paper = printed(receipt)
    assert f"EN RETARD, à payer {late // 1000} {late % 1000:03d} FCFA" in paper
    penalty = sum(V.loan_due(kiosk, lid, day).penalty for lid in (loan, aid))
    assert penalty and f"dont pénalité {penalty} FCFA" in paper  # the late figure is no installment's: said why
    assert "Prochaine échéance le 12/03/2026 12 265 FCFA" in paper
    # What the code vouches for is what the paper prints, the next installment and its day too.
    event = next(e for e in kiosk.store.events() if e.type == "receipt_issued" and e.seq == receipt_seq(kiosk))
    assert event.body["paper"]["late"] == late and event.body["paper"]["loan"] == 35000
    assert (event.body["paper"]["next"], event.body["paper"]["next_on"], event.body["paper"]["next_loans"]) == (
        12265,
        20260312,
        2,
    )


def receipt_seq(k: Kiosk) -> int:
    """The journal event of the last receipt issued to Membre 0."""
    rows = k.store.query("SELECT doc, receipt_seq FROM print_jobs WHERE kind = 'member' ORDER BY id")
    return [r["receipt_seq"] for r in rows if json.loads(r["doc"])["member"]["name"] == "Membre 0"][-1]


def test_an_installment_falling_due_on_the_meeting_day_and_not_paid_is_on_the_paper(kiosk: Kiosk) -> None:
    # Due today is not late yet, and it is not after today: the receipt said nothing of it.
    g = make_group(kiosk, 2)
    loan, aid = _borrow(kiosk, g)
    day = date(2026, 2, 12)
    meeting = g.open(day)
    V.repay(kiosk, meeting, g.treasurer, aid, _plan(kiosk, aid)[0].total)  # the aid's, not the loan's
    g.close(meeting)
    balances = RC.member_balances(kiosk, g.group_id, g.member(0), day)
    assert balances["late"] == 0
    assert balances["next_due"] == {"amount": _plan(kiosk, loan)[0].total, "date": "2026-02-12", "loans": 1}
    receipt = [d for d in queued(kiosk, "member") if d["member"]["name"] == "Membre 0"][-1]
    assert "Prochaine échéance le 12/02/2026 10 600 FCFA" in printed(receipt)


@pytest.mark.parametrize("method", ["flat", "declining"])
def test_a_late_loan_s_next_installment_is_still_the_échéancier_s_figure(kiosk: Kiosk, method: str) -> None:
    g, loan = _granted(kiosk, method)
    day = date(2026, 2, 16)
    balances = RC.member_balances(kiosk, g.group_id, g.member(0), day)
    plan = _plan(kiosk, loan)
    # Declining PAF is charged on what is still owed: nothing was repaid, so the whole 30 000.
    paf = plan[0].paf if method == "declining" else plan[1].paf
    assert balances["next_due"] == {"amount": plan[1].principal + paf, "date": "2026-03-12", "loans": 1}
    assert balances["late"] > plan[0].total


def test_a_long_relevé_carries_the_balances_of_what_it_leaves_out(kiosk: Kiosk) -> None:
    g = make_group(kiosk, 1)
    member = g.member(0)
    day = GRANTED
    meeting = g.open(day)
    M.standard_contributions(kiosk, meeting, g.treasurer, exceptions={member: {"verte": 25000}})
    V.grant_loan(kiosk, meeting, g.treasurer, member, 20000, 6, g.two())
    g.close(meeting)
    assert "carried" not in ST.statement_doc(kiosk, member)  # three movements: all printed, as before
    for _ in range(14):  # 3 + 14 × 2 = 31 movements: one more than a relevé prints
        day += timedelta(days=7)
        meeting = g.open(day)
        M.standard_contributions(kiosk, meeting, g.treasurer)
        g.close(meeting)
    doc = ST.statement_doc(kiosk, member)
    # The first meeting's three lines are left out together: a balance "at 12/01" followed by lines of
    # the 12th would count them twice.
    assert len(doc["movements"]) == 28 and doc["movements"][0]["date"] == "2026-01-19"
    assert doc["carried"] == {"date": "2026-01-12", "savings": 25000, "loan_outstanding": 20000}
    saved = sum(m["amount"] for m in doc["movements"] if m["fund"] == "verte" and m["kind"] == "contribution")
    assert doc["carried"]["savings"] + saved == doc["balances"]["savings"] == 25000 + 14 * 1000
    assert doc["carried"]["loan_outstanding"] == doc["balances"]["loan_outstanding"]
    for width in (32, 48):
        paper = printed(doc, width)
        assert "Situation au 20/04/2026 (28 derniers mouvements)" in paper
        assert "ÉPARGNE (caisse verte) Reporté du 12/01/26 25 000 FCFA 19/01/26 Cotisation +1 000" in paper
        assert "PRÊTS : CAPITAL Reporté du 12/01/26 20 000 FCFA Capital restant dû 20 000 FCFA" in paper


def test_every_member_s_relevé_adds_up_to_their_balances(kiosk: Kiosk) -> None:
    """Carried + the lines of a section = its balance, for every member of a group whose months hold
    most kinds of movement a member has: loans repaid late, fines, corrections, aids."""
    from kiosk.demo import demo_scenario
    from kiosk.scenario import Runner

    group = Runner(kiosk).run(demo_scenario())
    members = kiosk.store.query("SELECT member_id FROM p_members WHERE group_id = ?", (group,))
    kinds = set()
    for row in members:
        for limit in (1000, 8):  # all of it, and cut short
            doc = ST.statement_doc(kiosk, row["member_id"], limit=limit)
            carried = doc.get("carried") or {"savings": 0, "loan_outstanding": 0}
            moves = doc["movements"]
            kinds |= {m["kind"] for m in moves}
            assert carried["savings"] + sum(m["savings"] for m in moves) == doc["balances"]["savings"]
            assert carried["loan_outstanding"] + sum(m["loan"] for m in moves) == doc["balances"]["loan_outstanding"]
            for m in moves:  # what moved neither balance is the rest, never more than the movement itself
                rest = abs(m["amount"]) - abs(m["savings"]) - abs(m["loan"])
                assert 0 <= rest <= abs(m["amount"]), m
    assert {"contribution", "loan", "repayment", "fine", "reversal"} <= kinds, kinds


def test_the_procès_verbal_lists_loans_in_the_order_they_were_granted(
    kiosk: Kiosk, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = make_group(kiosk, 3)
    meeting = g.open(GRANTED)
    M.standard_contributions(kiosk, meeting, g.treasurer, exceptions={g.member(i): {"verte": 20000} for i in range(3)})
    g.close(meeting)
    # Ids that sort in the opposite order to the loans': the list must not follow them.
    ids = iter(f"{0xFFFFFFFF - n:08x}-0000-4000-8000-000000000000" for n in range(100))
    monkeypatch.setattr(V, "new_id", lambda: next(ids))
    meeting = g.open(GRANTED + timedelta(days=7))
    for i, amount in ((2, 12000), (0, 10000), (1, 11000)):  # not in member number order either
        V.grant_loan(kiosk, meeting, g.treasurer, g.member(i), amount, 3, g.two())
    g.close(meeting)
    report = queued(kiosk, "report")[-1]
    assert [loan["amount"] for loan in report["loans"]] == [12000, 10000, 11000]


def test_a_correction_names_the_member_and_the_fine_it_cancels(kiosk: Kiosk) -> None:
    g = make_group(kiosk, 3)
    meeting = g.open(GRANTED)
    M.standard_contributions(kiosk, meeting, g.treasurer)
    fine = V.fine(kiosk, meeting, g.treasurer, g.member(1), "indiscipline")
    V.reverse(kiosk, meeting, g.treasurer, fine, "erreur de membre", g.two())
    g.close(meeting)
    report = queued(kiosk, "report")[-1]
    number = kiosk.member(g.member(1))["number"]
    [correction] = report["corrections"]
    assert correction["member"] == f"n° {number} Membre 1"
    for width in (32, 48):
        assert f"CORRECTIONS n° {number} Membre 1, Amende" in printed(report, width)


def _fine_and_aid_taken_back(kiosk: Kiosk) -> Group:
    """A meeting where a fine (cash in) and an aid (cash out) were recorded, then both corrected."""
    g = make_group(kiosk, 3)
    meeting = g.open(GRANTED)
    M.standard_contributions(kiosk, meeting, g.treasurer, exceptions={g.member(0): {"rouge": 5000}})
    fine = V.fine(kiosk, meeting, g.treasurer, g.member(1), "indiscipline")
    V.reverse(kiosk, meeting, g.treasurer, fine, "erreur de membre", g.two())
    aid = V.give_aid(kiosk, meeting, g.treasurer, g.member(2), "naissance", g.two())
    V.reverse(kiosk, meeting, g.treasurer, aid, "aide en double", g.two())
    g.close(meeting)
    return g


def test_a_correction_says_which_fine_or_aid_it_cancels(kiosk: Kiosk) -> None:
    g = _fine_and_aid_taken_back(kiosk)
    report = queued(kiosk, "report")[-1]
    assert [c["detail"] for c in report["corrections"]] == [{"fine": "indiscipline"}, {"aid": "naissance"}]
    paper = printed(report, 48)
    assert "Membre 1, Amende indiscipline : erreur de membre 500 FCFA" in paper
    assert "Membre 2, Aide naissance : aide en double 3 000 FCFA" in paper
    receipts = {d["member"]["name"]: d for d in queued(kiosk, "member")}
    assert "ANNULATION Amende indiscipline (rouge) du 12/01/2026 -500 FCFA" in printed(receipts["Membre 1"])
    assert "ANNULATION Aide naissance (rouge) du 12/01/2026" in printed(receipts["Membre 2"])
    statement = ST.statement_doc(kiosk, g.member(1))
    assert "ANNULATION Amende indiscipline (rouge)" in printed(statement)


def _adds_up(kiosk: Kiosk, member: str, limit: int) -> dict:
    doc = ST.statement_doc(kiosk, member, limit=limit)
    carried = doc.get("carried") or {"savings": 0, "loan_outstanding": 0}
    moves = doc["movements"]
    assert carried["savings"] + sum(m["savings"] for m in moves) == doc["balances"]["savings"], (limit, moves)
    assert carried["loan_outstanding"] + sum(m["loan"] for m in moves) == doc["balances"]["loan_outstanding"]
    return doc


def test_a_relevé_adds_up_at_every_cut_through_loans_of_every_fund_a_loss_shared_out_and_a_departure(
    kiosk: Kiosk,
) -> None:
    """Every kind of movement a member's relevé holds, cut after every line: a share-out's two lines (its
    loss, its payout) are never parted by the cut, and a departure with nothing saved is still listed."""
    g = make_group(kiosk, 3, rules={"share_out": True, "withdrawal": "any_time"})
    first = g.open(GRANTED)
    rich = {g.member(0): {"verte": 25000}, g.member(1): {"rouge": 10000}, g.member(2): {"verte": 0}}
    M.standard_contributions(kiosk, first, g.treasurer, exceptions=rich)
    V.fine(kiosk, first, g.treasurer, g.member(0), "retard")
    loan = V.grant_loan(kiosk, first, g.treasurer, g.member(0), 10000, 1, g.two())
    V.give_aid(kiosk, first, g.treasurer, g.member(1), "maladie", g.two())
    g.close(first)
    second = g.open(GRANTED + timedelta(days=7))
    V.repay(kiosk, second, g.treasurer, loan, V.loan_due(kiosk, loan, GRANTED + timedelta(days=7)).payoff)
    [paid] = kiosk.store.query("SELECT txn_id FROM p_transactions WHERE kind = 'repayment' AND loan_id = ?", (loan,))
    V.reverse(kiosk, second, g.treasurer, paid["txn_id"], "saisi sur le mauvais prêt", g.two())
    V.repay(kiosk, second, g.treasurer, loan, V.loan_due(kiosk, loan, GRANTED + timedelta(days=7)).payoff)
    V.withdraw(kiosk, second, g.treasurer, g.member(0), 2000, g.two())
    V.member_exit(kiosk, second, g.treasurer, g.member(2), g.two())  # nothing saved: 0 F, still a line
    V.expense(kiosk, second, g.treasurer, "verte", 3000, "une perte", g.two())  # the box at a loss
    V.do_share_out(kiosk, second, g.treasurer, g.two(), payout=True)
    g.close(second)
    for member in (g.member(0), g.member(1), g.member(2)):
        full = _adds_up(kiosk, member, 1000)
        for limit in range(1, len(full["movements"]) + 1):
            _adds_up(kiosk, member, limit)
    # The newest movement is the share-out: cut to one line, the relevé still prints both of its lines.
    newest = ST.statement_doc(kiosk, g.member(0), limit=1)["movements"]
    assert [m["kind"] for m in newest] == ["share_loss", "share_out"]
    kinds = {m["kind"] for m in ST.statement_doc(kiosk, g.member(0))["movements"]}
    assert {"loan", "repayment", "reversal", "withdrawal", "share_loss", "share_out"} <= kinds, kinds
    gone = " ".join(as_text(layout(ST.statement_doc(kiosk, g.member(2)), 48), 48).split())
    assert "Départ, épargne rendue (verte) 0 FCFA" in gone, gone


def test_a_kiosk_behind_its_server_prints_no_qr_code_that_would_call_its_paper_forged(kiosk: Kiosk) -> None:
    from kiosk.sync import state

    state.update(kiosk.store, server_url="https://sync.example.org")
    g = make_group(kiosk, 2)
    g.close(g.open(GRANTED))
    first = queued(kiosk, "member")
    assert first and all(d["verify_url"].startswith("https://sync.example.org/v/") for d in first)
    meeting = g.open(GRANTED + timedelta(days=7))
    state.set_behind(kiosk.store, 10_000)  # learnt during the meeting: an older backup was put back
    g.close(meeting)  # a meeting already open may finish
    later = queued(kiosk, "member")[len(first) :]
    assert later and all(d["verify_url"] is None for d in later)
    assert ST.statement_doc(kiosk, g.member(0))["verify_url"] is None


def test_a_declining_loan_s_échéancier_says_its_paf_is_for_installments_paid_on_their_dates(kiosk: Kiosk) -> None:
    _, loan = _granted(kiosk, "declining")
    ST.print_schedule(kiosk, loan)
    [doc] = queued(kiosk, "schedule")
    assert "1 200 FCFA si chaque échéance est payée à sa date" in printed(doc)


def test_an_échéancier_reprinted_half_way_marks_the_installments_paid(kiosk: Kiosk) -> None:
    """The plan alone, reprinted after a repayment, read as all of it still due."""
    g, loan = _granted(kiosk, "flat")
    plan = _plan(kiosk, loan)
    meeting = g.open(date(2026, 2, 12))
    V.repay(kiosk, meeting, g.treasurer, loan, plan[0].total)
    g.close(meeting)
    ST.print_schedule(kiosk, loan)
    paper = printed(queued(kiosk, "schedule")[-1])
    assert "1. 12/02/2026 10 600 FCFA dont PAF 600 FCFA, payée" in paper
    assert "2. 12/03/2026 10 600 FCFA dont PAF 600 FCFA 3." in paper  # not yet
    assert "Capital restant 20 000 FCFA" in paper


def test_an_échéancier_says_what_is_left_of_an_installment_paid_in_part(kiosk: Kiosk) -> None:
    """Half an installment paid: 'payée' would be false, and the plan alone reads as all of it still due."""
    g, loan = _granted(kiosk, "flat")
    plan = _plan(kiosk, loan)
    meeting = g.open(date(2026, 2, 12))
    V.repay(kiosk, meeting, g.treasurer, loan, 5_000)  # the PAF 600 first, then 4 400 of capital
    g.close(meeting)
    ST.print_schedule(kiosk, loan)
    paper = printed(queued(kiosk, "schedule")[-1])
    assert plan[0].principal == 10_000
    assert "1. 12/02/2026 10 600 FCFA dont PAF 600 FCFA, reste 5 600 FCFA de capital" in paper
    assert "2. 12/03/2026 10 600 FCFA dont PAF 600 FCFA 3." in paper
    assert "Capital restant 25 600 FCFA" in paper


def test_an_aid_lent_has_an_échéancier_that_calls_it_an_aid(kiosk: Kiosk) -> None:
    """It opened with "Prêt du": to a member helped in a hard time, the aid read as a loan like any other."""
    g = make_group(kiosk, 2)
    _, aid = _borrow(kiosk, g)
    ST.print_schedule(kiosk, aid)
    paper = printed(queued(kiosk, "schedule")[-1])
    assert "Aide remboursable du 12/01/2026 5 000 FCFA Sans PAF" in paper and "Prêt du" not in paper


def test_the_relevé_of_a_member_who_left_says_so(kiosk: Kiosk) -> None:
    """Savings at 0 F, and nothing said: it read as savings lost, not handed back at the departure."""
    g = make_group(kiosk, 3)
    meeting = g.open(GRANTED)
    M.standard_contributions(kiosk, meeting, g.treasurer)
    V.member_exit(kiosk, meeting, g.treasurer, g.member(2), g.two())
    g.close(meeting)
    paper = printed(ST.statement_doc(kiosk, g.member(2)))
    assert "A quitté le groupe le 12/01/2026 Situation au 12/01/2026" in paper
    assert "A quitté" not in printed(ST.statement_doc(kiosk, g.member(1)))


def test_the_procès_verbal_counts_corrections_each_way_apart(kiosk: Kiosk) -> None:
    """A fine taken back is cash out, an aid taken back cash in: "Annulation (rouge) x2 3 500" meant nothing."""
    _fine_and_aid_taken_back(kiosk)
    report = queued(kiosk, "report")[-1]
    rows = {(t["kind"], t["fund"]): (t["count"], t["amount"]) for t in report["totals"]}
    assert rows[("reversal_out", "rouge")] == (1, 500) and rows[("reversal_in", "rouge")] == (1, 3000)
    assert not any(kind == "reversal" for kind, _ in rows)
    paper = printed(report, 48)
    assert "Annulation d'entrée (rouge) x1 500 FCFA" in paper
    assert "Annulation de sortie (rouge) x1 3 000 FCFA" in paper
    # The box's own figures were always right: the 3 000 came back in, the 500 went out again.
    rouge = report["funds"]["rouge"]
    assert rouge["closing_expected"] == rouge["opening_expected"] + rouge["in"] - rouge["out"]
