"""Attendance and contributions: the two steps every member goes through, so the ones with fewest taps.

Attendance starts with everyone present; touching a member changes only
them, and the list is recorded in one transaction when the treasurer moves
on. Contributions: everyone who came pays the standard amounts in one tap
(kiosk.services.meetings.standard_contributions, safe to tap twice);
exceptions, partial payments and arrears are set by hand, member by member.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtWidgets import QGridLayout

from kiosk.domain.meetings import PAYING
from kiosk.services import meetings as M
from kiosk.services import movements as V

from .. import theme
from ..i18n import _, attendance_name, francs, fund_name, fund_short, money
from ..overlays import ChoiceOverlay, NumberOverlay, Overlay, TextOverlay
from ..widgets import FundTag, Scroll, Tile, button, label, row, set_status
from .step_base import Step

STATUSES = ("present", "late", "absent", "excused", "represented")


def columns_for(width: int) -> int:
    """Three tiles a row: text grows with the screen (theme.Metrics), so more columns would cut names."""
    return 3


MARKS = "attendance_marks"  # a draft (Step.draft): {member: [status, represented_by]}


class AttendanceStep(Step):
    key = "attendance"

    def __init__(self, screen: Any) -> None:
        super().__init__(screen)
        self.counts = label("", kind="small", name="attendance_counts", wrap=False)
        self.saved = label("", kind="small", name="attendance_saved", wrap=False)
        line = row(self.counts, self.saved)
        line.setStretch(0, 1)
        self.lay.addLayout(line)
        self.list = Scroll(columns=columns_for(self.win.width()))
        self.list.set_columns(self.list.columns)
        self.lay.addWidget(self.list, 1)
        self.status: dict[str, tuple[str, str | None]] = {}
        self.dirty: set[str] = set()
        self.buttons: dict[str, Any] = {}
        # Marks tapped but not yet recorded (that happens on "Suivant"), kept in the kiosk's database:
        # a power cut must not silently turn the absent back into present.
        self.marked: dict[str, tuple[str, str | None]] = {}

    def enter(self) -> None:
        recorded = {
            r["member_id"]: (r["status"], r["represented_by"])
            for r in self.k.store.query(
                "SELECT member_id, status, represented_by FROM p_attendance WHERE meeting_id = ?", (self.meeting_id,)
            )
        }
        members = self.s.members()
        # Members not recorded yet count as present until the treasurer says otherwise.
        self.status = {m["member_id"]: recorded.get(m["member_id"], ("present", None)) for m in members}
        self.dirty = {m["member_id"] for m in members if m["member_id"] not in recorded}
        self.marked = {m: (s, by) for m, (s, by) in self.draft(MARKS).items() if m in self.status}
        self.status |= self.marked
        self.dirty |= set(self.marked)
        self.list.clear()
        self.buttons = {}
        for m in members:
            b = Tile(f"att_{m['number']}")
            b.clicked.connect(lambda _c=False, m=m: self._choose(m))
            self.buttons[m["member_id"]] = (b, m)
            self.list.add(b)
            self._show(m["member_id"])
        self.list.done()
        self._counts()

    def _show(self, member_id: str) -> None:
        b, m = self.buttons[member_id]
        status, by = self.status[member_id]
        text = f"{m['number']}. {m['name']}\n{attendance_name(status, m['sex'])}" + (f" ({by})" if by else "")
        b.setText(text)
        set_status(b, status)

    def _counts(self) -> None:
        values = [s for s, _by in self.status.values()]
        self.counts.setText(
            " · ".join(
                f"{attendance_name(s)} : {values.count(s)}"
                for s in STATUSES
                if values.count(s) or s in ("present", "absent")
            )
        )
        if self.dirty and len(self.dirty) == len(self.status):
            saved = _("Touchez ceux qui ne sont pas présents.")
        elif self.dirty:
            saved = _("{n} changement(s) à enregistrer", n=len(self.dirty))
        else:
            saved = _("Présences enregistrées ✓")
        self.saved.setText(saved)

    def _choose(self, member: dict[str, Any]) -> None:
        def chosen(status: str) -> None:
            if status == "represented":
                # Most often a relative: a tap for the usual ones, the keyboard for a name.
                relatives = [_("Son mari"), _("Sa femme"), _("Son fils"), _("Sa fille"), _("Un parent")]
                TextOverlay(
                    self.win, _("Représenté par"), lambda by: self._set(member, status, by), chips=relatives
                ).open()
            else:
                self._set(member, status, None)

        current = self.status[member["member_id"]][0]
        options = [(s, attendance_name(s)) for s in STATUSES]
        ChoiceOverlay(
            self.win, f"{member['number']}. {member['name']}", options, chosen, columns=3, current=current
        ).open()

    def _set(self, member: dict[str, Any], status: str, by: str | None) -> None:
        if status == "represented" and not by:
            return
        # Said at the tap, not at "Suivant" among the others: the tile stays as it was.
        if not self.win.attempt(M.check_attendance, self.k, self.meeting_id, member["member_id"], status)[0]:
            return
        self.status[member["member_id"]] = (status, by)
        self.dirty.add(member["member_id"])
        self.marked[member["member_id"]] = (status, by)
        self.keep_draft(MARKS, self.marked)
        self._show(member["member_id"])
        self._counts()

    def leave(self) -> bool:
        return self.save()

    def save(self) -> bool:
        if not self.dirty or self.screen.meeting_id is None:
            return True
        entries = {m: (s if not by else (s, by)) for m, (s, by) in self.status.items() if m in self.dirty}
        ok, _result = self.win.attempt(M.record_attendance, self.k, self.meeting_id, entries)
        if ok:
            self.dirty.clear()
            self.marked = {}
            self.keep_draft(MARKS, {})
            self._counts()
        return ok


# An amount typed for a box above this many standard contributions is asked again before it is kept.
# Arrears are caught up one meeting's contribution at a time: five are today's and four missed
# meetings, a month of a weekly group. More happens (a member back after a long illness) but rarely,
# whereas a key pressed twice (10 000 for 1 000) or a slip of the thumb (9 999 995) is ten times or
# more: asked once, never refused.
USUAL_MULTIPLE = 5

# Exceptions listed one a line on the "Tout le monde paie" confirmation; more are summed up in one
# line, under the largest (a typo is too much far more often than too little, and costs more).
LISTED_EXCEPTIONS = 4


class ContributionOverlay(Overlay):
    """One member's amounts for each box: standard, partial, nothing, or more (arrears)."""

    def __init__(
        self,
        win: Any,
        title: str,
        standard: dict[str, int],
        initial: dict[str, int],
        on_done: Callable[[dict[str, int]], Any],
        *,
        note: str = "",
    ) -> None:
        super().__init__(win, "contribution")
        self.on_done = on_done
        self.standard = standard
        self.values = dict(initial)
        self.lay.addWidget(label(title, kind="title"))
        if note:
            self.lay.addWidget(label(note, kind="small"))
        grid = QGridLayout()
        m = theme.current
        grid.setSpacing(m.px(8))
        self.shown: dict[str, Any] = {}
        for r, (fund, amount) in enumerate(standard.items()):
            grid.addWidget(FundTag(fund), r, 0)
            value = label("", kind="title", name=f"contrib_value_{fund}", wrap=False)
            self.shown[fund] = value
            grid.addWidget(value, r, 1)
            choices = sorted({0, amount // 2, amount, amount * 2} - ({amount // 2} if amount < 10 else set()))
            for c, choice in enumerate(choices):
                b = button(francs(choice), f"contrib_{fund}_{choice}")
                b.clicked.connect(lambda _c=False, f=fund, a=choice: self._set(f, a))
                grid.addWidget(b, r, 2 + c)
            other = button(_("Autre"), f"contrib_{fund}_other")
            other.clicked.connect(lambda _c=False, f=fund: self._other(f))
            grid.addWidget(other, r, 2 + len(choices))
        grid.setColumnStretch(1, 1)
        self.lay.addLayout(grid)
        self.lay.addStretch(1)
        self.lay.addLayout(
            row(
                button(_("Annuler"), "contrib_cancel", on=self.close_overlay, expand=True),
                button(_("Valider"), "contrib_ok", kind="primary", on=self._ok, expand=True),
            )
        )
        self._refresh()

    def _set(self, fund: str, amount: int) -> None:
        self.values[fund] = amount
        self._refresh()

    def _other(self, fund: str) -> None:
        standard = self.standard[fund]
        NumberOverlay(
            self.win,
            fund_name(fund),
            lambda a: self._set(fund, a),
            allow_zero=True,
            usual_max=USUAL_MULTIPLE * standard,
            usual_note=_(
                "Plus de {n} fois la cotisation {fund} ({amount}).",
                n=USUAL_MULTIPLE,
                fund=fund_short(fund),
                amount=francs(standard),
            ),
        ).open()

    def _refresh(self) -> None:
        for fund, lab in self.shown.items():
            lab.setText(money(self.values.get(fund, 0)))

    def _ok(self) -> None:
        self.close_overlay()
        self.on_done(dict(self.values))


EXCEPTIONS = "contribution_exceptions"  # a draft (Step.draft): {member: {fund: amount}}


def without_contribution(step: Step) -> list[dict[str, Any]]:
    """Members who came (present, late, represented) with no contribution recorded at this meeting.

    Those the treasurer let off every box by hand (0 everywhere) are left out: that was a choice,
    whereas a meeting where nobody paid is most often the one tap forgotten.
    """
    rules = step.k.rules(step.s.group_id or "")
    if not (rules.contribution_verte or rules.contribution_rouge):
        return []  # a règlement without contributions: nobody owes one
    attendance = M.attendance(step.k, step.meeting_id)
    paid = {
        r["member_id"]
        for r in step.k.store.query(
            "SELECT DISTINCT member_id FROM p_transactions WHERE meeting_id = ? AND kind = 'contribution' "
            "AND reversed_by IS NULL",
            (step.meeting_id,),
        )
    }
    let_off = {m for m, amounts in step.draft(EXCEPTIONS).items() if not any(amounts.values())}
    return [
        m for m in step.s.members() if attendance.get(m["member_id"]) in PAYING and m["member_id"] not in paid | let_off
    ]


def without_contribution_text(n: int) -> str:
    if n == 1:
        return _("1 membre présent n'a aucune cotisation enregistrée.")
    return _("{n} membres présents n'ont aucune cotisation enregistrée.", n=n)


class ContributionsStep(Step):
    key = "contributions"

    def __init__(self, screen: Any) -> None:
        super().__init__(screen)
        self.all = button("", "contrib_all", kind="primary", on=self._standard)
        self.all.setMinimumHeight(theme.current.px(60))
        self.lay.addWidget(self.all)
        self.help = label(
            _("Touchez un membre qui paie autrement (moins, rien, ou des arriérés)."), kind="small", name="contrib_hint"
        )
        self.lay.addWidget(self.help)
        self.list = Scroll(columns=columns_for(self.win.width()))
        self.list.set_columns(self.list.columns)
        self.lay.addWidget(self.list, 1)
        self.exceptions: dict[str, dict[str, int]] = {}
        self.exceptions_meeting: str | None = None

    def leave(self) -> bool:
        # Going back (to the attendance, say) is not moving on: the closing step asks again.
        missing = without_contribution(self) if self.moving_on() else []
        if not missing:
            return True
        return self.ask_to_go_on(
            "unpaid", _("Cotisations manquantes"), without_contribution_text(len(missing)), _("Retour aux cotisations")
        )

    def standard(self) -> dict[str, int]:
        rules = self.k.rules(self.s.group_id or "")
        return {f: a for f, a in (("verte", rules.contribution_verte), ("rouge", rules.contribution_rouge)) if a}

    def paid(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for r in self.k.store.query(
            "SELECT member_id, fund, SUM(amount) AS total FROM p_transactions WHERE meeting_id = ? "
            "AND kind = 'contribution' AND reversed_by IS NULL GROUP BY member_id, fund",
            (self.meeting_id,),
        ):
            out.setdefault(r["member_id"], {})[r["fund"]] = r["total"]
        return out

    def enter(self) -> None:
        if self.exceptions_meeting != self.meeting_id:
            # Kept as a draft: lost, those members would be charged in full.
            self.exceptions, self.exceptions_meeting = self.draft(EXCEPTIONS), self.meeting_id
        standard = self.standard()
        paid = self.paid()
        att = M.attendance(self.k, self.meeting_id)
        self.paying = [m for m in self.s.members() if att.get(m["member_id"]) in PAYING]
        self.to_pay = self._to_pay(standard, paid)
        total = sum(sum(a.values()) for a in self.to_pay.values())
        std = " + ".join(f"{francs(a)} {fund_short(f)}" for f, a in standard.items())
        if not self.paying:
            self.all.setText(_("Personne n'est présent : enregistrez d'abord les présences."))
            self.all.setEnabled(False)
        elif self.to_pay:
            self.all.setText(
                _(
                    "Tout le monde paie : {standard}\n{n} membre(s) · {total}",
                    standard=std,
                    n=len(self.to_pay),
                    total=money(total),
                )
            )
            self.all.setEnabled(True)
        else:
            self.all.setText(_("Cotisations enregistrées ✓ ({n} membres)", n=len(paid)))
            self.all.setEnabled(False)
        self.list.clear()
        for m in self.paying:
            mid = m["member_id"]
            b = Tile(f"contrib_member_{m['number']}")
            if mid in paid:
                amounts, status = paid[mid], "paid"
                text = " + ".join(francs(amounts.get(f, 0)) for f in standard) + " ✓"
            elif mid in self.exceptions:
                amounts, status = self.exceptions[mid], "exception"
                text = " + ".join(francs(amounts.get(f, 0)) for f in standard) + " · " + _("exception")
            else:
                status, text = "", _("à payer")
            b.setText(f"{m['number']}. {m['name']}\n{text}")
            set_status(b, status)
            b.clicked.connect(lambda _c=False, m=m: self._member(m))
            self.list.add(b)
        self.list.done()

    def _to_pay(self, standard: dict[str, int], paid: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        """What the one tap would record now, per member (what the service will do, shown before)."""
        out = {}
        for m in self.paying:
            amounts = {**standard, **self.exceptions.get(m["member_id"], {})}
            due = {f: a for f, a in amounts.items() if a and f not in paid.get(m["member_id"], {})}
            if due:
                out[m["member_id"]] = due
        return out

    def _standard(self) -> None:
        exceptions = {m: e for m, e in self.exceptions.items() if m in {p["member_id"] for p in self.paying}}
        total = sum(sum(a.values()) for a in self.to_pay.values())
        n = len(self.to_pay)

        def confirmed() -> None:
            ok, _count = self.win.attempt(
                M.standard_contributions, self.k, self.meeting_id, self.s.by, exceptions=exceptions
            )
            if ok:
                # Members, as the confirmation said: its count of rows (two boxes each) read as double.
                self.win.toast(_("Cotisations de {n} membre(s) enregistrées.", n=n))
                self.after_change()

        self.win.confirm(
            _("Cotisations de la séance"),
            total,
            [_("Cotisations de {n} membre(s).", n=n), *self._exception_lines(exceptions)],
            confirmed,
        )

    def _exception_lines(self, exceptions: dict[str, dict[str, int]]) -> list[str]:
        """Each amount typed by hand that the tap records, "n. name : amount", largest first: the grand
        total alone hid a 9 999 995 F typo among thirty members."""
        paid = self.paid()
        members = {m["member_id"]: m for m in self.paying}
        # Those already paid are skipped by the tap (standard_contributions), their exception with them.
        typed = [(m, e) for m, e in exceptions.items() if m not in paid]
        typed.sort(key=lambda item: (-sum(item[1].values()), members[item[0]]["number"]))
        if not typed:
            return []
        funds = list(self.standard())
        shown = typed if len(typed) <= LISTED_EXCEPTIONS + 1 else typed[:LISTED_EXCEPTIONS]
        lines = [_("Dont {n} exception(s) saisie(s) à la main :", n=len(typed))]
        for member_id, amounts in shown:
            m = members[member_id]
            parts = [f"{francs(amounts.get(f, 0))} {fund_short(f)}" for f in funds]
            lines.append(f"{m['number']}. {m['name']} : " + " + ".join(parts))
        if len(typed) > len(shown):
            rest = typed[len(shown) :]
            lines.append(
                _("+ {n} autre(s) : {total} en tout", n=len(rest), total=francs(sum(sum(e.values()) for _m, e in rest)))
            )
        return lines

    def _member(self, member: dict[str, Any]) -> None:
        standard = self.standard()
        title = f"{member['number']}. {member['name']}"
        if member["member_id"] in self.paid():
            # Already paid today: anything more is arrears or extra savings, recorded at once.
            ContributionOverlay(
                self.win,
                title,
                standard,
                {f: 0 for f in standard},
                lambda v: self._extra(member, v),
                note=_("A déjà cotisé aujourd'hui : ajoutez des arriérés ou un complément."),
            ).open()
            return
        initial = self.exceptions.get(member["member_id"], standard)

        def done(values: dict[str, int]) -> None:
            if values == standard:
                self.exceptions.pop(member["member_id"], None)
            else:
                self.exceptions[member["member_id"]] = values
            self.keep_draft(EXCEPTIONS, self.exceptions)
            self.enter()

        ContributionOverlay(
            self.win,
            title,
            standard,
            dict(initial),
            done,
            note=_("Montants de cette séance (0 : ne paie pas cette caisse)."),
        ).open()

    def _extra(self, member: dict[str, Any], values: dict[str, int]) -> None:
        values = {f: a for f, a in values.items() if a}
        if not values:
            return

        def confirmed() -> None:
            done, refused = self.win.attempt_each(
                [
                    (
                        fund_name(f),
                        partial(V.contribution, self.k, self.meeting_id, self.s.by, member["member_id"], f, a),
                    )
                    for f, a in values.items()
                ]
            )
            if refused:
                head = _("{done} contribution(s) enregistrée(s) sur {n}. Refus :", done=done, n=len(values))
                self.win.tell_refusals(head, refused)
            else:
                self.win.toast(_("Contribution enregistrée."))
            self.after_change()

        lines = [f"{member['number']}. {member['name']}"] + [f"{fund_name(f)} : {money(a)}" for f, a in values.items()]
        self.win.confirm(_("Contribution supplémentaire"), sum(values.values()), lines, confirmed)
