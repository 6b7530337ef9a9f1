"""Later coordinators' reviews of the console, page by page at phone and laptop widths: what it showed
wrong, or left out without a word; words a coordinator could not use (a repository's path, a receipt's
title over a procès-verbal), figures missing from a file or a page (when a loan was repaid, which way a
member's money went), a pending code that did not say what it would set up.

The world is the usual two kiosks (K01 Togo, Coopérative ELIKE, 26 weekly meetings; K02 Benin,
Coopérative Zou, 10 meetings).
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from datetime import date

import pytest
from test_console_support import World, served_world, signed_in, token
from test_sync_support import BACKENDS

from sync_server.web import pages, queries
from sync_server.web.exports import repayment_split
from sync_server.web.i18n import T, day
from sync_server.web.indicators import COLUMNS


@pytest.fixture(scope="module", params=BACKENDS)
def w(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from served_world(request.param, tmp_path_factory.mktemp("later-reviews"))


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


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_the_exports_page_explains_the_indicators_itself_in_both_languages(w: World) -> None:
    """It sent coordinators to 'docs/indicators.md', a path in the repository they cannot open."""
    for lang, i in (("fr", 0), ("en", 1)):
        page = _text(_as(w, "coord_tg", lang=lang).get("/exports").text)
        assert "docs/" not in page and ".md" not in page
        assert T["definitions"][i] in page
        for name in COLUMNS[4:]:  # every figure of the file, after the group's name and place
            assert f"{T['x_' + name][i]} {T['def_' + name][i]}" in page, (lang, name)


def test_a_proces_verbal_s_check_is_titled_for_a_proces_verbal(w: World) -> None:
    """Checking a procès-verbal's code showed 'Vérifier un reçu' and 'Contenu du reçu': the treasurer's
    paper is not a receipt, and a coordinator comparing it wondered which paper the page meant."""
    pv = w.receipts("K01", kind="report")[-1]
    receipt = next(r for r in w.receipts("K01") if r["movements"])
    for lang, i in (("fr", 0), ("en", 1)):
        c = _as(w, "coord_tg", lang=lang)
        page = html.unescape(c.get(pv["verify_url"].removeprefix("http://testserver")).text)
        assert re.search(r"<h1>([^<]*)</h1>", page)[1] == T["verify_report"][i]
        assert f"<title>{T['verify_report'][i]}" in page
        assert T["report_content"][i] in page and T["receipt_content"][i] not in page
        assert T["v_genuine_report"][i] in page and T["v_genuine"][i] not in page
        # a receipt's check keeps its own words
        page = html.unescape(c.get(receipt["verify_url"].removeprefix("http://testserver")).text)
        assert re.search(r"<h1>([^<]*)</h1>", page)[1] == T["verify"][i] and T["receipt_content"][i] in page


def _rows(page: str, table_class: str) -> list[str]:
    """The body rows of the table of that class, as HTML."""
    table = page.split(f'<table class="{table_class}">', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr[^>]*>.*?</tr>", table.split("<tbody>", 1)[1], flags=re.S)


def test_a_member_s_page_shows_which_way_money_went(w: World) -> None:
    """'prêt 9 000 F' read like 'cotisation 1 000 F': one column of amounts, no direction."""
    c = _as(w, "coord_tg")
    borrower = re.search(r'<tr class="late"><td><a href="([^"]+/members/[^"]+)"', c.get(w.group_url("K01")).text)[1]
    rows = _rows(c.get(borrower).text, "moves")
    sides = {}
    for row in rows:
        kind = _text(re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)[1]).split()[0]
        paid, received = (
            _text(x).strip()
            for x in re.search(r'class="num in">(.*?)</td><td class="num out">(.*?)</td>', row).groups()
        )
        assert bool(paid) != bool(received), row  # each amount in one column, and only one
        sides.setdefault(kind, set()).add("in" if paid else "out")
    assert sides["cotisation"] == {"in"} and sides["prêt"] == {"out"}, sides
    assert T["paid_in"][0] in c.get(borrower).text and T["received"][0] in c.get(borrower).text


def test_a_member_s_loans_show_their_final_due_date_and_mark_a_loan_over_30_days_late(w: World) -> None:
    """The group's page gave a loan's final due date and marked one over 30 days late; the member's page,
    where a coordinator goes next, did neither."""
    c = _as(w, "coord_tg")
    group = c.get(w.group_url("K01")).text
    borrower = re.search(r'<tr class="late"><td><a href="([^"]+/members/[^"]+)"', group)[1]
    api = c.get("/v1/console" + borrower).json()
    rows = _rows(c.get(borrower).text, "stacked loans")
    assert len(rows) == len(api["loans"]) and any(loan["days_late"] > 30 for loan in api["loans"])
    for loan, row in zip(api["loans"], rows, strict=True):  # both newest first
        assert f'data-label="{T["due_date"][0]}">{day(loan["due_date"])}</td>' in html.unescape(row)
        late = loan["status"] == "active" and loan["days_late"] > 30
        assert row.startswith('<tr class="late">') == late, row


def test_the_console_sorts_paid_in_and_received_as_the_member_s_receipt_does() -> None:
    from kiosk.services.receipts import FLOW
    from sync_server.web.members import RECEIVED, flow

    assert {kind for kind, way in FLOW.items() if way == "out"} == RECEIVED
    assert {kind: flow(kind, None) for kind in FLOW} == FLOW
    assert flow("reversal", '{"kind": "loan"}') == "out" and flow("reversal", {"kind": "fine"}) == "in"


def test_a_pending_enrollment_code_says_which_groups_it_will_set_up(w: World) -> None:
    """The codes list said 'en attente' and nothing of the groups typed with the code: a coordinator
    could not check, before the trip to the village, that the kiosk would set up the right ones."""
    from sync_server import enrollment, reference
    from sync_server.db import write

    enrollment.create_enrollment(
        w.server.engine, "K05", created_by="coord_tg", hours=72, country="TG", cooperative="Coopérative ELIKE",
        groups=["MUSO Dzidudu d'Agou", "MUSO Mawuli de Kpodzi"],
    )  # fmt: skip
    with write(w.server.engine) as conn:  # a group of Benin on the same kiosk: not Togo's coordinators' to read
        reference.put(conn, "kiosk_group", "g-bj", {"name": "MUSO Gbèdji", "country": "BJ"}, scope="K05")
    for who, lang in (("coord_tg", "fr"), ("coord_tg", "en"), ("admin", "fr")):
        page = _text(_as(w, who, lang=lang).get("/enrollments").text)
        row = page.split("K05", 1)[1].split("K0", 1)[0]  # the code's row, up to the next kiosk's
        said = "Groups it will set up:" if lang == "en" else "Groupes qu'il créera :"  # spaces made one
        assert f"{said} MUSO Dzidudu d'Agou, MUSO Mawuli de Kpodzi" in row, row
        assert ("MUSO Gbèdji" in row) == (who == "admin"), row
    # a code already used sets nothing up any more: K01's groups are not listed as to come
    page = _text(_as(w, "admin").get("/enrollments").text)
    assert page.count(T["will_set_up"][0]) == 1
