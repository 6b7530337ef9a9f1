"""The receipts step: the closed meeting's receipts, their print status, a duplicate of one that came out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kiosk.store.print_queue import PrintQueue

from ..i18n import _, job_status_name, printer_state_name
from ..widgets import Scroll, button, label, line_card, row
from .step_base import Step


def waiting_for_paper(win: Any, meeting_id: str) -> int:
    """A closed meeting's receipts not yet out of a paper printer (a file printer leaves no paper to hand out)."""
    if win.printer.to_file:
        return 0
    return PrintQueue(win.session.k.store).waiting_for_meeting(meeting_id)


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
        self.reprints: dict[int, Any] = {}

    def jobs(self) -> list[dict[str, Any]]:
        """This meeting's receipts in the print queue, and their duplicates.

        Found through the meeting's receipts, not among the newest jobs: an earlier meeting's receipts
        are opened again (OpenStep's "Reçus de la séance n° N") after other jobs were queued.
        """
        rows = self.k.store.query(
            "SELECT j.id, j.kind, j.receipt_seq, j.status, j.duplicate, j.copy_of, j.last_error, "
            "r.kind AS receipt_kind, m.number, m.name FROM p_receipts r JOIN print_jobs j ON j.receipt_seq = r.seq "
            "LEFT JOIN p_members m ON m.member_id = r.member_id WHERE r.meeting_id = ? ORDER BY j.id",
            (self.screen.closed_id,),
        )
        return [r | {"who": {"kind": r["receipt_kind"], "number": r["number"], "name": r["name"]}} for r in rows]

    def enter(self) -> None:
        jobs = self.jobs()
        status = self.win.printer.status
        done = len(jobs) - sum(1 for j in jobs if j["status"] != "printed")
        if self.win.printer.to_file:  # no paper came out: the members have nothing to take home
            text = _("{done} reçu(s) sur {total} dans un fichier : pas de papier", done=done, total=len(jobs))
            self.status.setText(text)
        else:
            self.status.setText(
                _("{done} reçu(s) imprimé(s) sur {total}", done=done, total=len(jobs))
                + " · "
                + _("imprimante {state}", state=printer_state_name(status.state.value))
            )
        ids = tuple(j["id"] for j in jobs)
        if ids != self.shown:
            self.shown = ids
            self.states, self.reprints = {}, {}
            self.list.clear()
            for job in jobs:
                who = job["who"]
                title = f"{who['number']}. {who['name']}" if who["name"] else _("Procès-verbal de la séance")
                state_label = label("", kind="small", name=f"job_state_{job['id']}", wrap=False)
                reprint = button(_("Réimprimer"), f"reprint_{job['id']}", on=lambda j=job["id"]: self._reprint(j))
                self.states[job["id"]], self.reprints[job["id"]] = state_label, reprint
                self.list.add_row(line_card(title, state_label, reprint, kind=""))
            self.list.done()
        # Same receipts, new states: updated in place, as rebuilding would also scroll back.
        # Only what came out is reprinted: a receipt still waiting (printer unplugged) comes out by itself,
        # and each tap queued a duplicate the member got on top of it.
        reprintable = PrintQueue(self.k.store).reprintable(jobs)
        for job in jobs:
            self.states[job["id"]].setText(self._state(job))
            self.reprints[job["id"]].setVisible(job["id"] in reprintable)

    def _state(self, job: dict[str, Any]) -> str:
        state = job_status_name(job["status"], to_file=self.win.printer.to_file)
        return state + (" · " + _("DUPLICATA") if job["duplicate"] else "")

    def _retry(self) -> None:
        self.win.retry_printing()

    def _reprint(self, job_id: int) -> None:
        self.win.reprint(job_id)
        self.enter()

    def waiting(self) -> int:
        return waiting_for_paper(self.win, self.screen.closed_id) if self.screen.closed_id else 0

    def _ask_to_leave(self, n: int, then: Callable[[], Any] | None = None) -> bool:
        text = _("{n} reçu(s) pas encore imprimé(s) : ils sortiront dès que l'imprimante sera prête.", n=n)
        return self.ask_to_go_on("receipts_waiting", _("Reçus en attente"), text, _("Rester aux reçus"), then)

    def leave(self) -> bool:
        # "◀ Précédent" or the step bar, to the next opening: the members still waiting for their paper
        # would go home without it. Asked once; the menu and the home button leave as before.
        n = 0 if self.let_go or self.screen.target is None else self.waiting()
        if not n:
            if self.screen.closed_id:
                self.screen.receipts_left.add(self.screen.closed_id)
            return True
        return self._ask_to_leave(n)

    def next_text(self) -> str:
        return _("Terminer")

    def next(self) -> None:
        def finish() -> None:
            if self.screen.closed_id:
                self.screen.receipts_left.add(self.screen.closed_id)
            self.screen.closed_id = None
            self.win.show_screen("group")

        n = self.waiting()
        if n:
            self._ask_to_leave(n, finish)
        else:
            finish()
