"""The print queue: receipts are committed with their movements and come out exactly once, in order."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import Group, make_group
from printer_fakes import FakePrinter, check_exactly_once_in_order

from kiosk.domain.errors import DomainError
from kiosk.domain.events import journal_point_code, verification_code
from kiosk.services import Kiosk
from kiosk.services import meetings as M
from kiosk.services import movements as V
from kiosk.services import statements as ST
from kiosk.store import Store
from kiosk.store.clock import FixedClock
from kiosk.store.print_queue import PrintQueue
from printer.escpos_out import Style, as_text
from printer.layout import layout
from printer.transports import (
    DummyTransport,
    Job,
    NetworkTransport,
    PrinterError,
    SerialTransport,
    State,
    Status,
    plain_reason,
)
from printer.worker import PrintWorker

DAY = date(2026, 3, 2)
ROOT = Path(__file__).resolve().parent.parent


def jobs(k: Kiosk) -> list[dict]:
    rows = k.store.query("SELECT * FROM print_jobs ORDER BY id")
    for row in rows:
        row["doc"] = json.loads(row["doc"])
    return rows


def test_closing_queues_a_receipt_per_member_present_and_the_report(kiosk: Kiosk, group: Group) -> None:
    meeting = group.open(DAY)
    M.record_attendance(kiosk, meeting, {group.member(0): "absent", group.member(1): ("represented", "sa fille")})
    M.standard_contributions(kiosk, meeting, group.treasurer)
    group.close(meeting)
    queued = jobs(kiosk)
    members = [j for j in queued if j["kind"] == "member"]
    assert len(members) == 4 + 6 - 1  # officers and members, less the absent one
    assert queued[-1]["kind"] == "report"
    receipt = next(j["doc"] for j in members if j["doc"]["member"]["name"] == "Membre 1")
    assert [m["amount"] for m in receipt["movements"]] == [1000, 200]
    assert receipt["balances"]["savings"] == kiosk.savings(group.group_id, group.member(1)) == 1000
    # The code on paper is the receipt event's hash: the server can check it.
    event = next(e for e in kiosk.store.events() if e.seq == members[0]["receipt_seq"])
    assert event.type == "receipt_issued"
    assert members[0]["doc"]["code"] == verification_code(event.hash)
    assert members[0]["doc"]["number"] == f"K00-{event.seq:06d}"
    report = queued[-1]["doc"]
    assert report["attendance"]["absent"] == 1 and report["funds"]["verte"]["in"] == 9000


def test_per_movement_receipts_are_in_the_movements_transaction(kiosk: Kiosk, group: Group) -> None:
    kiosk.store.set_setting("receipt_mode", "movement")
    meeting = group.open(DAY)
    V.contribution(kiosk, meeting, group.treasurer, group.member(0), "verte", 1500)
    assert [j["doc"]["movements"][0]["amount"] for j in jobs(kiosk)] == [1500]
    before = (kiosk.store.head(), len(jobs(kiosk)))
    with pytest.raises(DomainError):
        V.contribution(kiosk, meeting, group.treasurer, group.member(0), "verte", -5)
    with pytest.raises(DomainError):
        V.withdraw(kiosk, meeting, group.treasurer, group.member(0), 500, group.two())
    assert (kiosk.store.head(), len(jobs(kiosk))) == before


def test_per_movement_receipts_for_the_one_tap_contributions(kiosk: Kiosk, group: Group) -> None:
    kiosk.store.set_setting("receipt_mode", "movement")
    meeting = group.open(DAY)
    n = M.standard_contributions(kiosk, meeting, group.treasurer)
    docs = [j["doc"] for j in jobs(kiosk)]
    paying = len(M.attendance(kiosk, meeting))
    assert n == 2 * paying and len(docs) == paying  # one receipt a member, for both boxes
    assert {tuple(m["amount"] for m in d["movements"]) for d in docs} == {(1000, 200)}


def test_a_correction_shows_on_the_next_receipt(kiosk: Kiosk, group: Group) -> None:
    m1 = group.open(DAY)
    txn = V.contribution(kiosk, m1, group.treasurer, group.member(2), "verte", 5000)
    group.close(m1)
    m2 = group.open(date(2026, 3, 9))
    V.reverse(kiosk, m2, group.treasurer, txn, "mauvais montant", group.two())
    group.close(m2)
    doc = [j["doc"] for j in jobs(kiosk) if j["kind"] == "member" and j["doc"]["member"]["name"] == "Membre 2"][-1]
    [correction] = [m for m in doc["movements"] if m["kind"] == "reversal"]
    assert correction | {"detail": None} == {
        "kind": "reversal", "of": "contribution", "fund": "verte", "amount": -5000, "flow": "in",
        "reason": "mauvais montant", "detail": None, "of_date": "2026-03-02",
        "approved_by": ["Officier president", "Officier controleur"],
    }  # fmt: skip
    assert doc["officer"] == "Officier tresorier" and doc["officer_as"] == "recorded"


def test_a_late_loan_shows_what_is_late_on_the_receipt(kiosk: Kiosk, group: Group) -> None:
    m1 = group.open(DAY)
    M.standard_contributions(kiosk, m1, group.treasurer)
    V.grant_loan(kiosk, m1, group.treasurer, group.member(0), 3000, 1, group.two())
    group.close(m1)
    m2 = group.open(date(2026, 4, 20))  # the one installment fell due on 2 April: nothing repaid
    [due] = V.loans_due(kiosk, m2)
    assert due["arrears"] > 3000 and due["penalty"] > 0
    group.close(m2)
    docs = {j["doc"]["member"]["name"]: j["doc"] for j in jobs(kiosk) if j["kind"] == "member"}  # the latest
    late = docs["Membre 0"]
    assert late["balances"]["late"] == due["arrears"] + due["penalty"]
    assert late["balances"]["loan_outstanding"] == 3000 and late["balances"]["next_due"] is None
    # Nobody recorded anything for this member at this meeting: the paper names who opened it, as such.
    assert late["movements"] == [] and late["officer_as"] == "opened"
    assert docs["Membre 1"]["balances"]["late"] == 0


def test_the_receipt_s_code_vouches_for_every_figure_on_the_paper(kiosk: Kiosk, group: Group) -> None:
    meeting = group.open(DAY)
    M.standard_contributions(kiosk, meeting, group.treasurer)
    V.fine(kiosk, meeting, group.treasurer, group.member(1), "retard")
    group.close(meeting)
    job = next(j for j in jobs(kiosk) if j["kind"] == "member" and j["doc"]["member"]["name"] == "Membre 1")
    event = next(e for e in kiosk.store.events() if e.seq == job["receipt_seq"])
    text = as_text(layout(job["doc"], 32), 32)
    paper = event.body["paper"]
    assert paper == {"paid": 1400, "savings": 1000}  # the others are 0
    assert re.search(r"TOTAL VERSÉ +1 400 FCFA", text) and re.search(r"Épargne \(verte\) +1 000 FCFA", text)
    # A receipt whose balances are not the books' cannot be recorded (and a server would quarantine it).
    before = kiosk.store.head()
    forged = {**event.body, "receipt": "r-forged", "paper": {**paper, "savings": 100_000}}
    cases = [forged, {**forged, "paper": {**paper, "savings": -1}}, {**forged, "paper": {"bonus": 5}}]
    cases.append({**forged, "paper": {"paid": 1400}})  # savings left out: it would read 0
    for day in (20261399, 2026, 0):  # the next installment's day must be one (the books' figures are right)
        cases.append({**event.body, "receipt": f"r-{day}", "paper": {**paper, "next": 500, "next_on": day}})
    for body in cases:
        with pytest.raises(DomainError, match="receipt_paper"), kiosk.store.write() as w:
            w.append("receipt_issued", body)
    assert kiosk.store.head() == before


def test_statement_and_schedule(kiosk: Kiosk, group: Group) -> None:
    meeting = group.open(DAY)
    V.contribution(kiosk, meeting, group.treasurer, group.member(0), "verte", 10000)
    loan = V.grant_loan(kiosk, meeting, group.treasurer, group.member(0), 9000, 3, group.two())
    ST.print_statement(kiosk, group.member(0))
    ST.print_schedule(kiosk, loan)
    statement, schedule = (j["doc"] for j in jobs(kiosk)[-2:])
    assert statement["balances"]["loan_outstanding"] == 9000
    assert [m["kind"] for m in statement["movements"]] == ["contribution", "loan"]
    assert [i["principal"] + i["paf"] for i in schedule["installments"]] == [3180, 3180, 3180]
    head = kiosk.store.head()[1]  # the journal's point, by a code no receipt at that point has
    assert statement["code"] == journal_point_code(head) != verification_code(head)


def _worker(k: Kiosk, transport, **kw) -> PrintWorker:  # type: ignore[no-untyped-def]
    return PrintWorker(PrintQueue(Store(k.store.path, k.store.clock)), transport, Style(width=32), **kw)


def _close_with_receipts(g: Group, day: date = DAY) -> None:
    meeting = g.open(day)
    M.standard_contributions(g.k, meeting, g.treasurer)
    g.close(meeting)


def test_worker_prints_in_order_and_reports_paper_out(kiosk: Kiosk, group: Group) -> None:
    _close_with_receipts(group)
    dummy = DummyTransport()
    dummy.state = Status(State.PAPER_OUT, "plus de papier")
    states: list[Status] = []
    worker = _worker(kiosk, dummy, on_state=states.append)
    assert worker.drain() == 0
    assert worker.status.state is State.PAPER_OUT and states[-1].state is State.PAPER_OUT
    assert all(j["status"] == "pending" and j["attempts"] == 0 for j in jobs(kiosk))  # not even tried
    dummy.state = Status(State.READY)
    assert worker.drain() == 11
    assert [j.label for j in dummy.jobs] == [j["doc"]["number"] for j in jobs(kiosk)]
    assert all(j["status"] == "printed" for j in jobs(kiosk))
    assert worker.status.state is State.READY


def test_two_workers_on_one_queue_print_each_receipt_once(kiosk: Kiosk, group: Group) -> None:
    """The app's worker and ``printer queue print`` at once, or a new worker while the old one is stuck in
    a write: a claim takes only a pending job, and only its own claim may finish a job."""
    _close_with_receipts(group)
    first, second = PrintQueue(Store(kiosk.store.path)), PrintQueue(Store(kiosk.store.path))
    job = first.claim()
    assert job is not None and second.claim() is None  # the head is being printed: nobody skips it
    second.recover()  # a new worker starting: the stuck job goes back, to be printed as DUPLICATA
    again = second.claim()
    assert again is not None and again["id"] == job["id"] and again["duplicate"]
    # The stuck worker's write finally times out: that no longer puts the job back in the queue...
    assert not first.failed(job["id"], "write timeout", fully_sent=False, attempt=job["attempts"])
    assert second.printed(again["id"], attempt=again["attempts"])
    # ...nor may it mark printed a job that is another claim's.
    assert not first.printed(job["id"], attempt=job["attempts"])
    row = kiosk.store.query("SELECT status, attempts FROM print_jobs WHERE id = ?", (job["id"],))[0]
    assert (row["status"], row["attempts"]) == ("printed", 2)
    # Two workers draining the same queue: every receipt once.
    one, two = DummyTransport(), DummyTransport()
    a, b = _worker(kiosk, one), _worker(kiosk, two)
    while a.step().job_id is not None or b.step().job_id is not None:
        pass
    labels = [j.label for j in one.jobs + two.jobs]
    assert len(labels) == len(set(labels)) == len(jobs(kiosk)) - 1


def test_a_receipt_that_cannot_be_laid_out_waits_with_its_reason_and_blocks_nothing_forever(
    kiosk: Kiosk, group: Group
) -> None:

    _close_with_receipts(group)
    broken = PrintWorker(
        PrintQueue(Store(kiosk.store.path, kiosk.store.clock)), DummyTransport(), Style(width=32, profile="NoSuch")
    )
    outcome = broken.step()  # python-escpos does not know the profile: a KeyError while laying out
    assert not outcome.printed and broken.status.state is State.ERROR
    head = jobs(kiosk)[0]
    assert head["status"] == "pending" and "KeyError" in head["last_error"] and head["next_attempt_ms"] > 0
    assert not head["duplicate"]  # nothing left: it is no duplicate
    PrintQueue(kiosk.store).retry_now()
    fixed = _worker(kiosk, DummyTransport())
    assert fixed.drain() == len(jobs(kiosk))


def test_reprint_is_a_duplicata(kiosk: Kiosk, group: Group) -> None:
    _close_with_receipts(group)
    dummy = DummyTransport()
    worker = _worker(kiosk, dummy)
    worker.drain()
    first = jobs(kiosk)[0]
    PrintQueue(kiosk.store).reprint(first["id"])
    assert worker.drain() == 1
    assert b"DUPLICATA" in dummy.jobs[-1].data and b"DUPLICATA" not in dummy.jobs[0].data
    with pytest.raises(KeyError):
        PrintQueue(kiosk.store).reprint(9999)


def test_no_reprint_while_the_receipt_or_a_copy_still_waits(kiosk: Kiosk, group: Group) -> None:
    # Printer unplugged: each tap on "Réimprimer" queued a DUPLICATA, all printed after the original.
    _close_with_receipts(group)
    queue = PrintQueue(kiosk.store)
    queued = jobs(kiosk)
    first = queued[0]["id"]
    with pytest.raises(DomainError, match="reprint_waiting"):
        queue.reprint(first)
    assert jobs(kiosk) == queued
    assert first in queue.waiting_originals()
    dummy = DummyTransport()
    _worker(kiosk, dummy).drain()
    assert queue.waiting_originals() == set()
    copy = queue.reprint(first)  # out of the printer: a duplicate may be asked for
    assert queue.waiting_originals() == {first}
    for again in (first, copy):  # not a second one while the first copy waits, from either line
        with pytest.raises(DomainError, match="reprint_waiting"):
            queue.reprint(again)
    assert [j["id"] for j in jobs(kiosk) if j["copy_of"] == first] == [copy]
    _worker(kiosk, dummy).drain()
    assert queue.reprint(copy) > copy  # a copy of the copy is a copy of the original
    assert jobs(kiosk)[-1]["copy_of"] == first


class BlockingTransport(DummyTransport):
    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def send(self, job: Job) -> None:
        self.release.wait(10)
        super().send(job)


def test_recording_never_waits_for_the_printer(kiosk: Kiosk, group: Group) -> None:
    _close_with_receipts(group)
    stuck = BlockingTransport()
    worker = _worker(kiosk, stuck, poll_seconds=0.01)
    worker.start()
    try:
        time.sleep(0.1)  # the worker is now inside send(), waiting for a printer that does not answer
        start = time.perf_counter()
        _close_with_receipts(group, date(2026, 3, 9))  # a whole meeting: 40 events and 11 receipts
        assert time.perf_counter() - start < 2.0
        assert worker.status.state is State.PRINTING
    finally:
        stuck.release.set()
        worker.stop()
    assert len(jobs(kiosk)) == 22


def _serial(link: Path) -> SerialTransport:
    transport = SerialTransport(str(link), write_timeout=0.3)
    transport.status_timeout = 0.05
    return transport


def test_a_missing_printer_is_said_in_words_the_treasurer_can_act_on(tmp_path: Path, caplog: Any) -> None:
    # Before, the status bar read "DeviceNotFoundError: Device not found (Unable to open serial printer on …)".
    missing = _serial(tmp_path / "ttyUSB9")
    status = missing.status()
    assert status == Status(State.OFFLINE, "imprimante introuvable : vérifiez le câble et qu'elle est allumée")
    with caplog.at_level("WARNING", logger="printer.transports"), pytest.raises(PrinterError) as failed:
        missing.send(Job(b"x", "x"))
    assert failed.value.reason == status.reason
    assert "ttyUSB9" in caplog.text  # the detail, for whoever repairs it, is in the kiosk's log
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    network = NetworkTransport("127.0.0.1", port, timeout=0.5).status()
    assert network.reason == "imprimante réseau injoignable : est-elle allumée et sur le même réseau ?"


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (PermissionError(13, "Permission denied", "/dev/ttyUSB0"), "accès refusé"),
        (TimeoutError("Write timeout"), "ne répond plus"),
        (OSError(28, "No space left on device"), "plus de place"),
        (ValueError("something odd"), "détail est dans le journal"),
    ],
)
def test_printer_failures_read_in_french(exc: Exception, words: str) -> None:
    reason = plain_reason(exc)
    assert words in reason and type(exc).__name__ not in reason


FAULTS = ("none", "stall", "unplug", "paper_out", "paper_out_mid_job", "mute")


def test_randomized_printer_faults_lose_and_double_nothing(tmp_path: Path) -> None:
    """A pseudo-terminal plays the printer; each round records movements and injects a fault."""
    rounds = int(os.environ.get("MUSO_PRINTER_FAULT_ROUNDS", "100"))
    rnd = random.Random(int(os.environ.get("MUSO_PRINTER_FAULT_SEED", "1")))
    clock = FixedClock()
    k = Kiosk.open(tmp_path / "k.db", clock)
    k.store.set_setting("receipt_mode", "movement")
    g = make_group(k, n_members=3)
    meeting = g.open(DAY, attendance=None)
    link = tmp_path / "printer"
    fake = FakePrinter(link)
    worker = PrintWorker(PrintQueue(Store(k.store.path, clock)), _serial(link), Style(width=32))
    recorded = 0
    try:
        for _ in range(rounds):
            for _ in range(rnd.randint(1, 3)):
                V.contribution(k, meeting, g.treasurer, g.member(rnd.randrange(3)), "verte", rnd.randint(1, 50) * 100)
                recorded += 1
            fault = rnd.choice(FAULTS)
            timer = None
            if fault == "stall":
                fake.stall(True)
            elif fault == "unplug":
                fake.unplug()
            elif fault == "paper_out":
                fake.paper_out(True)
            elif fault == "mute":
                fake.answering = False
            elif fault == "paper_out_mid_job":
                timer = threading.Timer(rnd.random() * 0.004, fake.paper_out)
                timer.start()
            for _ in range(rnd.randint(1, 4)):
                clock.now += 120_000  # past any backoff
                worker.step()
            if timer:
                timer.join()
            # the printer comes back
            fake.stall(False)
            fake.paper_out(False)
            fake.answering = True
            if not fake.connected:
                fake.plug()
            assert (
                k.store.query("SELECT COUNT(*) AS n FROM p_transactions WHERE kind = 'contribution'")[0]["n"]
                == recorded
            )
        for _ in range(10 * recorded + 50):  # the printer is fine now: each step prints one
            clock.now += 120_000
            if worker.step().job_id is None and PrintQueue(k.store).pending_count() == 0:
                break
        time.sleep(0.2)  # let the fake read what is still in the pty
        assert PrintQueue(k.store).pending_count() == 0
        expected = [j["doc"]["number"] for j in jobs(k) if j["copy_of"] is None]
        assert len(expected) == recorded
        check_exactly_once_in_order(fake.receipts(), expected)
    finally:
        worker.transport.close()
        fake.close()
        k.close()


WORKER = """
import sys
from kiosk.store import Store
from kiosk.store.print_queue import PrintQueue
from printer.escpos_out import Style, as_text
from printer.layout import layout
from printer.transports import SerialTransport
from printer.worker import PrintWorker
transport = SerialTransport(sys.argv[2], write_timeout=1.0)
transport.status_timeout = float(sys.argv[3])
worker = PrintWorker(PrintQueue(Store(sys.argv[1])), transport, Style(width=32))
worker.source.recover()
print("ready", flush=True)
worker.drain()
print("drained", flush=True)
"""


def test_a_kiosk_killed_mid_print_resumes_its_queue(tmp_path: Path) -> None:
    k = Kiosk.open(tmp_path / "k.db")
    g = make_group(k, n_members=2)
    _close_with_receipts(g)
    expected = [j["doc"]["number"] for j in jobs(k)]
    k.close()
    link = tmp_path / "printer"
    fake = FakePrinter(link)
    fake.answers_left = 2  # "ready" before the first job; then it prints, but its answers never come
    try:
        env = os.environ | {"PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(tmp_path / "k.db"), str(link), "3.0"],
            stdout=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        assert proc.stdout and proc.stdout.readline().strip() == "ready"
        store = Store(tmp_path / "k.db")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if store.query("SELECT 1 FROM print_jobs WHERE status = 'printing'") and fake.receipts():
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert store.query("SELECT COUNT(*) AS n FROM print_jobs WHERE status = 'printing'")[0]["n"] == 1
        fake.answers_left, fake.answering = None, True
        proc = subprocess.run(
            [sys.executable, "-c", WORKER, str(tmp_path / "k.db"), str(link), "0.3"],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        time.sleep(0.2)
        assert PrintQueue(store).pending_count() == 0
        printed = fake.receipts()
        check_exactly_once_in_order(printed, expected)
        assert printed[1].number == expected[0] and printed[1].duplicate  # the interrupted one, again, as DUPLICATA
        store.close()
    finally:
        fake.close()
