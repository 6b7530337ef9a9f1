"""A whole meeting of 30 members on the touchscreen app, pressed button by button, and a crash mid-meeting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import ui_support  # noqa: F401  (chooses the offscreen platform before Qt loads)
from PySide6.QtWidgets import QLabel
from ui_support import (
    CONTROLLER,
    NUMBER_PIN,
    PRESIDENT,
    SECRETARY,
    TODAY,
    TREASURER,
    App,
    db_fixture,  # noqa: F401  (the fixture ``db``)
    everyone_paid,
    ms,
    open_meeting,
    running_app,
    to_cash_count,
    to_contributions,
)

from kiosk.domain.funds import count_for
from kiosk.services import meetings as M
from kiosk.services import movements as V
from kiosk.services import reports as R
from kiosk.store.print_queue import PrintQueue
from kiosk.store.verify import verify
from ui.i18n import money

ABSENT = (10, 11, 12)
LATE = (13, 14)
PARTIAL_VERTE, NO_ROUGE, NO_VERTE = 15, 16, 17  # the three exceptions to the standard contributions
TYPED_TWICE = 18  # an extra contribution entered by mistake, then corrected
REPAYING = (5, 6, 7, 8, 9)
REFUSED_BORROWER, BORROWER, AID_TO = 20, 21, 22
LOAN, REFUSED_LOAN = 15000, 50000


def count_cash(a: App, prefix: str, adjust: dict[str, int] | None = None) -> None:
    """Count each box by denomination on the app's keypad (a plausible pile for the expected amount)."""
    expected = M.expected_cash(a.k, a.group_id)
    for fund, amount in expected.items():
        pieces = count_for(amount + (adjust or {}).get(fund, 0))
        if pieces:
            a.d.count(fund, pieces, prefix)


def test_a_whole_meeting_of_thirty_members(
    qtbot: Any, db: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    with running_app(qtbot, *db) as a:
        d, k = a.d, a.k
        before = R.balances(k, a.group_id)
        a.login()
        assert d.text("header_title") == "Menu"

        # -- open: date check, cash count by denomination, two officers ---------------------------
        d.tap("menu_meeting")
        assert d.text("open_date") == "lundi 16 mars 2026"
        assert "5 semaines après la dernière séance" in d.text("open_warning")
        d.tap("step_next")
        assert d.text("confirm_title") == "Vérifiez la date"  # five weeks after the last one: confirmed apart
        d.tap("confirm_ok")
        count_cash(a, "open")
        assert "écart 0" in d.text("open_summary")
        d.tap("step_next")
        d.tap("confirm_ok")
        a.approve(PRESIDENT)
        assert not d.find(f"officer_{PRESIDENT}").isEnabled()  # two distinct officers
        a.approve(CONTROLLER)
        meeting_id = a.win.session.meeting_id()
        assert meeting_id is not None
        due = {r["number"]: r["due_now"] for r in V.loans_due(k, meeting_id)}

        # -- attendance and standard contributions: the part every member goes through ---------------
        start = d.taps
        for number in ABSENT:
            d.tap(f"att_{number}")
            d.tap("choice_absent")
        for number in LATE:
            d.tap(f"att_{number}")
            d.tap("choice_late")
        d.tap("step_next")  # records the attendance in one transaction
        assert M.attendance(k, meeting_id)[a.member_id(ABSENT[0])] == "absent"
        d.tap(f"contrib_member_{PARTIAL_VERTE}")
        d.tap("contrib_verte_500")
        d.tap("contrib_ok")
        d.tap(f"contrib_member_{NO_ROUGE}")
        d.tap("contrib_rouge_0")
        d.tap("contrib_ok")
        d.tap(f"contrib_member_{NO_VERTE}")
        d.tap("contrib_verte_0")
        d.tap("contrib_ok")
        d.tap("contrib_all")
        assert d.text("confirm_amount") == money(27 * 1200 - 500 - 200 - 1000)
        d.tap("confirm_ok")
        everyday_taps = d.taps - start
        assert "✓" in d.text("contrib_all")
        # A contribution typed twice by mistake (corrected below).
        d.tap(f"contrib_member_{TYPED_TWICE}")
        d.tap("contrib_verte_1000")
        d.tap("contrib_ok")
        d.tap("confirm_ok")
        d.tap("step_next")

        # -- repayments: the amount due, one tap (and a confirmation) each --------------------------
        for number in REPAYING:
            d.tap(f"repay_{number}")
            assert d.text("confirm_amount") == money(due[number])
            d.tap("confirm_ok")
        d.tap("step_next")

        # -- new loans: one refused by the rules, with the reason in words; one approved by two -------
        d.tap("loan_member")
        d.tap(f"pick_{REFUSED_BORROWER}")
        d.tap("loan_amount")
        d.amount(REFUSED_LOAN)
        d.tap("loan_term_3")
        assert "plafond" in d.text("loan_check")
        assert not d.find("loan_grant").isEnabled()
        d.tap("loan_member")
        d.tap(f"pick_{BORROWER}")
        d.tap("loan_amount")
        d.amount(LOAN)
        assert d.text("loan_check").startswith("Le règlement permet ce prêt.")  # allowed, not done: no tick
        assert "Participation aux frais (PAF) :" in d.text("loan_check")  # the word members use, spelled out
        d.tap("loan_grant")
        assert d.text("confirm_amount") == money(LOAN)
        d.tap("confirm_ok")
        a.approve(PRESIDENT, CONTROLLER)
        assert "Prêt accordé" in a.win.last_toast
        d.tap("step_next")

        # -- solidarity aid ------------------------------------------------------------------------
        d.tap("aid_naissance")
        d.tap("aid_member")
        d.tap(f"pick_{AID_TO}")
        d.tap("aid_give")
        d.tap("confirm_ok")
        a.approve(PRESIDENT, SECRETARY)
        d.tap("step_next")

        # -- other movements: the fine the règlement suggests for lateness -----------------------------
        d.tap(f"fine_{LATE[0]}")
        d.tap("confirm_ok")

        # -- correction: the contribution typed twice, reversed with a reason and two officers ----------
        twice = k.store.query(
            "SELECT txn_id FROM p_transactions WHERE meeting_id = ? AND member_id = ? AND kind = 'contribution' "
            "AND fund = 'verte' ORDER BY seq DESC LIMIT 1",
            (meeting_id, a.member_id(TYPED_TWICE)),
        )[0]["txn_id"]
        d.tap("nav_menu")
        d.tap("menu_corrections")
        d.tap(f"txn_{twice[:8]}")
        d.tap("corr_reason")
        d.tap("chip_0")
        d.tap("text_ok")
        d.tap("corr_go")
        d.tap("confirm_ok")
        a.approve(PRESIDENT, CONTROLLER)
        assert k.store.get("transactions", (twice,))["reversed_by"]  # type: ignore[index]
        assert not d.find(f"txn_{twice[:8]}").isEnabled()  # the original stays, marked, and cannot be reversed again

        # -- close: count, 500 F missing in the caisse verte, two officers --------------------------------
        d.tap("nav_menu")
        d.tap("menu_meeting")
        d.tap("step_close")
        count_cash(a, "close", {"verte": -500})
        d.tap("close_fund_verte")
        assert "écart -500" in d.text("close_summary")
        d.tap("step_next")
        d.tap("confirm_ok")
        a.approve(PRESIDENT, CONTROLLER)
        assert k.meeting(meeting_id)["status"] == "closed"
        d.tap("step_next")  # "Terminer"
        meeting_taps = d.taps

    # -- the ledger: every figure follows from what was pressed ---------------------------------------------
    from kiosk.services import Kiosk

    with Kiosk.open(db[0]) as k:
        after = R.balances(k, a.group_id)
        repaid = sum(due[n] for n in REPAYING)
        paying = 30 - len(ABSENT)
        assert after["funds"]["verte"] == before["funds"]["verte"] + paying * 1000 - 500 - 1000 + repaid - LOAN - 500
        assert after["funds"]["rouge"] == before["funds"]["rouge"] + paying * 200 - 200 + 200 - 3000
        savings_before = {m["number"]: m["savings"] for m in before["members"]}
        for m in after["members"]:
            n = m["number"]
            paid = 0 if n in ABSENT or n == NO_VERTE else 500 if n == PARTIAL_VERTE else 1000
            assert m["savings"] == savings_before[n] + paid, n
        discrepancy = k.store.query(
            "SELECT amount FROM p_transactions WHERE meeting_id = ? AND kind = 'discrepancy'", (meeting_id,)
        )
        assert [r["amount"] for r in discrepancy] == [-500]
        assert verify(k.store).ok
        # One receipt for each member present and the meeting's report, all in the print queue.
        receipts = k.store.query(
            "SELECT r.kind, r.member_id FROM p_receipts r JOIN print_jobs j ON j.receipt_seq = r.seq "
            "WHERE r.meeting_id = ? AND j.duplicate = 0",
            (meeting_id,),
        )
        present = {mid for mid, s in M.attendance(k, meeting_id).items() if s != "absent"}
        assert sorted(r["member_id"] for r in receipts if r["kind"] == "member") == sorted(present)
        assert [r["kind"] for r in receipts].count("report") == 1
        assert PrintQueue(k.store).pending_count() >= 0

    per_member = everyday_taps / 30
    with capsys.disabled():
        print(
            f"\n[taps] attendance + standard contributions: {everyday_taps} taps for 30 members "
            f"= {per_member:.2f} per member; whole meeting (login to receipts): {meeting_taps} taps "
            f"= {meeting_taps / 30:.1f} per member"
        )
    assert per_member <= 2


def test_a_meeting_cut_by_a_crash_resumes_where_it_was(qtbot: Any, db: tuple[Path, str]) -> None:
    with running_app(qtbot, *db) as a:
        d = a.d
        a.login()
        d.tap("menu_meeting")
        to_cash_count(a)
        count_cash(a, "open")
        d.tap("step_next")
        d.tap("confirm_ok")
        a.approve(PRESIDENT, CONTROLLER)
        d.tap("att_10")
        d.tap("choice_absent")
        d.tap("step_next")
        d.tap("contrib_all")
        d.tap("confirm_ok")
        d.tap("step_next")  # at the repayments
        d.tap("repay_5")
        d.tap("confirm_ok")
        d.tap("step_loans")
        d.tap("step_aid")
        meeting_id = a.win.session.meeting_id()
        # Power cut: nothing is saved on the way out, the window and its connection just go away.
    with running_app(qtbot, *db) as b:
        d = b.d
        home = d.find(f"group_{b.k.group(b.group_id)['name']}")
        assert "ouverte" in " ".join(w.text() for w in home.findChildren(QLabel))
        b.login()
        assert "Reprendre" in d.text("menu_meeting")
        d.tap("menu_meeting")
        assert b.win.screens["meeting"].current == "aid"
        assert d.find("step_aid").property("state") == "current"
        assert M.attendance(b.k, meeting_id)[b.member_id(10)] == "absent"
        d.tap("step_contributions")
        assert "✓" in d.text("contrib_all")  # paid before the cut, not charged twice
        d.tap("step_repayments")
        assert "Payé aujourd'hui" in d.text("repay_5_info")


def test_next_week_s_meeting_opens_on_next_week_s_date(qtbot: Any, db: tuple[Path, str]) -> None:
    """A kiosk left on between meetings: the opening offers the day it is, not last week's."""
    from datetime import timedelta

    with running_app(qtbot, *db) as a:
        a.login()
        open_meeting(a)
        a.d.tap("step_close")
        for fund, amount in M.expected_cash(a.k, a.group_id).items():
            if amount:
                a.d.count(fund, count_for(amount), "close")
        a.d.tap("step_next")
        a.d.tap("confirm_ok")
        a.approve(PRESIDENT, CONTROLLER)
        a.d.tap("step_next")  # Terminer
        a.k.store.clock.now = ms(TODAY + timedelta(days=7))
        open_meeting(a)
        assert a.k.meeting(a.win.session.meeting_id())["date"] == (TODAY + timedelta(days=7)).isoformat()


def test_a_double_tap_does_its_first_tap_only(qtbot: Any, db: tuple[Path, str]) -> None:
    """The second tap of a double tap used to land on what the first one uncovered: another member's
    attendance, a confirmation's OK, a panel's Cancel."""
    with running_app(qtbot, *db) as a:
        a.login()
        open_meeting(a)
        a.d.tap("att_10")
        a.d.double_tap("choice_absent")  # closes the panel: the attendance list is under the finger again
        assert not a.win.overlays  # no other member's panel opened
        absent = [n for n in range(1, 31) if "Absent" in a.d.text(f"att_{n}")]
        assert absent == [10]
        a.d.double_tap("step_next")  # one step, not two
        assert a.win.screens["meeting"].current == "contributions"


def test_every_movement_of_the_meeting_can_be_corrected(qtbot: Any, db: tuple[Path, str]) -> None:
    import time

    with running_app(qtbot, *db) as a:
        everyone_paid(a)
        a.d.tap("step_repayments")
        for n in (5, 6, 7, 8, 9):
            a.d.tap(f"repay_{n}")
            a.d.tap("confirm_ok")
        meeting = a.win.session.meeting_id()
        today = [
            r["txn_id"] for r in a.k.store.query("SELECT txn_id FROM p_transactions WHERE meeting_id = ?", (meeting,))
        ]
        assert len(today) > 60  # more than the list used to hold
        a.d.tap("nav_menu")
        started = time.perf_counter()
        a.d.tap("menu_corrections")
        assert time.perf_counter() - started < 2.0
        assert all(a.d.exists(f"txn_{txn[:8]}") for txn in today)


def test_another_group_s_meeting_starts_with_empty_forms(qtbot: Any, db: tuple[Path, str]) -> None:
    """A kiosk serving two groups: a member picked in one group's loan or aid form is not offered
    to the next group's treasurer (it was, approved, then refused as an unknown member)."""
    from datetime import timedelta

    from conftest import make_group

    with running_app(qtbot, *db) as a:
        other = make_group(a.k, n_members=6, name="MUSO Deux")
        earlier = other.open(TODAY - timedelta(weeks=1))
        other.close(earlier)
        other.open(TODAY)
        a.login()
        open_meeting(a)
        a.d.tap("step_loans")
        a.d.tap("loan_member")
        a.d.tap("pick_21")
        a.d.tap("step_aid")
        a.d.tap("aid_member")
        a.d.tap("pick_22")
        picked = a.d.text("aid_member")
        a.d.tap("nav_logout")
        a.d.tap("group_MUSO Deux")
        a.d.tap(f"officer_{TREASURER}")
        a.d.pin(NUMBER_PIN[TREASURER])
        a.d.tap("menu_meeting")
        a.d.tap("step_loans")
        assert not a.d.find("loan_grant").isEnabled()
        a.d.tap("step_aid")
        assert a.d.text("aid_member") != picked and not a.d.find("aid_give").isEnabled()


def test_amounts_set_by_hand_outlive_a_restart_and_a_change_of_language(qtbot: Any, db: tuple[Path, str]) -> None:
    with running_app(qtbot, *db) as a:
        to_contributions(a)
        a.d.tap("contrib_member_15")
        a.d.tap("contrib_verte_0")  # member 15 pays no verte today
        a.d.tap("contrib_ok")
        total = a.d.text("contrib_all")
        a.win.show_screen("settings")
        a.d.tap("settings_language")
        a.d.tap("lang_en")
        a.d.tap("settings_language")
        a.d.tap("lang_fr")
        a.win.show_screen("meeting")
        assert a.d.text("contrib_all") == total
    with running_app(qtbot, *db) as b:  # the power went
        b.login()
        b.d.tap("menu_meeting")
        assert b.d.text("contrib_all") == total
        b.d.tap("contrib_all")
        b.d.tap("confirm_ok")
        member = b.k.member_by_number(b.group_id, 15)["member_id"]
        paid = b.k.store.query(
            "SELECT fund FROM p_transactions WHERE member_id = ? AND meeting_id = ? AND kind = 'contribution'",
            (member, b.win.session.meeting_id()),
        )
        assert [r["fund"] for r in paid] == ["rouge"]


def test_attendance_marks_outlive_a_power_cut_before_next(qtbot: Any, db: tuple[Path, str]) -> None:
    with running_app(qtbot, *db) as a:
        a.login()
        open_meeting(a)
        for n in (10, 11):
            a.d.tap(f"att_{n}")
            a.d.tap("choice_absent")
        # the power goes before "Suivant" records them
    with running_app(qtbot, *db) as b:
        b.login()
        b.d.tap("menu_meeting")
        assert b.win.screens["meeting"].current == "attendance"
        assert "Absent" in b.d.text("att_10") and "Absent" in b.d.text("att_11") and "Absent" not in b.d.text("att_12")
        b.d.tap("step_next")  # now recorded
        assert (
            M.attendance(b.k, b.win.session.meeting_id())[b.k.member_by_number(b.group_id, 10)["member_id"]] == "absent"
        )
        assert b.k.store.setting("attendance_marks") == "{}"


def test_a_pile_counted_again_is_counted_afresh(qtbot: Any, db: tuple[Path, str]) -> None:
    with running_app(qtbot, *db) as a:
        a.login()
        a.d.tap("menu_meeting")
        to_cash_count(a)
        a.d.tap("open_fund_verte")
        a.d.tap("open_b10000")
        a.d.digits(3, "open_key")
        a.d.tap("open_b5000")
        a.d.tap("open_b10000")  # "no, it was two": the treasurer touches the pile again
        a.d.digits(2, "open_key")
        count = a.win.screens["meeting"].page("open").count
        assert count.counts["verte"]["b10000"] == 2  # not 32
        a.d.digits(5, "open_key")
        assert count.counts["verte"]["b10000"] == 25  # then digits follow on, as on any keypad
