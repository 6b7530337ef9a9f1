"""systemd's notify protocol, spoken by the kiosk app: READY, WATCHDOG pings, STOPPING.

No dependency: a datagram to ``$NOTIFY_SOCKET``. The watchdog is pinged from a
timer on the GUI thread on purpose: if the event loop freezes, the pings stop
and systemd restarts the app (``WatchdogSec=`` in systemd/muso-kiosk.service).
Outside systemd (no NOTIFY_SOCKET) every call does nothing.
"""

from __future__ import annotations

import os
import socket
from typing import Any


def _address() -> str | None:
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return None
    return "\0" + address[1:] if address.startswith("@") else address  # abstract namespace


def notify(message: str) -> bool:
    """Send one message; True if a notify socket took it."""
    address = _address()
    if address is None:
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        try:
            sock.connect(address)
            sock.sendall(message.encode())
        except OSError:
            return False
    return True


def ready(status: str = "") -> bool:
    return notify("READY=1" + (f"\nSTATUS={status}" if status else ""))


def stopping() -> bool:
    return notify("STOPPING=1")


def ping() -> bool:
    return notify("WATCHDOG=1")


def watchdog_interval_ms() -> int | None:
    """Half of systemd's WatchdogSec (WATCHDOG_USEC), as systemd recommends; None if there is none."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    # Under cage the watchdog is set for cage's PID; the unit says the app may answer for it.
    child_ok = os.environ.get("MUSO_NOTIFY_CHILD") == "1"
    if not usec or (pid and pid != str(os.getpid()) and not child_ok):
        return None
    return max(1, int(usec) // 2000)


def start_gui_watchdog(parent: Any) -> Any:
    """A QTimer on the GUI thread that pings the watchdog; returns it (or None without a watchdog)."""
    interval = watchdog_interval_ms()
    if interval is None:
        return None
    from PySide6.QtCore import QTimer

    timer = QTimer(parent)
    timer.setInterval(interval)
    timer.timeout.connect(ping)
    timer.start()
    ping()
    return timer
