"""The reducer's ``View`` over the server's projection tables, one kiosk at a time.

The server runs ``kiosk.domain.reducer.apply`` — the kiosk's own reducer —
over each pushed event. Reads go by primary key (as on the kiosk); the rows
an event changes are kept in a per-batch overlay and written once, at the
end of the batch, in the same transaction as the journal rows. Same result
as writing after every event (the transaction is all-or-nothing either way),
at a fraction of the statements: a meeting touches the same cash accounts a
hundred times.
"""

from __future__ import annotations

import json
import marshal
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from kiosk.domain.funds import Fund
from kiosk.domain.projections import TABLES, Changes, Key, Row

from .db import projections
from .driver import bulk_upsert, driver_query, param_mark

_MISSING = object()
_FUNDS = [f.value for f in Fund]
_STORED = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode  # as the kiosk stores JSON columns


# Per table, the columns held as JSON text: most rows the reducer reads (accounts, members) have none.
_JSON = {name: tuple(c for c, kind in spec.columns if kind == "json") for name, spec in TABLES.items()}


def encode(table: str, row: Row) -> dict[str, Any]:
    out = dict(row)
    for name in _JSON[table]:
        if out[name] is not None:
            out[name] = _STORED(out[name])
    return out


def decode(table: str, row: Any) -> Row:
    out: Row = {name: row[name] for name, _ in TABLES[table].columns}
    for name in _JSON[table]:
        if out[name] is not None:
            out[name] = json.loads(out[name])
    return out


class ServerView:
    """Projections of one kiosk, read through a cache and written back in one go by ``flush``."""

    reads_are_copies = True  # ``get`` makes a new row every time (see Changes)

    def __init__(self, conn: Connection, kiosk_id: str) -> None:
        self.conn = conn
        self.kiosk_id = kiosk_id
        self._cache: dict[tuple[str, Key], Any] = {}
        self._dirty: dict[tuple[str, Key], Row] = {}
        self._thawed: dict[tuple[str, Key], tuple[Row, dict[str, bytes]]] = {}
        # Plain driver SQL for the reads: the reducer makes thousands per batch,
        # and SQLAlchemy's per-statement machinery would cost more than the read itself.
        mark = self._mark = param_mark(conn.dialect)
        self._select = {
            name: f"SELECT {', '.join(spec.order)} FROM p_{name} WHERE kiosk_id = {mark} AND "
            for name, spec in TABLES.items()
        }
        self._by_key = {
            name: self._select[name] + " AND ".join(f"{k} = {mark}" for k in spec.key) for name, spec in TABLES.items()
        }

    def peek(self, table: str, key: Key) -> Row | None:
        """The row as stored (JSON columns as text), not a copy: for readers that only look."""
        hit = self._cache.get((table, key), _MISSING)
        if hit is _MISSING:
            found = driver_query(self.conn, self._by_key[table], (self.kiosk_id, *key))
            hit = dict(zip(TABLES[table].order, found[0], strict=True)) if found else None
            self._cache[(table, key)] = hit
        return hit

    def get(self, table: str, key: Key) -> Row | None:
        # Every read returns new objects, as the kiosk's SqliteView does (it decodes the
        # JSON each time): no event can see, or change, another's. The JSON columns are
        # decoded once per stored version and kept marshalled: ``marshal.loads`` makes
        # the same lists and dicts several times faster than parsing the text again (an
        # open meeting, with its counts, is read about twice per event).
        hit = self._cache.get((table, key), _MISSING)
        if hit is _MISSING:
            hit = self.peek(table, key)
        if hit is None:
            return None
        row = dict(hit)
        names = _JSON[table]
        if names:
            thawed = self._thawed.get((table, key))
            if thawed is None or thawed[0] is not hit:  # first read, or the row changed since
                blobs = {n: marshal.dumps(json.loads(hit[n])) for n in names if hit[n] is not None}
                thawed = self._thawed[(table, key)] = (hit, blobs)
            for name, blob in thawed[1].items():
                row[name] = marshal.loads(blob)
        return row

    def _fetch(self, table: str, where: str, params: list[Any]) -> list[Row]:
        """Rows of this kiosk matching ``where``, into the cache; returns them."""
        names, key = TABLES[table].order, TABLES[table].row_key
        found = driver_query(self.conn, self._select[table] + where, (self.kiosk_id, *params))
        rows = [dict(zip(names, r, strict=True)) for r in found]
        for row in rows:
            self._cache[(table, key(row))] = row
        return rows

    def _load(
        self, table: str, column: str, values: set[Any], where: str = "", params: tuple[Any, ...] = ()
    ) -> list[Row]:
        """Rows whose ``column`` is one of ``values`` (and ``where``), into the cache; returns them."""
        found: list[Row] = []
        ordered = sorted(v for v in values if isinstance(v, str))
        for i in range(0, len(ordered), 500):
            chunk = ordered[i : i + 500]
            marks = ", ".join([self._mark] * len(chunk))
            found += self._fetch(table, f"{where}{column} IN ({marks})", [*params, *chunk])
        return found

    def _absent(self, table: str, keys: Iterable[Key]) -> None:
        """What a prefetch looked for and did not find is known not to exist: no query to learn it again."""
        for key in keys:
            if all(isinstance(part, str) for part in key):
                self._cache.setdefault((table, key), None)

    def prefetch(self, bodies: list[dict[str, Any]]) -> None:
        """Read in a handful of queries the rows a batch's events name.

        The reducer reads by key, one row at a time; for a pushed batch that is
        thousands of round trips, many of them for ids that must not exist yet
        (a new transaction, a new loan). Knowing the ids up front, one query per
        table answers them all, found or absent. Only a cache: the reducer still
        reads (and decides) exactly as on the kiosk, and a row missed here is
        read when asked for.
        """
        ids: dict[str, set[Any]] = {
            t: set() for t in ("groups", "meetings", "members", "loans", "transactions", "receipts", "reverses")
        }
        marks: set[Key] = set()  # (meeting, member) of attendance marks
        for b in (b for b in bodies if isinstance(b, dict)):
            ids["groups"].add(b.get("group"))
            ids["meetings"].add(b.get("meeting"))
            ids["members"].update(
                [b.get("member"), b.get("by"), *(b.get("approvers") or []), *(b.get("officers") or [])]
            )
            ids["loans"].add(b.get("loan"))
            ids["transactions"].update([b.get("txn"), b.get("reverses"), *(b.get("txns") or [])])
            ids["reverses"].add(b.get("reverses"))
            ids["receipts"].add(b.get("receipt"))
            for member in (b.get("shares") or {}, b.get("payouts") or {}):
                ids["members"].update(member)
            if "status" in b:
                marks.add((b.get("meeting"), b.get("member")))
        meetings = self._load("meetings", "meeting_id", ids["meetings"])
        ids["groups"].update(m["group_id"] for m in meetings)
        groups = {g["group_id"] for g in self._load("groups", "group_id", ids["groups"])}
        loans = self._load("loans", "loan_id", ids["loans"])
        self._load("members", "member_id", ids["members"])
        self._load("transactions", "txn_id", ids["transactions"])
        self._load("receipts", "receipt_id", ids["receipts"])
        for table in ("meetings", "groups", "loans", "members", "transactions", "receipts"):
            self._absent(table, [(v,) for v in ids[table]])
        # Attendance is never read by the reducer, only by the rollup (is this mark new?).
        self._load("attendance", "meeting_id", {m for m, _ in marks})
        self._absent("attendance", marks)
        self._load("rules", "group_id", groups)  # every version: a group adopts a few in its life
        # Accounts: the boxes and income accounts of these groups, and the savings and
        # loan accounts of the members and loans named (not every loan since 2026).
        wanted = {f"verte:savings:{m}" for m in ids["members"] if isinstance(m, str)}
        wanted |= {f"{fund}:loan:{loan}" for loan in ids["loans"] if isinstance(loan, str) for fund in _FUNDS}
        wanted |= {f"{row['fund']}:loan:{row['loan_id']}" for row in loans}
        if groups:
            self._fetch(
                "accounts",
                f"group_id IN ({', '.join([self._mark] * len(groups))}) "
                f"AND account NOT LIKE {self._mark} AND account NOT LIKE {self._mark}",
                [*sorted(groups), "%:savings:%", "%:loan:%"],
            )
            for group_id in sorted(groups):
                self._load("accounts", "account", wanted, f"group_id = {self._mark} AND ", (group_id,))
                self._absent("accounts", [(group_id, a) for a in wanted])
        reversed_ = [t for t in ids["reverses"] if self._cache.get(("transactions", (t,)))]
        self._load("postings", "txn_id", set(reversed_))

    def apply(self, changes: Changes) -> None:
        for key, row in changes.keyed():
            # Rows without JSON columns (accounts, postings…: most of them) are kept as they are:
            # a row in ``changes`` is never changed again, and reads here hand out copies.
            stored = encode(key[0], row) if _JSON[key[0]] else row
            self._cache[key] = stored
            self._dirty[key] = stored

    def flush(self, conn: Connection) -> int:
        """Write every changed row (upsert by primary key) through ``conn``; returns how many.

        ``conn`` may be another connection than the one read from: ingest reduces on a read
        snapshot and writes in a write transaction (sync_server/ingest.py).
        """
        by_table: dict[str, list[tuple[Any, ...]]] = {}
        kiosk_id = self.kiosk_id
        for (table, _key), row in self._dirty.items():
            by_table.setdefault(table, []).append((kiosk_id, *TABLES[table].values(row)))
        for table, rows in by_table.items():
            bulk_upsert(conn, projections[table], ("kiosk_id", *TABLES[table].key), rows, on_conflict="replace")
        count = len(self._dirty)
        self._dirty.clear()
        return count


def rows(conn: Connection, kiosk_id: str, table: str) -> list[Row]:
    """Every row of one projection for one kiosk (tests, exports and the replay comparison)."""
    t = projections[table]
    cols = [t.c[c] for c, _ in TABLES[table].columns]
    result = conn.execute(select(*cols).where(t.c.kiosk_id == kiosk_id))
    return [decode(table, r) for r in result.mappings()]
