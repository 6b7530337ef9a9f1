"""Journal events, their canonical form and the hash chain that links them.

``hash = SHA-256(prev_hash || canonical(event))``: the same bytes on the kiosk,
the server and a member's receipt (via its verification code). Canonical JSON
is sorted, compact UTF-8 and refuses floats, so no two machines can disagree
on how a franc is written.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .errors import DomainError

GENESIS = "0" * 64


def _check(value: Any, path: str) -> None:
    if isinstance(value, float):
        raise DomainError("float_in_event", path)
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise DomainError("key_not_text", path)
            _check(v, f"{path}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check(v, f"{path}[{i}]")
    elif value is not None and not isinstance(value, (str, int, bool)):
        raise DomainError("value_not_json", path, value=type(value).__name__)


def canonical(value: Any) -> str:
    _check(value, "body")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@dataclass(frozen=True)
class Event:
    """One fact in a kiosk's journal. ``body_json`` is canonical, hence immutable."""

    seq: int
    type: str
    body_json: str
    device_time: int  # ms since the epoch by the kiosk's (untrusted) clock
    boot_id: str
    mono_ms: int
    hash: str = ""

    @cached_property
    def body(self) -> dict[str, Any]:
        return json.loads(self.body_json)

    def signed_part(self) -> str:
        """``canonical({"body", "boot_id", "device_time", "mono_ms", "seq", "type"})``, assembled
        without parsing the body again: ``body_json`` is canonical already (verify_chain checks)."""
        text = json.dumps
        return (
            f'{{"body":{self.body_json},"boot_id":{text(self.boot_id, ensure_ascii=False)},'
            f'"device_time":{int(self.device_time)},"mono_ms":{int(self.mono_ms)},"seq":{int(self.seq)},'
            f'"type":{text(self.type, ensure_ascii=False)}}}'
        )

    def chained(self, prev_hash: str) -> Event:
        return Event(
            self.seq,
            self.type,
            self.body_json,
            self.device_time,
            self.boot_id,
            self.mono_ms,
            chain_hash(prev_hash, self),
        )


def make_event(seq: int, type_: str, body: dict[str, Any], device_time: int, boot_id: str, mono_ms: int) -> Event:
    return Event(seq, type_, canonical(body), device_time, boot_id, mono_ms)


def chain_hash(prev_hash: str, event: Event) -> str:
    digest = hashlib.sha256()
    digest.update(bytes.fromhex(prev_hash))
    digest.update(event.signed_part().encode("utf-8"))
    return digest.hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str  # "gap" | "hash" | "body"


def verify_chain(events: list[Event], prev_hash: str = GENESIS, first_seq: int = 1) -> list[ChainBreak]:
    """Every break in ``events``: gaps in ``seq``, non-canonical bodies, wrong hashes."""
    breaks: list[ChainBreak] = []
    expected_seq = first_seq
    for event in events:
        if event.seq != expected_seq:
            breaks.append(ChainBreak(event.seq, "gap"))
        expected_seq = event.seq + 1
        try:
            if canonical(json.loads(event.body_json)) != event.body_json:
                breaks.append(ChainBreak(event.seq, "body"))
        except (ValueError, DomainError):
            breaks.append(ChainBreak(event.seq, "body"))
            prev_hash = event.hash
            continue
        try:
            linked = chain_hash(prev_hash, event) == event.hash
        except ValueError:  # a stored hash that is not even hexadecimal: tampered, not a crash
            linked = False
        if not linked:
            breaks.append(ChainBreak(event.seq, "hash"))
        prev_hash = event.hash
    return breaks


def verification_code(hash_hex: str) -> str:
    """A short code for a receipt: 10 base32 characters (50 bits) of the chain hash.

    Short enough to type into the coordinators' page, long enough that a forged
    receipt cannot guess a code that exists.
    """
    raw = base64.b32encode(bytes.fromhex(hash_hex)[:10]).decode("ascii")[:10]
    return f"{raw[:5]}-{raw[5:]}"
