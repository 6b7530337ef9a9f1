"""The meeting as a guided sequence: a step bar, one page per step, back and forth freely.

The step is recorded (kiosk.services.meetings.set_step) each time it
changes, so a meeting cut by a power failure or a crash opens again where the
treasurer was. Money may move at any step while the meeting is open.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QStackedWidget

from kiosk.domain.meetings import STEPS
from kiosk.services import meetings as M

from .. import theme
from ..forms import Form
from ..i18n import _, short_date, step_name
from ..widgets import button, label, set_kind, style_again
from .base import Screen
from .step_base import Step
from .step_loans import AidStep, LoansStep, RepaymentsStep
from .step_open import CloseStep, OpenStep
from .step_other import OtherStep
from .step_people import AttendanceStep, ContributionsStep
from .step_receipts import ReceiptsStep, waiting_for_paper

PAGES: dict[str, type[Step]] = {
    "open": OpenStep,
    "attendance": AttendanceStep,
    "contributions": ContributionsStep,
    "repayments": RepaymentsStep,
    "loans": LoansStep,
    "aid": AidStep,
    "other": OtherStep,
    "close": CloseStep,
    "receipts": ReceiptsStep,
}


class MeetingScreen(Screen):
    def __init__(self, win: Any) -> None:
        super().__init__(win)
        m = theme.current
        self.lay.setContentsMargins(m.px(8), m.px(4), m.px(8), m.px(4))
        self.lay.setSpacing(m.px(5))
        self.meeting_id: str | None = None
        self.closed_id: str | None = None  # the meeting just closed, for its receipts step
        # Closed meetings whose receipts step the treasurer left on purpose ("Terminer", the next opening):
        # not taken back to it while the app runs, though receipts may still wait for paper.
        self.receipts_left: set[str] = set()
        self.current = ""
        # Where "go" is taking the treasurer while the current step is asked to let go: a step that
        # asks a question first (ContributionsStep) goes there once it is answered. None: the screen is left.
        self.target: str | None = None
        bar = QHBoxLayout()
        bar.setSpacing(m.px(4))
        self.step_buttons = {}
        for i, key in enumerate(STEPS, start=1):
            b = button(f"{i}\n{step_name(key)}", f"step_{key}", kind="step", expand=True)
            b.setMinimumHeight(m.px(48))
            b.clicked.connect(lambda _c=False, key=key: self.go(key))
            bar.addWidget(b)
            self.step_buttons[key] = b
        self.lay.addLayout(bar)
        self.pages = QStackedWidget()
        self.steps: dict[str, Step] = {}
        self.lay.addWidget(self.pages, 1)
        nav = QHBoxLayout()
        nav.setSpacing(m.px(8))
        self.prev_btn = button(_("◀ Précédent"), "step_prev", on=self.go_prev)
        self.hint = label("", kind="small", name="step_hint", center=True)
        self.next_btn = button("", "step_next", kind="primary", on=lambda: self.page().next())
        self.next_btn.setMinimumWidth(m.px(190))
        nav.addWidget(self.prev_btn)
        nav.addWidget(self.hint, 1)
        nav.addWidget(self.next_btn)
        self.lay.addLayout(nav)

    def title(self) -> str:
        group = self.s.group
        mid = self.meeting_id or self.closed_id
        if mid:
            meeting = self.k.meeting(mid)
            return _("Séance n° {n} · {date}", n=meeting["number"], date=short_date(meeting["date"]))
        return _("Séance n° {n}", n=group["meeting_count"] + 1)

    def page(self, key: str | None = None) -> Step:
        key = key or self.current
        if key not in self.steps:
            self.steps[key] = PAGES[key](self)
            self.pages.addWidget(self.steps[key])
        return self.steps[key]

    def undone(self) -> list[str]:
        """What steps of this meeting hold filled in and not recorded (a loan never granted), in words."""
        found = (st.pending() for st in self.steps.values() if st.filled_for == self.meeting_id)
        return [what for what in found if what]

    def enter(self, **kwargs: Any) -> None:
        self.meeting_id = self.s.meeting_id()
        if self.closed_id and self.k.meeting(self.closed_id)["group_id"] != self.s.group_id:
            self.closed_id = None
        if self.meeting_id:
            self.closed_id = None
            step = M.step(self.k, self.meeting_id)
        else:
            self.closed_id = self.closed_id or self._receipts_waiting()
            step = "receipts" if self.closed_id else "open"
        self.current = ""
        self.go(kwargs.get("step", step))

    def _receipts_waiting(self) -> str | None:
        """The group's last closed meeting if receipts of it still wait for paper and nobody left its receipts
        step since the app started: after a restart (a power cut at the closing, say) the meeting resumes
        there, as an open one resumes at its step, not at the next opening with the members' paper forgotten."""
        last = M.last_closed(self.k, self.s.group_id or "")
        meeting_id = str(last["meeting_id"]) if last else None
        if meeting_id is None or meeting_id in self.receipts_left:
            return None
        return meeting_id if waiting_for_paper(self.win, meeting_id) else None

    def leave_screen(self) -> None:
        if self.current and self.current in self.steps:
            self.target = None
            self.page().leave()

    def available(self, key: str) -> bool:
        if self.meeting_id:
            return key != "receipts"
        if self.closed_id:
            # The next opening stays one tap away from the receipts of the last one.
            return key in ("open", "receipts")
        return key == "open"

    def go(self, key: str) -> None:
        if not self.available(key):
            return
        self.target = key
        if self.current and self.current != key and not self.page().leave():
            return
        if key == "open" and not self.meeting_id:
            self.closed_id = None  # done with the closed meeting's receipts
        self.current = key
        if self.meeting_id and key != "open":
            self.win.attempt(M.set_step, self.k, self.meeting_id, key)
        page = self.page(key)
        if page.filled_for != self.meeting_id:
            # A form half filled at another meeting (another group's, on a kiosk shared by several)
            # would offer that meeting's member here: this meeting's own draft instead, or nothing.
            page.filled_for = self.meeting_id
            if self.meeting_id:
                page.refill()
            else:
                for form in page.findChildren(Form):
                    form.reset()
        page.enter()
        self.win.shield_taps()  # a double tap on "Suivant" must not skip the next step
        self.pages.setCurrentWidget(page)
        self.refresh_nav()

    def refresh_nav(self) -> None:
        index = STEPS.index(self.current)
        for i, key in enumerate(STEPS):
            b = self.step_buttons[key]
            b.setEnabled(self.available(key))
            b.setProperty("state", "current" if key == self.current else "done" if i < index else "")
            style_again(b)
        prev = self._neighbour(-1)
        self.prev_btn.setEnabled(prev is not None)
        page = self.page()
        self.next_btn.setText(page.next_text())
        set_kind(self.next_btn, "primary")
        self.next_btn.setEnabled(bool(page.next_text()))
        self.hint.setText(page.hint() or _("Étape {i} sur {n}", i=index + 1, n=len(STEPS)))
        set_kind(self.hint, "warn" if getattr(page, "hint_warns", bool)() else "small")
        self.win.refresh_title()

    def _neighbour(self, direction: int) -> str | None:
        i = STEPS.index(self.current) + direction
        while 0 <= i < len(STEPS):
            if self.available(STEPS[i]):
                return STEPS[i]
            i += direction
        return None

    def go_next(self) -> None:
        nxt = self._neighbour(1)
        if nxt:
            self.go(nxt)

    def go_prev(self) -> None:
        prev = self._neighbour(-1)
        if prev:
            self.go(prev)

    def opened(self, meeting_id: str) -> None:
        self.meeting_id = meeting_id
        self.closed_id = None
        self.current = ""
        self.go(M.step(self.k, meeting_id))

    def closed(self, meeting_id: str) -> None:
        self.closed_id = meeting_id
        self.meeting_id = None
        self.current = ""
        self.win.printer.wake()
        self.go("receipts")

    def show_receipts(self, meeting_id: str) -> None:
        """A closed meeting's receipts again (after a restart, or after "Terminer"), to reprint one."""
        self.closed_id = meeting_id
        self.go("receipts")

    def printer_changed(self) -> None:
        if self.current == "receipts":
            self.page().enter()

    def poll(self) -> None:
        if self.current == "receipts":
            self.page().enter()
