"""Officer login: touch your name, type your PIN. Five wrong PINs lock that officer for five minutes."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QStackedWidget, QWidget

from kiosk.domain.errors import DomainError
from kiosk.services import Approval
from kiosk.services import groups as G
from kiosk.store.pins import has_pin, verify_pin

from .. import theme
from ..approval import ApprovalOverlay, NewPinOverlay, PinPad, lock_text, officer_buttons
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
        self.hint = label(_("Touchez votre nom."), name="login_hint")
        names.setLayout(column(self.hint, self.names, None))
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
        officers = self.s.officers()
        self.hint.setVisible(bool(officers))
        grid, _buttons = officer_buttons(officers, self._pick)
        self.names.addLayout(grid)
        if G.needs_first_officer(self.k, group["group_id"]):
            # A group just set up: nobody can log in yet. Its first officer is added here, in front of it.
            self.names.addWidget(label(_("Ce groupe n'a pas encore de responsable."), name="login_no_officer"))
            first = button(
                _("Inscrire le premier responsable"),
                "login_first_officer",
                kind="primary",
                on=lambda: self._first_officer(group),
            )
            self.names.addLayout(row(first, None))

    def _first_officer(self, group: dict[str, Any]) -> None:
        """A new group's first officer, added with nobody logged in. Any officer may change this kiosk's
        settings (its backups hold every group's PIN hashes, its enrollment says where the journal goes):
        where the kiosk has officers already, one of them vouches with their PIN, so that no passer-by
        becomes one. A new kiosk's first group has nobody to ask: it is set up in front of the group."""
        others = G.kiosk_officers(self.k, but=group["group_id"])

        def go(_approvals: list[Approval] | None = None) -> None:
            self.s.setting_up = group["group_id"]
            self.win.show_screen("member_form")

        if not others:
            go()
            return
        ApprovalOverlay(
            self.win,
            _("Premier responsable de {group}", group=group["name"]),
            _("Un responsable d'un autre groupe de ce kiosque approuve l'inscription."),
            go,
            needed=1,
            officers=others,
        ).open()

    def _pick(self, officer: dict[str, Any]) -> None:
        if not has_pin(self.k.store.conn, officer["member_id"]):
            self._first_pin(officer)
            return
        locked = lock_text(self.k, officer)
        if locked:
            self.error.setText(locked)
            return
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

    def _first_pin(self, officer: dict[str, Any]) -> None:
        """An officer without a PIN: on a kiosk restored from the server (PINs never travel), or given an
        office back (leaving it dropped the old PIN). Officers who have theirs approve, as for a reset, so
        that nobody passing by claims an officer's PIN, least of all two of them (two PINs approve
        anything): two where two have one, the one where only one has. Only the very first officer of a
        restored kiosk, set up in front of the group, chooses alone."""
        member_id, name = officer["member_id"], officer["name"]
        conn = self.k.store.conn
        others = [o for o in self.s.officers() if o["member_id"] != member_id and has_pin(conn, o["member_id"])]

        def chosen(pin: str, approvals: list[Approval] | None = None) -> None:
            if approvals and len(approvals) == 2:  # journaled as a reset, which the reducer checks
                ok, _none = self.win.attempt(G.reset_pin, self.k, member_id, pin, approvals)
            else:
                ok, _none = self.win.attempt(G.change_pin, self.k, member_id, pin)
            if ok:
                self.win.toast(_("{name} a maintenant un code.", name=name))
                self.win.logged_in(self.k.member(member_id), self.then)

        if not others:
            hint = _("Pas encore de code sur ce kiosque : choisissez le vôtre, devant le groupe.")
            NewPinOverlay(self.win, name, chosen, hint=hint).open()
            return
        needed = min(2, len(others))
        if needed == 2:
            summary = _("{name} n'a pas encore de code : deux autres responsables approuvent, puis {name} choisit "
                        "le sien.", name=name)  # fmt: skip
        else:
            summary = _("{name} n'a pas encore de code : le responsable qui a le sien approuve, puis {name} "
                        "choisit le sien.", name=name)  # fmt: skip
        ApprovalOverlay(
            self.win,
            _("Premier code de {name}", name=name),
            summary,
            lambda approvals: NewPinOverlay(self.win, name, lambda pin: chosen(pin, approvals)).open(),
            needed=needed,
            beneficiary=member_id,
            officers=others,
        ).open()
