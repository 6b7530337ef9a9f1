"""A thermal printer played on a pseudo-terminal, for fault injection.

The kiosk opens the printer by a stable path (as it would
``/dev/serial/by-id/…``); here that path is a symlink to the slave side of a
pty, and a thread on the master side plays the printer: it keeps what it
receives, answers DLE EOT status queries, and can stop reading, run out of
paper, be unplugged and come back (a new pty behind the same link).
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
import tty
from dataclasses import dataclass
from pathlib import Path

ONLINE_OK, ONLINE_OFF = b"\x16", b"\x1e"
PAPER_OK, PAPER_OUT = b"\x12", b"\x72"


class FakePrinter:
    def __init__(self, link: Path) -> None:
        self.link = link
        self.received = bytearray()  # bytes that reached paper
        self.lock = threading.Lock()
        self.reading = True
        self.answering = True  # False: prints, but never answers a status query
        self.answers_left: int | None = None  # answer this many more queries, then fall silent
        self.paper = True
        self.connected = False
        self.master = -1
        self.slave = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.plug()

    # -- faults ------------------------------------------------------------------------

    def plug(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        tmp = self.link.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(self.slave))
        tmp.replace(self.link)
        self.connected = True
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def unplug(self) -> None:
        self.connected = False
        self._stop.set()
        if self._thread:
            self._thread.join(2)
        self.link.unlink(missing_ok=True)
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def stall(self, on: bool = True) -> None:
        self.reading = not on

    def paper_out(self, out: bool = True) -> None:
        self.paper = not out

    def close(self) -> None:
        if self.connected:
            self.unplug()

    # -- the printer ---------------------------------------------------------------------

    def _run(self) -> None:
        import select

        pending = b""
        while not self._stop.is_set():
            if not self.reading:
                time.sleep(0.005)
                continue
            ready, _, _ = select.select([self.master], [], [], 0.02)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                return
            data = pending + chunk
            pending = b""
            # Status queries are answered, not printed.
            while True:
                i = data.find(b"\x10\x04")
                if i < 0 or i + 2 >= len(data):
                    break
                self._print(data[:i])
                query = data[i + 2]
                online = ONLINE_OK if self.paper else ONLINE_OFF
                answer = online if query == 1 else (PAPER_OK if self.paper else PAPER_OUT)
                try:
                    if self.answers_left is not None:
                        self.answering = self.answers_left > 0
                        self.answers_left -= 1
                    if self.answering:
                        os.write(self.master, answer)
                except OSError:
                    return
                data = data[i + 3 :]
            if data.endswith(b"\x10"):
                pending, data = data[-1:], data[:-1]
            self._print(data)

    def _print(self, data: bytes) -> None:
        if data and self.paper:  # without paper the bytes are lost: that receipt never came out whole
            with self.lock:
                self.received += data

    # -- what came out ------------------------------------------------------------------

    def receipts(self) -> list[Printed]:
        with self.lock:
            stream = bytes(self.received)
        out = []
        for part in stream.split(b"\x1b@")[1:]:
            number = re.search(rb"Re\xe7u n\xb0 +(K\d+-\d+)", part)
            complete = b"\x1bd\x06" in part[-8:]  # the feed before the cut: the job's last command
            out.append(Printed(number.group(1).decode() if number else "", complete, b"DUPLICATA" in part))
        return out


@dataclass(frozen=True)
class Printed:
    number: str
    complete: bool
    duplicate: bool


def check_exactly_once_in_order(printed: list[Printed], expected: list[str]) -> None:
    """Every receipt came out whole, first copies in queue order, any further copy marked DUPLICATA."""
    whole = [p for p in printed if p.complete]
    firsts: list[str] = []
    originals: dict[str, int] = {}
    for p in whole:
        if p.number not in firsts:
            firsts.append(p.number)
        if not p.duplicate:
            originals[p.number] = originals.get(p.number, 0) + 1
    assert firsts == expected, f"order {firsts} != {expected}"
    assert all(n <= 1 for n in originals.values()), f"second copy not marked DUPLICATA: {originals}"
