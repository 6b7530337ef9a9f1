"""What the app's tests share: an offscreen Qt, a group with some history, and a finger that counts its taps.

Import this module before anything that loads Qt: it chooses the offscreen
platform, so the tests run on a machine without a screen.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import PINS, Group, make_group
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QWidget

from kiosk.domain.funds import count_for
from kiosk.services import Kiosk
from kiosk.services import meetings as M
from kiosk.services import movements as V
from kiosk.store.clock import FixedClock
from ui import printing
from ui.app import MainWindow, dispose
from ui.session import Session
from ui.walkthrough import Driver, window_point

# Member numbers: the four officers come first (make_group), then the members.
PRESIDENT, SECRETARY, TREASURER, CONTROLLER = 1, 2, 3, 4
NUMBER_PIN = {PRESIDENT: PINS["president"], SECRETARY: PINS["secretaire"], TREASURER: PINS["tresorier"],
              CONTROLLER: PINS["controleur"]}  # fmt: skip
FIRST_MEETING = date(2026, 1, 5)
HISTORY_WEEKS = 6
LOANS_TO = (5, 6, 7, 8, 9, 10)  # borrowers at the last meeting of the history
TODAY = date(2026, 3, 16)  # the meeting under test: the loans' first installment is due


def ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC).timestamp() * 1000)


def build_history(k: Kiosk, members: int = 26) -> Group:
    """A group of ``members`` + 4 officers, six weekly meetings, six loans of 9 000 F."""
    g = make_group(k, n_members=members, name="MUSO Test")
    for week in range(HISTORY_WEEKS):
        meeting = g.open(FIRST_MEETING + timedelta(weeks=week))
        M.standard_contributions(k, meeting, g.treasurer)
        if week == HISTORY_WEEKS - 1:
            for number in LOANS_TO:
                member = k.member_by_number(g.group_id, number)["member_id"]
                V.grant_loan(k, meeting, g.treasurer, member, 9000, 3, g.two())
        g.close(meeting)
    return g


@dataclass
class App:
    win: MainWindow
    d: Driver
    k: Kiosk
    group_id: str
    db: Path

    def login(self, number: int = TREASURER) -> None:
        d = self.d
        d.tap(f"group_{self.k.group(self.group_id)['name']}")
        d.tap(f"officer_{number}")
        d.pin(NUMBER_PIN[number])

    def approve(self, *numbers: int) -> None:
        self.d.approve(*((n, NUMBER_PIN[n]) for n in numbers))

    def member_id(self, number: int) -> str:
        return str(self.k.member_by_number(self.group_id, number)["member_id"])


def open_window(qtbot: Any, db: Path, *, day: date = TODAY, size: tuple[int, int] = (800, 480)) -> MainWindow:
    session = Session(db, FixedClock(ms(day)))
    win = MainWindow(session, kiosk_mode=False, size=QSize(*size))
    win.resize(*size)
    win.start()
    win.show()
    qtbot.waitExposed(win)
    return win


def close_window(win: MainWindow) -> None:
    win.shutdown()
    dispose(win)


def qt_click(qtbot: Any) -> Any:
    """qtbot's click, on the window at the widget's centre (see ui.walkthrough.qtest_click)."""

    def click(widget: QWidget) -> None:
        window, point = window_point(widget)
        qtbot.mouseClick(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)

    return click


def to_cash_count(a: App) -> None:
    """From the opening's date to its cash count, confirming the date if the app asks: the history's
    last meeting is five weeks before TODAY, more than two weeks of a weekly group."""
    a.d.tap("step_next")
    if a.d.exists("confirm_ok"):
        a.d.tap("confirm_ok")


def count_cash_exactly(a: App) -> None:
    """On the opening's date: an exact cash count, confirmed, up to the officers' approval."""
    d = a.d
    to_cash_count(a)
    for fund, amount in M.expected_cash(a.k, a.group_id).items():
        if amount:
            d.count(fund, count_for(amount), "open")
    d.tap("step_next")
    d.tap("confirm_ok")


def open_meeting(a: App) -> None:
    """From the group's menu: open the meeting with an exact cash count and two officers."""
    a.d.tap("menu_meeting")
    count_cash_exactly(a)
    a.approve(PRESIDENT, CONTROLLER)


def to_contributions(a: App) -> None:
    """Logged in, the meeting open, on its contributions step: where most meeting tests begin."""
    a.login()
    open_meeting(a)
    a.d.tap("step_next")


def everyone_paid(a: App) -> None:
    """On the contributions step, every member present paid the standard amounts (the one tap)."""
    to_contributions(a)
    a.d.tap("contrib_all")
    a.d.tap("confirm_ok")


def fill_loan(a: App, number: int, amount: int, term: int) -> None:
    """On the loans step, the form filled in for member ``number`` (not granted)."""
    a.d.tap("loan_member")
    a.d.tap(f"pick_{number}")
    a.d.tap("loan_amount")
    a.d.amount(amount)
    a.d.tap(f"loan_term_{term}")


def prepare_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """A kiosk database with the history above and the file printer in tmp_path."""
    monkeypatch.setenv("MUSO_DATA_DIR", str(tmp_path))
    db = tmp_path / "kiosk.db"
    with Kiosk.open(db, FixedClock(ms(FIRST_MEETING))) as k:
        k.store.set_setting("kiosk_id", "K07")
        k.store.set_setting("kiosk_name", "Kiosque de test")
        printing.set_printer_config(k, {"connection": "file", "path": str(tmp_path / "receipts")})
        group_id = build_history(k).group_id
    return db, group_id


@pytest.fixture(name="db")
def db_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """``prepare_db`` as the UI tests' fixture ``db`` (a test module imports ``db_fixture``)."""
    return prepare_db(tmp_path, monkeypatch)


@contextmanager
def running_app(qtbot: Any, db: Path, group_id: str, **kwargs: Any) -> Iterator[App]:
    win = open_window(qtbot, db, **kwargs)
    try:
        yield App(win, Driver(win, qt_click(qtbot)), win.session.k, group_id, db)
    finally:
        close_window(win)
