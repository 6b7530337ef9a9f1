"""Shared fixtures: a fresh kiosk per test and plain factories for groups and meetings."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from kiosk.domain.funds import count_for
from kiosk.services import Approval, Kiosk
from kiosk.services import groups as G
from kiosk.services import meetings as M
from kiosk.store import pins
from kiosk.store.clock import FixedClock

# The production scrypt cost (~50 ms a check) would make the suite spend minutes
# hashing PINs. The cost is stored in each hash, so a cheaper one is still the
# real code path; tests/test_pins.py checks the production setting itself.
pins.N = 2**8

PINS = {"president": "2580", "secretaire": "1397", "tresorier": "4826", "controleur": "3691"}


@dataclass
class Group:
    """A group ready for meetings: officers with PINs, members, and approval helpers."""

    k: Kiosk
    group_id: str
    officers: dict[str, dict] = field(default_factory=dict)
    members: list[dict] = field(default_factory=list)

    @property
    def treasurer(self) -> str:
        return self.officers["tresorier"]["member_id"]

    def approval(self, role: str) -> Approval:
        return Approval(self.officers[role]["member_id"], PINS[role])

    def two(self, a: str = "president", b: str = "controleur") -> list[Approval]:
        return [self.approval(a), self.approval(b)]

    def member(self, i: int) -> str:
        return self.members[i]["member_id"]

    def expected_counts(self) -> dict[str, dict[str, int]]:
        return {f: count_for(a) for f, a in M.expected_cash(self.k, self.group_id).items()}

    def open(self, day: date, *, attendance: str | None = "present") -> str:
        meeting = M.open_meeting(self.k, self.group_id, day, self.expected_counts(), self.two())
        if attendance:
            everyone = [*self.officers.values(), *self.members]
            M.record_attendance(self.k, meeting, {m["member_id"]: attendance for m in everyone})
        return meeting

    def close(self, meeting: str, adjust: dict[str, int] | None = None) -> dict:
        counts = self.expected_counts()
        if adjust:
            expected = M.expected_cash(self.k, self.group_id)
            counts = {f: count_for(expected[f] + adjust.get(f, 0)) for f in expected}
        return M.close_meeting(self.k, meeting, counts, self.two())


def make_group(k: Kiosk, n_members: int = 6, rules: dict | None = None, name: str = "MUSO Test") -> Group:
    group_id = G.create_group(k, name, village="Bolou", rules=rules)
    g = Group(k, group_id)
    for role, pin in PINS.items():
        g.officers[role] = G.add_member(
            k, group_id, f"Officier {role}", "F", joined=date(2026, 1, 1), role=role, pin=pin
        )
    for i in range(n_members):
        g.members.append(G.add_member(k, group_id, f"Membre {i}", "M" if i % 2 else "F", joined=date(2026, 1, 1)))
    return g


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[Kiosk]:
    k = Kiosk.open(tmp_path / "kiosk.db", FixedClock())
    yield k
    k.close()


@pytest.fixture
def group(kiosk: Kiosk) -> Group:
    return make_group(kiosk)
