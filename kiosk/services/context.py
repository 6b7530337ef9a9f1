"""The service context: a store, a clock, and PIN checks for approvals."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from kiosk.domain.errors import DomainError
from kiosk.domain.rules import Rules
from kiosk.store import Store
from kiosk.store.clock import Clock
from kiosk.store.pins import verify_pin
from kiosk.sync import state as sync_state


@dataclass(frozen=True)
class Approval:
    """An officer's consent: who, and the PIN they typed (never stored)."""

    member_id: str
    pin: str


def new_id() -> str:
    return str(uuid.uuid4())


def check_not_behind_server(k: Kiosk) -> None:
    """Refuse new business on a kiosk the server knows to be behind it.

    The server holds events this kiosk lacks (an older backup put back on a new card): whatever is
    recorded now forks the group's history from the server's, for good, and what the backup missed
    stays missing here. A sync found it so (``server_ahead``) and noted it, until a restore
    (``muso-kiosk restore``) fetches them or a sync finds the two histories the same. Refused: a new
    meeting, a member's or group's change, a rule, a journaled PIN change. Not refused: the rest of a
    meeting already open, where cash has changed hands and members must take a receipt home; its
    events are on the fork already, and recorded they can be reconciled, unrecorded they are lost."""
    if sync_state.is_behind(k.store):
        raise DomainError("kiosk_behind_server", "journal")


class Kiosk:
    def __init__(self, store: Store) -> None:
        self.store = store

    @classmethod
    def open(cls, path: str | Path, clock: Clock | None = None) -> Kiosk:
        return cls(Store(path, clock))

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Kiosk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers the use cases share -------------------------------------------------

    def approve(self, approvals: list[Approval] | tuple[Approval, ...], needed: int = 2) -> list[str]:
        """Check each approving officer's PIN; return their ids for the event.

        Distinctness and roles are checked again by the reducer, which is what
        the server trusts; here we only refuse early with the clearer message.
        """
        if len(approvals) != needed:
            raise DomainError("two_officers_required", "approvers")
        ids = [a.member_id for a in approvals]
        if len(set(ids)) != len(ids):
            raise DomainError("officers_not_distinct", "approvers")
        for a in approvals:
            verify_pin(self.store, a.member_id, a.pin)
        return ids

    def rules(self, group_id: str) -> Rules:
        group = self.group(group_id)
        row = self.store.get("rules", (group_id, group["rules_version"]))
        assert row is not None
        return Rules.from_dict(row["body"])

    def group(self, group_id: str) -> dict:  # type: ignore[type-arg]
        row = self.store.get("groups", (group_id,))
        if row is None:
            raise DomainError("group_unknown", "group", value=group_id)
        return row

    def member(self, member_id: str) -> dict:  # type: ignore[type-arg]
        row = self.store.get("members", (member_id,))
        if row is None:
            raise DomainError("member_unknown", "member", value=member_id)
        return row

    def meeting(self, meeting_id: str) -> dict:  # type: ignore[type-arg]
        row = self.store.get("meetings", (meeting_id,))
        if row is None:
            raise DomainError("meeting_unknown", "meeting", value=meeting_id)
        return row

    def member_by_number(self, group_id: str, number: int) -> dict:  # type: ignore[type-arg]
        row = self.store.get("member_numbers", (group_id, number))
        if row is None:
            raise DomainError("member_unknown", "member", value=number)
        return self.member(row["member_id"])

    def savings(self, group_id: str, member_id: str) -> int:
        row = self.store.get("accounts", (group_id, f"verte:savings:{member_id}"))
        return -row["balance"] if row else 0

    def cash(self, group_id: str, fund: str) -> int:
        row = self.store.get("accounts", (group_id, f"{fund}:cash"))
        return row["balance"] if row else 0
