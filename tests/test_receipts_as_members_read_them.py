"""The papers as a member reads them: what the procès-verbal and the receipts say, from the meetings' books."""

from __future__ import annotations

from datetime import date

from conftest import Group, make_group
from paper_support import printed, queued

from kiosk.domain.funds import count_for
from kiosk.services import Kiosk
from kiosk.services import meetings as M
from kiosk.services import movements as V
from kiosk.services import statements as ST
from printer.escpos_out import as_text
from printer.layout import layout
from printer.samples import DOCS

DAY = date(2026, 3, 2)


def _lines(doc: dict, width: int = 32) -> list[str]:
    return as_text(layout(doc, width), width).splitlines()


def _open_counting(g: Group, day: date, over: dict[str, int]) -> str:
    """A meeting opened with the boxes counted ``over`` what the books expect (negative: missing)."""
    expected = M.expected_cash(g.k, g.group_id)
    counts = {f: count_for(expected[f] + over.get(f, 0)) for f in expected}
    meeting = M.open_meeting(g.k, g.group_id, day, counts, g.two())
    M.record_attendance(g.k, meeting, {m["member_id"]: "present" for m in [*g.officers.values(), *g.members]})
    return meeting


def test_a_box_100_over_at_opening_and_100_short_at_closing_shows_both_errors(kiosk: Kiosk) -> None:
    g = make_group(kiosk, 2)
    first = g.open(DAY)
    M.standard_contributions(kiosk, first, g.treasurer)
    g.close(first)
    meeting = _open_counting(g, date(2026, 3, 9), {"rouge": 100})
    M.standard_contributions(kiosk, meeting, g.treasurer)
    g.close(meeting, adjust={"rouge": -100})
    report = queued(kiosk, "report")[-1]
    rouge = report["funds"]["rouge"]
    assert rouge["opening_counted"] - rouge["opening_expected"] == 100
    assert rouge["closing_counted"] - rouge["closing_expected"] == -100
    lines = _lines(report)
    lines = lines[lines.index("CAISSE ROUGE") : lines.index("MOUVEMENTS")]
    [opening] = [line for line in lines if line.startswith(" Écart à l'ouverture")]
    [closing] = [line for line in lines if line.startswith(" Écart à la clôture")]
    assert opening.endswith(" +100 FCFA") and closing.endswith(" -100 FCFA")
    assert lines[lines.index(opening) + 1].startswith(" Entrées")  # under the opening's lines
    assert lines[lines.index(closing) - 1].startswith(" Clôture, compté")
    text = "\n".join(_lines(report))
    assert " Écart" not in text.split("CAISSE VERTE")[1].split("CAISSE ROUGE")[0]  # counted right: nothing said


def test_an_aid_to_repay_says_so_where_a_gift_does_not(kiosk: Kiosk) -> None:
    # "Vous avez reçu : Aide maladie (rouge) 5 000 FCFA" read as a gift, though 5 000 F are owed back.
    g = make_group(kiosk, 2)
    meeting = g.open(DAY)
    M.standard_contributions(kiosk, meeting, g.treasurer, exceptions={g.member(0): {"rouge": 20000}})
    V.give_aid(kiosk, meeting, g.treasurer, g.member(0), "maladie", g.two())  # lent, over 3 months
    V.give_aid(kiosk, meeting, g.treasurer, g.member(1), "deces", g.two())  # given
    g.close(meeting)
    lent, given = (next(d for d in queued(kiosk, "member") if d["member"]["name"] == f"Membre {i}") for i in (0, 1))
    for width in (32, 48):
        paper = printed(lent, width)
        assert "Vous avez reçu : Aide maladie à rembourser (rouge) 5 000 FCFA en 3 mois, sans PAF," in paper
        assert "Capital restant dû 5 000 FCFA" in paper
        assert "Aide décès (rouge) 10 000 FCFA" in printed(given, width) and "rembourser" not in printed(given, width)
        assert all(len(line) <= width for line in _lines(lent, width))
        assert any(line.endswith(" 1re échéance le 02/04/2026") for line in _lines(lent, width))  # one piece
    assert "Aide maladie à rembourser (rouge) +5 000 FCFA" in printed(ST.statement_doc(kiosk, g.member(0)), 48)
    report = printed(queued(kiosk, "report")[-1])
    assert "(maladie, à rembourser) 5 000 FCFA" in report and "(décès) 10 000 FCFA" in report


def _earn_400(k: Kiosk) -> tuple[Group, str]:
    """Two members save 10 000 and 30 000; a loan repaid earns the caisse verte 400 F of PAF."""
    g = make_group(k, n_members=2, rules={"share_out": True})
    meeting = g.open(DAY, attendance=None)
    V.contribution(k, meeting, g.treasurer, g.member(0), "verte", 10000)
    V.contribution(k, meeting, g.treasurer, g.member(1), "verte", 30000)
    loan = V.grant_loan(k, meeting, g.treasurer, g.member(1), 20000, 1, g.two())
    V.repay(k, meeting, g.treasurer, loan, V.loan_due(k, loan, DAY).payoff)
    return g, meeting


def _movements_of(report: dict, width: int = 32) -> list[str]:
    lines = _lines(report, width)
    return lines[lines.index("MOUVEMENTS") + 1 : lines.index("PRÊTS ACCORDÉS")]


def test_the_procès_verbal_says_what_a_share_out_credited_and_to_how_many(kiosk: Kiosk) -> None:
    # The gains stay in the box, credited to savings: the share-out moved no cash, and the procès-verbal
    # printed "Partage (verte) x1 0 FCFA" though every saver's savings grew.
    g, meeting = _earn_400(kiosk)
    V.do_share_out(kiosk, meeting, g.treasurer, g.two(), payout=False)
    g.close(meeting)
    report = queued(kiosk, "report")[-1]
    lines = _movements_of(report)
    assert lines[-2:] == [" Gains partagés (verte) 400 FCFA", "   entre 2 membres"]
    assert not any("Partage" in line for line in lines)
    assert "Gains partagés (verte) 400 FCFA entre 2 membres" in printed(report, 48)


def test_the_procès_verbal_says_what_a_share_out_paid_out(kiosk: Kiosk) -> None:
    g, meeting = _earn_400(kiosk)
    V.do_share_out(kiosk, meeting, g.treasurer, g.two(), payout=True)
    g.close(meeting)
    lines = _movements_of(queued(kiosk, "report")[-1], 48)
    assert lines[-4:] == [
        " Gains partagés (verte)                 400 FCFA",
        "   entre 2 membres",
        " Épargne et gains versés (verte)     40 400 FCFA",
        "   à 2 membres",
    ]


def test_a_loss_shared_out_is_said_as_a_loss() -> None:
    # A box 100 F short at the end of a cycle where one member saved: that member bears it.
    loss = {"fund": "verte", "gains": 0, "gained_by": 0, "loss": 100, "lost_by": 1, "paid": 0, "paid_to": 0}
    doc = DOCS["report"]() | {"share_outs": [loss]}
    assert _movements_of(doc)[-2:] == [" Perte partagée (verte) 100 FCFA", "   à 1 membre"]


def test_with_a_receipt_per_movement_the_closing_one_reads_as_a_summary(kiosk: Kiosk) -> None:
    # Each contribution had its receipt; the closing one listed them again as "REÇU DE MEMBRE", and a
    # member adding up their papers counted the money twice.
    kiosk.store.set_setting("receipt_mode", "movement")
    g = make_group(kiosk, 2)
    meeting = g.open(DAY)
    V.contribution(kiosk, meeting, g.treasurer, g.member(0), "verte", 1500)
    V.contribution(kiosk, meeting, g.treasurer, g.member(0), "rouge", 200)
    g.close(meeting)
    mine = [d for d in queued(kiosk, "member") if d["member"]["name"] == "Membre 0"]
    *given, closing = mine
    assert len(given) == 2 and all(_lines(d)[1].strip() == "REÇU DE MEMBRE" for d in given)
    assert not any("Reprend" in printed(d) for d in given)
    paper = printed(closing)
    assert paper.startswith("MUSO Test RÉCAPITULATIF DE LA SÉANCE Séance n° 1")
    assert "Reprend les reçus déjà remis à cette séance : ne pas les additionner." in paper
    assert "REÇU DE MEMBRE" not in paper
    for width in (32, 42, 48):  # the advice whole on its line, never "ne" left at the end of one
        assert any(line.endswith("ne pas les additionner.") for line in _lines(closing, width))
    # Membre 1 paid nothing and got no receipt: the closing one is their only paper of the meeting.
    other = next(d for d in queued(kiosk, "member") if d["member"]["name"] == "Membre 1")
    assert "REÇU DE MEMBRE" in printed(other) and "Reprend" not in printed(other)


def test_with_receipts_at_closing_only_the_closing_one_is_the_member_s_receipt(kiosk: Kiosk) -> None:
    g = make_group(kiosk, 2)
    meeting = g.open(DAY)
    V.contribution(kiosk, meeting, g.treasurer, g.member(0), "verte", 1500)
    g.close(meeting)
    [closing] = [d for d in queued(kiosk, "member") if d["member"]["name"] == "Membre 0"]
    assert "REÇU DE MEMBRE" in printed(closing) and "Reprend" not in printed(closing)
