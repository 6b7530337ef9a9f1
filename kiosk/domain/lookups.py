"""Key lookups the reducer's handlers share, each raising the error a person would need."""

from __future__ import annotations

from .errors import DomainError
from .meetings import MeetingStatus
from .members import OFFICER_ROLES
from .projections import Changes, Row
from .rules import Rules


def group_row(ch: Changes, group_id: str) -> Row:
    row = ch.get("groups", (group_id,))
    if row is None:
        raise DomainError("group_unknown", "group", value=group_id)
    return row


def member_row(ch: Changes, group_id: str, member_id: object, field: str = "member") -> Row:
    row = ch.get("members", (member_id,))
    if row is None or row["group_id"] != group_id:
        raise DomainError("member_unknown", field, value=member_id)
    return row


def active_member(ch: Changes, group_id: str, member_id: object, field: str = "member") -> Row:
    row = member_row(ch, group_id, member_id, field)
    if not row["active"]:
        raise DomainError("member_left", field, name=row["name"])
    return row


def open_meeting(ch: Changes, meeting_id: object) -> Row:
    row = ch.get("meetings", (meeting_id,))
    if row is None:
        raise DomainError("meeting_unknown", "meeting", value=meeting_id)
    if row["status"] != MeetingStatus.OPEN:
        raise DomainError("meeting_not_open", "meeting", number=row["number"])
    return row


def current_rules(ch: Changes, group_id: str) -> Rules:
    group = group_row(ch, group_id)
    row = ch.get("rules", (group_id, group["rules_version"]))
    assert row is not None
    return Rules.from_dict(row["body"])


def officer(ch: Changes, group_id: str, member_id: object, field: str) -> Row:
    row = active_member(ch, group_id, member_id, field)
    if row["role"] not in OFFICER_ROLES:
        raise DomainError("not_an_officer", field, name=row["name"])
    return row


def check_two_officers(ch: Changes, group_id: str, ids: object, beneficiary: str | None = None) -> list[str]:
    """The fixed rule: two distinct officers, neither approving a movement to themselves."""
    if not isinstance(ids, list) or len(ids) != 2:
        raise DomainError("two_officers_required", "approvers")
    if ids[0] == ids[1]:
        raise DomainError("officers_not_distinct", "approvers")
    for i, member_id in enumerate(ids):
        row = officer(ch, group_id, member_id, f"approvers[{i}]")
        if beneficiary is not None and member_id == beneficiary:
            raise DomainError("self_approval", f"approvers[{i}]", name=row["name"])
    return list(ids)
