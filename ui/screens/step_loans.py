"""Repayments (what each borrower owes, one tap to pay it), new loans (the rule check in words), aid."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QSizePolicy

from kiosk.domain.errors import Problem
from kiosk.domain.loans import Split, Terms, max_loan
from kiosk.domain.meetings import PAYING
from kiosk.domain.rules import AidKind
from kiosk.services import meetings as M
from kiosk.services import movements as V
from kiosk.services import statements as ST

from .. import theme
from ..approval import ApprovalOverlay
from ..forms import Field, Form
from ..i18n import _, aid_name, attendance_name, error_text, francs, money, short_date
from ..overlays import NumberOverlay
from ..widgets import FundTag, Scroll, button, column, label, line_card, row, set_kind
from .step_base import Step


def problem_lines(problems: list[Problem]) -> str:
    return "\n".join("✗ " + line for line in error_text(problems).split("\n"))


def term_choices(low: int, high: int, most: int = 6) -> list[int]:
    """At most six buttons for the term: every month when few, else spread from shortest to longest."""
    if high - low < most:
        return list(range(low, high + 1))
    return sorted({low + round(i * (high - low) / (most - 1)) for i in range(most)})


class RepaymentsStep(Step):
    key = "repayments"

    def __init__(self, screen: Any) -> None:
        super().__init__(screen)
        self.summary = label("", kind="small", name="repay_summary")
        self.lay.addWidget(self.summary)
        self.list = Scroll(columns=1)
        self.lay.addWidget(self.list, 1)

    def enter(self) -> None:
        # What is to be paid today first: "Rien à payer" rows above them made the treasurer scroll for each.
        rows = sorted(V.loans_due(self.k, self.meeting_id), key=lambda r: (r["due_now"] == 0, r["number"]))
        today = {
            r["loan_id"]: r["total"]
            for r in self.k.store.query(
                "SELECT loan_id, SUM(amount) AS total FROM p_transactions WHERE meeting_id = ? AND kind = 'repayment' "
                "AND reversed_by IS NULL GROUP BY loan_id",
                (self.meeting_id,),
            )
        }
        away = {m: s for m, s in M.attendance(self.k, self.meeting_id).items() if s not in PAYING}
        self.list.clear()
        due_total = sum(r["due_now"] for r in rows)
        self.summary.setText(
            _("{n} prêt(s) en cours · à rembourser aujourd'hui : {total}", n=len(rows), total=money(due_total))
        )
        names: set[str] = set()
        for r in rows:
            name = f"repay_{r['number']}"
            while name in names:
                name += "_2"
            names.add(name)
            detail = _("Prêt de {amount} du {date}", amount=francs(r["principal"]), date=short_date(r["start"]))
            if r["arrears"]:
                detail += " · " + _("impayés {arrears}", arrears=francs(r["arrears"]))
            if r["penalty"]:
                # Part of "Payer …" too: unsaid, the figure on the button did not add up for the member.
                detail += " · " + _("pénalité {penalty}", penalty=francs(r["penalty"]))
            if r["loan_id"] in today:
                detail += "\n" + _("Payé aujourd'hui : {paid} ✓", paid=francs(today[r["loan_id"]]))
            text = f"{r['number']}. {r['name']}"
            if r["member_id"] in away:
                # Seen before "Payer", which is refused for them (the refusal says how: represented, say).
                text += " · " + attendance_name(away[r["member_id"]], r["sex"])
            text += f"\n{detail}"
            if r["due_now"]:
                pay = button(
                    _("Payer {amount}", amount=francs(r["due_now"])),
                    name,
                    kind="primary",
                    on=lambda r=r: self._pay(r, r["due_now"]),
                )
            else:
                pay = button(_("Rien à payer"), name)
                pay.setEnabled(False)
            other = button(_("Autre montant"), f"{name}_other", on=lambda r=r: self._other(r))
            self.list.add_row(line_card(text, pay, other, fund=r["fund"], name=f"{name}_info"))
        if not rows:
            self.list.add_row(label(_("Aucun prêt en cours."), kind="muted"))
        self.list.done()

    def _other(self, r: dict[str, Any]) -> None:
        if not self.win.attempt(M.check_here, self.k, self.meeting_id, r["member_id"])[0]:
            return  # a member marked away: said before the keypad, not after the amount
        quick = sorted({r["due_now"], r["payoff"]} - {0})
        NumberOverlay(
            self.win,
            _("Remboursement de {name}", name=r["name"]),
            lambda a: self._pay(r, a),
            quick=quick,
            hint=_("Pour solder le prêt : {payoff}", payoff=money(r["payoff"])),
        ).open()

    def _pay(self, r: dict[str, Any], amount: int) -> None:
        ok, split = self.win.attempt(V.check_repayment, self.k, self.meeting_id, r["loan_id"], amount)
        if not ok:
            return  # more than the loan's balance, say: said before the confirmation, with the most

        def confirmed() -> None:
            ok, split = self.win.attempt(V.repay, self.k, self.meeting_id, self.s.by, r["loan_id"], amount)
            if ok:
                # Every part, as the confirmation said: the penalty left out, 2 000 F read as 1 970 F.
                self.win.toast(_("Remboursement enregistré : {parts}.", parts=", ".join(split_parts(split))))
                self.after_change()

        lines = [f"{r['number']}. {r['name']}", " + ".join(split_parts(split))]
        self.win.confirm(_("Remboursement"), amount, lines, confirmed, fund=r["fund"])


def split_parts(split: Split) -> list[str]:
    """What a repayment is made of, in the order it is paid off (kiosk.domain.loans.split_payment)."""
    parts = [
        _("pénalité {amount}", amount=francs(split.penalty)) if split.penalty else "",
        _("PAF {amount}", amount=francs(split.paf)) if split.paf else "",
        _("capital {amount}", amount=francs(split.principal)) if split.principal else "",
    ]
    return [p for p in parts if p]


class LoansStep(Step):
    key = "loans"

    def __init__(self, screen: Any) -> None:
        super().__init__(screen)
        m = theme.current
        self.form = Form(
            self.win,
            "loan",
            [
                Field("member", _("Membre"), "member", members=self._candidates),
                Field("amount", _("Montant"), "amount", quick=(5000, 10000, 20000, 30000, 50000, 100000)),
                Field("term", _("Mois"), "toggle", per_row=6),
                Field(
                    "fund",
                    _("Caisse"),
                    "toggle",
                    options=[("verte", _("verte")), ("bleue", _("bleue"))],
                    default="verte",
                    fund_icons=True,
                ),
            ],
        )
        self.form.changed.connect(self._check)
        self.info = label("", kind="small", name="loan_info")
        self.check = label("", name="loan_check")
        self.grant = button(_("Accorder le prêt"), "loan_grant", kind="primary", on=self._grant)
        self.today = Scroll(columns=1)
        # The loans granted today give way to the règlement's reasons: kept at its usual height, the
        # list left a refusal room for one reason and a half, and hid the rest ("Le membre a des
        # impayés", the one the treasurer can act on) under it. It scrolls in whatever room is left.
        self.today.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        right = column(self.info, self.check, row(None, self.grant), self.today)
        right.setStretch(3, 1)
        body = row(column(self.form, None), right, spacing=m.px(12))
        body.setStretch(0, 11)
        body.setStretch(1, 9)
        self.lay.addLayout(body, 1)
        self._term_buttons_for: tuple[int, int] | None = None

    def _candidates(self) -> list[dict[str, Any]]:
        return self.s.members()

    def pending(self) -> str | None:
        member, amount = self.form.values.get("member"), self.form.values.get("amount")
        if not member or not amount or not self.grant.isEnabled():
            return None  # nothing to grant: not filled in, or a loan the règlement refuses (said on the form)
        return _("Le prêt de {amount} à {name} n'est pas accordé.", amount=money(amount), name=member["name"])

    def leave(self) -> bool:
        return self.leave_pending(_("Retour au prêt"))

    def _terms(self) -> None:
        rules = self.k.rules(self.s.group_id or "")
        bounds = (rules.loan_min_months, rules.loan_max_months)
        if bounds != self._term_buttons_for:
            self.form.set_options("term", [(str(n), str(n)) for n in term_choices(*bounds)])
            self._term_buttons_for = bounds

    def refill(self) -> None:
        self._terms()  # a term kept in the draft is typed back among this règlement's terms
        super().refill()

    def enter(self) -> None:
        self._terms()
        self._check()
        self._list_today()

    def _list_today(self) -> None:
        self.today.clear()
        self.today.add_row(label(_("Prêts accordés aujourd'hui :"), kind="small"))
        rows = self.k.store.query(
            "SELECT l.loan_id, l.principal, l.term_months, l.fund, m.number, m.name FROM p_loans l "
            "JOIN p_members m USING (member_id) WHERE l.meeting_id = ? AND l.kind = 'loan' AND l.status != 'cancelled'",
            (self.meeting_id,),
        )
        for r in rows:
            text = f"{r['number']}. {r['name']}\n{francs(r['principal'])} · " + _("{n} mois", n=r["term_months"])
            schedule = button(
                _("Échéancier"), f"schedule_{r['number']}", on=lambda loan=r["loan_id"]: self._schedule(loan)
            )
            self.today.add_row(line_card(text, schedule, fund=r["fund"]))
        if not rows:
            self.today.add_row(label(_("aucun pour l'instant"), kind="muted"))
        self.today.done()

    def _schedule(self, loan_id: str) -> None:
        ok, _job = self.win.attempt(ST.print_schedule, self.k, loan_id)
        if ok:
            self.win.printer.wake()
            self.win.toast(_("Échéancier ajouté à la file d'impression."))

    def _check(self) -> None:
        v = self.form.values
        member, amount, term, fund = v.get("member"), v.get("amount"), v.get("term"), v.get("fund") or "verte"
        self.grant.setEnabled(False)
        self.info.setText("")
        self.today.setVisible(True)
        if not member:
            self.check.setText(_("Choisissez le membre, le montant et la durée."))
            set_kind(self.check, "muted")
            return
        rules = self.k.rules(self.s.group_id or "")
        savings = self.k.savings(self.s.group_id or "", member["member_id"])
        ceiling = max_loan(rules, savings)
        self.info.setText(
            _(
                "Épargne : {savings} · plafond : {ceiling}",
                savings=money(savings),
                ceiling=money(ceiling) if ceiling is not None else _("aucun"),
            )
        )
        if not amount or not term:
            self.check.setText(_("Choisissez le montant et la durée."))
            set_kind(self.check, "muted")
            return
        # The same check the use case makes, in words, before any officer types a PIN.
        problems = V.check_loan(self.k, self.meeting_id, member["member_id"], amount, int(term), fund)
        # Several reasons can leave the list a sliver of a line: out of sight until the form is put right.
        self.today.setVisible(len(problems) < 2)
        # Four reasons (the box short too) still ran past the bottom at the usual size.
        self.check.setStyleSheet(f"font-size: {theme.current.small}px;" if len(problems) > 2 else "")
        if problems:
            self.check.setText(problem_lines(problems))
            set_kind(self.check, "error")
            return
        terms = Terms.from_rules(rules, amount, int(term), date.fromisoformat(self.meeting["date"]))
        # No tick: it read "done", and nothing is until the officers approve (``leave`` asks).
        self.check.setText(
            _(
                "Le règlement permet ce prêt. Participation aux frais (PAF) : {paf}. À rembourser avant le {due}.",
                paf=money(terms.fixed_paf()),
                due=short_date(terms.due_date),
            )
        )
        set_kind(self.check, "ok")
        self.grant.setEnabled(True)

    def _grant(self) -> None:
        v = self.form.values
        member, amount, term, fund = v["member"], v["amount"], int(v["term"]), v.get("fund") or "verte"
        summary = _("Prêt de {amount} à {name}, {n} mois", amount=money(amount), name=member["name"], n=term)

        def approved(approvals: list[Any]) -> None:
            ok, _loan = self.win.attempt(
                V.grant_loan,
                self.k,
                self.meeting_id,
                self.s.by,
                member["member_id"],
                amount,
                term,
                approvals,
                fund=fund,
            )
            if ok:
                self.win.toast(_("Prêt accordé à {name}.", name=member["name"]))
                self.form.reset()
                self.after_change()

        def confirmed() -> None:
            ApprovalOverlay(self.win, _("Approuver le prêt"), summary, approved, beneficiary=member["member_id"]).open()

        self.win.confirm(
            _("Nouveau prêt"),
            amount,
            [f"{member['number']}. {member['name']}", _("{n} mois", n=term)],
            confirmed,
            fund=fund,
            ok_text=_("Faire approuver"),
        )


class AidStep(Step):
    key = "aid"

    def __init__(self, screen: Any) -> None:
        super().__init__(screen)
        m = theme.current
        self.cash = FundTag("rouge", "")
        self.cash.text.setObjectName("aid_cash")
        self.given = label("", kind="small", name="aid_given")
        self.given.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        top = row(self.cash, self.given)
        top.setStretch(1, 1)
        self.lay.addLayout(top)
        self.grid = QGridLayout()
        self.grid.setSpacing(m.px(6))
        self.lay.addLayout(self.grid)
        self.aid: str | None = None
        self.given_today: set[tuple[str, str]] = set()  # (member, aid) granted at this meeting
        self.buttons: dict[str, Any] = {}
        self.form = Form(self.win, "aid", [Field("member", _("Membre"), "member", members=self.s.members)])
        self.form.changed.connect(self._check)
        self.check = label("", name="aid_check")
        self.give = button(_("Accorder l'aide"), "aid_give", kind="primary", on=self._give)
        self.lay.addWidget(self.form)
        self.lay.addLayout(row(self.check, None, self.give))
        self.lay.addStretch(1)

    def enter(self) -> None:
        rules = self.k.rules(self.s.group_id or "")
        for b in self.buttons.values():
            b.deleteLater()
        self.buttons = {}
        for i, (name, aid) in enumerate(rules.aids.items()):
            kind = _("don") if aid.kind is AidKind.GRANT else _("prêt sans intérêt, {n} mois", n=aid.term_months)
            b = button(
                f"{aid_name(name)}\n{francs(aid.amount)} · {kind}",
                f"aid_{name}",
                kind="tile",
                checkable=True,
                expand=True,
            )
            b.clicked.connect(lambda _c=False, n=name: self._pick(n))
            self.grid.addWidget(b, i // 3, i % 3)
            self.buttons[name] = b
        self.cash.text.setText(
            _("Caisse rouge : {cash} disponibles", cash=money(self.k.cash(self.s.group_id or "", "rouge")))
        )
        rows = self.k.store.query(
            "SELECT m.member_id, m.number, m.name, json_extract(t.detail, '$.aid') AS aid, t.amount "
            "FROM p_transactions t JOIN p_members m USING (member_id) "
            "WHERE t.meeting_id = ? AND t.kind = 'aid' AND t.reversed_by IS NULL",
            (self.meeting_id,),
        )
        self.given_today = {(r["member_id"], r["aid"]) for r in rows}  # read again after each aid (after_change)
        self.given.setText(
            _("Aides accordées aujourd'hui : ")
            + ", ".join(f"{r['name']} ({aid_name(r['aid'])}, {francs(r['amount'])})" for r in rows)
            if rows
            else ""
        )
        self._check()

    def pending(self) -> str | None:
        member = self.form.values.get("member")
        if not member or not self.aid:
            return None
        return _("L'aide {aid} à {name} n'est pas accordée.", aid=aid_name(self.aid), name=member["name"])

    def leave(self) -> bool:
        return self.leave_pending(_("Retour à l'aide"))

    def _pick(self, name: str) -> None:
        self.aid = name
        self._check()
        self.keep_forms()

    def extra_draft(self) -> dict[str, Any]:
        return {"aid_type": self.aid} if self.aid else {}  # "aid" is the form's own key

    def restore_extra(self, saved: dict[str, Any]) -> None:
        aid = saved.get("aid_type")
        self.aid = aid if isinstance(aid, str) and aid in self.k.rules(self.s.group_id or "").aids else None

    def _check(self) -> None:
        for n, b in self.buttons.items():
            b.setChecked(n == self.aid)
        member = self.form.values.get("member")
        self.give.setEnabled(bool(self.aid and member))
        if not self.aid:
            self.check.setText(_("Choisissez le type d'aide, puis le membre."))
            set_kind(self.check, "muted")
            return
        rules = self.k.rules(self.s.group_id or "")
        aid = rules.aids[self.aid]
        cash = self.k.cash(self.s.group_id or "", "rouge")
        if aid.amount > cash:
            self.check.setText(problem_lines([Problem("cash_insufficient", "", {"missing": aid.amount - cash})]))
            set_kind(self.check, "error")
            self.give.setEnabled(False)
        elif member and (member["member_id"], self.aid) in self.given_today:
            # Not refused (two deaths in one family happen), but never granted twice by a slip unseen.
            self.check.setText(self._again_text(member, self.aid))
            set_kind(self.check, "warn")
        else:
            self.check.setText(
                _("{aid} : {amount} de la caisse rouge", aid=aid_name(self.aid), amount=money(aid.amount))
            )
            set_kind(self.check, "ok")

    def _again_text(self, member: dict[str, Any], aid_type: str) -> str:
        return _("{name} a déjà reçu l'aide {aid} à cette séance.", name=member["name"], aid=aid_name(aid_type).lower())

    def _give(self) -> None:
        aid_type = self.aid
        member = self.form.values["member"]
        assert aid_type is not None
        amount = self.k.rules(self.s.group_id or "").aids[aid_type].amount
        summary = _(
            "Aide {aid} de {amount} à {name}", aid=aid_name(aid_type), amount=money(amount), name=member["name"]
        )

        def approved(approvals: list[Any]) -> None:
            ok, _txn = self.win.attempt(
                V.give_aid, self.k, self.meeting_id, self.s.by, member["member_id"], aid_type, approvals
            )
            if ok:
                self.win.toast(_("Aide accordée à {name}.", name=member["name"]))
                self.aid = None
                self.form.reset()
                self.after_change()

        def confirmed() -> None:
            ApprovalOverlay(self.win, _("Approuver l'aide"), summary, approved, beneficiary=member["member_id"]).open()

        again = [self._again_text(member, aid_type)] if (member["member_id"], aid_type) in self.given_today else []
        self.win.confirm(
            _("Aide de solidarité"),
            amount,
            [f"{member['number']}. {member['name']}", aid_name(aid_type), *again],
            confirmed,
            fund="rouge",
            ok_text=_("Faire approuver"),
        )
