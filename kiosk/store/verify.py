"""``verify``: recompute the hash chain and re-derive every projection from the journal.

Replays into memory with the same reducer and compares row by row with what
the database holds. Any difference is reported, none is repaired: a person
must look at it.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field

from kiosk.domain.errors import DomainError
from kiosk.domain.events import verify_chain
from kiosk.domain.projections import TABLES, MemoryView
from kiosk.domain.reducer import apply

from .database import SqliteView, Store


@dataclass
class Report:
    events: int = 0
    head: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def replay(events: list, skip: Container[int] = ()) -> tuple[MemoryView, list[str]]:  # type: ignore[type-arg]
    """The projections rebuilt from ``events``, but those in ``skip`` (quarantined by the server).

    A skipped event that the reducer would take is a problem: the server refused it, so ours
    should too. Marking a good event "quarantined" (the mark is not in the chain) and rebuilding
    the projections would otherwise change the books unseen.
    """
    memory, problems = MemoryView(), []
    for event in events:
        if event.seq in skip:
            try:
                apply(memory, event)  # reads only: the changes are not kept
            except DomainError:
                continue
            problems.append(f"event {event.seq} ({event.type}) is marked quarantined but applies cleanly")
            continue
        try:
            memory.apply(apply(memory, event))
        except DomainError as exc:
            problems.append(f"event {event.seq} ({event.type}) refused on replay: {exc}")
    return memory, problems


def verify(store: Store) -> Report:
    events = list(store.events())
    report = Report(events=len(events), head=events[-1].hash if events else "")
    for brk in verify_chain(events):
        report.problems.append(f"event {brk.seq}: chain broken ({brk.reason})")
    memory, problems = replay(events, store.quarantined())
    report.problems += problems
    stored = SqliteView(store.conn)
    for name, table in TABLES.items():
        expected = {table.row_key(r): r for r in memory.rows(name)}
        actual = {table.row_key(r): r for r in stored.rows(name)}
        for key in sorted(set(expected) | set(actual), key=repr):
            if expected.get(key) != actual.get(key):
                report.problems.append(f"{name} {key}: stored {actual.get(key)!r} != replayed {expected.get(key)!r}")
    integrity = store.conn.execute("PRAGMA integrity_check").fetchone()[0]
    if integrity != "ok":
        report.problems.append(f"sqlite integrity_check: {integrity}")
    return report
