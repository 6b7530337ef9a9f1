"""The règlement in plain words, and adopting a new version at an open meeting (two officers).

Versions are never edited: a new one applies from the meeting that adopts it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QStackedWidget, QWidget

from kiosk.domain.rules import AidKind, Rules
from kiosk.services import groups as G

from ..approval import ApprovalOverlay
from ..forms import Field, Form
from ..i18n import _, aid_name, fine_name, fund_name, money
from ..widgets import Scroll, button, column, label, row
from .base import Screen


def percent(bp: int) -> str:
    whole, rest = divmod(bp, 100)
    text = f"{whole},{rest:02d}".rstrip("0").rstrip(",")
    return f"{text} %"


def describe(rules: Rules) -> list[tuple[str, str]]:
    """The règlement as (heading, sentence) pairs a member can read aloud."""
    freq = {"weekly": _("chaque semaine"), "biweekly": _("toutes les deux semaines"), "monthly": _("chaque mois")}
    method = {
        "flat": _("fixe : {rate} du montant prêté par mois, calculée au départ", rate=percent(rules.paf_rate_bp)),
        "declining": _("dégressive : {rate} par mois sur ce qui reste dû", rate=percent(rules.paf_rate_bp)),
        "one_time": _("unique : {rate} du montant prêté, une fois", rate=percent(rules.paf_rate_bp)),
    }
    out = [
        (
            _("Cotisations régulières"),
            _(
                "Chaque membre verse {verte} en caisse verte et {rouge} en caisse rouge, {freq}.",
                verte=money(rules.contribution_verte),
                rouge=money(rules.contribution_rouge),
                freq=freq[rules.frequency.value],
            ),
        ),
        (
            _("Adhésion"),
            _(
                "Un nouveau membre paie {amount} de droit d'adhésion en {fund}.",
                amount=money(rules.entry_fee),
                fund=fund_name(rules.entry_fee_fund.value).lower(),
            ),
        ),
        (
            _("Amendes"),
            ", ".join(f"{fine_name(n)} {money(a)}" for n, a in rules.fines.items())
            + " — "
            + _("versées en {fund}.", fund=fund_name(rules.fine_fund.value).lower()),
        ),
    ]
    ceiling = []
    if rules.loan_savings_multiple:
        ceiling.append(_("{n} fois son épargne", n=rules.loan_savings_multiple))
    if rules.loan_cap:
        ceiling.append(_("{cap} au plus", cap=money(rules.loan_cap)))
    out += [
        (
            _("Prêts"),
            _(
                "Un membre peut emprunter jusqu'à {ceiling}, pour {low} à {high} mois ; {n} prêt(s) en cours "
                "au plus, et pas de nouveau prêt avec des impayés.",
                ceiling=_(" et ").join(ceiling),
                low=rules.loan_min_months,
                high=rules.loan_max_months,
                n=rules.max_active_loans,
            ),
        ),
        (
            _("PAF"),
            _(
                "La participation aux frais est {method}. Arrondi à {unit} F.",
                method=method[rules.paf_method.value],
                unit=rules.rounding_unit,
            ),
        ),
        (
            _("Retards"),
            _("Pénalité de {rate} par mois de retard sur le montant impayé.", rate=percent(rules.late_penalty_bp)),
        ),
    ]
    aids = []
    for name, aid in rules.aids.items():
        kind = _("don") if aid.kind is AidKind.GRANT else _("prêt sans intérêt sur {n} mois", n=aid.term_months)
        aids.append(f"{aid_name(name)} : {money(aid.amount)} ({kind})")
    out.append((_("Aides"), _("De la caisse rouge : ") + " ; ".join(aids) + "."))
    out.append(
        (
            _("Épargne"),
            _("L'épargne se retire à tout moment.")
            if rules.withdrawal.value == "any_time"
            else _("L'épargne est rendue au départ du groupe."),
        )
    )
    if rules.share_out:
        out.append((_("Partage"), _("Partage des gains tous les {n} mois.", n=rules.cycle_months)))
    return out


def editable_fields(rules: Rules) -> list[Field]:
    rates = [(str(bp), percent(bp)) for bp in sorted({100, 150, 200, 300, 500, rules.paf_rate_bp})]
    penalties = [(str(bp), percent(bp)) for bp in sorted({0, 100, 200, 500, rules.late_penalty_bp})]
    fields = [
        Field("contribution_verte", _("Cotisation verte"), "amount", quick=(500, 1000, 2000, 5000)),
        Field("contribution_rouge", _("Cotisation rouge"), "amount", quick=(0, 100, 200, 500), required=False),
        Field(
            "frequency",
            _("Séances"),
            "toggle",
            options=[("weekly", _("semaine")), ("biweekly", _("2 semaines")), ("monthly", _("mois"))],
        ),
        Field("entry_fee", _("Droit d'adhésion"), "amount", quick=(0, 1000, 2000, 5000), required=False),
        *[
            Field(f"fine_{n}", _("Amende : {name}", name=fine_name(n)), "amount", quick=(100, 200, 500, 1000))
            for n in rules.fines
        ],
        Field(
            "loan_savings_multiple", _("Prêt : fois l'épargne"), "number", unit="×", quick=(0, 2, 3, 4), required=False
        ),
        Field("loan_cap", _("Prêt : plafond"), "amount", quick=(0, 50000, 100000, 200000), required=False),
        Field("loan_max_months", _("Prêt : durée maximale"), "number", unit=_("mois"), quick=(3, 6, 9, 12)),
        Field(
            "paf_method",
            _("PAF"),
            "toggle",
            options=[("flat", _("fixe")), ("declining", _("dégressive")), ("one_time", _("unique"))],
        ),
        Field("paf_rate_bp", _("PAF par mois"), "toggle", options=rates, per_row=6),
        Field("late_penalty_bp", _("Pénalité de retard"), "toggle", options=penalties, per_row=5),
        *[
            Field(f"aid_{n}", _("Aide : {name}", name=aid_name(n)), "amount", quick=(2000, 5000, 10000, 20000))
            for n in rules.aids
        ],
        Field(
            "withdrawal",
            _("Épargne"),
            "toggle",
            options=[("exit_only", _("au départ")), ("any_time", _("à tout moment"))],
        ),
    ]
    return fields


def values_of(rules: Rules) -> dict[str, Any]:
    d = rules.to_dict()
    out = {k: v for k, v in d.items() if not isinstance(v, dict)}
    out["paf_rate_bp"], out["late_penalty_bp"] = str(rules.paf_rate_bp), str(rules.late_penalty_bp)
    out |= {f"fine_{n}": a for n, a in rules.fines.items()}
    out |= {f"aid_{n}": a.amount for n, a in rules.aids.items()}
    return out


def changes_from(rules: Rules, values: dict[str, Any]) -> dict[str, Any]:
    """What the new version changes, in the règlement's own terms (kiosk.domain.rules)."""
    current = values_of(rules)
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if value == current.get(key) or key.startswith(("fine_", "aid_")):
            continue
        changes[key] = int(value) if key.endswith("_bp") else value
    fines = {n: values.get(f"fine_{n}", a) for n, a in rules.fines.items()}
    if fines != dict(rules.fines):
        changes["fines"] = fines
    aids = rules.to_dict()["aids"]
    new_aids = {n: a | {"amount": values.get(f"aid_{n}", a["amount"])} for n, a in aids.items()}
    if new_aids != aids:
        changes["aids"] = new_aids
    return changes


class RulesScreen(Screen):
    def __init__(self, win: Any) -> None:
        super().__init__(win)
        self.heading = label("", kind="title", name="rules_title")
        self.adopt = button(_("Adopter une nouvelle version"), "rules_adopt", on=self._edit)
        self.lay.addLayout(row(self.heading, None, self.adopt))
        self.note = label("", kind="small", name="rules_note", hide_empty=True)
        self.lay.addWidget(self.note)
        self.pages = QStackedWidget()
        self.text = Scroll(columns=1)
        self.pages.addWidget(self.text)
        editor = QWidget()
        self.editor_scroll = Scroll(columns=1)
        self.form: Form | None = None
        self.save = button("", "rules_save", kind="primary", on=self._save)
        editor.setLayout(
            column(self.editor_scroll, row(button(_("Annuler"), "rules_cancel", on=self._view), None, self.save))
        )
        self.pages.addWidget(editor)
        self.lay.addWidget(self.pages, 1)

    def title(self) -> str:
        return _("Règlement")

    def enter(self, **kwargs: Any) -> None:
        self._view()

    def _view(self) -> None:
        group = self.s.group
        rules = self.k.rules(group["group_id"])
        self.heading.setText(_("Règlement de {group}, version {v}", group=group["name"], v=group["rules_version"]))
        meeting = self.s.meeting_id()
        self.adopt.setVisible(True)
        self.adopt.setEnabled(meeting is not None)
        self.note.setText("" if meeting else _("Une nouvelle version s'adopte pendant une séance ouverte."))
        self.text.clear()
        for heading, sentence in describe(rules):
            self.text.add_row(label(heading, kind="title"))
            self.text.add_row(label(sentence))
        self.text.done()
        self.pages.setCurrentIndex(0)

    def _edit(self) -> None:
        group = self.s.group
        rules = self.k.rules(group["group_id"])
        self.editor_scroll.clear()
        self.form = Form(self.win, "rule", editable_fields(rules))
        for key, value in values_of(rules).items():
            if any(f.key == key for f in self.form.fields):
                self.form.set(key, value)
        self.editor_scroll.add_row(self.form)
        self.editor_scroll.done()
        self.save.setText(_("Adopter la version {v}", v=group["rules_version"] + 1))
        self.adopt.setVisible(False)
        self.pages.setCurrentIndex(1)

    def _save(self) -> None:
        assert self.form is not None
        group = self.s.group
        rules = self.k.rules(group["group_id"])
        changes = changes_from(rules, dict(self.form.values))
        meeting_id = self.s.meeting_id()
        if not changes or meeting_id is None:
            self.win.message(_("Rien n'a changé."), error=False)
            return
        ok, new = self.win.attempt(Rules.from_dict, changes, base=rules)  # the règlement's own checks, in words
        if not ok:
            return
        before = dict(describe(rules))
        lines = [f"{h} : {s}" for h, s in describe(new) if before.get(h) != s]

        def approved(approvals: list[Any]) -> None:
            ok, version = self.win.attempt(G.adopt_rules, self.k, meeting_id, changes, approvals)
            if ok:
                self.win.toast(_("Version {v} du règlement adoptée.", v=version))
                self._view()

        def confirmed() -> None:
            ApprovalOverlay(
                self.win, _("Adopter le règlement"), _("Version {v}", v=group["rules_version"] + 1), approved
            ).open()

        self.win.confirm(
            _("Adopter la version {v} ?", v=group["rules_version"] + 1),
            None,
            lines,
            confirmed,
            ok_text=_("Faire approuver"),
        )
