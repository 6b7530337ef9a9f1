"""One app per kiosk database: a lock file held for as long as the app runs.

Two apps on one database would each drive the printer and the screen's idea of
the open meeting; and the demo, which rebuilds its database from scratch, would
delete the files under an open app, whose entries would then go nowhere. An
advisory ``flock`` next to the database says whether an app has it open; the
kernel lets it go when the app dies, so a crash never leaves it taken.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class AlreadyOpen(Exception):
    """An app has the database open."""


def _lock_path(db_path: str | Path) -> Path:
    return Path(f"{db_path}.lock")


@contextmanager
def held(db_path: str | Path) -> Iterator[None]:
    """Hold the database's lock, or raise AlreadyOpen when an app has it."""
    fd = os.open(_lock_path(db_path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyOpen(f"l'application est déjà ouverte sur {db_path}") from None
        yield
    finally:
        os.close(fd)  # closing releases the lock


def in_use(db_path: str | Path) -> bool:
    if not _lock_path(db_path).exists():
        return False
    try:
        with held(db_path):
            return False
    except AlreadyOpen:
        return True
