"""Restore: a replacement kiosk (or one put back from an older backup) rebuilds its journal from the
server's and continues the same chain; and how this kiosk's journal stands to the server's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kiosk.domain.errors import DomainError
from kiosk.domain.events import Event
from kiosk.domain.members import OFFICER_ROLES, parse_role
from kiosk.store import StoreError
from kiosk.store.pins import drop_pin

from . import state
from .batches import hash_at
from .errors import SyncError

if TYPE_CHECKING:
    from .client import SyncClient


def restore(client: SyncClient, progress: Any = None) -> int:
    """Rebuild this kiosk's journal from the server and continue the same chain.

    The kiosk is empty (a new Pi), or its journal is a beginning of the
    server's (put back from an older USB backup): then the server's event
    at our head must be our head, hash for hash, which the first page shows
    before anything is written; any other journal is a fork, refused with
    nothing changed. Page by page, each page one transaction checked link by
    link by ``append_existing`` (and by the reducer), so an interrupted
    restore resumes where it stopped. ``restore_to`` stays set until the
    end: ``sync`` refuses to run on a half-restored kiosk.
    """
    local_head, local_hash = client.store.head()
    server = client.status()
    target = int(server["acked_seq"])
    if local_head > target:
        if hash_at(client.store, target) == server["head"]:
            raise SyncError("restore_not_needed", f"this kiosk holds {local_head} events, the server {target}")
        seq = first_difference(client, target)
        raise SyncError("chain_diverged", f"event {seq} differs between this kiosk and the server", seq=seq)
    rows: list[list[Any]] = []
    quarantined: dict[int, str] = {}
    if target:
        # From our head itself (not after it): the page then carries the server's hash for it.
        rows, quarantined = client.restore_page(max(0, local_head - 1))
        if local_head:
            if not _starts_at(rows, local_head, local_hash):
                seq = first_difference(client, local_head)
                raise SyncError(
                    "chain_diverged",
                    f"event {seq} differs between this kiosk and the server: not a beginning of its journal",
                    seq=seq,
                )
            rows = rows[1:]
    with client.store.write():
        # The checks took 2G round trips, and the app may have recorded meanwhile: from here on it
        # cannot (the journal refuses while ``restore_to`` is set), and it must not have before.
        if client.store.head() != (local_head, local_hash):
            raise SyncError("chain_diverged", "this kiosk recorded while its restore was being checked")
        state.update(client.store, restore_to=target)
    after = local_head
    while True:
        if rows:
            try:
                with client.store.write() as w:
                    for row in rows:
                        event = Event(*row)
                        w.append_existing(event, quarantined.get(row[0]))
                        if local_head and (gone := pin_gone(event)):
                            drop_pin(w, gone)
                            client.pins_dropped.add(gone)
            except (DomainError, StoreError) as exc:
                raise SyncError("restore_invalid", f"the server's journal does not rebuild here: {exc}") from None
            after = rows[-1][0]
            if progress:
                progress(after, target)
        if after >= target:
            break
        rows, quarantined = client.restore_page(after)
        if not rows:
            break
    seq, head = client.store.head()
    if seq != target or head != server["head"]:
        raise SyncError("chain_diverged", f"restored up to {seq}, expected {target} with the server's head")
    state.update(client.store, restore_to=None)
    state.set_behind(client.store, None)
    state.acknowledge(client.store, seq, head)
    state.succeeded(client.store, int(server["server_time"]))
    return seq


def first_difference(client: SyncClient, differs: int) -> int:
    """The first event that differs between this kiosk and the server, given one that does.

    The technician compares that number with the paper receipts: the event where the histories part,
    not merely where this side noticed it (a replacement Pi that recorded before its restore differs
    from n° 1). Each hash covers all before it, so the events before the first difference are the same
    and the rest differ: a search by halves, one event a request, some 17 requests for 100,000 events.
    ``differs`` itself when the server cannot tell (no network, an odd page)."""
    same, other = 0, differs  # event ``same`` is alike on both sides (0: before the first), ``other`` is not
    try:
        while other - same > 1:
            mid = (same + other) // 2
            rows, _ = client.restore_page(mid - 1, limit=1)
            if not rows or rows[0][0] != mid:
                return differs
            if rows[0][-1] == hash_at(client.store, mid):
                same = mid
            else:
                other = mid
    except (SyncError, TypeError, IndexError):
        return differs
    return other


def standing(client: SyncClient) -> str:
    """How this kiosk's journal stands to the server's, with no change made here: ``empty`` (nothing
    here, something there), ``behind`` (a beginning of the server's: restore), ``same``, ``ahead`` (the
    server's is a beginning of ours: sync) or ``fork``."""
    local_head, local_hash = client.store.head()
    server = client.status()
    target = int(server["acked_seq"])
    if local_head >= target:
        if hash_at(client.store, target) != server["head"]:
            return "fork"
        return "same" if local_head == target else "ahead"
    if local_head == 0:
        return "empty"
    rows, _ = client.restore_page(local_head - 1, limit=1)
    return "behind" if _starts_at(rows, local_head, local_hash) else "fork"


def _starts_at(rows: list[list[Any]], seq: int, hash_: str) -> bool:
    """A restore page asked from just before our head holds our head itself first: hash for hash, the
    server's journal begins with ours (rows are ``[seq, …, hash]``)."""
    return bool(rows) and rows[0][0] == seq and rows[0][-1] == hash_


def pin_gone(event: Event) -> str | None:
    """The officer whose PIN an event recorded after a backup makes stale on that backup, if any.

    PINs live in a local table, never in the journal: a kiosk put back from an older backup has the
    PINs of that day. One changed or reset since (maybe because someone had seen it), or held by an
    officer who has left office or the group since, must not work again: the officer chooses a new
    one at login, approved as a first PIN is (ui/screens/login.py)."""
    try:
        body = event.body
    except ValueError:  # a malformed body is the reducer's to refuse
        return None
    member = body.get("member") if isinstance(body, dict) else None
    if not isinstance(member, str):
        return None
    if event.type == "pin_changed":
        return member
    if event.type == "member_updated" and "role" in body:
        try:
            return None if parse_role(body["role"]) in OFFICER_ROLES else member
        except DomainError:
            return None
    if event.type == "movement_recorded" and body.get("kind") == "exit":
        return member
    return None
