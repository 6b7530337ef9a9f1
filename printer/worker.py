"""The print worker: sends queued receipts in order, retries, and tells the UI the printer's state.

It runs in its own thread (the GUI never waits for paper) and reads the queue
through its own database connection, so it only ever sees committed jobs: a
receipt cannot come out for a movement that was rolled back.

Exactly once: a job is marked ``printing`` before its first byte leaves and
``printed`` only after the printer took it all and still reports itself
ready. Anything else sends it again later; if it may already have come out
(all bytes sent, or a crash mid-job), the new copy says DUPLICATA.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from .escpos_out import Style, as_text, render
from .layout import layout
from .transports import Job, PrinterError, State, Status, Transport, plain_reason

log = logging.getLogger(__name__)


class JobSource(Protocol):
    """What the worker needs from the queue (kiosk.store.print_queue.PrintQueue)."""

    def recover(self) -> int: ...

    def claim(self) -> dict[str, Any] | None: ...

    def printed(self, job_id: int, attempt: int | None = None) -> bool: ...

    def failed(self, job_id: int, error: str, *, fully_sent: bool, attempt: int | None = None) -> bool: ...

    def pending_count(self) -> int: ...


def render_job(doc: dict[str, Any], style: Style, *, duplicate: bool = False) -> Job:
    blocks = layout(doc, style.width, duplicate=duplicate, codepage=style.codepage)
    label = doc.get("number") or doc.get("title", "")
    return Job(render(blocks, style), as_text(blocks, style.width, style.codepage), str(label))


@dataclass(frozen=True)
class Outcome:
    job_id: int | None
    printed: bool
    status: Status


class PrintWorker:
    def __init__(
        self,
        source: JobSource,
        transport: Transport,
        style: Style | None = None,
        *,
        poll_seconds: float = 1.0,
        on_state: Callable[[Status], None] | None = None,
    ) -> None:
        self.source, self.transport, self.style = source, transport, style or Style()
        self.poll_seconds = poll_seconds
        self.on_state = on_state
        self._status = Status(State.READY)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- state the UI reads ----------------------------------------------------------------

    @property
    def status(self) -> Status:
        with self._lock:
            return self._status

    def _set(self, status: Status) -> Status:
        with self._lock:
            changed = status != self._status
            self._status = status
        if changed and self.on_state:
            self.on_state(status)
        return status

    # -- one step ------------------------------------------------------------------------

    def step(self) -> Outcome:
        """Try the next job once. Never raises for a printer problem."""
        before = self.transport.status()
        if before.state is not State.READY:
            return Outcome(None, False, self._set(before))
        job = self.source.claim()
        if job is None:
            return Outcome(None, False, self._set(before))
        self._set(Status(State.PRINTING, str(job["id"])))
        token = job["attempts"]
        try:
            rendered = render_job(job["doc"], self.style, duplicate=bool(job["duplicate"]))
        except Exception as exc:  # a bad setting or document: nothing left, the job waits its turn again
            log.exception("print job %s could not be laid out", job["id"])
            reason = f"reçu impossible à mettre en page ({type(exc).__name__}, détail dans le journal de la borne)"
            self.source.failed(job["id"], reason, fully_sent=False, attempt=token)
            return Outcome(job["id"], False, self._set(Status(State.ERROR, reason)))
        try:
            self.transport.send(rendered)
        except PrinterError as exc:
            self.source.failed(job["id"], exc.reason, fully_sent=exc.sent >= len(rendered.data), attempt=token)
            log.warning("print job %s failed: %s", job["id"], exc.reason)
            return Outcome(job["id"], False, self._set(Status(exc.state, exc.reason)))
        except Exception as exc:  # unforeseen: some bytes may have left, the retry says DUPLICATA
            log.exception("print job %s failed", job["id"])
            reason = plain_reason(exc)
            self.source.failed(job["id"], reason, fully_sent=True, attempt=token)
            return Outcome(job["id"], False, self._set(Status(State.ERROR, reason)))
        after = self.transport.status()
        if after.state is not State.READY:
            # The bytes left but the printer is no longer fine: it may have stopped mid-receipt.
            self.source.failed(job["id"], after.reason or after.state.value, fully_sent=True, attempt=token)
            return Outcome(job["id"], False, self._set(after))
        self.source.printed(job["id"], attempt=token)
        return Outcome(job["id"], True, self._set(after))

    def drain(self, max_jobs: int = 10_000) -> int:
        """Print until the queue is empty or the printer stops; return how many printed."""
        printed = 0
        for _ in range(max_jobs):
            outcome = self.step()
            if not outcome.printed:
                break
            printed += 1
        return printed

    # -- the thread ---------------------------------------------------------------------

    def start(self) -> None:
        recovered = self.source.recover()
        if recovered:
            log.info("%d print job(s) cut by a restart will be printed again as DUPLICATA", recovered)
        self._thread = threading.Thread(target=self._run, name="print-worker", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """New jobs, or the treasurer pressed "retry": do not wait for the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
        self.transport.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                outcome = self.step()
            except Exception as exc:  # the worker must outlive any single bad job
                log.exception("print worker step failed")
                self._set(Status(State.ERROR, plain_reason(exc)))
                outcome = Outcome(None, False, self.status)
            if outcome.printed:
                continue
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
