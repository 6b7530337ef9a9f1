"""The papers a member asks for, which record nothing: the relevé (statement) of their movements and
balances, and a loan's échéancier (schedule). Each carries the journal's head as its proof."""

from __future__ import annotations

from datetime import date
from typing import Any

from kiosk.domain import postings
from kiosk.domain.errors import DomainError
from kiosk.domain.events import journal_point_code
from kiosk.domain.loans import schedule, terms_of
from kiosk.domain.receipts import share_savings
from kiosk.store.print_queue import enqueue

from .context import Kiosk
from .receipts import kiosk_id, member_balances, movement_line, receipt_number, share_lines, verify_url


def statement_doc(k: Kiosk, member_id: str, limit: int = 30) -> dict[str, Any]:
    """The relevé: a member's recent movements and balances, with the journal's head as proof."""
    member = k.member(member_id)
    group = k.group(member["group_id"])
    rows = k.store.query(
        "SELECT t.*, mt.date, mt.number AS meeting_number FROM p_transactions t JOIN p_meetings mt USING (meeting_id) "
        "WHERE t.member_id = ? ORDER BY t.seq DESC LIMIT ?",
        (member_id, limit + 1),  # one more than printed: whether older movements are left out
    )
    lines = []
    mine = _own_accounts(k, member_id)
    for row in reversed(rows):
        lines.append(movement_line(k, row) | {"date": row["date"], "seq": row["seq"], **_moved(k, row["txn_id"], mine)})
    for line in share_lines(k, member_id, "t.group_id = ?", (member["group_id"],)):
        # A share-out's parts: the gain put to savings, the loss taken from them, the cash paid out of them.
        lines.append(line | {"savings": share_savings(line), "loan": 0})
    lines = sorted(lines, key=lambda line: line["seq"])
    cut = len(lines) - limit
    if cut > 0:
        # Never split a meeting: a balance "reported at 12/01" followed by lines of 12/01 reads as if
        # those were in it already. Unless one day alone holds more than the paper lists.
        day = lines[cut - 1]["date"]
        whole = next((i for i in range(cut, len(lines)) if lines[i]["date"] != day), len(lines))
        cut = whole if whole < len(lines) else cut
        # Nor one movement: a share-out's gain and payout are two lines of one transaction, and the
        # balance carried takes a transaction whole (both printed, one line over the limit at most).
        while 0 < cut < len(lines) and lines[cut]["seq"] == lines[cut - 1]["seq"]:
            cut -= 1
    carried = _carried(k, member_id, lines[cut - 1]) if cut > 0 else None
    lines = lines[max(cut, 0) :]
    for line in lines:
        del line["seq"]
    today = date.fromisoformat(group["last_meeting_date"]) if group["last_meeting_date"] else date.today()
    doc: dict[str, Any] = {
        "type": "statement",
        "title": "Relevé de compte",
        "group": group["name"],
        "member": {"number": member["number"], "name": member["name"]}
        | ({"left_on": member["left_on"]} if member.get("left_on") else {}),
        "as_of": today.isoformat(),
        "movements": lines,
        "balances": member_balances(k, group["group_id"], member_id, today),
    }
    if carried:
        doc["carried"] = carried
    return _head_stamped(k, doc)


def _own_accounts(k: Kiosk, member_id: str) -> dict[str, str]:
    """The member's own accounts, named by the balance of the relevé they move: their savings and each
    of their loans' capital."""
    loans = k.store.query("SELECT loan_id, fund FROM p_loans WHERE member_id = ?", (member_id,))
    return {postings.savings(member_id): "savings"} | {f"{r['fund']}:loan:{r['loan_id']}": "loan" for r in loans}


def _moved(k: Kiosk, txn_id: str, mine: dict[str, str]) -> dict[str, int]:
    """How much a movement changed the member's savings and loan capital (its postings on their accounts):
    the relevé adds these up to its balances. Savings are owed to the member: a credit adds to them."""
    moved = {"savings": 0, "loan": 0}
    for leg in k.store.query("SELECT account, amount FROM p_postings WHERE txn_id = ?", (txn_id,)):
        if leg["account"] in mine:
            name = mine[leg["account"]]
            moved[name] += -leg["amount"] if name == "savings" else leg["amount"]
    return moved


def _carried(k: Kiosk, member_id: str, last: dict[str, Any]) -> dict[str, Any]:
    """The balances right after ``last``, the newest movement a relevé leaves out: with them the member
    adds up the lines printed to the balances at the bottom."""
    [row] = k.store.query(
        "SELECT"
        " (SELECT -COALESCE(SUM(p.amount), 0) FROM p_postings p JOIN p_transactions t USING (txn_id)"
        "  WHERE p.account = ? AND t.seq <= ?) AS savings,"
        " (SELECT COALESCE(SUM(p.amount), 0) FROM p_postings p JOIN p_transactions t USING (txn_id)"
        "  JOIN p_loans l ON p.account = l.fund || ':loan:' || l.loan_id WHERE l.member_id = ? AND t.seq <= ?) AS loan",
        (postings.savings(member_id), last["seq"], member_id, last["seq"]),
    )
    return {"date": last["date"], "savings": row["savings"], "loan_outstanding": row["loan"]}


def schedule_doc(k: Kiosk, loan_id: str) -> dict[str, Any]:
    """The échéancier of a loan: installments, what is paid, what is left."""
    row = k.store.get("loans", (loan_id,))
    if row is None:
        raise DomainError("loan_unknown", "loan", value=loan_id)
    member = k.member(row["member_id"])
    plan = schedule(terms_of(row))
    return _head_stamped(
        k,
        {
            "type": "schedule",
            "title": "Échéancier de prêt",
            "group": k.group(row["group_id"])["name"],
            "member": {"number": member["number"], "name": member["name"]},
            "loan": {
                "principal": row["principal"],
                "fund": row["fund"],
                "method": row["method"],
                "rate_bp": row["rate_bp"],
                "term_months": row["term_months"],
                "start": row["start"],
                # The plan's PAF, as its lines add up: a declining loan's is charged month by month, and
                # what is charged so far read as the whole of it (180 F printed above 360 F of installments).
                "paf_total": sum(i.paf for i in plan),
                "principal_paid": row["principal_paid"],
                "paf_paid": row["paf_paid"],
                "penalty_paid": row["penalty_paid"],
                "kind": row["kind"],
            },
            "installments": [
                {"number": i.number, "due": i.due.isoformat(), "principal": i.principal, "paf": i.paf} for i in plan
            ],
        },
    )


def _head_stamped(k: Kiosk, doc: dict[str, Any]) -> dict[str, Any]:
    """Documents that record nothing carry the journal's head: proof of the history they summarise."""
    seq, head = k.store.head()
    code = journal_point_code(head)
    url = verify_url(k, receipt_number(k, seq), code)
    return doc | {"number": None, "kiosk": kiosk_id(k), "journal_seq": seq, "code": code, "verify_url": url}


def print_statement(k: Kiosk, member_id: str) -> int:
    doc = statement_doc(k, member_id)
    with k.store.write() as w:
        return enqueue(w, "statement", doc, k.store.clock.now_ms())


def print_schedule(k: Kiosk, loan_id: str) -> int:
    doc = schedule_doc(k, loan_id)
    with k.store.write() as w:
        return enqueue(w, "schedule", doc, k.store.clock.now_ms())
