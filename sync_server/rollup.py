"""Rollups for the console: per group and month, how each figure changed; per group, the running total.

The overview must answer for thousands of groups in a fraction of a second,
and charts need history (savings a year ago), which the projections do not
keep: they hold only the current state. Summing postings or transactions
would mean reading tens of millions of rows. So ingest, which already runs the
reducer event by event, also notes what each event changed — the difference
between the rows before and after — and adds it to ``console_months`` (keyed
by the month of the meeting the event belongs to) and ``console_totals``, in
the same transaction as the events. A figure at the end of month M is then
the total minus the changes after M.

It is derived data, like the projections: ``rebuild`` recomputes it from the
journal (``muso-server rebuild-rollups``; ``migrate`` runs it once when the
tables are new), replaying the applied events through the same reducer.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection, Engine, delete, select

from kiosk.domain.events import Event
from kiosk.domain.postings import kind_of
from kiosk.domain.projections import Changes, Key, MemoryView, Row
from kiosk.domain.reducer import apply

from .db import (
    EVENT_COLUMNS,
    ROLLUP_FIELDS,
    console_months,
    console_totals,
    journal,
    lock_kiosk,
    read,
    write,
)
from .db import kiosks as kiosks_table
from .driver import bulk_upsert

# Income of the caisse verte (credit accounts; expenses is a debit account and counts against).
INCOME_ACCOUNTS = frozenset({"verte:paf", "verte:penalties", "verte:fines", "verte:entry_fees", "verte:expenses"})
ATTENDED = frozenset({"present", "late"})
LOAN_FUNDS = ("verte", "bleue")  # member credit; caisse rouge loans are solidarity aid, counted as aid

Counts = dict[str, int]
Lookup = Callable[[str, Key], Row | None]
COUNTED = frozenset({"accounts", "members", "loans", "attendance", "meetings"})  # the tables ``deltas`` reads


def _month(before: Lookup, changes: Changes, ev: Event) -> str:
    """The month an event's changes belong to: its meeting's date, a member's joining date, else its clock."""
    body = ev.body
    meeting = body.get("meeting")
    if isinstance(meeting, str):
        key = ("meetings", (meeting,))
        row = changes.rows.get(key) or before(*key)  # looked at, not changed: no copy
        if row and isinstance(row.get("date"), str):
            return row["date"][:7]
    joined = body.get("joined")
    if isinstance(joined, str) and len(joined) >= 7:
        return joined[:7]
    return time.strftime("%Y-%m", time.gmtime(ev.device_time / 1000))


def _active_woman(row: dict[str, Any] | None) -> tuple[int, int]:
    if not row or not row["active"]:
        return 0, 0
    return 1, int(row["sex"] == "F")


def deltas(before: Lookup, changes: Changes) -> dict[str, Counts]:
    """What one event changed, per group: {group_id: {field: delta}} (only non-zero fields).

    ``before(table, key)`` is the row as it was; only its plain columns are read.
    """
    out: dict[str, Counts] = {}
    for (table, key), row in changes.keyed():
        # Postings, transactions, receipts... change no figure: not even their old row is read.
        if table not in COUNTED:
            continue
        group = row.get("group_id")
        if not group:
            continue
        old = before(table, key)
        d = out.get(group)
        if d is None:
            d = out[group] = defaultdict(int)
        if table == "accounts":
            name = row["account"]
            change = row["balance"] - (old["balance"] if old else 0)
            kind, fund = kind_of(name), row["fund"]
            if kind == "savings":
                d["savings"] -= change  # a liability: credit (negative) balances are what members own
            elif kind == "loan" and fund in LOAN_FUNDS:
                d["loans"] += change
            elif kind == "cash":
                d[f"cash_{fund}"] += change
            elif kind == "lender":
                d["lender"] -= change
            elif name in INCOME_ACCOUNTS:
                d["income"] -= change
        elif table == "members":
            (a1, w1), (a0, w0) = _active_woman(row), _active_woman(old)
            d["members"] += a1 - a0
            d["women"] += w1 - w0
            d["aid"] += row["aid_received"] - (old["aid_received"] if old else 0)
        elif table == "loans":
            was = bool(old and old["status"] == "active" and old["kind"] == "loan")
            d["loans_active"] += int(row["status"] == "active" and row["kind"] == "loan") - int(was)
        elif table == "attendance":
            d["attended"] += int(row["status"] in ATTENDED) - int(bool(old and old["status"] in ATTENDED))
            d["slots"] += int(old is None)
        elif table == "meetings":
            d["meetings"] += int(old is None)
    return {g: {k: v for k, v in c.items() if v} for g, c in out.items()}


class Rollup:
    """Changes noted event by event, written once per batch by ``flush``."""

    def __init__(self) -> None:
        self.months: dict[tuple[str, str], Counts] = defaultdict(lambda: defaultdict(int))

    def observe(self, before: Lookup, changes: Changes, ev: Event) -> None:
        """Call after the reducer accepted ``ev`` and before its changes are applied to ``before``."""
        found = deltas(before, changes)
        if not found:
            return
        month = _month(before, changes, ev)
        for group, counts in found.items():
            bucket = self.months[(group, month)]
            for field, value in counts.items():
                bucket[field] += value

    def flush(self, conn: Connection, kiosk_id: str) -> None:
        if not self.months:
            return
        totals: dict[str, Counts] = defaultdict(lambda: defaultdict(int))
        month_rows = []
        for (group, month), counts in self.months.items():
            month_rows.append({"kiosk_id": kiosk_id, "group_id": group, "month": month, **_full(counts)})
            for field, value in counts.items():
                totals[group][field] += value
        total_rows = [{"kiosk_id": kiosk_id, "group_id": g, **_full(c)} for g, c in totals.items()]
        _add(conn, console_months, ["kiosk_id", "group_id", "month"], month_rows)
        _add(conn, console_totals, ["kiosk_id", "group_id"], total_rows)
        self.months.clear()


def _full(counts: Counts) -> Counts:
    return {f: int(counts.get(f, 0)) for f in ROLLUP_FIELDS}


def _add(conn: Connection, table: Any, keys: list[str], rows: list[dict[str, Any]]) -> None:
    """Add the rows' figures to what the table holds (the running figures are increments, never overwritten)."""
    names = [c.name for c in table.columns]
    bulk_upsert(conn, table, tuple(keys), [tuple(r[n] for n in names) for r in rows], on_conflict="add")


def replay(events: Iterable[Event]) -> Rollup:
    """The rollup of a journal, from nothing (events the server quarantined must be left out)."""
    view = MemoryView()
    rollup = Rollup()
    for ev in events:
        changes = apply(view, ev)
        rollup.observe(view.get, changes, ev)
        view.apply(changes)
    return rollup


def rebuild(engine: Engine, kiosk_ids: list[str] | None = None, page: int = 5000) -> int:
    """Recompute the rollups of some (default: all) kiosks from their journals; returns the kiosks done.

    The replay reads the journal without holding any lock (it can take seconds, and pushes must go on);
    it counts only if no push of that kiosk landed meanwhile, which its cursor tells under the lock.
    """
    with read(engine) as conn:
        ids = kiosk_ids or list(
            conn.execute(select(kiosks_table.c.kiosk_id).order_by(kiosks_table.c.kiosk_id)).scalars()
        )
    for kiosk_id in ids:
        # A push landing during the replay: its events are in the journal now, replay again;
        # a kiosk that keeps pushing is replayed, at the third time, under its lock.
        attempt = 0
        while not _rebuild_one(engine, kiosk_id, page, locked=attempt == 2):
            attempt += 1
    return len(ids)


def _rebuild_one(engine: Engine, kiosk_id: str, page: int, locked: bool) -> bool:
    if locked:
        with write(engine) as conn:
            kiosk = lock_kiosk(conn, kiosk_id)
            seen = int(kiosk["acked_seq"]) if kiosk is not None else 0
            replace(conn, kiosk_id, replay(_applied(conn, kiosk_id, page, upto=seen)))
        return True
    with read(engine) as conn:
        seen = conn.scalar(select(kiosks_table.c.acked_seq).where(kiosks_table.c.kiosk_id == kiosk_id)) or 0
    rollup = replay(_applied(engine, kiosk_id, page, upto=seen))
    with write(engine) as conn:
        kiosk = lock_kiosk(conn, kiosk_id)
        if kiosk is not None and int(kiosk["acked_seq"]) != seen:
            return False
        replace(conn, kiosk_id, rollup)
    return True


def replace(conn: Connection, kiosk_id: str, rollup: Rollup) -> None:
    """The kiosk's rollups, all of them, replaced by ``rollup`` (in a transaction holding its lock)."""
    conn.execute(delete(console_months).where(console_months.c.kiosk_id == kiosk_id))
    conn.execute(delete(console_totals).where(console_totals.c.kiosk_id == kiosk_id))
    rollup.flush(conn, kiosk_id)


def _applied(source: Engine | Connection, kiosk_id: str, page: int, upto: int) -> Iterable[Event]:
    """The applied events up to ``upto``, page by page (each page in its own read, given an engine)."""
    after = 0
    while True:
        query = (
            select(*EVENT_COLUMNS, journal.c.hash, journal.c.status)
            .where(journal.c.kiosk_id == kiosk_id, journal.c.seq > after, journal.c.seq <= upto)
            .order_by(journal.c.seq)
            .limit(page)
        )
        if isinstance(source, Connection):
            rows = source.execute(query).all()
        else:
            with read(source) as conn:
                rows = conn.execute(query).all()
        if not rows:
            return
        for row in rows:
            if row[7] == "applied":
                yield Event(*row[:7])
        after = rows[-1][0]


def needs_rebuild(engine: Engine) -> bool:
    """True when journals exist but no rollup does (a server upgraded to the console)."""
    with read(engine) as conn:
        has_events = conn.execute(select(journal.c.seq).limit(1)).first() is not None
        has_rollup = conn.execute(select(console_totals.c.kiosk_id).limit(1)).first() is not None
    return has_events and not has_rollup
