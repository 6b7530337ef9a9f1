"""The sync wire format: how a run of journal events travels to the server (by 2G or USB stick).

One definition for the kiosk that writes batches, the server that reads them
and the bundles carried on a stick, so the three cannot drift apart. Pure:
no compression, no keys, no HTTP (those live at the edges).

Bytes matter on 2G, so a batch carries no per-event hash (the server
recomputes the chain from its own stored head and compares one ``head``),
ids of boots once, device times as differences from the previous event,
and monotonic times as their difference from that (0 within a boot, whose
two clocks advance together). ``dictionary`` gives both ends the same
deflate preset dictionary, made of events the server already holds: the
members', officers' and meeting's ids then cost a back-reference even the
first time a batch names them. The kiosk's Ed25519 signature covers
``batch_message``: the kiosk id, the seq range and the chain heads before and
after, which through the hash chain commits to every byte of history.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from .errors import DomainError
from .events import GENESIS, Event, received_event

VERSION = 1
HEX64 = frozenset("0123456789abcdef")


def is_hash(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= HEX64


def batch_message(kiosk_id: str, from_seq: int, to_seq: int, prev: str, head: str) -> bytes:
    """What the kiosk signs for a batch: nothing the server cannot recompute from its own journal."""
    return f"muso-batch-v{VERSION}\n{kiosk_id}\n{from_seq}\n{to_seq}\n{prev}\n{head}".encode()


def request_message(method: str, target: str, kiosk_id: str, time_ms: int, body: bytes) -> bytes:
    """What the kiosk signs for one HTTP request: method, path and query, who, when, and the body's digest."""
    digest = hashlib.sha256(body).hexdigest()
    return f"muso-request-v{VERSION}\n{method.upper()}\n{target}\n{kiosk_id}\n{time_ms}\n{digest}".encode()


def enrollment_message(code: str, public_key: str) -> bytes:
    """Proof that the enrolling kiosk holds the private half of ``public_key``."""
    return f"muso-enroll-v{VERSION}\n{code}\n{public_key}".encode()


def encode_batch(
    kiosk_id: str,
    events: Sequence[Event],
    signature: str,
    now: tuple[str, int] | None = None,
    report: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The document for ``events`` (contiguous, already chained); ``now`` = (boot_id, mono_ms) at sending.

    ``report``: the kiosk's own state for the coordinators' fleet page (app version, receipts waiting,
    the printer's last error, events still to send). Inside the signed body, so nobody on the way can
    change what a kiosk says about itself."""
    if not events:
        raise DomainError("batch_malformed", "events")
    boots: list[str] = []
    index: dict[str, int] = {}
    rows: list[list[Any]] = []
    last_time = last_mono = 0
    for i, ev in enumerate(events):
        if ev.seq != events[0].seq + i:
            raise DomainError("batch_malformed", "events", seq=ev.seq)
        if ev.boot_id not in index:
            index[ev.boot_id] = len(boots)
            boots.append(ev.boot_id)
        dt = ev.device_time - last_time
        rows.append([ev.type, json.loads(ev.body_json), dt, index[ev.boot_id], ev.mono_ms - last_mono - dt])
        last_time, last_mono = ev.device_time, ev.mono_ms
    doc: dict[str, Any] = {
        "v": VERSION,
        "kiosk": kiosk_id,
        "from_seq": events[0].seq,
        "head": events[-1].hash,
        "sig": signature,
        "boots": boots,
        "events": rows,
    }
    if report:
        doc["report"] = report
    if now is not None:
        doc["now"] = [now[0], now[1]]
    return doc


DICTIONARY_EVENTS = 200
DICTIONARY_BYTES = 32 * 1024  # deflate's window: older bytes could not be referred to anyway


def dictionary_range(from_seq: int) -> tuple[int, int] | None:
    """The events (first, last) whose encoding serves as the preset dictionary for a batch from ``from_seq``."""
    if from_seq <= 1:
        return None
    return max(1, from_seq - DICTIONARY_EVENTS), from_seq - 1


def dictionary(events: Sequence[Event]) -> bytes:
    """The same bytes on the kiosk and on the server, from the same stored events."""
    return dumps(encode_batch("", events, "")["events"])[-DICTIONARY_BYTES:]  # type: ignore[arg-type]


def dumps(doc: Any) -> bytes:
    """Compact UTF-8 JSON (the bytes that get compressed and sent)."""
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


_LIMIT = 2**62  # ms: the times an event may carry; 64-bit integers in both databases


def decode_events(from_seq: int, boots: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[Event]:
    """Events of a batch with their hashes still empty (the reader chains them from its own head).

    Raises DomainError for anything malformed: a batch that cannot be read
    exactly cannot be checked against the chain, so it is refused whole.
    """
    events = []
    last_time = last_mono = 0
    for i, row in enumerate(rows):
        where = f"events[{i}]"
        if not isinstance(row, (list, tuple)) or len(row) != 5:
            raise DomainError("batch_malformed", where)
        type_, body, dt, boot, dmono = row
        if not isinstance(type_, str) or not type_ or len(type_) > 64 or not isinstance(body, dict):
            raise DomainError("batch_malformed", where)
        for number in (dt, boot, dmono):
            if not isinstance(number, int) or isinstance(number, bool):
                raise DomainError("batch_malformed", where)
        if not 0 <= boot < len(boots):
            raise DomainError("batch_malformed", where)
        last_time += dt
        last_mono += dmono + dt
        if not (-_LIMIT <= last_time <= _LIMIT and -_LIMIT <= last_mono <= _LIMIT):
            raise DomainError("batch_malformed", where)  # beyond any clock, and beyond a database's integers
        events.append(received_event(from_seq + i, type_, body, last_time, boots[boot], last_mono))
    return events


def chain(events: Sequence[Event], prev: str = GENESIS) -> list[Event]:
    out = []
    for ev in events:
        ev = ev.chained(prev)
        out.append(ev)
        prev = ev.hash
    return out
