"""A meeting's life: opening count, attendance and fines, the one-tap contributions, closing count."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import Group, make_group

from kiosk.domain.errors import DomainError
from kiosk.domain.funds import count_for
from kiosk.i18n import message
from kiosk.services import Kiosk
from kiosk.services import groups as G
from kiosk.services import meetings as M
from kiosk.services import movements as V

DAY = date(2026, 3, 2)


def test_discrepancies_at_opening_and_closing_are_recorded_never_absorbed(kiosk: Kiosk, group: Group) -> None:
    m1 = group.open(DAY)
    M.standard_contributions(kiosk, m1, group.treasurer)  # 10 present x (1 000 + 200)
    assert M.expected_cash(kiosk, group.group_id) == {"verte": 10000, "rouge": 2000, "bleue": 0}
    closed = group.close(m1, adjust={"verte": -500})  # the box holds 500 F less than the books
    assert closed["close_expected"] == {"verte": 10000, "rouge": 2000, "bleue": 0}
    rows = kiosk.store.query("SELECT kind, fund, amount, detail FROM p_transactions WHERE kind = 'discrepancy'")
    assert rows == [{"kind": "discrepancy", "fund": "verte", "amount": -500, "detail": '{"at": "close"}'}]
    # The books now say what the box holds: next opening starts from 9 500.
    assert M.expected_cash(kiosk, group.group_id)["verte"] == 9500
    counts = {"verte": count_for(9600), "rouge": count_for(2000), "bleue": {}}  # 100 F found
    m2 = M.open_meeting(kiosk, group.group_id, date(2026, 3, 9), counts, group.two())
    opening = kiosk.meeting(m2)
    assert opening["open_expected"]["verte"] == 9500
    assert M.expected_cash(kiosk, group.group_id)["verte"] == 9600
    n = kiosk.store.query("SELECT COUNT(*) AS n FROM p_transactions WHERE kind = 'discrepancy'")[0]["n"]
    assert n == 2


def test_one_open_meeting_at_a_time_and_no_date_before_the_last(kiosk: Kiosk, group: Group) -> None:
    m1 = group.open(DAY)
    with pytest.raises(DomainError, match="meeting_already_open"):
        group.open(DAY)
    group.close(m1)
    with pytest.raises(DomainError, match="meeting_date_before_last"):
        group.open(date(2026, 2, 23))
    m2 = group.open(DAY)  # the same day is allowed (a second session)
    assert kiosk.meeting(m2)["number"] == 2


def test_attendance_suggests_fines_from_the_rules(kiosk: Kiosk, group: Group) -> None:
    meeting = group.open(DAY)
    M.record_attendance(
        kiosk,
        meeting,
        {
            group.member(0): "absent",
            group.member(1): "late",
            group.member(2): "excused",
            group.member(3): ("represented", "sa fille Ama"),
        },
    )
    fines = {(f["member_id"], f["fine"], f["amount"]) for f in M.suggested_fines(kiosk, meeting)}
    assert fines == {(group.member(1), "retard", 200)}  # the absent member is not here to pay
    V.fine(kiosk, meeting, group.treasurer, group.member(1), "retard")
    assert M.suggested_fines(kiosk, meeting) == []  # already charged: not suggested twice
    with pytest.raises(DomainError, match="representative_missing"):
        M.record_attendance(kiosk, meeting, {group.member(4): "represented"})
    with pytest.raises(DomainError, match="attendance_unknown"):
        M.record_attendance(kiosk, meeting, {group.member(4): "sleeping"})


def test_a_member_who_paid_at_this_meeting_is_not_marked_absent_until_corrected(kiosk: Kiosk, group: Group) -> None:
    # Marked absent after paying, the money stayed with a member the contributions screen hid and the
    # next meeting fined for the absence.
    meeting = group.open(DAY)
    paid, other = group.member(0), group.member(1)
    txn = V.contribution(kiosk, meeting, group.treasurer, paid, "verte", 1000)
    V.fine(kiosk, meeting, group.treasurer, paid, "retard")
    events = kiosk.store.query("SELECT COUNT(*) AS n FROM journal")[0]["n"]
    for status in ("absent", "excused"):
        with pytest.raises(DomainError) as refused:
            M.record_attendance(kiosk, meeting, {other: "absent", paid: status})
        assert [p.code for p in refused.value.problems] == ["absent_with_movements"]
        assert refused.value.params == {"name": kiosk.member(paid)["name"], "count": 2}
        # Money brought by someone else is the usual case, and a correction is sometimes impossible
        # (an exit, a movement before a share-out): the refusal names the way that always exists.
        said = message(refused.value.problems[0], with_field=False)
        assert "marquez ce membre représenté" in said and "(Corrections)" in said
        assert "mark them represented" in message(refused.value.problems[0], "en")
        with pytest.raises(DomainError, match="absent_with_movements"):
            M.check_attendance(kiosk, meeting, paid, status)
    assert kiosk.store.query("SELECT COUNT(*) AS n FROM journal")[0]["n"] == events  # not even the other member
    assert M.attendance(kiosk, meeting)[other] == "present"
    # Late, or represented (the money came through whoever was sent), stands.
    M.record_attendance(kiosk, meeting, {paid: ("represented", "sa fille Ama")})
    M.record_attendance(kiosk, meeting, {paid: "late"})
    # Once the movements are reversed (Corrections), the member can be marked absent.
    fine = kiosk.store.query("SELECT txn_id FROM p_transactions WHERE member_id = ? AND kind = 'fine'", (paid,))
    for reversed_txn in (txn, fine[0]["txn_id"]):
        V.reverse(kiosk, meeting, group.treasurer, reversed_txn, "saisie par erreur", group.two())
    M.record_attendance(kiosk, meeting, {paid: "absent"})
    assert M.attendance(kiosk, meeting)[paid] == "absent"


def test_solidarity_aid_does_not_stop_marking_the_member_excused(kiosk: Kiosk, group: Group) -> None:
    # The officers bring the caisse rouge's aid to a sick or bereaved member, who is typically excused.
    meeting = group.open(DAY)
    for i in range(4, 6):
        V.contribution(kiosk, meeting, group.treasurer, group.member(i), "rouge", 10000)
    sick, bereaved = group.member(0), group.member(1)
    V.give_aid(kiosk, meeting, group.treasurer, sick, "maladie", group.two())  # an interest-free aid loan
    V.give_aid(kiosk, meeting, group.treasurer, bereaved, "deces", group.two())  # a grant
    M.check_attendance(kiosk, meeting, sick, "excused")
    M.record_attendance(kiosk, meeting, {sick: "excused", bereaved: "absent"})
    assert M.attendance(kiosk, meeting)[sick] == "excused"
    assert M.attendance(kiosk, meeting)[bereaved] == "absent"


def test_fines_are_suggested_in_the_order_of_the_members_numbers(kiosk: Kiosk) -> None:
    # Ids are random: in their order, the list came out differently at every meeting, hard to go through.
    group = make_group(kiosk, 12)
    meeting = group.open(DAY)
    M.record_attendance(kiosk, meeting, {group.member(i): "late" for i in range(12)})
    numbers = [kiosk.member(f["member_id"])["number"] for f in M.suggested_fines(kiosk, meeting)]
    assert numbers == sorted(numbers) and len(numbers) == 12


def test_an_absence_fine_is_asked_when_the_member_comes_back(kiosk: Kiosk, group: Group) -> None:
    # Charged on the day of the absence, the fine entered the box's books while nobody paid it:
    # the closing count came out 500 F short for every absent member.
    from datetime import timedelta

    first = group.open(DAY)
    M.record_attendance(kiosk, first, {group.member(0): "absent", group.member(1): "absent"})
    assert M.suggested_fines(kiosk, first) == []
    group.close(first)
    second = group.open(DAY + timedelta(days=7))
    M.record_attendance(kiosk, second, {group.member(0): "absent", group.member(1): "absent"})
    assert M.suggested_fines(kiosk, second) == []  # still away: still nobody to pay
    group.close(second)
    third = group.open(DAY + timedelta(days=14))
    M.record_attendance(kiosk, third, {group.member(1): ("represented", "son frère Kodjo")})
    owed = {f["member_id"]: (f["fine"], f["count"], f["amount"]) for f in M.suggested_fines(kiosk, third)}
    assert owed == {group.member(0): ("absence", 2, 1000), group.member(1): ("absence", 2, 1000)}
    V.fine(kiosk, third, group.treasurer, group.member(0), "absence", 500)  # pays one of the two today
    owed = {f["member_id"]: (f["count"], f["amount"]) for f in M.suggested_fines(kiosk, third)}
    assert owed == {group.member(0): (1, 500), group.member(1): (2, 1000)}
    before = M.expected_cash(kiosk, group.group_id)["rouge"]
    V.fine(kiosk, third, group.treasurer, group.member(1), "absence", 1000)
    assert M.expected_cash(kiosk, group.group_id)["rouge"] == before + 1000  # cash that came in
    assert [f["member_id"] for f in M.suggested_fines(kiosk, third)] == [group.member(0)]
    group.close(third)
    # Member 0 came and left one absence unpaid: the group let it go, it is not asked for ever. Member 2,
    # absent, was fined on the day of the absence (as an earlier version did): not asked twice.
    fourth = group.open(DAY + timedelta(days=21))
    M.record_attendance(kiosk, fourth, {group.member(2): "absent"})
    with kiosk.store.write() as w:  # the earlier version's event: the services now refuse it, journals keep it
        fine = {"kind": "fine", "by": group.treasurer, "member": group.member(2), "fund": "rouge", "amount": 500}
        w.append("movement_recorded", {"txn": "fined-away", "meeting": fourth, **fine, "fine": "absence"})
    group.close(fourth)
    fifth = group.open(DAY + timedelta(days=28))
    assert M.suggested_fines(kiosk, fifth) == []


def test_each_absence_costs_the_fine_of_the_règlement_in_force_that_day(kiosk: Kiosk, group: Group) -> None:
    # The group raised its absence fine from 500 to 1 000: a member away since before the change owed
    # 1 000 for every absence, the old ones included.
    from datetime import timedelta

    away = group.member(0)
    first = group.open(DAY)
    M.record_attendance(kiosk, first, {away: "absent"})
    group.close(first)
    second = group.open(DAY + timedelta(days=7))
    M.record_attendance(kiosk, second, {away: "absent"})
    fines = {"absence": 1000, "retard": 200, "indiscipline": 500}
    G.adopt_rules(kiosk, second, {"fines": fines}, group.two())  # from now on: this meeting's absence was before
    group.close(second)
    third = group.open(DAY + timedelta(days=14))
    M.record_attendance(kiosk, third, {away: "absent"})
    group.close(third)
    fourth = group.open(DAY + timedelta(days=21))
    owed = {f["member_id"]: (f["count"], f["amount"]) for f in M.suggested_fines(kiosk, fourth)}
    assert owed == {away: (3, 500 + 500 + 1000)}
    V.fine(kiosk, fourth, group.treasurer, away, "absence", 700)  # the oldest first: 500, then 200 of the next
    owed = {f["member_id"]: (f["count"], f["amount"]) for f in M.suggested_fines(kiosk, fourth)}
    assert owed == {away: (2, 300 + 1000)}


def test_standard_contributions_in_one_tap_with_exceptions(kiosk: Kiosk) -> None:
    g = make_group(kiosk, n_members=26)  # 30 people with the officers
    meeting = g.open(DAY)
    M.record_attendance(kiosk, meeting, {g.member(0): "absent", g.member(1): "excused", g.member(2): "late"})
    n = M.standard_contributions(kiosk, meeting, g.treasurer, exceptions={g.member(3): {"verte": 500, "rouge": 0}})
    assert n == 28 * 2 - 1  # 28 paying, two funds each, minus member 3's skipped rouge
    assert kiosk.savings(g.group_id, g.member(2)) == 1000  # late members pay
    assert kiosk.savings(g.group_id, g.member(3)) == 500
    assert kiosk.savings(g.group_id, g.member(0)) == 0
    assert M.expected_cash(kiosk, g.group_id) == {"verte": 27 * 1000 + 500, "rouge": 27 * 200, "bleue": 0}
    # A second tap (after a power cut, say) charges nobody twice.
    assert M.standard_contributions(kiosk, meeting, g.treasurer) == 1  # only member 3's rouge was missing
    with pytest.raises(DomainError, match="not_paying_member"):
        M.standard_contributions(kiosk, meeting, g.treasurer, exceptions={g.member(0): {"verte": 500}})


def test_a_member_who_leaves_during_the_meeting_pays_and_owes_nothing_more(kiosk: Kiosk, group: Group) -> None:
    meeting = group.open(DAY)
    # Member 1 is away: their savings go to whoever came to take them for them.
    M.record_attendance(kiosk, meeting, {group.member(0): "present", group.member(1): ("represented", "son fils")})
    V.member_exit(kiosk, meeting, group.treasurer, group.member(0), group.two())
    V.member_exit(kiosk, meeting, group.treasurer, group.member(1), group.two())
    paying = len(M.attendance(kiosk, meeting, active_only=True))
    assert M.standard_contributions(kiosk, meeting, group.treasurer) == 2 * paying  # the others' tap goes through
    assert kiosk.savings(group.group_id, group.member(0)) == 0
    assert M.suggested_fines(kiosk, meeting) == []  # no absence fine for who has left


def test_new_rules_apply_from_their_adoption_and_history_stays(kiosk: Kiosk, group: Group) -> None:
    meeting = group.open(DAY)
    version = G.adopt_rules(kiosk, meeting, {"contribution_verte": 1500}, group.two())
    assert version == 2
    assert kiosk.rules(group.group_id).contribution_verte == 1500
    old = kiosk.store.get("rules", (group.group_id, 1))
    assert old and old["body"]["contribution_verte"] == 1000
    M.standard_contributions(kiosk, meeting, group.treasurer)
    assert kiosk.savings(group.group_id, group.member(0)) == 1500
    with pytest.raises(DomainError) as exc:
        G.adopt_rules(kiosk, meeting, {"rounding_unit": 7}, group.two())
    assert exc.value.field == "rounding_unit"
    group.close(meeting)
    with pytest.raises(DomainError, match="meeting_not_open"):
        G.adopt_rules(kiosk, meeting, {"contribution_verte": 2000}, group.two())


def test_a_meeting_remembers_its_step_for_resuming(kiosk: Kiosk, group: Group) -> None:
    meeting = group.open(DAY)
    assert M.step(kiosk, meeting) == "attendance"
    M.set_step(kiosk, meeting, "loans")
    assert M.step(kiosk, meeting) == "loans"
    with pytest.raises(DomainError, match="step_unknown"):
        M.set_step(kiosk, meeting, "dance")


def test_members_get_numbers_per_group(kiosk: Kiosk) -> None:
    a = make_group(kiosk, n_members=2, name="MUSO A")
    b = make_group(kiosk, n_members=1, name="MUSO B")
    assert [m["number"] for m in G.members(kiosk, a.group_id)] == [1, 2, 3, 4, 5, 6]
    assert [m["number"] for m in G.members(kiosk, b.group_id)] == [1, 2, 3, 4, 5]
    newcomer = G.add_member(kiosk, b.group_id, "Ʋɔdzi Ŋuɖe", "F", joined=DAY, phone="+228 90 11 22 33")
    assert newcomer["number"] == 6 and newcomer["name"] == "Ʋɔdzi Ŋuɖe"
    assert G.members(kiosk, b.group_id, search="Ŋuɖe")[0]["member_id"] == newcomer["member_id"]
    updated = G.update_member(kiosk, newcomer["member_id"], phone="+22890112234")
    assert updated["phone"] == "+22890112234"
    for bad, code in [
        ({"name": "  "}, "name_empty"),
        ({"phone": "abc"}, "phone_invalid"),
        ({"sex": "X"}, "sex_unknown"),
    ]:
        with pytest.raises(DomainError, match=code):
            G.update_member(kiosk, newcomer["member_id"], **bad)


def test_two_taps_at_once_charge_nobody_twice(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import threading
    import time

    from kiosk.store.clock import FixedClock

    k1 = Kiosk.open(tmp_path / "k.db", FixedClock())
    g = make_group(k1)
    meeting = g.open(DAY)
    k2 = Kiosk.open(tmp_path / "k.db", FixedClock())  # a second process on the same kiosk
    results: list[int] = []
    with k1.store.write():  # hold the writer lock while the other tap starts
        t = threading.Thread(target=lambda: results.append(M.standard_contributions(k2, meeting, g.treasurer)))
        t.start()
        time.sleep(0.3)
        results.append(M.standard_contributions(k1, meeting, g.treasurer))
    t.join(30)
    assert sorted(results) == [0, 20]
    rows = k1.store.query(
        "SELECT member_id, fund, COUNT(*) AS n FROM p_transactions WHERE kind = 'contribution' GROUP BY 1, 2"
    )
    assert len(rows) == 20 and all(r["n"] == 1 for r in rows)
    k2.close()
    k1.close()


def test_no_meeting_opens_on_a_kiosk_the_server_knows_to_be_behind_it(kiosk: Kiosk, group: Group) -> None:
    from kiosk.sync import state

    state.set_behind(kiosk.store, 612)  # as a sync that got `server_ahead` leaves it
    head = kiosk.store.head()
    with pytest.raises(DomainError, match="kiosk_behind_server"):
        group.open(DAY)
    # The next attempt fails offline, as a village kiosk's mostly do: the kiosk is no less behind.
    state.failed(kiosk.store, "network: ConnectError", 0)
    with pytest.raises(DomainError, match="kiosk_behind_server"):
        group.open(DAY)
    assert kiosk.store.head() == head
    state.set_behind(kiosk.store, None)  # restored (or a sync found the histories the same)
    group.close(group.open(DAY))


def test_a_kiosk_behind_the_server_records_nothing_new_but_finishes_the_meeting_already_open(
    kiosk: Kiosk, group: Group
) -> None:
    """Whatever it records forks the group's history from the server's; cash already on the table
    during an open meeting is recorded all the same, with its receipts."""
    from kiosk.sync import state

    meeting = group.open(DAY)
    state.set_behind(kiosk.store, 612)
    president = group.officers["president"]["member_id"]
    head = kiosk.store.head()
    refused = {
        "group": lambda: G.create_group(kiosk, "MUSO Nouvelle"),
        "member": lambda: G.add_member(kiosk, group.group_id, "Ama Nouvelle", "F", joined=DAY),
        "rename": lambda: G.update_member(kiosk, group.member(0), phone="90000000"),
        "pin": lambda: G.change_pin(kiosk, president, "8642", current_pin="0000"),  # a wrong one: never checked
        "reset": lambda: G.reset_pin(kiosk, group.treasurer, "9753", group.two()),
        "rules": lambda: G.adopt_rules(kiosk, meeting, {"paf_rate_bp": 100}, group.two()),
    }
    for what, attempt in refused.items():
        with pytest.raises(DomainError, match="kiosk_behind_server"):
            attempt()
        assert kiosk.store.head() == head, what
    # Refused before any PIN is checked: the wrong one did not count toward a lockout.
    assert kiosk.store.conn.execute("SELECT SUM(failures) FROM officer_pins").fetchone()[0] == 0
    V.contribution(kiosk, meeting, group.treasurer, group.member(0), "verte", 500)
    group.close(meeting)
    assert kiosk.meeting(meeting)["status"] == "closed"
