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
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
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
