"""The console's overview and group pages on a big network: p50/p95 latency against a trivial page.

    .venv/bin/python benchmarks/bench_console.py [--groups 2000] [--years 5] [--samples 60]
                                                 [--pg URL] [--no-sqlite] [--journal]

Builds 2,000 groups × 5 years of weekly meetings (25 members each) by *bulk-inserting the rows the
reducer would have produced* for those meetings — groups, members, accounts, loans, meetings, one
attendance row per member and meeting, one transaction per contribution, loan and repayment — plus
the console's rollups, exactly as ingest would have kept them. At full scale that is ~13 M attendance
rows and ~27 M transactions (tens of millions of events' worth); ``--journal`` adds one journal row
per event too (~40 M more rows: hours on this machine, and no console page reads it). Each
transaction's postings are generated too (~55 M rows): a member's page reads their savings lines.
Replaying this through the real ingest would take days here
(bench_sync_ingest measures that path: thousands of events per second).

Then it starts ``muso-server serve`` (one worker, real uvicorn over loopback), logs in as an admin
(everything in scope: the largest queries) and measures, sequentially:

- baseline: ``GET /healthz`` — routing and JSON only, no database work worth the name;
- ``GET /`` — the overview over every group (figures, PAR > 30 d, charts, groups to follow);
- ``GET /groups/{kiosk}/{group}`` — a random group's page;
- ``GET /groups`` and a member's statement, for information.

Goal: p95 ≤ 300 ms for the overview and the group page, on SQLite and on PostgreSQL
(``--pg`` or ``MUSO_TEST_DATABASE_URL``; the benchmark uses a schema of its own and drops it).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from sqlalchemy import create_engine, text  # noqa: E402
from test_sync_support import LiveServer  # noqa: E402

from kiosk.domain.projections import TABLES  # noqa: E402
from sync_server import accounts  # noqa: E402
from sync_server.db import ROLLUP_FIELDS, make_engine  # noqa: E402
from sync_server.migrate import upgrade  # noqa: E402

MEMBERS = 25
LOAN_EVERY = 2  # weeks: a new loan every other meeting
TERM = 3  # months
PASSWORD = "benchmark password"
NAMES = ["Afi", "Kossi", "Ɖɔvi", "Yawo", "Akossiwa", "Sèna", "Koffi", "Ayaba", "Edem", "Mawuéna", "Kɔmi", "Ablavi"]


def cols(table: str) -> list[str]:
    return ["kiosk_id", *[c for c, _ in TABLES[table].columns]]


def blank(table: str) -> dict[str, Any]:
    return dict.fromkeys(cols(table))


class Gen:
    """Rows for one group, week by week, with the rollups ingest would have kept for them."""

    def __init__(self, g: int, weeks: int, end: date, journal: bool) -> None:
        self.g, self.weeks, self.journal = g, weeks, journal
        self.kiosk = f"K{g // 4:04d}"
        self.gid = f"{g:08x}-0000-4000-8000-{g:012x}"
        self.first = end - timedelta(weeks=weeks - 1) + timedelta(days=g % 5)
        self.rnd = random.Random(g)
        self.defaulter = g % 10 == 0  # one group in ten stops repaying its last loans

    def member_id(self, i: int) -> str:
        return f"{self.g:08x}-{i:04x}-4000-8000-{i:012x}"

    def legs(self, txn: str, *legs: tuple[str, int]) -> Iterator[tuple[str, tuple[Any, ...]]]:
        """A transaction's postings, as the ledger writes them (balanced, one row per leg)."""
        for leg, (account, amount) in enumerate(legs):
            yield "postings", (self.kiosk, txn, leg, self.gid, account, amount)

    def rows(self) -> Iterator[tuple[str, tuple[Any, ...]]]:
        rnd, g, k, gid = self.rnd, self.g, self.kiosk, self.gid
        months: dict[str, dict[str, int]] = {}

        def month(d: date) -> dict[str, int]:
            return months.setdefault(d.isoformat()[:7], dict.fromkeys(ROLLUP_FIELDS, 0))

        country = "TG" if g % 3 else "BJ"
        women = [rnd.random() < 0.6 for _ in range(MEMBERS)]
        yield "groups", (k, gid, f"MUSO {NAMES[g % len(NAMES)]} {g}", country, f"Coopérative {g % 40}",
                         f"Village {g % 300}", 1, 1, MEMBERS, self.weeks, None,
                         (self.first + timedelta(weeks=self.weeks - 1)).isoformat())  # fmt: skip
        for i in range(MEMBERS):
            role = ("president", "secretaire", "tresorier", "controleur")[i] if i < 4 else "membre"
            yield "members", (k, self.member_id(i), gid, i + 1, f"{NAMES[i % len(NAMES)]} {g}-{i}",
                              "F" if women[i] else "M", "", role, self.first.isoformat(), None, 1, 0, 0)  # fmt: skip
        m0 = month(self.first)
        m0["members"], m0["women"] = MEMBERS, sum(women)
        savings = [0] * MEMBERS
        cash = {"verte": 0, "rouge": 0}
        loans: list[dict[str, Any]] = []
        seq = 0
        for w in range(self.weeks):
            day = self.first + timedelta(weeks=w)
            mid = f"{g:08x}-{w:04x}-4000-9000-{w:012x}"
            mm = month(day)
            mm["meetings"] += 1
            yield "meetings", (k, mid, gid, w + 1, day.isoformat(), "closed", seq + 1, seq + 60, "[]", "[]",
                               '{"bleue":{},"rouge":{},"verte":{}}', '{"bleue":{},"rouge":{},"verte":{}}',
                               '{"bleue":0,"rouge":0,"verte":0}', '{"bleue":0,"rouge":0,"verte":0}')  # fmt: skip
            for i in range(MEMBERS):
                r = rnd.random()
                status = "present" if r < 0.9 else "late" if r < 0.94 else "absent"
                yield "attendance", (k, mid, self.member_id(i), gid, status, None)
                mm["slots"] += 1
                if status == "absent":
                    continue
                mm["attended"] += 1
                for fund, amount in (("verte", 1000), ("rouge", 200)):
                    seq += 1
                    txn = f"{mid}-{i:02d}{fund[0]}"
                    yield "transactions", (k, txn, gid, mid, seq, "contribution",
                                           self.member_id(i), fund, amount, None, None, None, None, "{}",
                                           self.member_id(2), None, 2)  # fmt: skip
                    other = f"verte:savings:{self.member_id(i)}" if fund == "verte" else f"{fund}:contributions"
                    yield from self.legs(txn, (f"{fund}:cash", amount), (other, -amount))
                    cash[fund] += amount
                savings[i] += 1000
                mm["savings"] += 1000
                mm["cash_verte"] += 1000
                mm["cash_rouge"] += 200
            # repayments: monthly installments of the loans still running
            late = self.defaulter and w > self.weeks - 14
            for loan in loans:
                if loan["principal_paid"] >= loan["principal"] or late:
                    continue
                if (day - loan["start"]).days >= 28 * (loan["paid_parts"] + 1):
                    part = loan["principal"] // TERM
                    loan["principal_paid"] += part
                    loan["paid_parts"] += 1
                    seq += 1
                    yield "transactions", (k, f"{loan['id']}-r{loan['paid_parts']}", gid, mid, seq, "repayment",
                                           loan["member"], "verte", part + 600, loan["id"], None, None, None,
                                           json.dumps({"principal": part, "paf": 600, "penalty": 0}),
                                           self.member_id(2), None, 3)  # fmt: skip
                    yield from self.legs(
                        f"{loan['id']}-r{loan['paid_parts']}",
                        ("verte:cash", part + 600),
                        (f"verte:loan:{loan['id']}", -part),
                        ("verte:paf", -600),
                    )
                    mm["loans"] -= part
                    mm["income"] += 600
                    mm["cash_verte"] += part + 600
                    if loan["principal_paid"] >= loan["principal"]:
                        mm["loans_active"] -= 1
            if w % LOAN_EVERY == 0 and w >= 4:
                i = 4 + (w // LOAN_EVERY) % (MEMBERS - 4)
                loan_id = f"{g:08x}-{w:04x}-4000-a000-{w:012x}"
                seq += 1
                loans.append({"id": loan_id, "member": self.member_id(i), "principal": 30_000, "principal_paid": 0,
                              "paid_parts": 0, "start": day, "mid": mid, "txn": f"{loan_id}-d"})  # fmt: skip
                yield "transactions", (k, f"{loan_id}-d", gid, mid, seq, "loan", self.member_id(i), "verte", 30_000,
                                       loan_id, None, None, None, "{}", self.member_id(2),
                                       json.dumps([self.member_id(0), self.member_id(3)]), 2)  # fmt: skip
                yield from self.legs(f"{loan_id}-d", (f"verte:loan:{loan_id}", 30_000), ("verte:cash", -30_000))
                mm["loans"] += 30_000
                mm["loans_active"] += 1
                mm["cash_verte"] -= 30_000
            seq += MEMBERS + 4  # attendance, receipts and the opening/closing events of the meeting
        for loan in loans:
            done = loan["principal_paid"] >= loan["principal"]
            yield "loans", (k, loan["id"], gid, loan["member"], "verte", "loan", loan["principal"], "flat", 200,
                            TERM, 5, 100, loan["start"].isoformat(), loan["mid"], loan["txn"], 1800,
                            600 * loan["paid_parts"], loan["principal_paid"], 0, 0, None, None,
                            "repaid" if done else "active", None)  # fmt: skip
            yield "accounts", (k, gid, f"verte:loan:{loan['id']}", "verte", loan["principal"] - loan["principal_paid"])
        for i in range(MEMBERS):
            yield "accounts", (k, gid, f"verte:savings:{self.member_id(i)}", "verte", -savings[i])
        totals = dict.fromkeys(ROLLUP_FIELDS, 0)
        for mo, v in months.items():
            yield "console_months", (k, gid, mo, *[v[f] for f in ROLLUP_FIELDS])
            for f in ROLLUP_FIELDS:
                totals[f] += v[f]
        yield "accounts", (k, gid, "verte:cash", "verte", totals["cash_verte"])
        yield "accounts", (k, gid, "rouge:cash", "rouge", totals["cash_rouge"])
        yield "accounts", (k, gid, "bleue:cash", "bleue", 0)
        yield "accounts", (k, gid, "verte:paf", "verte", -totals["income"])
        yield "console_totals", (k, gid, *[totals[f] for f in ROLLUP_FIELDS])
        if self.journal:
            for s in range(1, seq + 1):
                yield "journal", (k, s, "movement_recorded", '{"b":1}', 0, "boot", s, f"{s:064x}", "applied", None,
                                  1, None, 0)  # fmt: skip


TARGET = {
    "groups": ("p_groups", cols("groups")),
    "members": ("p_members", cols("members")),
    "meetings": ("p_meetings", cols("meetings")),
    "attendance": ("p_attendance", cols("attendance")),
    "transactions": ("p_transactions", cols("transactions")),
    "postings": ("p_postings", cols("postings")),
    "loans": ("p_loans", cols("loans")),
    "accounts": ("p_accounts", cols("accounts")),
    "console_months": ("console_months", ["kiosk_id", "group_id", "month", *ROLLUP_FIELDS]),
    "console_totals": ("console_totals", ["kiosk_id", "group_id", *ROLLUP_FIELDS]),
    "journal": ("journal", ["kiosk_id", "seq", "type", "body", "device_time", "boot_id", "mono_ms", "hash",
                            "status", "reason", "batch_id", "est_time", "received_at"]),
}  # fmt: skip


def build(url: str, groups: int, years: int, journal: bool) -> dict[str, int]:
    upgrade(url)
    end = date.today() - timedelta(days=3)
    weeks = years * 52
    counts = dict.fromkeys(TARGET, 0)
    engine = make_engine(url, pool=False)
    now = int(time.time() * 1000)
    kiosk_rows = [
        {"kiosk_id": f"K{k:04d}", "name": f"Kiosque {k}", "status": "active", "acked_seq": 1, "head": "0" * 64,
         "quarantined": 0, "created_at": now, "last_seen_at": now - (k % 20) * 86_400_000,
         "last_push_at": now - (k % 20) * 86_400_000}
        for k in range((groups + 3) // 4)
    ]  # fmt: skip
    with engine.begin() as conn:
        from sync_server.db import kiosks

        conn.execute(kiosks.insert(), kiosk_rows)
    raw = engine.raw_connection()
    try:
        if url.startswith("sqlite"):
            _load_sqlite(raw, groups, weeks, end, journal, counts)
        else:
            _load_pg(raw, groups, weeks, end, journal, counts)
    finally:
        raw.close()
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    accounts.create_user(make_engine(url), "bench", PASSWORD, "admin")
    return counts


def _load_sqlite(raw: Any, groups: int, weeks: int, end: date, journal: bool, counts: dict[str, int]) -> None:
    cur = raw.cursor()
    cur.execute("PRAGMA synchronous=OFF")  # a bulk load that can be redone: durability is not the point here
    sql = {
        t: f"INSERT INTO {name} ({', '.join(c)}) VALUES ({', '.join('?' * len(c))})" for t, (name, c) in TARGET.items()
    }
    batch: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TARGET}
    cur.execute("BEGIN")
    for g in range(groups):
        for table, row in Gen(g, weeks, end, journal).rows():
            batch[table].append(row)
        if g % 20 == 19 or g == groups - 1:
            for table, rows in batch.items():
                if rows:
                    cur.executemany(sql[table], rows)
                    counts[table] += len(rows)
                    rows.clear()
            if g % 200 == 199:
                cur.execute("COMMIT")
                cur.execute("BEGIN")
                print(f"  {g + 1} groups", file=sys.stderr)
    cur.execute("COMMIT")
    cur.execute("PRAGMA synchronous=FULL")


def _load_pg(raw: Any, groups: int, weeks: int, end: date, journal: bool, counts: dict[str, int]) -> None:
    cur = raw.cursor()
    for g0 in range(0, groups, 100):
        buffers: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TARGET}
        for g in range(g0, min(groups, g0 + 100)):
            for table, row in Gen(g, weeks, end, journal).rows():
                buffers[table].append(row)
        for table, rows in buffers.items():
            if not rows:
                continue
            name, columns = TARGET[table]
            with cur.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            counts[table] += len(rows)
        raw.commit()
        print(f"  {min(groups, g0 + 100)} groups", file=sys.stderr)


def measure(base: str, samples: int, groups: int) -> dict[str, list[float]]:
    client = httpx.Client(base_url=base, timeout=60)
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]  # type: ignore[index]
    client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf": csrf, "next": "/"})
    rnd = random.Random(1)
    keys = [(f"K{g // 4:04d}", f"{g:08x}-0000-4000-8000-{g:012x}") for g in range(groups)]
    urls = {
        "baseline /healthz": lambda: "/healthz",
        "overview /": lambda: "/",
        "group page": lambda: "/groups/{}/{}".format(*rnd.choice(keys)),
        "groups list": lambda: f"/groups?page={rnd.randint(1, max(1, groups // 50))}",
        "member statement": lambda: "/groups/{}/{}/members/{}".format(
            *(k := rnd.choice(keys)), k[1][:8] + "-0005-4000-8000-000000000005"
        ),
    }
    out: dict[str, list[float]] = {}
    sizes: dict[str, int] = {}
    for name, make in urls.items():
        for _ in range(3):  # warm-up: caches and the first query plans
            client.get(make())
        times = []
        for _ in range(samples):
            url = make()
            t0 = time.perf_counter()
            resp = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            assert resp.status_code == 200, (url, resp.status_code, resp.text[:300])
            sizes[name] = max(sizes.get(name, 0), len(resp.content))
        out[name] = times
    for name, size in sizes.items():
        print(f"    {name}: largest answer {size / 1024:.0f} KB")
    return out


def report(label: str, results: dict[str, list[float]]) -> None:
    base = statistics.median(results["baseline /healthz"])
    print(f"\n{label}")
    print(f"  {'page':<22} {'p50 ms':>8} {'p95 ms':>8} {'p50 / baseline':>15}")
    for name, times in results.items():
        p50 = statistics.median(times)
        p95 = statistics.quantiles(times, n=20, method="inclusive")[18]
        goal = (
            " (goal p95 ≤ 300 ms: " + ("met" if p95 <= 300 else "MISSED") + ")"
            if name in ("overview /", "group page")
            else ""
        )
        print(f"  {name:<22} {p50:8.1f} {p95:8.1f} {p50 / base:14.1f}×{goal}")


def run(label: str, url: str, args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    counts = build(url, args.groups, args.years, args.journal)
    print(
        f"{label}: built in {time.perf_counter() - t0:.0f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items() if v)
    )
    with LiveServer(url, {}) as live:
        report(
            f"{label} — {args.groups} groups × {args.years} years, {args.samples} samples",
            measure(live.base, args.samples, args.groups),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--pg", default=os.environ.get("MUSO_TEST_DATABASE_URL"))
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--journal", action="store_true", help="also one journal row per event (slow, unread)")
    parser.add_argument("--dir", default=None, help="where the SQLite file goes (default: a temporary folder)")
    args = parser.parse_args()
    if not args.no_sqlite:
        folder = Path(args.dir or tempfile.mkdtemp(prefix="bench-console-"))
        path = folder / "console.db"
        path.unlink(missing_ok=True)
        run("SQLite", f"sqlite:///{path}", args)
        path.unlink(missing_ok=True)
    if args.pg:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        sep = "&" if "?" in args.pg else "?"
        try:
            run("PostgreSQL", f"{args.pg}{sep}options=-csearch_path%3D{schema}", args)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    _ = io


if __name__ == "__main__":
    main()
