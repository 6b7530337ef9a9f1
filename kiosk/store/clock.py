"""Where the kiosk's notion of time comes from (the Pi has no real-time clock)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")


class Clock(Protocol):
    boot_id: str

    def now_ms(self) -> int: ...

    def mono_ms(self) -> int: ...


def _read_boot_id() -> str:
    try:
        return BOOT_ID_FILE.read_text().strip()
    except OSError:
        return uuid.uuid4().hex  # not Linux: one "boot" per process is the honest answer


@dataclass
class SystemClock:
    boot_id: str = field(default_factory=_read_boot_id)

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def mono_ms(self) -> int:
        return time.monotonic_ns() // 1_000_000


@dataclass
class FixedClock:
    """A clock the caller sets: demos replaying months of meetings, and tests."""

    now: int = 1_767_225_600_000  # 2026-01-01T00:00:00Z
    boot_id: str = "test-boot"
    mono: int = 0

    def now_ms(self) -> int:
        return self.now

    def mono_ms(self) -> int:
        self.mono += 1
        return self.mono
