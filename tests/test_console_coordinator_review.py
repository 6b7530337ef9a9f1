"""What a coordinator's review of the console found: figures named alike that differ, incidents shown as codes,
words and numbers in the wrong language, exports taking bad input silently, arrears without their date, and a
scope that matches no group looking like good news.

The world is the usual two kiosks (K01 Togo, Coopérative ELIKE; K02 Benin, Coopérative Zou).
"""

from __future__ import annotations

import ast
import html
import importlib
import inspect
import io
import pkgutil
import re
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_console_support import World, served_world, signed_in, token
from test_sync_support import BACKENDS

import sync_server
from sync_server.errors import SyncServerError
from sync_server.web.i18n import T

NBSP = "\u00a0"


@pytest.fixture(scope="module", params=BACKENDS)
def w(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from served_world(request.param, tmp_path_factory.mktemp("review"))


_as = signed_in


# -- incidents: every code the server can record has words ----------------------------------------------


def _modules() -> Iterator[Any]:
    for info in pkgutil.walk_packages(sync_server.__path__, "sync_server."):
        if ".migrations" not in info.name:  # alembic's scripts run only under alembic
            yield importlib.import_module(info.name)


def recordable_codes() -> set[str]:
    """The incident codes the server's source can record, read from it: refusals of a flagged kind, a refusal
    flagged by hand (``err.flag = True``), and incidents written directly (``code="..."``)."""
    errors = {
        name: cls
        for module in _modules()
        for name, cls in vars(module).items()
        if inspect.isclass(cls) and issubclass(cls, SyncServerError)
    }
    flagged = {name for name, cls in errors.items() if cls.flag}
    codes: set[str] = set()

    def first_text(call: ast.Call) -> str | None:
        arg = call.args[0] if call.args else None
        return arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None

    def name_of(call: ast.Call) -> str:
        f = call.func
        return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""

    for path in Path(sync_server.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                if name_of(node) in flagged and first_text(node):
                    codes.add(first_text(node))  # type: ignore[arg-type]
                for kw in node.keywords:
                    if kw.arg == "code" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                        codes.add(kw.value.value)
            if isinstance(node, ast.FunctionDef):  # err = Unauthorized("…"); err.flag = True
                by_hand = {
                    t.value.id
                    for n in ast.walk(node)
                    if isinstance(n, ast.Assign)
                    for t in n.targets
                    if isinstance(t, ast.Attribute) and t.attr == "flag" and isinstance(t.value, ast.Name)
                }
                for n in ast.walk(node):
                    if (
                        isinstance(n, ast.Assign)
                        and any(isinstance(t, ast.Name) and t.id in by_hand for t in n.targets)
                        and isinstance(n.value, ast.Call)
                        and name_of(n.value) in errors
                        and first_text(n.value)
                    ):
                        codes.add(first_text(n.value))  # type: ignore[arg-type]
    return codes


def test_every_incident_the_server_can_record_has_words_in_french_and_english() -> None:
    codes = recordable_codes()
    # the scan finds what the review found missing, and the ones written directly or flagged by hand
    assert {"enrollment_code_unknown", "proof_invalid", "events_quarantined", "signature_invalid"} <= codes
    missing = sorted(c for c in codes if f"i_{c}" not in T)
    assert not missing, f"incidents without words on the kiosks page: {missing}"
    for code in codes:
        fr, en = T[f"i_{code}"]
        assert fr and en and fr != en, code


def test_the_incidents_table_names_the_remote_address(w: World) -> None:
    from sync_server.ingest import record_incident

    record_incident(w.server.engine, "K01", "enrollment_code_used", {}, "10.0.0.9")
    for lang, words, header in (
        ("fr", "code d&#39;inscription déjà utilisé", "Adresse"),
        ("en", "enrollment code already used", "Address"),
    ):
        page = _as(w, lang=lang).get("/kiosks").text
        assert words in page and "enrollment_code_used" not in page, lang
        assert f'<th class="ph">{header}</th>' in page and "Depuis" not in page, lang


# -- 1. loans outstanding leaves aid loans out, and says so; what a member owes counts them --------------


def _text(resp: Any) -> str:
    assert resp.status_code == 200, resp.text[:300]
    return html.unescape(resp.text)


def test_loans_outstanding_says_it_leaves_aid_loans_out_and_members_owe_them(w: World) -> None:
    """K01's demo has a caisse rouge aid loan still running (5 000 F, 1 670 F left): the group's card said
    "Prêts en cours 179 000 F" while its members column summed to 180 670 F under the same words."""
    kiosk = w.kiosks["K01"].store
    owed = "SELECT COALESCE(SUM(principal - principal_paid), 0) FROM p_loans WHERE status = 'active' AND kind = ?"
    loans, aid_loans = (kiosk.conn.execute(owed, (kind,)).fetchone()[0] for kind in ("loan", "aid"))
    assert aid_loans > 0  # the case the review saw
    admin = _as(w)
    data = admin.get(f"/v1/console{w.group_url('K01')}").json()
    assert data["figures"]["loans"] == loans
    assert sum(m["loans_owed"] for m in data["members"]) == loans + aid_loans
    page = _text(admin.get(w.group_url("K01")))
    assert "Prêts en cours, hors prêts d'aide" in page and "Capital restant dû, prêts d'aide compris" in page
    assert ">Prêts en cours<" not in page  # no figure under the bare words any more
    overview = _text(admin.get("/"))
    assert "Prêts en cours, hors prêts d'aide" in overview
    members = _text(admin.get("/exports/members.csv")).removeprefix("\ufeff").splitlines()
    column = members[0].split(";").index("Capital restant dû, prêts d'aide compris (F)")
    assert sum(int(r.split(";")[column]) for r in members[1:] if r.startswith("K01;")) == loans + aid_loans
    indicators = _text(admin.get("/exports/indicators.csv")).removeprefix("\ufeff").splitlines()
    assert "Prêts en cours hors prêts d'aide (F)" in indicators[0].split(";")
    english = _text(_as(w, lang="en").get(w.group_url("K01")))
    assert "Loans outstanding, aid loans excluded" in english and "Principal owed, aid loans included" in english


# -- 3. small words and numbers ---------------------------------------------------------------------------


def test_counts_agree_with_their_noun_in_each_language() -> None:
    """The group card read "1 prêts" / "1 loans"; French takes the singular for 0 and 1, English for 1."""
    from functools import partial

    from sync_server.web.common import env
    from sync_server.web.i18n import percent, plural, translate

    cards = env.from_string('{% from "macros.html" import health_cards with context %}{{ health_cards(f) }}')
    figures = {"members": 3, "women_pct": 50.0, "savings": 0, "loans": 5000, "par30": 0, "par30_pct": 0.0}
    figures |= {"aid": 0, "attendance_pct": None}
    said = {}
    for lang in ("fr", "en"):
        for n in (0, 1, 2):
            html_ = cards.render(
                t=partial(translate, lang), pc=percent, plural=partial(plural, lang), f=figures | {"loans_active": n}
            )
            said[(lang, n)] = re.search(r'<div class="hint">(\d+ \w+)</div></div>\s*<div class="card', html_)[1]
    assert said == {
        ("fr", 0): "0 prêt",
        ("fr", 1): "1 prêt",
        ("fr", 2): "2 prêts",
        ("en", 0): "0 loans",
        ("en", 1): "1 loan",
        ("en", 2): "2 loans",
    }


def test_english_charts_write_a_decimal_point_and_no_space_before_colons() -> None:
    from sync_server.charts import Series, bar_chart, line_chart

    money = [Series("Savings", [("2026-09", 900_000), ("2026-10", 1_200_000)])]
    assert "Savings 1.2 M" in line_chart("Savings", money, lang="en")
    assert "Savings 1,2 M" in line_chart("Savings", money, lang="fr")
    assert "2026-10-05: 90 %" in bar_chart("Attendance", [("2026-10-05", 90)], lang="en")
    assert "Savings: no data yet." in line_chart("Savings", [], empty="no data yet", lang="en")


def test_a_clock_offset_that_rounds_to_nothing_has_no_sign() -> None:
    from sync_server.web.i18n import duration

    assert [duration(ms) for ms in (-300, 0, 400, -1500, 90_000)] == ["0 s", "0 s", "0 s", "−2 s", "+90 s"]


def test_excel_sheets_are_named_in_full_within_excel_s_31_characters(w: World) -> None:
    from openpyxl import load_workbook

    from sync_server.web.exports import KINDS, sheet_title

    assert all(len(sheet_title(kind, lang)) <= 31 for kind in KINDS for lang in ("fr", "en", None))
    book = load_workbook(io.BytesIO(_as(w).get("/exports/indicators.xlsx").content))
    assert book.sheetnames[0].startswith("Indicateurs ") and "(style" not in book.sheetnames[0]


def _words(page: str) -> str:
    """A page's text as read: no tags, entities decoded."""
    return re.sub(r"[ \t\n]+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_english_pages_write_english_colons_and_numbers(w: World) -> None:
    """ "Members : CSV" on a group page and "n° 9" on a receipt's check are French typography and words."""
    real = next(r for r in w.receipts("K01") if r["movements"])
    english, french = _as(w, lang="en"), _as(w)
    group_id = w.groups["K01"]
    member = re.search(rf'href="(/groups/K01/{group_id}/members/[^"]+)"', english.get(w.group_url("K01")).text)[1]
    verify = f"/verify?number={real['number']}&code={real['code']}"
    for url in ("/", "/groups", w.group_url("K01"), member, "/kiosks", "/exports", "/enrollments", "/users", verify):
        text = _words(_text(english.get(url)))
        assert not re.search(r"\w[ \u00a0]:", text), (url, re.findall(r".{30}\w[ \u00a0]:.{10}", text))
        assert "n°" not in text, url
    assert "Members: CSV" in _words(english.get(w.group_url("K01")).text)
    assert f"no. {real['member']['number']}" in _words(english.get(verify).text)
    assert "Membres\u00a0: CSV" in _words(french.get(w.group_url("K01")).text)  # French keeps its own


def test_a_usual_fine_is_named_in_the_reader_s_language_on_a_receipt_s_check(w: World) -> None:
    fined = next(r for r in w.receipts("K01") if any(m["kind"] == "fine" for m in r["movements"]))
    fine = next(m for m in fined["movements"] if m["kind"] == "fine")
    assert fine["detail"]["fine"] in ("retard", "absence"), fine
    verify = f"/verify?number={fined['number']}&code={fined['code']}"
    english = _words(_text(_as(w, lang="en").get(verify)))
    # English puts which fine before the noun: "fine lateness" read as a machine's words
    assert {"retard": "lateness fine", "absence": "absence fine"}[fine["detail"]["fine"]] in english.lower()
    assert "fine lateness" not in english.lower() and "fine absence" not in english.lower()
    assert "retard" not in english
    assert f"amende {fine['detail']['fine']}" in _words(_text(_as(w).get(verify))).lower()


def test_an_aid_lent_reads_as_owed_on_a_receipt_s_check_and_an_aid_given_does_not(w: World) -> None:
    aided = [(r, m) for r in w.receipts("K01") + w.receipts("K02") for m in r["movements"] if m["kind"] == "aid"]
    lent = [(r, m) for r, m in aided if m["detail"].get("term_months")]
    given = [(r, m) for r, m in aided if not m["detail"].get("term_months")]
    assert lent and given
    for (paper, _m), owed in [*[(x, True) for x in lent[:1]], *[(x, False) for x in given[:1]]]:
        text = _words(_text(_as(w).get(f"/verify?number={paper['number']}&code={paper['code']}")))
        assert ("à rembourser" in text) == owed, paper["number"]


def test_a_receipt_s_check_shows_the_next_installment_the_paper_prints(w: World) -> None:
    """ "Prochaine échéance le … pour 2 prêts" was on the paper and nowhere in what its code vouches for."""
    from datetime import date

    owing = [r for r in w.receipts("K01") if r["movements"] and r["balances"]["next_due"]]
    assert owing
    for real in (owing[-1], *[r for r in owing if r["balances"]["next_due"]["loans"] > 1][-1:]):
        nxt = real["balances"]["next_due"]
        verify = f"/verify?number={real['number']}&code={real['code']}"
        day = f"{date.fromisoformat(nxt['date']):%d/%m/%Y}"
        text = _words(_text(_as(w).get(verify)))
        amount = f"{nxt['amount']:,}".replace(",", NBSP)
        assert f"Prochaine échéance le {day}" in text and f"{amount}{NBSP}F" in text.replace(" F", f"{NBSP}F")
        assert ("pour 2 prêts" in text) == (nxt["loans"] == 2)
        assert f"Next installment on {nxt['date']}" in _words(_text(_as(w, lang="en").get(verify)))  # ISO in English


def test_a_kiosk_without_a_name_has_no_stray_separator_on_the_codes_page(w: World) -> None:
    made = w.client.post(
        "/v1/admin/enrollments",
        json={"kiosk_id": "K71", "country": "TG", "cooperative": "Coopérative ELIKE"},
        headers=token(w.client, "admin"),
    )
    assert made.status_code == 201, made.text
    page = _as(w).get("/enrollments").text
    assert '<div class="muted small">TG · Coopérative ELIKE</div>' in page
    assert not re.search(r'<div class="muted small">\s*·', page)


def test_a_page_past_the_end_of_the_groups_says_so(w: World) -> None:
    page = _words(_as(w).get("/groups", params={"page": 5}).text)
    assert "2 groupes" in page and "Aucun groupe dans votre périmètre" not in page
    assert "Cette page est au-delà de la fin de la liste." in page and "Dernière page (1)" in page


# -- 4. exports refuse bad input clearly, and say when a quarter is still running -------------------------


def test_a_quarter_that_has_not_started_is_refused_and_the_running_one_is_provisional(w: World) -> None:
    """2027-Q1 returned today's balances labelled 2027-Q1; today (2026-11-20) is in 2026-Q4."""
    from openpyxl import load_workbook

    french, english = _as(w), _as(w, lang="en")
    refused = french.get("/exports/indicators.xlsx", params={"quarter": "2027-Q1"})
    assert refused.status_code == 400 and "Le trimestre 2027-Q1 n'a pas encore commencé" in _words(refused.text)
    assert "Quarter 2027-Q1 has not started yet" in _words(english.get("/exports/indicators.csv?quarter=2027-Q1").text)
    auth = token(w.client, "admin")
    for url in ("/v1/console/indicators?quarter=2027-Q1", "/v1/console/exports/indicators?quarter=2027-Q1"):
        answer = w.client.get(url, headers=auth)
        assert answer.status_code == 400 and answer.json()["detail"]["code"] == "quarter_future", url
    running = french.get("/exports/indicators.xlsx")  # the quarter under way, by default
    assert load_workbook(io.BytesIO(running.content)).sheetnames == ["Indicateurs 2026-Q4 en cours"]
    assert "2026-Q4-en-cours.xlsx" in running.headers["content-disposition"]
    running_en = english.get("/exports/indicators.xlsx?quarter=2026-Q4")
    assert load_workbook(io.BytesIO(running_en.content)).sheetnames == ["Indicators 2026-Q4 provisional"]
    over = french.get("/exports/indicators.xlsx?quarter=2026-Q3")
    assert load_workbook(io.BytesIO(over.content)).sheetnames == ["Indicateurs 2026-Q3"]
    assert "en-cours" not in over.headers["content-disposition"]
    api = {q: w.client.get(f"/v1/console/indicators?quarter={q}", headers=auth).json() for q in ("2026-Q3", "2026-Q4")}
    assert (api["2026-Q3"]["provisional"], api["2026-Q4"]["provisional"]) == (False, True)
    # However it was typed, a quarter is named one way in the file, its sheet and the API.
    typed = french.get("/exports/indicators.xlsx?quarter=2026q3")
    assert load_workbook(io.BytesIO(typed.content)).sheetnames == ["Indicateurs 2026-Q3"]
    assert "2026-Q3.xlsx" in typed.headers["content-disposition"]
    assert w.client.get("/v1/console/indicators?quarter=%202026Q3", headers=auth).json()["quarter"] == "2026-Q3"


def test_a_period_that_ends_before_it_begins_is_refused(w: World) -> None:
    resp = _as(w).get("/exports/meetings.csv", params={"from": "2026-10-01", "to": "2026-05-01"})
    assert resp.status_code == 400 and "La date de début est après la date de fin" in _words(resp.text)
    api = w.client.get("/v1/console/exports/movements?from=2026-10-01&to=2026-05-01", headers=token(w.client, "admin"))
    assert api.status_code == 400 and api.json()["detail"]["code"] == "date_range_invalid"


def test_french_export_dates_may_be_written_day_first_as_the_pages_write_them(w: World) -> None:
    french = _as(w)
    iso = french.get("/exports/meetings.csv", params={"from": "2026-05-01", "to": "2026-06-30"})
    day_first = french.get("/exports/meetings.csv", params={"from": "01/05/2026", "to": "30/06/2026"})
    assert day_first.status_code == 200 and day_first.text == iso.text
    assert len(iso.text.splitlines()) > 1  # meetings in May and June: the filter kept some
    assert "JJ/MM/AAAA" in french.get("/exports").text
    # English pages write ISO dates: 01/05/2026 could be read either way there, so it is refused
    assert _as(w, lang="en").get("/exports/meetings.csv", params={"from": "01/05/2026"}).status_code == 400


# -- 5. arrears say the day they are counted to ----------------------------------------------------------


def test_pages_showing_arrears_say_the_day_they_are_counted_to(w: World) -> None:
    """The console counts arrears to today (2026-11-20 in these tests), a kiosk's paper to its last meeting."""
    group_id = w.groups["K01"]
    page = _as(w).get(w.group_url("K01")).text
    member = re.search(rf'href="(/groups/K01/{group_id}/members/[^"]+)"', page)[1]
    for url in ("/", w.group_url("K01"), member):
        assert "Impayés et portefeuille à risque au 20/11/2026" in _words(_as(w).get(url).text), url
        assert "Arrears and portfolio at risk as of 2026-11-20" in _words(_as(w, lang="en").get(url).text), url


# -- 6. a scope that holds no group says so --------------------------------------------------------------


def test_a_scope_matching_no_group_is_said_not_shown_as_zeros(w: World) -> None:
    """A viewer made with "Cooperative ELIKE" (no accent) saw "Aucun prêt en retard de plus de 30 jours"."""
    from test_console_support import PASSWORD

    from sync_server import accounts

    accounts.create_user(w.server.engine, "viewer_typo", PASSWORD, "viewer", cooperatives=["Cooperative ELIKE"])
    for lang, said in (
        ("fr", "Votre périmètre (Cooperative ELIKE) ne contient encore aucun groupe"),
        ("en", "Your scope (Cooperative ELIKE) holds no group yet"),
    ):
        client = _as(w, "viewer_typo", lang)
        overview = _words(client.get("/").text)
        assert said in overview, lang
        assert "Aucun prêt en retard" not in overview and "No loan more than 30 days late" not in overview, lang
        assert said in _words(client.get("/groups").text), lang
    spelt_right = _words(_as(w, "coord_coop").get("/").text)  # "Coopérative ELIKE": K01's group, its figures
    assert "Votre périmètre" not in spelt_right and "Prêts en cours, hors prêts d'aide" in spelt_right


def test_create_user_warns_of_a_scope_that_matches_no_known_group(
    w: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_sync_support import SECRET

    from sync_server import cli as server_cli

    monkeypatch.setenv("DATABASE_URL", w.server.settings.database_url)
    monkeypatch.setenv("MUSO_SERVER_ENVIRONMENT", "test")
    monkeypatch.setenv("MUSO_SERVER_SECRET_KEY", SECRET)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    args = ["create-user", "afi", "--role", "viewer", "--cooperative", "cooperative elike", "--country", "NE"]
    assert server_cli.main([*args, "--password-stdin"]) == 0  # created all the same: groups may sync later
    err = capsys.readouterr().err
    assert "no known group in cooperative 'cooperative elike' yet: did you mean 'Coopérative ELIKE'?" in err
    assert "no known group in country NE yet" in err
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    fine = ["create-user", "kodjo", "--role", "viewer", "--cooperative", "Coopérative Zou", "--country", "BJ"]
    assert server_cli.main([*fine, "--password-stdin"]) == 0
    assert "warning" not in capsys.readouterr().err


# -- a group that no longer meets while its kiosk syncs ----------------------------------------------------


def test_a_group_that_no_longer_meets_is_flagged_though_its_kiosk_syncs(w: World) -> None:
    from datetime import date, timedelta

    app = w.client.app
    kiosk = w.kiosks["K01"]
    last = date.fromisoformat(kiosk.store.get("groups", (w.groups["K01"],))["last_meeting_date"])
    name = kiosk.store.get("groups", (w.groups["K01"],))["name"]
    usual = app.state.today
    try:
        app.state.today = lambda: last + timedelta(days=30)  # a monthly group: not yet idle
        page = _as(w).get("/").text
        before = _as(w).get("/v1/console/overview").json()["figures"]["idle_groups"]
        assert 'id="idle"' not in page or name not in page[page.index('id="idle"') :]
        app.state.today = lambda: last + timedelta(days=60)
        page = html.unescape(_as(w).get("/").text)
        idle = page[page.index('id="idle"') :]
        assert name in idle and f"{last:%d/%m/%Y}" in idle and "Groupes sans séance > 45 j" in page
        assert _as(w).get("/v1/console/overview").json()["figures"]["idle_groups"] == before + 1
        assert name not in _as(w, "coord_bj").get("/").text  # another country's group: out of scope
    finally:
        app.state.today = usual


def test_a_group_that_never_met_is_flagged_once_we_have_known_it_long_enough(tmp_path: Path) -> None:
    """Set up, then never a meeting: no last meeting date to age, so it counts from the day it reached us."""
    from datetime import date, timedelta

    from test_console_support import add_people, benin_scenario, make_kiosk, sync
    from test_sync_support import running, server_db

    with running(server_db("sqlite", tmp_path)) as server:
        k, group_id = make_kiosk(tmp_path / "K03.db", "K03", benin_scenario(weeks=0))
        try:
            sync(server, k, "K03")
            add_people(server)
            w = World(server, {"K03": k}, {"K03": group_id})
            server.client.app.state.today = lambda: date.today() + timedelta(days=40)
            assert 'id="idle"' not in _as(w).get("/").text
            server.client.app.state.today = lambda: date.today() + timedelta(days=50)
            page = html.unescape(_as(w).get("/").text)
            row = page[page.index('id="idle"') :].split("</tr>")[1]
            assert "MUSO Sèmè de Bohicon" in row and "jamais" in row
            assert _as(w).get("/v1/console/overview").json()["figures"]["idle_groups"] == 1
            assert "never" in _as(w, lang="en").get("/").text.split('id="idle"')[1].split("</tr>")[1]
        finally:
            k.close()


def test_the_groups_to_follow_show_the_amount_they_are_ordered_by(w: World) -> None:
    """Ordered by the amount late more than 30 days: a list showing only PAR % looked out of order."""
    page = html.unescape(_as(w).get("/").text)
    table = page[page.index("Groupes à suivre") :]
    table = table[: table.index("</table>")]
    assert "En retard > 30 j" in table
    cells = re.findall(r'<td class="num bad">([\d\u00a0]+)\u00a0F</td>', table)
    amounts = [int(v.replace("\u00a0", "")) for v in cells]
    assert amounts and amounts == sorted(amounts, reverse=True)


def test_a_member_s_sex_reads_as_the_export_writes_it(w: World) -> None:
    """H for homme in French, as the export writes it, not the kiosk's code M."""
    kiosk = w.kiosks["K01"]
    man = kiosk.store.query("SELECT member_id FROM p_members WHERE sex = 'M' LIMIT 1")[0]["member_id"]
    url = f"{w.group_url('K01')}/members/{man}"
    assert '<p class="muted">H · ' in _as(w).get(url).text
    assert '<p class="muted">M · ' in _as(w, lang="en").get(url).text
    assert '<td class="ph">H</td>' in _as(w).get(w.group_url("K01")).text


def test_a_member_s_page_lists_what_moved_their_savings_as_their_relevé_does(w: World) -> None:
    from kiosk.services import statements as ST

    kiosk = w.kiosks["K01"]
    members = kiosk.store.query("SELECT member_id FROM p_members WHERE group_id = ?", (w.groups["K01"],))
    for row in members[:8]:
        relevé = ST.statement_doc(kiosk, row["member_id"], limit=1000)
        printed = [m["savings"] for m in relevé["movements"] if m["savings"]]
        url = f"/v1/console/groups/K01/{w.groups['K01']}/members/{row['member_id']}"
        lines = w.client.get(url, headers=token(w.client, "admin")).json()["savings_lines"]
        assert [s["change"] for s in reversed(lines)] == printed  # line for line, oldest first
        balance = relevé["balances"]["savings"]
        assert (lines[0]["after"] if lines else 0) == balance == sum(printed)
        assert all(a["after"] - a["change"] == b["after"] for a, b in pairwise(lines))
    page = html.unescape(_as(w).get(f"{w.group_url('K01')}/members/{members[5]['member_id']}").text)
    assert "Épargne après" in page and "cotisation" in page


def test_a_receipt_s_check_names_the_fine_and_the_aid_as_its_paper_does(w: World) -> None:
    """'Amende absence', 'Aide décès' on the paper: the check says which fine, which aid, to anyone."""
    receipts = w.receipts("K01")
    fined = next(r for r in receipts if any(m["kind"] == "fine" and m["detail"].get("fine") for m in r["movements"]))
    fine = next(m for m in fined["movements"] if m["kind"] == "fine")["detail"]["fine"]
    anonymous = TestClient(w.client.app, base_url="http://testserver")
    assert f"amende {fine}" in html.unescape(anonymous.get(fined["verify_url"].removeprefix("http://testserver")).text)
    helped = [r for r in receipts if any(m["kind"] == "aid" for m in r["movements"])]
    assert helped  # the demo's aids
    for r in helped:
        aid = next(m for m in r["movements"] if m["kind"] == "aid")["detail"]["aid"]
        url = r["verify_url"].removeprefix("http://testserver")
        words = {"deces": "décès", "maladie": "maladie", "naissance": "naissance"}.get(aid, aid)
        assert f"aide {words}" in html.unescape(_as(w).get(url).text)
        assert f"{T['aid_' + aid][1]} aid" in html.unescape(_as(w, lang="en").get(url).text)


def test_a_group_s_name_in_a_file_s_is_letters_digits_and_single_dashes() -> None:
    from sync_server.web.manage import file_slug

    assert file_slug("MUSO Élikem de Bolou") == "muso-elikem-de-bolou"
    assert file_slug('"; rm -rf / «Ɖɔvi»') == "rm-rf-dovi"
    assert file_slug(None) == file_slug("") == file_slug("«»") == ""
    long = file_slug("a" * 39 + " b")
    assert len(long) <= 40 and not long.endswith("-")


def test_the_meetings_left_open_are_found_through_an_index(tmp_path: Path) -> None:
    """The overview lists meetings open for a week: without an index it read every meeting at each visit
    (520,000 on 2,000 groups × 5 years)."""
    from sqlalchemy import create_engine, text

    from sync_server.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'server.db'}"
    upgrade(url)
    with create_engine(url).connect() as conn:
        plan = " ".join(
            str(row[-1])
            for row in conn.execute(
                text("EXPLAIN QUERY PLAN SELECT * FROM p_meetings WHERE status = 'open' AND date < '2026-11-22'")
            )
        )
    assert "USING INDEX ix_p_meetings_status" in plan, plan


def test_a_movement_is_named_on_a_receipt_s_check_as_its_paper_names_it() -> None:
    """ "retrait" on the screen, "Retrait d'épargne" on the paper: a member comparing them line by line
    should not have to wonder. (A correction is "Annulation" on paper, "correction" on the console, and its
    check says which movement it cancels.)"""
    from printer.words import KIND

    differ = {kind: (word, T[f"k_{kind}"][0]) for kind, word in KIND.items() if T[f"k_{kind}"][0] != word.lower()}
    assert set(differ) == {"reversal"}, differ
