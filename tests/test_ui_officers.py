"""Officers on the touchscreen: PINs, lockout, two distinct officers, no self-approval, idle logout, kiosk mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ui_support  # noqa: F401  (chooses the offscreen platform before Qt loads)
from ui_support import (
    CONTROLLER,
    NUMBER_PIN,
    PRESIDENT,
    SECRETARY,
    TREASURER,
    db_fixture,  # noqa: F401  (the fixture ``db``)
    open_meeting,
    running_app,
)

from kiosk.store import pins


def test_a_wrong_pin_is_refused_and_five_lock_the_officer(qtbot: Any, db: tuple[Path, str]) -> None:
    with running_app(qtbot, *db) as a:
        d = a.d
        d.tap(f"group_{a.k.group(a.group_id)['name']}")
        d.tap(f"officer_{TREASURER}")
        d.pin("1397")
        assert d.text("login_error") == "Code incorrect (4 essai(s) restant(s))"
        assert a.win.session.officer is None
        for _ in range(pins.MAX_FAILURES - 1):
            if not d.exists("pin_ok"):
                d.tap(f"officer_{TREASURER}")
            d.pin("9999")
        assert "bloqué pendant 5 min" in d.text("login_error")
        d.tap(f"officer_{TREASURER}")
        d.pin(NUMBER_PIN[TREASURER])  # the right PIN, too late
        assert "bloqué" in d.text("login_error")
        assert a.win.session.officer is None
        # Another officer is not locked.
        d.tap(f"officer_{SECRETARY}")
        d.pin(NUMBER_PIN[SECRETARY])
        assert a.win.session.officer["number"] == SECRETARY  # type: ignore[index]
        assert a.win.current_name == "group"


def test_no_officer_approves_a_loan_to_themselves(qtbot: Any, db: tuple[Path, str]) -> None:
    with running_app(qtbot, *db) as a:
        d = a.d
        a.login()
        open_meeting(a)
        d.tap("step_loans")
        d.tap("loan_member")
        d.tap(f"pick_{SECRETARY}")
        d.tap("loan_amount")
        d.amount(5000)
        d.tap("loan_term_2")
        d.tap("loan_grant")
        d.tap("confirm_ok")
        d.tap(f"officer_{SECRETARY}")
        assert "ne peut pas approuver un mouvement à son propre profit" in d.text("approval_error")
        assert d.exists("officer_1")  # still choosing: no PIN was asked of them
        a.approve(PRESIDENT, CONTROLLER)
        loans = a.k.store.query("SELECT member_id FROM p_loans WHERE status = 'active' AND meeting_id = ?",
                                (a.win.session.meeting_id(),))  # fmt: skip
        assert [r["member_id"] for r in loans] == [a.member_id(SECRETARY)]


def test_a_wrong_pin_in_an_approval_says_who_and_changes_nothing(qtbot: Any, db: tuple[Path, str]) -> None:
    with running_app(qtbot, *db) as a:
        d = a.d
        a.login()
        d.tap("menu_meeting")
        d.tap("step_next")
        d.tap("step_next")
        d.tap("confirm_ok")
        d.tap(f"officer_{PRESIDENT}")
        d.pin("1111")
        assert "Code incorrect" in d.text("approval_error")
        assert a.win.session.meeting_id() is None
        d.tap("approval_cancel")
        assert a.win.session.meeting_id() is None


def test_idle_logs_the_officer_out_and_the_meeting_waits(qtbot: Any, db: tuple[Path, str]) -> None:
    with running_app(qtbot, *db) as a:
        a.k.store.set_setting("ui_idle_minutes", "0.01")  # 0.6 s
        a.login()
        open_meeting(a)
        for _ in range(5):  # a treasurer at work: every touch restarts the count
            qtbot.wait(300)
            a.d.tap("step_attendance" if a.win.screens["meeting"].current != "attendance" else "step_open")
        assert a.win.session.officer is not None
        qtbot.waitUntil(lambda: a.win.session.officer is None, timeout=3000)
        assert a.win.current_name == "home"
        assert "inactivité" in a.win.last_toast
        assert a.win.session.meeting_id() is not None  # the meeting stays open, to be resumed


def test_kiosk_mode_needs_an_officer_pin_to_quit(qtbot: Any, db: tuple[Path, str]) -> None:
    with running_app(qtbot, *db) as a:
        a.win.kiosk_mode, a.win._may_close = True, False
        a.win.close()
        assert a.win.isVisible()
        a.d.tap(f"officer_{CONTROLLER}")
        a.d.pin("0000")
        assert a.win.isVisible()
        a.d.pin(NUMBER_PIN[CONTROLLER])
        assert not a.win.isVisible()
