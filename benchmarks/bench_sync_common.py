"""Shared by the sync benchmarks: a kiosk holding realistic meetings, a live server, a byte-counting proxy."""

from __future__ import annotations

import contextlib
import random
import socket
import sys
import threading
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from kiosk.domain.funds import count_for
from kiosk.services import Approval, Kiosk
from kiosk.services import groups as G
from kiosk.services import meetings as M
from kiosk.services import movements as V
from kiosk.store import pins

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from test_sync_support import LiveServer as LiveServer  # noqa: E402  (one live server for tests and benchmarks)

PINS = {"president": "2580", "secretaire": "1397", "tresorier": "4826", "controleur": "3691"}
pins.N = 2**8  # PIN hashing is not what these benchmarks measure


@dataclass
class WalkClock:
    """A clock that moves like a meeting's: a few seconds between taps, in milliseconds."""

    now: int = 1_780_000_000_000
    boot_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    mono: int = 3_600_000
    rnd: random.Random = field(default_factory=lambda: random.Random(5))

    def now_ms(self) -> int:
        step = self.rnd.randint(800, 20_000)
        self.now += step
        self.mono += step
        return self.now

    def mono_ms(self) -> int:
        return self.mono


@dataclass
class Village:
    k: Kiosk
    group_id: str
    officers: dict[str, str]
    members: list[str]
    day: date = date(2026, 5, 4)

    def two(self) -> list[Approval]:
        return [
            Approval(self.officers["president"], PINS["president"]),
            Approval(self.officers["controleur"], PINS["controleur"]),
        ]

    def counts(self) -> dict[str, dict[str, int]]:
        return {f: count_for(a) for f, a in M.expected_cash(self.k, self.group_id).items()}

    def meeting(self, rnd: random.Random) -> None:
        """A typical meeting: attendance, the one-tap contributions, a few fines, close (with its receipts)."""
        m = M.open_meeting(self.k, self.group_id, self.day, self.counts(), self.two())
        everyone = [*self.officers.values(), *self.members]
        statuses = {p: rnd.choices(["present", "late", "absent"], [85, 10, 5])[0] for p in everyone}
        M.record_attendance(self.k, m, statuses)
        treasurer = self.officers["tresorier"]
        M.standard_contributions(self.k, m, treasurer)
        for member, status in statuses.items():
            if status == "late" and member not in self.officers.values():
                V.fine(self.k, m, treasurer, member, "retard")
        M.close_meeting(self.k, m, self.counts(), self.two())
        self.day += timedelta(days=7)


def village(path: Path, members: int = 24, clock: WalkClock | None = None) -> Village:
    k = Kiosk.open(path, clock or WalkClock())
    group_id = G.create_group(k, "MUSO Ɖevi", village="Bolou")
    officers = {}
    for role, pin in PINS.items():
        officers[role] = G.add_member(
            k, group_id, f"Officier {role}", "F", joined=date(2026, 1, 1), role=role, pin=pin
        )["member_id"]
    people = [
        G.add_member(k, group_id, f"Membre {i} Agbéko", "M" if i % 2 else "F", joined=date(2026, 1, 1))["member_id"]
        for i in range(members)
    ]
    return Village(k, group_id, officers, people)


class CountingProxy:
    """Loopback TCP proxy counting every byte each way (HTTP headers included)."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.up = self.down = self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def reset(self) -> None:
        self.up = self.down = self.connections = 0

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            server = socket.create_connection(("127.0.0.1", self.upstream))
            threading.Thread(target=self._pipe, args=(client, server, "up"), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, "down"), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, way: str) -> None:
        try:
            with contextlib.suppress(OSError):  # either side hanging up ends the pipe
                while data := src.recv(65536):
                    if way == "up":
                        self.up += len(data)
                    else:
                        self.down += len(data)
                    dst.sendall(data)
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.sock.close()


def postgres_schema(url: str) -> tuple[str, object]:
    """A fresh schema on the given PostgreSQL server; returns (url using it, drop function)."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in url else "?"

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return f"{url}{sep}options=-csearch_path%3D{schema}", drop
