"""Officer login: touch your name, type your PIN. Five wrong PINs lock that officer for five minutes."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QStackedWidget, QWidget

from kiosk.domain.errors import DomainError
from kiosk.store.pins import verify_pin

from .. import theme
from ..approval import PinPad, officer_buttons
from ..i18n import _, error_text
from ..widgets import button, clear, column, label, row
from .base import Screen


class LoginScreen(Screen):
    needs_officer = False

    def __init__(self, win: Any) -> None:
        super().__init__(win)
        self.then = "group"
        self.officer: dict[str, Any] | None = None
        self.heading = label("", kind="title", name="login_title")
        self.lay.addWidget(self.heading)
        self.error = label("", kind="error", name="login_error", hide_empty=True)
        self.lay.addWidget(self.error)
        self.pages = QStackedWidget()
        names = QWidget()
        self.names = column()
        names.setLayout(column(label(_("Touchez votre nom."), name="login_hint"), self.names, None))
        self.pages.addWidget(names)
        pin_page = QWidget()
        self.who = label("", kind="title", name="login_who")
        self.pad = PinPad("pin")
        self.pad.submitted.connect(self._pin)
        back = button(_("Autre responsable"), "login_change", on=lambda: self.pages.setCurrentIndex(0))
        pin_page.setLayout(
            row(
                column(self.who, label(_("Tapez votre code, puis OK.")), back, None),
                self.pad,
                spacing=theme.current.px(16),
            )
        )
        self.pages.addWidget(pin_page)
        self.lay.addWidget(self.pages, 1)
        self.lay.addLayout(row(button(_("Retour"), "login_back", on=lambda: win.show_screen("home")), None))

    def title(self) -> str:
        return _("Connexion")

    def enter(self, **kwargs: Any) -> None:
        if kwargs.get("group_id"):
            self.s.group_id = kwargs["group_id"]
        self.then = kwargs.get("then", "group")
        if self.then == "login":
            self.then = "group"
        self.error.setText("")
        self.pages.setCurrentIndex(0)
        if self.s.group_id is None:
            self.win.show_screen("home")
            return
        group = self.s.group
        self.heading.setText(_("{group} : connexion d'un responsable", group=group["name"]))
        clear(self.names)
        grid, _buttons = officer_buttons(self.s.officers(), self._pick)
        self.names.addLayout(grid)

    def _pick(self, officer: dict[str, Any]) -> None:
        self.officer = officer
        self.error.setText("")
        self.who.setText(officer["name"])
        self.pad.clear()
        self.pages.setCurrentIndex(1)

    def _pin(self, pin: str) -> None:
        assert self.officer is not None
        try:
            verify_pin(self.k.store, self.officer["member_id"], pin)
        except DomainError as exc:
            self.error.setText(error_text(exc))
            if exc.code == "pin_locked":
                self.pages.setCurrentIndex(0)
            return
        self.win.logged_in(self.officer, self.then)
