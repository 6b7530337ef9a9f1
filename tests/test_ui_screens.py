"""Members, rules, settings and language on the touchscreen app, pressed like a finger would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import ui_support  # noqa: F401  (chooses the offscreen platform before Qt loads)
from ui_support import (
    CONTROLLER,
    PRESIDENT,
    TREASURER,
    db_fixture,  # noqa: F401  (the fixture ``db``)
    open_meeting,
    running_app,
)

from kiosk.services import Kiosk
from kiosk.services import groups as G
from kiosk.services import meetings as M
from kiosk.store.clock import FixedClock
from kiosk.store.print_queue import PrintQueue
from ui import workers


def test_a_member_is_added_with_ewe_letters_typed_on_the_screen(qtbot: Any, db: tuple[Path, str]) -> None:
    with running_app(qtbot, *db) as a:
        d = a.d
        a.login()
        d.tap("menu_members")
        d.tap("members_add")
        assert not d.find("mf_save").isEnabled()
        d.tap("mf_name")
        d.type_text("Ɖɔvi Ŋuɖe-Ƒiaga")  # capitals at each word start come by themselves
        assert d.text("text_edit") == "Ɖɔvi Ŋuɖe-Ƒiaga"
        d.tap("text_ok")
        d.tap("mf_sex_F")
        d.tap("mf_save")
        member = a.k.member_by_number(a.group_id, 31)
        assert (member["name"], member["sex"], member["role"]) == ("Ɖɔvi Ŋuɖe-Ƒiaga", "F", "membre")
        assert d.text("member_name") == "31. Ɖɔvi Ŋuɖe-Ƒiaga"
        # She becomes the secretary's deputy: the group has met, so two officers approve; then, as an
        # officer, she needs a PIN, typed twice.
        d.tap("member_edit")
        d.tap("mf_role_controleur")
        d.tap("mf_save")
        assert "Ɖɔvi Ŋuɖe-Ƒiaga" in d.text("approval_summary")
        a.approve(PRESIDENT, CONTROLLER)
        d.pin("2468", "newpin")
        d.pin("2469", "newpin")
        assert "différents" in d.text("newpin_error")
        d.pin("2468", "newpin")
        d.pin("2468", "newpin")
        assert a.k.member(member["member_id"])["role"] == "controleur"
        assert any(o["number"] == 31 for o in G.officers(a.k, a.group_id))
        # The directory finds her by name.
        d.tap("member_back")
        d.tap("members_search")
        d.type_text("ŋuɖe")
        d.tap("text_ok")
        assert d.exists("member_31") and not d.exists("member_5")


def test_renaming_a_member_takes_two_officers_and_the_old_name_stays_in_sight(qtbot: Any, db: tuple[Path, str]) -> None:
    with running_app(qtbot, *db) as a:
        d = a.d
        a.login()
        d.tap("menu_members")
        d.tap("member_12")
        member_id = a.member_id(12)
        old = a.k.member(member_id)["name"]
        d.tap("member_edit")
        d.tap("mf_name")
        for _ in old:
            d.tap("kb_back")
        d.type_text("Ama Kodjo")
        d.tap("text_ok")
        d.tap("mf_save")
        assert d.text("approval_summary") == f"{old} → Ama Kodjo"  # nothing recorded yet
        assert a.k.member(member_id)["name"] == old
        a.approve(PRESIDENT, CONTROLLER)
        assert a.k.member(member_id)["name"] == "Ama Kodjo"
        assert d.text("member_name") == "12. Ama Kodjo" and f"ancien nom : {old}" in d.text("member_info")


def test_a_long_name_wraps_and_never_widens_the_window(qtbot: Any, db: tuple[Path, str]) -> None:
    from test_ui_layout import layout_problems
    from ui_support import NUMBER_PIN

    from kiosk.services import Approval, Kiosk
    from kiosk.store.clock import FixedClock
    from ui import theme

    path, group_id = db
    long_name = "Ɖɔvi Akpénè Amégavi-Kodjo Mensah Ahouansou"  # the form takes up to 80 letters
    with Kiosk.open(path, FixedClock()) as k:
        member = k.member_by_number(group_id, 20)["member_id"]
        approvals = [Approval(k.member_by_number(group_id, n)["member_id"], NUMBER_PIN[n]) for n in (1, 4)]
        G.update_member(k, member, name=long_name, approvals=approvals)
    with running_app(qtbot, path, group_id) as a:
        a.login()
        a.d.tap("menu_members")
        a.d.tap("member_20")
        assert a.d.text("member_name") == f"20. {long_name}"
        assert a.win.width() == 800 and not layout_problems(a.win, theme.current)


def test_receipts_going_to_a_file_are_said_on_every_screen(qtbot: Any, db: tuple[Path, str]) -> None:
    # One officer can set the printer to "fichier": paper stops while the receipts still read "imprimé".
    with running_app(qtbot, *db) as a:
        assert a.d.text("nav_printer") == "Reçus en fichier :\nrien n'est imprimé"
        assert "fichier, rien n'est imprimé" in a.d.text("home_printer")  # the footer says the same, not "prête"
        a.login()
        assert a.d.text("nav_printer") == "Reçus en fichier :\nrien n'est imprimé"
        a.win.printer.restart({"connection": "network", "host": "127.0.0.1", "port": 9, "width": 32})
        a.win.header.refresh_printer()
        assert "fichier" not in a.d.text("nav_printer")


def test_a_member_page_prints_a_statement(qtbot: Any, db: tuple[Path, str]) -> None:
    with running_app(qtbot, *db) as a:
        d = a.d
        a.login()
        d.tap("menu_members")
        d.tap("member_5")
        assert d.text("member_savings") == "6\u00a0000\u00a0FCFA"
        assert d.text("member_loan") == "9\u00a0000\u00a0FCFA"
        d.tap("member_statement")
        jobs = a.k.store.query("SELECT kind FROM print_jobs ORDER BY id DESC LIMIT 1")
        assert jobs[0]["kind"] == "statement"
        assert "Relevé" in a.win.last_toast


def test_the_rules_read_in_words_and_a_new_version_needs_two_officers(qtbot: Any, db: tuple[Path, str]) -> None:
    with running_app(qtbot, *db) as a:
        d = a.d
        a.login()
        d.tap("menu_rules")
        assert not d.find("rules_adopt").isEnabled()  # only at an open meeting
        d.tap("nav_menu")
        open_meeting(a)
        d.tap("nav_menu")
        d.tap("menu_rules")
        d.tap("rules_adopt")
        d.tap("rule_contribution_verte")
        d.amount(1500)
        d.tap("rule_paf_rate_bp_300")
        d.tap("rules_save")
        d.tap("confirm_ok")
        a.approve(PRESIDENT, CONTROLLER)
        assert a.k.group(a.group_id)["rules_version"] == 2
        rules = a.k.rules(a.group_id)
        assert (rules.contribution_verte, rules.paf_rate_bp) == (1500, 300)
        assert "version 2" in d.text("rules_title")


def test_settings_language_backup_and_sync(qtbot: Any, db: tuple[Path, str], tmp_path: Path) -> None:
    with running_app(qtbot, *db) as a:
        d = a.d
        a.login()
        d.tap("menu_settings")
        d.tap("settings_language")
        d.tap("lang_en")
        assert d.text("header_title") == "Settings"
        d.tap("nav_menu")
        assert d.text("menu_meeting").startswith("Open meeting no.")
        d.tap("menu_settings")
        d.tap("settings_language")
        d.tap("lang_fr")
        assert d.text("header_title") == "Paramètres"
        # Backup to a folder (a USB stick is one): in a thread, the answer comes back on screen.
        stick = tmp_path / "stick"
        stick.mkdir()
        d.tap("settings_backup")
        d.tap("backup_other")
        qtbot.keyClicks(d.find("text_edit"), str(stick))
        d.tap("text_ok")
        # Every group's books and PIN hashes leave with it: a second officer approves.
        assert d.text("approval_summary") == "Un autre responsable approuve."
        assert not d.exists(f"officer_{TREASURER}")  # the one asking is not offered
        a.approve(PRESIDENT)
        qtbot.waitUntil(lambda: "Sauvegarde écrite" in d.text("backup_result"), timeout=10_000)
        assert list(stick.glob("muso-*.db"))
        # Printer: a reprint from the queue is a DUPLICATA (of a receipt that came out: PrintQueue.reprint).
        qtbot.waitUntil(lambda: PrintQueue(a.k.store).pending_count() == 0, timeout=10_000)
        d.tap("settings_printer")
        job = PrintQueue(a.k.store).jobs(limit=1)[0]["id"]
        d.tap(f"queue_reprint_{job}")
        assert a.k.store.query("SELECT duplicate FROM print_jobs ORDER BY id DESC LIMIT 1")[0]["duplicate"] == 1


def test_sync_says_so_when_this_kiosk_has_none(
    qtbot: Any, db: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workers, "sync_modules", lambda *names: None)
    with running_app(qtbot, *db) as a:
        d = a.d
        assert d.text("home_sync") == "Synchronisation : non configurée"
        a.login(TREASURER)
        d.tap("menu_settings")
        d.tap("settings_sync")
        assert "pas disponible" in d.text("sync_text")
        assert not d.exists("sync_now")


def test_an_officer_who_leaves_office_is_logged_out(qtbot: Any, db: tuple[Path, str]) -> None:
    from ui_support import CONTROLLER, PRESIDENT, TREASURER

    with running_app(qtbot, *db) as a:
        d = a.d
        a.login(TREASURER)
        d.tap("menu_members")
        d.tap(f"member_{TREASURER}")
        d.tap("member_edit")
        d.tap("mf_role_membre")
        d.tap("mf_save")
        a.approve(PRESIDENT, CONTROLLER)
        assert a.k.member(a.member_id(TREASURER))["role"] == "membre"
        # Every movement they tried would be refused: they are told at once, and logged out.
        assert a.win.session.officer is None and a.win.current_name == "home"


def test_a_member_leaves_from_their_page_with_their_savings_paid_back(qtbot: Any, db: tuple[Path, str]) -> None:
    from ui_support import CONTROLLER, PRESIDENT, open_meeting

    with running_app(qtbot, *db) as a:
        d = a.d
        a.login()
        d.tap("menu_members")
        d.tap("member_20")
        assert not d.find("member_exit").isEnabled()  # money moves only at an open meeting
        d.tap("nav_menu")
        open_meeting(a)
        member = a.member_id(20)
        savings = a.k.savings(a.group_id, member)
        cash = M.expected_cash(a.k, a.group_id)["verte"]
        d.tap("nav_menu")
        d.tap("menu_members")
        d.tap("member_20")
        d.tap("member_exit")
        d.tap("confirm_ok")
        a.approve(PRESIDENT, CONTROLLER)
        assert a.k.member(member)["active"] == 0
        assert M.expected_cash(a.k, a.group_id)["verte"] == cash - savings > 0
        assert not d.find("member_exit").isEnabled()


def test_a_member_leaving_a_box_at_a_loss_is_said_to_leave_their_part_of_it_to_the_others(
    qtbot: Any, db: tuple[Path, str]
) -> None:
    from PySide6.QtWidgets import QLabel
    from ui_support import CONTROLLER, NUMBER_PIN, PRESIDENT, open_meeting

    from kiosk.services import Approval
    from kiosk.services import movements as V

    with running_app(qtbot, *db) as a:
        d = a.d
        a.login()
        open_meeting(a)
        meeting = a.win.session.meeting_id()
        earned = V.share_out_plan(a.k, a.group_id)["distributable"]
        officers = [Approval(a.member_id(n), NUMBER_PIN[n]) for n in (PRESIDENT, CONTROLLER)]
        V.expense(a.k, meeting, a.win.session.by, "verte", earned + 6000, "Vol de la caisse", officers)
        d.tap("nav_menu")
        d.tap("menu_members")
        d.tap("member_20")
        d.tap("member_exit")
        lines = [w.text() for w in a.win.overlays[-1].findChildren(QLabel, "confirm_line")]
        part = -V.share_out_plan(a.k, a.group_id)["shares"][a.member_id(20)]
        assert part > 0 and any(line.startswith("⚠ La caisse verte a perdu 6") for line in lines), lines


def test_a_member_leaving_with_absence_fines_unpaid_is_said_to_owe_them(qtbot: Any, db: tuple[Path, str]) -> None:
    from datetime import date, timedelta

    from PySide6.QtWidgets import QLabel
    from ui_support import CONTROLLER, NUMBER_PIN, PRESIDENT

    from kiosk.domain.funds import count_for
    from kiosk.services import Approval

    with running_app(qtbot, *db) as a:
        d = a.d
        officers = [Approval(a.member_id(n), NUMBER_PIN[n]) for n in (PRESIDENT, CONTROLLER)]

        def counts() -> dict[str, dict[str, int]]:
            return {f: count_for(x) for f, x in M.expected_cash(a.k, a.group_id).items()}

        day = date.fromisoformat(a.k.group(a.group_id)["last_meeting_date"]) + timedelta(days=7)
        away = M.open_meeting(a.k, a.group_id, day, counts(), officers)  # another day, at the kiosk
        M.record_attendance(a.k, away, {a.member_id(20): "absent"})
        M.close_meeting(a.k, away, counts(), officers)
        now = M.open_meeting(a.k, a.group_id, day + timedelta(days=7), counts(), officers)
        assert M.absence_fines_owed(a.k, now, a.member_id(20))[0] == 1
        a.login()
        d.tap("menu_members")
        d.tap("member_20")
        d.tap("member_exit")
        lines = [w.text() for w in a.win.overlays[-1].findChildren(QLabel, "confirm_line")]
        assert any(line.startswith("⚠ Amendes d'absence non payées : 1 (") for line in lines), lines


def test_a_kiosk_behind_the_server_says_so_and_opens_no_meeting(qtbot: Any, db: tuple[Path, str]) -> None:
    """An older backup put back: the server holds meetings it lacks. A meeting recorded now would fork the
    group's history from the server's for good; said on the home screen, refused before the count."""
    from kiosk.sync import state

    path, group_id = db
    with Kiosk.open(path, FixedClock()) as k:
        state.update(k.store, server_url="https://sync.example.org")  # enrolled
        state.failed(k.store, "server_ahead: server holds 612 events, this kiosk 480", 0)
        state.set_behind(k.store, 612)
    with running_app(qtbot, path, group_id) as a:
        d = a.d
        qtbot.waitUntil(lambda: "le serveur a des séances" in d.text("home_sync"), timeout=5000)
        head = a.k.store.head()
        a.login(TREASURER)
        d.tap("menu_meeting")
        d.tap("step_next")
        assert "le technicien doit le restaurer" in d.text("message_text")
        assert not d.exists("confirm_ok")  # not even the date's question: nothing to count, no PINs
        assert a.k.store.head() == head
    with Kiosk.open(path, FixedClock()) as k:
        state.set_behind(k.store, None)  # restored, then synced: the kiosk holds what the server holds
        state.succeeded(k.store, 0)
    with running_app(qtbot, path, group_id) as a:
        qtbot.waitUntil(lambda: "dernière le" in a.d.text("home_sync"), timeout=5000)


def test_a_group_the_coordinator_assigned_is_set_up_on_the_touchscreen(qtbot: Any, db: tuple[Path, str]) -> None:
    """The sync brings the groups the coordinators assigned to this kiosk (reference data): the kiosk creates
    one with the server's id and the given règlement, then its first officer, with nobody to log in yet."""
    from kiosk.sync import state

    path, group_id = db
    template = {"contribution_verte": 2000, "contribution_rouge": 250}
    changes = [
        {"entity": "rule_template", "key": "avec-partage", "op": "put", "value": template | {"share_out": True},
         "version": 1},
        {"entity": "kiosk_group", "key": "grp-4711", "op": "put", "version": 2,
         "value": {"name": "MUSO Sika de Notsè", "country": "TG", "cooperative": "Coopérative ELIKE",
                   "village": "Notsè", "template": "avec-partage"}},
    ]  # fmt: skip
    with Kiosk.open(path, FixedClock()) as k:
        state.apply_reference(k.store, changes, 2)
    with running_app(qtbot, path, group_id) as a:
        d = a.d
        assert d.exists("assigned_MUSO Sika de Notsè")
        d.tap("assigned_MUSO Sika de Notsè")
        d.tap("confirm_ok")
        group = a.k.group("grp-4711")  # the server's id: its journal and the coordinators' pages match
        assert (group["name"], group["village"], group["cooperative"]) == ("MUSO Sika de Notsè", "Notsè",
                                                                           "Coopérative ELIKE")  # fmt: skip
        rules = a.k.rules("grp-4711")
        assert (rules.contribution_verte, rules.contribution_rouge, rules.share_out) == (2000, 250, True)
        # Nobody can log in: the first officer is added here.
        assert d.text("login_no_officer") == "Ce groupe n'a pas encore de responsable."
        assert not d.exists("login_hint")  # no name to touch
        # This kiosk has officers already (MUSO Test's): one of them vouches, or a passer-by would become an
        # officer, and any officer may back the kiosk up (every PIN hash) or enroll it elsewhere.
        d.tap("login_first_officer")
        assert d.text("approval_title") == "Premier responsable de MUSO Sika de Notsè"
        d.tap("approval_cancel")
        a.win.show_screen("member_form")  # no way round it
        assert a.win.current_name == "login" and a.k.group("grp-4711")["member_count"] == 0
        qtbot.wait(50)  # the login screen redrawn (a tap would let the event loop run)
        d.tap("login_first_officer")
        a.approve(PRESIDENT)
        assert d.text("form_title") == "Premier responsable de MUSO Sika de Notsè"
        d.tap("mf_name")
        d.type_text("Akossiwa Dzifa")
        d.tap("text_ok")
        d.tap("mf_sex_F")
        d.tap("mf_role_membre")
        d.tap("mf_save")
        assert d.text("message_text") == "Le premier inscrit est un responsable : choisissez son rôle."
        d.tap("message_ok")
        d.tap("mf_role_president")
        d.tap("mf_save")
        d.pin("2580", "newpin")
        d.pin("2580", "newpin")
        officer = a.win.session.officer
        assert officer is not None and (officer["name"], officer["role"]) == ("Akossiwa Dzifa", "president")
        assert a.win.current_name == "members"
        # Done once: the group is no longer offered, and its next officer needs a login like any other.
        assert G.assigned_groups(a.k) == [] and not G.needs_first_officer(a.k, "grp-4711")
        a.win.logout()
        assert not d.exists("assigned_MUSO Sika de Notsè")
        d.tap("group_MUSO Sika de Notsè")
        assert not d.exists("login_first_officer")


def test_a_member_s_sums_of_millions_shrink_to_their_cards_and_never_widen_the_window(
    qtbot: Any, db: tuple[Path, str]
) -> None:
    from PySide6.QtGui import QFontMetrics
    from test_ui_layout import layout_problems
    from ui_support import to_contributions

    from ui import theme

    with running_app(qtbot, *db) as a:
        d = a.d
        to_contributions(a)
        d.tap("contrib_member_5")  # arrears of years paid at once: savings of eight figures
        d.tap("contrib_verte_other")
        d.digits(9999995)
        d.tap("number_ok")
        d.tap("confirm_ok")
        d.tap("contrib_ok")
        d.tap("contrib_all")
        d.tap("confirm_ok")
        a.win.show_screen("members")
        d.tap("member_5")
        assert d.text("member_savings") == "10\u00a0005\u00a0995\u00a0FCFA"
        assert a.win.width() == 800 and not layout_problems(a.win, theme.current)
        for key in ("savings", "loan", "arrears", "aid"):
            figure = d.find(f"member_{key}")
            assert QFontMetrics(figure.font()).horizontalAdvance(figure.text()) <= figure.width()
        assert d.find("member_back").geometry().right() < a.win.width()
