"""Crash test: a writer process is SIGKILLed at random moments while it records use cases.

After every kill the database must open, ``verify`` must pass, everything the
writer acknowledged (it prints a line only after the use case returned, i.e.
after COMMIT) must be there, and a use case that writes many events in one
transaction (attendance, the standard-contributions tap) must be all there or
not there at all. Whatever the killed writer committed without acknowledging
must be exactly the one use case it had announced, in full. Receipts
(``receipt_issued`` events and their print jobs) belong to the transaction of
the movement or closing they prove; every other reset of the file switches on
``receipt_mode = movement`` so that per-movement receipts are crashed too.

One database file is reused across rounds, each writer resuming the meeting
its predecessor left behind. ``verify`` replays the whole journal, so to keep a
round cheap the file is reset from a template every ``MUSO_CRASH_ROUNDS_PER_FILE``
rounds (default 25). ``MUSO_CRASH_ROUNDS`` (default 200) sets the number of
kills, ``MUSO_CRASH_SEED`` replays a failing run (the kill times, not the scheduler).
"""

from __future__ import annotations

import json
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import PINS, make_group

from kiosk.services import Kiosk
from kiosk.services import groups as G
from kiosk.store import Store
from kiosk.store.verify import verify

ROOT = Path(__file__).resolve().parent.parent
N_MEMBERS = 30
READY_TIMEOUT_S = 30.0
MAX_DELAY_S = 0.050  # the writer is killed 0-50 ms after it is ready

# The writer imports everything, then waits for "go" on stdin before it touches
# the database: the test starts the next writers while it checks the last kill.
WRITER = r"""
import json, random, sys
from datetime import date, timedelta

from kiosk.store import pins
pins.N = 2**8  # same as tests/conftest.py: PIN hashes made by the test are cheap to check

from kiosk.domain.funds import count_for
from kiosk.services import Approval, Kiosk
from kiosk.services import meetings as M
from kiosk.services import movements as MV

cfg = json.loads(sys.argv[1])
if sys.stdin.readline().strip() != "go":
    sys.exit(0)


def say(*parts):
    sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
    sys.stdout.flush()


rng = random.Random(cfg["seed"])
k = Kiosk.open(cfg["path"])
group_id, sec, tres = cfg["group"], cfg["secretary"], cfg["treasurer"]
approvals = [Approval(cfg[role], cfg["pins"][role]) for role in ("president", "controleur")]
attendance = cfg["attendance"]
paying = cfg["paying"]


def head():
    return k.store.head()[0]


def counts():
    return {f: count_for(a) for f, a in M.expected_cash(k, group_id).items()}


say("ready")
meeting = M.open_meeting_of(k, group_id)
while True:
    if meeting is None:
        say("begin", "O")
        number = k.group(group_id)["meeting_count"] + 1
        meeting = M.open_meeting(k, group_id, date(2026, 1, 1) + timedelta(days=7 * number), counts(), approvals)
        say("O", meeting, head())
    if not M.attendance(k, meeting):
        say("begin", "A", meeting)
        M.record_attendance(k, meeting, attendance)
        say("A", meeting, len(attendance), head())
    # On a fresh meeting this is the tap; when resuming a meeting it is the
    # "second tap after a power cut", which must charge nobody twice.
    say("begin", "S", meeting)
    n = M.standard_contributions(k, meeting, sec)
    say("S", meeting, n, head())
    for _ in range(rng.randint(5, 40)):
        member, amount = rng.choice(paying), 5 * rng.randint(1, 400)
        say("begin", "C", meeting)
        txn = MV.contribution(k, meeting, tres, member, "verte", amount)
        say("C", meeting, head(), txn, member, amount, k.store.get("transactions", (txn,))["seq"])
    say("begin", "X", meeting)
    M.close_meeting(k, meeting, counts(), approvals)
    say("X", meeting, head())
    meeting = None
"""


@dataclass
class Expected:
    """What the writers acknowledged since the file was last reset."""

    txns: dict[str, tuple[int, str, str, int]] = field(default_factory=dict)  # txn -> seq, meeting, member, amount
    opened: dict[str, int] = field(default_factory=dict)
    attendance: set[str] = field(default_factory=set)
    batches: set[str] = field(default_factory=set)
    closed: set[str] = field(default_factory=set)
    head: int = 0  # the journal head the last check found


class Writers:
    """Writer processes started ahead of time, so their imports overlap the checks."""

    def __init__(self, cfg: dict, seed: int, ahead: int = 2) -> None:
        self.cfg, self.rng, self.ahead = cfg, random.Random(seed), ahead
        self.queue: deque[subprocess.Popen[bytes]] = deque()
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }

    def _spawn(self) -> None:
        cfg = {**self.cfg, "seed": self.rng.randrange(2**32)}
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, json.dumps(cfg)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env=self.env,
            bufsize=0,
        )
        self.queue.append(proc)

    def next(self) -> subprocess.Popen[bytes]:
        while len(self.queue) <= self.ahead:
            self._spawn()
        return self.queue.popleft()

    def close(self) -> None:
        for proc in self.queue:
            proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                if pipe:
                    pipe.close()
        self.queue.clear()


def _read_until_ready(proc: subprocess.Popen[bytes]) -> bytes:
    assert proc.stdout is not None
    fd, buf = proc.stdout.fileno(), b""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while b"ready\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            proc.kill()
            raise AssertionError(f"writer not ready after {READY_TIMEOUT_S}s")
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buf += chunk
    return buf


def _run_and_kill(proc: subprocess.Popen[bytes], delay: float) -> tuple[list[list[str]], str, int | None]:
    """Let the writer run ``delay`` seconds after 'ready', SIGKILL it; return its complete lines."""
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(b"go\n")
    head = _read_until_ready(proc)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    out = head + proc.stdout.read()
    err = proc.stderr.read().decode(errors="replace")
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        pipe.close()
    # A line cut by the kill (no newline) was not acknowledged.
    lines = [line.split() for line in out.decode().split("\n")[:-1]]
    return lines, err, proc.returncode


def _check(
    store: Store, k: Kiosk, cfg: dict, lines: list[list[str]], exp: Expected, stats: Counter[str], per_movement: bool
) -> list[str]:
    """Everything a round must satisfy after the kill; returns the problems found."""
    problems: list[str] = []
    report = verify(store)
    if not report.ok:
        problems += [f"verify: {p}" for p in report.problems[:10]]
    head = store.head()[0]
    group_id, sec, tres = cfg["group"], cfg["secretary"], cfg["treasurer"]
    everyone, paying = set(cfg["attendance"]), cfg["paying"]
    batch = {(m, f) for m in paying for f in ("verte", "rouge")}

    # -- 1. record this round's acknowledgements, find the use case in flight at the kill
    base, in_flight = exp.head, None
    for parts in lines:
        tag = parts[0]
        if tag == "ready":
            continue
        if tag == "begin":
            in_flight = parts[1:]
            continue
        in_flight = None
        if tag == "C":
            meeting, seq, txn, member, amount = parts[1], int(parts[2]), parts[3], parts[4], int(parts[5])
            exp.txns[txn] = (int(parts[6]), meeting, member, amount)
        elif tag == "O":
            meeting, seq = parts[1], int(parts[2])
            exp.opened[meeting] = seq
        elif tag == "A":
            meeting, seq = parts[1], int(parts[3])
            exp.attendance.add(meeting)
        elif tag == "S":
            meeting, n, seq = parts[1], int(parts[2]), int(parts[3])
            if n not in (0, len(batch)):
                problems.append(f"standard contributions for {meeting} recorded {n}, not 0 or {len(batch)}")
            exp.batches.add(meeting)
            stats["batches recorded"] += bool(n)
            stats["second taps (0 recorded)"] += not n
        elif tag == "X":
            meeting, seq = parts[1], int(parts[2])
            exp.closed.add(meeting)
        else:
            problems.append(f"unexpected writer line {parts}")
            continue
        stats["acknowledged use cases"] += 1
        if seq < base:
            problems.append(f"acknowledged head {seq} went backwards (previous {base})")
        base = max(base, seq)
    if head < base:
        problems.append(f"journal head {head} is below the acknowledged head {base}: commits lost")

    # -- 2. whatever committed after the last acknowledgement is the announced use case, whole
    tail = list(store.events(after=base))
    bodies = [(e.type, e.body) for e in tail]
    if in_flight is None:
        stats["killed between use cases"] += 1
        if tail:
            problems.append(f"{len(tail)} events after the last acknowledgement, none announced")
    else:
        op = in_flight[0]
        outcome = "committed" if tail else "rolled back"
        if (
            op == "S"
            and not tail
            and store.query(
                "SELECT 1 FROM p_transactions WHERE meeting_id = ? AND recorded_by = ? LIMIT 1", (in_flight[1], sec)
            )
        ):
            outcome = "second tap"
        stats[f"killed in {op}: {outcome}"] += 1
        if op == "C":
            ok = len(tail) == 1 + per_movement and bodies[0][0] == "movement_recorded"
            ok = ok and bodies[0][1]["kind"] == "contribution" and bodies[0][1]["by"] == tres
            if ok and per_movement:
                ok = bodies[1][0] == "receipt_issued" and bodies[1][1]["txns"] == [bodies[0][1]["txn"]]
        elif op == "O":
            ok = len(tail) == 1 and bodies[0][0] == "meeting_opened"
        elif op == "X":
            # the closing and its receipts: how many is checked per meeting below
            ok = bool(tail) and bodies[0][0] == "meeting_closed" and bodies[0][1]["meeting"] == in_flight[1]
            ok = ok and all(t == "receipt_issued" and b["meeting"] == in_flight[1] for t, b in bodies[1:])
        elif op == "A":
            ok = len(tail) == len(everyone) and all(
                t == "attendance_recorded" and b["meeting"] == in_flight[1] for t, b in bodies
            )
        elif op == "S":
            # The tap's contributions, one run, then (per movement) one receipt for each member who paid.
            moves = [(t, b) for t, b in bodies if t == "movement_recorded"]
            slips = bodies[len(moves) :]
            ok = bodies[: len(moves)] == moves and len(moves) == len(batch)
            ok = ok and {(b["member"], b["fund"]) for _, b in moves} == batch
            ok = ok and all(b["meeting"] == in_flight[1] and b["by"] == sec for _, b in moves)
            payers = {b["member"] for _, b in moves}
            ok = ok and len(slips) == (len(payers) if per_movement else 0)
            ok = ok and all(t == "receipt_issued" and b.get("member") in payers for t, b in slips)
        else:
            ok = False
        if tail and not ok:
            problems.append(f"killed during {in_flight}: after the last acknowledgement found {bodies}"[:2000])
    exp.head = head

    # -- 3. every acknowledged contribution is in the journal and the projections
    rows = {
        r["txn_id"]: r
        for r in store.query(
            "SELECT txn_id, seq, meeting_id, member_id, amount, fund, kind, recorded_by FROM p_transactions "
            "WHERE kind = 'contribution'"
        )
    }
    for txn, (seq, meeting, member, amount) in exp.txns.items():
        row = rows.get(txn)
        want = {"seq": seq, "meeting_id": meeting, "member_id": member, "amount": amount, "recorded_by": tres}
        if row is None or {key: row[key] for key in want} != want:
            problems.append(f"acknowledged contribution {txn} {want} missing or different: {row}")
            continue
        event = next(store.events(after=seq - 1, limit=1), None)
        if event is None or event.seq != seq or event.body.get("txn") != txn:
            problems.append(f"acknowledged contribution {txn}: journal event {seq} is {event}")

    # -- 4. per meeting: multi-event use cases all or nothing, local tables in step with events
    meetings = {m["meeting_id"]: m for m in store.query("SELECT * FROM p_meetings WHERE group_id = ?", (group_id,))}
    progress = dict(store.conn.execute("SELECT meeting_id, step FROM meeting_progress").fetchall())
    for meeting in set(exp.opened) | exp.attendance | exp.batches | exp.closed:
        if meeting not in meetings:
            problems.append(f"acknowledged meeting {meeting} is missing")
    open_ones = [m for m, row in meetings.items() if row["status"] == "open"]
    if len(open_ones) > 1 or k.group(group_id)["open_meeting"] != (open_ones[0] if open_ones else None):
        problems.append(f"open meetings {open_ones} vs group {k.group(group_id)['open_meeting']}")
    for meeting, row in meetings.items():
        closed = row["status"] == "closed"
        if progress.get(meeting) != ("receipts" if closed else "attendance"):
            problems.append(f"meeting {meeting} ({row['status']}) has progress {progress.get(meeting)!r}")
        if meeting in exp.opened and row["opened_seq"] != exp.opened[meeting]:
            problems.append(f"meeting {meeting} opened at {row['opened_seq']}, acknowledged {exp.opened[meeting]}")
        if meeting in exp.closed and not closed:
            problems.append(f"meeting {meeting} acknowledged closed but is {row['status']}")
        present = store.query("SELECT member_id FROM p_attendance WHERE meeting_id = ?", (meeting,))
        if {r["member_id"] for r in present} not in (set(), everyone):
            problems.append(f"meeting {meeting}: attendance half recorded ({len(present)}/{len(everyone)})")
        txns = store.query(
            "SELECT txn_id, member_id, fund, seq, recorded_by FROM p_transactions WHERE meeting_id = ? "
            "AND kind = 'contribution' ORDER BY seq",
            (meeting,),
        )
        tapped = [t for t in txns if t["recorded_by"] == sec]
        got = {(t["member_id"], t["fund"]) for t in tapped}
        seqs = [t["seq"] for t in tapped]
        if got not in (set(), batch) or len(tapped) != len(got):
            problems.append(
                f"meeting {meeting}: standard contributions not all-or-nothing ({len(tapped)}/{len(batch)})"
            )
        elif seqs and seqs[-1] - seqs[0] + 1 != len(seqs):
            problems.append(f"meeting {meeting}: standard contributions not one contiguous batch: {seqs}")
        if (closed or len(txns) > len(tapped) or meeting in exp.batches) and got != batch:
            problems.append(f"meeting {meeting}: later steps done or tap acknowledged, but batch has {len(got)} rows")
        if (got or meeting in exp.attendance) and len(present) != len(everyone):
            problems.append(f"meeting {meeting}: acknowledged attendance or contributions without attendance")
        # Receipts: at closing one per member present or with a movement, plus the procès-verbal,
        # right after the closing event; per movement (when on) one right after each movement.
        receipts = store.query("SELECT seq, kind, member_id, txns FROM p_receipts WHERE meeting_id = ?", (meeting,))
        at_close = sorted(r["seq"] for r in receipts if closed and r["seq"] > row["closed_seq"])
        if closed:
            paying_here = {r["member_id"] for r in present if r["member_id"] in paying}
            moved = {t["member_id"] for t in txns}
            want_close = len(paying_here | moved) + 1
            if at_close != list(range(row["closed_seq"] + 1, row["closed_seq"] + 1 + want_close)):
                problems.append(f"meeting {meeting}: {len(at_close)} closing receipts, want {want_close} after it")
        by_txn = Counter(r["txns"] for r in receipts if r["seq"] not in at_close)
        if per_movement:
            for t in txns:
                if t["recorded_by"] == tres and by_txn[json.dumps([t["txn_id"]])] != 1:
                    problems.append(f"contribution {t['txn_id']}: {by_txn[json.dumps([t['txn_id']])]} receipts")
        elif by_txn:
            problems.append(f"meeting {meeting}: movement receipts while receipt_mode is off: {by_txn}")
    jobs = Counter(r[0] for r in store.conn.execute("SELECT receipt_seq FROM print_jobs WHERE receipt_seq IS NOT NULL"))
    issued = Counter(r[0] for r in store.conn.execute("SELECT seq FROM p_receipts"))
    if jobs != issued:
        problems.append(f"print jobs and receipt events out of step: {sorted((jobs - issued) + (issued - jobs))[:10]}")
    return problems


@pytest.mark.slow
def test_sigkill_loses_nothing_acknowledged_and_leaves_nothing_half_done(tmp_path: Path) -> None:
    rounds = int(os.environ.get("MUSO_CRASH_ROUNDS", "200"))
    per_file = int(os.environ.get("MUSO_CRASH_ROUNDS_PER_FILE", "25"))
    seed = int(os.environ.get("MUSO_CRASH_SEED", random.randrange(2**32)))
    rng = random.Random(seed)
    where = f"(MUSO_CRASH_SEED={seed})"

    # The group is made once, with the real services, and kept as a template file.
    template, path = tmp_path / "template.db", tmp_path / "kiosk.db"
    with Kiosk.open(template) as k:
        g = make_group(k, N_MEMBERS)
        members = [m["member_id"] for m in [*g.officers.values(), *g.members]]
        statuses = ["present", "present", "late", "absent", "present", "excused", "represented"]
        attendance: dict[str, object] = {}
        paying = []
        for i, m in enumerate(members):
            status = statuses[i % len(statuses)]
            attendance[m] = [status, "Afi (sa sœur)"] if status == "represented" else status
            if status in ("present", "late", "represented"):
                paying.append(m)
        assert [o["role"] for o in G.officers(k, g.group_id)] == list(PINS)
        template_head = k.store.head()[0]
    cfg = {
        "path": str(path),
        "group": g.group_id,
        "president": g.officers["president"]["member_id"],
        "controleur": g.officers["controleur"]["member_id"],
        "secretary": g.officers["secretaire"]["member_id"],
        "treasurer": g.treasurer,
        "pins": PINS,
        "attendance": attendance,
        "paying": paying,
    }

    stats: Counter[str] = Counter()
    max_delay = MAX_DELAY_S
    writers = Writers(cfg, seed)
    started = time.monotonic()
    exp = Expected(head=template_head)
    try:
        for rnd in range(rounds):
            if rnd % per_file == 0:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
                shutil.copyfile(template, path)  # closed cleanly: checkpointed, no -wal to carry
                exp = Expected(head=template_head)
                per_movement = (rnd // per_file) % 2 == 1
                if per_movement:
                    with Store(path) as store:
                        store.set_setting("receipt_mode", "movement")
            proc = writers.next()
            before = exp.head
            lines, err, code = _run_and_kill(proc, rng.uniform(0.0, max_delay))
            assert code == -signal.SIGKILL, f"round {rnd}: writer exited by itself ({code}) {where}\n{err}"
            try:
                store = Store(path)
            except Exception as exc:
                pytest.fail(f"round {rnd}: database does not open after SIGKILL: {exc!r} {where}")
            try:
                problems = _check(store, Kiosk(store), cfg, lines, exp, stats, per_movement)
            finally:
                store.close()
            assert not problems, f"round {rnd} {where}:\n" + "\n".join(problems) + f"\nwriter said: {lines[-5:]}"
            stats["journal events (max)"] = max(stats["journal events (max)"], exp.head)
            # On a slow or busy machine a use case may take longer than the usual window: after a
            # round that committed nothing, wait longer, so that the writers still get somewhere.
            stats["rounds with a longer window"] += max_delay > MAX_DELAY_S
            max_delay = MAX_DELAY_S if exp.head > before else min(2.0, 2 * max_delay)
    finally:
        writers.close()
    elapsed = time.monotonic() - started
    print(
        f"\ncrash test {where}: {rounds} kills in {elapsed:.1f}s; " + ", ".join(f"{k}: {v}" for k, v in stats.items())
    )

    # The kills must have hit something: acknowledged work, and use cases cut mid-way.
    assert stats["acknowledged use cases"] >= rounds // 2, stats
    assert stats["batches recorded"] > 0, stats
    if rounds >= 100:
        cut = sum(v for key, v in stats.items() if key.startswith("killed in "))
        cut_batches = sum(v for key, v in stats.items() if key.startswith(("killed in S", "killed in A")))
        assert cut > rounds // 4 and cut_batches > 0, stats
