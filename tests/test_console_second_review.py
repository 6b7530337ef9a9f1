"""A second coordinator's review of the console, page by page at phone and laptop widths: what it showed
wrong, or left out without a word.

The world is the usual two kiosks (K01 Togo, Coopérative ELIKE, 26 weekly meetings; K02 Benin,
Coopérative Zou, 10 meetings).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date

import pytest
from test_console_support import World, served_world, signed_in, token
from test_sync_support import BACKENDS

from sync_server.web import pages, queries
from sync_server.web.exports import repayment_split
from sync_server.web.i18n import T


@pytest.fixture(scope="module", params=BACKENDS)
def w(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from served_world(request.param, tmp_path_factory.mktemp("second-review"))


_as = signed_in


def test_the_attendance_chart_stays_on_later_pages_of_a_group_s_meetings(w: World) -> None:
    """Page 2 of a group's meetings said "Présence par séance : pas encore de données" above 6 of its 26."""
    c = _as(w, "coord_tg")
    first, second = (c.get(w.group_url("K01") + q).text for q in ("", "?mp=2"))
    assert "?mp=1#meetings" in second  # the second page, with a link back to the first
    for page in (first, second):
        assert T["no_data"][0] not in page
        assert page.count("<rect") == first.count("<rect") > 20  # the same 26 bars, on every page


def test_a_member_s_page_says_when_it_leaves_older_movements_out(w: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A member's page showed their 200 latest movements and savings lines without a word: after some four
    years of weekly meetings the oldest line shown passed for their first, its savings far from zero."""
    c = _as(w, "coord_tg")
    html = c.get(w.group_url("K01")).text
    member = re.findall(r'href="(/groups/K01/[^"]+/members/[^"]+)"', html)[0]
    note = T["only_latest"][0].split("{n}")[1][:20]
    assert note not in c.get(member).text  # all of them shown: nothing to say
    monkeypatch.setattr(pages, "MEMBER_LINES", 10)
    page = c.get(member).text
    assert page.count(note) == 2  # under the savings lines and under the movements
    export = f"/exports/movements.csv?group=K01/{w.groups['K01']}"
    assert export in page and c.get(export).status_code == 200


def test_the_overview_says_when_its_list_of_idle_groups_is_cut_short(w: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The card counted every group without a meeting for 45 days; the list under it showed the first ten,
    without a word: a coordinator read '25' above ten names."""
    c = _as(w, "admin")
    assert T["oldest_groups_of"][0][:8] not in c.get("/").text  # one idle group (K02), shown
    # Two months on, both groups have stopped meeting, and their kiosks still sync.
    monkeypatch.setattr(queries, "ATTENTION", 1)
    state = w.client.app.state
    kept = state.today  # put back by hand: undone by monkeypatch, the world's clock was gone for the next test
    state.today = lambda: date(2027, 1, 20)
    try:
        page = c.get("/").text
    finally:
        state.today = kept
    assert T["oldest_groups_of"][0].format(shown=1, n=2) in page
    idle = page[page.index('id="idle"') :]
    assert "MUSO Sèmè de Bohicon" in idle and "MUSO Élikem de Bolou" not in idle  # the longer idle one, shown


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))


def test_the_movements_export_splits_a_repayment_as_its_receipt_does(w: World) -> None:
    """A repayment was one amount in the movements file: its PAF and penalty, the group's income, could not
    be told from its capital, so no month's earnings could be read from it (the receipt prints the split)."""
    c = _as(w, "coord_tg")
    group = f"K01/{w.groups['K01']}"
    moves = _csv(c.get(f"/exports/movements.csv?group={group}").text)
    loans = _csv(c.get(f"/exports/loans.csv?group={group}").text)

    def n(row: dict[str, str], key: str) -> int:
        return int(row[T[key][0]] or 0)

    repaid = [r for r in moves if r[T["x_kind"][0]] == T["k_repayment"][0]]
    assert repaid
    for r in repaid:
        assert n(r, "x_of_principal") + n(r, "x_of_paf") + n(r, "x_of_penalty") == n(r, "x_amount")
    assert sum(n(r, "x_of_paf") for r in repaid) == sum(n(r, "x_paf_paid") for r in loans) > 0
    assert sum(n(r, "x_of_penalty") for r in repaid) == sum(n(r, "x_penalty_paid") for r in loans) > 0
    others = [r for r in moves if r not in repaid]
    assert all(r[T["x_of_paf"][0]] == "" for r in others)  # no split where there is none
    api = w.client.get(f"/v1/console/exports/movements?group={group}", headers=token(w.client, "admin")).text
    assert "amount,of_principal,of_paf,of_penalty,member_number" in api.splitlines()[0]


def test_a_correction_of_a_repayment_takes_back_its_split_and_other_movements_have_none() -> None:
    paid = '{"paf": 240, "penalty": 60, "principal": 4000}'
    assert repayment_split("repayment", paid, None, None) == (4000, 240, 60)
    assert repayment_split("reversal", '{"kind": "repayment"}', "repayment", paid) == (4000, 240, 60)
    assert repayment_split("reversal", '{"kind": "contribution"}', "contribution", "{}") == (None, None, None)
    assert repayment_split("loan", "{}", None, None) == (None, None, None)


def test_the_groups_page_offers_the_countries_of_the_reader_s_groups(w: World) -> None:
    """The country filter was a fixed TG and BJ: a coordinator of Togo was offered Benin, which found nothing."""
    options = re.compile(r'<select name="country".*?</select>', re.S)

    def offered(who: str) -> list[str]:
        found = options.search(_as(w, who).get("/groups").text)
        return re.findall(r"<option[^>]*>([A-Z]{2})</option>", found[0]) if found else []

    assert offered("admin") == offered("viewer_all") == ["BJ", "TG"]
    assert offered("coord_tg") == [] and offered("coord_bj") == []  # one country: nothing to choose
    page = _as(w, "coord_tg").get("/groups?country=BJ").text  # a link kept from before still says what it asks
    assert "<option selected>BJ</option>" in page
