"""What the kiosk knows about sync, kept in its own database (migration 0005_sync_state)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kiosk.domain.events import Event
from kiosk.store import Store


@dataclass(frozen=True)
class SyncState:
    server_url: str | None
    acked_seq: int
    acked_head: str
    ref_cursor: int
    last_attempt_ms: int | None
    last_success_ms: int | None
    last_error: str | None
    failures: int
    restore_to: int | None


def load(store: Store) -> SyncState:
    row = store.query(
        "SELECT server_url, acked_seq, acked_head, ref_cursor, last_attempt_ms, last_success_ms, last_error, "
        "failures, restore_to FROM sync_state WHERE id = 1"
    )[0]
    return SyncState(**row)


def server_url(store: Store) -> str | None:
    """The server this kiosk is enrolled with: its receipts' QR codes lead there to be checked."""
    rows = store.query("SELECT server_url FROM sync_state WHERE id = 1")
    return rows[0]["server_url"] if rows else None


def update(store: Store, **values: Any) -> None:
    cols = ", ".join(f"{k} = ?" for k in values)
    with store.write() as w:
        w.execute(f"UPDATE sync_state SET {cols} WHERE id = 1", list(values.values()))


def acknowledge(store: Store, acked_seq: int, head: str) -> None:
    """The server holds everything up to ``acked_seq``: only its answer moves this."""
    update(store, acked_seq=acked_seq, acked_head=head)


BEHIND = "sync_behind_server"  # a local setting: the server's head when it said it holds more than we do


def set_behind(store: Store, server_seq: int | None) -> None:
    """Remember that the server holds events this kiosk lacks (an older backup put back), until a sync
    or a restore finds them the same again. Not ``last_error``: the next failure, offline as a village
    kiosk mostly is, would overwrite it, and the kiosk would record on as if nothing were wrong."""
    if server_seq is not None:
        store.set_setting(BEHIND, str(server_seq))
        return
    with store.write() as w:
        w.execute("DELETE FROM settings WHERE key = ?", (BEHIND,))


def is_behind(store: Store) -> bool:
    return store.setting(BEHIND) is not None


def behind(store: Store) -> int | None:
    """How many events the server said it holds, when it holds more than this kiosk; else None."""
    value = store.setting(BEHIND)
    return int(value) if value and value.isdigit() else None


def succeeded(store: Store, server_ms: int) -> None:
    """A whole sync went through (not merely an answer on the way: a push may still fail after it)."""
    update(store, last_success_ms=server_ms, last_error=None, failures=0)


def failed(store: Store, error: str, at_ms: int) -> None:
    with store.write() as w:
        w.execute(
            "UPDATE sync_state SET last_error = ?, failures = failures + 1, last_attempt_ms = ? WHERE id = 1",
            (error[:500], at_ms),
        )


# -- USB bundles ----------------------------------------------------------------------------------

EXPORTED = "sync_exported_seq"  # a local setting: what went on a stick is this device's business, not the journal's


def exported(store: Store) -> int:
    """The highest seq ever written to a USB bundle (0 if none)."""
    value = store.setting(EXPORTED)
    return int(value) if value and value.isdigit() else 0


def note_exported(store: Store, seq: int) -> None:
    if seq > exported(store):
        store.set_setting(EXPORTED, str(seq))


# -- clock --------------------------------------------------------------------------------------


def learn_clock(store: Store, server_ms: int, sent_mono: int, received_mono: int) -> None:
    """Anchor this boot's monotonic clock to the server's time (midpoint of the round trip)."""
    clock = store.clock
    mid = (sent_mono + received_mono) // 2
    with store.write() as w:
        w.execute(
            "INSERT OR REPLACE INTO sync_clock (boot_id, server_ms, mono_ms, device_ms, rtt_ms) VALUES (?, ?, ?, ?, ?)",
            (clock.boot_id, server_ms, mid, clock.now_ms() - (received_mono - mid), received_mono - sent_mono),
        )


def _anchor(store: Store, boot_id: str) -> tuple[int, int] | None:
    row = store.conn.execute("SELECT server_ms, mono_ms FROM sync_clock WHERE boot_id = ?", (boot_id,)).fetchone()
    return (row[0], row[1]) if row else None


def server_now(store: Store) -> int | None:
    """Real time by the server's clock, if this boot has talked to the server; else None."""
    anchor = _anchor(store, store.clock.boot_id)
    return anchor[0] + (store.clock.mono_ms() - anchor[1]) if anchor else None


def clock_offset(store: Store) -> int | None:
    """How far the device clock is from the server's (ms; positive: the device is behind)."""
    now = server_now(store)
    return now - store.clock.now_ms() if now is not None else None


def corrected_time(store: Store, event: Event) -> int | None:
    """An event's real time, if its boot was ever anchored (the server computes the same)."""
    anchor = _anchor(store, event.boot_id)
    return anchor[0] - (anchor[1] - event.mono_ms) if anchor else None


# -- reference data ------------------------------------------------------------------------------


def apply_reference(store: Store, changes: list[dict[str, Any]], cursor: int) -> None:
    with store.write() as w:
        for ch in changes:
            if ch["op"] == "del":
                w.execute("DELETE FROM sync_reference WHERE entity = ? AND key = ?", (ch["entity"], ch["key"]))
            else:
                w.execute(
                    "INSERT OR REPLACE INTO sync_reference (entity, key, value, version) VALUES (?, ?, ?, ?)",
                    (ch["entity"], ch["key"], json.dumps(ch["value"], ensure_ascii=False), ch["version"]),
                )
        w.execute("UPDATE sync_state SET ref_cursor = ? WHERE id = 1", (cursor,))


def forget_reference(store: Store) -> None:
    """Drop the reference data and its cursor: the next pull takes it whole, from the server now named."""
    with store.write() as w:
        w.execute("DELETE FROM sync_reference")
        w.execute("UPDATE sync_state SET ref_cursor = 0 WHERE id = 1")


def reference(store: Store, entity: str) -> dict[str, Any]:
    rows = store.query("SELECT key, value FROM sync_reference WHERE entity = ? ORDER BY key", (entity,))
    return {r["key"]: json.loads(r["value"]) for r in rows}


# -- what is not synced yet -------------------------------------------------------------------


def pending(store: Store) -> dict[str, int]:
    """Events and meetings the server has not acknowledged yet."""
    current = load(store)
    head, _ = store.head()
    # While a restore runs, what the kiosk holds came from the server: none of it is waiting to go there.
    acked = head if current.restore_to is not None else current.acked_seq
    # The meetings named by any event the server lacks: movements, attendance, the closing, receipts.
    meetings = store.conn.execute(
        "SELECT COUNT(DISTINCT json_extract(body, '$.meeting')) FROM journal WHERE seq > ?", (acked,)
    ).fetchone()[0]
    return {"events": max(0, head - acked), "meetings": meetings, "head_seq": head, "acked_seq": acked}
