"""A second coordinator's review of the console, page by page at phone and laptop widths: what it showed
wrong, or left out without a word.

The world is the usual two kiosks (K01 Togo, Coopérative ELIKE, 26 weekly meetings; K02 Benin,
Coopérative Zou, 10 meetings).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from test_console_support import World, served_world, signed_in
from test_sync_support import BACKENDS

from sync_server.web import pages, queries
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
    monkeypatch.setattr(w.client.app.state, "today", lambda: date(2027, 1, 20))
    monkeypatch.setattr(queries, "ATTENTION", 1)
    page = c.get("/").text
    assert T["oldest_groups_of"][0].format(shown=1, n=2) in page
    idle = page[page.index('id="idle"') :]
    assert "MUSO Sèmè de Bohicon" in idle and "MUSO Élikem de Bolou" not in idle  # the longer idle one, shown
