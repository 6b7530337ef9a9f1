"""Other movements: fines (the règlement suggests them from attendance), entry fees, expenses,
the caisse bleue's outside money in and out, savings withdrawals. Corrections have their own screen (Menu)."""

from __future__ import annotations

from functools import partial
from typing import Any

from PySide6.QtWidgets import QStackedWidget, QVBoxLayout, QWidget

from kiosk.services import meetings as M
from kiosk.services import movements as V

from .. import theme
from ..approval import ApprovalOverlay
from ..forms import Field, Form
from ..i18n import _, fine_name, francs, fund_name, fund_short, money
from ..overlays import ChoiceOverlay, MemberPicker
from ..widgets import Scroll, button, column, label, line_card, row
from .share_out import ShareOutPanel
from .step_base import Step


class OtherStep(Step):
    key = "other"

    def __init__(self, screen: Any) -> None:
        super().__init__(screen)
        m = theme.current
        self.panel = QStackedWidget()
        menu = QVBoxLayout()
        menu.setSpacing(m.px(4))
        self.tabs: dict[str, Any] = {}
        self.panels: dict[str, QWidget] = {}
        for key, text, build in (
            ("fines", _("Amendes"), self._fines_panel),
            ("entry", _("Droits d'adhésion"), self._entry_panel),
            ("expense", _("Dépense"), self._expense_panel),
            ("outside", _("Caisse bleue"), self._outside_panel),
            ("withdrawal", _("Retrait d'épargne"), self._withdrawal_panel),
            ("share", _("Partage"), lambda: ShareOutPanel(self)),
        ):
            b = button(text, f"other_{key}", checkable=True, on=lambda key=key: self.show_panel(key), expand=True)
            menu.addWidget(b)
            self.tabs[key] = b
            panel = build()
            self.panels[key] = panel
            self.panel.addWidget(panel)
        self.lay.addLayout(row(menu, self.panel, spacing=m.px(12)), 1)
        outer = self.lay.itemAt(0).layout()
        outer.setStretch(0, 2)
        outer.setStretch(1, 5)
        self.current = "fines"

    def enter(self) -> None:
        # Only groups whose règlement has a share-out see it (MUSO groups keep their savings until they leave).
        shares_out = self.k.rules(self.group_id).share_out
        self.tabs["share"].setVisible(shares_out)
        if self.current == "share" and not shares_out:
            self.current = "fines"
        self.show_panel(self.current)

    def show_panel(self, key: str) -> None:
        self.current = key
        for k, b in self.tabs.items():
            b.setChecked(k == key)
        self.panel.setCurrentWidget(self.panels[key])
        refresh = getattr(self, f"_refresh_{key}", None) or getattr(self.panels[key], "refresh", None)
        if refresh:
            refresh()

    @property
    def group_id(self) -> str:
        return self.s.group_id or ""

    # -- fines -----------------------------------------------------------------------------

    def _fines_panel(self) -> QWidget:
        w = QWidget()
        self.fines_all = button("", "fines_all", kind="primary", on=self._fines_all)
        self.fines_list = Scroll(columns=1)
        other = button(_("Autre amende"), "fine_other", on=self._fine_other)
        w.setLayout(
            column(
                row(self.fines_all, other),
                label(_("Amendes suggérées par le règlement :"), kind="small"),
                self.fines_list,
            )
        )
        return w

    def _refresh_fines(self) -> None:
        suggested = M.suggested_fines(self.k, self.meeting_id)
        members = {m["member_id"]: m for m in self.s.members()}
        self.fines_list.clear()
        total = sum(f["amount"] for f in suggested)
        if not suggested:
            self.fines_all.setText(_("Aucune amende à appliquer"))  # not "Appliquer les 0 amendes (0 F)"
        elif len(suggested) == 1:
            self.fines_all.setText(_("Appliquer l'amende ({total})", total=francs(total)))
        else:
            self.fines_all.setText(_("Appliquer les {n} amendes ({total})", n=len(suggested), total=francs(total)))
        self.fines_all.setEnabled(bool(suggested))
        for f in suggested:
            member = members.get(f["member_id"])
            if member is None:
                continue
            why = (
                _("{n} absence(s) non payée(s)", n=f["count"])
                if f["status"] == "absent"
                else _("Amende : {fine}", fine=fine_name(f["fine"]))  # "En retard : Retard" said it twice
            )
            text = f"{member['number']}. {member['name']}\n{why}"
            apply = button(
                _("Appliquer {amount}", amount=francs(f["amount"])),
                f"fine_{member['number']}",
                on=lambda f=f, mb=member: self._fine(mb, f["fine"], f["amount"]),
            )
            self.fines_list.add_row(line_card(text, apply))
        if not suggested:
            self.fines_list.add_row(label(_("Aucune amende suggérée."), kind="muted"))
        self.fines_list.done()

    def _fine(self, member: dict[str, Any], fine: str, amount: int) -> None:
        def confirmed() -> None:
            ok, _txn = self.win.attempt(V.fine, self.k, self.meeting_id, self.s.by, member["member_id"], fine, amount)
            if ok:
                self.win.toast(_("Amende enregistrée."))
                self._refresh_fines()

        rules = self.k.rules(self.group_id)
        self.win.confirm(
            _("Amende : {fine}", fine=fine_name(fine)),
            amount,
            [f"{member['number']}. {member['name']}"],
            confirmed,
            fund=rules.fine_fund.value,
        )

    def _fines_all(self) -> None:
        suggested = M.suggested_fines(self.k, self.meeting_id)
        total = sum(f["amount"] for f in suggested)

        def confirmed() -> None:
            calls = []
            for f in suggested:
                member = self.k.member(f["member_id"])
                fine = partial(V.fine, self.k, self.meeting_id, self.s.by, f["member_id"], f["fine"], f["amount"])
                calls.append((f"{member['number']}. {member['name']}", fine))
            done, refused = self.win.attempt_each(calls)
            if refused:
                self.win.tell_refusals(
                    _("{done} amende(s) enregistrée(s) sur {n}. Refus :", done=done, n=len(calls)), refused
                )
            else:
                self.win.toast(_("{n} amende(s) enregistrée(s).", n=done))
            self._refresh_fines()

        rules = self.k.rules(self.group_id)
        self.win.confirm(
            _("Amendes suggérées"), total, [_("{n} amende(s)", n=len(suggested))], confirmed, fund=rules.fine_fund.value
        )

    def _fine_other(self) -> None:
        rules = self.k.rules(self.group_id)

        def picked(member: dict[str, Any]) -> None:
            if not self.win.attempt(M.check_here, self.k, self.meeting_id, member["member_id"])[0]:
                return  # marked absent or excused: said before the fine is chosen and confirmed
            options = [(name, f"{fine_name(name)} · {francs(amount)}") for name, amount in rules.fines.items()]
            ChoiceOverlay(
                self.win, _("Quelle amende ?"), options, lambda name: self._fine(member, name, rules.fines[name])
            ).open()

        MemberPicker(self.win, _("Amende : quel membre ?"), self.s.members(), picked).open()

    # -- entry fees --------------------------------------------------------------------------

    def _entry_panel(self) -> QWidget:
        w = QWidget()
        self.entry_text = label("", name="entry_text")
        self.entry_btn = button("", "entry_fee", kind="primary", on=self._entry)
        self.entry_list = label("", kind="small", name="entry_list")
        w.setLayout(column(self.entry_text, row(self.entry_btn, None), self.entry_list, None))
        return w

    def _refresh_entry(self) -> None:
        rules = self.k.rules(self.group_id)
        self.entry_text.setText(
            _(
                "Droit d'adhésion du règlement : {amount}, en {fund}.",
                amount=money(rules.entry_fee),
                fund=fund_name(rules.entry_fee_fund.value).lower(),
            )
        )
        self.entry_btn.setText(_("Encaisser un droit d'adhésion"))
        self.entry_btn.setEnabled(rules.entry_fee > 0)
        rows = self._today("entry_fee")
        self.entry_list.setText(_("Aujourd'hui : ") + ", ".join(r["name"] for r in rows) if rows else "")

    def _today(self, kind: str) -> list[dict[str, Any]]:
        return self.k.store.query(
            "SELECT t.amount, t.fund, m.name FROM p_transactions t LEFT JOIN p_members m USING (member_id) "
            "WHERE t.meeting_id = ? AND t.kind = ? AND t.reversed_by IS NULL ORDER BY t.seq",
            (self.meeting_id, kind),
        )

    def _entry(self) -> None:
        rules = self.k.rules(self.group_id)

        def picked(member: dict[str, Any]) -> None:
            if not self.win.attempt(M.check_here, self.k, self.meeting_id, member["member_id"])[0]:
                return  # marked absent or excused: said before the confirmation

            def confirmed() -> None:
                ok, _txn = self.win.attempt(V.entry_fee, self.k, self.meeting_id, self.s.by, member["member_id"])
                if ok:
                    self.win.toast(_("Droit d'adhésion enregistré."))
                    self._refresh_entry()

            self.win.confirm(
                _("Droit d'adhésion"),
                rules.entry_fee,
                [f"{member['number']}. {member['name']}"],
                confirmed,
                fund=rules.entry_fee_fund.value,
            )

        MemberPicker(self.win, _("Droit d'adhésion : quel membre ?"), self.s.members(), picked).open()

    # -- expenses ----------------------------------------------------------------------------

    def _expense_panel(self) -> QWidget:
        w = QWidget()
        self.expense = Form(
            self.win,
            "expense",
            [
                Field(
                    "fund",
                    _("Caisse"),
                    "toggle",
                    options=[(f, fund_short(f)) for f in ("verte", "rouge", "bleue")],
                    default="rouge",
                    fund_icons=True,
                ),
                Field("amount", _("Montant"), "amount", quick=(500, 1000, 1500, 2000, 5000, 10000)),
                Field(
                    "label",
                    _("Objet"),
                    "text",
                    auto_caps=False,
                    chips=(_("cahiers et stylos"), _("transport"), _("cadenas")),
                ),
            ],
        )
        go = button(_("Enregistrer la dépense"), "expense_go", kind="primary", on=self._expense)
        self.expense.changed.connect(lambda: go.setEnabled(self.expense.complete()))
        go.setEnabled(False)
        w.setLayout(
            column(
                label(_("Une dépense du groupe, approuvée par deux responsables."), kind="small"),
                self.expense,
                row(None, go),
                None,
            )
        )
        return w

    def _expense(self) -> None:
        v = dict(self.expense.values)
        if not self.win.attempt(V.check_expense, self.k, self.meeting_id, v["fund"], v["amount"])[0]:
            return  # said before two officers type their PINs for nothing

        def approved(approvals: list[Any]) -> None:
            ok, _txn = self.win.attempt(
                V.expense, self.k, self.meeting_id, self.s.by, v["fund"], v["amount"], v["label"], approvals
            )
            if ok:
                self.win.toast(_("Dépense enregistrée."))
                self.expense.reset()

        self._approve_money(_("Dépense"), v["amount"], [v["label"]], v["fund"], approved)

    def _approve_money(
        self, title: str, amount: int, lines: list[str], fund: str, approved: Any, beneficiary: str | None = None
    ) -> None:
        def confirmed() -> None:
            ApprovalOverlay(
                self.win, title, f"{money(amount)} · " + " · ".join(lines), approved, beneficiary=beneficiary
            ).open()

        self.win.confirm(title, amount, lines, confirmed, fund=fund, ok_text=_("Faire approuver"))

    # -- the caisse bleue: outside money -----------------------------------------------------------

    def _outside_panel(self) -> QWidget:
        w = QWidget()
        self.outside = Form(
            self.win,
            "outside",
            [
                Field(
                    "direction",
                    _("Argent"),
                    "toggle",
                    # Short: at 800×480 "Reçu du partenaire" and "Remboursé au partenaire" were cut.
                    options=[("in", _("Reçu")), ("out", _("Remboursé"))],
                    default="in",
                ),
                Field("lender", _("Partenaire"), "text"),
                Field("amount", _("Montant (capital)"), "amount", quick=(10000, 50000, 100000, 200000)),
                Field("interest", _("Intérêts payés"), "amount", required=False, default=0, quick=(0, 1000, 5000)),
            ],
        )
        self.outside_cash = label("", kind="small", name="outside_cash")
        go = button(_("Enregistrer"), "outside_go", kind="primary", on=self._outside)
        self.outside.changed.connect(lambda: go.setEnabled(self.outside.complete()))
        go.setEnabled(False)
        line = row(self.outside_cash, go)
        line.setStretch(0, 1)
        w.setLayout(column(self.outside, line, None))
        return w

    def _refresh_outside(self) -> None:
        known = V.lenders(self.k, self.group_id)
        # The partner's name is the key of what the box owes them: offered in one tap, never retyped.
        next(f for f in self.outside.fields if f.key == "lender").chips = [name for name, _owed in known][:4]
        text = _(
            "Caisse bleue : {cash}, argent d'un partenaire à lui rendre.",
            cash=money(self.k.cash(self.group_id, "bleue")),
        )
        owed = [f"{name} {money(amount)}" for name, amount in known if amount > 0]
        if owed:
            text += "\n" + _("À rendre : {who}", who=" ; ".join(owed))
        self.outside_cash.setText(text)

    def _outside(self) -> None:
        v = dict(self.outside.values)
        if v["direction"] == "in":

            def confirmed() -> None:
                ok, _txn = self.win.attempt(V.outside_in, self.k, self.meeting_id, self.s.by, v["lender"], v["amount"])
                if ok:
                    self.win.toast(_("Fonds du partenaire enregistrés."))
                    self.outside.reset()
                    self._refresh_outside()

            self.win.confirm(_("Fonds reçus du partenaire"), v["amount"], [v["lender"]], confirmed, fund="bleue")
            return

        if not self.win.attempt(
            V.check_outside_out, self.k, self.meeting_id, v["lender"], v["amount"], v["interest"] or 0
        )[0]:
            return  # said before two officers type their PINs for nothing

        def approved(approvals: list[Any]) -> None:
            ok, _txn = self.win.attempt(
                V.outside_out,
                self.k,
                self.meeting_id,
                self.s.by,
                v["lender"],
                v["amount"],
                v["interest"] or 0,
                approvals,
            )
            if ok:
                self.win.toast(_("Remboursement au partenaire enregistré."))
                self.outside.reset()
                self._refresh_outside()

        total = v["amount"] + (v["interest"] or 0)
        self._approve_money(_("Remboursement au partenaire"), total, [v["lender"]], "bleue", approved)

    # -- withdrawals -------------------------------------------------------------------------

    def _withdrawal_panel(self) -> QWidget:
        w = QWidget()
        self.withdrawal_rule = label("", kind="small", name="withdrawal_rule")
        self.withdrawal = Form(
            self.win,
            "withdrawal",
            [
                Field("member", _("Membre"), "member", members=self.s.members),
                Field("amount", _("Montant"), "amount", quick=(1000, 2000, 5000, 10000)),
            ],
        )
        self.withdrawal_open = False  # until the règlement is read (``_refresh_withdrawal``)
        self.withdrawal_savings = label("", kind="small", name="withdrawal_savings")
        self.withdrawal_go = go = button(_("Retirer"), "withdrawal_go", kind="primary", on=self._withdraw)
        self.withdrawal.changed.connect(self._withdrawal_changed)
        go.setEnabled(False)
        line = row(self.withdrawal_savings, go)
        line.setStretch(0, 1)
        w.setLayout(column(self.withdrawal_rule, self.withdrawal, line, None))
        return w

    def _withdrawal_changed(self) -> None:
        member = self.withdrawal.values.get("member")
        savings = self.k.savings(self.group_id, member["member_id"]) if member else None
        # What the member has is what the treasurer checks the amount against: said before any PIN.
        self.withdrawal_savings.setText("" if savings is None else _("Épargne : {amount}", amount=money(savings)))
        self.withdrawal_go.setEnabled(self.withdrawal_open and self.withdrawal.complete())

    def _refresh_withdrawal(self) -> None:
        # A règlement that returns savings only on leaving: no form to fill for a refusal; the way is Départ.
        self.withdrawal_open = self.k.rules(self.group_id).withdrawal.value == "any_time"
        self.withdrawal_rule.setText(
            _("Le règlement permet de retirer son épargne à tout moment.")
            if self.withdrawal_open
            else _(
                "Le règlement ne permet de retirer l'épargne qu'au départ du groupe : "
                "Menu → Membres → le membre → Départ."
            )
        )
        self.withdrawal.setEnabled(self.withdrawal_open)
        self._withdrawal_changed()

    def _withdraw(self) -> None:
        v = dict(self.withdrawal.values)
        member = v["member"]
        if not self.win.attempt(V.check_withdrawal, self.k, self.meeting_id, member["member_id"], v["amount"])[0]:
            return  # said before two officers type their PINs for nothing

        def approved(approvals: list[Any]) -> None:
            ok, _txn = self.win.attempt(
                V.withdraw, self.k, self.meeting_id, self.s.by, member["member_id"], v["amount"], approvals
            )
            if ok:
                self.win.toast(_("Retrait enregistré."))
                self.withdrawal.reset()

        self._approve_money(
            _("Retrait d'épargne"),
            v["amount"],
            [f"{member['number']}. {member['name']}"],
            "verte",
            approved,
            beneficiary=member["member_id"],
        )
