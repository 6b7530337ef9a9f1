"""Where the kiosk keeps its data, from flags, then the environment, then defaults."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    if os.environ.get("MUSO_DATA_DIR"):
        return Path(os.environ["MUSO_DATA_DIR"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "muso"


def db_path(flag: str | None = None) -> Path:
    if flag:
        return Path(flag)
    if os.environ.get("MUSO_DB"):
        return Path(os.environ["MUSO_DB"])
    return data_dir() / "kiosk.db"


def demo_db_path() -> Path:
    return data_dir() / "demo" / "kiosk.db"
