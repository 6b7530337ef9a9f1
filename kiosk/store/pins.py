"""Officers' PINs: slow salted hashes, a lockout after repeated failures.

Kept in a local table that never enters the journal, so neither a PIN nor its
hash ever leaves the kiosk by sync or USB bundle.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3

from kiosk.domain.errors import DomainError

from .database import Store, Writer

MAX_FAILURES = 5
LOCKOUT_MS = 5 * 60 * 1000
# scrypt with n=2**14, r=8: ~50 ms on a Pi 4, which makes guessing 10^4 PINs
# offline cost minutes rather than microseconds, while a login stays instant.
N, R, P = 2**14, 8, 1


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    return f"scrypt${N}${R}${P}${salt.hex()}${digest.hex()}"


def _matches(pin: str, stored: str) -> bool:
    _, n, r, p, salt, digest = stored.split("$")
    got = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    return hmac.compare_digest(got.hex(), digest)


def check_pin_format(pin: object) -> str:
    if not isinstance(pin, str) or not (pin.isascii() and pin.isdigit()) or not 4 <= len(pin) <= 8:
        raise DomainError("pin_format", "pin")
    if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
        raise DomainError("pin_too_simple", "pin")
    return pin


def has_pin(conn: sqlite3.Connection, member_id: str) -> bool:
    return conn.execute("SELECT 1 FROM officer_pins WHERE member_id = ?", (member_id,)).fetchone() is not None


def check_new_pin(conn: sqlite3.Connection, member_id: str, pin: object) -> str:
    """A PIN that replaces one: the format rules, and not the PIN it replaces.

    Compared with the stored hash, not with what was typed as the current PIN, so a reset (where
    nobody types the old one) is held to it too: a PIN someone watched being typed, chosen again
    after a reset, would leave them able to stand in for its officer.
    """
    pin = check_pin_format(pin)
    row = conn.execute("SELECT pin_hash FROM officer_pins WHERE member_id = ?", (member_id,)).fetchone()
    if row is not None and _matches(pin, row[0]):
        raise DomainError("pin_same", "pin")
    return pin


def set_pin(w: Writer, member_id: str, pin: str) -> None:
    member = w.view.get("members", (member_id,))
    if member is None:
        raise DomainError("member_unknown", "member", value=member_id)
    w.execute(
        "INSERT OR REPLACE INTO officer_pins (member_id, pin_hash, failures, locked_until) VALUES (?, ?, 0, 0)",
        (member_id, hash_pin(check_pin_format(pin))),
    )


def drop_pin(w: Writer, member_id: str) -> None:
    """Forget an officer's PIN when they leave office: should the group make them an officer again,
    they choose a new one then, in front of it, rather than find working a PIN others may have seen
    typed during the years they were out of office."""
    w.execute("DELETE FROM officer_pins WHERE member_id = ?", (member_id,))


def locked_until(store: Store, member_id: str) -> int:
    """When this officer's lockout ends (kiosk clock, ms); 0 if they are not locked out now."""
    row = store.conn.execute("SELECT locked_until FROM officer_pins WHERE member_id = ?", (member_id,)).fetchone()
    return row[0] if row and row[0] > store.clock.now_ms() else 0


def verify_pin(store: Store, member_id: str, pin: str) -> None:
    """Raise unless ``pin`` is this officer's; count failures in their own transaction.

    The failure count commits even though the caller's operation is refused:
    otherwise a lockout could be dodged by making every attempt fail.
    """
    now = store.clock.now_ms()
    row = store.conn.execute(
        "SELECT pin_hash, failures, locked_until FROM officer_pins WHERE member_id = ?", (member_id,)
    ).fetchone()
    if row is None:
        raise DomainError("pin_not_set", "pin")
    pin_hash, failures, locked_until = row
    if locked_until > now:
        raise DomainError("pin_locked", "pin", minutes=(locked_until - now) // 60000 + 1)
    ok = isinstance(pin, str) and _matches(pin, pin_hash)
    with store.write() as w:
        if ok:
            w.execute("UPDATE officer_pins SET failures = 0, locked_until = 0 WHERE member_id = ?", (member_id,))
        else:
            failures += 1
            lock = now + LOCKOUT_MS if failures >= MAX_FAILURES else 0
            w.execute(
                "UPDATE officer_pins SET failures = ?, locked_until = ? WHERE member_id = ?",
                (0 if lock else failures, lock, member_id),
            )
    if not ok:
        if failures >= MAX_FAILURES:
            raise DomainError("pin_locked", "pin", minutes=LOCKOUT_MS // 60000)
        raise DomainError("pin_wrong", "pin", left=MAX_FAILURES - failures)
