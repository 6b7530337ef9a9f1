"""Opening (date check, cash count, two officers) and closing (count, discrepancy, two officers)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from PySide6.QtWidgets import QStackedWidget, QWidget

from kiosk.domain.meetings import next_meeting
from kiosk.domain.rules import Rules
from kiosk.services import meetings as M

from .. import theme
from ..approval import ApprovalOverlay
from ..i18n import _, long_date, short_date
from ..widgets import FitLabel, button, column, label, row
from .cash import BoxCount
from .home import clock_warning
from .step_base import Step, keep_owned, owned_draft
from .step_people import without_contribution, without_contribution_text

OPEN_COUNT = "open_cash_count"  # drafts: the opening counts typed so far, {"<group>:<number>": draft}
CLOSE_COUNT = "close_cash_count"  # a draft (Step.draft): the closing count typed so far


def gap_words(start: date, end: date) -> str:
    """How long after ``start`` ``end`` is, in the unit a person would say."""
    months = (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)
    days = (end - start).days
    if months >= 2:
        return _("{n} mois", n=months)
    if days >= 14:
        return _("{n} semaines", n=days // 7)
    return _("{n} jours", n=days)


def far_ahead_warning(rules: Rules, last: str | None, day: date) -> str:
    """Why ``day`` looks a wrong date for the group's next meeting, or "".

    More than two meetings' rhythm (next_meeting, from the règlement's frequency) after the last
    meeting is more often a wrong date than a group that paused. The last meeting's own day, or less
    than half the rhythm after it, is the likeliest wrong date of all: without a network the Pi's
    clock comes back where it was last saved, at the last meeting. Once recorded, a meeting's date
    can never be corrected.
    """
    if not last:
        return ""
    last_day = date.fromisoformat(last)
    if day < last_day:
        return ""  # refused outright (before_last_meeting)
    if day == last_day:
        return _(
            "La date choisie est le {day}, le jour même de la dernière séance. "
            "Vérifiez la date : elle ne pourra plus être corrigée.",
            day=short_date(day),
        )
    rhythm = (next_meeting(rules, last_day) - last_day).days
    if (day - last_day).days * 2 < rhythm:
        return _(
            "La date choisie est le {day}, {gap} seulement après la dernière séance ({last}). "
            "Vérifiez la date : elle ne pourra plus être corrigée.",
            day=short_date(day),
            gap=gap_words(last_day, day),
            last=short_date(last_day),
        )
    if day <= next_meeting(rules, next_meeting(rules, last_day)):
        return ""
    return _(
        "La date choisie est le {day}, {gap} après la dernière séance ({last}). "
        "Vérifiez la date : elle ne pourra plus être corrigée.",
        day=short_date(day),
        gap=gap_words(last_day, day),
        last=short_date(last_day),
    )


def before_last_meeting(last: str | None, day: date) -> str:
    """Why ``day`` cannot be the group's next meeting, or "": meetings follow one another in time."""
    if last and day < date.fromisoformat(last):
        return _(
            "La date choisie ({day}) est avant la dernière séance ({last}) : "
            "corrigez-la ici avant de compter la caisse.",
            day=short_date(day),
            last=short_date(date.fromisoformat(last)),
        )
    return ""


class OpenStep(Step):
    key = "open"

    def __init__(self, screen: Any) -> None:
        super().__init__(screen)
        self.day = self.s.today()
        self._opening: tuple[str, int] | None = None  # the opening ``day`` was chosen for
        self.pages = QStackedWidget()
        # 1. the date: the Pi has no real-time clock, so the treasurer checks it first
        date_page = QWidget()
        self.number = label("", kind="title", name="open_number")
        m = theme.current
        self.date = FitLabel("open_date", largest=m.px(34), smallest=m.px(16))  # "display" is 34 px
        self.date.setProperty("kind", "display")
        self.last = label("", kind="muted", name="open_last")
        # The last closed meeting's receipts (to reprint one after a restart, or after "Terminer").
        self.receipts_btn = button("", "open_last_receipts", on=self._last_receipts)
        self.last_closed: str | None = None
        self.warning = label("", kind="warn", name="open_warning", hide_empty=True)
        self.date_ok: date | None = None  # a far date the treasurer confirmed
        date_row = row(
            button(_("◀ Veille"), "open_day_prev", on=lambda: self._shift(-1)),
            self.date,
            button(_("Lendemain ▶"), "open_day_next", on=lambda: self._shift(1)),
            spacing=m.px(10),
        )
        date_row.setStretch(1, 1)
        # A clock reset by a power cut can be months off: a week a tap, or the date the règlement's rhythm
        # expects in one (a day a tap took over a hundred taps).
        self.expected_btn = button("", "open_day_expected", on=self._to_expected)
        week_row = row(
            button(_("◀ 7 jours"), "open_week_prev", on=lambda: self._shift(-7)),
            self.expected_btn,
            button(_("7 jours ▶"), "open_week_next", on=lambda: self._shift(7)),
            spacing=m.px(10),
        )
        week_row.setStretch(1, 1)
        last_row = row(self.last, self.receipts_btn)
        last_row.setStretch(0, 1)
        date_page.setLayout(
            column(
                self.number,
                label(_("Vérifiez la date de la séance. Si elle est fausse, corrigez-la ici."), kind="small"),
                date_row,
                week_row,
                last_row,
                self.warning,
                label(_("Ensuite : comptez chaque caisse. Deux responsables approuveront l'ouverture."), kind="muted"),
                None,
            )
        )
        self.pages.addWidget(date_page)
        # 2. the opening cash count
        self.count = BoxCount("open", self._keep_count)
        self.pages.addWidget(self.count)
        # 3. already open: what was recorded
        done = QWidget()
        self.done = label("", name="open_done")
        done.setLayout(column(label(_("La séance est ouverte."), kind="title"), self.done, None))
        self.pages.addWidget(done)
        self.lay.addWidget(self.pages, 1)

    def enter(self) -> None:
        if self.screen.meeting_id:
            meeting = self.meeting
            officers = [self.k.member(m)["name"] for m in meeting["open_officers"] or []]
            self.done.setText(
                _(
                    "Séance n° {n} du {date}, ouverte par {officers}.",
                    n=meeting["number"],
                    date=long_date(date.fromisoformat(meeting["date"])),
                    officers=_(" et ").join(officers),
                )
            )
            self.pages.setCurrentIndex(2)
            return
        if self.pages.currentIndex() == 2:
            self.pages.setCurrentIndex(0)
        group = self.s.group
        self.number.setText(_("Ouverture de la séance n° {n}", n=group["meeting_count"] + 1))
        self.last.setText(
            _(
                "Dernière séance : n° {n} le {date}",
                n=group["meeting_count"],
                date=short_date(group["last_meeting_date"]),
            )
            if group["last_meeting_date"]
            else _("C'est la première séance du groupe.")
        )
        last = M.last_closed(self.k, group["group_id"])
        self.last_closed = last["meeting_id"] if last else None
        self.receipts_btn.setVisible(bool(last))
        if last:
            self.receipts_btn.setText(_("Reçus de la séance n° {n}", n=last["number"]))
        self.count.set_expected(M.expected_cash(self.k, group["group_id"]))
        opening = (group["group_id"], group["meeting_count"])
        if opening != self._opening:
            # Another opening (next week's, another group's): today's date, not one chosen for an earlier one,
            # and this opening's own count as far as it was typed (kept through a restart).
            self._opening, self.day, self.date_ok = opening, self.s.today(), None
            self.count.load(self._read_count())
            self.pages.setCurrentIndex(0)
        self._show_date()

    def _count_owner(self) -> str:
        group_id, count = self._opening or ("", 0)
        return f"{group_id}:{count + 1}"

    def _read_count(self) -> dict[str, Any]:
        return owned_draft(self.k.store, OPEN_COUNT, self._count_owner())

    def _keep_count(self, draft: dict[str, Any] | None = None) -> None:
        """One draft per group's next opening: a kiosk shared by groups keeps each one's count."""
        keep_owned(self.k.store, OPEN_COUNT, self._count_owner(), self.count.as_draft() if draft is None else draft)

    def _last_receipts(self) -> None:
        if self.last_closed:
            self.screen.show_receipts(self.last_closed)

    def _shift(self, days: int) -> None:
        self.day += timedelta(days=days)
        self._show_date()

    def far_warning(self) -> str:
        group = self.s.group
        return far_ahead_warning(self.k.rules(group["group_id"]), group["last_meeting_date"], self.day)

    def _expected_day(self) -> date | None:
        """The next meeting in the group's rhythm, after its last one (None before the first)."""
        group = self.s.group
        last = group["last_meeting_date"]
        return next_meeting(self.k.rules(group["group_id"]), date.fromisoformat(last)) if last else None

    def _to_expected(self) -> None:
        expected = self._expected_day()
        if expected is not None:
            self.day = expected
            self._show_date()

    def _show_date(self) -> None:
        self.date.setText(long_date(self.day))
        self.warning.setText(clock_warning(self.day, [self.s.group]) or self.far_warning())
        expected = self._expected_day()
        self.expected_btn.setEnabled(expected is not None and expected != self.day)
        self.expected_btn.setText(
            _("Date prévue : {date}", date=long_date(expected)) if expected else _("Première séance du groupe")
        )

    def hint(self) -> str:
        if self.screen.meeting_id or self.pages.currentIndex() == 0:
            return ""
        return _("Comptez chaque caisse : touchez la caisse, la coupure, puis le nombre.")

    def next_text(self) -> str:
        if self.screen.meeting_id:
            return _("Suivant ▶")
        return _("Compter la caisse ▶") if self.pages.currentIndex() == 0 else _("Ouvrir la séance")

    def next(self) -> None:
        if self.screen.meeting_id:
            self.screen.go_next()
        elif self.pages.currentIndex() == 0:
            if not self.win.attempt(M.check_not_behind_server, self.k)[0]:
                return  # before the whole count and two PINs
            refused = before_last_meeting(self.s.group["last_meeting_date"], self.day)
            if refused:  # said here, not after the whole count and two PINs
                self.win.message(refused)
                return
            far = self.far_warning()
            if far and self.date_ok != self.day:
                # Recorded, a date is never corrected: a far one is confirmed on its own, not in passing.
                self.win.confirm(
                    _("Vérifiez la date"),
                    None,
                    [long_date(self.day), far],
                    self._date_confirmed,
                    ok_text=_("La date est juste"),
                    danger=True,
                )
                return
            self._to_count()
        else:
            self._open()

    def _date_confirmed(self) -> None:
        self.date_ok = self.day
        self._to_count()

    def _to_count(self) -> None:
        self.pages.setCurrentIndex(1)
        self.screen.refresh_nav()

    def _open(self) -> None:
        group = self.s.group
        day = self.day
        if self.count.refuse_uncounted(self.win):
            return

        def approved(approvals: list[Any]) -> None:
            ok, meeting_id = self.win.attempt(
                M.open_meeting, self.k, group["group_id"], day, self.count.as_counts(), approvals
            )
            if ok:
                self.count.reset()
                self._keep_count({})
                self.pages.setCurrentIndex(0)
                self.win.toast(_("Séance ouverte."))
                self.screen.opened(meeting_id)

        def confirmed() -> None:
            ApprovalOverlay(
                self.win, _("Ouvrir la séance"), _("Deux responsables approuvent l'ouverture et le comptage."), approved
            ).open()

        lines = [long_date(day), *self.count.lines()]
        if self.far_warning():
            lines[0] += " — " + _("date vérifiée")
        self.win.confirm(
            _("Ouvrir la séance n° {n} ?", n=group["meeting_count"] + 1),
            None,
            lines,
            confirmed,
            ok_text=_("Faire approuver"),
        )


class CloseStep(Step):
    key = "close"

    def __init__(self, screen: Any) -> None:
        super().__init__(screen)
        self.count = BoxCount("close", lambda: self.keep_draft(CLOSE_COUNT, self.count.as_draft()))
        self.lay.addWidget(self.count, 1)
        self.count_for: str | None = None  # the meeting the count on screen was typed for
        self.unpaid = 0  # members who came and paid nothing

    def enter(self) -> None:
        self.count.set_expected(M.expected_cash(self.k, self.s.group_id or ""))
        if self.count_for != self.meeting_id:
            self.count.load(self.draft(CLOSE_COUNT))
            self.count_for = self.meeting_id
        self.unpaid = len(without_contribution(self))

    def hint_warns(self) -> bool:
        return bool(self.unpaid)

    def hint(self) -> str:
        # Said beside "Clôturer la séance", where the officers look before they approve (the screen has
        # no other line to spare under the count); the confirmation says it again.
        if self.unpaid:
            return "⚠ " + without_contribution_text(self.unpaid)
        return _("Comptez l'argent de chaque caisse avant de clôturer.")

    def next_text(self) -> str:
        return _("Clôturer la séance")

    def next(self) -> None:
        meeting = self.meeting
        meeting_id = self.meeting_id
        if self.count.refuse_uncounted(self.win):
            return
        missing = self.unpaid = len(without_contribution(self))

        def approved(approvals: list[Any]) -> None:
            ok, _row = self.win.attempt(M.close_meeting, self.k, meeting_id, self.count.as_counts(), approvals)
            if ok:
                self.count.reset()
                self.keep_draft(CLOSE_COUNT, {})
                self.win.toast(_("Séance clôturée : les reçus s'impriment."))
                self.screen.closed(meeting_id)

        def confirmed() -> None:
            ApprovalOverlay(
                self.win,
                _("Clôturer la séance"),
                _("Deux responsables approuvent la clôture et le comptage."),
                approved,
            ).open()

        lines = self.count.lines()
        if self.count.discrepancy():
            lines.append(_("Les écarts seront inscrits au procès-verbal."))
        if missing:
            lines.append("⚠ " + without_contribution_text(missing))
        undone = self.screen.undone()
        lines += ["⚠ " + what for what in undone]
        self.win.confirm(
            _("Clôturer la séance n° {n} ?", n=meeting["number"]),
            None,
            lines,
            confirmed,
            ok_text=_("Faire approuver"),
            danger=self.count.discrepancy() or bool(missing) or bool(undone),
        )
