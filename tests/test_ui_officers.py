"""Officers on the touchscreen: PINs, lockout, two distinct officers, no self-approval, idle logout, kiosk mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import ui_support  # noqa: F401  (chooses the offscreen platform before Qt loads)
from test_ui_layout import layout_problems
from ui_support import (
    CONTROLLER,
    NUMBER_PIN,
    PRESIDENT,
    SECRETARY,
    TREASURER,
    db_fixture,  # noqa: F401  (the fixture ``db``)
    open_meeting,
    running_app,
    to_cash_count,
)

from kiosk.domain.errors import DomainError
from kiosk.services import Approval
from kiosk.services import groups as G
from kiosk.store import pins
from ui import theme


def test_a_wrong_pin_is_refused_and_five_lock_the_officer(qtbot: Any, db: tuple[Path, str]) -> None:
    with running_app(qtbot, *db) as a:
        d = a.d
        d.tap(f"group_{a.k.group(a.group_id)['name']}")
        d.tap(f"officer_{TREASURER}")
        d.pin("1397")
        assert d.text("login_error") == "Code incorrect : encore 4 essais"
        assert a.win.session.officer is None
        for _ in range(pins.MAX_FAILURES - 1):
            if not d.exists("pin_ok"):
                d.tap(f"officer_{TREASURER}")
            d.pin("9999")
        assert "bloqué pendant 5 min" in d.text("login_error")
        d.tap(f"officer_{TREASURER}")  # even the right PIN is too late: said at the name, with no keypad
        assert "bloqué" in d.text("login_error") and not d.exists("pin_ok")
        with pytest.raises(DomainError, match="pin_locked"):
            pins.verify_pin(a.k.store, a.member_id(TREASURER), NUMBER_PIN[TREASURER])
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
        to_cash_count(a)  # the date, confirmed: five weeks after the last meeting
        d.tap("open_fund_verte")
        d.tap("open_empty")  # every box counted, or said empty, before the opening is approved
        d.tap("open_fund_rouge")
        d.tap("open_empty")
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


def _pin_events(a: Any) -> list[dict[str, Any]]:
    return [e.body for e in a.k.store.events() if e.type == "pin_changed"]


def test_an_officer_changes_their_pin_on_their_page(qtbot: Any, db: tuple[Path, str]) -> None:
    with running_app(qtbot, *db) as a:
        d = a.d
        a.login()
        d.tap("menu_members")
        d.tap(f"member_{PRESIDENT}")
        # On another officer's page: no "Changer mon code" (five wrong "current" codes would lock them out).
        assert not d.exists("member_pin_change") and d.exists("member_pin_reset")
        d.tap("nav_logout")
        a.login(PRESIDENT)
        d.tap("menu_members")
        d.tap(f"member_{PRESIDENT}")
        assert not d.exists("member_pin_reset")
        assert not layout_problems(a.win, theme.current)  # the page with its two new buttons, at 800×480
        d.tap("member_pin_change")
        assert not layout_problems(a.win.overlays[-1], theme.current)
        president = a.member_id(PRESIDENT)
        # A wrong current PIN counts toward the lockout, like any wrong PIN.
        d.pin("0000", "pinchange")
        assert d.text("pinchange_error") == "Code incorrect : encore 4 essais"
        assert (
            a.k.store.query("SELECT failures FROM officer_pins WHERE member_id = ?", (president,))[0]["failures"] == 1
        )
        d.pin(NUMBER_PIN[PRESIDENT], "pinchange")
        assert d.text("pinchange_step") == "Tapez le nouveau code (4 à 8 chiffres)."
        d.pin("123", "pinchange")
        assert d.text("pinchange_error") == "Le code doit avoir de 4 à 8 chiffres"
        d.pin("1234", "pinchange")
        assert "trop simple" in d.text("pinchange_error")
        d.pin(NUMBER_PIN[PRESIDENT], "pinchange")
        assert d.text("pinchange_error") == "Le nouveau code doit être différent de l'ancien"
        d.pin("8642", "pinchange")
        d.pin("8643", "pinchange")
        assert d.text("pinchange_error") == "Les deux codes sont différents : recommencez."
        assert not _pin_events(a)
        d.pin("8642", "pinchange")
        d.pin("8642", "pinchange")
        assert a.win.last_toast == "Le code d'Officier president est changé."
        assert not a.win.overlays
        pins.verify_pin(a.k.store, president, "8642")
        assert _pin_events(a) == [{"group": a.group_id, "member": president}]


def test_a_locked_officer_is_reset_by_two_other_officers(qtbot: Any, db: tuple[Path, str]) -> None:
    with running_app(qtbot, *db) as a:
        d = a.d
        president = a.member_id(PRESIDENT)
        for _ in range(pins.MAX_FAILURES):
            with pytest.raises(DomainError):
                pins.verify_pin(a.k.store, president, "0000")
        a.login()
        d.tap("menu_members")
        d.tap(f"member_{PRESIDENT}")
        d.tap("member_pin_reset")
        assert "Officier president" in d.text("approval_title")
        assert not d.exists(f"officer_{PRESIDENT}")  # never the officer concerned
        a.approve(SECRETARY, CONTROLLER)
        # A reset never compares with the PIN the officer has: that would reveal it, a guess at a time.
        d.pin(NUMBER_PIN[PRESIDENT], "pinchange")
        assert not d.exists("pinchange_error")
        d.tap("pinchange_cancel")
        d.tap("member_pin_reset")
        a.approve(SECRETARY, CONTROLLER)
        d.pin("8642", "pinchange")
        d.pin("8642", "pinchange")
        assert a.win.last_toast == "Le code d'Officier president est réinitialisé et débloqué."
        pins.verify_pin(a.k.store, president, "8642")  # unlocked, with the new PIN
        assert _pin_events(a) == [
            {"group": a.group_id, "member": president, "reset": True,
             "approvers": [a.member_id(SECRETARY), a.member_id(CONTROLLER)]}
        ]  # fmt: skip


def test_a_pin_reset_needs_two_other_officers_and_a_member_has_no_pin_buttons(qtbot: Any, db: tuple[Path, str]) -> None:
    with running_app(qtbot, *db) as a:
        d = a.d
        a.login()
        d.tap("menu_members")
        d.tap("member_5")
        assert not d.exists("member_pin_change") and not d.exists("member_pin_reset")
        d.tap("member_back")
        d.tap(f"member_{PRESIDENT}")
        d.tap("member_pin_reset")
        d.tap(f"officer_{SECRETARY}")
        d.pin("0000")
        assert "Code incorrect" in d.text("approval_error")
        d.tap("approval_cancel")
        assert not _pin_events(a)
        # With two officers left, the president has one other: nobody can reset them.
        G.update_member(a.k, a.member_id(SECRETARY), role="membre",
                        approvals=[Approval(a.member_id(PRESIDENT), NUMBER_PIN[PRESIDENT]),
                                   Approval(a.member_id(CONTROLLER), NUMBER_PIN[CONTROLLER])])  # fmt: skip
        G.update_member(a.k, a.member_id(CONTROLLER), role="membre",
                        approvals=[Approval(a.member_id(PRESIDENT), NUMBER_PIN[PRESIDENT]),
                                   Approval(a.member_id(TREASURER), NUMBER_PIN[TREASURER])])  # fmt: skip
        d.tap("member_pin_reset")
        assert d.text("message_text") == "Il faut deux autres responsables pour réinitialiser ce code."
        assert not _pin_events(a)


def test_officers_without_a_pin_choose_one_at_login_the_first_alone_the_others_approved(
    qtbot: Any, db: tuple[Path, str]
) -> None:
    # A kiosk restored from the server: PINs never travel, so no officer has one.
    with running_app(qtbot, *db) as a:
        d = a.d
        with a.k.store.write() as w:
            w.execute("DELETE FROM officer_pins")
        d.tap(f"group_{a.k.group(a.group_id)['name']}")
        d.tap(f"officer_{PRESIDENT}")
        assert not d.exists("pin_ok")  # no PIN to type: a new one, typed twice
        assert d.text("newpin_hint") == "Pas encore de code sur ce kiosque : choisissez le vôtre, devant le groupe."
        d.pin("1234", "newpin")
        assert "trop simple" in d.text("newpin_error")
        d.pin("2468", "newpin")
        d.pin("2469", "newpin")
        assert d.text("newpin_error") == "Les deux codes sont différents : recommencez."
        d.pin("2468", "newpin")
        d.pin("2468", "newpin")
        assert a.win.session.officer["number"] == PRESIDENT  # type: ignore[index]
        a.win.logout()
        d.tap(f"group_{a.k.group(a.group_id)['name']}")
        d.tap(f"officer_{SECRETARY}")  # one other has a PIN: that one approves (alone, one could claim two)
        assert "le responsable qui a le sien approuve" in d.text("approval_summary")
        d.approve((PRESIDENT, "2468"))
        d.pin("3579", "newpin")
        d.pin("3579", "newpin")
        assert a.win.session.officer["number"] == SECRETARY  # type: ignore[index]
        a.win.logout()
        # Two others have theirs now: they approve, so nobody passing by claims the treasurer's PIN.
        d.tap(f"group_{a.k.group(a.group_id)['name']}")
        d.tap(f"officer_{TREASURER}")
        assert d.text("approval_title") == "Premier code d'Officier tresorier"  # French elides before a vowel
        assert not d.exists(f"officer_{CONTROLLER}")  # no PIN of their own to approve with
        d.approve((PRESIDENT, "2468"), (SECRETARY, "0000"))
        assert "Code incorrect" in d.text("approval_error")
        d.pin("3579")  # the same officer, again
        d.pin("8642", "newpin")
        d.pin("8642", "newpin")
        assert a.win.session.officer["number"] == TREASURER  # type: ignore[index]
        assert _pin_events(a) == [
            {"group": a.group_id, "member": a.member_id(TREASURER), "reset": True,
             "approvers": [a.member_id(PRESIDENT), a.member_id(SECRETARY)]}
        ]  # fmt: skip
        assert pins.has_pin(a.k.store.conn, a.member_id(TREASURER))
        assert not pins.has_pin(a.k.store.conn, a.member_id(CONTROLLER))
