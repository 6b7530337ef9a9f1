"""What a treasurer running a meeting found: a typo hidden in a total, refusals said only after the PINs,
receipts doubled, toasts that told half the story."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ui_support  # noqa: F401  (chooses the offscreen platform before Qt loads)
from ui_support import (
    App,
    db_fixture,  # noqa: F401  (the fixture ``db``)
    everyone_paid,
    running_app,
    to_contributions,
)

from kiosk.services import meetings as M

NBSP = "\u00a0"


def plain(text: str) -> str:
    return text.replace(NBSP, " ")


def confirm_lines(a: App) -> list[str]:
    from PySide6.QtWidgets import QLabel

    return [plain(w.text()) for w in a.win.overlays[-1].findChildren(QLabel, "confirm_line") if w.isVisible()]


def name(a: App, number: int) -> str:
    return str(a.k.member_by_number(a.group_id, number)["name"])


def test_an_outsized_contribution_is_asked_again_and_every_exception_is_listed(
    qtbot: Any, db: tuple[Path, str]
) -> None:
    with running_app(qtbot, *db) as a:
        d = a.d
        to_contributions(a)
        # A thumb that slipped: 9 999 995 F of verte for one member (the standard is 1 000 F).
        d.tap("contrib_member_15")
        d.tap("contrib_verte_other")
        d.digits(9999995)
        d.tap("number_ok")
        assert d.text("confirm_title") == "Montant inhabituel : confirmer ?"
        assert "Plus de 5 fois la cotisation verte (1 000 F)." in confirm_lines(a)
        d.tap("confirm_cancel")  # back on the keypad: the next key starts a new amount
        d.digits(5000)  # arrears of four meetings and today's: usual, not asked
        d.tap("number_ok")
        assert plain(d.text("contrib_value_verte")) == "5 000 FCFA"
        d.tap("contrib_verte_other")
        d.digits(9999995)
        d.tap("number_ok")
        d.tap("confirm_ok")  # the treasurer insists: it stands
        assert plain(d.text("contrib_value_verte")) == "9 999 995 FCFA"
        d.tap("contrib_ok")
        d.tap("contrib_member_16")
        d.tap("contrib_rouge_0")
        d.tap("contrib_ok")
        d.tap("contrib_all")
        lines = confirm_lines(a)
        assert lines[1:] == [
            "Dont 2 exceptions saisies à la main :",
            f"15. {name(a, 15)} : 9 999 995 F verte + 200 F rouge",
            f"16. {name(a, 16)} : 1 000 F verte + 0 F rouge",
        ]


def test_many_exceptions_show_the_largest_and_sum_up_the_rest(qtbot: Any, db: tuple[Path, str]) -> None:
    with running_app(qtbot, *db) as a:
        d = a.d
        to_contributions(a)
        for number in range(11, 19):
            d.tap(f"contrib_member_{number}")
            d.tap("contrib_verte_500" if number != 17 else "contrib_verte_2000")
            d.tap("contrib_ok")
        d.tap("contrib_all")
        lines = confirm_lines(a)
        assert lines[1] == "Dont 8 exceptions saisies à la main :"
        assert lines[2] == f"17. {name(a, 17)} : 2 000 F verte + 200 F rouge"  # the largest first
        assert len(lines) == 2 + 4 + 1 and lines[-1] == "+ 4 autres : 2 800 F en tout"
        d.tap("confirm_ok")
        assert a.k.store.query(
            "SELECT amount FROM p_transactions WHERE member_id = ? AND fund = 'verte' AND meeting_id = ?",
            (a.member_id(17), a.win.session.meeting_id()),
        ) == [{"amount": 2000}]


def test_a_member_who_paid_is_not_marked_absent_and_the_tile_stays_as_it_was(qtbot: Any, db: tuple[Path, str]) -> None:
    with running_app(qtbot, *db) as a:
        d = a.d
        everyone_paid(a)
        d.tap("step_attendance")
        before = d.text("att_15")
        d.tap("att_15")
        d.tap("choice_absent")
        assert plain(d.text("message_text")) == (
            f"{name(a, 15)} a déjà des mouvements à cette séance : si quelqu'un a apporté son argent, "
            "marquez ce membre représenté ; sinon corrigez d'abord ces mouvements (Corrections)"
        )
        d.tap("message_ok")
        assert d.text("att_15") == before and "Présences enregistrées ✓" in d.text("attendance_saved")
        d.tap("step_next")
        assert a.win.screens["meeting"].current == "contributions"
        assert M.attendance(a.k, a.win.session.meeting_id())[a.member_id(15)] == "present"
        assert d.exists("contrib_member_15")


def unplugged(db: tuple[Path, str]) -> None:
    """The kiosk's printer is a serial one that is not there: every receipt waits."""
    from ui_support import FIRST_MEETING, ms

    from kiosk.services import Kiosk
    from kiosk.store.clock import FixedClock
    from ui import printing

    with Kiosk.open(db[0], FixedClock(ms(FIRST_MEETING))) as k:
        printing.set_printer_config(k, {"connection": "serial", "port": str(db[0].parent / "no-printer-here")})


def test_a_receipt_not_yet_printed_is_not_reprinted(qtbot: Any, db: tuple[Path, str]) -> None:
    from kiosk.store.print_queue import PrintQueue

    unplugged(db)
    with running_app(qtbot, *db) as a:
        d = a.d
        a.login()
        d.tap("menu_meeting")  # the last meeting's receipts wait: the meeting resumes there
        assert a.win.screens["meeting"].current == "receipts"
        page = a.win.screens["meeting"].page("receipts")
        jobs = page.jobs()
        assert jobs and all(j["status"] == "pending" for j in jobs)
        assert d.exists("receipts_retry") and not any(d.exists(f"reprint_{j['id']}") for j in jobs)
        count = len(PrintQueue(a.k.store).jobs(limit=1000))
        assert not a.win.reprint(jobs[0]["id"])  # from anywhere else (settings, the command line): refused
        assert plain(d.text("message_text")).startswith("Ce reçu est encore dans la file d'impression")
        d.tap("message_ok")
        assert len(PrintQueue(a.k.store).jobs(limit=1000)) == count
        # The printer came back and printed it: now a duplicate may be asked for, once.
        with a.k.store.write() as w:
            w.execute("UPDATE print_jobs SET status = 'printed' WHERE id = ?", (jobs[0]["id"],))
        page.enter()
        d.tap(f"reprint_{jobs[0]['id']}")
        copies = [j for j in PrintQueue(a.k.store).jobs(limit=1000) if j["copy_of"] == jobs[0]["id"]]
        assert len(copies) == 1 and copies[0]["duplicate"] and copies[0]["status"] == "pending"
        assert not d.exists(f"reprint_{jobs[0]['id']}")  # the copy waits: no second one


def test_a_member_with_a_loan_is_told_before_the_exit_is_confirmed(qtbot: Any, db: tuple[Path, str]) -> None:
    from ui_support import LOANS_TO, open_meeting

    with running_app(qtbot, *db) as a:
        d = a.d
        a.login()
        open_meeting(a)
        d.tap("nav_menu")
        d.tap("menu_members")
        d.tap(f"member_{LOANS_TO[0]}")
        d.tap("member_exit")
        # Before "Toute son épargne lui est rendue" and the officers' PINs, not after.
        assert a.win.overlays[-1].property("overlay") == "message"
        assert d.text("message_text") == (
            f"{name(a, LOANS_TO[0])} a un prêt en cours : il doit être remboursé avant le départ"
        )
        d.tap("message_ok")
        assert not a.win.overlays and a.k.member(a.member_id(LOANS_TO[0]))["active"]


def test_a_borrower_marked_away_is_refused_before_any_pin_and_aid_still_reaches_them(
    qtbot: Any, db: tuple[Path, str]
) -> None:
    from ui_support import LOANS_TO, PRESIDENT, SECRETARY, open_meeting

    absent, excused = LOANS_TO[:2]  # a woman and a man, both with an installment due today
    with running_app(qtbot, *db) as a:
        d = a.d
        a.login()
        open_meeting(a)
        d.tap(f"att_{absent}")
        d.tap("choice_absent")
        d.tap(f"att_{excused}")
        d.tap("choice_excused")
        d.tap("step_next")
        d.tap("contrib_all")
        d.tap("confirm_ok")
        d.tap("step_repayments")
        # The tile says it before the tap.
        assert d.text(f"repay_{absent}_info").startswith(f"{absent}. {name(a, absent)} · Absente\n")
        assert d.text(f"repay_{excused}_info").startswith(f"{excused}. {name(a, excused)} · Excusé\n")
        assert " · " not in d.text(f"repay_{LOANS_TO[2]}_info").split("\n")[0]
        head = a.k.store.head()
        for tap in (f"repay_{absent}", f"repay_{absent}_other"):
            d.tap(tap)
            # Said at once: no confirmation, no keypad, no PIN to type.
            assert [o.property("overlay") for o in a.win.overlays] == ["message"]
            assert plain(d.text("message_text")) == (
                f"{name(a, absent)} est marqué(e) absent(e) à cette séance : marquez d'abord ce membre présent, "
                "en retard, ou représenté par qui apporte ou reçoit l'argent (Présences)"
            )
            d.tap("message_ok")
        # A loan to the excused member: refused in words on the form, before the officers are called.
        d.tap("step_loans")
        d.tap("loan_member")
        d.tap(f"pick_{excused}")
        d.tap("loan_amount")
        d.amount(5000)
        d.tap("loan_term_3")
        assert "est marqué(e) excusé(e) à cette séance" in d.text("loan_check")
        assert not d.find("loan_grant").isEnabled()
        assert a.k.store.head() == head  # nothing recorded
        # Solidarity aid goes to whom illness keeps away: the officers bring it.
        d.tap("step_aid")  # the refused loan is nothing pending: no question
        d.tap("aid_naissance")
        d.tap("aid_member")
        d.tap(f"pick_{excused}")
        d.tap("aid_give")
        d.tap("confirm_ok")
        a.approve(PRESIDENT, SECRETARY)
        assert a.win.last_toast == f"Aide accordée à {name(a, excused)}."
        # The same aid to the same member again at this meeting: not refused (two deaths in one family
        # happen), but said on the form and on the confirmation, before any PIN.
        d.tap("aid_naissance")
        d.tap("aid_member")
        d.tap(f"pick_{excused}")
        again = f"{name(a, excused)} a déjà reçu l'aide naissance à cette séance."
        assert d.text("aid_check") == again
        d.tap("aid_give")
        from PySide6.QtWidgets import QLabel

        assert any(w.isVisible() and w.text() == again for w in a.win.findChildren(QLabel))
        d.tap("confirm_cancel")


def test_a_repayment_s_toast_names_the_penalty_too(qtbot: Any, db: tuple[Path, str]) -> None:
    from kiosk.services import movements as V
    from ui.i18n import francs

    with running_app(qtbot, *db) as a:
        d = a.d
        everyone_paid(a)
        d.tap("step_repayments")
        r = next(r for r in V.loans_due(a.k, a.win.session.meeting_id()) if r["penalty"])
        split = V.check_repayment(a.k, a.win.session.meeting_id(), r["loan_id"], r["due_now"])
        assert split.penalty and split.paf and split.principal
        d.tap(f"repay_{r['number']}")
        d.tap("confirm_ok")
        assert a.win.last_toast == (
            f"Remboursement enregistré : pénalité {francs(split.penalty)}, PAF {francs(split.paf)}, "
            f"capital {francs(split.principal)}."
        )


def test_fines_applied_together_say_which_were_refused(qtbot: Any, db: tuple[Path, str]) -> None:
    from ui_support import CONTROLLER, NUMBER_PIN, PRESIDENT, open_meeting

    from kiosk.services import Approval
    from kiosk.services import movements as V

    with running_app(qtbot, *db) as a:
        d = a.d
        a.login()
        open_meeting(a)
        for number in (13, 14, 15):
            d.tap(f"att_{number}")
            d.tap("choice_late")
        d.tap("step_other")
        d.tap("fines_all")
        # Between the confirmation's opening and its tap, member 14 left (another hand at the kiosk's console).
        officers = [Approval(a.member_id(n), NUMBER_PIN[n]) for n in (PRESIDENT, CONTROLLER)]
        V.member_exit(a.k, a.win.session.meeting_id(), a.win.session.by, a.member_id(14), officers)
        d.tap("confirm_ok")
        assert plain(d.text("message_text")).split("\n") == [
            "2 amendes enregistrées sur 3. Refus :",
            f"14. {name(a, 14)} : {name(a, 14)} a quitté le groupe",
        ]
        fined = a.k.store.query(
            "SELECT m.number FROM p_transactions t JOIN p_members m USING (member_id) "
            "WHERE t.kind = 'fine' AND t.meeting_id = ? ORDER BY m.number",
            (a.win.session.meeting_id(),),
        )
        assert [r["number"] for r in fined] == [13, 15]  # the one after the refusal too
        d.tap("message_ok")
        # All went through: the toast counts them.
        for number in (16, 17):
            d.tap("step_attendance")
            d.tap(f"att_{number}")
            d.tap("choice_late")
            d.tap("step_other")
        d.tap("fines_all")
        d.tap("confirm_ok")
        assert a.win.last_toast == "2 amendes enregistrées."


def test_an_extra_contribution_refused_is_not_said_recorded(qtbot: Any, db: tuple[Path, str]) -> None:
    from ui_support import CONTROLLER, NUMBER_PIN, PRESIDENT

    from kiosk.services import Approval
    from kiosk.services import movements as V

    with running_app(qtbot, *db) as a:
        d = a.d
        everyone_paid(a)
        d.tap("contrib_member_20")
        d.tap("contrib_verte_1000")
        d.tap("contrib_rouge_200")
        d.tap("contrib_ok")
        officers = [Approval(a.member_id(n), NUMBER_PIN[n]) for n in (PRESIDENT, CONTROLLER)]
        V.member_exit(a.k, a.win.session.meeting_id(), a.win.session.by, a.member_id(20), officers)
        a.win.last_toast = ""
        d.tap("confirm_ok")
        assert plain(d.text("message_text")).split("\n") == [
            "0 contribution enregistrée sur 2. Refus :",
            f"Caisse verte : {name(a, 20)} a quitté le groupe",
            f"Caisse rouge : {name(a, 20)} a quitté le groupe",
        ]
        assert a.win.last_toast == ""  # not "Contribution enregistrée."


def test_a_locked_officer_is_told_so_when_touching_their_name(qtbot: Any, db: tuple[Path, str]) -> None:
    import pytest
    from ui_support import NUMBER_PIN, PRESIDENT, SECRETARY, TREASURER, count_cash_exactly

    from kiosk.domain.errors import DomainError
    from kiosk.store import pins
    from ui.i18n import clock_time

    with running_app(qtbot, *db) as a:
        d = a.d
        d.tap(f"group_{a.k.group(a.group_id)['name']}")
        d.tap(f"officer_{TREASURER}")
        for _ in range(pins.MAX_FAILURES):
            if not d.exists("pin_ok"):
                d.tap(f"officer_{TREASURER}")
            d.pin("9999")
        until = plain(clock_time(pins.locked_until(a.k.store, a.member_id(TREASURER))))
        d.tap(f"officer_{TREASURER}")  # straight away, not after a PIN typed for nothing
        assert plain(d.text("login_error")) == (
            f"Code d'{name(a, TREASURER)} bloqué après trop d'essais, jusqu'à {until} (encore 5 min)."
        )
        assert not d.exists("pin_ok")
        # In an approval too: the president, locked, is told at once; another officer approves.
        for _ in range(pins.MAX_FAILURES):
            with pytest.raises(DomainError):
                pins.verify_pin(a.k.store, a.member_id(PRESIDENT), "9999")
        d.tap(f"officer_{SECRETARY}")
        d.pin(NUMBER_PIN[SECRETARY])
        d.tap("menu_meeting")
        count_cash_exactly(a)
        d.tap(f"officer_{PRESIDENT}")
        assert plain(d.text("approval_error")).startswith(f"Code d'{name(a, PRESIDENT)} bloqué après trop d'essais")
        assert d.text("approval_error").endswith("Un autre responsable peut approuver.")
        assert not d.exists("approval_who")


def test_wording_of_an_empty_fines_button_and_of_the_500_note_and_coin(qtbot: Any, db: tuple[Path, str]) -> None:
    from ui_support import CONTROLLER, PRESIDENT, to_cash_count

    from kiosk.domain.funds import count_for

    with running_app(qtbot, *db) as a:
        d = a.d
        a.login()
        d.tap("menu_meeting")
        to_cash_count(a)
        assert (d.text("open_b500"), d.text("open_c500")) == ("Billet 500", "Pièce 500")
        for fund, amount in M.expected_cash(a.k, a.group_id).items():
            if amount:
                d.count(fund, count_for(amount), "open")
        d.tap("step_next")
        d.tap("confirm_ok")
        a.approve(PRESIDENT, CONTROLLER)
        d.tap("step_other")
        assert d.text("fines_all") == "Aucune amende à appliquer"  # not "Appliquer les 0 amendes (0 F)"
        assert not d.find("fines_all").isEnabled()


def test_receipts_waiting_for_paper_are_not_left_behind_unsaid(qtbot: Any, db: tuple[Path, str]) -> None:
    unplugged(db)  # the history's last meeting closed with its receipts waiting, then the kiosk restarted
    with running_app(qtbot, *db) as a:
        d = a.d
        a.login()
        d.tap("menu_meeting")
        screen = a.win.screens["meeting"]
        assert screen.current == "receipts" and d.text("header_title").startswith("Séance n° 6")
        d.tap("step_prev")
        assert d.text("receipts_waiting_text") == (
            "31 reçus pas encore imprimés : ils sortiront dès que l'imprimante sera prête."
        )
        d.tap("receipts_waiting_back")
        assert screen.current == "receipts"
        d.tap("step_next")  # "Terminer"
        assert d.exists("receipts_waiting_text")
        d.tap("receipts_waiting_continue")
        assert a.win.current_name == "group"
        d.tap("menu_meeting")  # left on purpose: not taken back to them, the next opening is shown
        assert screen.current == "open" and d.exists("open_last_receipts")
        d.tap("open_last_receipts")
        d.tap("step_prev")
        d.tap("receipts_waiting_continue")
        assert screen.current == "open" and d.text("open_number") == "Ouverture de la séance n° 7"
