"""The meeting's "other movements" step: what the règlement refuses is said before anyone types a PIN."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ui_support  # noqa: F401  (chooses the offscreen platform before Qt loads)
from PySide6.QtWidgets import QWidget
from ui_support import (  # noqa: F401  (the fixture ``db``)
    CONTROLLER,
    NUMBER_PIN,
    PRESIDENT,
    db_fixture,
    running_app,
    to_contributions,
)

from kiosk.services import Approval
from kiosk.services import groups as G
from kiosk.services import meetings as M
from kiosk.services import movements as V


def _other_step(a: Any, panel: str) -> None:
    to_contributions(a)
    a.d.tap("step_other")
    a.d.tap("unpaid_continue")  # nobody paid: the app asks before moving on
    a.d.tap(f"other_{panel}")


def test_a_withdrawal_the_règlement_refuses_is_said_before_any_pin(qtbot: Any, db: tuple[Path, str]) -> None:
    path, group_id = db
    with running_app(qtbot, path, group_id) as a:
        _other_step(a, "withdrawal")  # the default règlement: savings come back only when one leaves
        # No form to fill for a refusal: the panel says where leaving members get their savings.
        assert "Membres → le membre → Départ" in a.d.text("withdrawal_rule")
        assert not a.win.findChild(QWidget, "withdrawal_member").isEnabled()
        assert not a.win.findChild(QWidget, "withdrawal_go").isEnabled()
        meeting = a.win.session.meeting_id()
        two = [Approval(a.member_id(n), NUMBER_PIN[n]) for n in (1, 2)]
        G.adopt_rules(a.k, meeting, {"withdrawal": "any_time"}, two)
        a.d.tap("other_fines")
        a.d.tap("other_withdrawal")
        head = a.k.store.head()
        a.d.tap("withdrawal_member")
        a.d.tap("pick_12")
        savings = a.k.savings(group_id, a.member_id(12))
        assert a.d.text("withdrawal_savings").replace("\u00a0", " ") == f"Épargne : {savings:,} FCFA".replace(",", " ")
        a.d.tap("withdrawal_amount")
        a.d.amount(savings + 1000)
        a.d.tap("withdrawal_go")
        assert a.d.text("message_text").startswith("Épargne insuffisante")
        assert not a.d.exists("officer_1")  # no approval asked: two officers did not type PINs for nothing
        assert a.k.store.head() == head


def test_an_expense_the_box_cannot_pay_is_said_before_any_pin(qtbot: Any, db: tuple[Path, str]) -> None:
    path, group_id = db
    with running_app(qtbot, path, group_id) as a:
        _other_step(a, "expense")
        red = M.expected_cash(a.k, group_id)["rouge"]
        a.d.tap("expense_fund_rouge")
        a.d.tap("expense_amount")
        a.d.digits(red + 1000)
        a.d.tap("number_ok")
        a.d.tap("expense_label")
        a.d.type_text("Savon")
        a.d.tap("text_ok")
        a.d.tap("expense_go")
        assert "1 000" in a.d.text("message_text").replace("\u00a0", " ")
        assert not a.d.exists("officer_1")


def test_paying_a_partner_more_than_is_owed_is_said_before_any_pin(qtbot: Any, db: tuple[Path, str]) -> None:
    path, group_id = db
    with running_app(qtbot, path, group_id) as a:
        _other_step(a, "outside")
        from test_ui_layout import layout_problems

        from ui import theme

        assert not layout_problems(a.win, theme.current)  # the direction's words were cut at 800×480
        a.d.tap("outside_direction_out")
        a.d.tap("outside_lender")
        a.d.type_text("Ong")
        a.d.tap("text_ok")
        a.d.tap("outside_amount")
        a.d.amount(100000)
        a.d.tap("outside_go")
        assert "rien à rendre à « Ong »" in a.d.text("message_text")
        assert not a.d.exists("officer_1")


def test_a_partner_is_paid_back_under_the_name_their_money_came_in_by_one_tap(qtbot: Any, db: tuple[Path, str]) -> None:
    path, group_id = db
    with running_app(qtbot, path, group_id) as a:
        _other_step(a, "outside")
        V.outside_in(a.k, a.win.session.meeting_id(), a.win.session.by, "Plan Togo", 50000)
        a.d.tap("other_fines")
        a.d.tap("other_outside")  # the panel reads what the box owes again
        assert "À rendre : Plan Togo 50 000" in a.d.text("outside_cash").replace("\u00a0", " ")
        a.d.tap("outside_direction_out")
        a.d.tap("outside_lender")
        assert a.d.text("chip_0") == "Plan Togo"  # the name is a tap, not retyped as "Plan"
        a.d.tap("chip_0")
        a.d.tap("text_ok")
        a.d.tap("outside_amount")
        a.d.amount(60000)
        a.d.tap("outside_go")
        assert "dû à Plan Togo (50 000" in a.d.text("message_text").replace("\u00a0", " ")
        assert not a.d.exists("officer_1")


def test_the_fines_panel_speaks_plainly(qtbot: Any, db: tuple[Path, str]) -> None:
    path, group_id = db
    with running_app(qtbot, path, group_id) as a:
        a.login()
        from ui_support import open_meeting

        open_meeting(a)
        a.d.tap("att_12")
        a.d.tap("choice_late")
        a.d.tap("step_other")  # from the attendance: the contributions' question comes only on leaving them
        assert a.d.text("fines_all").startswith("Appliquer l'amende (")  # not "les 1 amendes"
        from PySide6.QtWidgets import QLabel

        lines = [w.text() for w in a.win.findChildren(QLabel) if w.isVisible() and w.text().startswith("12. ")]
        assert lines and lines[0].endswith("\nAmende : Retard")  # not "En retard : Retard"


def test_a_group_with_a_share_out_in_its_règlement_shares_at_a_meeting(qtbot: Any, db: tuple[Path, str]) -> None:
    path, group_id = db
    with running_app(qtbot, path, group_id) as a:
        _other_step(a, "fines")
        assert not a.d.exists("other_share")  # a MUSO règlement: savings come back when one leaves
        meeting = a.win.session.meeting_id()
        two = [Approval(a.member_id(n), NUMBER_PIN[n]) for n in (1, 2)]
        G.adopt_rules(a.k, meeting, {"share_out": True}, two)
        V.expense(a.k, meeting, a.win.session.by, "verte", 1000, "registre", two)  # a loss: no PAF earned yet
        a.d.tap("step_contributions")
        a.d.tap("step_other")
        a.d.tap("unpaid_continue")
        a.d.tap("other_share")
        plan = V.share_out_plan(a.k, group_id)
        assert plan["distributable"] == -1000
        assert a.d.text("share_summary").replace("\u00a0", " ") == (
            "Perte de la caisse verte : 1 000 FCFA. Chacun la supporte en proportion de son épargne."
        )  # 33,33 F each: 35 F from twenty of the thirty, 30 F from the others, nothing left over
        # Paying out must wait for the running loans: said before any PIN.
        head = a.k.store.head()
        a.d.tap("share_payout")
        assert "prêts sont en cours" in a.d.text("message_text")
        assert not a.d.exists("officer_1") and a.k.store.head() == head
        a.d.tap("message_ok")
        before = {m: a.k.savings(group_id, m) for m in plan["savings"]}
        a.d.tap("share_credit")
        a.d.tap("confirm_ok")
        a.approve(PRESIDENT, CONTROLLER)
        after = {m: a.k.savings(group_id, m) for m in plan["savings"]}
        assert {m: after[m] - before[m] for m in before} == plan["shares"]
        assert sum(plan["shares"].values()) == -1000 - plan["left_over"]  # the roundings stay in the box
        assert "Ni gain ni perte" in a.d.text("share_summary")
        a.d.tap("share_credit")
        assert a.d.text("message_text") == "Rien à partager : ni gain ni perte depuis le dernier partage"


def test_a_fine_or_entry_fee_for_a_member_marked_absent_is_refused_when_the_member_is_picked(
    qtbot: Any, db: tuple[Path, str]
) -> None:
    from ui_support import open_meeting

    path, group_id = db
    with running_app(qtbot, path, group_id) as a:
        d = a.d
        a.login()
        open_meeting(a)
        d.tap("att_12")
        d.tap("choice_absent")
        d.tap("step_other")
        head = a.k.store.head()
        for panel, start in (("fines", "fine_other"), ("entry", "entry_fee")):
            d.tap(f"other_{panel}")
            d.tap(start)
            d.tap("pick_12")
            # Not after choosing the fine and confirming it: at the name.
            assert [o.property("overlay") for o in a.win.overlays] == ["message"]
            assert d.text("message_text").startswith(f"{a.k.member(a.member_id(12))['name']} est marqué(e) absent(e)")
            d.tap("message_ok")
        assert a.k.store.head() == head
