"""Files that must survive a power cut: the rename that publishes them, then their directory, on disk."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(folder: Path) -> None:
    """Make the names in ``folder`` durable: without it a rename can be lost with the power, file and all."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(tmp: Path, dest: Path) -> None:
    """Give ``tmp`` (written and fsynced) its final name ``dest``, durably: a reader sees all of it or nothing."""
    os.replace(tmp, dest)
    fsync_dir(dest.parent)
