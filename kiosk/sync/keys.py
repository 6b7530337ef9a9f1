"""The kiosk's Ed25519 key: made here at enrollment, and the private half never leaves this device.

Kept in its own file next to the database (``kiosk.db`` → ``kiosk.db.key``),
mode 0600, rather than in the settings table: the database is what
``muso-kiosk backup`` copies to USB sticks and what a restore rebuilds, and a
backup on a stick must not be able to sign in this kiosk's name. A device
rebuilt from a backup enrolls a new key with a replacement code instead.
"""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.store.files import publish

from .errors import SyncError


def key_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".key")


def b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def public_text(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return b64e(raw)


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    return b64e(key.sign(message))


def create(path: Path) -> Ed25519PrivateKey:
    """A new key, written atomically with 0600 from the first byte (never readable by others, even briefly)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    tmp = path.with_name(path.name + ".part")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    publish(tmp, path)
    return key


def load(path: Path) -> Ed25519PrivateKey:
    if not path.exists():
        raise SyncError("not_enrolled", f"no key at {path}")
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise SyncError("key_insecure", f"{path} must be readable by its owner only (chmod 600)")
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SyncError("not_enrolled", f"{path} is not an Ed25519 key")
    return key
