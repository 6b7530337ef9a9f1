"""What a member's receipt says in figures, and what its verification code vouches for.

The code on a receipt is its ``receipt_issued`` event's hash. The event names
the movements (the books hold their amounts); ``paper`` adds the figures the
paper prints that no movement holds: the totals handed over and received, and
the balances after, the next installment. The hash then covers every figure
on the paper, and the server can show them to whoever checks the code.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from .errors import DomainError

# Balances are sums of many amounts, so they are not held to one amount's ceiling; only to what both
# databases store exactly.
LIMIT = 2**53

# Printed figure -> where a member doc (kiosk.services.receipts) keeps it.
PAPER = {
    "paid": None,  # the totals: computed from the movements
    "received": None,
    "savings": "savings",
    "loan": "loan_outstanding",
    "late": "late",
    "aid": "aid_received",
    # The next installment ("Prochaine échéance le 12/02/2026 … pour 2 prêts"): its amount, its day as
    # the number 20260212 (a paper figure is a whole number), and how many loans fall due that day.
    "next": None,
    "next_on": None,
    "next_loans": None,
}


# From the member's side: "in" is money the member hands over, "out" money they receive.
FLOW = {
    "contribution": "in",
    "entry_fee": "in",
    "fine": "in",
    "repayment": "in",
    "loan": "out",
    "aid": "out",
    "withdrawal": "out",
    "exit": "out",
    "share_out": "out",
}


def share_parts(detail: Any) -> tuple[dict[str, int], dict[str, int]]:
    """A share-out transaction's (shares, payouts) by member, from its detail (JSON text or parsed)."""
    detail = json.loads(detail) if isinstance(detail, str) else detail or {}
    return detail.get("shares") or {}, detail.get("payouts") or {}


def member_share(fund: str, detail: Any, member_id: str) -> list[dict[str, Any]]:
    """A share-out is one transaction of the group; this member's part of it, as the movements their
    receipt prints: the earnings put to their savings, then the cash paid out (when the cycle pays out)."""
    shares, payouts = share_parts(detail)
    share, paid = int(shares.get(member_id, 0)), int(payouts.get(member_id, 0))
    out = []
    if share > 0:
        out.append({"kind": "share_gain", "fund": fund, "amount": share, "flow": "saved", "detail": {}})
    elif share < 0:  # the member's part of a loss, taken from their savings
        out.append({"kind": "share_loss", "fund": fund, "amount": -share, "flow": "taken", "detail": {}})
    if paid:
        out.append({"kind": "share_out", "fund": fund, "amount": paid, "flow": "out", "detail": {}})
    return out


def share_savings(part: dict[str, Any]) -> int:
    """What one of ``member_share``'s lines does to the member's savings: a gain adds, a loss or a payout
    takes away."""
    return part["amount"] if part["flow"] == "saved" else -part["amount"]


def totals(movements: Iterable[dict[str, Any]]) -> tuple[int, int]:
    """(paid, received) by the member. A correction takes back money that went one way; where it
    outweighs the rest, that money went the other way (a fee cancelled is paid back), so neither
    total is ever negative on a member's paper."""
    net = {"in": 0, "out": 0}
    for m in movements:
        if m["flow"] in net:
            net[m["flow"]] += m["amount"]
    return max(net["in"], 0) + max(-net["out"], 0), max(net["out"], 0) + max(-net["in"], 0)


def paper_figures(movements: Iterable[dict[str, Any]], balances: dict[str, Any]) -> dict[str, int]:
    """The figures, zeros left out: every byte is paid for on 2G, and a figure absent reads 0."""
    paid, received = totals(movements)
    figures = {"paid": paid, "received": received}
    figures |= {name: int(balances.get(key) or 0) for name, key in PAPER.items() if key}
    if nxt := balances.get("next_due"):
        figures |= {
            "next": int(nxt["amount"]),
            "next_on": int(str(nxt["date"]).replace("-", "")),
            "next_loans": int(nxt.get("loans", 1)),
        }
    return {name: value for name, value in figures.items() if value}


def paper_day(number: int) -> str | None:
    """``next_on``'s day in ISO (2026-02-12), None when the number is not a date."""
    text = f"{number:08d}"
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:])).isoformat() if len(text) == 8 else None
    except ValueError:
        return None


def check_paper(paper: Any) -> dict[str, int]:
    """The figures of a ``receipt_issued`` event, each a whole number of francs in range."""
    if not isinstance(paper, dict) or set(paper) - set(PAPER):
        raise DomainError("receipt_paper_invalid", "paper")
    for name, value in paper.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= LIMIT:
            raise DomainError("receipt_paper_invalid", f"paper.{name}", value=value)
    if "next_on" in paper and paper_day(paper["next_on"]) is None:
        raise DomainError("receipt_paper_invalid", "paper.next_on", value=paper["next_on"])
    return paper
