"""``muso-kiosk export-bundle DIR``: the same signed batches as a push, written to a USB stick.

Events are *not* marked synced by an export: only the server's answer does
that (the next online sync, or never, if the stick is lost — then the
events are exported again next time, and duplicates are impossible server-side).
"""

from __future__ import annotations

import os
from pathlib import Path

from kiosk.store import Store
from kiosk.store.files import fsync_dir

from . import keys, state
from .batches import batch_body
from .errors import SyncError


def export(store: Store, folder: Path, *, from_seq: int | None = None, batch_events: int = 200) -> list[Path]:
    kiosk_id = store.setting("kiosk_id")
    if not kiosk_id:
        raise SyncError("not_enrolled", "this kiosk has no id yet (muso-kiosk init or enroll)")
    key = keys.load(keys.key_path(store.path))
    folder.mkdir(parents=True, exist_ok=True)
    after = state.load(store).acked_seq if from_seq is None else max(0, from_seq - 1)
    written = []
    while True:
        events = list(store.events(after=after, limit=batch_events))
        if not events:
            break
        # No clock anchor in a bundle: it reaches the server days later, when "now" means nothing.
        body = batch_body(store, kiosk_id, key, events, now=False)
        path = folder / f"muso-{kiosk_id}-{events[0].seq:09d}-{events[-1].seq:09d}.batch.gz"
        _write_atomic(path, body)
        written.append(path)
        after = events[-1].seq
    fsync_dir(folder)
    if written:
        # The next online sync asks the server first: the stick may have got there before it.
        state.note_exported(store, after)
    return written


def _write_atomic(path: Path, data: bytes) -> None:
    # A stick pulled out mid-write leaves a .part file, never a truncated batch under the final name.
    tmp = path.with_name(path.name + ".part")
    # Made anew, never opened as found: on a stick that is anyone's, an entry of that name may be a link (to
    # the kiosk's own database, which writing through it would truncate) or a FIFO (whose open never returns).
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with open(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
