"""Quarterly indicators (docs/indicators.md) on a small group whose figures are worked out by hand below.

Rules: the defaults — 1 000 F verte and 200 F rouge per meeting, PAF flat 2 %/month, rounding 5 F.
Six members, four of them women (n° 1, 3, 4, 6). Officers 1 and 4 approve; 3 is treasurer.

  M1 2026-06-29  all 6 present: verte +6 000, rouge +1 200. Loan A to n° 2: 3 000 F for 1 month
                 (PAF 3 000 × 2 % × 1 = 60), due 2026-07-29 — never repaid in Q3.
  M2 2026-07-06  all present: verte +6 000, rouge +1 200. Loan B to n° 5: 6 000 F for 3 months (PAF 360),
                 installments of 2 000 (+120) due 08-06, 09-06, 10-06.
  M3 2026-07-13  n° 6 absent: verte +5 000, rouge +1 000. Aid « naissance » 3 000 F (grant) to n° 2.
  M4 2026-08-06  all present: verte +6 000, rouge +1 200. N° 5 pays installment 1: 2 000 + PAF 120.
  M5 2026-10-05  (Q4) all present: +6 000 / +1 200. N° 2 pays loan A off (after Q3's end).

Q3 (July–September), at 2026-09-30:
  members 6, women 4/6 = 66.7 %; meetings 3 (M2–M4); attendance 17/18 = 94.4 %
  savings 6 000 + 6 000 + 5 000 + 6 000 = 23 000; at the start of Q3 6 000; average 14 500
  loans outstanding A 3 000 + B (6 000 − 2 000) = 7 000, two loans
  PAR > 30 d: A's installment fell due 07-29, 63 days before 09-30 → 3 000; B's next one (09-06)
  is 24 days late → not at risk. PAR = 3 000 / 7 000 = 42.9 % — even though A was repaid in Q4
  write-offs 0; aid 3 000; income (PAF) 120; annualised return 4 × 120 / 14 500 = 3.3 %
  cash: verte 6 000 − 3 000 + 6 000 − 6 000 + 5 000 + 6 000 + 2 120 = 16 120 (= 23 000 + 120 − 7 000);
        rouge 1 200 + 1 200 + 1 000 − 3 000 + 1 200 = 1 600; bleue 0
Q2 (at 2026-06-30): 1 meeting, attendance 100 %, savings 6 000, loans 3 000 (1), PAR 0 (not yet due),
  income 0, return 0.0 %.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from test_console_support import PASSWORD, make_kiosk, sync
from test_sync_support import Server, ServerDb, backend_fixture, running  # noqa: F401  (fixture)

from sync_server import accounts

MEMBERS = [
    {"name": "Afi Présidente", "sex": "F", "role": "president", "pin": "2580", "joined": "2026-06-01"},
    {"name": "Kossi Secrétaire", "sex": "M", "role": "secretaire", "pin": "1397", "joined": "2026-06-01"},
    {"name": "Ama Trésorière", "sex": "F", "role": "tresorier", "pin": "4826", "joined": "2026-06-01"},
    {"name": "Esi Contrôleuse", "sex": "F", "role": "controleur", "pin": "3691", "joined": "2026-06-01"},
    {"name": "Yawo Membre", "sex": "M", "joined": "2026-06-01"},
    {"name": "Dzifa Membre", "sex": "F", "joined": "2026-06-01"},
]


def _meeting(day: str, ops: list[dict[str, Any]], absent: list[int] | None = None) -> dict[str, Any]:
    return {"date": day, "officers": [1, 4], "treasurer": 3, "attendance": {"absent": absent or []}, "operations": ops}


SCENARIO = {
    "group": {"name": "MUSO Calcul", "country": "TG", "cooperative": "Coop Test", "village": "Kpalimé"},
    "rules": {},
    "members": MEMBERS,
    "meetings": [
        _meeting("2026-06-29", [{"op": "loan", "member": 2, "amount": 3000, "term_months": 1, "approvers": [1, 4]}]),
        _meeting("2026-07-06", [{"op": "loan", "member": 5, "amount": 6000, "term_months": 3, "approvers": [1, 4]}]),
        _meeting("2026-07-13", [{"op": "aid", "member": 2, "aid": "naissance", "approvers": [1, 4]}], absent=[6]),
        _meeting("2026-08-06", [{"op": "repayment", "member": 5, "amount": "due"}]),
        _meeting("2026-10-05", [{"op": "repayment", "member": 2, "amount": "payoff"}]),
    ],
}


@pytest.fixture
def calc(backend: ServerDb, tmp_path: Path) -> Iterator[Server]:
    with running(backend) as s:
        s.client.app.state.today = lambda: date(2026, 11, 20)
        k, _ = make_kiosk(tmp_path / "k.db", "K09", SCENARIO)
        sync(s, k, "K09")
        k.close()
        accounts.create_user(s.engine, "awa", PASSWORD, "admin")
        token = s.client.post("/v1/admin/token", json={"username": "awa", "password": PASSWORD}).json()
        s.client.headers["Authorization"] = f"Bearer {token['access_token']}"
        yield s


def _rows(s: Server, quarter: str) -> list[dict[str, Any]]:
    resp = s.client.get(f"/v1/console/indicators?quarter={quarter}")
    assert resp.status_code == 200, resp.text
    return resp.json()["rows"]


def test_q3_indicators_match_the_hand_calculation(calc: Server) -> None:
    group, total = _rows(calc, "2026-Q3")
    expected = {
        "group": "MUSO Calcul",
        "members": 6,
        "women_pct": 66.7,
        "meetings": 3,
        "attendance_pct": 94.4,
        "savings": 23_000,
        "loans": 7_000,
        "loans_count": 2,
        "par30": 3_000,
        "par30_pct": 42.9,
        "write_offs": 0,
        "aid": 3_000,
        "income": 120,
        "return_pct": 3.3,
        "cash_verte": 16_120,
        "cash_rouge": 1_600,
        "cash_bleue": 0,
        "owed_outside": 0,
    }
    assert {k: group[k] for k in expected} == expected
    assert total["group"] == "TOTAL" and {k: total[k] for k in expected if k != "group"} == {
        k: v for k, v in expected.items() if k != "group"
    }


def test_q2_indicators_and_the_csv_export(calc: Server) -> None:
    group, _ = _rows(calc, "2026Q2")
    assert (group["meetings"], group["attendance_pct"], group["savings"]) == (1, 100.0, 6_000)
    assert (group["loans"], group["loans_count"], group["par30"], group["income"]) == (3_000, 1, 0, 0)
    assert group["return_pct"] == 0.0
    csv = calc.client.get("/v1/console/exports/indicators?format=csv&quarter=2026-Q3").text.splitlines()
    assert csv[0].lstrip("\ufeff").startswith("kiosk_id,group,country,cooperative,members,women_pct")
    assert csv[1].startswith("K09,MUSO Calcul,TG,Coop Test,6,66.7,94.4,3,23000,2,7000,3000,42.9,0,3000,120,3.3")
    # The console's file, for a French spreadsheet: words, semicolons, decimal commas.
    page = calc.client.get("/exports/indicators.csv?quarter=2026-Q3").text.splitlines()
    assert page[0].lstrip("\ufeff").startswith("Kiosque;Groupe;Pays;Coopérative;Membres actifs;Femmes (%)")
    assert page[1].startswith("K09;MUSO Calcul;TG;Coop Test;6;66,7;94,4;3;23000;2;7000;3000;42,9;0;3000;120;3,3")


def test_today_s_figures_follow_the_loans_after_the_quarter(calc: Server) -> None:
    figures = calc.client.get("/v1/console/overview").json()["figures"]
    # Loan A repaid on 10-05; loan B's installment of 09-06 is 75 days late on 2026-11-20: all of it at risk.
    assert (figures["loans"], figures["loans_active"], figures["par30"], figures["par30_pct"]) == (
        4_000,
        1,
        4_000,
        100.0,
    )
    assert figures["savings"] == 29_000 and figures["members"] == 6 and figures["women"] == 4


@pytest.mark.parametrize("quarter", ["2026-Q5", "Q3-2026", "2026", "x" * 10])
def test_a_bad_quarter_is_refused_clearly(calc: Server, quarter: str) -> None:
    resp = calc.client.get(f"/v1/console/indicators?quarter={quarter}")
    assert resp.status_code in (400, 422)
    page = calc.client.get(f"/exports/indicators.csv?quarter={quarter}")
    assert page.status_code in (400, 422) and "Un trimestre s&#39;écrit comme 2026-Q3" in page.text


def test_the_quarter_under_way_judges_lateness_today_not_at_its_end(calc: Server) -> None:
    # On 2026-08-15 loan A (due 07-29) is 17 days late: not at risk yet. Judged at the quarter's end,
    # a date still to come, it counted 63 days late.
    calc.client.app.state.today = lambda: date(2026, 8, 15)
    group, total = _rows(calc, "2026-Q3")
    assert (group["loans"], group["par30"], group["par30_pct"], total["par30"]) == (7_000, 0, 0.0, 0)
    rows = calc.client.get("/exports/indicators.csv").text.lstrip("\ufeff").splitlines()  # the current quarter
    header, first = rows[0].split(";"), rows[1].split(";")
    loans = header.index("Prêts en cours hors prêts d'aide (F)")
    par30 = header.index("Portefeuille à risque > 30 j (F)")
    assert (first[loans], first[par30]) == ("7000", "0")
    # a quarter that is over is judged at its end, whatever the day
    calc.client.app.state.today = lambda: date(2027, 3, 1)
    assert _rows(calc, "2026-Q3")[0]["par30"] == 3_000


def test_the_loans_export_gives_every_loan_its_final_due_date_and_the_day_it_was_repaid(calc: Server) -> None:
    """Loan A fell due on 07-29 and was repaid on 10-05: the file left a repaid loan's final due date empty
    and had no day of repayment, so nobody could tell that A was repaid more than two months late."""
    text = calc.client.get("/v1/console/exports/loans?format=csv").text.lstrip("\ufeff")
    got = {(r["principal"], r["status"], r["due_date"], r["repaid_on"]) for r in csv.DictReader(io.StringIO(text))}
    assert got == {("3000", "repaid", "2026-07-29", "2026-10-05"), ("6000", "active", "2026-10-06", "")}
    page = calc.client.get("/exports/loans.csv").text.lstrip("\ufeff").splitlines()
    header = page[0].split(";")
    due, repaid = header.index("Échéance finale"), header.index("Remboursé le")
    assert {(r.split(";")[due], r.split(";")[repaid]) for r in page[1:]} == {
        ("2026-07-29", "2026-10-05"),
        ("2026-10-06", ""),
    }
