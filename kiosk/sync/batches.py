"""What leaves the kiosk: a push batch's body (the same document over HTTP or on a USB stick), compressed.

The kiosk's report rides along with each batch (the coordinators' fleet page),
and a batch may be deflated against a preset dictionary of earlier events
(``kiosk.domain.wire.dictionary``): on 2G every byte is paid for.
"""

from __future__ import annotations

import gzip
import zlib
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.domain.events import GENESIS, Event
from kiosk.domain.wire import batch_message, dictionary, dictionary_range, dumps, encode_batch
from kiosk.store import Store, StoreError
from kiosk.store.print_queue import PrintQueue

from . import keys

DICT_ENCODING = "x-muso-dict"  # raw deflate with kiosk.domain.wire.dictionary as preset dictionary


def compress(body: bytes, zdict: bytes | None = None) -> bytes:
    if zdict is None:
        return gzip.compress(body, compresslevel=9, mtime=0)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, zdict)
    return packer.compress(body) + packer.flush()


def batch_body(
    store: Store, kiosk_id: str, key: Ed25519PrivateKey, events: list[Event], *, now: bool, zdict: bytes | None = None
) -> bytes:
    """A push body for ``events``: the same document goes over HTTP or into a USB bundle (gzip there)."""
    prev = hash_before(store, events[0].seq)
    message = batch_message(kiosk_id, events[0].seq, events[-1].seq, prev, events[-1].hash)
    anchor = (store.clock.boot_id, store.clock.mono_ms()) if now else None
    report = kiosk_report(store, events[-1].seq)
    return compress(dumps(encode_batch(kiosk_id, events, keys.sign(key, message), anchor, report)), zdict)


def kiosk_report(store: Store, last_sent: int) -> dict[str, Any]:
    """What the coordinators' fleet page shows of this kiosk: version, receipts waiting, printer trouble."""
    from importlib import metadata

    try:
        version = metadata.version("muso-kiosk")
    except metadata.PackageNotFoundError:
        version = None
    pending = PrintQueue(store).pending_count()
    oldest = store.query("SELECT last_error FROM print_jobs WHERE status != 'printed' ORDER BY id LIMIT 1")
    error = oldest[0]["last_error"] if oldest else None
    report: dict[str, Any] = {"v": version, "pq": pending, "ep": max(0, store.head()[0] - last_sent)}
    if error:
        report["pe"] = str(error)[:200]
    return {k: v for k, v in report.items() if v is not None}


def preset_dictionary(store: Store, from_seq: int) -> tuple[str, bytes] | None:
    """(header value, bytes) of the dictionary for a batch starting at ``from_seq``, if there is one."""
    span = dictionary_range(from_seq)
    if span is None:
        return None
    first, last = span
    return f"{first}-{last}", dictionary(list(store.events(after=first - 1, limit=last - first + 1)))


def hash_before(store: Store, seq: int) -> str:
    found = hash_at(store, seq - 1)
    if found is None:
        raise StoreError(f"journal has no event {seq - 1}")
    return found


def hash_at(store: Store, seq: int) -> str | None:
    if seq == 0:
        return GENESIS
    row = store.conn.execute("SELECT hash FROM journal WHERE seq = ?", (seq,)).fetchone()
    return str(row[0]) if row else None
