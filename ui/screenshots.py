"""Screenshots of every screen, taken by pressing the app's own buttons on the demo group.

    python -m ui.screenshots docs/screenshots [--size 800x480] [--lang fr|en]

The pictures in the README come from here; look at each one after a change
to the screens: text that is cut, overlaps or is too small is a bug.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSize

from kiosk.demo import ROLES, demo_scenario
from kiosk.domain.funds import count_for
from kiosk.scenario import Runner
from kiosk.services import Kiosk
from kiosk.services import meetings as M
from kiosk.store.clock import FixedClock
from kiosk.store.print_queue import PrintQueue

from . import printing
from .app import MainWindow, dispose, make_app
from .session import Session
from .walkthrough import Driver

DEMO_DAY = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)  # the Monday after the demo's last meeting
PINS = {number: pin for number, (_role, pin) in ROLES.items()}
TREASURER = 3


def build_demo(directory: Path) -> tuple[Path, str]:
    db = directory / "kiosk.db"
    with Kiosk.open(db, FixedClock(int(DEMO_DAY.timestamp() * 1000))) as k:
        k.store.set_setting("kiosk_id", "K00")
        k.store.set_setting("kiosk_name", "Kiosque de démonstration")
        cfg = printing.set_printer_config(k, {"connection": "file", "path": str(directory / "receipts")})
        group_id = Runner(k).run(demo_scenario())
    # The demo's past meetings handed out their receipts back then: no backlog on the pictures.
    worker = printing.worker_for(db, cfg, directory)
    worker.drain()
    worker.transport.close()
    return db, group_id


class Tour:
    def __init__(self, out: Path, size: tuple[int, int], lang: str, work: Path) -> None:
        self.out, self.size = out, size
        self.db, self.group_id = build_demo(work)
        self.app = make_app()
        session = Session(self.db, FixedClock(int(DEMO_DAY.timestamp() * 1000)))
        session.k.store.set_setting("ui_lang", lang)
        self.win = MainWindow(session, kiosk_mode=False, size=QSize(*size))
        self.win.resize(*size)
        self.win.start()
        self.win.show()
        self.d = Driver(self.win)
        self.d.settle()
        self.shots: list[Path] = []

    def shot(self, name: str) -> None:
        self.win.toast_box.hide()  # a note that fades after 2.5 s on the kiosk would stay on the picture
        self.d.settle()
        path = self.out / f"{name}.png"
        self.win.grab_png(path)
        self.shots.append(path)

    def wait_until(self, done: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            self.d.settle()
            time.sleep(0.02)
        self.d.settle()

    def wait_for_printer(self, timeout: float = 30.0) -> None:
        """Let the print worker hand out the meeting's receipts, as it would while the treasurer looks on."""
        queue = PrintQueue(self.win.session.k.store)
        deadline = time.monotonic() + timeout
        while queue.pending_count() and time.monotonic() < deadline:
            self.d.settle()
            time.sleep(0.05)
        time.sleep(0.3)  # the window redraws a burst of printed receipts once, 250 ms after the last
        self.d.settle()
        self.win._poll()

    def run(self) -> list[Path]:
        d, shot = self.d, self.shot
        shot("01-home")
        d.tap("group_MUSO Élikem de Bolou")
        shot("02-login")
        d.tap(f"officer_{TREASURER}")
        d.tap("pin_4")
        d.tap("pin_8")
        shot("03-login-pin")
        d.tap("pin_2")
        d.tap("pin_6")
        d.tap("pin_ok")
        shot("04-group-menu")
        d.tap("menu_meeting")
        shot("05-open-date")
        d.tap("step_next")
        k = self.win.session.k
        expected = M.expected_cash(k, self.group_id)
        for fund, amount in expected.items():
            d.count(fund, count_for(amount), "open")
        d.tap("open_fund_verte")
        shot("06-open-count")
        d.tap("step_next")
        shot("07-open-confirm")
        d.tap("confirm_ok")
        shot("08-approval")
        d.tap("officer_1")
        d.tap("pin_2")
        d.tap("pin_5")
        shot("09-approval-pin")
        d.tap("pin_8")
        d.tap("pin_0")
        d.tap("pin_ok")
        d.approve((4, PINS[4]))
        shot("10-attendance")
        d.tap("att_7")
        shot("11-attendance-choice")
        d.tap("choice_absent")
        d.tap("att_12")
        d.tap("choice_late")
        d.tap("step_next")
        d.tap("contrib_member_5")
        d.tap("contrib_verte_500")
        shot("12-contribution-exception")
        d.tap("contrib_ok")
        shot("13-contributions")
        d.tap("contrib_all")
        shot("14-confirm-contributions")
        d.tap("confirm_ok")
        d.tap("step_next")
        shot("15-repayments")
        d.tap("step_next")
        d.tap("loan_member")
        shot("16-member-picker")
        d.tap("pick_10")
        d.tap("loan_amount")
        d.digits(80000)
        shot("17-amount-keypad")
        d.tap("number_ok")
        d.tap("loan_term_3")
        shot("18-loan-refused")
        d.tap("loan_amount")
        for _i in range(5):
            d.tap("key_back")
        d.digits(60000)
        d.tap("number_ok")
        shot("19-loan-ok")
        d.tap("step_next")
        shot("19b-loan-not-granted")
        d.tap("pending_continue")
        d.tap("aid_naissance")
        d.tap("aid_member")
        d.tap("pick_6")
        shot("20-aid")
        d.tap("step_next")
        d.tap("pending_continue")
        shot("21-other-fines")
        d.tap("other_expense")
        shot("22-other-expense")
        d.tap("expense_label")
        d.type_text("Cahiers ")
        shot("23-keyboard")
        d.tap("text_cancel")
        d.tap("step_next")
        d.count("verte", count_for(M.expected_cash(k, self.group_id)["verte"] - 500), "close")
        shot("24-close-count")
        self.win.show_screen("members")
        shot("25-members")
        d.tap("member_3")
        shot("26-member-page")
        d.tap("member_edit")
        shot("27-member-form")
        d.tap("mf_cancel")
        self.win.show_screen("corrections")
        latest = k.store.query(
            "SELECT txn_id FROM p_transactions WHERE group_id = ? AND kind = 'contribution' ORDER BY seq DESC LIMIT 1",
            (self.group_id,),
        )[0]["txn_id"]
        d.tap(f"txn_{latest[:8]}")
        d.tap("corr_reason")
        d.tap("chip_0")
        d.tap("text_ok")
        d.tap("corr_also")  # the member paid nothing: the other fund's contribution goes too
        shot("28-corrections")
        self.win.show_screen("rules")
        shot("29-rules")
        d.tap("rules_adopt")
        shot("30-rules-edit")
        d.tap("rules_cancel")
        self.win.show_screen("settings")
        shot("31-settings-printer")
        d.tap("settings_sync")
        self.wait_until(lambda: not self.win.sync.info.get("loading"))  # the status is read off the UI thread
        shot("32-settings-sync")
        d.tap("settings_backup")
        shot("33-settings-backup")
        self.win.show_screen("meeting", step="loans")
        d.tap("loan_grant")
        d.tap("confirm_ok")
        d.approve((1, "1111"))
        shot("34-wrong-pin")
        d.tap("approval_cancel")
        self.win.show_screen("meeting", step="close")
        d.count("verte", count_for(M.expected_cash(k, self.group_id)["verte"]), "close")
        d.count("rouge", count_for(M.expected_cash(k, self.group_id)["rouge"]), "close")
        d.tap("step_next")
        d.tap("confirm_ok")
        d.approve((1, PINS[1]), (4, PINS[4]))
        self.wait_for_printer()
        shot("35-receipts")
        return self.shots

    def close(self) -> None:
        self.win.shutdown()
        dispose(self.win)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui.screenshots", description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", default="800x480")
    parser.add_argument("--lang", default="fr", choices=("fr", "en"))
    args = parser.parse_args(argv)
    width, _, height = args.size.partition("x")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        os.environ["MUSO_DATA_DIR"] = work
        tour = Tour(args.out, (int(width), int(height)), args.lang, Path(work))
        try:
            shots = tour.run()
        finally:
            tour.close()
    print(f"{len(shots)} captures dans {args.out} ({tour.d.taps} touches)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
