"""Officers' PINs: the keypad, the two-officer approval, and setting a new PIN.

A PIN is checked as soon as it is typed (kiosk.store.pins counts failures
and locks after five), so the person who mistyped is told at once; the use
case then checks both PINs again, since the services are what the ledger
trusts. No officer may approve a movement to themselves: the ledger refuses
it, and the panel says so as soon as that officer's name is touched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QStackedWidget, QWidget

from kiosk.domain.errors import DomainError, Problem
from kiosk.i18n import message
from kiosk.services import Approval
from kiosk.services import groups as G
from kiosk.store.pins import check_pin_format, locked_until, verify_pin

from . import theme
from .i18n import NBSP, _, clock_time, error_text, language, role_name
from .keys import Keypad
from .overlays import Overlay
from .widgets import button, column, label, row

if TYPE_CHECKING:
    from .app import MainWindow


class PinPad(QWidget):
    """Dots for the digits typed (never the digits), a keypad, and OK."""

    submitted = Signal(str)

    def __init__(self, prefix: str = "pin") -> None:
        super().__init__()
        self.pin = ""
        self.dots = label("", kind="display", name=f"{prefix}_dots", wrap=False, center=True)
        pad = Keypad(prefix, last="ok", ok_text=_("OK"))
        pad.key.connect(self._key)
        self.setLayout(column(self.dots, pad))
        self._show()

    def _key(self, key: str) -> None:
        if key == "ok":
            pin, self.pin = self.pin, ""
            self._show()
            self.submitted.emit(pin)
            return
        if key == "back":
            self.pin = self.pin[:-1]
        elif len(self.pin) < 8:
            self.pin += key
        self._show()

    def clear(self) -> None:
        self.pin = ""
        self._show()

    def _show(self) -> None:
        self.dots.setText(" ".join("●" * len(self.pin)) if self.pin else "—")


def officer_buttons(
    officers: Sequence[dict[str, Any]], on_pick: Callable[[dict[str, Any]], Any], columns: int = 2
) -> tuple[QGridLayout, dict[str, Any]]:
    grid = QGridLayout()
    grid.setSpacing(theme.current.px(8))
    buttons = {}
    for i, o in enumerate(officers):
        b = button(f"{o['name']}\n{role_name(o['role'], o['sex'])}", f"officer_{o['number']}", kind="tile", expand=True)
        b.clicked.connect(lambda _c=False, o=o: on_pick(o))
        grid.addWidget(b, i // columns, i % columns)
        buttons[o["member_id"]] = b
    return grid, buttons


def lock_text(k: Any, officer: dict[str, Any]) -> str:
    """Why this officer cannot type their PIN now, said when their name is touched (a keypad that only
    says so after a PIN is typed again wastes the wait, and reads as a fault); "" if they can."""
    until = locked_until(k.store, officer["member_id"])
    if not until:
        return ""
    minutes = -(-(until - k.store.clock.now_ms()) // 60000)  # rounded up: "0 min" would read as unlocked
    return _(
        "Code de {name} bloqué après trop d'essais, jusqu'à {time} (encore {minutes}).",
        name=officer["name"],
        time=clock_time(until),
        minutes=f"{minutes}{NBSP}min",  # never "5" at a line's end and "min" on the next
    )


class ApprovalOverlay(Overlay):
    """Asks ``needed`` distinct officers for their PIN, then hands the approvals to ``on_approved``."""

    def __init__(
        self,
        win: MainWindow,
        title: str,
        summary: str,
        on_approved: Callable[[list[Approval]], Any],
        *,
        needed: int = 2,
        beneficiary: str | None = None,
        officers: Sequence[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(win, "approval")
        self.on_approved, self.needed, self.beneficiary = on_approved, needed, beneficiary
        self.k = win.session.k
        self.approvals: list[Approval] = []
        self.current: dict[str, Any] | None = None
        self.lay.addWidget(label(title, kind="title", name="approval_title"))
        if summary:
            self.lay.addWidget(label(summary, name="approval_summary"))
        self.step = label("", kind="ok", name="approval_step")
        self.error = label("", kind="error", name="approval_error", hide_empty=True)
        self.lay.addWidget(self.step)
        self.lay.addWidget(self.error)
        self.pages = QStackedWidget()
        choose = QWidget()
        if officers is None:
            officers = G.officers(self.k, win.session.group_id or "")
        grid, self.buttons = officer_buttons(officers, self._pick)
        choose.setLayout(column(grid, None))
        self.pages.addWidget(choose)
        pin_page = QWidget()
        self.who = label("", kind="title", name="approval_who")
        self.pad = PinPad("pin")
        self.pad.submitted.connect(self._pin)
        change = button(_("Autre responsable"), "approval_change", on=self._back_to_names)
        pin_page.setLayout(row(column(self.who, change, None), self.pad, spacing=theme.current.px(16)))
        self.pages.addWidget(pin_page)
        self.lay.addWidget(self.pages, 1)
        self.lay.addLayout(row(button(_("Annuler"), "approval_cancel", on=self.close_overlay), None))
        self._refresh()

    def _refresh(self) -> None:
        n = len(self.approvals) + 1
        if self.needed == 1:
            self.step.setText(_("Un responsable : touchez votre nom, puis tapez votre code."))
        else:
            self.step.setText(
                _("Responsable {n} sur {total} : touchez votre nom, puis tapez votre code.", n=n, total=self.needed)
            )
        for member_id, b in self.buttons.items():
            b.setEnabled(member_id not in {a.member_id for a in self.approvals})

    def _pick(self, officer: dict[str, Any]) -> None:
        if officer["member_id"] == self.beneficiary:
            problem = Problem("self_approval", "", {"name": officer["name"]})
            text = message(problem, language(), with_field=False)
            self.error.setText(text[:1].upper() + text[1:])
            return
        locked = lock_text(self.k, officer)
        if locked:
            self.error.setText(locked + " " + _("Un autre responsable peut approuver."))
            return
        self.current = officer
        self.error.setText("")
        self.who.setText(_("Code de {name}", name=officer["name"]))
        self.pad.clear()
        self.pages.setCurrentIndex(1)

    def _back_to_names(self) -> None:
        self.current = None
        self.pages.setCurrentIndex(0)

    def _pin(self, pin: str) -> None:
        assert self.current is not None
        try:
            verify_pin(self.k.store, self.current["member_id"], pin)
        except DomainError as exc:
            self.error.setText(error_text(exc))
            if exc.code == "pin_locked":
                self._back_to_names()
            return
        self.error.setText("")
        self.approvals.append(Approval(self.current["member_id"], pin))
        self.current = None
        if len(self.approvals) < self.needed:
            self.pages.setCurrentIndex(0)
            self._refresh()
            return
        self.close_overlay()
        self.on_approved(list(self.approvals))


class NewPinOverlay(Overlay):
    """A new PIN, typed twice; the rules for PINs (4 to 8 digits, not 1111 or 1234) come from the store."""

    def __init__(self, win: MainWindow, name: str, on_done: Callable[[str], Any], *, hint: str = "") -> None:
        super().__init__(win, "newpin")
        self.on_done = on_done
        self.first: str | None = None
        self.lay.addWidget(label(_("Nouveau code pour {name}", name=name), kind="title"))
        self.step = label(_("Tapez le nouveau code (4 à 8 chiffres)."), name="newpin_step")
        self.error = label("", kind="error", name="newpin_error", hide_empty=True)
        self.pad = PinPad("newpin")
        self.pad.submitted.connect(self._pin)
        side = column(*([label(hint, kind="small", name="newpin_hint")] if hint else []), self.step, self.error, None)
        self.lay.addLayout(row(side, self.pad, spacing=theme.current.px(16)), 1)
        self.lay.addLayout(row(button(_("Annuler"), "newpin_cancel", on=self.close_overlay), None))

    def _pin(self, pin: str) -> None:
        if self.first is None:
            try:
                check_pin_format(pin)
            except DomainError as exc:
                self.error.setText(error_text(exc))
                return
            self.first = pin
            self.error.setText("")
            self.step.setText(_("Tapez le même code une seconde fois."))
            return
        if pin != self.first:
            self.first = None
            self.error.setText(_("Les deux codes sont différents : recommencez."))
            self.step.setText(_("Tapez le nouveau code (4 à 8 chiffres)."))
            return
        self.close_overlay()
        self.on_done(pin)
