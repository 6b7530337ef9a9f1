"""The one reducer: an event and the current projections in, the rows it changes out.

The kiosk runs it inside the transaction that appends the event; the server
runs it over the synced journal; ``verify`` runs it from scratch in memory.
It reads only rows it needs by key, so each event costs O(1) whatever the
journal's length. It refuses (DomainError) any event that would break a fixed
rule or an invariant: the kiosk then writes nothing, the server quarantines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import ledger
from .dates import parse_date
from .errors import DomainError
from .events import Event
from .funds import Fund, count_total
from .lookups import (
    active_member,
    check_two_officers,
    group_row,
    member_row,
    officer,
    open_meeting,
)
from .meetings import MeetingStatus, check_counts, parse_attendance
from .members import OFFICER_ROLES, clean_name, clean_phone, office_needs_approval, parse_role, parse_sex
from .postings import cash, savings, transfer
from .projections import TABLES, Changes, Row, View, unstorable
from .receipts import check_paper
from .rules import Rules

Handler = Callable[[Changes, dict[str, Any], Event], None]


def apply(view: View, event: Event) -> Changes:
    handler = HANDLERS.get(event.type)
    if handler is None:
        raise DomainError("event_type_unknown", "type", value=event.type)
    changes = Changes(view)
    try:
        body = event.body
        # JSON text can only carry a NUL escaped, so the walk runs only for the rare body holding one.
        if "\\u0000" in event.body_json and _holds_nul(body):
            # No text of the books may hold one, and PostgreSQL could not store it: the server would fail
            # on this kiosk's every push instead of quarantining one event.
            raise DomainError("text_nul", "body")
        handler(changes, body, event)
    except (KeyError, TypeError, ValueError) as exc:  # a malformed body, not a bug to crash on
        raise DomainError("event_malformed", "body", detail=f"{type(exc).__name__}: {exc}") from None
    for (table, _key), row in changes.rows.items():
        column = unstorable(TABLES[table], row)
        if column is not None:
            raise DomainError("value_unstorable", f"{table}.{column}")
    return changes


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in k or _holds_nul(v) for k, v in value.items() if isinstance(k, str))
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


# -- groups, members, rules -------------------------------------------------------------


def on_group_created(ch: Changes, b: dict[str, Any], ev: Event) -> None:
    if ch.get("groups", (b["group"],)) is not None:
        raise DomainError("group_exists", "group", value=b["group"])
    rules = Rules.from_dict(b["rules"])
    ch.put(
        "groups",
        {
            "group_id": b["group"],
            "name": clean_name(b["name"]),
            "country": b.get("country", ""),
            "cooperative": b.get("cooperative", ""),
            "village": b.get("village", ""),
            "created_seq": ev.seq,
            "rules_version": 1,
            "member_count": 0,
            "meeting_count": 0,
            "open_meeting": None,
            "last_meeting_date": None,
        },
    )
    ch.put("rules", {"group_id": b["group"], "version": 1, "body": rules.to_dict(), "adopted_seq": ev.seq})
    for fund in Fund:
        ledger.touch_account(ch, b["group"], cash(fund))


def _office_approved(ch: Changes, group: Row, b: dict[str, Any], subject: str | None) -> None:
    """Once a group has met, who holds office changes only with two officers' approval (neither the one
    concerned): otherwise one officer could make accomplices, and with them approve anything."""
    if office_needs_approval(group):
        check_two_officers(ch, group["group_id"], b.get("approvers"), subject)


def on_member_added(ch: Changes, b: dict[str, Any], ev: Event) -> None:
    group = group_row(ch, b["group"])
    if ch.get("members", (b["member"],)) is not None:
        raise DomainError("member_exists", "member", value=b["member"])
    number = group["member_count"] + 1
    if b["number"] != number:
        raise DomainError("member_number_wrong", "number", expected=number, value=b["number"])
    role = parse_role(b.get("role", "membre"))
    if role in OFFICER_ROLES:
        _office_approved(ch, group, b, None)
    ch.put(
        "members",
        {
            "member_id": b["member"],
            "group_id": b["group"],
            "number": number,
            "name": clean_name(b["name"]),
            "sex": parse_sex(b["sex"]).value,
            "phone": clean_phone(b.get("phone", "")),
            "role": role.value,
            "joined": b["joined"],
            "left_on": None,
            "active": 1,
            "active_loans": 0,
            "aid_received": 0,
        },
    )
    ch.put("member_numbers", {"group_id": b["group"], "number": number, "member_id": b["member"]})
    ch.update("groups", (b["group"],), member_count=number)


def on_member_updated(ch: Changes, b: dict[str, Any], ev: Event) -> None:
    row = member_row(ch, b["group"], b["member"])
    changes: dict[str, Any] = {}
    if "name" in b:
        changes["name"] = clean_name(b["name"])
        if changes["name"] != row["name"] and "approvers" in b:
            # Journals from before renames were approved carry none: they stay valid as recorded.
            check_two_officers(ch, b["group"], b["approvers"], row["member_id"])
    if "phone" in b:
        changes["phone"] = clean_phone(b["phone"])
    if "sex" in b:
        changes["sex"] = parse_sex(b["sex"]).value
    if "role" in b:
        changes["role"] = parse_role(b["role"]).value
        if changes["role"] != row["role"]:
            if not row["active"]:  # who has left holds no office
                raise DomainError("member_left", "member", name=row["name"])
            _office_approved(ch, group_row(ch, b["group"]), b, row["member_id"])
    if not changes:
        raise DomainError("nothing_to_change", "member")
    ch.update("members", (row["member_id"],), **changes)


def on_pin_changed(ch: Changes, b: dict[str, Any], ev: Event) -> None:
    """An officer's PIN was replaced: by them (the kiosk checked their current PIN) or, forgotten or
    locked, reset with two other officers' approval.

    The PIN and its hash stay in the kiosk's local table and never travel (kiosk.store.pins): this
    event only says that it happened and who allowed a reset. That is what a coordinator needs to see,
    since a reset hands an officer's approval to whoever types the new PIN, and what the server can
    check: like a change of office, it takes two officers, neither of them the one concerned.
    It changes no projection.
    """
    row = officer(ch, b["group"], b["member"], "member")
    reset = b.get("reset", False)
    if not isinstance(reset, bool):
        raise DomainError("boolean_invalid", "reset", value=reset)
    if reset:
        check_two_officers(ch, b["group"], b.get("approvers"), row["member_id"])
    elif "approvers" in b:  # a change by the officer alone has none: a body carrying some is not ours
        raise DomainError("event_malformed", "approvers", detail="approvers without reset")


def on_rules_adopted(ch: Changes, b: dict[str, Any], ev: Event) -> None:
    group = group_row(ch, b["group"])
    meeting = open_meeting(ch, b["meeting"])
    if meeting["group_id"] != b["group"]:
        raise DomainError("meeting_unknown", "meeting", value=b["meeting"])
    check_two_officers(ch, b["group"], b["approvers"])
    version = group["rules_version"] + 1
    if b["version"] != version:
        raise DomainError("rules_version_wrong", "version", expected=version, value=b["version"])
    rules = Rules.from_dict(b["rules"])
    ch.put(
        "rules",
        {
            "group_id": b["group"],
            "version": version,
            "body": rules.to_dict(),
            "meeting_id": b["meeting"],
            "adopted_seq": ev.seq,
        },
    )
    ch.update("groups", (b["group"],), rules_version=version)


# -- meetings -------------------------------------------------------------------------


def _post_discrepancies(
    ch: Changes, meeting: Row, counts: dict[str, dict[str, int]], when: str, ev: Event
) -> dict[str, int]:
    """Record counted-vs-expected differences as postings: never absorbed silently."""
    expected: dict[str, int] = {}
    for fund in Fund:
        balance = ledger.balance(ch, meeting["group_id"], cash(fund))
        expected[fund.value] = balance
        diff = count_total(counts[fund.value]) - balance
        if diff:
            txn = f"{meeting['meeting_id']}:{when}:{fund.value}"
            legs = transfer(cash(fund), f"{fund.value}:discrepancy", diff)
            ledger.record_txn(
                ch,
                ev,
                txn,
                meeting,
                kind="discrepancy",
                fund=fund,
                amount=diff,
                postings=legs,
                detail={"at": when},
            )
    return expected


def on_meeting_opened(ch: Changes, b: dict[str, Any], ev: Event) -> None:
    group = group_row(ch, b["group"])
    if group["open_meeting"]:
        raise DomainError("meeting_already_open", "meeting")
    if ch.get("meetings", (b["meeting"],)) is not None:
        raise DomainError("meeting_exists", "meeting", value=b["meeting"])
    day = parse_date(b["date"])
    last = group["last_meeting_date"]
    if last and day.isoformat() < last:
        raise DomainError("meeting_date_before_last", "date", date=day.isoformat(), last=last)
    number = group["meeting_count"] + 1
    if b["number"] != number:
        raise DomainError("meeting_number_wrong", "number", expected=number, value=b["number"])
    officers = check_two_officers(ch, b["group"], b["officers"])
    counts = check_counts(b["count"])
    meeting = {
        "meeting_id": b["meeting"],
        "group_id": b["group"],
        "number": number,
        "date": day.isoformat(),
        "status": MeetingStatus.OPEN.value,
        "opened_seq": ev.seq,
        "closed_seq": None,
        "open_officers": officers,
        "close_officers": None,
        "open_count": counts,
        "close_count": None,
        "open_expected": None,
        "close_expected": None,
    }
    ch.put("meetings", meeting)
    meeting["open_expected"] = _post_discrepancies(ch, meeting, counts, "open", ev)
    ch.put("meetings", meeting)
    ch.update(
        "groups", (b["group"],), open_meeting=b["meeting"], meeting_count=number, last_meeting_date=day.isoformat()
    )


def on_attendance(ch: Changes, b: dict[str, Any], ev: Event) -> None:
    meeting = open_meeting(ch, b["meeting"])
    member = active_member(ch, meeting["group_id"], b["member"])
    status = parse_attendance(b["status"])
    by = b.get("represented_by")
    if status.value == "represented":
        if not isinstance(by, str) or not by.strip():
            raise DomainError("representative_missing", "represented_by")
    elif by:
        raise DomainError("representative_unexpected", "represented_by")
    ch.put(
        "attendance",
        {
            "meeting_id": meeting["meeting_id"],
            "member_id": member["member_id"],
            "group_id": meeting["group_id"],
            "status": status.value,
            "represented_by": by,
        },
    )


def on_meeting_closed(ch: Changes, b: dict[str, Any], ev: Event) -> None:
    meeting = open_meeting(ch, b["meeting"])
    officers = check_two_officers(ch, meeting["group_id"], b["officers"])
    counts = check_counts(b["count"])
    expected = _post_discrepancies(ch, meeting, counts, "close", ev)
    ch.update(
        "meetings",
        (meeting["meeting_id"],),
        status=MeetingStatus.CLOSED.value,
        closed_seq=ev.seq,
        close_officers=officers,
        close_count=counts,
        close_expected=expected,
    )
    ch.update("groups", (meeting["group_id"],), open_meeting=None)


def on_movement(ch: Changes, b: dict[str, Any], ev: Event) -> None:
    meeting = open_meeting(ch, b["meeting"])
    recorder = officer(ch, meeting["group_id"], b["by"], "by")
    ledger.record_movement(ch, meeting, recorder, b, ev)


def on_receipt_issued(ch: Changes, b: dict[str, Any], ev: Event) -> None:
    """A receipt was handed out. It changes no money; it fixes what the paper says."""
    meeting = ch.get("meetings", (b["meeting"],))
    if meeting is None or meeting["group_id"] != b["group"]:
        raise DomainError("meeting_unknown", "meeting", value=b["meeting"])
    if ch.get("receipts", (b["receipt"],)) is not None:
        raise DomainError("receipt_exists", "receipt")
    kind = b["kind"]
    if kind not in ("member", "report"):
        raise DomainError("receipt_kind_unknown", "kind", value=kind)
    member = member_row(ch, b["group"], b["member"])["member_id"] if kind == "member" else None
    txns = b.get("txns", [])
    for txn in txns:
        row = ch.get("transactions", (txn,))
        if row is None or row["group_id"] != b["group"]:
            raise DomainError("transaction_unknown", "txns", value=txn)
    if "paper" in b:
        _paper_matches_the_books(ch, b, member)
    ch.put(
        "receipts",
        {
            "receipt_id": b["receipt"],
            "group_id": b["group"],
            "meeting_id": b["meeting"],
            "member_id": member,
            "kind": kind,
            "seq": ev.seq,
            "txns": txns,
        },
    )


def _paper_matches_the_books(ch: Changes, b: dict[str, Any], member: str | None) -> None:
    """The balances a member's receipt prints are the books' own at that moment: the code that vouches
    for the paper vouches for figures the reducer checked, not merely for what a kiosk claimed."""
    paper = check_paper(b["paper"])
    if member is None:
        raise DomainError("receipt_paper_invalid", "paper")
    row = member_row(ch, b["group"], member)
    books = {"savings": -ledger.balance(ch, b["group"], savings(member)), "aid": row["aid_received"]}
    for name, value in books.items():
        if paper.get(name, 0) != value:
            raise DomainError("receipt_paper_wrong", f"paper.{name}", expected=value, value=paper.get(name, 0))


HANDLERS: dict[str, Handler] = {
    "receipt_issued": on_receipt_issued,
    "group_created": on_group_created,
    "member_added": on_member_added,
    "member_updated": on_member_updated,
    "pin_changed": on_pin_changed,
    "rules_adopted": on_rules_adopted,
    "meeting_opened": on_meeting_opened,
    "attendance_recorded": on_attendance,
    "movement_recorded": on_movement,
    "meeting_closed": on_meeting_closed,
}

__all__ = ["HANDLERS", "apply"]
