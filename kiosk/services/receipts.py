"""Receipts as data: what each paper says, fixed in the transaction that records the movements.

At closing, each member present gets a receipt and the group gets its
procès-verbal; with ``receipt_mode = movement`` a member also gets one per
movement. Each receipt is a ``receipt_issued`` event in the journal, so its
verification code is that event's hash and the server can check the paper;
and a print job holding the complete document, so nothing is recomputed
(or lost) between the commit and the paper.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from kiosk.domain.events import Event, verification_code
from kiosk.domain.funds import Fund
from kiosk.domain.loans import Standing, Terms, due_at, schedule, standing_of, terms_of
from kiosk.domain.meetings import PAYING
from kiosk.domain.receipts import FLOW, member_share, paper_figures, share_parts
from kiosk.store.database import Writer
from kiosk.store.print_queue import enqueue
from kiosk.sync import state

from .context import Kiosk, new_id


def kiosk_id(k: Kiosk) -> str:
    return k.store.setting("kiosk_id") or "K00"


def receipt_number(k: Kiosk, seq: int) -> str:
    return f"{kiosk_id(k)}-{seq:06d}"


def _stamp(k: Kiosk, doc: dict[str, Any], event: Event) -> dict[str, Any]:
    """Number and code come from the receipt's own journal event."""
    number = receipt_number(k, event.seq)
    code = verification_code(event.hash)
    return doc | {"number": number, "code": code, "kiosk": kiosk_id(k), "verify_url": verify_url(k, number, code)}


def verify_url(k: Kiosk, number: str, code: str) -> str | None:
    """Where the paper's QR code leads: its check on the server this kiosk is enrolled with. None before
    enrollment, and none on a kiosk behind its server (an older backup put back): the server holds other
    events under the numbers it prints, and would call a genuine paper a forgery."""
    server = state.server_url(k.store)
    if not server or state.is_behind(k.store):
        return None
    return f"{server.rstrip('/')}/v/{number}/{code.replace('-', '')}"


def movement_line(k: Kiosk, row: dict[str, Any]) -> dict[str, Any]:
    if isinstance(row["detail"], str):  # rows from a plain query hold the JSON text
        row = row | {"detail": json.loads(row["detail"])}
    kind = row["kind"]
    original = k.store.get("transactions", (row["reverses"],)) if row["reverses"] else None
    entry: dict[str, Any] = {"kind": kind, "fund": row["fund"], "amount": row["amount"], "detail": row["detail"] or {}}
    if kind == "reversal" and original is not None:
        entry |= {
            "flow": FLOW.get(original["kind"], "in"),
            "amount": -original["amount"],
            "of": original["kind"],
            # Which movement a correction cancels: the member finds it on the receipt of that day.
            "of_date": k.meeting(original["meeting_id"])["date"] if original["meeting_id"] else None,
            "reason": row["reason"],
        }
        entry["detail"] = _cancelled(original, entry["detail"])
    else:
        entry["flow"] = FLOW.get(kind, "in")
    if kind == "repayment":
        entry["detail"] = {k: row["detail"][k] for k in ("principal", "paf", "penalty")}
    if kind in ("loan", "aid") and row.get("loan_id") and (loan := k.store.get("loans", (row["loan_id"],))):
        entry["detail"] = entry["detail"] | _loan_terms(loan)
    approvers = json.loads(row["approvers"]) if isinstance(row.get("approvers"), str) else row.get("approvers")
    if approvers:
        # Who let this money move (a loan, an aid, a withdrawal, a correction…): the member holds their names.
        entry["approved_by"] = [_name(k, m) for m in approvers]
    return entry


def _loan_terms(loan: dict[str, Any]) -> dict[str, Any]:
    """What a borrower must know on the day of the loan: how long, the PAF (fixed, or the monthly rate of a
    declining one, not known in francs until repaid), and when the first installment falls due."""
    terms = terms_of(loan)
    out: dict[str, Any] = {"term_months": terms.term_months, "first_due": schedule(terms)[0].due.isoformat()}
    if loan["method"] == "declining":
        out["rate_bp"] = terms.rate_bp
    else:
        out["paf"] = loan["paf_charged"]
    return out


def _cancelled(original: dict[str, Any], detail: dict[str, Any]) -> dict[str, Any]:
    """A correction's detail with the fine or aid type of the movement it cancels: "ANNULATION Amende
    indiscipline", as the original's line said, not a bare "Amende"; an expense's label, what it paid for."""
    of = original["detail"] or {}  # from the store's view: JSON decoded
    return detail | {key: of[key] for key in ("fine", "aid", "label") if of.get(key)}


def share_lines(k: Kiosk, member_id: str, where: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    """This member's parts of the share-outs ``where`` selects (rows of p_transactions ``t``), oldest first."""
    rows = k.store.query(
        "SELECT t.*, mt.date FROM p_transactions t JOIN p_meetings mt USING (meeting_id) "
        f"WHERE t.kind = 'share_out' AND {where} ORDER BY t.seq",
        params,
    )
    return [
        entry | {"seq": row["seq"], "date": row["date"]}
        for row in rows
        for entry in member_share(row["fund"], row["detail"], member_id)
    ]


def _next_installment(terms: Terms, standing: Standing, today: date) -> tuple[date, int] | None:
    """The loan's next installment from ``today`` on that is not already paid, and its own amount.

    Its own amount only: what is already late (arrears and their penalty) the paper prints apart as
    "EN RETARD, à payer", and the installment's PAF is what the échéancier says falls due that day.
    One falling due today and not paid is not late yet, so it must be this one: the member would
    otherwise leave with a paper saying nothing of it.
    """
    for inst in schedule(terms):
        if inst.due >= today:
            due = due_at(terms, standing, inst.due)
            own = due.now - due.arrears - due.penalty
            if own:
                return inst.due, own
            # Nothing left of it: paid ahead (weekly groups pay at the meeting before it falls due).
    return None


def member_balances(k: Kiosk, group_id: str, member_id: str, today: date) -> dict[str, Any]:
    loans = k.store.query(
        "SELECT * FROM p_loans WHERE member_id = ? AND status = 'active' ORDER BY start", (member_id,)
    )
    outstanding, late, penalty = 0, 0, 0
    upcoming: list[tuple[date, int]] = []
    for row in loans:
        terms, standing = terms_of(row), standing_of(row)
        outstanding += terms.principal - standing.principal_paid
        owed = due_at(terms, standing, today)
        late += owed.arrears + owed.penalty  # what should have been paid already, and what lateness cost
        penalty += owed.penalty
        if (step := _next_installment(terms, standing, today)) is not None:
            upcoming.append(step)
    next_due = None
    if upcoming:
        # A loan and a repayable aid often fall due the same day: the member brings both, so the
        # paper says the sum (and how many loans it covers, since each échéancier shows one).
        first = min(day for day, _ in upcoming)
        parts = [amount for day, amount in upcoming if day == first]
        next_due = {"amount": sum(parts), "date": first.isoformat(), "loans": len(parts)}
    member = k.member(member_id)
    return {
        "savings": k.savings(group_id, member_id),
        "loan_outstanding": outstanding,
        "late": late,
        "late_penalty": penalty,  # printed under "late", of which it is a part (not a figure of its own)
        "next_due": next_due,
        "aid_received": member["aid_received"],
    }


def _name(k: Kiosk, member_id: str | None) -> str:
    return str(k.member(member_id)["name"]) if member_id else ""


def member_doc(k: Kiosk, meeting_id: str, member_id: str, txn_ids: list[str] | None = None) -> dict[str, Any]:
    meeting = k.meeting(meeting_id)
    group = k.group(meeting["group_id"])
    member = k.member(member_id)
    if txn_ids is None:
        rows = k.store.query(
            "SELECT * FROM p_transactions WHERE meeting_id = ? AND member_id = ? ORDER BY seq", (meeting_id, member_id)
        )
    else:
        rows = [t for t in (k.store.get("transactions", (txn,)) for txn in txn_ids) if t]
    movements = []
    recorder = None
    for row in rows:
        movements.append(movement_line(k, row))
        recorder = row["recorded_by"] or recorder
    if txn_ids is None:
        shares = share_lines(k, member_id, "t.meeting_id = ?", (meeting_id,))
        movements += [{key: v for key, v in entry.items() if key not in ("seq", "date")} for entry in shares]
    # At closing, after receipts given movement by movement: the same money again under the same title
    # was added up twice by whoever totals their papers. Receipts given, not the setting now: the mode may
    # have changed during the meeting.
    recap = txn_ids is None and bool(
        k.store.query(
            "SELECT 1 FROM p_receipts WHERE meeting_id = ? AND member_id = ? AND kind = 'member' LIMIT 1",
            (meeting_id, member_id),
        )
    )
    # Whoever stood in for the member carried their money and brings this paper home: it names them.
    [mark] = k.store.query(
        "SELECT COALESCE(MAX(CASE WHEN status = 'represented' THEN represented_by END), '') AS by "
        "FROM p_attendance WHERE meeting_id = ? AND member_id = ?",
        (meeting_id, member_id),
    )
    return {
        "type": "member",
        "title": "Récapitulatif de la séance" if recap else "Reçu de membre",
        "represented_by": mark["by"] or None,
        "recap": recap,
        "group": group["name"],
        "meeting": {"number": meeting["number"], "date": meeting["date"]},
        "member": {"number": member["number"], "name": member["name"], "sex": member["sex"]},
        "movements": movements,
        "balances": member_balances(k, group["group_id"], member_id, date.fromisoformat(meeting["date"])),
        # Who recorded the movements; with none, who opened the meeting (not necessarily the treasurer).
        "officer": _name(k, recorder) or _name(k, (meeting["open_officers"] or [None])[0]),
        "officer_as": "recorded" if recorder else "opened",
        "per_movement": txn_ids is not None,  # balances as they stand now, the meeting still going on
        "txns": [r["txn_id"] for r in rows],
    }


def report_doc(k: Kiosk, meeting_id: str) -> dict[str, Any]:
    meeting = k.meeting(meeting_id)
    group = k.group(meeting["group_id"])
    attendance = {s: 0 for s in ("present", "late", "absent", "excused", "represented")}
    for row in k.store.query(
        "SELECT status, COUNT(*) AS n FROM p_attendance WHERE meeting_id = ? GROUP BY status", (meeting_id,)
    ):
        attendance[row["status"]] = row["n"]
    represented = [
        {"member": f"n° {r['number']} {r['name']}", "by": r["represented_by"]}
        for r in k.store.query(
            "SELECT m.number, m.name, a.represented_by FROM p_attendance a JOIN p_members m USING (member_id) "
            "WHERE a.meeting_id = ? AND a.status = 'represented' ORDER BY m.number",
            (meeting_id,),
        )
    ]
    flows = {
        (r["fund"], r["dir"]): r["total"]
        for r in k.store.query(
            "SELECT t.fund, CASE WHEN p.amount > 0 THEN 'in' ELSE 'out' END AS dir, SUM(p.amount) AS total "
            "FROM p_postings p JOIN p_transactions t USING (txn_id) "
            "WHERE t.meeting_id = ? AND p.account = t.fund || ':cash' AND t.kind != 'discrepancy' GROUP BY 1, 2",
            (meeting_id,),
        )
    }
    discrepancies = {
        (r["fund"], r["at"]): r["amount"]
        for r in k.store.query(
            "SELECT fund, json_extract(detail, '$.at') AS at, amount FROM p_transactions "
            "WHERE meeting_id = ? AND kind = 'discrepancy'",
            (meeting_id,),
        )
    }
    funds = {}
    for fund in Fund:
        f = fund.value
        open_expected = (meeting["open_expected"] or {}).get(f, 0)
        close_expected = (meeting["close_expected"] or {}).get(f)
        funds[f] = {
            "opening_expected": open_expected,
            "opening_counted": open_expected + discrepancies.get((f, "open"), 0),
            "in": flows.get((f, "in"), 0),
            "out": -flows.get((f, "out"), 0),
            "closing_expected": close_expected,
            "closing_counted": None if close_expected is None else close_expected + discrepancies.get((f, "close"), 0),
        }
    # A share-out's amount is only the cash paid out (none when the shares stay in savings): the
    # procès-verbal says what it shared instead, among how many members.
    # Corrections go both ways (a contribution taken back is cash out, a loan taken back cash in): summed
    # as one "Annulation x3", their total meant nothing. Each way is its own line.
    totals = k.store.query(
        "SELECT fund, kind, COUNT(*) AS count, SUM(amount) AS amount FROM ("
        " SELECT t.fund, t.amount, CASE WHEN t.kind != 'reversal' THEN t.kind ELSE ("
        "  SELECT CASE WHEN SUM(p.amount) > 0 THEN 'reversal_in' WHEN SUM(p.amount) < 0 THEN 'reversal_out'"
        "  ELSE 'reversal' END FROM p_postings p WHERE p.txn_id = t.txn_id AND p.account = t.fund || ':cash'"
        " ) END AS kind FROM p_transactions t"
        " WHERE t.meeting_id = ? AND t.kind NOT IN ('discrepancy', 'share_out'))"
        " GROUP BY fund, kind ORDER BY fund, kind",
        (meeting_id,),
    )
    share_outs = [
        _shared(row["fund"], row["detail"])
        for row in k.store.query(
            "SELECT fund, detail FROM p_transactions WHERE meeting_id = ? AND kind = 'share_out' ORDER BY seq",
            (meeting_id,),
        )
    ]
    loans = [
        {
            "member": f"n° {r['number']} {r['name']}",
            "amount": r["principal"],
            "term_months": r["term_months"],
            "fund": r["fund"],
        }
        for r in k.store.query(
            # In the order they were granted, as the meeting's notebook lists them.
            "SELECT l.*, m.number, m.name FROM p_loans l JOIN p_members m USING (member_id) "
            "JOIN p_transactions t ON t.txn_id = l.txn_id "
            "WHERE l.meeting_id = ? AND l.kind = 'loan' AND l.status != 'cancelled' ORDER BY t.seq",
            (meeting_id,),
        )
    ]
    aid = [
        {
            "member": f"n° {r['number']} {r['name']}",
            "aid": r["aid"],
            "amount": r["amount"],
            "repayable": bool(r["repayable"]),  # lent: the group's notebook says it is owed back
        }
        for r in k.store.query(
            "SELECT m.number, m.name, json_extract(t.detail, '$.aid') AS aid, t.amount, "
            "t.loan_id IS NOT NULL AS repayable FROM p_transactions t "
            "JOIN p_members m USING (member_id) WHERE t.meeting_id = ? AND t.kind = 'aid' AND t.reversed_by IS NULL",
            (meeting_id,),
        )
    ]
    # Money that left the boxes for other things than loans and aid, each said with whom or what it went to:
    # "Dépense (verte) x1 1 500" told the members nothing of a spending whose loss they then shared out.
    savings_paid = [
        {"member": f"n° {r['number']} {r['name']}", "kind": r["kind"], "amount": r["amount"]}
        for r in k.store.query(
            "SELECT t.kind, t.amount, m.number, m.name FROM p_transactions t JOIN p_members m USING (member_id) "
            "WHERE t.meeting_id = ? AND t.kind IN ('withdrawal', 'exit') AND t.reversed_by IS NULL ORDER BY t.seq",
            (meeting_id,),
        )
    ]
    expenses = [
        {
            "label": json.loads(r["detail"] or "{}").get("label", ""),
            "fund": r["fund"],
            "amount": r["amount"],
            "approved_by": [_name(k, m) for m in json.loads(r["approvers"] or "[]")],
        }
        for r in k.store.query(
            "SELECT detail, fund, amount, approvers FROM p_transactions "
            "WHERE meeting_id = ? AND kind = 'expense' AND reversed_by IS NULL ORDER BY seq",
            (meeting_id,),
        )
    ]
    corrections = [
        {
            "of": r["of_kind"],
            "amount": r["amount"],
            "reason": r["reason"],
            "member": f"n° {r['number']} {r['name']}" if r["name"] else "",
            "detail": _cancelled(k.store.get("transactions", (r["reverses"],)) or {"detail": None}, {}),
        }
        for r in k.store.query(
            "SELECT t.amount, t.reason, t.reverses, json_extract(t.detail, '$.kind') AS of_kind, m.number, m.name "
            "FROM p_transactions t LEFT JOIN p_members m USING (member_id) "
            "WHERE t.meeting_id = ? AND t.kind = 'reversal' ORDER BY t.seq",
            (meeting_id,),
        )
    ]
    return {
        "type": "report",
        "title": "Procès-verbal de séance",
        "group": group["name"],
        "meeting": {
            "number": meeting["number"],
            "date": meeting["date"],
            "opened_by": [_name(k, m) for m in meeting["open_officers"] or []],
            "closed_by": [_name(k, m) for m in meeting["close_officers"] or []],
        },
        "attendance": attendance,
        "represented": represented,
        "funds": funds,
        "totals": totals,
        "share_outs": share_outs,
        "loans": loans,
        "aid": aid,
        "savings_paid": savings_paid,
        "expenses": expenses,
        "corrections": corrections,
    }


def _shared(fund: str, detail: Any) -> dict[str, Any]:
    """A share-out as the procès-verbal tells it: the gains (or the loss) spread over the members'
    savings, and the cash paid out, each with how many members it went to."""
    shares, payouts = share_parts(detail)
    return {
        "fund": fund,
        "gains": sum(a for a in shares.values() if a > 0),
        "gained_by": sum(1 for a in shares.values() if a > 0),
        "loss": -sum(a for a in shares.values() if a < 0),
        "lost_by": sum(1 for a in shares.values() if a < 0),
        "paid": sum(payouts.values()),
        "paid_to": sum(1 for a in payouts.values() if a),
    }


def _issue(k: Kiosk, w: Writer, doc: dict[str, Any], group_id: str, meeting_id: str, member_id: str | None) -> int:
    body: dict[str, Any] = {
        "receipt": new_id(),
        "group": group_id,
        "meeting": meeting_id,
        "kind": doc["type"],
        "txns": doc.pop("txns", []),
    }
    if member_id:
        body["member"] = member_id
        body["paper"] = paper_figures(doc["movements"], doc["balances"])  # so the code vouches for them
        if doc.get("per_movement"):  # its paper lists these movements only, not the meeting's share-out
            body["per_movement"] = True
    event = w.append("receipt_issued", body)
    return enqueue(w, doc["type"], _stamp(k, doc, event), k.store.clock.now_ms(), receipt_seq=event.seq)


def issue_meeting_receipts(k: Kiosk, w: Writer, meeting_id: str) -> list[int]:
    """Inside the closing transaction: a receipt for each member present, then the procès-verbal."""
    meeting = k.meeting(meeting_id)
    present = {
        r["member_id"]
        for r in k.store.query("SELECT member_id, status FROM p_attendance WHERE meeting_id = ?", (meeting_id,))
        if r["status"] in PAYING
    }
    moved = {
        r["member_id"]
        for r in k.store.query(
            "SELECT DISTINCT member_id FROM p_transactions WHERE meeting_id = ? AND member_id IS NOT NULL",
            (meeting_id,),
        )
    }
    for row in k.store.query(
        "SELECT detail FROM p_transactions WHERE meeting_id = ? AND kind = 'share_out'", (meeting_id,)
    ):
        moved |= {m for part in share_parts(row["detail"]) for m, amount in part.items() if amount}
    members = k.store.query(
        "SELECT member_id FROM p_members WHERE group_id = ? ORDER BY number", (meeting["group_id"],)
    )
    jobs = [
        _issue(k, w, member_doc(k, meeting_id, m["member_id"]), meeting["group_id"], meeting_id, m["member_id"])
        for m in members
        if m["member_id"] in present | moved
    ]
    jobs.append(_issue(k, w, report_doc(k, meeting_id), meeting["group_id"], meeting_id, None))
    return jobs


def issue_movement_receipt(k: Kiosk, w: Writer, txn_id: str, *more: str) -> int | None:
    """Per-movement mode: the member's receipt for one movement (or a few of one member's, as the
    one-tap contributions make), in the transaction that records them."""
    txn = k.store.get("transactions", (txn_id,))
    if txn is None or not txn["member_id"]:
        return None
    doc = member_doc(k, txn["meeting_id"], txn["member_id"], [txn_id, *more])
    return _issue(k, w, doc, txn["group_id"], txn["meeting_id"], txn["member_id"])
