"""Opening, attendance, standard contributions and closing of a meeting."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from kiosk.domain.errors import DomainError, Problem
from kiosk.domain.funds import Fund
from kiosk.domain.meetings import (
    IN_PERSON,
    PAYING,
    STEPS,
    Attendance,
    MeetingStatus,
    attendance_problem,
    away_problem,
    check_counts,
    parse_attendance,
    suggested_fine,
)
from kiosk.domain.rules import Rules

from .context import Approval, Kiosk, check_not_behind_server, new_id
from .receipts import issue_meeting_receipts, issue_movement_receipt


def open_meeting(
    k: Kiosk,
    group_id: str,
    day: date,
    counts: Mapping[str, Mapping[str, int]],
    approvals: list[Approval],
    *,
    meeting_id: str | None = None,
) -> str:
    group = k.group(group_id)
    if group["open_meeting"]:
        raise DomainError("meeting_already_open", "meeting")
    check_not_behind_server(k)
    clean = check_counts(counts)
    approvers = k.approve(approvals)
    meeting_id = meeting_id or new_id()
    with k.store.write() as w:
        w.append(
            "meeting_opened",
            {
                "group": group_id,
                "meeting": meeting_id,
                "number": group["meeting_count"] + 1,
                "date": day.isoformat(),
                "officers": approvers,
                "count": clean,
            },
        )
        w.execute("INSERT OR REPLACE INTO meeting_progress VALUES (?, ?)", (meeting_id, "attendance"))
    return meeting_id


def expected_cash(k: Kiosk, group_id: str) -> dict[str, int]:
    return {f.value: k.cash(group_id, f.value) for f in Fund}


def record_attendance(k: Kiosk, meeting_id: str, entries: Mapping[str, str | tuple[str, str]]) -> None:
    """Attendance for many members in one transaction: ``{member_id: status | (status, represented_by)}``.

    A member with movements at this meeting is not marked absent or excused (see
    kiosk.domain.meetings.attendance_problem): all of them are said, and nothing is recorded.
    """
    with k.store.write() as w:
        problems = [
            problem
            for member_id, entry in entries.items()
            if (problem := _attendance_problem(k, meeting_id, member_id, entry if isinstance(entry, str) else entry[0]))
        ]
        if problems:
            raise DomainError.of(problems)
        for member_id, entry in entries.items():
            status, by = (entry, None) if isinstance(entry, str) else entry
            body: dict[str, Any] = {
                "meeting": meeting_id,
                "member": member_id,
                "status": parse_attendance(status).value,
            }
            if by:
                body["represented_by"] = by
            w.append("attendance_recorded", body)


def check_attendance(k: Kiosk, meeting_id: str, member_id: str, status: str) -> None:
    """The refusal record_attendance would give this member's mark, said as soon as it is tapped."""
    problem = _attendance_problem(k, meeting_id, member_id, status)
    if problem:
        raise DomainError.of([problem])


def _attendance_problem(k: Kiosk, meeting_id: str, member_id: str, status: str) -> Problem | None:
    kinds = sorted(IN_PERSON)
    movements = k.store.query(
        "SELECT COUNT(*) AS n FROM p_transactions WHERE meeting_id = ? AND member_id = ? AND reversed_by IS NULL "
        f"AND kind IN ({', '.join('?' * len(kinds))})",
        (meeting_id, member_id, *kinds),
    )[0]["n"]
    if not movements:
        return None  # the member is read only when needed: most marks are of members with no movement yet
    return attendance_problem(parse_attendance(status), k.member(member_id)["name"], movements)


def check_here(k: Kiosk, meeting_id: str, member_id: str) -> None:
    """Refuses money of the IN_PERSON kinds for a member marked absent or excused at this meeting
    (kiosk.domain.meetings.away_problem). The movements' checks ask it before the confirmation and any
    PIN, and kiosk.services.movements records none without asking it again."""
    problem = away_problem_of(k, meeting_id, member_id)
    if problem:
        raise DomainError.of([problem])


def away_problem_of(k: Kiosk, meeting_id: str, member_id: str) -> Problem | None:
    row = k.store.get("attendance", (meeting_id, member_id))
    if row is None:
        return None  # not marked yet: everyone counts as present until the treasurer says otherwise
    status = parse_attendance(row["status"])
    if status in PAYING:
        return None  # the member is read only when needed: most are here
    return away_problem(status, k.member(member_id)["name"])


def attendance(k: Kiosk, meeting_id: str, *, active_only: bool = False) -> dict[str, str]:
    """``{member_id: status}`` as marked at this meeting; ``active_only``: without those who left since."""
    rows = k.store.query(
        "SELECT a.member_id, a.status FROM p_attendance a JOIN p_members m USING (member_id) "
        "WHERE a.meeting_id = ?" + (" AND m.active = 1" if active_only else "") + " ORDER BY m.number",
        (meeting_id,),
    )
    return {r["member_id"]: r["status"] for r in rows}


def suggested_fines(k: Kiosk, meeting_id: str) -> list[dict[str, Any]]:
    """Fines the règlement suggests from attendance, not yet charged.

    A fine is money paid into a box, so it is suggested to someone here to pay it: lateness at
    this meeting, and the absences of earlier meetings still unpaid, to a member who came (or
    sent someone). Charged on the day of the absence, it entered the box's books while the cash
    never came: the closing count came out short by every absent member's fine.
    """
    meeting = k.meeting(meeting_id)
    rules = k.rules(meeting["group_id"])
    charged = {
        (r["member_id"], r["detail"])
        for r in k.store.query(
            "SELECT member_id, json_extract(detail, '$.fine') AS detail FROM p_transactions "
            "WHERE meeting_id = ? AND kind = 'fine' AND reversed_by IS NULL",
            (meeting_id,),
        )
    }
    owed = _absences_owed(k, meeting, rules.absence_fine)
    out = []
    for member_id, status in attendance(k, meeting_id, active_only=True).items():
        here = parse_attendance(status)
        if here is Attendance.LATE and (fine := suggested_fine(rules, here)) and (member_id, fine[0]) not in charged:
            out.append({"member_id": member_id, "fine": fine[0], "amount": fine[1], "status": status, "count": 1})
        if here in PAYING and member_id in owed:
            count, amount = owed[member_id]
            out.append(
                {"member_id": member_id, "fine": rules.absence_fine, "amount": amount, "status": "absent"}
                | {"count": count}
            )
    return out


def absence_fines_owed(k: Kiosk, meeting_id: str, member_id: str) -> tuple[int, int]:
    """(absences, francs) of absence fine ``member_id`` still owes at this meeting; (0, 0) if none."""
    meeting = k.meeting(meeting_id)
    return _absences_owed(k, meeting, k.rules(meeting["group_id"]).absence_fine).get(member_id, (0, 0))


def _absences_owed(k: Kiosk, meeting: dict[str, Any], name: str | None) -> dict[str, tuple[int, int]]:
    """Per member: (absences since they last came, francs of absence fine still unpaid for them).

    Only the absences since the member last came or sent someone: at that meeting the earlier ones
    were suggested, and paid or let go (the suggestion is the treasurer's to apply, as the group
    decides). Absence fines charged since count as paid whatever their day: an earlier version
    charged them on the day of the absence. Each absence costs the fine of the règlement in force at
    that meeting: a fine raised since applies from its adoption on, not to the absences before it.
    """
    if not name:
        return {}
    fine_at = _absence_fine_at(k, meeting["group_id"])
    rows = k.store.query(
        "SELECT a.member_id, a.status, mt.number, mt.opened_seq FROM p_attendance a JOIN p_meetings mt "
        "USING (meeting_id) WHERE mt.group_id = ? AND mt.number < ? ORDER BY mt.number",
        (meeting["group_id"], meeting["number"]),
    )
    last_here: dict[str, int] = {}
    for r in rows:
        if r["status"] in PAYING:
            last_here[r["member_id"]] = max(last_here.get(r["member_id"], 0), r["number"])
    absences: dict[str, list[int]] = {}  # the price of each absence, oldest first
    for r in rows:
        away = r["status"] == Attendance.ABSENT and r["number"] > last_here.get(r["member_id"], 0)
        if away and (price := fine_at(r["opened_seq"])):
            absences.setdefault(r["member_id"], []).append(price)
    paid: dict[str, int] = {}
    for r in k.store.query(
        "SELECT t.member_id, mt.number, t.amount FROM p_transactions t JOIN p_meetings mt USING (meeting_id) "
        "WHERE t.group_id = ? AND t.kind = 'fine' AND t.reversed_by IS NULL AND json_extract(t.detail, '$.fine') = ?",
        (meeting["group_id"], name),
    ):
        if r["number"] > last_here.get(r["member_id"], 0):
            paid[r["member_id"]] = paid.get(r["member_id"], 0) + r["amount"]
    out = {}
    for member_id, prices in absences.items():
        left = paid.get(member_id, 0)
        unpaid = []
        for price in prices:  # what was paid covers the oldest absences first
            covered = min(left, price)
            left -= covered
            if price > covered:
                unpaid.append(price - covered)
        if unpaid:
            out[member_id] = (len(unpaid), sum(unpaid))  # absences not yet covered, what they still owe
    return out


def _absence_fine_at(k: Kiosk, group_id: str) -> Callable[[int], int]:
    """The absence fine of the règlement in force when the journal was at ``seq``: the last version
    adopted before it (a version adopted at a meeting applies from then on)."""
    versions = [
        (row["adopted_seq"], Rules.from_dict(json.loads(row["body"])))
        for row in k.store.query(
            "SELECT adopted_seq, body FROM p_rules WHERE group_id = ? ORDER BY adopted_seq", (group_id,)
        )
    ]

    def fine_at(seq: int) -> int:
        rules = next((r for adopted, r in reversed(versions) if adopted <= seq), versions[0][1])
        return rules.fines.get(rules.absence_fine or "", 0)

    return fine_at


def standard_contributions(
    k: Kiosk,
    meeting_id: str,
    by: str,
    *,
    exceptions: Mapping[str, Mapping[str, int]] | None = None,
) -> int:
    """The one tap: every paying member (present, late, represented) pays the standard amounts.

    ``exceptions`` gives other amounts for some members (``{member: {"verte": 500}}``;
    0 skips that fund). Members who already paid a fund at this meeting are skipped,
    so a second tap after a power cut does not charge anyone twice.
    Returns the number of contributions recorded.
    """
    meeting = k.meeting(meeting_id)
    if meeting["status"] != MeetingStatus.OPEN:
        raise DomainError("meeting_not_open", "meeting", number=meeting["number"])
    rules = k.rules(meeting["group_id"])
    exceptions = exceptions or {}
    standard = {"verte": rules.contribution_verte, "rouge": rules.contribution_rouge}
    count = 0
    with k.store.write() as w:
        # Read who already paid inside the write transaction: two taps (or two
        # processes) at once must not both see "not paid yet".
        paid = {
            (r["member_id"], r["fund"])
            for r in k.store.query(
                "SELECT member_id, fund FROM p_transactions WHERE meeting_id = ? AND kind = 'contribution' "
                "AND reversed_by IS NULL",
                (meeting_id,),
            )
        }
        # A member who left during the meeting pays no more: one departure must not block everyone's tap.
        paying = [m for m, s in attendance(k, meeting_id, active_only=True).items() if s in PAYING]
        unknown = set(exceptions) - set(paying)
        if unknown:
            raise DomainError("not_paying_member", "exceptions", value=sorted(unknown)[0])
        tapped: dict[str, list[str]] = {}
        for member_id in paying:
            amounts = {**standard, **exceptions.get(member_id, {})}
            for fund, amount in amounts.items():
                if amount and (member_id, fund) not in paid:
                    tapped.setdefault(member_id, []).append(new_id())
                    w.append(
                        "movement_recorded",
                        {
                            "txn": tapped[member_id][-1],
                            "meeting": meeting_id,
                            "kind": "contribution",
                            "by": by,
                            "member": member_id,
                            "fund": fund,
                            "amount": amount,
                        },
                    )
                    count += 1
        if k.store.setting("receipt_mode") == "movement":
            # As for any movement, a receipt for what each member just paid: after the tap's
            # contributions, which stay one run of the journal.
            for txns in tapped.values():
                issue_movement_receipt(k, w, *txns)
    return count


def close_meeting(
    k: Kiosk, meeting_id: str, counts: Mapping[str, Mapping[str, int]], approvals: list[Approval]
) -> dict[str, Any]:
    meeting = k.meeting(meeting_id)
    if meeting["status"] != MeetingStatus.OPEN:
        raise DomainError("meeting_not_open", "meeting", number=meeting["number"])
    clean = check_counts(counts)
    approvers = k.approve(approvals)
    with k.store.write() as w:
        w.append("meeting_closed", {"meeting": meeting_id, "officers": approvers, "count": clean})
        issue_meeting_receipts(k, w, meeting_id)
        w.execute("INSERT OR REPLACE INTO meeting_progress VALUES (?, ?)", (meeting_id, "receipts"))
    return k.meeting(meeting_id)


def set_step(k: Kiosk, meeting_id: str, step: str) -> None:
    """Remember where the treasurer is, so a meeting cut by a power failure resumes there."""
    if step not in STEPS:
        raise DomainError("step_unknown", "step", value=step)
    k.meeting(meeting_id)
    with k.store.write() as w:
        w.execute("INSERT OR REPLACE INTO meeting_progress VALUES (?, ?)", (meeting_id, step))


def step(k: Kiosk, meeting_id: str) -> str:
    row = k.store.conn.execute("SELECT step FROM meeting_progress WHERE meeting_id = ?", (meeting_id,)).fetchone()
    return row[0] if row else "open"


def open_meeting_of(k: Kiosk, group_id: str) -> str | None:
    return k.group(group_id)["open_meeting"]


def last_closed(k: Kiosk, group_id: str) -> dict[str, Any] | None:
    """The group's last closed meeting (``meeting_id``, ``number``), whose receipts the screens go back to."""
    rows = k.store.query(
        "SELECT meeting_id, number FROM p_meetings WHERE group_id = ? AND status = 'closed' "
        "ORDER BY number DESC LIMIT 1",
        (group_id,),
    )
    return rows[0] if rows else None
