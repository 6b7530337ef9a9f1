"""Opening (date check, cash count, two officers), closing (count, discrepancy, two officers), receipts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from PySide6.QtWidgets import QStackedWidget, QWidget

from kiosk.services import meetings as M

from .. import theme
from ..approval import ApprovalOverlay
from ..i18n import _, job_status_name, long_date, printer_state_name, short_date
from ..widgets import Scroll, button, column, label, line_card, row
from .cash import CashCount
from .home import clock_warning
from .step_base import Step


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
        self.date = label("", kind="big", name="open_date", center=True)
        self.date.setProperty("kind", "display")
        self.last = label("", kind="muted", name="open_last")
        self.warning = label("", kind="warn", name="open_warning", hide_empty=True)
        m = theme.current
        date_row = row(
            button(_("◀ Veille"), "open_day_prev", on=lambda: self._shift(-1)),
            self.date,
            button(_("Lendemain ▶"), "open_day_next", on=lambda: self._shift(1)),
            spacing=m.px(10),
        )
        date_row.setStretch(1, 1)
        date_page.setLayout(
            column(
                self.number,
                label(_("Vérifiez la date de la séance. Si elle est fausse, corrigez-la ici."), kind="small"),
                date_row,
                self.last,
                self.warning,
                label(_("Ensuite : comptez chaque caisse. Deux responsables approuveront l'ouverture."), kind="muted"),
                None,
            )
        )
        self.pages.addWidget(date_page)
        # 2. the opening cash count
        self.count = CashCount("open")
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
        self.count.set_expected(M.expected_cash(self.k, group["group_id"]))
        opening = (group["group_id"], group["meeting_count"])
        if opening != self._opening:
            # Another opening (next week's, another group's): today's date, not one chosen for an earlier one.
            self._opening, self.day = opening, self.s.today()
        self._show_date()

    def _shift(self, days: int) -> None:
        self.day += timedelta(days=days)
        self._show_date()

    def _show_date(self) -> None:
        self.date.setText(long_date(self.day))
        self.warning.setText(clock_warning(self.day, [self.s.group]))

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
            self.pages.setCurrentIndex(1)
            self.screen.refresh_nav()
        else:
            self._open()

    def _open(self) -> None:
        group = self.s.group
        day = self.day

        def approved(approvals: list[Any]) -> None:
            ok, meeting_id = self.win.attempt(
                M.open_meeting, self.k, group["group_id"], day, self.count.as_counts(), approvals
            )
            if ok:
                self.count.reset()
                self.pages.setCurrentIndex(0)
                self.win.toast(_("Séance ouverte."))
                self.screen.opened(meeting_id)

        def confirmed() -> None:
            ApprovalOverlay(
                self.win, _("Ouvrir la séance"), _("Deux responsables approuvent l'ouverture et le comptage."), approved
            ).open()

        lines = [long_date(day), *self.count.lines()]
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
        self.count = CashCount("close")
        self.lay.addWidget(self.count, 1)

    def enter(self) -> None:
        self.count.set_expected(M.expected_cash(self.k, self.s.group_id or ""))

    def hint(self) -> str:
        return _("Comptez l'argent de chaque caisse avant de clôturer.")

    def next_text(self) -> str:
        return _("Clôturer la séance")

    def next(self) -> None:
        meeting = self.meeting
        meeting_id = self.meeting_id

        def approved(approvals: list[Any]) -> None:
            ok, _row = self.win.attempt(M.close_meeting, self.k, meeting_id, self.count.as_counts(), approvals)
            if ok:
                self.count.reset()
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
        self.win.confirm(
            _("Clôturer la séance n° {n} ?", n=meeting["number"]),
            None,
            lines,
            confirmed,
            ok_text=_("Faire approuver"),
            danger=self.count.discrepancy(),
        )


class ReceiptsStep(Step):
    key = "receipts"

    def __init__(self, screen: Any) -> None:
        super().__init__(screen)
        self.status = label("", name="receipts_status")
        self.retry = button(_("Réessayer"), "receipts_retry", on=self._retry)
        line = row(self.status, self.retry)
        line.setStretch(0, 1)
        self.lay.addLayout(line)
        self.list = Scroll(columns=1)
        self.lay.addWidget(self.list, 1)
        self.shown: tuple[int, ...] = ()
        self.states: dict[int, Any] = {}

    def jobs(self) -> list[dict[str, Any]]:
        """This meeting's receipts in the print queue (the newest jobs: they were queued at closing)."""
        meeting_id = self.screen.closed_id
        seqs = {
            r["seq"]: r
            for r in self.k.store.query(
                "SELECT r.seq, r.kind, m.number, m.name FROM p_receipts r LEFT JOIN p_members m USING (member_id) "
                "WHERE r.meeting_id = ?",
                (meeting_id,),
            )
        }
        rows = self.k.store.query(
            "SELECT id, kind, receipt_seq, status, duplicate, last_error FROM print_jobs ORDER BY id DESC LIMIT 500"
        )
        return [r | {"who": seqs[r["receipt_seq"]]} for r in reversed(rows) if r["receipt_seq"] in seqs]

    def enter(self) -> None:
        jobs = self.jobs()
        status = self.win.printer.status
        waiting = sum(1 for j in jobs if j["status"] != "printed")
        self.status.setText(
            _("{done} reçu(s) imprimé(s) sur {total}", done=len(jobs) - waiting, total=len(jobs))
            + " · "
            + _("imprimante {state}", state=printer_state_name(status.state.value))
        )
        ids = tuple(j["id"] for j in jobs)
        if ids == self.shown:
            # Same receipts, new states: update the words in place; rebuilding would also scroll back.
            for job in jobs:
                self.states[job["id"]].setText(self._state(job))
            return
        self.shown = ids
        self.states = {}
        self.list.clear()
        for job in jobs:
            who = job["who"]
            title = f"{who['number']}. {who['name']}" if who["name"] else _("Procès-verbal de la séance")
            state_label = label(self._state(job), kind="small", name=f"job_state_{job['id']}", wrap=False)
            self.states[job["id"]] = state_label
            reprint = button(_("Réimprimer"), f"reprint_{job['id']}", on=lambda j=job["id"]: self._reprint(j))
            self.list.add_row(line_card(title, state_label, reprint, kind=""))
        self.list.done()

    @staticmethod
    def _state(job: dict[str, Any]) -> str:
        return job_status_name(job["status"]) + (" · " + _("DUPLICATA") if job["duplicate"] else "")

    def _retry(self) -> None:
        self.win.retry_printing()

    def _reprint(self, job_id: int) -> None:
        self.win.reprint(job_id)
        self.enter()

    def next_text(self) -> str:
        return _("Terminer")

    def next(self) -> None:
        self.screen.closed_id = None
        self.win.show_screen("group")
