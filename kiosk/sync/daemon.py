"""``muso-kiosk sync --daemon``: sync on a timer, forever, whatever happens.

The loop is driven by time, not by new writes: a queue that failed once is
retried by the timer even if nobody records anything for a month (the
PowerSync "stalls until the next write" bug, research/sync.md §2). Failures
back off exponentially with full jitter, so a thousand kiosks coming back
after a server outage do not all knock at once; a server's Retry-After is
honoured as a minimum. A kiosk not enrolled yet is waited for here, on a
slow timer, rather than the process exiting for systemd to restart it every
30 s forever.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .client import Report, SyncClient
from .errors import SyncError

log = logging.getLogger("muso.sync")


@dataclass(frozen=True)
class Schedule:
    interval_s: float = 900.0  # after a success
    min_backoff_s: float = 15.0
    max_backoff_s: float = 3600.0
    jitter: float = 0.2  # ± fraction of the interval after a success

    def after_success(self, rnd: random.Random) -> float:
        return self.interval_s * rnd.uniform(1 - self.jitter, 1 + self.jitter)

    def after_failure(self, failures: int, rnd: random.Random, retry_after: float = 0) -> float:
        cap = min(self.max_backoff_s, self.min_backoff_s * 2 ** min(failures - 1, 30))
        return max(retry_after, rnd.uniform(self.min_backoff_s / 2, cap))


def wait_for_client(
    open_client: Callable[[], SyncClient], stop: threading.Event, every_s: float = 600.0, remind_s: float = 86_400.0
) -> SyncClient | None:
    """``open_client()`` once it works (the kiosk enrolled, its key readable), trying every ``every_s``;
    None if ``stop`` is set first. Each reason to wait is logged once, not at every try, and again each
    ``remind_s`` it lasts: a database that stays unreadable is a broken card, not one being made."""
    said, said_at = None, 0.0
    while not stop.is_set():
        try:
            client = open_client()
        except SyncError as exc:
            if exc.code != said or time.monotonic() - said_at >= remind_s:
                log.warning("sync waits (%s: %s): trying again every %.0f s", exc.code, exc.message, every_s)
                said, said_at = exc.code, time.monotonic()
        else:
            if said:
                log.info("sync can start (%s resolved)", said)
            return client
        stop.wait(every_s)
    return None


def run(
    client: SyncClient,
    schedule: Schedule,
    stop: threading.Event,
    *,
    rounds: int | None = None,
    rnd: random.Random | None = None,
    on_round: Callable[[Report | None, SyncError | None], None] | None = None,
) -> int:
    """Sync until ``stop`` is set (or ``rounds`` have run); returns the number of successful rounds."""
    rnd = rnd or random.Random()
    failures = successes = done = 0
    while not stop.is_set() and (rounds is None or done < rounds):
        done += 1
        try:
            report = client.sync()
        except Exception as exc:  # SyncError, or the kiosk's own database busy or failing: retry later
            if isinstance(exc, SyncError):
                err = exc
            else:
                log.exception("sync round failed")
                err = SyncError("unexpected", f"{type(exc).__name__}: {exc}", transient=True)
            failures += 1
            delay = schedule.after_failure(failures, rnd, err.retry_after)
            if not err.transient:
                # A person must act (revoked, diverged…): keep asking, but rarely.
                delay = max(delay, schedule.max_backoff_s)
            log.warning("sync failed (%s, attempt %d): retry in %.0f s", err.code, failures, delay)
            if on_round:
                on_round(None, err)
        else:
            failures = 0
            successes += 1
            delay = schedule.after_success(rnd)
            log.info("synced: %d events acknowledged, server at %d", report.pushed, report.acked_seq)
            if on_round:
                on_round(report, None)
        if rounds is not None and done >= rounds:
            break
        stop.wait(delay)
    return successes
