"""Backups through SQLite's online backup API: consistent while the kiosk runs.

Never a file copy: in WAL mode the newest commits live in the -wal file.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from .database import Store


def backup(store: Store, dest: str | Path) -> Path:
    dest = Path(dest)
    if dest.is_dir():
        seq, _ = store.head()
        dest = dest / f"muso-{store.path.stem}-{seq:09d}.db"
    tmp = dest.with_suffix(dest.suffix + ".part")
    tmp.unlink(missing_ok=True)
    target = sqlite3.connect(str(tmp))
    try:
        store.conn.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file on the stick
    finally:
        target.close()
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, dest)  # a half-written backup never carries the final name
    dir_fd = os.open(dest.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return dest
