"""The intangibles of the MUSO method: no setting turns them off, and a refusal changes nothing."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
from conftest import PINS, Group, make_group

from kiosk.domain.errors import DomainError
from kiosk.domain.events import make_event
from kiosk.domain.projections import MemoryView
from kiosk.domain.reducer import apply
from kiosk.services import Approval, Kiosk
from kiosk.services import groups as G
from kiosk.services import meetings as M
from kiosk.services import movements as V
from kiosk.store.pins import LOCKOUT_MS, MAX_FAILURES, has_pin, set_pin

DAY = date(2026, 3, 2)


def refused(k: Kiosk, code: str, fn, *args, **kwargs) -> DomainError:  # type: ignore[no-untyped-def]
    """Call a use case that must fail with ``code`` and leave the journal untouched."""
    before = k.store.head()
    with pytest.raises(DomainError) as exc:
        fn(*args, **kwargs)
    assert code in {p.code for p in exc.value.problems}, exc.value
    assert k.store.head() == before
    return exc.value


def funded(g: Group) -> str:
    meeting = g.open(DAY)
    for i in range(len(g.members)):
        V.contribution(g.k, meeting, g.treasurer, g.member(i), "verte", 5000)
        V.contribution(g.k, meeting, g.treasurer, g.member(i), "rouge", 1000)
    for role in PINS:
        V.contribution(g.k, meeting, g.treasurer, g.officers[role]["member_id"], "verte", 5000)
    return meeting


def test_money_moves_only_in_an_open_meeting(kiosk: Kiosk, group: Group) -> None:
    meeting = group.open(DAY)
    group.close(meeting)
    refused(kiosk, "meeting_not_open", V.contribution, kiosk, meeting, group.treasurer, group.member(0), "verte", 1000)
    refused(kiosk, "meeting_not_open", M.standard_contributions, kiosk, meeting, group.treasurer)


def test_opening_and_closing_need_two_distinct_officers(kiosk: Kiosk, group: Group) -> None:
    counts = group.expected_counts()
    refused(
        kiosk,
        "two_officers_required",
        M.open_meeting,
        kiosk,
        group.group_id,
        DAY,
        counts,
        [group.approval("president")],
    )
    same = [group.approval("president"), group.approval("president")]
    refused(kiosk, "officers_not_distinct", M.open_meeting, kiosk, group.group_id, DAY, counts, same)
    meeting = group.open(DAY)
    refused(kiosk, "two_officers_required", M.close_meeting, kiosk, meeting, counts, [group.approval("controleur")])


def test_a_member_without_office_cannot_approve(kiosk: Kiosk, group: Group) -> None:
    # The reducer checks roles even if a caller skips the PIN step (as a synced event would).
    before = kiosk.store.head()
    with pytest.raises(DomainError, match="not_an_officer"):
        kiosk.store.append(
            "meeting_opened",
            {
                "group": group.group_id,
                "meeting": "m-x",
                "number": 1,
                "date": DAY.isoformat(),
                "officers": [group.officers["president"]["member_id"], group.member(0)],
                "count": {},
            },
        )
    assert kiosk.store.head() == before


@pytest.mark.parametrize("use_case", ["loan", "aid", "withdrawal", "correction", "rules", "expense"])
def test_sensitive_movements_need_two_officers(kiosk: Kiosk, use_case: str) -> None:
    group = make_group(kiosk, rules={"withdrawal": "any_time"})
    meeting = funded(group)
    one = [group.approval("president")]
    t, m = group.treasurer, group.member(0)
    txn = V.contribution(kiosk, meeting, t, m, "rouge", 20000)
    calls = {
        "loan": lambda: V.grant_loan(kiosk, meeting, t, m, 5000, 2, one),
        "aid": lambda: V.give_aid(kiosk, meeting, t, m, "deces", one),
        "withdrawal": lambda: V.withdraw(kiosk, meeting, t, m, 100, one),
        "correction": lambda: V.reverse(kiosk, meeting, t, txn, "erreur de saisie", one),
        "rules": lambda: G.adopt_rules(kiosk, meeting, {"paf_rate_bp": 100}, one),
        "expense": lambda: V.expense(kiosk, meeting, t, "rouge", 100, "cahiers", one),
    }
    refused(kiosk, "two_officers_required", calls[use_case])


def test_nobody_approves_a_movement_to_themselves(kiosk: Kiosk, group: Group) -> None:
    meeting = funded(group)
    president = group.officers["president"]["member_id"]
    err = refused(
        kiosk, "self_approval", V.grant_loan, kiosk, meeting, group.treasurer, president, 5000, 2, group.two()
    )
    assert err.params["name"] == "Officier president"
    refused(kiosk, "self_approval", V.give_aid, kiosk, meeting, group.treasurer, president, "naissance", group.two())
    # The same loan approved by two other officers goes through.
    V.grant_loan(kiosk, meeting, group.treasurer, president, 5000, 2, group.two("secretaire", "controleur"))


def test_a_correction_for_oneself_needs_other_officers(kiosk: Kiosk, group: Group) -> None:
    meeting = funded(group)
    president = group.officers["president"]["member_id"]
    txn = V.contribution(kiosk, meeting, group.treasurer, president, "verte", 1000)
    refused(kiosk, "self_approval", V.reverse, kiosk, meeting, group.treasurer, txn, "erreur", group.two())


def test_a_loan_that_breaks_the_rules_is_refused_with_the_reason(kiosk: Kiosk, group: Group) -> None:
    meeting = funded(group)  # member 0 saved 5 000: at most 3 x 5 000 = 15 000
    err = refused(
        kiosk,
        "loan_above_ceiling",
        V.grant_loan,
        kiosk,
        meeting,
        group.treasurer,
        group.member(0),
        20000,
        3,
        group.two(),
    )
    assert err.params["ceiling"] == 15000
    refused(
        kiosk,
        "loan_term_out_of_range",
        V.grant_loan,
        kiosk,
        meeting,
        group.treasurer,
        group.member(0),
        5000,
        9,
        group.two(),
    )
    V.grant_loan(kiosk, meeting, group.treasurer, group.member(0), 15000, 3, group.two())
    refused(
        kiosk,
        "loan_limit_reached",
        V.grant_loan,
        kiosk,
        meeting,
        group.treasurer,
        group.member(0),
        1000,
        1,
        group.two(),
    )
    words = V.check_loan(kiosk, meeting, group.member(1), 100000, 3)
    assert {p.code for p in words} == {"loan_above_ceiling", "cash_insufficient"}


def test_history_is_never_edited(kiosk: Kiosk, group: Group) -> None:
    meeting = group.open(DAY)
    V.contribution(kiosk, meeting, group.treasurer, group.member(0), "verte", 1000)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        kiosk.store.conn.execute("UPDATE journal SET body = '{}' WHERE seq = 3")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        kiosk.store.conn.execute("DELETE FROM journal WHERE seq = (SELECT MAX(seq) FROM journal)")


def test_wrong_pin_is_refused_and_lockout_after_repeated_failures(kiosk: Kiosk, group: Group) -> None:
    counts = group.expected_counts()
    president = group.officers["president"]["member_id"]
    bad = [Approval(president, "0000"), group.approval("controleur")]
    err = refused(kiosk, "pin_wrong", M.open_meeting, kiosk, group.group_id, DAY, counts, bad)
    assert err.params["left"] == MAX_FAILURES - 1
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(DomainError):
            M.open_meeting(kiosk, group.group_id, DAY, counts, bad)
    # Locked: even the right PIN is refused now.
    refused(kiosk, "pin_locked", M.open_meeting, kiosk, group.group_id, DAY, counts, group.two())
    kiosk.store.clock.now += LOCKOUT_MS + 1  # type: ignore[attr-defined]
    M.open_meeting(kiosk, group.group_id, DAY, counts, group.two())


def test_pins_never_enter_the_journal(kiosk: Kiosk, group: Group) -> None:
    meeting = group.open(DAY)
    group.close(meeting)
    G.change_pin(kiosk, group.officers["president"]["member_id"], "8642", current_pin=PINS["president"])
    G.reset_pin(kiosk, group.officers["tresorier"]["member_id"], "9753", group.two("secretaire", "controleur"))
    assert {e.type for e in kiosk.store.events()} >= {"pin_changed"}  # both were journaled, as below
    values: list[object] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            assert not any("pin" in str(key).lower() for key in node), node
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)
        else:
            values.append(node)

    for event in kiosk.store.events():
        walk(event.body)
    pins = {*PINS.values(), "8642", "9753"}
    # Exact values, not substrings: a random id may well contain "2580".
    assert not [v for v in values if str(v) in pins or "scrypt" in str(v)]


def test_changing_a_pin_needs_the_current_one(kiosk: Kiosk, group: Group) -> None:
    president = group.officers["president"]["member_id"]
    with pytest.raises(DomainError, match="pin_current_required"):
        G.change_pin(kiosk, president, "8642")
    with pytest.raises(DomainError, match="pin_too_simple"):
        G.change_pin(kiosk, president, "1111", current_pin=PINS["president"])
    with pytest.raises(DomainError, match="pin_format"):  # digits, but not 0-9: no keypad types them
        G.change_pin(kiosk, president, "²³¹⁴", current_pin=PINS["president"])
    with pytest.raises(DomainError, match="not_an_officer"):
        G.change_pin(kiosk, group.member(0), "8642")


def pin_failures(k: Kiosk, member_id: str) -> int:
    return int(
        k.store.conn.execute("SELECT failures FROM officer_pins WHERE member_id = ?", (member_id,)).fetchone()[0]
    )


def pin_events(k: Kiosk) -> list[dict]:
    return [e.body for e in k.store.events() if e.type == "pin_changed"]


def test_an_officer_changes_their_pin_and_the_journal_says_so_without_it(kiosk: Kiosk, group: Group) -> None:
    president = group.officers["president"]["member_id"]
    G.change_pin(kiosk, president, "8642", current_pin=PINS["president"])
    # The old PIN, which someone may have watched being typed, approves nothing any more.
    refused(kiosk, "pin_wrong", kiosk.approve, [Approval(president, PINS["president"]), group.approval("controleur")])
    assert kiosk.approve([Approval(president, "8642"), group.approval("controleur")]) == [
        president,
        group.officers["controleur"]["member_id"],
    ]
    # Recorded, as a change of office is, but with neither the PIN nor its hash.
    assert pin_events(kiosk) == [{"group": group.group_id, "member": president}]


def test_a_pin_change_is_refused_with_a_wrong_current_pin_which_counts_toward_the_lockout(
    kiosk: Kiosk, group: Group
) -> None:
    president = group.officers["president"]["member_id"]
    err = refused(kiosk, "pin_wrong", G.change_pin, kiosk, president, "8642", current_pin="0000")
    assert err.params["left"] == MAX_FAILURES - 1
    assert pin_failures(kiosk, president) == 1
    for _ in range(MAX_FAILURES - 2):
        refused(kiosk, "pin_wrong", G.change_pin, kiosk, president, "8642", current_pin="0000")
    refused(kiosk, "pin_locked", G.change_pin, kiosk, president, "8642", current_pin="0000")
    # Locked: even the right current PIN changes nothing now, so guessing it this way is no faster.
    refused(kiosk, "pin_locked", G.change_pin, kiosk, president, "8642", current_pin=PINS["president"])
    assert pin_events(kiosk) == []
    # What is left to a locked officer who has forgotten: a reset by two others.
    G.reset_pin(kiosk, president, "8642", group.two("secretaire", "controleur"))
    G.change_pin(kiosk, president, "9753", current_pin="8642")
    assert [e.get("reset", False) for e in pin_events(kiosk)] == [True, False]


def test_a_pin_change_is_refused_when_the_new_pin_breaks_the_rules_or_is_the_old_one(
    kiosk: Kiosk, group: Group
) -> None:
    president = group.officers["president"]["member_id"]
    current = PINS["president"]
    refused(kiosk, "pin_format", G.change_pin, kiosk, president, "864", current_pin=current)
    refused(kiosk, "pin_format", G.change_pin, kiosk, president, "123456789", current_pin=current)
    refused(kiosk, "pin_format", G.change_pin, kiosk, president, "86a2", current_pin=current)
    refused(kiosk, "pin_too_simple", G.change_pin, kiosk, president, "4321", current_pin=current)
    refused(kiosk, "pin_same", G.change_pin, kiosk, president, current, current_pin=current)
    # Nothing changed: the current PIN still approves.
    kiosk.approve([Approval(president, current), group.approval("controleur")])
    assert pin_events(kiosk) == []


def test_a_forgotten_or_locked_pin_is_reset_by_two_other_officers(kiosk: Kiosk, group: Group) -> None:
    funded(group)  # the group has met: officers' changes need approvals from here on
    president = group.officers["president"]["member_id"]
    for _ in range(MAX_FAILURES):
        with pytest.raises(DomainError):
            kiosk.approve([Approval(president, "0000"), group.approval("controleur")])
    refused(kiosk, "pin_locked", kiosk.approve, group.two())
    G.reset_pin(kiosk, president, "8642", group.two("secretaire", "controleur"))
    # Unlocked at once, with the new PIN only.
    assert pin_failures(kiosk, president) == 0
    kiosk.approve([Approval(president, "8642"), group.approval("controleur")])
    refused(kiosk, "pin_wrong", kiosk.approve, group.two())
    approvers = [group.officers["secretaire"]["member_id"], group.officers["controleur"]["member_id"]]
    assert pin_events(kiosk) == [{"group": group.group_id, "member": president, "reset": True, "approvers": approvers}]


def test_a_pin_reset_is_refused_without_two_other_officers_or_with_the_old_pin(kiosk: Kiosk, group: Group) -> None:
    president = group.officers["president"]["member_id"]
    # Never by the officer concerned, whose PIN is not even checked (it would count toward their lockout).
    refused(kiosk, "pin_reset_self", G.reset_pin, kiosk, president, "8642", [Approval(president, "0000"),
            group.approval("controleur")])  # fmt: skip
    assert pin_failures(kiosk, president) == 0
    refused(kiosk, "pin_reset_self", G.reset_pin, kiosk, president, "8642", group.two())
    refused(kiosk, "two_officers_required", G.reset_pin, kiosk, president, "8642", [group.approval("controleur")])
    refused(kiosk, "two_officers_required", G.reset_pin, kiosk, president, "8642", [])
    refused(kiosk, "officers_not_distinct", G.reset_pin, kiosk, president, "8642",
            [group.approval("controleur"), group.approval("controleur")])  # fmt: skip
    refused(kiosk, "pin_wrong", G.reset_pin, kiosk, president, "8642",
            [group.approval("secretaire"), Approval(group.officers["controleur"]["member_id"], "0000")])  # fmt: skip
    others = group.two("secretaire", "controleur")
    refused(kiosk, "pin_too_simple", G.reset_pin, kiosk, president, "1111", others)
    refused(kiosk, "pin_format", G.reset_pin, kiosk, president, "12", others)
    refused(kiosk, "not_an_officer", G.reset_pin, kiosk, group.member(0), "8642", others)
    # Nothing changed: the old PIN still approves.
    kiosk.approve(group.two())
    assert pin_events(kiosk) == []


def test_a_pin_reset_never_tells_which_pin_the_officer_has(kiosk: Kiosk, group: Group) -> None:
    # "Not the old PIN" answered guesses one by one, with no lockout, without even two approvals.
    president = group.officers["president"]["member_id"]
    for guess in ("2468", PINS["president"]):
        refused(kiosk, "two_officers_required", G.reset_pin, kiosk, president, guess, [])
    assert pin_failures(kiosk, president) == 0
    G.reset_pin(kiosk, president, PINS["president"], group.two("secretaire", "controleur"))  # taken, as any PIN
    kiosk.approve([group.approval("president"), group.approval("controleur")])


def test_the_reducer_refuses_a_pin_reset_the_kiosk_would_not_have_made(kiosk: Kiosk, group: Group) -> None:
    """The server trusts the reducer, not the kiosk's services: a forged reset is refused there too."""
    president = group.officers["president"]["member_id"]
    controller = group.officers["controleur"]["member_id"]
    secretary = group.officers["secretaire"]["member_id"]
    body = {"group": group.group_id, "member": president, "reset": True}
    refused(kiosk, "self_approval", kiosk.store.append, "pin_changed", {**body, "approvers": [president, controller]})
    refused(kiosk, "two_officers_required", kiosk.store.append, "pin_changed", body)
    refused(kiosk, "not_an_officer", kiosk.store.append, "pin_changed",
            {**body, "member": group.member(0), "approvers": [secretary, controller]})  # fmt: skip
    refused(kiosk, "event_malformed", kiosk.store.append, "pin_changed",
            {"group": group.group_id, "member": president, "approvers": [secretary, controller]})  # fmt: skip
    refused(kiosk, "boolean_invalid", kiosk.store.append, "pin_changed", {**body, "reset": "yes"})


def test_no_text_of_the_books_holds_a_nul_character(kiosk: Kiosk, group: Group) -> None:
    # The server's PostgreSQL could not store it: every push of this kiosk would fail there.
    meeting = group.open(date(2026, 3, 2))
    V.contribution(kiosk, meeting, group.treasurer, group.member(0), "rouge", 200)  # what the expense pays
    before = kiosk.store.head()
    with pytest.raises(DomainError, match="text_nul"):
        G.add_member(kiosk, group.group_id, "Ama\x00 Mensah", "F", joined=date(2026, 3, 2))
    with pytest.raises(DomainError, match="text_nul"):
        V.expense(kiosk, meeting, group.treasurer, "rouge", 100, "cahiers\x00", group.two())
    assert kiosk.store.head() == before
    # What reads like one in the JSON text, but is a backslash typed in a name, is no NUL.
    G.add_member(kiosk, group.group_id, "Ama \\u0000 Mensah", "F", joined=date(2026, 3, 2))
    assert kiosk.store.head() != before


def test_a_nul_is_found_wherever_the_body_hides_it() -> None:
    for body in ({"group": "g\x00"}, {"a\x00": 1}, {"a": [{"b": ["\x00"]}]}):
        with pytest.raises(DomainError, match="text_nul"):
            apply(MemoryView(), make_event(1, "group_created", body, 0, "boot", 0))


def test_no_value_goes_in_the_books_that_a_database_could_not_store(kiosk: Kiosk, group: Group) -> None:
    # The server's write would fail at every push of this kiosk (PostgreSQL's index limit, a column's type).
    for body in ({"group": "g" * 201}, {"country": ["TG"]}, {"country": 2**63}, {"cooperative": "Coopérative " * 20}):
        event = make_event(1, "group_created", {"group": "g", "name": "MUSO", "rules": {}, **body}, 0, "b", 0)
        with pytest.raises(DomainError, match="value_unstorable"):
            apply(MemoryView(), event)
    fits = {"group": "g" * 200, "name": "M", "rules": {}}
    assert apply(MemoryView(), make_event(1, "group_created", fits, 0, "b", 0))
    # A text indexed nowhere is capped nowhere: a journal with a long reason replays everywhere.
    meeting = funded(group)
    txn = V.contribution(kiosk, meeting, group.treasurer, group.member(0), "verte", 500)
    V.reverse(kiosk, meeting, group.treasurer, txn, "erreur de saisie " * 60, group.two())


def test_once_the_group_has_met_officers_are_made_and_unmade_only_with_two_officers(kiosk: Kiosk, group: Group) -> None:
    # Before the first meeting the group is being set up: officers are added without approval.
    G.add_member(kiosk, group.group_id, "Yawa Dossou", "F", joined=DAY, role="secretaire", pin="7412")
    funded(group)
    # One officer alone could make accomplices and with them approve anything: refused.
    refused(kiosk, "two_officers_required", G.add_member, kiosk, group.group_id, "Complice", "M", joined=DAY,
            role="president", pin="8264")  # fmt: skip
    accomplice = group.member(0)
    refused(kiosk, "two_officers_required", G.update_member, kiosk, accomplice, role="controleur")
    # Nobody approves their own promotion or demotion.
    controller = group.officers["controleur"]["member_id"]
    refused(kiosk, "self_approval", G.update_member, kiosk, controller, role="membre", approvals=group.two())
    # With two officers' PINs it is done, and the approvers are in the journal.
    G.update_member(kiosk, accomplice, role="controleur", approvals=group.two("president", "tresorier"))
    assert kiosk.member(accomplice)["role"] == "controleur"
    added = G.add_member(kiosk, group.group_id, "Essi Amouzou", "F", joined=DAY, role="secretaire",
                         approvals=group.two())  # fmt: skip
    assert added["role"] == "secretaire"
    [last] = kiosk.store.events(after=kiosk.store.head()[0] - 1)
    assert last.body["approvers"] == [a.member_id for a in group.two()]
    # A phone still changes without PINs.
    G.update_member(kiosk, accomplice, phone="90000000")


def test_once_the_group_has_met_a_member_is_renamed_only_with_two_other_officers(kiosk: Kiosk, group: Group) -> None:
    # A name is whose money it is: one officer alone could hand a member's savings to someone else.
    member = group.member(0)
    G.update_member(kiosk, member, name="Membre Zéro")  # the group is being set up: a typo is fixed alone
    funded(group)
    refused(kiosk, "two_officers_required", G.update_member, kiosk, member, name="Ama Trésorière")
    president = group.officers["president"]["member_id"]
    refused(kiosk, "self_approval", G.update_member, kiosk, president, name="Afi", approvals=group.two())
    G.update_member(kiosk, member, name="Ama Kodjo", approvals=group.two())
    assert kiosk.member(member)["name"] == "Ama Kodjo"
    [renamed] = kiosk.store.events(after=kiosk.store.head()[0] - 1)
    assert renamed.body["approvers"] == [a.member_id for a in group.two()]
    G.update_member(kiosk, member, name="Ama Kodjo", sex="F")  # the same name again is no rename
    # A forged approval is refused by the reducer, as on the server.
    refused(kiosk, "self_approval", kiosk.store.append, "member_updated",
            {"group": group.group_id, "member": president, "name": "X Y",
             "approvers": [president, group.officers["controleur"]["member_id"]]})  # fmt: skip


def test_the_reducer_refuses_an_unapproved_change_of_office_as_the_server_would(kiosk: Kiosk, group: Group) -> None:
    funded(group)
    # What a kiosk of an older version, or a doctored journal, would carry: the server quarantines it.
    refused(kiosk, "two_officers_required", kiosk.store.append, "member_updated",
            {"group": group.group_id, "member": group.member(0), "role": "president"})  # fmt: skip


def test_who_has_left_holds_no_office(kiosk: Kiosk, group: Group) -> None:
    meeting = funded(group)
    V.member_exit(kiosk, meeting, group.treasurer, group.member(0), group.two())
    refused(kiosk, "member_left", G.update_member, kiosk, group.member(0), role="president", approvals=group.two())


def test_an_officer_who_leaves_office_leaves_their_pin_and_chooses_a_new_one_if_made_officer_again(
    kiosk: Kiosk, group: Group
) -> None:
    # A PIN others may have watched being typed must not come back to life with a new term of office.
    meeting = funded(group)
    secretary = group.officers["secretaire"]["member_id"]
    G.update_member(kiosk, secretary, role="membre", approvals=group.two("president", "controleur"))
    assert not has_pin(kiosk.store.conn, secretary)
    G.update_member(kiosk, secretary, role="secretaire", approvals=group.two("president", "controleur"))
    refused(kiosk, "pin_not_set", kiosk.approve, [Approval(secretary, PINS["secretaire"]), group.approval("president")])
    G.change_pin(kiosk, secretary, "7531")  # a first PIN again, chosen in front of the group
    kiosk.approve([Approval(secretary, "7531"), group.approval("president")])
    # Moving from one office to another keeps the PIN.
    G.update_member(kiosk, secretary, role="controleur", approvals=group.two("president", "tresorier"))
    assert has_pin(kiosk.store.conn, secretary)
    # An officer who leaves the group leaves their office, and their PIN, with it.
    V.member_exit(kiosk, meeting, group.treasurer, secretary, group.two("president", "tresorier"))
    assert not has_pin(kiosk.store.conn, secretary)


def test_pins_of_officers_who_left_office_before_pins_were_dropped_are_dropped_once(kiosk: Kiosk, group: Group) -> None:
    from kiosk.store.migrations import migrate

    funded(group)
    secretary = group.officers["secretaire"]["member_id"]
    with kiosk.store.write() as w:  # as an earlier version left it: out of office, PIN kept
        approvers = [a.member_id for a in group.two("president", "controleur")]
        body = {"group": group.group_id, "member": secretary, "role": "membre", "approvers": approvers}
        w.append("member_updated", body)
        set_pin(w, group.member(0), "2580")  # a PIN for one who never held office: no use, and no business
    with kiosk.store.write() as w:
        w.execute("INSERT OR REPLACE INTO officer_pins SELECT ?, pin_hash, 0, 0 FROM officer_pins LIMIT 1",
                  (secretary,))  # fmt: skip
        w.execute("DELETE FROM _migrations WHERE name = '0008_pins_out_of_office'")
    assert has_pin(kiosk.store.conn, secretary)
    assert migrate(kiosk.store.conn) == ["0008_pins_out_of_office"]
    assert not has_pin(kiosk.store.conn, secretary) and not has_pin(kiosk.store.conn, group.member(0))
    assert all(has_pin(kiosk.store.conn, o["member_id"]) for r, o in group.officers.items() if r != "secretaire")


def test_two_groups_of_one_name_on_a_kiosk_are_refused(kiosk: Kiosk, group: Group) -> None:
    # A scenario file run twice made a second "MUSO Test" that nobody could tell from the first.
    before = kiosk.store.head()
    for name in ("MUSO Test", "  muso test "):
        with pytest.raises(DomainError, match="group_name_taken"):
            G.create_group(kiosk, name)
    assert kiosk.store.head() == before
    G.create_group(kiosk, "MUSO Test 2")


def test_groups_assigned_by_the_coordinators_are_created_as_given_or_refused_whole(kiosk: Kiosk, group: Group) -> None:
    from kiosk.sync import state

    changes = [
        {"entity": "kiosk_group", "key": "g-inline", "op": "put", "version": 1,
         "value": {"name": "MUSO Inline", "village": "Kpalimé", "rules": {"contribution_verte": 1500}}},
        {"entity": "kiosk_group", "key": "g-bad", "op": "put", "version": 2,
         "value": {"name": "MUSO Règlement faux", "rules": {"rounding_unit": 7}}},
        {"entity": "kiosk_group", "key": "g-dup", "op": "put", "version": 3, "value": {"name": "muso test"}},
        {"entity": "kiosk_group", "key": group.group_id, "op": "put", "version": 4, "value": {"name": "MUSO Test"}},
        {"entity": "kiosk_group", "key": "g-typo", "op": "put", "version": 5,
         "value": {"name": "MUSO Modèle absent", "template": "avec-partagee"}},
    ]  # fmt: skip
    state.apply_reference(kiosk.store, changes, 5)
    offered = {g["group_id"]: g for g in G.assigned_groups(kiosk)}
    assert set(offered) == {"g-inline", "g-bad", "g-dup", "g-typo"}  # the one already here is not offered again
    # A template named and not here is not the default règlement in disguise.
    assert offered["g-typo"]["rules"] is None
    refused(kiosk, "group_rules_unavailable", G.create_assigned_group, kiosk, "g-typo")
    G.create_assigned_group(kiosk, "g-inline")
    assert kiosk.rules("g-inline").contribution_verte == 1500 and kiosk.group("g-inline")["village"] == "Kpalimé"
    assert G.needs_first_officer(kiosk, "g-inline") and not G.needs_first_officer(kiosk, group.group_id)
    # Who vouches for its first officer: the kiosk's other officers (a new kiosk has none: set up in the open).
    assert {o["group_id"] for o in G.kiosk_officers(kiosk, but="g-inline")} == {group.group_id}
    # Only while it is empty: once it has a member, its only officer leaving office opens nothing to anyone.
    first = G.add_member(kiosk, "g-inline", "Ama Sika", "F", joined=DAY, role="president", pin="2580")
    G.update_member(kiosk, first["member_id"], role="membre")
    assert not G.officers(kiosk, "g-inline") and not G.needs_first_officer(kiosk, "g-inline")
    refused(kiosk, "rounding_unit_invalid", G.create_assigned_group, kiosk, "g-bad")  # rules the domain refuses
    refused(kiosk, "group_name_taken", G.create_assigned_group, kiosk, "g-dup")
    refused(kiosk, "group_unknown", G.create_assigned_group, kiosk, "g-inline")  # already created
    refused(kiosk, "group_unknown", G.create_assigned_group, kiosk, "never-assigned")
