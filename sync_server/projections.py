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
from typing import Any

from sqlalchemy import Connection, select

from kiosk.domain.projections import TABLES, Changes, Key, Row

from .db import insert, projections

_MISSING = object()


def encode(table: str, row: Row) -> dict[str, Any]:
    out = {}
    for name, kind in TABLES[table].columns:
        value = row[name]
        out[name] = (
            json.dumps(value, sort_keys=True, ensure_ascii=False) if kind == "json" and value is not None else value
        )
    return out


def decode(table: str, row: Any) -> Row:
    out: Row = {}
    for name, kind in TABLES[table].columns:
        value = row[name]
        out[name] = json.loads(value) if kind == "json" and value is not None else value
    return out


class ServerView:
    """Projections of one kiosk, read through a cache and written back in one go by ``flush``."""

    def __init__(self, conn: Connection, kiosk_id: str) -> None:
        self.conn = conn
        self.kiosk_id = kiosk_id
        self._cache: dict[tuple[str, Key], Any] = {}
        self._dirty: dict[tuple[str, Key], Row] = {}
        # Plain driver SQL for the reads by key: the reducer makes thousands per batch,
        # and SQLAlchemy's per-statement machinery would cost more than the read itself.
        mark = self._mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        self._sql = {
            name: (
                f"SELECT {', '.join(c for c, _ in spec.columns)} FROM p_{name} WHERE kiosk_id = {mark} AND "
                + " AND ".join(f"{k} = {mark}" for k in spec.key),
                [c for c, _ in spec.columns],
            )
            for name, spec in TABLES.items()
        }

    def get(self, table: str, key: Key) -> Row | None:
        # The cache holds rows as stored (JSON as text) and decodes on every read,
        # exactly as the kiosk's SqliteView does: no event can see another's objects.
        hit = self._cache.get((table, key), _MISSING)
        if hit is _MISSING:
            sql, names = self._sql[table]
            found = self.conn.exec_driver_sql(sql, (self.kiosk_id, *key)).first()
            hit = dict(zip(names, found, strict=True)) if found is not None else None
            self._cache[(table, key)] = hit
        return decode(table, hit) if hit is not None else None

    def _fetch(self, table: str, where: str, params: list[Any]) -> list[dict[str, Any]]:
        names = [c for c, _ in TABLES[table].columns]
        sql = f"SELECT {', '.join(names)} FROM p_{table} WHERE kiosk_id = {self._mark} AND {where}"
        return [dict(zip(names, r, strict=True)) for r in self.conn.exec_driver_sql(sql, (self.kiosk_id, *params))]

    def _prefetch_keys(self, table: str, column: str, values: set[Any]) -> list[dict[str, Any]]:
        """Rows whose single-column key is in ``values``; keys not found are cached as absent."""
        found: list[dict[str, Any]] = []
        ordered = sorted(v for v in values if isinstance(v, str))
        for i in range(0, len(ordered), 500):
            chunk = ordered[i : i + 500]
            found += self._fetch(table, f"{column} IN ({', '.join([self._mark] * len(chunk))})", chunk)
        for row in found:
            self._cache[(table, (row[column],))] = row
        for value in ordered:
            self._cache.setdefault((table, (value,)), None)
        return found

    def prefetch(self, bodies: list[dict[str, Any]]) -> None:
        """Read in a handful of queries the rows a batch's events name.

        The reducer reads by key, one row at a time; for a pushed batch that is
        thousands of round trips, many of them for ids that must not exist yet
        (a new transaction, a new loan). Knowing the ids up front, one query per
        table answers them all, found or absent. Only a cache: the reducer still
        reads (and decides) exactly as on the kiosk.
        """
        ids: dict[str, set[Any]] = {
            t: set() for t in ("groups", "meetings", "members", "loans", "transactions", "receipts")
        }
        for b in bodies:
            if not isinstance(b, dict):
                continue
            ids["groups"].add(b.get("group"))
            ids["meetings"].add(b.get("meeting"))
            ids["members"].update(
                [b.get("member"), b.get("by"), *(b.get("approvers") or []), *(b.get("officers") or [])]
            )
            ids["loans"].add(b.get("loan"))
            ids["transactions"].update([b.get("txn"), b.get("reverses"), *(b.get("txns") or [])])
            ids["receipts"].add(b.get("receipt"))
            for member in (b.get("shares") or {}, b.get("payouts") or {}):
                ids["members"].update(member)
        meetings = self._prefetch_keys("meetings", "meeting_id", ids["meetings"])
        ids["groups"].update(m["group_id"] for m in meetings)
        groups = self._prefetch_keys("groups", "group_id", ids["groups"])
        self._prefetch_keys("members", "member_id", ids["members"])
        loans = self._prefetch_keys("loans", "loan_id", ids["loans"])
        reversed_ = [t for t in self._prefetch_keys("transactions", "txn_id", ids["transactions"]) if t["legs"]]
        self._prefetch_keys("receipts", "receipt_id", ids["receipts"])
        for g in groups:
            for row in self._fetch(
                "rules", f"group_id = {self._mark} AND version = {self._mark}", [g["group_id"], g["rules_version"]]
            ):
                self._cache[("rules", (row["group_id"], row["version"]))] = row
        # Accounts: the boxes and income accounts of these groups, and the savings and
        # loan accounts of the members and loans named (not every loan since 2026).
        wanted = [f"verte:savings:{m}" for m in ids["members"] if isinstance(m, str)]
        wanted += [
            f"{fund}:loan:{loan}"
            for loan in ids["loans"]
            if isinstance(loan, str)
            for fund in ("verte", "rouge", "bleue")
        ]
        wanted += [f"{row['fund']}:loan:{row['loan_id']}" for row in loans]
        group_ids = sorted(g["group_id"] for g in groups)
        for group_id in group_ids:
            for row in self._fetch(
                "accounts",
                f"group_id = {self._mark} AND account NOT LIKE {self._mark} AND account NOT LIKE {self._mark}",
                [group_id, "%:savings:%", "%:loan:%"],
            ):
                self._cache[("accounts", (row["group_id"], row["account"]))] = row
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                found = self._fetch(
                    "accounts", f"group_id = {self._mark} AND account IN ({', '.join([self._mark] * len(chunk))})",
                    [group_id, *chunk],
                )  # fmt: skip
                for row in found:
                    self._cache[("accounts", (row["group_id"], row["account"]))] = row
                for account in chunk:
                    self._cache.setdefault(("accounts", (group_id, account)), None)
        for txn in reversed_:
            for row in self._fetch("postings", f"txn_id = {self._mark}", [txn["txn_id"]]):
                self._cache[("postings", (row["txn_id"], row["leg"]))] = row

    def apply(self, changes: Changes) -> None:
        for table, row in changes:
            key = (table, TABLES[table].row_key(row))
            stored = encode(table, row)
            self._cache[key] = stored
            self._dirty[key] = stored

    def flush(self) -> int:
        """Write every changed row (upsert by primary key); returns how many."""
        by_table: dict[str, list[dict[str, Any]]] = {}
        for (table, _key), row in self._dirty.items():
            by_table.setdefault(table, []).append({"kiosk_id": self.kiosk_id, **row})
        for table, rows in by_table.items():
            t = projections[table]
            stmt = insert(self.conn, t)
            keys = ["kiosk_id", *TABLES[table].key]
            others = {c: stmt.excluded[c] for c, _ in TABLES[table].columns if c not in keys}
            stmt = (
                stmt.on_conflict_do_update(index_elements=keys, set_=others)
                if others
                else stmt.on_conflict_do_nothing(index_elements=keys)
            )
            self.conn.execute(stmt, rows)
        count = len(self._dirty)
        self._dirty.clear()
        return count


def rows(conn: Connection, kiosk_id: str, table: str) -> list[Row]:
    """Every row of one projection for one kiosk (tests, exports and the replay comparison)."""
    t = projections[table]
    cols = [t.c[c] for c, _ in TABLES[table].columns]
    result = conn.execute(select(*cols).where(t.c.kiosk_id == kiosk_id))
    return [decode(table, r) for r in result.mappings()]
