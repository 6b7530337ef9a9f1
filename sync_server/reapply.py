"""A kiosk's whole journal through this server's reducer again (``muso-server reapply``).

A server one version behind its kiosks quarantines what it cannot read yet
(an event type, a field it does not know): the events are kept, signed and
chained, but change nothing, and so does every event that depended on them
(a receipt citing a fine the server never applied). The books then differ
from the kiosk's, on the console and on any Pi restored from this server.
Upgraded, the server replays the journal from the start, in order, with its
own reducer, which is the kiosk's: what it now accepts is applied, the
projections are rebuilt, each event's status and reason are what this
reducer says, and the console's rollups follow. Nothing in the journal
itself changes: its events, hashes and signatures are what the kiosk sent.

All of it under the kiosk's lock, in one transaction, rollups included: a
push of that kiosk waits for it, and a failure leaves the books as they were.
A push reduced on a snapshot taken before is reduced again under the lock:
``kiosks.reapplied_at`` moves, as the cursor does for a push.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, bindparam, delete, select, update

from kiosk.domain.errors import DomainError
from kiosk.domain.events import Event
from kiosk.domain.projections import TABLES
from kiosk.domain.reducer import apply

from . import rollup
from .db import EVENT_COLUMNS, journal, lock_kiosk, now_ms, projections, write
from .db import kiosks as kiosks_table
from .errors import NotFound
from .ingest import body_or_none, quarantine_reason
from .projections import ServerView


@dataclass
class Reapplied:
    kiosk_id: str
    events: int = 0
    now_applied: int = 0  # quarantined before, applied now
    now_quarantined: int = 0  # applied before, refused by this reducer
    quarantined: int = 0  # quarantined now, in all


def reapply(engine: Engine, kiosk_id: str, page: int = 1000) -> Reapplied:
    done = Reapplied(kiosk_id)
    with write(engine) as conn:
        kiosk = lock_kiosk(conn, kiosk_id)
        if kiosk is None:
            raise NotFound("kiosk_unknown", f"kiosk {kiosk_id} is unknown")
        for name in TABLES:
            conn.execute(delete(projections[name]).where(projections[name].c.kiosk_id == kiosk_id))
        # Strictly later than the last: two reapplies in one millisecond must still tell a push apart.
        generation = max(now_ms(), (kiosk["reapplied_at"] or 0) + 1)
        view, rollups = ServerView(conn, kiosk_id), rollup.Rollup()
        after, changed = 0, []
        while True:
            rows = conn.execute(
                select(*EVENT_COLUMNS, journal.c.hash, journal.c.status, journal.c.reason)
                .where(journal.c.kiosk_id == kiosk_id, journal.c.seq > after)
                .order_by(journal.c.seq)
                .limit(page)
            ).all()
            if not rows:
                break
            events = [Event(*row[:7]) for row in rows]
            view.prefetch([body_or_none(ev) for ev in events])
            for ev, row in zip(events, rows, strict=True):
                try:
                    changes = apply(view, ev)
                    rollups.observe(view.peek, changes, ev)  # the console's figures, in the same pass (as ingest)
                    view.apply(changes)
                    status, reason = "applied", None
                except DomainError as exc:
                    status, reason = "quarantined", quarantine_reason(exc)
                    done.quarantined += 1
                if status != row.status:
                    done.now_applied += status == "applied"
                    done.now_quarantined += status == "quarantined"
                if (status, reason) != (row.status, row.reason):
                    changed.append({"s": ev.seq, "st": status, "rs": reason})
            view.flush(conn)
            done.events += len(rows)
            after = rows[-1].seq
        if changed:
            conn.execute(
                update(journal)
                .where(journal.c.kiosk_id == kiosk_id, journal.c.seq == bindparam("s"))
                .values(status=bindparam("st"), reason=bindparam("rs")),
                changed,
            )
        conn.execute(
            update(kiosks_table)
            .where(kiosks_table.c.kiosk_id == kiosk_id)
            .values(quarantined=done.quarantined, reapplied_at=generation)
        )
        rollup.replace(conn, kiosk_id, rollups)
    return done
