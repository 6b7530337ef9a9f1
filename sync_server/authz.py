"""Who may see what: roles and scopes, applied inside the SQL of every console query.

Roles:

- ``admin``: everything, including users and kiosk revocation;
- ``coordinator``: reads, exports and creates enrollment codes within a scope;
- ``viewer``: reads and exports within a scope, changes nothing.

A scope is a list of countries (``"*"`` for all) and/or a list of
cooperatives; a group is inside when its country is listed (or ``*``) **and**,
when cooperatives are listed, its cooperative is one of them. The filter is a
SQL condition on ``p_groups`` that every query joins on, never a check on
rows already fetched: a group outside the scope is not merely hidden, it is
never read, and asking for it by id gives the same 404 as an id that does
not exist (no leak of existence).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, exists, false, func, or_, select, true

from .db import kiosks, projections

groups_t = projections["groups"]

READ, ENROLL, ADMIN = "read", "enroll", "admin"
PERMISSIONS = {
    "admin": frozenset({READ, ENROLL, ADMIN}),
    "coordinator": frozenset({READ, ENROLL}),
    "viewer": frozenset({READ}),
}


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    role: str
    countries: tuple[str, ...] = ()
    cooperatives: tuple[str, ...] = ()
    csrf: str | None = None  # the session's CSRF token; None for bearer-token API calls
    via: str = "session"  # session | token

    @classmethod
    def of(cls, row: Any, csrf: str | None = None, via: str = "session") -> Principal:
        return cls(
            int(row["user_id"]),
            str(row["username"]),
            str(row["role"]),
            tuple(json.loads(row["countries"] or "[]")),
            tuple(json.loads(row["cooperatives"] or "[]")),
            csrf,
            via,
        )

    def may(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())

    @property
    def everything(self) -> bool:
        return self.role == "admin" or ("*" in self.countries and not self.cooperatives)

    def groups(self, table: Table = groups_t) -> ColumnElement[bool]:
        """The SQL condition on a ``p_groups`` table for the groups this person may see."""
        if self.everything:
            return true()
        if not self.countries and not self.cooperatives:
            return false()
        conds = []
        if self.countries and "*" not in self.countries:
            conds.append(table.c.country.in_(self.countries))
        if self.cooperatives:
            conds.append(table.c.cooperative.in_(self.cooperatives))
        return and_(*conds)

    def place_allowed(self, country: str | None, cooperative: str | None) -> bool:
        """Whether a kiosk declared for this country and cooperative would be inside the scope."""
        if self.everything:
            return True
        if not self.countries and not self.cooperatives:
            return False
        if self.countries and "*" not in self.countries and (country or "") not in self.countries:
            return False
        return not self.cooperatives or (cooperative or "") in self.cooperatives

    def kiosks(self) -> ColumnElement[bool]:
        """Kiosks in scope for reading: one of their groups is, or (no group synced yet) their declared place
        is. Acting on a kiosk needs more: ``kiosks_whole``."""
        if self.everything:
            return true()
        if not self.countries and not self.cooperatives:
            return false()
        has_group = exists(
            select(groups_t.c.group_id).where(groups_t.c.kiosk_id == kiosks.c.kiosk_id, self.groups(groups_t))
        )
        # Once a kiosk has synced a group, its groups say where it is: a place declared at enrollment
        # must not open, to a coordinator of that place, a kiosk whose groups are all elsewhere.
        no_group = ~exists(select(groups_t.c.group_id).where(groups_t.c.kiosk_id == kiosks.c.kiosk_id))
        placed = [no_group, kiosks.c.country.is_not(None)]
        if self.countries and "*" not in self.countries:
            placed.append(kiosks.c.country.in_(self.countries))
        if self.cooperatives:
            placed.append(kiosks.c.cooperative.in_(self.cooperatives))
        return or_(has_group, and_(*placed))

    def kiosks_whole(self) -> ColumnElement[bool]:
        """Kiosks this person may act on (enrollment and replacement codes, revoking them): every group they
        serve is in scope, or (no group synced yet) their declared place is.

        Stricter than ``kiosks``, which is for reading: a device enrolled with a code restores the kiosk's
        whole journal, every group's, and takes the kiosk over, so one group in scope is not enough."""
        if self.everything:
            return true()
        # coalesce: a group whose country or cooperative is unknown (NULL) is not known to be inside.
        outside = exists(
            select(groups_t.c.group_id).where(
                groups_t.c.kiosk_id == kiosks.c.kiosk_id, ~func.coalesce(self.groups(groups_t), false())
            )
        )
        return and_(self.kiosks(), ~outside)
