"""Kiosks tell the server about themselves with each push: the fleet page shows it."""

from __future__ import annotations

from datetime import date

from conftest import make_group

from kiosk.domain.wire import encode_batch
from kiosk.services import Kiosk
from kiosk.services import meetings as M
from kiosk.store.clock import FixedClock
from kiosk.store.print_queue import PrintQueue
from kiosk.sync.batches import kiosk_report
from sync_server.schemas import PushBatch


def test_the_report_says_what_waits_and_what_failed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    k = Kiosk.open(tmp_path / "k.db", FixedClock())
    g = make_group(k, n_members=2)
    meeting = g.open(date(2026, 3, 2))
    M.standard_contributions(k, meeting, g.treasurer)
    g.close(meeting)
    head = k.store.head()[0]
    queue = PrintQueue(k.store)
    job = queue.claim()
    assert job is not None
    queue.failed(job["id"], "plus de papier", fully_sent=False)
    report = kiosk_report(k.store, head - 10)
    assert report["pq"] == 7 and report["pe"] == "plus de papier" and report["ep"] == 10
    assert isinstance(report["v"], str)
    # It travels inside the signed batch document and the server's schema accepts it.
    events = list(k.store.events(after=head - 2))
    doc = encode_batch("K07", events, "c2ln", None, report)
    assert PushBatch.model_validate(doc).report is not None
    assert PushBatch.model_validate(encode_batch("K07", events, "c2ln", None)).report is None
    k.close()
