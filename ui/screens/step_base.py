"""One step of the meeting: a page of the guided sequence."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QVBoxLayout, QWidget

from kiosk.domain.meetings import STEPS

from .. import theme
from ..forms import Form
from ..i18n import _
from ..overlays import GoOnOverlay

if TYPE_CHECKING:
    from .meeting import MeetingScreen


def drafts_of(store: Any, key: str) -> dict[str, Any]:
    """The drafts kept under ``key`` in the kiosk's settings, by owner (an open meeting, a group's next
    opening); the one draft an earlier version kept there is read as its owner's."""
    saved = json.loads(store.setting(key) or "{}")
    if not isinstance(saved, dict):
        return {}
    if "meeting" in saved:
        return {saved["meeting"]: saved.get("draft", {})} if saved.get("meeting") else {}
    return saved


def owned_draft(store: Any, key: str, owner: str) -> dict[str, Any]:
    found = drafts_of(store, key).get(owner, {})
    return found if isinstance(found, dict) else {}


def keep_owned(store: Any, key: str, owner: str, draft: dict[str, Any], drafts: dict[str, Any] | None = None) -> None:
    """``owner``'s draft kept (dropped when empty) beside the others (``drafts``: those to keep, if not all)."""
    drafts = drafts_of(store, key) if drafts is None else drafts
    if draft:
        drafts[owner] = draft
    else:
        drafts.pop(owner, None)
    store.set_setting(key, json.dumps(drafts))


class Step(QWidget):
    key = ""
    filled_for: str | None = None  # the meeting this step's forms were last filled at
    _refilling = False  # forms being typed back in: not a change to keep
    _keeping = False  # the forms' changes are kept as this meeting's draft (``refill``)
    let_go = False  # the treasurer chose to move on although something here is undone (``ask_to_go_on``)

    def __init__(self, screen: MeetingScreen) -> None:
        super().__init__()
        self.screen = screen
        self.win = screen.win
        self.s = screen.s
        self.k = screen.k
        self.lay = QVBoxLayout(self)
        self.lay.setContentsMargins(0, 0, 0, 0)
        self.lay.setSpacing(theme.current.px(6))

    @property
    def meeting_id(self) -> str:
        assert self.screen.meeting_id is not None
        return self.screen.meeting_id

    @property
    def meeting(self) -> dict[str, Any]:
        return self.k.meeting(self.meeting_id)

    def draft(self, key: str) -> dict[str, Any]:
        """What was entered at this meeting but not yet recorded, kept under ``key`` in the kiosk's
        database: a restart, a power cut or a change of language (which rebuilds the screens)
        must not silently lose it. One per open meeting: on a kiosk shared by groups, another
        group's meeting must not erase it (a member let off would then be charged in full)."""
        return owned_draft(self.k.store, key, self.meeting_id)

    def keep_draft(self, key: str, draft: dict[str, Any]) -> None:
        # Only open meetings keep drafts: a closed one's would pile up in one setting read at every tap.
        rows = self.k.store.query("SELECT meeting_id FROM p_meetings WHERE status = 'open'")
        still_open = {r["meeting_id"] for r in rows}
        drafts = {m: d for m, d in drafts_of(self.k.store, key).items() if m in still_open}
        keep_owned(self.k.store, key, self.meeting_id, draft, drafts)

    def refill(self) -> None:
        """This meeting's forms as they were left: empty, or what was typed before a restart or a power cut
        (a loan's member, amount and term; an expense's label), kept until it is recorded or cleared."""
        forms = self.findChildren(Form)
        if not forms:
            return
        self._refilling = True
        try:
            saved = self.draft(f"forms_{self.key}")
            for form in forms:
                form.reset()
                form.restore(saved.get(form.name))
            self.restore_extra(saved)
        finally:
            self._refilling = False
        if not self._keeping:
            for form in forms:
                form.changed.connect(self.keep_forms)
            self._keeping = True

    def keep_forms(self) -> None:
        if self._refilling or self.screen.meeting_id is None or self.filled_for != self.screen.meeting_id:
            return
        draft = {form.name: kept for form in self.findChildren(Form) if (kept := form.snapshot())}
        self.keep_draft(f"forms_{self.key}", {**draft, **self.extra_draft()})

    def extra_draft(self) -> dict[str, Any]:
        """What a step keeps besides its forms (the aid chosen on its tiles)."""
        return {}

    def restore_extra(self, saved: dict[str, Any]) -> None:
        """``extra_draft`` read back."""

    def enter(self) -> None:
        """Shown: rebuild from the ledger."""

    def leave(self) -> bool:
        """About to be left; record what is pending. False keeps the treasurer here."""
        return True

    def pending(self) -> str | None:
        """What was filled in here and not recorded, in words (a loan never granted); None if nothing."""
        return None

    def leave_pending(self, back: str) -> bool:
        """``leave`` for a step whose form records nothing until its button is tapped: moving on with it
        filled in asks first, as the money is then handed over unrecorded, or not at all."""
        what = self.pending() if self.moving_on() else None
        if what is None:
            return True
        return self.ask_to_go_on("pending", _("Pas encore enregistré"), what, back)

    def moving_on(self) -> bool:
        """Being left for a later step of an open meeting (not back, not to the menu), and not already
        let go by the treasurer (``ask_to_go_on``)."""
        target = self.screen.target
        if self.let_go:
            self.let_go = False
            return False
        return (
            self.screen.meeting_id is not None
            and target in STEPS
            and self.key in STEPS
            and STEPS.index(target) > STEPS.index(self.key)
        )

    def ask_to_go_on(self, name: str, title: str, text: str, back: str, then: Callable[[], Any] | None = None) -> bool:
        """Stay (False), asking whether to go on to the screen's target all the same; ``back`` is the big
        button's text, and ``then`` what going on does when it is not that target (leaving the screen)."""
        target = self.screen.target

        def go_on() -> None:
            self.let_go = True
            try:
                if then:
                    then()
                else:
                    self.screen.go(target)
            finally:
                # Spent, or not (the target was not available): never kept for a later move.
                self.let_go = False

        GoOnOverlay(self.win, name, title, text, back, go_on).open()
        return False

    def hint(self) -> str:
        """A word of guidance under the step, between Back and Next."""
        return ""

    def next_text(self) -> str:
        return _("Suivant ▶")

    def next(self) -> None:
        self.screen.go_next()

    def after_change(self) -> None:
        """Something was recorded: redraw, and let the window update its header."""
        self.enter()
        self.win.refresh_title()
