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
# Made once: ``json.dumps`` with options builds a new encoder at every call, and these run for every event.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_TEXT = json.JSONEncoder(ensure_ascii=False).encode


_PLAIN = (str, int, bool, type(None))


def _bad(value: Any) -> tuple[str, str, dict[str, str]] | None:
    """The first value JSON would not carry exactly, as (code, path, detail); None when all is well.

    Paths are built only on the way back from a failure: every event goes
    through here, on the kiosk and for every event a server receives.
    """
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                return "key_not_text", "", {}
            if not isinstance(v, _PLAIN) and (found := _bad(v)) is not None:
                return found[0], f".{k}{found[1]}", found[2]
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            if not isinstance(v, _PLAIN) and (found := _bad(v)) is not None:
                return found[0], f"[{i}]{found[1]}", found[2]
    elif isinstance(value, float):
        return "float_in_event", "", {}
    elif not isinstance(value, _PLAIN):
        return "value_not_json", "", {"value": type(value).__name__}
    return None


def canonical(value: Any) -> str:
    found = _bad(value)
    if found is not None:
        code, path, detail = found
        raise DomainError(code, f"body{path}", **detail)
    return _CANONICAL(value)


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
        text = _TEXT
        return (
            f'{{"body":{self.body_json},"boot_id":{text(self.boot_id)},'
            f'"device_time":{int(self.device_time)},"mono_ms":{int(self.mono_ms)},"seq":{int(self.seq)},'
            f'"type":{text(self.type)}}}'
        )

    def chained(self, prev_hash: str) -> Event:
        """This event with its hash after ``prev_hash``. A copy of its fields, and of its parsed
        body when it has one: the server chains every event it receives, and a frozen
        dataclass's ``__init__`` (one ``object.__setattr__`` per field) would cost as much as the hash."""
        linked = object.__new__(Event)
        linked.__dict__.update(self.__dict__, hash=chain_hash(prev_hash, self))
        return linked


def make_event(seq: int, type_: str, body: dict[str, Any], device_time: int, boot_id: str, mono_ms: int) -> Event:
    return Event(seq, type_, canonical(body), device_time, boot_id, mono_ms)


def received_event(seq: int, type_: str, body: dict[str, Any], device_time: int, boot_id: str, mono_ms: int) -> Event:
    """An event as a reader decodes it (hash still empty), keeping the ``body`` it parsed: ``Event.body``
    would parse the canonical text again. Built field by field, as ``chained`` does: a server makes one
    for every event it receives."""
    event = object.__new__(Event)
    event.__dict__.update(
        seq=seq,
        type=type_,
        body_json=canonical(body),
        device_time=device_time,
        boot_id=boot_id,
        mono_ms=mono_ms,
        hash="",
        body=body,
    )
    return event


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


def journal_point_code(hash_hex: str) -> str:
    """The code of a document that records nothing (a relevé, an échéancier): it vouches for the journal
    as it stood at ``hash_hex``, and differs from the code of the receipt that may sit at that point, so
    a checker can tell which of the two papers it holds."""
    return verification_code(hashlib.sha256(b"muso-journal-point\n" + bytes.fromhex(hash_hex)).hexdigest())


def verification_code(hash_hex: str) -> str:
    """A short code for a receipt: 10 base32 characters (50 bits) of the chain hash.

    Short enough to type into the coordinators' page, long enough that a forged
    receipt cannot guess a code that exists.
    """
    raw = base64.b32encode(bytes.fromhex(hash_hex)[:10]).decode("ascii")[:10]
    return f"{raw[:5]}-{raw[5:]}"
