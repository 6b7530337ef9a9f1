"""Backups through SQLite's online backup API: consistent while the kiosk runs.

Never a file copy: in WAL mode the newest commits live in the -wal file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
from pathlib import Path

from .database import Store, StoreError
from .files import publish


def _name(store: Store) -> str:
    """Whose backups these are: the kiosk's id (several kiosks may share a stick), else the file's name."""
    return store.setting("kiosk_id") or store.path.stem


def backup(store: Store, dest: str | Path) -> Path:
    if str(dest).endswith(("/", os.sep)) and not Path(dest).is_dir():
        # Meant as a folder ("/media/cle/"), and there is none: a stick not mounted. Written as a file
        # named like the folder, the backup would sit on the SD card, where the stick was looked for.
        raise FileNotFoundError(errno.ENOENT, "no such folder (is the stick plugged in?)", str(dest))
    dest = Path(dest)
    if dest.is_dir():
        seq, _ = store.head()
        dest = dest / f"muso-{_name(store)}-{seq:09d}.db"
    live = store.path.resolve()
    if dest.resolve() in {live, Path(f"{live}-wal"), Path(f"{live}-shm")}:
        # Written over the live database, the copy would be overwritten again by the next checkpoint.
        raise StoreError(f"{dest} is the kiosk's own database: choose another place for the backup")
    tmp = dest.with_suffix(dest.suffix + ".part")
    leftovers = (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm"))
    for stale in leftovers:
        stale.unlink(missing_ok=True)
    try:
        target = sqlite3.connect(str(tmp))
        try:
            store.conn.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file on the stick
        finally:
            target.close()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        publish(tmp, dest)  # a half-written backup never carries the final name
    except BaseException:
        # A full stick would otherwise stay full of a useless half copy (and SQLite's journal of it): the
        # next backup, or the technician's files, would find no room left, and nothing tells what it is.
        for part in leftovers:
            with contextlib.suppress(OSError):
                part.unlink(missing_ok=True)
        raise
    return dest


def failure_reason(exc: BaseException) -> str | None:
    """``"full"``, ``"read_only"`` or ``"missing"`` (no such folder: a stick not mounted) when a failed
    backup says why in terms a technician acts on, else None."""
    if isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return "full"
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return "full"
    if isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_READONLY:
        return "read_only"
    if isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "read_only"
    if isinstance(exc, FileNotFoundError):
        return "missing"
    return None


def usb_mounts(roots: list[str] | None = None) -> list[Path]:
    """Removable mounts: under /media and /run/media (the desktop's automounter), or the folders
    named in MUSO_BACKUP_DIRS (colon-separated) when set. Read-only ones too: left out, a
    write-protected stick read as no stick at all, and the technician looked for no fault."""
    explicit = os.environ.get("MUSO_BACKUP_DIRS")
    if explicit:
        candidates = [Path(p) for p in explicit.split(":") if p]
    else:
        roots = roots or ["/media/", "/run/media/", "/mnt/usb"]
        candidates = []
        try:
            with open("/proc/mounts", encoding="utf-8") as mounts:
                for line in mounts:
                    point = line.split()[1].replace("\\040", " ")
                    if any(point.startswith(r) for r in roots):
                        candidates.append(Path(point))
        except OSError:
            return []
    return [p for p in candidates if p.is_dir()]


def rotate(directory: Path, keep: int, name: str = "*") -> list[Path]:
    """Keep the ``keep`` newest backups of kiosk ``name`` (names sort by journal position)."""
    backups = sorted(directory.glob(f"muso-{name}-*.db"))
    removed = backups[:-keep] if keep > 0 else []
    for old in removed:
        old.unlink(missing_ok=True)
    return removed


def backup_to_usb(store: Store, keep: int = 10) -> tuple[list[Path], dict[Path, OSError | sqlite3.Error]]:
    """One backup on each stick present: where they went (possibly nowhere), and the sticks that
    failed with why. One stick failing (full, pulled out, read-only) does not stop the others."""
    written: list[Path] = []
    failed: dict[Path, OSError | sqlite3.Error] = {}
    for mount in usb_mounts():
        folder = mount / "muso-sauvegardes"
        try:
            if not os.access(mount, os.W_OK):  # a read-only mount (EROFS), whoever we run as
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(mount))
            folder.mkdir(exist_ok=True)
            try:
                written.append(backup(store, folder))
            except (OSError, sqlite3.Error):
                # Full, perhaps: make room with the oldest backups first (after a success they go
                # anyway), then once more. The older ones stay when there was room.
                if not rotate(folder, max(keep - 1, 0), _name(store)):
                    raise
                written.append(backup(store, folder))
            rotate(folder, keep, _name(store))
        except (OSError, sqlite3.Error) as exc:
            failed[mount] = exc
        finally:  # a half-written file must not stay to look like a backup
            for part in folder.glob("muso-*.db.part") if folder.is_dir() else ():
                part.unlink(missing_ok=True)
    return written, failed


def restore(backup_file: str | Path, db_path: str | Path) -> None:
    """Put a verified backup in place of the kiosk's database (the app must be stopped).

    Through the backup API again, so the -wal and -shm of the old file cannot
    survive next to the restored one.
    """
    source = sqlite3.connect(f"file:{Path(backup_file)}?mode=ro", uri=True)
    target = sqlite3.connect(str(db_path))
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
    finally:
        source.close()
        target.close()
