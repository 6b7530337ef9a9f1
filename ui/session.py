"""What the app knows between screens: the kiosk's store, the group at the keyboard, who is logged in."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from kiosk.services import Kiosk
from kiosk.services import groups as G
from kiosk.services import meetings as M
from kiosk.store.clock import Clock

IDLE_MINUTES = 5


class Session:
    def __init__(self, db_path: str | Path, clock: Clock | None = None) -> None:
        self.db_path = Path(db_path)
        self.k = Kiosk.open(self.db_path, clock)
        self.group_id: str | None = None
        self.officer: dict[str, Any] | None = None
        # The new group whose first officer may be added with nobody logged in: set once the kiosk's
        # other officers (if any) vouched for it (ui/screens/login.py), cleared at any login or logout.
        self.setting_up: str | None = None

    def close(self) -> None:
        self.k.close()

    # -- time ------------------------------------------------------------------------------

    def today(self) -> date:
        """The kiosk's date, from the store's clock (tests and demos set it)."""
        return datetime.fromtimestamp(self.k.store.clock.now_ms() / 1000).date()

    def idle_ms(self) -> int:
        minutes = self.k.store.setting("ui_idle_minutes")
        return int(float(minutes) * 60_000) if minutes else IDLE_MINUTES * 60_000

    # -- who and where -----------------------------------------------------------------------

    def groups(self) -> list[dict[str, Any]]:
        return G.groups(self.k)

    @property
    def group(self) -> dict[str, Any]:
        assert self.group_id is not None
        return self.k.group(self.group_id)

    def meeting_id(self) -> str | None:
        return M.open_meeting_of(self.k, self.group_id) if self.group_id else None

    @property
    def by(self) -> str:
        """The officer recording movements (the one logged in)."""
        assert self.officer is not None
        return str(self.officer["member_id"])

    def login(self, officer: dict[str, Any]) -> None:
        self.officer = officer
        self.group_id = officer["group_id"]
        self.setting_up = None

    def logout(self) -> None:
        self.officer = None
        self.setting_up = None

    def officers(self) -> list[dict[str, Any]]:
        return G.officers(self.k, self.group_id) if self.group_id else []

    def members(self, search: str = "") -> list[dict[str, Any]]:
        return G.members(self.k, self.group_id, search=search) if self.group_id else []

    def kiosk_name(self) -> str:
        return self.k.store.setting("kiosk_name") or ""

    def kiosk_id(self) -> str:
        return self.k.store.setting("kiosk_id") or ""
