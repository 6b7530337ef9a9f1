"""Storing a pushed batch: the heart of the server, shared by HTTP pushes and USB bundles.

One database transaction per batch (research/sync.md §3.2):

1. lock the kiosk's row (its cursor ``acked_seq`` and chain ``head``);
2. a batch that starts after ``acked_seq + 1`` is a gap: 409 with our cursor,
   the kiosk rewinds and resends from there;
3. recompute the hash chain from *our* stored hash before ``from_seq``; it must
   end on the batch's ``head``, and the kiosk's signature must cover that
   head — else the batch was altered, reordered or truncated: refused whole,
   flagged;
4. events we already hold must hash to what we stored (a resend is harmless,
   a rewritten history is flagged and refused);
5. the new events go through the kiosk's own reducer against this kiosk's
   projections; an event the reducer refuses is stored *quarantined* with its
   reason and the cursor still advances (a permanently invalid event must not
   block everything after it);
6. journal rows are inserted ``ON CONFLICT (kiosk_id, seq) DO NOTHING`` — the
   database, not a check-then-insert, is what makes a duplicate impossible —
   projections are written, the cursor advances, and all of it commits together.

The kiosk marks events synced only when it reads our answer, which is sent
after the commit: a lost answer costs a resend, never an event.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from kiosk.domain.errors import DomainError
from kiosk.domain.events import GENESIS, Event
from kiosk.domain.reducer import apply
from kiosk.domain.wire import batch_message, chain, decode_events, dictionary

from . import reference
from .db import (
    EVENT_COLUMNS,
    batches,
    boot_anchors,
    incidents,
    insert,
    journal,
    kiosk_keys,
    lock_kiosk,
    now_ms,
    read,
    write,
)
from .db import kiosks as kiosks_table
from .driver import bulk_upsert
from .errors import BadRequest, Conflict, Forbidden, SyncServerError, Tampered, TooLarge, Unprocessable
from .projections import ServerView
from .rollup import Rollup
from .schemas import PushBatch
from .security import signature_ok

log = logging.getLogger("muso.sync")


class Diverged(Conflict):
    """Events we already hold came back different: the kiosk's history was rewritten (or forked)."""

    flag = True


@dataclass
class Outcome:
    acked_seq: int
    head: str
    server_time: int
    ref: int
    quarantined: list[int] = field(default_factory=list)
    new: int = 0


def record_incident(
    engine: Engine, kiosk_id: str | None, code: str, detail: dict[str, Any], remote: str | None
) -> None:
    """Flag something for the coordinators, in its own transaction (the refused work has rolled back)."""
    try:
        with write(engine) as conn:
            conn.execute(
                incidents.insert().values(
                    kiosk_id=kiosk_id,
                    code=code,
                    detail=json.dumps(detail, ensure_ascii=False, default=str)[:4000],
                    remote=remote,
                    created_at=now_ms(),
                )
            )
    except Exception:  # flagging must never hide the refusal itself
        log.exception("could not record incident %s for %s", code, kiosk_id)
    log.warning("incident %s kiosk=%s remote=%s", code, kiosk_id, remote)


def push(
    engine: Engine,
    batch: PushBatch,
    *,
    kiosk_id: str,
    max_events: int,
    source: str = "http",
    remote: str | None = None,
) -> Outcome:
    try:
        return _push(engine, batch, kiosk_id=kiosk_id, max_events=max_events, source=source)
    except SyncServerError as exc:
        if exc.flag:
            detail = {**exc.detail(), "from_seq": batch.from_seq, "events": len(batch.events), "source": source}
            record_incident(engine, kiosk_id, exc.code, detail, remote)
            exc.recorded = True  # type: ignore[attr-defined]
        raise


def _push(engine: Engine, batch: PushBatch, *, kiosk_id: str, max_events: int, source: str) -> Outcome:
    if source == "bundle" and (batch.now is not None or batch.report is not None):
        # A bundle's signature covers its events, not the rest, and a USB stick can be edited on the way
        # (an HTTP push is signed whole). Its clock anchor and its report are not the kiosk's word: dropped.
        batch = batch.model_copy(update={"now": None, "report": None})
    if batch.kiosk != kiosk_id:
        raise Forbidden("kiosk_mismatch", "this batch belongs to another kiosk", batch_kiosk=batch.kiosk)
    if len(batch.events) > max_events:
        raise TooLarge("batch_too_large", f"at most {max_events} events per batch", max_events=max_events)
    try:
        events = decode_events(batch.from_seq, batch.boots, batch.events)
    except DomainError as exc:
        raise Unprocessable("batch_malformed", str(exc)) from None
    to_seq = batch.from_seq + len(events) - 1
    # The CPU work — hashing, the signature, the reducer — is done first, on a
    # read snapshot, without the kiosk's lock (on SQLite, without the single
    # writer's lock, which every kiosk's push needs): several workers then
    # check and reduce in parallel and a write transaction is little more
    # than its inserts. Valid because the inputs cannot change behind our
    # back: stored hashes never change, and a kiosk's projections change only
    # with a push that advances its ``acked_seq``. So under the lock, if
    # ``acked_seq`` is still what the snapshot read, the reduction stands;
    # otherwise (two pushes of one kiosk at once) it is done again there.
    pre: Reduced | None = None
    pre_checked: tuple[list[Event], str] | None = None
    pre_anchors: dict[str, tuple[int, int]] | None = None  # like ``pre``: valid while ``acked_seq`` is unchanged
    with read(engine) as conn:
        # The reference version tells the kiosk whether to pull: read a moment before the
        # push commits, it is what it would have been had the push come a moment earlier.
        ref = reference.version_for(conn, kiosk_id)
        pre_prev = _prev_hash(conn, kiosk_id, batch.from_seq)
        keys = _keys(conn, kiosk_id, source)
        if pre_prev is not None:
            pre_checked = _check_chain(kiosk_id, batch, events, to_seq, pre_prev, keys)
            seen = conn.execute(
                select(kiosks_table.c.acked_seq, kiosks_table.c.status, kiosks_table.c.reapplied_at).where(
                    kiosks_table.c.kiosk_id == kiosk_id
                )
            ).first()
            if seen is not None and seen.status == "active" and batch.from_seq <= seen.acked_seq + 1:
                pre = _reduce(conn, kiosk_id, pre_checked[0], int(seen.acked_seq), seen.reapplied_at)
                pre_anchors = _stored_anchors(conn, kiosk_id, batch)
    received = now_ms()
    with write(engine) as conn:
        kiosk = lock_kiosk(conn, kiosk_id)
        if kiosk is None or kiosk["status"] != "active":
            raise Forbidden("kiosk_not_active", "this kiosk is not enrolled or has been revoked")
        acked = int(kiosk["acked_seq"])
        if batch.from_seq > acked + 1:
            raise Conflict(
                "gap",
                "events are missing before this batch: resend from acked_seq + 1",
                acked_seq=acked,
                head=kiosk["head"],
            )
        if pre_checked is not None:
            chained, signer = pre_checked
        else:
            prev = _prev_hash(conn, kiosk_id, batch.from_seq)
            assert prev is not None  # from_seq <= acked + 1: we hold the event before it
            chained, signer = _check_chain(kiosk_id, batch, events, to_seq, prev, _keys(conn, kiosk_id, source))
        if batch.from_seq <= acked:
            held = dict(
                conn.execute(
                    select(journal.c.seq, journal.c.hash).where(
                        journal.c.kiosk_id == kiosk_id, journal.c.seq.between(batch.from_seq, min(acked, to_seq))
                    )
                ).all()
            )
            for ev in chained:
                if ev.seq <= acked and held.get(ev.seq) != ev.hash:
                    raise Diverged(
                        "chain_diverged",
                        "this history differs from what the kiosk sent before (restored from an old backup?)",
                        seq=ev.seq,
                        acked_seq=acked,
                        head=kiosk["head"],
                    )
        if to_seq <= acked:
            # A resend, or a signed request replayed within its window: its report is as old as its
            # events, and would put back what a later push said of the kiosk (receipts waiting, printer).
            conn.execute(update(kiosks_table).where(kiosks_table.c.kiosk_id == kiosk_id).values(last_seen_at=received))
            return Outcome(acked, kiosk["head"], now_ms(), ref)
        if pre is not None and (pre.acked, pre.reapplied_at) == (acked, kiosk["reapplied_at"]):
            reduced, stored_anchors = pre, pre_anchors
        else:
            reduced, stored_anchors = _reduce(conn, kiosk_id, chained, acked, kiosk["reapplied_at"]), None

        batch_id = conn.execute(
            batches.insert()
            .values(
                kiosk_id=kiosk_id,
                from_seq=batch.from_seq,
                to_seq=to_seq,
                head=batch.head,
                signature=batch.sig,
                public_key=signer,
                source=source,
                new_events=len(reduced.fresh),
                received_at=received,
            )
            .returning(batches.c.batch_id)
        ).scalar_one()
        anchors = _anchors(conn, kiosk_id, batch, received, stored_anchors)
        rows = []  # in the journal table's column order
        for ev, (status, reason) in zip(reduced.fresh, reduced.outcomes, strict=True):
            anchor = anchors.get(ev.boot_id)
            rows.append(
                (
                    kiosk_id, ev.seq, ev.type, ev.body_json, ev.device_time, ev.boot_id, ev.mono_ms, ev.hash,
                    status, reason, batch_id, anchor[0] - (anchor[1] - ev.mono_ms) if anchor else None, received,
                )
            )  # fmt: skip
        bulk_upsert(conn, journal, ("kiosk_id", "seq"), rows, on_conflict="skip")
        reduced.view.flush(conn)
        reduced.rollup.flush(conn, kiosk_id)
        quarantined = reduced.quarantined
        conn.execute(
            update(kiosks_table)
            .where(kiosks_table.c.kiosk_id == kiosk_id)
            .values(
                acked_seq=to_seq,
                head=batch.head,
                quarantined=kiosks_table.c.quarantined + len(quarantined),
                last_push_at=received,
                last_seen_at=received,
                **_report(batch, received),
            )
        )
        if source == "bundle" and reduced.fresh and _replaced(conn, kiosk_id, signer):
            # A stick may have been written before its Pi was replaced (the events it carries are then
            # the group's, and the new Pi restores them); or the old Pi, thought dead, records on and
            # forks the group's history from the new one's. Only a person can tell: imported, and said.
            conn.execute(
                incidents.insert().values(
                    kiosk_id=kiosk_id,
                    code="replaced_key_bundle",
                    detail=json.dumps({"from_seq": batch.from_seq, "to_seq": to_seq, "new": len(reduced.fresh)}),
                    remote=None,
                    created_at=received,
                )
            )
        if quarantined:
            # Not a refusal: the kiosk did nothing wrong by sending them, but a person must look.
            conn.execute(
                incidents.insert().values(
                    kiosk_id=kiosk_id,
                    code="events_quarantined",
                    detail=json.dumps({"seqs": quarantined[:100], "count": len(quarantined)}),
                    remote=None,
                    created_at=received,
                )
            )
        return Outcome(to_seq, batch.head, now_ms(), ref, quarantined, len(reduced.fresh))


@dataclass
class Reduced:
    """A batch's new events through the kiosk's reducer, from the kiosk's projections at ``acked``."""

    acked: int
    reapplied_at: int | None  # the projections' rebuild it was reduced on (sync_server/reapply.py)
    fresh: list[Event]
    outcomes: list[tuple[str, str | None]]  # (status, reason) of each fresh event
    quarantined: list[int]
    view: ServerView  # holds the changed rows, written by ``flush``
    rollup: Rollup  # what the console's rollups gain from this batch (sync_server/rollup.py)


def _reduce(conn: Connection, kiosk_id: str, chained: list[Event], acked: int, reapplied_at: int | None) -> Reduced:
    fresh = [ev for ev in chained if ev.seq > acked]
    view = ServerView(conn, kiosk_id)
    view.prefetch([body_or_none(ev) for ev in fresh])
    rollup = Rollup()
    outcomes: list[tuple[str, str | None]] = []
    quarantined = []
    for ev in fresh:
        try:
            changes = apply(view, ev)
            rollup.observe(view.peek, changes, ev)
            view.apply(changes)
            outcomes.append(("applied", None))
        except DomainError as exc:
            outcomes.append(("quarantined", quarantine_reason(exc)))
            quarantined.append(ev.seq)
    return Reduced(acked, reapplied_at, fresh, outcomes, quarantined, view, rollup)


def quarantine_reason(exc: DomainError) -> str:
    """Why the reducer refused an event, as the journal keeps it."""
    return json.dumps({"code": exc.code, "message": str(exc)}, ensure_ascii=False)


def preset_dictionary(engine: Engine, kiosk_id: str, header: str) -> bytes:
    """The deflate dictionary a kiosk compressed with, rebuilt from the events ``first-last`` we hold."""
    first_text, _, last_text = header.strip().partition("-")
    if not (header.isascii() and first_text.isdigit() and last_text.isdigit()) or len(header) > 40:
        raise BadRequest("dictionary_invalid", "Muso-Dict must be FIRST-LAST (event seqs)")
    first, last = int(first_text), int(last_text)
    if not 1 <= first <= last or last - first >= 1000:
        raise BadRequest("dictionary_invalid", "Muso-Dict must name 1 to 1000 events")
    with read(engine) as conn:
        rows = conn.execute(
            select(*EVENT_COLUMNS)
            .where(journal.c.kiosk_id == kiosk_id, journal.c.seq.between(first, last))
            .order_by(journal.c.seq)
        ).all()
    if len(rows) != last - first + 1:
        raise Conflict("dictionary_unknown", "we do not hold the events of this dictionary: send gzip")
    return dictionary([Event(*row) for row in rows])


def _prev_hash(conn: Any, kiosk_id: str, from_seq: int) -> str | None:
    if from_seq == 1:
        return GENESIS
    return conn.scalar(select(journal.c.hash).where(journal.c.kiosk_id == kiosk_id, journal.c.seq == from_seq - 1))


def _keys(conn: Any, kiosk_id: str, source: str) -> list[tuple[str, bool]]:
    """The kiosk's keys as (public key, may sign). A bundle may have been written before the kiosk was
    re-keyed; a revoked key signs nothing, but is kept to say so rather than call its batch a forgery."""
    allowed = ("active", "replaced") if source == "bundle" else ("active",)
    query = select(kiosk_keys.c.public_key, kiosk_keys.c.status).where(kiosk_keys.c.kiosk_id == kiosk_id)
    return [(key, status in allowed) for key, status in conn.execute(query)]


def _replaced(conn: Any, kiosk_id: str, public_key: str) -> bool:
    status = select(kiosk_keys.c.status).where(kiosk_keys.c.kiosk_id == kiosk_id, kiosk_keys.c.public_key == public_key)
    return conn.scalar(status) == "replaced"


def _check_chain(
    kiosk_id: str, batch: PushBatch, events: list[Event], to_seq: int, prev: str, keys: list[tuple[str, bool]]
) -> tuple[list[Event], str]:
    chained = chain(events, prev)
    if chained[-1].hash != batch.head:
        raise Tampered("chain_mismatch", "the events do not hash to the batch's head (altered, reordered or cut)")
    message = batch_message(kiosk_id, batch.from_seq, to_seq, prev, batch.head)
    signer = next((k for k, may in keys if may and signature_ok(k, batch.sig, message)), None)
    if signer is None:
        if any(not may and signature_ok(k, batch.sig, message) for k, may in keys):
            raise Tampered("key_revoked", "signed with a key of this kiosk that an administrator revoked")
        raise Tampered("signature_invalid", "the batch signature is not this kiosk's")
    return chained, signer


def _anchors(
    conn: Any, kiosk_id: str, batch: PushBatch, received: int, stored: dict[str, tuple[int, int]] | None
) -> dict[str, tuple[int, int]]:
    """(server_ms, mono_ms) per boot: our clock at a known point of that boot's monotonic clock.

    The kiosk has no real-time clock; its monotonic clock is right within a
    boot. An event's time is then ``server_ms - (anchor_mono - event_mono)``.
    The batch's ``now`` anchors the boot it was sent from (the first anchor
    of a boot is kept: the nearest to its events); events of boots that never
    synced keep only their device time.

    ``stored``: the anchors already read (on the snapshot the batch was reduced on, still
    valid: only a push that advances the kiosk's cursor adds anchors); None to read them here.
    """
    found = dict(stored) if stored is not None else _stored_anchors(conn, kiosk_id, batch)
    if batch.now is not None and batch.now[0] not in found:
        boot, mono = batch.now
        stmt = insert(conn, boot_anchors).on_conflict_do_nothing(index_elements=["kiosk_id", "boot_id"])
        conn.execute(stmt, {"kiosk_id": kiosk_id, "boot_id": boot, "server_ms": received, "mono_ms": mono})
        found[boot] = (received, mono)  # we hold the kiosk's lock: nobody anchored this boot meanwhile
    return found


def _stored_anchors(conn: Any, kiosk_id: str, batch: PushBatch) -> dict[str, tuple[int, int]]:
    """The anchors we hold of the boots a batch names (its events' and the one it was sent from)."""
    boots = {*batch.boots, *([batch.now[0]] if batch.now is not None else [])}
    found = conn.execute(
        select(boot_anchors.c.boot_id, boot_anchors.c.server_ms, boot_anchors.c.mono_ms).where(
            boot_anchors.c.kiosk_id == kiosk_id, boot_anchors.c.boot_id.in_(sorted(boots))
        )
    ).all()
    return {row[0]: (row[1], row[2]) for row in found}


def body_or_none(ev: Any) -> Any:
    try:
        return ev.body
    except ValueError:  # a malformed body is quarantined by the reducer, not by the prefetch
        return None


def _report(batch: PushBatch, received: int) -> dict[str, Any]:
    """The kiosk's word about itself, as columns of ``kiosks`` (nothing when it sent none)."""
    r = batch.report
    if r is None:
        return {}
    return {
        "app_version": r.v,
        "print_pending": r.pq,
        "printer_error": r.pe,
        "events_pending": r.ep,
        "reported_at": received,
    }
