"""The print queue: receipts stored as jobs, sent in order, never lost, never silently doubled.

Jobs are rows of ``print_jobs``. The printer worker (printer.worker) drives
them through this class; it knows nothing of SQLite and this module knows
nothing of printers.

States: ``pending`` → ``printing`` → ``printed``; a failure puts the job back
to ``pending`` with a later ``next_attempt_ms`` (backoff). A job found in
``printing`` at start-up was cut by a crash or power loss: it may or may not
have come out of the printer, so it is sent again marked DUPLICATA.

A claim is atomic and takes only a ``pending`` job; its ``attempts`` count is
the claim's token, and ``printed`` or ``failed`` change the job only under
that token. Two workers on one database (the app's and ``printer queue
print``), or a worker left stuck in a write when a new one starts, can then
never print a receipt twice nor put a printed one back in the queue.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from kiosk.domain.errors import DomainError

from .database import Store, Writer

BACKOFF_MS = (2_000, 5_000, 15_000, 30_000, 60_000)


def enqueue(
    w: Writer,
    kind: str,
    doc: dict[str, Any],
    now_ms: int,
    *,
    receipt_seq: int | None = None,
    duplicate: bool = False,
    copy_of: int | None = None,
) -> int:
    cur = w.execute(
        "INSERT INTO print_jobs (kind, receipt_seq, doc, duplicate, copy_of, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
        (kind, receipt_seq, json.dumps(doc, ensure_ascii=False, sort_keys=True), int(duplicate), copy_of, now_ms),
    )
    return int(cur.lastrowid or 0)


def _row(store: Store, sql: str, params: tuple[Any, ...] = ()) -> dict[str, Any] | None:
    rows = store.query(sql, params)
    if not rows:
        return None
    row = rows[0]
    row["doc"] = json.loads(row["doc"])
    return row


class PrintQueue:
    """The kiosk side of the printer worker's job source."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def now_ms(self) -> int:
        return self.store.clock.now_ms()

    def recover(self) -> int:
        """After a restart: jobs cut mid-print go back to the queue as duplicates."""
        with self.store.write() as w:
            cur = w.execute("UPDATE print_jobs SET status = 'pending', duplicate = 1 WHERE status = 'printing'")
        return cur.rowcount

    def head(self) -> dict[str, Any] | None:
        """The oldest job not yet printed, whether or not it may be tried now (order is kept)."""
        return _row(self.store, "SELECT * FROM print_jobs WHERE status != 'printed' ORDER BY id LIMIT 1")

    def claim(self) -> dict[str, Any] | None:
        """The next job to send now, marked ``printing`` (committed before a byte leaves); None while the
        oldest is not due, or is being printed by another worker (order is kept)."""
        with self.store.write() as w:
            job = self.head()
            if job is None or job["status"] != "pending" or job["next_attempt_ms"] > self.now_ms():
                return None
            w.execute(
                "UPDATE print_jobs SET status = 'printing', attempts = attempts + 1 "
                "WHERE id = ? AND status = 'pending'",
                (job["id"],),
            )
        job["attempts"] += 1
        job["status"] = "printing"
        return job

    def printed(self, job_id: int, attempt: int | None = None) -> bool:
        """The job came out. False, and nothing changed, when it is no longer this claim's."""
        with self.store.write() as w:
            return self._mine(
                w,
                "UPDATE print_jobs SET status = 'printed', printed_ms = ?, last_error = NULL",
                (self.now_ms(),),
                job_id,
                attempt,
            )

    def failed(self, job_id: int, error: str, *, fully_sent: bool, attempt: int | None = None) -> bool:
        """Back to the queue with a backoff. Bytes that all left may have printed: the retry says DUPLICATA."""
        with self.store.write() as w:
            row = self.store.query("SELECT attempts FROM print_jobs WHERE id = ?", (job_id,))
            attempts = row[0]["attempts"] if row else 1
            delay = BACKOFF_MS[min(max(attempts, 1), len(BACKOFF_MS)) - 1]
            return self._mine(
                w,
                "UPDATE print_jobs SET status = 'pending', last_error = ?, next_attempt_ms = ?, "
                "duplicate = MAX(duplicate, ?)",
                (error[:500], self.now_ms() + delay, int(fully_sent)),
                job_id,
                attempt,
            )

    @staticmethod
    def _mine(w: Writer, update: str, params: tuple[Any, ...], job_id: int, attempt: int | None) -> bool:
        """``update`` the job if it is still being printed under this claim (``attempt``: its token)."""
        sql = update + " WHERE id = ? AND status = 'printing'"
        args: tuple[Any, ...] = (*params, job_id)
        if attempt is not None:
            sql += " AND attempts = ?"
            args += (attempt,)
        return w.execute(sql, args).rowcount == 1

    def retry_now(self) -> int:
        with self.store.write() as w:
            return w.execute("UPDATE print_jobs SET next_attempt_ms = 0 WHERE status = 'pending'").rowcount

    def reprint(self, job_id: int) -> int:
        """A new copy of a printed receipt, always marked DUPLICATA.

        Refused while the original or a copy of it still waits for the printer: each tap on a receipt
        not yet out (printer unplugged) queued one more, and the member got the original and as many
        duplicates when the printer came back.
        """
        with self.store.write() as w:
            # Read under the writer's lock: two taps at once must not both find nothing waiting.
            job = _row(self.store, "SELECT * FROM print_jobs WHERE id = ?", (job_id,))
            if job is None:
                raise KeyError(job_id)
            if job_id not in self.reprintable([job]):
                raise DomainError("reprint_waiting", "job", value=job_id)
            return enqueue(
                w,
                job["kind"],
                job["doc"],
                self.now_ms(),
                receipt_seq=job["receipt_seq"],
                duplicate=True,
                copy_of=job["copy_of"] or job_id,
            )

    def reprintable(self, jobs: Iterable[dict[str, Any]]) -> set[int]:
        """The ids, among ``jobs`` (rows with ``id``, ``status`` and ``copy_of``), of those a duplicate may be
        asked for: printed, with neither their original nor another copy of it still waiting.

        The one rule for ``reprint`` and for the screens that offer "Réimprimer"; one query for a whole list.
        """
        waiting = self.waiting_originals()
        return {j["id"] for j in jobs if j["status"] == "printed" and (j["copy_of"] or j["id"]) not in waiting}

    def jobs(self, *, pending_only: bool = False, limit: int = 50) -> list[dict[str, Any]]:
        columns = "id, kind, receipt_seq, duplicate, copy_of, status, attempts, last_error, created_ms, printed_ms, doc"
        where = " WHERE status != 'printed'" if pending_only else ""
        sql = f"SELECT {columns} FROM print_jobs{where} ORDER BY id DESC LIMIT ?"
        rows = self.store.query(sql, (limit,))
        for row in rows:
            doc = json.loads(row.pop("doc"))
            row["title"] = doc.get("title", "")
            row["number"] = doc.get("number")
        return rows

    def waiting_originals(self) -> set[int]:
        """The receipts (by their original job) with the original or a copy not yet printed: not reprinted."""
        rows = self.store.query("SELECT DISTINCT COALESCE(copy_of, id) AS o FROM print_jobs WHERE status != 'printed'")
        return {r["o"] for r in rows}

    def waiting_for_meeting(self, meeting_id: str) -> int:
        """How many of a meeting's receipts (and copies of them) are not printed yet."""
        rows = self.store.query(
            "SELECT COUNT(*) AS n FROM p_receipts r JOIN print_jobs j ON j.receipt_seq = r.seq "
            "WHERE r.meeting_id = ? AND j.status != 'printed'",
            (meeting_id,),
        )
        return int(rows[0]["n"])

    def pending_count(self) -> int:
        return int(self.store.query("SELECT COUNT(*) AS n FROM print_jobs WHERE status != 'printed'")[0]["n"])
