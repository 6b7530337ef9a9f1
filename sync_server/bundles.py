"""USB bundles: the same signed batches a kiosk would push, carried on a stick and imported here.

A bundle is a folder of ``muso-<kiosk>-<from>-<to>.batch.gz`` files, each
exactly the gzip body of one push. They need no HTTP authentication: each
batch is signed by the kiosk's key over its chain head, and goes through the
same ``ingest.push`` as an HTTP push — the same checks, the same idempotency
(importing a stick twice, or a stick whose events were also pushed over
2G, stores every event once).
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine

from . import enrollment, ingest
from .api.deps import decompress
from .errors import Forbidden, SyncServerError, TooLarge, Unprocessable
from .schemas import PushBatch
from .settings import Settings

KIOSK_ID_MAX = 64  # db.KioskId's length: a longer name on a stick is filed under no kiosk
NAME = re.compile(r"^muso-(?P<kiosk>[A-Za-z0-9._-]+)-(?P<from>\d+)-(?P<to>\d+)\.batch\.gz$")


@dataclass
class FileResult:
    name: str
    kiosk_id: str = ""
    acked_seq: int | None = None
    new: int = 0
    quarantined: int = 0
    error: str = ""
    code: str = ""  # the refusal's code, and its parameters (a gap's acked_seq: where the server stands)
    params: dict[str, Any] = field(default_factory=dict)
    first: int | None = None  # the events the file holds, as read (or as its name claims, if unread)
    last: int | None = None


@dataclass
class ImportResult:
    files: list[FileResult] = field(default_factory=list)
    # Entries named ``muso-…`` that are no batch to import: a ``.part`` left by a stick pulled out during an
    # export, a batch renamed on the way. Said, not silently passed over: events may be missing with them.
    partial: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(not f.error for f in self.files)


def batch_files(folder: Path) -> list[Path]:
    found = [p for p in folder.iterdir() if NAME.match(p.name)]
    return sorted(found, key=lambda p: (NAME.match(p.name)["kiosk"], int(NAME.match(p.name)["from"])))  # type: ignore[index]


def stray_files(folder: Path) -> tuple[list[str], list[str]]:
    """Names of the folder's ``muso-*`` files that are not batches: unfinished ``*.part`` ones, and the rest.
    Folders are left out (a stick's ``muso-sauvegardes`` holds the kiosk's backups, not batches)."""
    partial, unexpected = [], []
    for p in sorted(folder.iterdir()):
        if not p.name.startswith("muso-") or NAME.match(p.name) or _is_folder(p):
            continue
        (partial if p.name.endswith(".part") else unexpected).append(p.name)
    return partial, unexpected


def _is_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(path.lstat().st_mode)
    except OSError:  # gone since the listing, or the stick failing: still a name to mention
        return False


def read_batch(path: Path, settings: Settings) -> PushBatch:
    cap = settings.max_body_bytes
    try:
        data = _read_regular(path, cap + 1)
    except OSError as exc:  # a stick pulled out or failing: this file is refused, not all
        raise Unprocessable("batch_unreadable", f"{path.name} cannot be read: {exc.strerror or exc}") from None
    if data is None:
        raise Unprocessable(
            "batch_unreadable", f"{path.name} is not a regular file (a folder, a link, a pipe or a device): not read"
        )
    if len(data) > cap:
        raise TooLarge("body_too_large", f"{path.name} is larger than {cap} bytes")
    raw = decompress(data, "gzip", settings.max_decompressed_bytes)
    try:
        return PushBatch.model_validate_json(raw)
    except ValidationError as exc:
        raise Unprocessable("batch_invalid", f"{path.name} is not a batch: {exc.error_count()} problem(s)") from None


def _read_regular(path: Path, limit: int) -> bytes | None:
    """At most ``limit`` bytes of ``path`` if it is a regular file itself, else None, with nothing opened that
    is not one. A stick is anyone's: a link named like a batch may lead to /dev/zero (a read without end, then
    a MemoryError) or to a file of this server, and opening a FIFO waits forever for a writer."""
    if not stat.S_ISREG(path.lstat().st_mode):
        return None
    # O_NOFOLLOW and O_NONBLOCK: the entry may have been swapped for a link or a FIFO since the lstat.
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks: list[bytes] = []
        left = limit
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def import_folder(engine: Engine, settings: Settings, folder: Path) -> ImportResult:
    result = ImportResult()
    result.partial, result.unexpected = stray_files(folder)
    # In the order of their contents, not of their names: a file renamed on the way must not gap the rest.
    # Only where each begins is kept from this first reading: a stick of many kiosks' months, parsed
    # whole at once, would not fit in the server's memory.
    found: list[tuple[str, int, Path, FileResult]] = []
    for path in batch_files(folder):
        named = NAME.match(path.name)
        assert named is not None
        out = FileResult(path.name, first=int(named["from"]), last=int(named["to"]))
        result.files.append(out)
        try:
            batch = read_batch(path, settings)
        except SyncServerError as exc:
            _refused(engine, out, exc, named["kiosk"])
            continue
        out.first, out.last = batch.from_seq, batch.from_seq + len(batch.events) - 1
        found.append((batch.kiosk, batch.from_seq, path, out))
    found.sort(key=lambda f: (f[0], f[1]))
    stopped: set[str] = set()  # after a refusal, a kiosk's later batches would only gap
    for kiosk_id, _from_seq, path, out in found:
        out.kiosk_id = kiosk_id
        if kiosk_id in stopped:
            out.code, out.error = "skipped", "skipped: an earlier batch of this kiosk was refused"
            continue
        try:
            batch = read_batch(path, settings)
            # A clear "unknown" or "revoked kiosk" before any signature talk (its keys sign nothing then).
            if enrollment.kiosk(engine, kiosk_id)["status"] == "revoked":
                raise Forbidden("kiosk_not_active", f"kiosk {kiosk_id} has been revoked: its batches are refused")
            # ``kiosk_id`` as first read: a file changed between the two readings is another kiosk's, refused.
            done = ingest.push(
                engine, batch, kiosk_id=kiosk_id, max_events=settings.max_batch_events, source="bundle", remote="usb"
            )
            out.acked_seq, out.new, out.quarantined = done.acked_seq, done.new, len(done.quarantined)
        except SyncServerError as exc:
            _refused(engine, out, exc, kiosk_id)
            stopped.add(kiosk_id)
    return result


def _refused(engine: Engine, out: FileResult, exc: SyncServerError, kiosk_id: str) -> None:
    """Said in the result, and flagged as the same refusal over HTTP would be. ``ingest.push`` flags its
    own; those before it (a bomb, a file too large, a revoked kiosk's) name a kiosk nothing proved."""
    out.error = f"{exc.code}: {exc.message}"
    out.code, out.params = exc.code, dict(exc.params)
    if exc.flag and not getattr(exc, "recorded", False):
        detail = {**exc.detail(), "file": out.name, "source": "bundle", "claimed_not_proven": True}
        ingest.record_incident(engine, kiosk_id if len(kiosk_id) <= KIOSK_ID_MAX else None, exc.code, detail, "usb")
