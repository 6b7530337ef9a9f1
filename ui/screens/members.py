"""Members: the directory with a search, and one member's page (balances, loans, history, statement,
their PIN when they are an officer). The form to add or edit a member is in member_form.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSizePolicy

from kiosk.domain.errors import DomainError
from kiosk.domain.members import OFFICER_ROLES, Role
from kiosk.services import Approval
from kiosk.services import groups as G
from kiosk.services import meetings as M
from kiosk.services import movements as V
from kiosk.services import reports as R
from kiosk.services import statements as ST
from kiosk.store.pins import check_new_pin, check_pin_format, verify_pin

from .. import theme
from ..approval import ApprovalOverlay, PinPad
from ..i18n import _, error_text, francs, kind_name, money, role_name, short_date
from ..overlays import Overlay, TextOverlay
from ..widgets import FitLabel, Scroll, Tile, button, card, column, fund_icon_label, label, line_card, row
from .base import Screen

HISTORY_ROWS = 40  # a member's page shows the recent past; the printed relevé proves the rest


class MembersScreen(Screen):
    def __init__(self, win: Any) -> None:
        super().__init__(win)
        self.search = ""
        self.search_btn = button(_("Rechercher"), "members_search", on=self._search)
        self.lay.addLayout(
            row(
                self.search_btn,
                None,
                button(
                    _("+ Ajouter un membre"), "members_add", kind="primary", on=lambda: win.show_screen("member_form")
                ),
            )
        )
        self.list = Scroll(columns=2)  # sizes scale with the screen, so the columns stay
        self.list.set_columns(self.list.columns)
        self.lay.addWidget(self.list, 1)

    def title(self) -> str:
        return _("Membres")

    def enter(self, **kwargs: Any) -> None:
        group_id = self.s.group_id or ""
        self.list.clear()
        members = G.members(self.k, group_id, active_only=False, search=self.search)
        savings = {
            r["account"].rsplit(":", 1)[1]: -r["balance"]
            for r in self.k.store.query(
                "SELECT account, balance FROM p_accounts WHERE group_id = ? AND account LIKE 'verte:savings:%'",
                (group_id,),
            )
        }
        for m in members:
            role = "" if m["role"] == Role.MEMBER else " · " + role_name(m["role"], m["sex"])
            left = "" if m["active"] else " · " + _("parti")
            text = f"{m['number']}. {m['name']}{role}{left}\n" + _(
                "Épargne {amount}", amount=money(savings.get(m["member_id"], 0))
            )
            if m["active_loans"]:
                text += " · " + _("prêt en cours")
            b = Tile(f"member_{m['number']}")  # wrapped whole: a plain button cut a long name at its edge
            b.setText(text)
            b.clicked.connect(lambda _c=False, m=m: self.win.show_screen("member", member_id=m["member_id"]))
            self.list.add(b)
        if not members:
            self.list.add_row(label(_("Personne ne correspond à « {text} ».", text=self.search), kind="muted"))
        self.list.done()

    def _search(self) -> None:
        def done(text: str) -> None:
            self.search = text
            self.search_btn.setText(_("Rechercher") + (f" : {text}" if text else ""))
            self.enter()

        TextOverlay(self.win, _("Nom ou numéro"), done, initial=self.search).open()


class MemberScreen(Screen):
    def __init__(self, win: Any) -> None:
        super().__init__(win)
        self.member_id = ""
        self.name = label("", kind="title", name="member_name")
        # The room the buttons leave, wrapped: a long name (up to 80 letters) cut the buttons and widened
        # the window past the screen.
        self.name.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        header = row(
            self.name,
            button(_("Imprimer le relevé"), "member_statement", on=self._statement),
            self._exit_button(),
            button(_("Modifier"), "member_edit", on=lambda: win.show_screen("member_form", member_id=self.member_id)),
            button(_("Retour"), "member_back", on=lambda: win.show_screen("members")),
        )
        header.setStretch(0, 1)
        self.lay.addLayout(header)
        self.info = label("", kind="small", name="member_info")
        # An officer's PIN, on their own page: changed with the current one, or reset by two others.
        self.pin_change = button(_("Changer mon code"), "member_pin_change", on=self._change_pin)
        self.pin_reset = button(_("Réinitialiser le code"), "member_pin_reset", on=self._reset_pin)
        self.lay.addLayout(row(self.info, 1, self.pin_change, self.pin_reset))
        tiles = row()
        self.figures: dict[str, Any] = {}
        m = theme.current
        for key, text, fund in (
            ("savings", _("Épargne"), "verte"),
            ("loan", _("Prêt restant"), "verte"),
            ("arrears", _("Impayés"), "verte"),
            ("aid", _("Aides reçues"), "rouge"),
        ):
            box = card()
            # Letters that shrink to the card: four sums of seven figures ("10 005 995 FCFA") widened the
            # window past the screen's edge, and took "Retour" off it.
            value = FitLabel(f"member_{key}", largest=m.title, smallest=m.small)
            value.setProperty("kind", "title")
            value.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)  # the widest sum, more room
            value.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            inner = row(fund_icon_label(fund, m.px(26)), column(label(text, kind="small"), value))
            inner.setContentsMargins(m.px(8), m.px(4), m.px(8), m.px(4))
            box.setLayout(inner)
            tiles.addWidget(box)
            self.figures[key] = value
        self.lay.addLayout(tiles)
        self.history = Scroll(columns=1)
        self.lay.addWidget(self.history, 1)

    def title(self) -> str:
        return _("Fiche du membre")

    def enter(self, **kwargs: Any) -> None:
        self.member_id = kwargs.get("member_id", self.member_id)
        k = self.k
        member = k.member(self.member_id)
        group_id = member["group_id"]
        self.name.setText(f"{member['number']}. {member['name']}")
        since = _("membre depuis le {date}", date=short_date(member["joined"]))
        info = [role_name(member["role"], member["sex"]), since]
        if member["phone"]:
            info.append(member["phone"])
        former = G.former_names(k, self.member_id)
        if former:
            info.append(_("ancien nom : {names}", names=", ".join(former)))
        if not member["active"]:
            info.append(_("a quitté le groupe le {date}", date=short_date(member["left_on"])))
        self.info.setText(" · ".join(info))
        officer = member["role"] in OFFICER_ROLES and bool(member["active"])
        # One's own PIN is changed by oneself (with it); another officer's forgotten one is reset.
        me = self.s.officer
        own = me is not None and me["member_id"] == self.member_id
        self.pin_change.setVisible(officer and own)
        self.pin_reset.setVisible(officer and not own)
        # A departure pays the savings back: money moves only at an open meeting.
        self.exit.setEnabled(bool(member["active"]) and self.s.meeting_id() is not None)
        today = R.as_of(k, group_id)
        loans = V.active_loans(k, self.member_id)
        dues = [V.loan_due(k, loan["loan_id"], today) for loan in loans]
        self.figures["savings"].setText(money(k.savings(group_id, self.member_id)))
        self.figures["loan"].setText(money(sum(d.principal_outstanding for d in dues)))
        self.figures["arrears"].setText(money(sum(d.arrears for d in dues)))
        self.figures["aid"].setText(money(member["aid_received"]))
        self.history.clear()
        for loan, due in zip(loans, dues, strict=True):
            text = _(
                "Prêt de {amount} du {date}, {n} mois\nreste {left} · dû aujourd'hui {due}",
                amount=francs(loan["principal"]),
                date=short_date(loan["start"]),
                n=loan["term_months"],
                left=francs(due.principal_outstanding),
                due=francs(due.now),
            )
            schedule = button(
                _("Échéancier"),
                f"member_schedule_{loan['loan_id'][:8]}",
                on=lambda loan=loan["loan_id"]: self._schedule(loan),
            )
            self.history.add_row(line_card(text, schedule, fund=loan["fund"]))
        self.history.add_row(label(_("Derniers mouvements"), kind="title"))
        rows = k.store.query(
            "SELECT t.kind, t.fund, t.amount, t.reversed_by, t.reverses, t.reason, t.detail, mt.date, mt.number "
            "FROM p_transactions t JOIN p_meetings mt USING (meeting_id) WHERE t.member_id = ? "
            "ORDER BY t.seq DESC LIMIT ?",
            (self.member_id, HISTORY_ROWS),
        )
        for r in rows:
            text = f"{short_date(r['date'])} · " + _("séance {n}", n=r["number"]) + f" · {kind_name(r['kind'])}"
            if r["kind"] == "reversal":
                text += "\n" + _("motif : {reason}", reason=r["reason"])
            elif r["reversed_by"]:
                text += " · " + _("annulé")
            self.history.add_row(line_card(text, label(money(r["amount"]), wrap=False), fund=r["fund"]))
        if not rows:
            self.history.add_row(label(_("Aucun mouvement."), kind="muted"))
        self.history.done()

    def _exit_button(self) -> Any:
        self.exit = button(_("Départ"), "member_exit", on=self._exit)
        return self.exit

    def _exit(self) -> None:
        """The member leaves the group: all their savings are paid back, with two officers' approval."""
        member = self.k.member(self.member_id)
        meeting_id = self.s.meeting_id()
        if meeting_id is None:
            return
        # A loan running: said now, not after "Toute son épargne lui est rendue" and two officers' PINs.
        if not self.win.attempt(V.check_exit, self.k, meeting_id, self.member_id)[0]:
            return
        savings = self.k.savings(member["group_id"], self.member_id)

        def approved(approvals: list[Approval]) -> None:
            ok, paid = self.win.attempt(V.member_exit, self.k, meeting_id, self.s.by, self.member_id, approvals)
            if ok:
                self.win.toast(_("{name} a quitté le groupe ; épargne rendue : {amount}.", name=member["name"],
                                 amount=money(paid)))  # fmt: skip
                self.enter(member_id=self.member_id)

        def confirmed() -> None:
            ApprovalOverlay(
                self.win, _("Approuver le départ"), f"{member['number']}. {member['name']}", approved,
                beneficiary=self.member_id,
            ).open()  # fmt: skip

        lines = [f"{member['number']}. {member['name']}", _("Toute son épargne lui est rendue.")]
        plan = V.share_out_plan(self.k, member["group_id"])
        part = -plan["shares"].get(self.member_id, 0)
        if plan["distributable"] < 0 and part > 0:
            # The règlement pays a leaver all their savings; the officers should know who then bears the loss.
            lines.append(
                "⚠ "
                + _(
                    "La caisse verte a perdu {loss} : sa part, {part}, restera à la charge des autres.",
                    loss=money(-plan["distributable"]),
                    part=money(part),
                )
            )
        absences, owed = M.absence_fines_owed(self.k, meeting_id, self.member_id)
        if owed:
            # Once the member has gone nobody asks for them again: said now, they can be paid first (Autres).
            lines.append("⚠ " + _("Amendes d'absence non payées : {n} ({amount}).", n=absences, amount=money(owed)))
        self.win.confirm(
            _("Départ du membre"), -savings, lines, confirmed, fund="verte", ok_text=_("Faire approuver"), danger=True
        )

    def _change_pin(self) -> None:
        member = self.k.member(self.member_id)

        def done(current: str | None, pin: str) -> None:
            ok, _none = self.win.attempt(G.change_pin, self.k, self.member_id, pin, current_pin=current)
            if ok:
                self.win.toast(_("Le code de {name} est changé.", name=member["name"]))

        PinChangeOverlay(self.win, member, done, ask_current=True).open()

    def _reset_pin(self) -> None:
        """A forgotten or locked PIN: two other officers approve, then the officer types a new one."""
        member = self.k.member(self.member_id)
        # The officer concerned is not even offered: they could only be refused.
        others = [o for o in G.officers(self.k, member["group_id"]) if o["member_id"] != self.member_id]
        if len(others) < 2:
            self.win.message(_("Il faut deux autres responsables pour réinitialiser ce code."))
            return

        def done(_current: str | None, pin: str, approvals: list[Approval]) -> None:
            ok, _none = self.win.attempt(G.reset_pin, self.k, self.member_id, pin, approvals)
            if ok:
                self.win.toast(_("Le code de {name} est réinitialisé et débloqué.", name=member["name"]))

        def approved(approvals: list[Approval]) -> None:
            PinChangeOverlay(
                self.win, member, lambda current, pin: done(current, pin, approvals), ask_current=False
            ).open()

        ApprovalOverlay(
            self.win,
            _("Réinitialiser le code de {name}", name=member["name"]),
            _("Code oublié ou bloqué : deux autres responsables approuvent, puis {name} choisit un nouveau code.",
              name=member["name"]),
            approved,
            beneficiary=self.member_id,
            officers=others,
        ).open()  # fmt: skip

    def _statement(self) -> None:
        ok, _job = self.win.attempt(ST.print_statement, self.k, self.member_id)
        if ok:
            self.win.printer.wake()
            self.win.toast(_("Relevé ajouté à la file d'impression."))

    def _schedule(self, loan_id: str) -> None:
        ok, _job = self.win.attempt(ST.print_schedule, self.k, loan_id)
        if ok:
            self.win.printer.wake()
            self.win.toast(_("Échéancier ajouté à la file d'impression."))


class PinChangeOverlay(Overlay):
    """An officer's PIN replaced: the current one first (for a change, not a reset), then the new one twice.

    Each entry is checked as soon as it is typed, by the store's own rules (a wrong current PIN counts
    toward the lockout at once, a new PIN must differ from the old), so the officer is told at the step
    that went wrong; the use case then checks everything again, as it is what the ledger trusts.
    """

    def __init__(
        self, win: Any, member: dict[str, Any], on_done: Callable[[str | None, str], Any], *, ask_current: bool
    ) -> None:
        super().__init__(win, "pinchange")
        self.store = win.session.k.store
        self.member_id, self.on_done = member["member_id"], on_done
        self.current: str | None = None
        self.first: str | None = None
        self.stage = "current" if ask_current else "new"
        title = _("Changer le code de {name}", name=member["name"]) if ask_current else _(
            "Nouveau code pour {name}", name=member["name"])  # fmt: skip
        self.lay.addWidget(label(title, kind="title", name="pinchange_title"))
        self.step = label("", name="pinchange_step")
        self.error = label("", kind="error", name="pinchange_error", hide_empty=True)
        self.pad = PinPad("pinchange")
        self.pad.submitted.connect(self._pin)
        self.lay.addLayout(row(column(self.step, self.error, None), self.pad, spacing=theme.current.px(16)), 1)
        self.lay.addLayout(row(button(_("Annuler"), "pinchange_cancel", on=self.close_overlay), None))
        self._show_step()

    def _show_step(self) -> None:
        self.step.setText(
            {
                "current": _("Tapez votre code actuel."),
                "new": _("Tapez le nouveau code (4 à 8 chiffres)."),
                "again": _("Tapez le même code une seconde fois."),
            }[self.stage]
        )

    def _pin(self, pin: str) -> None:
        try:
            if self.stage == "current":
                verify_pin(self.store, self.member_id, pin)
                self.current, self.stage = pin, "new"
            elif self.stage == "new":
                if self.current is not None:
                    check_new_pin(self.store.conn, self.member_id, pin)
                else:  # a reset: comparing with the stored PIN would reveal it, one guess at a time
                    check_pin_format(pin)
                self.first, self.stage = pin, "again"
            elif pin != self.first:
                self.first, self.stage = None, "new"
                self._show_step()
                self.error.setText(_("Les deux codes sont différents : recommencez."))
                return
            else:
                self.close_overlay()
                self.on_done(self.current, pin)
                return
        except DomainError as exc:
            self.error.setText(error_text(exc))
            return
        self.error.setText("")
        self._show_step()
