"""Groups, members, officers' PINs and the règlement."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from kiosk.domain.errors import DomainError
from kiosk.domain.members import OFFICER_ROLES, clean_name, clean_phone, parse_role, parse_sex
from kiosk.domain.members import office_needs_approval as group_has_met
from kiosk.domain.rules import Rules
from kiosk.store.pins import check_new_pin, check_pin_format, drop_pin, has_pin, set_pin, verify_pin

from .context import Approval, Kiosk, check_not_behind_server, new_id


def create_group(
    k: Kiosk,
    name: str,
    *,
    country: str = "TG",
    cooperative: str = "",
    village: str = "",
    rules: dict[str, Any] | None = None,
    group_id: str | None = None,
) -> str:
    check_not_behind_server(k)
    group_id = group_id or new_id()
    name = clean_name(name)
    # Two groups of one name on a kiosk would be told apart by nobody at the meeting point (a scenario
    # file run twice made that). The service says so; the journal itself does not forbid it.
    taken = {row["name"].casefold() for row in k.store.query("SELECT name FROM p_groups")}
    if name.casefold() in taken:
        raise DomainError("group_name_taken", "name", value=name)
    body = {
        "group": group_id,
        "name": name,
        "country": country,
        "cooperative": cooperative,
        "village": village,
        "rules": Rules.from_dict(rules or {}).to_dict(),
    }
    k.store.append("group_created", body)
    return group_id


def assigned_groups(k: Kiosk) -> list[dict[str, Any]]:
    """The groups the coordinators assigned to this kiosk (reference data the sync pulled) and not created
    here yet: each with the id the server knows it by, its place, and its règlement (given, or a template's)."""
    ref: dict[str, dict[str, Any]] = {"kiosk_group": {}, "rule_template": {}}
    for row in k.store.query("SELECT entity, key, value FROM sync_reference ORDER BY key"):
        if row["entity"] in ref:
            ref[row["entity"]][row["key"]] = json.loads(row["value"])
    have = {row["group_id"] for row in k.store.query("SELECT group_id FROM p_groups")}
    out = []
    for group_id, value in ref["kiosk_group"].items():
        if group_id in have or not isinstance(value, dict):
            continue
        # A règlement named and not found (a typo, a template not pulled yet) is no reason to start a group
        # on the default one without a word: the offer says so, and creating it is refused.
        rules: Any = value.get("rules", {})
        if "template" in value and "rules" not in value:
            rules = ref["rule_template"].get(str(value["template"]))
        out.append(
            {
                "group_id": group_id,
                "name": str(value.get("name") or ""),
                "country": str(value.get("country") or "TG"),
                "cooperative": str(value.get("cooperative") or ""),
                "village": str(value.get("village") or ""),
                "rules": rules if isinstance(rules, dict) else None,
            }
        )
    return out


def create_assigned_group(k: Kiosk, group_id: str) -> str:
    """Create, with the server's id, a group the coordinators assigned to this kiosk."""
    found = next((g for g in assigned_groups(k) if g["group_id"] == group_id), None)
    if found is None:
        raise DomainError("group_unknown", "group", value=group_id)
    if found["rules"] is None:
        raise DomainError("group_rules_unavailable", "rules", name=found["name"])
    return create_group(
        k,
        found["name"],
        country=found["country"],
        cooperative=found["cooperative"],
        village=found["village"],
        rules=found["rules"],
        group_id=group_id,
    )


def needs_first_officer(k: Kiosk, group_id: str) -> bool:
    """A group just created here, with nobody in it yet: nobody can log in to add its first member, so
    whoever sets it up, in front of the group, adds its first officer (the others then follow as usual).
    Only while it is empty: a group whose only officer left office keeps its members, and is not
    anybody's to take over (an officer of another group, or a technician, sets it right)."""
    group = k.group(group_id)
    return not group_has_met(group) and not group["member_count"]


def kiosk_officers(k: Kiosk, but: str) -> list[dict[str, Any]]:
    """The active officers of this kiosk's other groups: who vouches, with a PIN, for a new group's first
    officer (the kiosk's settings are any officer's to change, so a passer-by must not become one)."""
    return _active_officers(k, "group_id != ?", but, "group_id, number")


def add_member(
    k: Kiosk,
    group_id: str,
    name: str,
    sex: str,
    *,
    joined: date,
    phone: str = "",
    role: str = "membre",
    pin: str | None = None,
    member_id: str | None = None,
    approvals: list[Approval] | None = None,
) -> dict[str, Any]:
    """Add a member (and, for an officer, their PIN) in one transaction.

    Once the group has met, a new officer needs two officers' ``approvals``."""
    check_not_behind_server(k)
    group = k.group(group_id)
    member_id = member_id or new_id()
    role_ = parse_role(role)
    if pin is not None and role_ not in OFFICER_ROLES:
        raise DomainError("pin_for_non_officer", "pin")
    body = {
        "group": group_id,
        "member": member_id,
        "number": group["member_count"] + 1,
        "name": clean_name(name),
        "sex": parse_sex(sex).value,
        "phone": clean_phone(phone),
        "role": role_.value,
        "joined": joined.isoformat(),
    }
    if role_ in OFFICER_ROLES and office_needs_approval(k, group_id):
        body["approvers"] = k.approve(approvals or [])
    with k.store.write() as w:
        w.append("member_added", body)
        if pin is not None:
            set_pin(w, member_id, pin)
    return k.member(member_id)


def update_member(
    k: Kiosk, member_id: str, *, approvals: list[Approval] | None = None, **fields: Any
) -> dict[str, Any]:
    """Change a member's record; once the group has met, a change of role or of name needs two
    officers' ``approvals`` (not the member concerned).

    A name is whose money it is: one officer alone renaming an account with savings on it could hand
    them, and every receipt after, to someone else."""
    check_not_behind_server(k)
    member = k.member(member_id)
    allowed = {"name", "phone", "sex", "role"}
    unknown = set(fields) - allowed
    if unknown:
        raise DomainError("field_unknown", sorted(unknown)[0])
    body = {"group": member["group_id"], "member": member_id, **fields}
    changes_office = "role" in fields and parse_role(fields["role"]).value != member["role"]
    renames = "name" in fields and clean_name(fields["name"]) != member["name"]
    if (changes_office or renames) and office_needs_approval(k, member["group_id"]):
        body["approvers"] = k.approve(approvals or [])
    leaves_office = changes_office and parse_role(fields["role"]) not in OFFICER_ROLES
    with k.store.write() as w:
        w.append("member_updated", body)
        if leaves_office:
            drop_pin(w, member_id)
    return k.member(member_id)


def former_names(k: Kiosk, member_id: str) -> list[str]:
    """The names a member went by before the present one, oldest first (from the journal, which keeps them)."""
    rows = k.store.query(
        "SELECT json_extract(body, '$.name') AS name FROM journal WHERE type IN ('member_added', 'member_updated') "
        "AND json_extract(body, '$.member') = ? AND json_extract(body, '$.name') IS NOT NULL ORDER BY seq",
        (member_id,),
    )
    names: list[str] = []
    for row in rows:
        name = clean_name(row["name"])
        if not names or names[-1] != name:
            names.append(name)
    return names[:-1]


def office_needs_approval(k: Kiosk, group_id: str) -> bool:
    """The domain's rule (kiosk.domain.members), asked before any PIN is typed."""
    return group_has_met(k.group(group_id))


def _officer(k: Kiosk, member_id: str) -> dict[str, Any]:
    member = k.member(member_id)
    if member["role"] not in OFFICER_ROLES:
        raise DomainError("not_an_officer", "member", name=member["name"])
    return member


def change_pin(k: Kiosk, member_id: str, new_pin: str, current_pin: str | None = None) -> None:
    """Set an officer's PIN; changing an existing one needs the current one, and a new one.

    A wrong current PIN counts toward the lockout like any other (kiosk.store.pins.verify_pin), so this
    is no way round it. A first PIN comes with the office, which member_added or member_updated
    recorded; a replaced one is a ``pin_changed`` event (see ``reset_pin`` for why it is journaled).
    """
    member = _officer(k, member_id)
    if not has_pin(k.store.conn, member_id):
        # A first PIN: the office it goes with is in the journal already. Also how a kiosk restored
        # from the server gives its officers PINs again (hashes never travel).
        with k.store.write() as w:
            set_pin(w, member_id, new_pin)
        return
    if current_pin is None:
        raise DomainError("pin_current_required", "pin")
    check_not_behind_server(k)
    verify_pin(k.store, member_id, current_pin)
    check_new_pin(k.store.conn, member_id, new_pin)
    with k.store.write() as w:
        w.append("pin_changed", {"group": member["group_id"], "member": member_id})
        set_pin(w, member_id, new_pin)


def reset_pin(k: Kiosk, member_id: str, new_pin: str, approvals: list[Approval]) -> None:
    """A forgotten or locked PIN: two other officers approve, the officer chooses a new one (unlocked).

    Whoever holds an officer's PIN approves in their name, so a reset is as weighty as a change of
    office, and is journaled the same way: the event names the two approvers (the reducer checks them,
    as the server does) but carries neither the PIN nor its hash, which stay in the kiosk's local
    table like every PIN (DESIGN §3, kiosk.store.pins).
    """
    check_not_behind_server(k)
    member = _officer(k, member_id)
    if not member["active"]:
        raise DomainError("member_left", "member", name=member["name"])
    # The format only: "not the old PIN" would tell whoever resets which PIN the officer has now,
    # one guess at a time, with no lockout (a change may say it: the current PIN was typed first).
    check_pin_format(new_pin)
    # Refused before any PIN is checked: the officer concerned typing their own would count toward
    # their lockout, or, worse, pass.
    if any(a.member_id == member_id for a in approvals):
        raise DomainError("pin_reset_self", "approvers", name=member["name"])
    approvers = k.approve(approvals)
    with k.store.write() as w:
        w.append(
            "pin_changed", {"group": member["group_id"], "member": member_id, "reset": True, "approvers": approvers}
        )
        set_pin(w, member_id, new_pin)


def adopt_rules(k: Kiosk, meeting_id: str, changes: dict[str, Any], approvals: list[Approval]) -> int:
    """Adopt a new version of the règlement at an open meeting; history is never rewritten."""
    check_not_behind_server(k)
    meeting = k.meeting(meeting_id)
    group = k.group(meeting["group_id"])
    rules = Rules.from_dict(changes, base=k.rules(group["group_id"]))
    approvers = k.approve(approvals)
    version = group["rules_version"] + 1
    k.store.append(
        "rules_adopted",
        {
            "group": group["group_id"],
            "meeting": meeting_id,
            "version": version,
            "rules": rules.to_dict(),
            "approvers": approvers,
        },
    )
    return version


def officers(k: Kiosk, group_id: str) -> list[dict[str, Any]]:
    return _active_officers(k, "group_id = ?", group_id, "number")


def _active_officers(k: Kiosk, where: str, group_id: str, order: str) -> list[dict[str, Any]]:
    roles = tuple(r.value for r in OFFICER_ROLES)
    return k.store.query(
        f"SELECT * FROM p_members WHERE {where} AND active = 1 AND role IN ({','.join('?' * len(roles))}) "
        f"ORDER BY {order}",
        (group_id, *roles),
    )


def members(k: Kiosk, group_id: str, *, active_only: bool = True, search: str = "") -> list[dict[str, Any]]:
    sql = "SELECT * FROM p_members WHERE group_id = ?"
    params: list[Any] = [group_id]
    if active_only:
        sql += " AND active = 1"
    if search:
        sql += " AND (name LIKE ? OR CAST(number AS TEXT) = ?)"
        params += [f"%{search}%", search]
    return k.store.query(sql + " ORDER BY number", params)


def groups(k: Kiosk) -> list[dict[str, Any]]:
    return k.store.query("SELECT * FROM p_groups ORDER BY name")
