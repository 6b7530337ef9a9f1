"""How long does recording one contribution take, and does it grow with the journal?

Measures, in one run and on the same disk:

* **service**: ``kiosk.services.movements.contribution`` on a real kiosk database, each
  call its own transaction (append + reducer + projections, WAL, ``synchronous=FULL``);
* **bare**: one ``INSERT`` of one row in its own transaction into a table of a scratch
  database opened with the same pragmas (``kiosk.store.database.connect``), holding as
  many rows as the journal has events.

both at ~1,000 journal events and at ``--events`` (default 1,000,000). Both journals are
built first (the 1k one kept as a snapshot taken with the backup API), then the four
series are sampled round-robin, one sample of each in turn, so that whatever else the
machine is doing hits all four alike. Besides wall-clock latency, the CPU time of the
calling process is reported: it excludes waiting for the disk and other processes, so
it shows how the Python/SQLite work itself grows with the journal even on a busy machine.

The large journal is not built through the services (a million fsyncs would take hours)
but through the real ``Writer`` inside big transactions: the same event bodies the
services write, chained, reduced and projected exactly as in production, only committed
10,000 events at a time. Many groups of 34 members holding weekly meetings (open,
attendance, the standard contributions, some fines, close with its receipts and print
jobs via the real ``issue_meeting_receipts``) so that every projection table and the
print queue grow as they would on a busy kiosk.

Goals: service ≤ 3 × bare at each size; cost at the large size ≤ 1.5 × cost at 1k.

    .venv/bin/python benchmarks/bench_ledger.py [--events N] [--samples S] [--dir DIR] [--profile]
    .venv/bin/python benchmarks/bench_ledger.py --dir DIR --reuse   # measure again, no rebuild

Exits 0 whatever the verdicts: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from kiosk.domain.funds import Fund, count_for
from kiosk.services import Approval, Kiosk
from kiosk.services import groups as G
from kiosk.services import meetings as M
from kiosk.services import movements as MV
from kiosk.services.receipts import issue_meeting_receipts
from kiosk.store.backup import backup
from kiosk.store.database import Writer, connect

SMALL = 1_000
BUILD_BATCH = 10_000  # events per transaction while building
WARMUP = 20
SERVICE_GOAL, GROWTH_GOAL = 3.0, 1.5
ROLES = {"president": "2580", "secretaire": "1397", "tresorier": "4826", "controleur": "3691"}
MEMBERS_PER_GROUP = 30  # plus the four officers
GROUPS_PER_MILLION = 50
DEFAULT_RULES: dict[str, Any] = {}

Step = Callable[[Writer], None]


def new_id() -> str:
    return str(uuid.uuid4())


# -- building a big journal honestly and fast ------------------------------------------------


class JournalBuilder:
    """An endless supply of realistic events, one ``Step`` (one ``append``, or a closing) at a time.

    The bodies are those the services write (see kiosk/services); the Writer chains,
    reduces and projects each one, so a body the reducer refuses would stop the build.
    """

    def __init__(self, k: Kiosk, n_groups: int, seed: int = 1) -> None:
        self.k = k
        self.n_groups = max(1, n_groups)
        self.rng = random.Random(seed)
        self.steps = self._steps()

    def _steps(self) -> Iterator[Step]:
        groups: list[dict[str, Any]] = []
        for gi in range(self.n_groups):
            group_id = new_id()
            yield self._append(
                "group_created",
                {
                    "group": group_id,
                    "name": f"MUSO Banc {gi + 1}",
                    "country": "TG",
                    "cooperative": "",
                    "village": f"Village {gi + 1}",
                    "rules": _rules(),
                },
            )
            members = []
            for n in range(1, len(ROLES) + MEMBERS_PER_GROUP + 1):
                member_id = new_id()
                role = list(ROLES)[n - 1] if n <= len(ROLES) else "membre"
                yield self._append(
                    "member_added",
                    {
                        "group": group_id,
                        "member": member_id,
                        "number": n,
                        "name": f"Membre {gi + 1}-{n}",
                        "sex": "F" if n % 2 else "M",
                        "phone": "",
                        "role": role,
                        "joined": "2026-01-01",
                    },
                )
                members.append(member_id)
            groups.append({"id": group_id, "members": members, "meetings": 0})
            # Interleaved: groups already there hold meetings while the next ones join.
            yield from self._meeting(groups[self.rng.randrange(len(groups))])
        while True:
            for group in groups:
                yield from self._meeting(group)

    def _meeting(self, group: dict[str, Any]) -> Iterator[Step]:
        group["meetings"] += 1
        gid, members = group["id"], group["members"]
        officers, treasurer = members[0:4:3], members[2]  # president + controleur approve
        meeting = new_id()
        day = (date(2026, 1, 5) + timedelta(weeks=group["meetings"])).isoformat()
        number = group["meetings"]

        def open_(w: Writer) -> None:
            w.append(
                "meeting_opened",
                {
                    "group": gid,
                    "meeting": meeting,
                    "number": number,
                    "date": day,
                    "officers": officers,
                    "count": _counts(w, gid),
                },
            )
            w.execute("INSERT OR REPLACE INTO meeting_progress VALUES (?, ?)", (meeting, "attendance"))

        yield open_
        statuses = {}
        for m in members:
            roll = self.rng.random()
            statuses[m] = "absent" if roll < 0.06 else "late" if roll < 0.12 else "present"
            yield self._append("attendance_recorded", {"meeting": meeting, "member": m, "status": statuses[m]})
        for m in members:
            if statuses[m] == "absent":
                body = {"member": m, "fund": "rouge", "amount": 500, "fine": "absence"}
                yield self._movement(meeting, treasurer, "fine", body)
                continue
            yield self._movement(meeting, treasurer, "contribution", {"member": m, "fund": "verte", "amount": 1000})
            yield self._movement(meeting, treasurer, "contribution", {"member": m, "fund": "rouge", "amount": 200})

        def close(w: Writer) -> None:  # as services.meetings.close_meeting, without the PIN checks
            w.append("meeting_closed", {"meeting": meeting, "officers": officers, "count": _counts(w, gid)})
            issue_meeting_receipts(self.k, w, meeting)
            w.execute("INSERT OR REPLACE INTO meeting_progress VALUES (?, ?)", (meeting, "receipts"))

        yield close

    def _movement(self, meeting: str, by: str, kind: str, fields: dict[str, Any]) -> Step:
        return self._append(
            "movement_recorded", {"txn": new_id(), "meeting": meeting, "kind": kind, "by": by, **fields}
        )

    @staticmethod
    def _append(type_: str, body: dict[str, Any]) -> Step:
        return lambda w: w.append(type_, body)

    def fill(self, target: int) -> tuple[int, float]:
        """Append events until the journal holds ``target`` (a closing may go a little past it).

        Returns (events added, seconds).
        """
        start, began = self.k.store.head()[0], time.perf_counter()
        head = start
        while head < target:
            with self.k.store.write() as w:
                while len(w.appended) < min(BUILD_BATCH, target - head):
                    next(self.steps)(w)
                head = w.appended[-1].seq
            if sys.stderr.isatty():
                print(f"\r  building: {head:,} events", end="", file=sys.stderr, flush=True)
        if sys.stderr.isatty():
            print(file=sys.stderr)
        return head - start, time.perf_counter() - began


def _rules() -> dict[str, Any]:
    from kiosk.domain.rules import Rules

    return Rules.from_dict(DEFAULT_RULES).to_dict()


def _counts(w: Writer, group_id: str) -> dict[str, dict[str, int]]:
    out = {}
    for fund in Fund:
        row = w.view.get("accounts", (group_id, f"{fund.value}:cash"))
        out[fund.value] = count_for(row["balance"] if row else 0)
    return out


# -- the two things measured ---------------------------------------------------------------

PAYLOAD = "x" * 200  # about the size of a contribution event's body


def setup_measured_group(k: Kiosk) -> None:
    """The group whose open meeting is measured: made through the services, PINs and all."""
    group = G.create_group(k, "MUSO Mesure", village="Bolou")
    officers = {
        role: G.add_member(k, group, f"Officier {role}", "F", joined=date(2026, 1, 1), role=role, pin=pin)
        for role, pin in ROLES.items()
    }
    members = [
        G.add_member(k, group, f"Membre {i}", "MF"[i % 2], joined=date(2026, 1, 1))["member_id"]
        for i in range(MEMBERS_PER_GROUP)
    ]
    counts = {f: count_for(a) for f, a in M.expected_cash(k, group).items()}
    approvals = [Approval(officers[r]["member_id"], ROLES[r]) for r in ("president", "controleur")]
    meeting = M.open_meeting(k, group, date(2026, 1, 5), counts, approvals)
    everyone = [o["member_id"] for o in officers.values()] + members
    M.record_attendance(k, meeting, dict.fromkeys(everyone, "present"))
    ids = {"meeting": meeting, "treasurer": officers["tresorier"]["member_id"], "members": members}
    k.store.set_setting("bench", json.dumps(ids))  # a local setting, never in the journal


def build_bare(path: Path, rows: int) -> None:
    conn = connect(path)
    conn.execute("CREATE TABLE bare (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO bare (body) VALUES (?)", ((PAYLOAD,) for _ in range(rows)))
    conn.execute("COMMIT")
    conn.close()


class Service:
    """``movements.contribution`` in the measured group's open meeting."""

    def __init__(self, path: Path, seed: int) -> None:
        self.k = Kiosk.open(path)
        ids = json.loads(self.k.store.setting("bench") or "{}")
        self.meeting, self.treasurer, self.members = ids["meeting"], ids["treasurer"], ids["members"]
        self.rng = random.Random(seed)
        self.events = self.k.store.head()[0]
        self.conn = self.k.store.conn

    def once(self) -> None:
        member, amount = self.rng.choice(self.members), 5 * self.rng.randint(20, 400)
        MV.contribution(self.k, self.meeting, self.treasurer, member, "verte", amount)

    def close(self) -> None:
        self.k.close()


class Bare:
    """One INSERT of one row, its own transaction, same pragmas as the kiosk."""

    def __init__(self, path: Path) -> None:
        self.conn = connect(path)
        self.rows = self.conn.execute("SELECT MAX(id) FROM bare").fetchone()[0]

    def once(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("INSERT INTO bare (body) VALUES (?)", (PAYLOAD,))
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


def measure(series: dict[str, Service | Bare], samples: int) -> dict[str, dict[str, list[float]]]:
    """Round-robin over the series, one sample each in turn, rotating who goes first."""
    for s in series.values():  # start from a checkpointed WAL, as a kiosk that has been idle
        s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for _ in range(WARMUP):
        for s in series.values():
            s.once()
    out: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in series}
    names = list(series)
    for i in range(samples):
        for j in range(len(names)):
            name = names[(i + j) % len(names)]
            w0, c0 = time.perf_counter_ns(), time.process_time_ns()
            series[name].once()
            c1, w1 = time.process_time_ns(), time.perf_counter_ns()
            out[name]["wall"].append((w1 - w0) / 1000)
            out[name]["cpu"].append((c1 - c0) / 1000)
    return out


def profile(service: Service, samples: int, top: int = 25) -> str:
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(samples):
        service.once()
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(top)
    out.write("\n--- by own time ---\n")
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def build(workdir: Path, events: int) -> None:
    for name in ("kiosk.db", "small.db", "bare-small.db", "bare-large.db"):
        for suffix in ("", "-wal", "-shm"):
            (workdir / f"{name}{suffix}").unlink(missing_ok=True)
    with Kiosk.open(workdir / "kiosk.db") as k:
        setup_measured_group(k)
        builder = JournalBuilder(k, max(1, round(GROUPS_PER_MILLION * events / 1_000_000)))
        for target in (SMALL, events):
            added, secs = builder.fill(target)
            rate = added / secs if secs else 0.0
            head = k.store.head()[0]
            print(f"journal built to {head:,} events: +{added:,} in {secs:.1f}s ({rate:,.0f} events/s via Writer)")
            if target == SMALL:
                backup(k.store, workdir / "small.db")
                build_bare(workdir / "bare-small.db", head)
        build_bare(workdir / "bare-large.db", k.store.head()[0])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--events", type=int, default=1_000_000, help="journal size for the large measurement")
    ap.add_argument("--samples", type=int, default=300, help="samples of each operation at each size")
    ap.add_argument("--dir", type=Path, help="scratch directory (kept); default: a temp dir, deleted after")
    ap.add_argument("--reuse", action="store_true", help="measure the journals already built in --dir")
    ap.add_argument("--profile", action="store_true", help="cProfile extra service samples at each size")
    args = ap.parse_args(argv)
    if args.events <= SMALL:
        ap.error(f"--events must be above {SMALL}")
    if args.reuse and not (args.dir and (args.dir / "kiosk.db").exists()):
        ap.error("--reuse needs a --dir where a previous run built the journals")

    workdir = args.dir or Path(tempfile.mkdtemp(prefix="bench-ledger-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"scratch: {workdir}  (SQLite {__import__('sqlite3').sqlite_version}, Python {sys.version.split()[0]})")
    series: dict[str, Service | Bare] = {}
    profiles: dict[str, str] = {}
    try:
        if not args.reuse:
            build(workdir, args.events)
        # The 1k journal is measured on a fresh copy, so that every run starts from the same state.
        shutil.copyfile(workdir / "small.db", workdir / "small-run.db")
        for suffix in ("-wal", "-shm"):
            (workdir / f"small-run.db{suffix}").unlink(missing_ok=True)
        series = {
            "service small": Service(workdir / "small-run.db", 2),
            "bare small": Bare(workdir / "bare-small.db"),
            "service large": Service(workdir / "kiosk.db", 3),
            "bare large": Bare(workdir / "bare-large.db"),
        }
        sizes = {"small": series["service small"].events, "large": series["service large"].events}
        load0 = os.getloadavg()
        began = time.perf_counter()
        results = measure(series, args.samples)
        took, load1 = time.perf_counter() - began, os.getloadavg()
        if args.profile:
            for size in ("small", "large"):
                service = series[f"service {size}"]
                assert isinstance(service, Service)
                profiles[size] = profile(service, max(50, args.samples // 3))
        db_mb = sum(f.stat().st_size for f in workdir.glob("kiosk.db*")) / 1e6
    finally:
        for s in series.values():
            s.close()
        if args.dir is None:
            shutil.rmtree(workdir, ignore_errors=True)

    def med(name: str, kind: str = "wall") -> float:
        return statistics.median(results[name][kind])

    print(
        f"\n{args.samples} samples of each series in {took:.1f}s; load average {load0[0]:.2f} before, "
        f"{load1[0]:.2f} after ({os.cpu_count()} CPUs); kiosk.db {db_mb:,.0f} MB"
    )
    if max(load0[0], load1[0]) > 0.5 * (os.cpu_count() or 1):
        print("WARNING: the machine was busy with other work; wall-clock figures are noisy, see the CPU columns")
    print("\nlatency in µs (wall clock: median, p95; CPU time of this process: median)\n")
    cols = ("journal events", "service med", "service p95", "bare med", "bare p95", "ratio", "service CPU", "bare CPU")
    widths = (14, 11, 11, 9, 9, 6, 11, 9)
    print(" | ".join(f"{c:>{w}}" for c, w in zip(cols, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for size in ("small", "large"):
        sv, bv = f"service {size}", f"bare {size}"
        cells = (
            f"{sizes[size]:,}",
            f"{med(sv):,.0f}",
            f"{pct(results[sv]['wall'], 95):,.0f}",
            f"{med(bv):,.0f}",
            f"{pct(results[bv]['wall'], 95):,.0f}",
            f"{med(sv) / med(bv):.2f}×",
            f"{med(sv, 'cpu'):,.0f}",
            f"{med(bv, 'cpu'):,.0f}",
        )
        print(" | ".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True)))
    growth = med("service large") / med("service small")
    cpu_growth = med("service large", "cpu") / med("service small", "cpu")
    bare_growth = med("bare large") / med("bare small")
    print(
        f"\ngrowth {sizes['small']:,} → {sizes['large']:,} events: service {growth:.2f}× "
        f"(CPU {cpu_growth:.2f}×), bare {bare_growth:.2f}×"
    )
    print("\nverdicts:")
    for size in ("small", "large"):
        ratio = med(f"service {size}") / med(f"bare {size}")
        verdict = "PASS" if ratio <= SERVICE_GOAL else "MISS"
        print(f"  service/bare at {sizes[size]:>9,} events: {ratio:5.2f}×  (goal ≤ {SERVICE_GOAL}×)  {verdict}")
    verdict = "PASS" if growth <= GROWTH_GOAL else "MISS"
    print(f"  service cost large / small journal:   {growth:5.2f}×  (goal ≤ {GROWTH_GOAL}×)  {verdict}")
    print(f"  (same, CPU time only:                 {cpu_growth:5.2f}×)")
    for size, text in profiles.items():
        print(f"\n=== cProfile, service contribution at {sizes[size]:,} events ===\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
