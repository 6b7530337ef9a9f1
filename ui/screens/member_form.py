"""The form to add or edit a member: names typed on the on-screen keyboard (Ewe and Fon letters
included), an office given or taken with the officers' approval, a first officer's PIN."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kiosk.domain.members import OFFICER_ROLES, Role
from kiosk.services import Approval
from kiosk.services import groups as G
from kiosk.store.pins import has_pin

from ..approval import ApprovalOverlay, NewPinOverlay
from ..forms import Field, Form
from ..i18n import _, role_name
from ..widgets import button, label, row
from .base import Screen


class MemberFormScreen(Screen):
    def __init__(self, win: Any) -> None:
        super().__init__(win)
        self.member: dict[str, Any] | None = None
        self.heading = label("", kind="title", name="form_title")
        self.lay.addWidget(self.heading)
        roles = [(r.value, role_name(r.value)) for r in Role]
        self.save = button(_("Enregistrer"), "mf_save", kind="primary", on=self._save)
        self.form = Form(
            win,
            "mf",
            [
                Field("name", _("Nom et prénom"), "text"),
                Field("sex", _("Sexe"), "toggle", options=[("F", _("Femme")), ("M", _("Homme"))]),
                Field("phone", _("Téléphone"), "text", required=False, auto_caps=False),
                Field("role", _("Rôle"), "toggle", options=roles, default="membre", per_row=3),
            ],
        )
        self.form.changed.connect(lambda: self.save.setEnabled(self.form.complete()))
        self.lay.addWidget(self.form)
        self.lay.addStretch(1)
        self.lay.addLayout(row(button(_("Annuler"), "mf_cancel", on=self._back), None, self.save))

    @property  # type: ignore[override]
    def needs_officer(self) -> bool:
        # A new group's first officer is added with nobody logged in (there is nobody to log in yet), once
        # the kiosk's other officers vouched for it (ui/screens/login.py sets ``setting_up``).
        group_id = self.s.group_id
        return not (group_id and self.s.setting_up == group_id and G.needs_first_officer(self.k, group_id))

    @property
    def first_officer(self) -> bool:
        return self.s.officer is None and not self.needs_officer

    def title(self) -> str:
        return _("Nouveau membre") if self.member is None else _("Modifier un membre")

    def enter(self, **kwargs: Any) -> None:
        member_id = kwargs.get("member_id")
        self.member = self.k.member(member_id) if member_id else None
        self.form.reset()
        if self.first_officer:
            self.member = None
            self.form.set("role", "president")
            self.heading.setText(_("Premier responsable de {group}", group=self.s.group["name"]))
            self.save.setEnabled(self.form.complete())
            return
        if self.member:
            self.heading.setText(_("Modifier {name}", name=self.member["name"]))
            for key in ("name", "sex", "phone", "role"):
                self.form.set(key, self.member[key])
        else:
            group = self.s.group
            self.heading.setText(
                _("Nouveau membre n° {n} de {group}", n=group["member_count"] + 1, group=group["name"])
            )
        self.save.setEnabled(self.form.complete())

    def _back(self) -> None:
        if self.first_officer:
            self.win.show_screen("login", group_id=self.s.group_id)
        elif self.member:
            self.win.show_screen("member", member_id=self.member["member_id"])
        else:
            self.win.show_screen("members")

    def _save(self) -> None:
        v = self.form.values
        role = v.get("role") or "membre"
        officer = Role(role) in OFFICER_ROLES
        if self.first_officer and not officer:
            self.win.message(_("Le premier inscrit est un responsable : choisissez son rôle."))
            return
        if self.member is None:
            if officer:

                def with_pin(approvals: list[Approval] | None) -> None:
                    NewPinOverlay(self.win, v["name"], lambda pin: self._add(role, pin, approvals)).open()

                self._approved_office(v["name"], role, None, with_pin)
            else:
                self._add(role, None, None)
            return
        changes = {key: v[key] or "" for key in ("name", "sex", "phone") if (v[key] or "") != self.member[key]}
        if role != self.member["role"]:
            changes["role"] = role
        if not changes:
            self._back()
            return
        needs_pin = officer and not has_pin(self.k.store.conn, self.member["member_id"])

        def go(approvals: list[Approval] | None) -> None:
            if needs_pin:
                NewPinOverlay(self.win, v["name"], lambda pin: self._update(changes, pin, approvals)).open()
            else:
                self._update(changes, None, approvals)

        if "role" in changes:
            self._approved_office(v["name"], role, self.member["member_id"], go)
        elif "name" in changes and G.office_needs_approval(self.k, self.s.group_id):
            # A name is whose money it is: renamed by one officer alone, savings could change hands.
            ApprovalOverlay(
                self.win,
                _("Approuver le changement de nom"),
                _("{old} → {new}", old=self.member["name"], new=v["name"]),
                go,
                beneficiary=self.member["member_id"],
            ).open()
        else:
            go(None)

    def _approved_office(
        self, name: str, role: str, member_id: str | None, then: Callable[[list[Approval] | None], None]
    ) -> None:
        """Once the group has met, making or unmaking an officer takes two officers' PINs (not the one concerned)."""
        if not G.office_needs_approval(self.k, self.s.group_id):
            then(None)
            return
        ApprovalOverlay(
            self.win,
            _("Approuver le changement de responsable"),
            _("{name} : {role}", name=name, role=role_name(role)),
            then,
            beneficiary=member_id,
        ).open()

    def _add(self, role: str, pin: str | None, approvals: list[Approval] | None) -> None:
        v = self.form.values
        ok, member = self.win.attempt(
            G.add_member,
            self.k,
            self.s.group_id,
            v["name"],
            v["sex"],
            joined=self.s.today(),
            phone=v.get("phone") or "",
            role=role,
            pin=pin,
            approvals=approvals,
        )
        if ok:
            self.win.toast(_("{name} est le membre n° {n}.", name=member["name"], n=member["number"]))
            if self.s.officer is None:  # the group's first officer, who now runs its set-up
                self.win.logged_in(member, "members")
                return
            self.win.show_screen("member", member_id=member["member_id"])

    def _update(self, changes: dict[str, Any], pin: str | None, approvals: list[Approval] | None) -> None:
        assert self.member is not None
        member_id = self.member["member_id"]
        ok, _member = self.win.attempt(G.update_member, self.k, member_id, approvals=approvals, **changes)
        if ok and pin is not None:
            ok, _none = self.win.attempt(G.change_pin, self.k, member_id, pin)
        if ok:
            officer = self.s.officer
            if officer is not None and officer["member_id"] == member_id and "role" in changes:
                if Role(changes["role"]) not in OFFICER_ROLES:
                    # The one logged in has left office: their session goes with it.
                    self.win.logout(reason=_("Vous n'êtes plus responsable : connectez-vous avec un autre code."))
                    return
                self.s.login(self.k.member(member_id))  # the session holds their new office
            self.win.toast(_("Fiche enregistrée."))
            self.win.show_screen("member", member_id=member_id)
