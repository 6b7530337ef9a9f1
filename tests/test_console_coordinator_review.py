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
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_console_support import World, login, served_world
from test_sync_support import BACKENDS

import sync_server
from sync_server.errors import SyncServerError
from sync_server.web.i18n import T

NBSP = "\u00a0"


@pytest.fixture(scope="module", params=BACKENDS)
def w(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from served_world(request.param, tmp_path_factory.mktemp("review"))


_SIGNED_IN: dict[tuple[int, str, str], TestClient] = {}  # logins are slow (argon2) and rate-limited


def _as(w: World, who: str = "admin", lang: str = "fr") -> TestClient:
    key = (id(w), who, lang)
    if key not in _SIGNED_IN:
        client = TestClient(w.client.app, base_url="http://testserver")
        assert login(client, who).status_code == 303
        client.cookies.set("lang", lang)
        _SIGNED_IN[key] = client
    return _SIGNED_IN[key]


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
