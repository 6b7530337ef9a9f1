"""The read model the reducer maintains, described once for every store.

The kiosk keeps these tables in SQLite, the server in SQLAlchemy, tests and
``verify`` in memory; all three are filled by the same reducer, so a
difference between them is a bug or tampering, never a matter of opinion.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Protocol

Key = tuple[Any, ...]
Row = dict[str, Any]


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]  # (name, "int" | "text" | "json"), key columns first
    order: tuple[str, ...] = field(init=False, repr=False, compare=False)  # the column names, in order
    names: frozenset[str] = field(init=False, repr=False, compare=False)
    # A row's key, as a tuple. Built once per table: it runs for every row the reducer touches.
    row_key: Callable[[Mapping[str, Any]], Key] = field(init=False, repr=False, compare=False)
    values: Callable[[Mapping[str, Any]], tuple[Any, ...]] = field(init=False, repr=False, compare=False)  # in order

    def __post_init__(self) -> None:
        object.__setattr__(self, "order", tuple(c for c, _ in self.columns))
        object.__setattr__(self, "names", frozenset(self.order))
        if len(self.key) == 1:
            only = self.key[0]
            object.__setattr__(self, "row_key", lambda row: (row[only],))
        else:
            object.__setattr__(self, "row_key", itemgetter(*self.key))  # a tuple already
        object.__setattr__(self, "values", itemgetter(*self.order))


def _t(name: str, key: tuple[str, ...], spec: str) -> Table:
    cols = []
    for item in spec.split():
        col, _, kind = item.partition(":")
        cols.append((col, kind or "text"))
    return Table(name, key, tuple(cols))


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        _t(
            "groups",
            ("group_id",),
            "group_id name country cooperative village created_seq:int rules_version:int "
            "member_count:int meeting_count:int open_meeting last_meeting_date",
        ),
        _t("rules", ("group_id", "version"), "group_id version:int body:json meeting_id adopted_seq:int"),
        _t(
            "members",
            ("member_id",),
            "member_id group_id number:int name sex phone role joined left_on active:int "
            "active_loans:int aid_received:int",
        ),
        _t("member_numbers", ("group_id", "number"), "group_id number:int member_id"),
        _t(
            "meetings",
            ("meeting_id",),
            "meeting_id group_id number:int date status opened_seq:int closed_seq:int "
            "open_officers:json close_officers:json open_count:json close_count:json "
            "open_expected:json close_expected:json",
        ),
        _t("attendance", ("meeting_id", "member_id"), "meeting_id member_id group_id status represented_by"),
        _t("accounts", ("group_id", "account"), "group_id account fund balance:int"),
        _t(
            "transactions",
            ("txn_id",),
            "txn_id group_id meeting_id seq:int kind member_id fund amount:int loan_id "
            "reverses reversed_by reason detail:json recorded_by approvers:json legs:int",
        ),
        _t("postings", ("txn_id", "leg"), "txn_id leg:int group_id account amount:int"),
        _t(
            "loans",
            ("loan_id",),
            "loan_id group_id member_id fund kind principal:int method rate_bp:int term_months:int "
            "rounding_unit:int penalty_bp:int start meeting_id txn_id paf_charged:int paf_paid:int "
            "principal_paid:int penalty_charged:int penalty_paid:int paf_until penalty_until "
            "status last_repayment",
        ),
        # Receipts handed to members (and meeting reports): the event's hash is the
        # receipt's verification code, so the paper can be checked against the journal.
        _t("receipts", ("receipt_id",), "receipt_id group_id meeting_id member_id kind seq:int txns:json"),
    )
}


# What any database stores in an indexed column: PostgreSQL refuses an index entry over 2,704 bytes, a
# text is up to 4 bytes a character, and an index has up to three text columns beside the kiosk's id.
# Ids are 36 characters; places, statuses, kinds and dates a few. Other texts (names, reasons) are
# indexed nowhere, and capped nowhere here: a journal with a long reason must replay everywhere.
INDEXED_TEXT_MAX = 200
INDEXED_TEXTS = frozenset({"country", "cooperative", "status", "kind", "date", "fund", "account"})
INT_LIMIT = 1 << 63  # a 64-bit column's


def _indexed(table: Table, col: str) -> bool:
    return col in table.key or col.endswith("_id") or col in INDEXED_TEXTS


def unstorable(table: Table, row: Row) -> str | None:
    """The first column of ``row`` no database could store as ``table`` says (a text that is not one, or
    too long for an index; an integer beyond 64 bits), or None.

    The reducer refuses such an event, so the server quarantines it: accepted, it would make the write
    fail on every push of that kiosk, and nothing after it would ever sync."""
    for col, kind in table.columns:
        value = row[col]
        if value is None or kind == "json":
            continue
        if kind == "int":
            if not isinstance(value, int) or not -INT_LIMIT <= value < INT_LIMIT:
                return col
        elif not isinstance(value, str) or (len(value) > INDEXED_TEXT_MAX and _indexed(table, col)):
            return col
    return None


class View(Protocol):
    """Read access to the current projections, one row by key."""

    def get(self, table: str, key: Key) -> Row | None: ...


class Changes:
    """The rows one event writes, readable through like a view.

    Handlers read their own writes through it, so a transaction that touches the
    same account twice sees the first change when making the second.
    """

    def __init__(self, base: View) -> None:
        self.base = base
        self.rows: dict[tuple[str, Key], Row] = {}
        # A view whose every read makes a new row (the server's) need not be copied once more.
        self._copy = not getattr(base, "reads_are_copies", False)

    def get(self, table: str, key: Key) -> Row | None:
        hit = self.rows.get((table, key))
        if hit is not None:
            return dict(hit)
        row = self.base.get(table, key)
        return dict(row) if row is not None and self._copy else row

    def put(self, table: str, row: Row) -> None:
        spec = TABLES[table]
        if not row.keys() <= spec.names:
            raise KeyError(f"{table}: unknown columns {sorted(set(row) - spec.names)}")
        full = dict.fromkeys(spec.order)  # every column, in order, None unless given
        full.update(row)
        self.rows[(table, spec.row_key(full))] = full

    def update(self, table: str, key: Key, **values: Any) -> Row:
        row = self.get(table, key)
        if row is None:
            raise KeyError(f"{table}{key} missing")
        row.update(values)
        self.put(table, row)
        return row

    def __iter__(self) -> Iterator[tuple[str, Row]]:
        for (table, _key), row in self.rows.items():
            yield table, row

    def keyed(self) -> Iterator[tuple[tuple[str, Key], Row]]:
        """((table, key), row) for every row written. A row once put is never changed (``get`` and
        ``update`` work on copies), so a view may keep these very rows."""
        return iter(self.rows.items())


class MemoryView:
    """Projections held in dicts: for ``verify``, the server's tests and property tests."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[Key, Row]] = {name: {} for name in TABLES}

    def get(self, table: str, key: Key) -> Row | None:
        return self.tables[table].get(key)

    def apply(self, changes: Changes) -> None:
        for (table, key), row in changes.keyed():
            self.tables[table][key] = row

    def rows(self, table: str) -> list[Row]:
        return list(self.tables[table].values())
