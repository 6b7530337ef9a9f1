"""Property tests: random valid meeting histories keep the ledger's invariants.

Hypothesis draws a list of operations (contributions, fines, loans, repayments,
aid, withdrawals, expenses, outside money, reversals, exits, closing and
opening meetings…) and plays them through the services, as the UI would. The
domain may refuse some of them (a loan above the ceiling, a withdrawal of more
than one's savings, reversing a repayment that is not the last…): a refusal
must then change nothing at all.

After every accepted operation the invariants are recomputed with plain SQL
over the projection tables, independently of the reducer's own checks:

1. every transaction's postings sum to zero (and stay inside one box);
2. every account's balance is the sum of its postings, each box's cash too;
3. no member's savings below zero (nor cash, loans, or debts to lenders);
4. a reversal and its original net to zero, account by account;

and at the end of each history:

5. replaying the journal reproduces every stored projection row exactly, the
   hash chain verifies and ``verify`` reports nothing;
6. (separate test) changing any character of any stored event's body, hash,
   type or boot id, or any bit of its times, makes ``verify`` fail.

The tests at the end pin down what these properties once found wrong in the
product (verify crashing on tampered bytes; savings given back to a member who left).
"""

from __future__ import annotations

import random
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date, timedelta
from itertools import combinations
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from conftest import PINS, Group, make_group
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from kiosk.domain.errors import DomainError
from kiosk.domain.events import verify_chain
from kiosk.domain.funds import Fund, count_for, count_total
from kiosk.domain.policies import share_out
from kiosk.domain.projections import TABLES
from kiosk.domain.receipts import totals
from kiosk.services import Approval, Kiosk, context
from kiosk.services import meetings as M
from kiosk.services import movements as V
from kiosk.store.clock import FixedClock
from kiosk.store.database import SqliteView, Store
from kiosk.store.verify import replay, verify

N_MEMBERS = 4  # ordinary members, after the four officers
N_PEOPLE = len(PINS) + N_MEMBERS
PAIRS = list(combinations(PINS, 2))  # every pair of distinct officer roles
FUNDS = [f.value for f in Fund]
LENDERS = ["ONG Avenir", "Crédit rural"]
AIDS = ["deces", "maladie", "naissance", "mariage", "sinistre", "inconnue"]
FINES = ["absence", "retard", "indiscipline", "inconnue"]
REASONS = ["Erreur de saisie", "Montant erroné", "Doublon", "no"]  # the last is too short: refused

# Codes a service must never provoke: they mean the service built a bad event, or
# the reducer broke its own bookkeeping, not that a rule refused the operation.
BUG_CODES = frozenset(
    {
        "event_malformed",
        "event_type_unknown",
        "transaction_unbalanced",
        "transaction_crosses_funds",
        "transaction_exists",
        "transaction_empty",
        "float_in_event",
        "value_not_json",
        "member_number_wrong",
        "meeting_number_wrong",
        "loan_exists",
    }
)

# -- strategies -------------------------------------------------------------------------------

amounts = st.one_of(
    st.sampled_from([200, 500, 1000, 2000, 5000, 10000]),
    st.integers(min_value=1, max_value=30000),
)
who = st.integers(min_value=0, max_value=N_PEOPLE - 1)
pair = st.integers(min_value=0, max_value=len(PAIRS) - 1)
pct = st.integers(min_value=1, max_value=120)  # above 100: more than there is, to be refused
adjust = st.sampled_from([0, 0, 0, 5, -5, 100, -100, 1000, -2500])

contribution = st.one_of(
    st.tuples(st.just("contribution"), st.sampled_from(["verte", "rouge"]), who, amounts),
    st.tuples(st.just("contribution"), st.just("verte"), who, st.sampled_from([1000, 5000, 20000])),
)
loan = st.tuples(
    st.just("loan"),
    who,
    # Mostly a share of what the règlement allows this member (above 100 %: refused), sometimes any amount.
    st.one_of(
        st.tuples(st.just("ceiling"), pct), st.tuples(st.just("ceiling"), pct), st.tuples(st.just("raw"), amounts)
    ),
    st.sampled_from([1, 2, 3, 4, 5, 6, 1, 2, 3, 0, 7]),  # 0 and 7 months: outside the règlement
    st.sampled_from(["verte", "verte", "verte", "bleue", "rouge"]),
    pair,
)
repay = st.tuples(
    st.just("repay"), st.integers(min_value=0, max_value=9), st.sampled_from(["now", "payoff", "part", "over"]), pct
)
REVERSIBLE = ["contribution", "fine", "entry_fee", "loan", "repayment", "aid", "withdrawal", "expense"]
reverse = st.tuples(
    st.just("reverse"),
    st.one_of(
        st.tuples(st.just("recent"), st.integers(min_value=0, max_value=3)),  # the usual slip: just now
        st.tuples(st.sampled_from([*REVERSIBLE, "outside_in", "outside_out"]), st.integers(min_value=0, max_value=9)),
        st.tuples(st.just("any"), st.integers(min_value=0, max_value=199)),  # maybe not reversible: refused
    ),
    st.sampled_from(REASONS),
    pair,
)
close = st.tuples(
    st.just("close"),
    st.tuples(adjust, adjust, adjust),
    st.tuples(adjust, adjust, adjust),
    st.sampled_from([7, 7, 7, 14, 35, 70]),  # days to the next meeting: long gaps make loans late
)

# st.one_of draws its branches evenly: the common movements are listed more than once.
operation = st.one_of(
    contribution,
    contribution,
    contribution,
    st.tuples(st.just("standard")),
    st.tuples(st.just("fine"), who, st.sampled_from(FINES), st.one_of(st.none(), amounts)),
    st.tuples(st.just("entry_fee"), who),
    loan,
    loan,
    loan,
    loan,
    repay,
    repay,
    repay,
    repay,
    st.tuples(st.just("aid"), who, st.sampled_from(AIDS), pair),
    st.tuples(st.just("withdraw"), who, pct, pair),
    st.tuples(st.just("expense"), st.sampled_from(FUNDS), amounts, pair),
    st.tuples(st.just("outside_in"), st.sampled_from(LENDERS), amounts),
    st.tuples(st.just("outside_out"), st.sampled_from(LENDERS), pct, st.sampled_from([0, 0, 100, 1500]), pair),
    reverse,
    reverse,
    close,
    close,
    st.tuples(st.just("share_out"), st.booleans(), pair),
    # Only the last two members may leave, so that a history keeps people to lend to.
    st.tuples(st.just("exit"), st.integers(min_value=N_PEOPLE - 2, max_value=N_PEOPLE - 1), pair),
    st.tuples(st.just("stale"), who, amounts),
)

rules_strategy = st.fixed_dictionaries(
    {
        "withdrawal": st.just("any_time"),
        "paf_method": st.sampled_from(["flat", "declining", "one_time"]),
        "paf_rate_bp": st.sampled_from([0, 150, 200, 500]),
        "rounding_unit": st.sampled_from([1, 5, 25]),
        "late_penalty_bp": st.sampled_from([0, 100, 300]),
        "max_active_loans": st.integers(min_value=1, max_value=2),
        "share_out": st.sampled_from([True, True, False]),
    }
)

histories = st.lists(operation, min_size=15, max_size=60)
receipt_modes = st.sampled_from([None, "movement"])  # default: receipts at closing only

# Loans are where the arithmetic is (PAF, penalties, repayments undone by reversals): a second,
# narrower mix spends its examples there.
reverse_loan = st.tuples(
    st.just("reverse"),
    st.tuples(st.sampled_from(["loan", "repayment", "repayment", "recent"]), st.integers(min_value=0, max_value=2)),
    st.sampled_from(REASONS[:-1]),
    pair,
)
loan_operation = st.one_of(contribution, loan, loan, repay, repay, repay, reverse_loan, reverse_loan, close)
loan_histories = st.lists(loan_operation, min_size=15, max_size=60)

# Savings only go down by withdrawals, exits and reversals: a third mix lines them up, e.g.
# withdraw everything, then reverse a contribution that was withdrawn with the rest.
reverse_savings = st.tuples(
    st.just("reverse"),
    st.tuples(
        st.sampled_from(["same_member", "same_member", "contribution", "withdrawal", "recent"]),
        st.integers(min_value=0, max_value=3),
    ),
    st.sampled_from(REASONS[:-1]),
    pair,
)
savings_operation = st.one_of(
    contribution,
    st.tuples(st.just("withdraw"), who, st.sampled_from([100, 100, 50, 101]), pair),
    st.tuples(st.just("exit"), st.integers(min_value=len(PINS), max_value=N_PEOPLE - 1), pair),
    reverse_savings,
    reverse_savings,
    close,
    st.tuples(st.just("expense"), st.just("verte"), amounts, pair),  # a loss to share out
    st.tuples(st.just("share_out"), st.booleans(), pair),
)
savings_histories = st.lists(savings_operation, min_size=10, max_size=40)

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# -- playing a history through the services ---------------------------------------------------


def countable(amount: int) -> dict[str, int]:
    """The billetage a treasurer could count for ``amount``: never negative, in 5 F pieces."""
    return count_for(max(0, amount) // 5 * 5)


class History:
    """One fresh kiosk and group, an open meeting, and the operations applied so far.

    Ids come from a seeded generator instead of ``uuid4``: the services order some
    things by id (attendance, hence the one-tap contributions), and Hypothesis needs
    an example to behave the same each time it replays it.
    """

    def __init__(self, rules: dict[str, Any], receipt_mode: str | None = None) -> None:
        ids = random.Random(0)
        self._ids = mock.patch.object(
            context, "uuid", SimpleNamespace(uuid4=lambda: uuid.UUID(int=ids.getrandbits(128), version=4))
        )
        self._ids.start()
        self.k = Kiosk.open(":memory:", FixedClock())
        try:
            if receipt_mode:
                self.k.store.set_setting("receipt_mode", receipt_mode)
            self.g: Group = make_group(self.k, n_members=N_MEMBERS, rules=rules)
            self.people = [o["member_id"] for o in self.g.officers.values()]
            self.people += [m["member_id"] for m in self.g.members]
            self.day = date(2026, 1, 5)
            self.closed: list[str] = []
            self.meeting = self.open_meeting((0, 0, 0))
            M.standard_contributions(self.k, self.meeting, self.by)  # everyone has some savings to borrow on
        except BaseException:
            self.__exit__()
            raise

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.k.close()
        self._ids.stop()

    # helpers -------------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        return self.k.store

    @property
    def by(self) -> str:
        return self.g.treasurer

    def approvals(self, i: int) -> list[Approval]:
        a, b = PAIRS[i]
        return [self.g.approval(a), self.g.approval(b)]

    def counts(self, adjust: tuple[int, int, int]) -> dict[str, dict[str, int]]:
        expected = M.expected_cash(self.k, self.g.group_id)
        return {f: countable(expected[f] + adj) for f, adj in zip(FUNDS, adjust, strict=True)}

    def open_meeting(self, adjust: tuple[int, int, int]) -> str:
        meeting = M.open_meeting(self.k, self.g.group_id, self.day, self.counts(adjust), self.g.two())
        active = self.store.query(
            "SELECT member_id FROM p_members WHERE group_id = ? AND active = 1", (self.g.group_id,)
        )
        M.record_attendance(self.k, meeting, {m["member_id"]: "present" for m in active})
        return meeting

    def active_loans(self) -> list[dict[str, Any]]:
        # Ordered by the seq of the disbursement, never by the (random) uuid: examples must replay.
        return self.store.query(
            "SELECT l.loan_id FROM p_loans l JOIN p_transactions t ON t.txn_id = l.txn_id "
            "WHERE l.group_id = ? AND l.status = 'active' ORDER BY t.seq",
            (self.g.group_id,),
        )

    def snapshot(self) -> tuple[Any, ...]:
        """The journal head and every projection row: what a refusal must leave untouched."""
        tables = tuple(
            tuple(self.store.conn.execute(f"SELECT * FROM p_{name} ORDER BY {', '.join(t.key)}"))
            for name, t in TABLES.items()
        )
        return self.store.head(), tables

    # one operation -----------------------------------------------------------------------

    def play(self, op: tuple[Any, ...]) -> None:
        before = self.snapshot()
        try:
            getattr(self, f"op_{op[0]}")(*op[1:])
        except DomainError as exc:
            note(f"refused {op}: {exc.code}")
            assert exc.code not in BUG_CODES, f"{op} provoked {exc}"
            assert self.snapshot() == before, f"{op} was refused ({exc}) but the store changed"
            return
        note(f"accepted {op}")
        check_ledger(self.store, self.g.group_id)

    def op_contribution(self, fund: str, i: int, amount: int) -> None:
        V.contribution(self.k, self.meeting, self.by, self.people[i], fund, amount)

    def op_standard(self) -> None:
        M.standard_contributions(self.k, self.meeting, self.by)

    def op_fine(self, i: int, name: str, amount: int | None) -> None:
        V.fine(self.k, self.meeting, self.by, self.people[i], name, amount)

    def op_entry_fee(self, i: int) -> None:
        V.entry_fee(self.k, self.meeting, self.by, self.people[i])

    def op_loan(self, i: int, size: tuple[str, int], term: int, fund: str, p: int) -> None:
        mode, value = size
        if mode == "ceiling":
            rules = self.k.rules(self.g.group_id)
            ceiling = rules.loan_savings_multiple * self.k.savings(self.g.group_id, self.people[i])
            cash = self.k.cash(self.g.group_id, fund)
            amount = max(1, min(ceiling, cash, rules.loan_cap) * value // 100)
        else:
            amount = value
        V.grant_loan(self.k, self.meeting, self.by, self.people[i], amount, term, self.approvals(p), fund=fund)

    def op_repay(self, n: int, mode: str, percent: int) -> None:
        loans = self.active_loans()
        if not loans:
            return
        loan_id = loans[n % len(loans)]["loan_id"]
        due = V.loan_due(self.k, loan_id, date.fromisoformat(self.k.meeting(self.meeting)["date"]))
        amount = {
            "now": due.now,
            "payoff": due.payoff,
            "part": max(1, due.payoff * min(percent, 100) // 100),
            "over": due.payoff + 1,
        }[mode]
        V.repay(self.k, self.meeting, self.by, loan_id, amount)

    def op_aid(self, i: int, aid: str, p: int) -> None:
        V.give_aid(self.k, self.meeting, self.by, self.people[i], aid, self.approvals(p))

    def op_withdraw(self, i: int, percent: int, p: int) -> None:
        savings = self.k.savings(self.g.group_id, self.people[i])
        amount = max(1, savings * percent // 100)
        V.withdraw(self.k, self.meeting, self.by, self.people[i], amount, self.approvals(p))

    def op_expense(self, fund: str, amount: int, p: int) -> None:
        V.expense(self.k, self.meeting, self.by, fund, amount, "Fournitures", self.approvals(p))

    def op_outside_in(self, lender: str, amount: int) -> None:
        V.outside_in(self.k, self.meeting, self.by, lender, amount)

    def op_outside_out(self, lender: str, percent: int, interest: int, p: int) -> None:
        row = self.store.get("accounts", (self.g.group_id, f"bleue:lender:{lender}"))
        owed = -row["balance"] if row else 0
        principal = owed * percent // 100
        V.outside_out(self.k, self.meeting, self.by, lender, principal, interest, self.approvals(p))

    def op_reverse(self, target: tuple[str, int], reason: str, p: int) -> None:
        which, n = target
        rows = self.store.query(
            "SELECT txn_id, kind, member_id FROM p_transactions WHERE group_id = ? ORDER BY seq, txn_id",
            (self.g.group_id,),
        )
        if which == "same_member":  # the member at the table has an earlier entry corrected
            member = next((r["member_id"] for r in reversed(rows) if r["member_id"]), None)
            txns = [r["txn_id"] for r in rows if member and r["member_id"] == member]
        else:
            txns = [r["txn_id"] for r in rows if which in ("any", "recent", r["kind"])]
        if not txns:
            return
        txn = txns[n % len(txns)] if which == "any" else txns[-1 - n % len(txns)]  # else: the n-th latest
        V.reverse(self.k, self.meeting, self.by, txn, reason, self.approvals(p))

    def op_exit(self, i: int, p: int) -> None:
        V.member_exit(self.k, self.meeting, self.by, self.people[i], self.approvals(p))

    def op_share_out(self, payout: bool, p: int) -> None:
        # The plan the kiosk makes from the books, gains or losses, is always one the ledger accepts:
        # never more paid out than the box holds, never a member's savings below zero.
        try:
            V.do_share_out(self.k, self.meeting, self.by, self.approvals(p), payout=payout)
        except DomainError as exc:
            assert exc.code in {"share_out_not_in_rules", "share_out_with_loans", "share_out_nothing"}, exc
            raise

    def op_close(self, close_adjust: tuple[int, int, int], open_adjust: tuple[int, int, int], gap: int) -> None:
        counts = self.counts(close_adjust)
        M.close_meeting(self.k, self.meeting, counts, self.g.two())
        # Closing writes the counted cash into the books: counted = expected afterwards.
        after = M.expected_cash(self.k, self.g.group_id)
        assert after == {f: count_total(counts[f]) for f in FUNDS}
        self.closed.append(self.meeting)
        self.day += timedelta(days=gap)
        self.meeting = self.open_meeting(open_adjust)

    def op_stale(self, i: int, amount: int) -> None:
        """Money never moves outside an open meeting: a closed one must refuse."""
        if not self.closed:
            return
        with pytest.raises(DomainError) as err:
            V.contribution(self.k, self.closed[-1], self.by, self.people[i], "verte", amount)
        assert err.value.code == "meeting_not_open"


# -- the invariants, from SQL over the projections ------------------------------------------------


def rows(store: Store, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    return list(store.conn.execute(sql, params))


def check_ledger(store: Store, group_id: str) -> None:
    # 1. Every transaction balances, stays inside one box, and has exactly its legs.
    assert rows(store, "SELECT txn_id, SUM(amount) FROM p_postings GROUP BY txn_id HAVING SUM(amount) != 0") == []
    assert rows(store, "SELECT txn_id FROM p_postings WHERE txn_id NOT IN (SELECT txn_id FROM p_transactions)") == []
    assert (
        rows(
            store,
            "SELECT t.txn_id, t.legs, COUNT(p.txn_id) FROM p_transactions t "
            "LEFT JOIN p_postings p ON p.txn_id = t.txn_id GROUP BY t.txn_id HAVING t.legs != COUNT(p.txn_id)",
        )
        == []
    )
    assert (
        rows(
            store,
            "SELECT p.txn_id, p.account, t.fund FROM p_postings p JOIN p_transactions t ON t.txn_id = p.txn_id "
            "WHERE substr(p.account, 1, instr(p.account, ':') - 1) != t.fund OR p.group_id != t.group_id",
        )
        == []
    )

    # 2. Every account's balance is the sum of its postings (both ways: no posting without account).
    assert (
        rows(
            store,
            "SELECT a.account, a.balance, COALESCE(SUM(p.amount), 0) FROM p_accounts a "
            "LEFT JOIN p_postings p ON p.group_id = a.group_id AND p.account = a.account "
            "GROUP BY a.group_id, a.account HAVING a.balance != COALESCE(SUM(p.amount), 0)",
        )
        == []
    )
    assert (
        rows(
            store,
            "SELECT p.account FROM p_postings p LEFT JOIN p_accounts a "
            "ON a.group_id = p.group_id AND a.account = p.account WHERE a.account IS NULL",
        )
        == []
    )
    assert rows(store, "SELECT SUM(balance) FROM p_accounts WHERE group_id = ?", group_id) == [(0,)]
    for fund in FUNDS:
        (cash,) = rows(
            store, "SELECT balance FROM p_accounts WHERE group_id = ? AND account = ?", group_id, f"{fund}:cash"
        )
        (posted,) = rows(
            store,
            "SELECT COALESCE(SUM(amount), 0) FROM p_postings WHERE group_id = ? AND account = ?",
            group_id,
            f"{fund}:cash",
        )
        assert cash == posted, f"{fund}: cash {cash[0]} != postings {posted[0]}"
        assert cash[0] >= 0, f"{fund}: cash below zero ({cash[0]})"

    # 3. No member's savings below zero (a credit balance is what the member owns); nor a loan
    #    below zero, nor more paid back to a lender than was received.
    assert (
        rows(store, "SELECT account, balance FROM p_accounts WHERE account LIKE 'verte:savings:%' AND balance > 0")
        == []
    )
    assert rows(store, "SELECT account, balance FROM p_accounts WHERE account LIKE '%:loan:%' AND balance < 0") == []
    assert (
        rows(store, "SELECT account, balance FROM p_accounts WHERE account LIKE 'bleue:lender:%' AND balance > 0") == []
    )

    # 4. A reversal nets its original to zero on every account, and they point at each other.
    assert (
        rows(
            store,
            "SELECT r.txn_id, p.account, SUM(p.amount) FROM p_transactions r "
            "JOIN p_postings p ON p.txn_id IN (r.txn_id, r.reverses) "
            "WHERE r.reverses IS NOT NULL GROUP BY r.txn_id, p.account HAVING SUM(p.amount) != 0",
        )
        == []
    )
    assert (
        rows(
            store,
            "SELECT r.txn_id FROM p_transactions r LEFT JOIN p_transactions o ON o.txn_id = r.reverses "
            "WHERE r.reverses IS NOT NULL AND (o.txn_id IS NULL OR o.reversed_by IS NOT r.txn_id "
            "OR o.legs != r.legs OR o.amount != r.amount OR o.kind IN ('reversal', 'discrepancy', 'exit'))",
        )
        == []
    )
    assert (
        rows(
            store,
            "SELECT o.txn_id FROM p_transactions o LEFT JOIN p_transactions r ON r.txn_id = o.reversed_by "
            "WHERE o.reversed_by IS NOT NULL AND (r.txn_id IS NULL OR r.reverses IS NOT o.txn_id)",
        )
        == []
    )

    # The loan book agrees with the ledger: a loan's account holds its unpaid principal,
    # a cancelled loan nothing; members count their aid and active loans right.
    assert (
        rows(
            store,
            "SELECT l.loan_id, l.status, l.principal, l.principal_paid, a.balance FROM p_loans l "
            "JOIN p_accounts a ON a.group_id = l.group_id AND a.account = l.fund || ':loan:' || l.loan_id "
            "WHERE a.balance != CASE l.status WHEN 'cancelled' THEN 0 ELSE l.principal - l.principal_paid END "
            "OR l.principal_paid > l.principal OR l.paf_paid > l.paf_charged "
            "OR l.penalty_paid > l.penalty_charged",
        )
        == []
    )
    assert (
        rows(
            store,
            "SELECT l.loan_id FROM p_loans l WHERE (l.status = 'repaid') != (l.principal_paid = l.principal "
            "AND l.paf_paid = l.paf_charged AND l.penalty_paid = l.penalty_charged AND l.status != 'cancelled')",
        )
        == []
    )
    assert (
        rows(
            store,
            "SELECT m.member_id, m.aid_received, (SELECT COALESCE(SUM(t.amount), 0) FROM p_transactions t "
            "WHERE t.member_id = m.member_id AND t.kind = 'aid' AND t.reversed_by IS NULL) AS aid "
            "FROM p_members m WHERE m.aid_received != aid",
        )
        == []
    )
    assert (
        rows(
            store,
            "SELECT m.member_id, m.active_loans, (SELECT COUNT(*) FROM p_loans l "
            "WHERE l.member_id = m.member_id AND l.status = 'active') AS n FROM p_members m "
            "WHERE m.active_loans != n",
        )
        == []
    )


def check_replay(store: Store) -> None:
    """5. The journal alone rebuilds every projection row, and the chain holds."""
    events = list(store.events())
    assert verify_chain(events) == []
    memory, problems = replay(events)
    assert problems == []
    stored = SqliteView(store.conn)
    for name, table in TABLES.items():
        expected = {table.row_key(r): r for r in memory.rows(name)}
        actual = {table.row_key(r): r for r in stored.rows(name)}
        assert actual == expected, f"p_{name} differs from the replayed journal"
    report = verify(store)
    assert report.ok, report.problems
    assert report.events == len(events) == store.head()[0]


# -- the tests ---------------------------------------------------------------------------------


def play_history(rules: dict[str, Any], mode: str | None, ops: list[tuple[Any, ...]]) -> None:
    with History(rules, mode) as h:
        check_ledger(h.store, h.g.group_id)
        for op in ops:
            h.play(op)
        check_replay(h.store)


@SETTINGS
@given(rules=rules_strategy, mode=receipt_modes, ops=histories)
def test_random_histories_keep_the_ledger_invariants(
    rules: dict[str, Any], mode: str | None, ops: list[tuple[Any, ...]]
) -> None:
    play_history(rules, mode, ops)


@SETTINGS
@given(rules=rules_strategy, mode=receipt_modes, ops=loan_histories)
def test_random_loan_histories_keep_the_ledger_invariants(
    rules: dict[str, Any], mode: str | None, ops: list[tuple[Any, ...]]
) -> None:
    play_history(rules, mode, ops)


@SETTINGS
@given(rules=rules_strategy, mode=receipt_modes, ops=savings_histories)
def test_random_savings_histories_keep_the_ledger_invariants(
    rules: dict[str, Any], mode: str | None, ops: list[tuple[Any, ...]]
) -> None:
    play_history(rules, mode, ops)


# -- 6. tampering ------------------------------------------------------------------------------

TEXT_COLUMNS = ("body", "hash", "type", "boot_id")
INT_COLUMNS = ("device_time", "mono_ms")
HEX = "0123456789abcdefABCDEF"


def allow_tampering(store: Store) -> None:
    """Drop the append-only trigger, as anyone holding the sqlite3 shell can.

    The trigger stops bugs and casual edits, not an attacker: ``verify`` is what
    must catch an edited journal, so the test removes the trigger first.
    """
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute("UPDATE journal SET type = type WHERE seq = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute("DELETE FROM journal WHERE seq = 1")
    store.conn.execute("DROP TRIGGER journal_no_update")


@settings(SETTINGS, max_examples=60)
@given(rules=rules_strategy, mode=receipt_modes, ops=st.lists(operation, max_size=20), data=st.data())
def test_changing_any_stored_event_makes_verify_fail(
    rules: dict[str, Any], mode: str | None, ops: list[tuple[Any, ...]], data: st.DataObject
) -> None:
    with History(rules, mode) as h:
        for op in ops:
            h.play(op)
        assert verify(h.store).ok
        store = h.store
        seq = data.draw(st.integers(min_value=1, max_value=store.head()[0]), label="seq")
        column = data.draw(st.sampled_from(TEXT_COLUMNS + INT_COLUMNS), label="column")
        (old,) = store.conn.execute(f"SELECT {column} FROM journal WHERE seq = ?", (seq,)).fetchone()
        if column in INT_COLUMNS:
            new: Any = old ^ (1 << data.draw(st.integers(min_value=0, max_value=40), label="bit"))
        else:
            i = data.draw(st.integers(min_value=0, max_value=len(old) - 1), label="position")
            # A hash stays hexadecimal here; test_verify_reports_a_hash_that_is_not_hexadecimal covers the rest.
            # No lone surrogate: SQLite stores UTF-8, which cannot hold one (the driver refuses it).
            chars = st.sampled_from(HEX) if column == "hash" else st.characters(exclude_categories=("Cs",))
            c = data.draw(chars.filter(lambda c: c != old[i]), label="character")
            new = old[:i] + c + old[i + 1 :]
        allow_tampering(store)
        store.conn.execute(f"UPDATE journal SET {column} = ? WHERE seq = ?", (new, seq))
        report = verify(store)
        assert not report.ok
        assert any(p.startswith(f"event {seq}: chain broken") for p in report.problems), report.problems


@contextmanager
def tampered_history() -> Iterator[History]:
    with History({"withdrawal": "any_time"}) as h:
        h.op_contribution("verte", 5, 5000)
        h.op_withdraw(5, 50, 0)
        allow_tampering(h.store)
        yield h


def test_verify_reports_a_hash_that_is_not_hexadecimal() -> None:
    with tampered_history() as h:
        (old,) = h.store.conn.execute("SELECT hash FROM journal WHERE seq = 3").fetchone()
        h.store.conn.execute("UPDATE journal SET hash = ? WHERE seq = 3", ("g" + old[1:],))
        report = verify(h.store)
    assert not report.ok
    assert report.problems[0].startswith("event 3: chain broken")


def test_verify_reports_a_body_that_is_not_utf8() -> None:
    with tampered_history() as h:
        (old,) = h.store.conn.execute("SELECT body FROM journal WHERE seq = 3").fetchone()
        raw = bytearray(old.encode())
        raw[5] ^= 0x80  # an ASCII letter becomes a lone continuation byte
        h.store.conn.execute("UPDATE journal SET body = CAST(? AS TEXT) WHERE seq = 3", (bytes(raw),))
        report = verify(h.store)
    assert not report.ok
    assert report.problems[0].startswith("event 3: chain broken")


def test_a_member_who_left_holds_no_savings() -> None:
    with History({"withdrawal": "any_time"}) as h:
        member = h.people[-1]
        V.contribution(h.k, h.meeting, h.by, member, "verte", 5000)  # savings 6 000 with the opening tap
        withdrawal = V.withdraw(h.k, h.meeting, h.by, member, 3000, h.approvals(0))
        assert V.member_exit(h.k, h.meeting, h.by, member, h.approvals(0)) == 3000
        with suppress(DomainError):  # refusing the reversal is one way to keep the rule
            V.reverse(h.k, h.meeting, h.by, withdrawal, "Erreur de saisie", h.approvals(0))
        assert h.k.savings(h.g.group_id, member) == 0


@given(
    st.lists(
        st.tuples(st.sampled_from(["in", "out", "saved"]), st.integers(-100_000, 100_000)),
        max_size=12,
    )
)
def test_a_receipt_s_totals_are_never_negative_and_keep_the_net(moves: list[tuple[str, int]]) -> None:
    paid, received = totals({"flow": flow, "amount": amount} for flow, amount in moves)
    net = sum(a for f, a in moves if f == "in") - sum(a for f, a in moves if f == "out")
    assert paid >= 0 and received >= 0 and paid - received == net


@SETTINGS
@given(
    savings=st.dictionaries(st.sampled_from("abcdefgh"), st.integers(min_value=0, max_value=200_000), min_size=1),
    share=st.floats(min_value=0, max_value=1),
    unit=st.sampled_from([1, 5, 25, 100, 500]),
)
def test_a_loss_shared_out_takes_the_loss_or_up_to_a_unit_more_and_nobody_more_than_they_saved(
    savings: dict[str, int], share: float, unit: int
) -> None:
    total = sum(savings.values())
    loss = int(total * share)
    shares, left = share_out(savings, -loss, unit)
    taken = {m: -s for m, s in shares.items()}
    assert all(0 <= taken[m] <= savings[m] for m in savings)
    if total and loss:
        assert loss <= sum(taken.values()) < loss + unit  # the box pays out no more than it holds
        assert left == sum(taken.values()) - loss >= 0
        # Nobody bears more than their fair part and a unit, but for what no whole unit can come from (the
        # francs of each one's savings beyond their last whole unit), which the others cover.
        tiny = sum(v % unit for v in savings.values())
        for m, s in savings.items():
            assert taken[m] <= loss * s / total + unit + tiny, m
