"""End to end in headless Chromium (Playwright driving Debian's ``chromium``) against ``muso-server serve``.

Log in, open a group, download an Excel export and read it back, verify a real receipt and a forged
one — as a coordinator would, over HTTP on loopback. The same run takes a screenshot of every page at
phone (390 px) and laptop (1280 px) widths; with ``MUSO_CONSOLE_SCREENSHOTS=1`` they are written to
``docs/screenshots/console/`` (otherwise to a temporary folder, so the run still proves they render).

Skips with the reason when /usr/bin/chromium or the playwright package is missing (CI installs both:
deploy/dev.sh and pyproject's dev extra). Never ``playwright install``: it downloads a browser.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from test_console_support import PASSWORD, world
from test_sync_support import ROOT, LiveServer, server_db

from sync_server import enrollment

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None  # type: ignore[assignment]

pytestmark = [
    pytest.mark.skipif(sync_playwright is None, reason="the playwright package is missing (pip install -e .[dev])"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]


@dataclass
class Site:
    base: str
    groups: dict[str, str]
    receipts: list[dict[str, Any]]
    reports: list[dict[str, Any]]  # the treasurer's procès-verbaux


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("e2e")
    db = server_db("sqlite", tmp)
    with world(db, tmp) as w:  # kiosks built and synced through the real client, then the app stops
        groups, receipts, reports = dict(w.groups), w.receipts("K01"), w.receipts("K01", kind="report")
        # A kiosk on its way: its code waits, with the groups it will set up (the enrollment codes page).
        enrollment.create_enrollment(
            w.server.engine, "K03", created_by="coord_tg", hours=72, name="Kiosque d'Agou", country="TG",
            cooperative="Coopérative ELIKE", groups=["MUSO Dzidudu d'Agou", "MUSO Mawuli de Kpodzi"],
        )  # fmt: skip
    live = LiveServer(db.url, {})
    live.start()
    try:
        yield Site(live.base, groups, receipts, reports)
    finally:
        live.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _page(browser: Browser, site: Site, width: int = 1280, height: int = 900) -> Page:
    context = browser.new_context(
        base_url=site.base, viewport={"width": width, "height": height}, accept_downloads=True, locale="fr-FR"
    )
    context.set_default_timeout(15_000)
    return context.new_page()


def _login(page: Page, username: str = "admin") -> None:
    page.goto("/")
    assert "/login" in page.url  # not signed in: sent to the form
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def test_log_in_open_a_group_and_read_its_excel_export_back(browser: Browser, site: Site) -> None:
    page = _page(browser, site)
    _login(page, "coord_tg")
    assert page.inner_text("h1") == "Vue d'ensemble"
    page.click("text=Groupes")
    page.click("text=MUSO Élikem de Bolou")
    assert page.inner_text("h1") == "MUSO Élikem de Bolou"
    assert page.locator("table").count() >= 4 and "Ɖɔvi Ahouansou" in page.content()
    with page.expect_download() as info:
        page.click("a[href^='/exports/members.xlsx']")
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    data = Path(download.path()).read_bytes()
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("Kiosque", "Groupe", "N°", "Nom") and len(rows) == 25
    assert {r[3] for r in rows[1:]} >= {"Afi Mensah", "Ɖɔvi Ahouansou"}
    # the Benin group does not exist for a coordinator of Togo
    response = page.goto(f"/groups/K02/{site.groups['K02']}")
    assert response is not None and response.status == 404
    page.context.close()


def test_verify_a_real_receipt_and_a_forged_one(browser: Browser, site: Site) -> None:
    real = next(r for r in site.receipts if r["movements"])
    page = _page(browser, site, 390, 844)
    _login(page, "admin")
    page.goto(real["verify_url"].replace("http://testserver", ""))  # what scanning the QR opens
    assert "Code authentique" in page.inner_text(".verdict")
    assert real["member"]["name"] in page.content()
    page.goto("/verify")
    page.fill("input[name=number]", real["number"])
    forged = real["code"][:-1] + ("A" if real["code"][-1] != "A" else "B")
    page.fill("input[name=code]", forged)
    page.click("button:has-text('Vérifier')")
    assert "Ne correspond pas" in page.inner_text(".verdict")
    page.fill("input[name=code]", real["code"])
    page.click("button:has-text('Vérifier')")
    assert "Code authentique" in page.inner_text(".verdict")
    page.context.close()


def test_a_procès_verbal_s_check_shows_every_count_on_a_phone(browser: Browser, site: Site) -> None:
    """Four counts a box side by side ran off a 360 px screen: the closing count, where a shortfall
    shows, was the one cut off."""
    page = _page(browser, site, 360, 640)
    page.goto(site.reports[-1]["verify_url"].replace("http://testserver", ""))
    assert "Code authentique" in page.inner_text(".verdict")
    table = page.locator("table.cash")
    assert "Clôture, compté" in table.inner_text()
    fits = table.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth")
    assert fits, table.evaluate("t => [t.scrollWidth, t.parentElement.clientWidth]")
    page.context.close()


def _off_screen(page: Page, selector: str) -> list[str]:
    """The texts of the elements matching ``selector`` that end past the window's right edge, or are empty
    handed: a thing one must scroll sideways to see."""
    found: list[str] = page.locator(selector).evaluate_all(
        """(els, width) => els.filter(e => { const r = e.getBoundingClientRect();
               return r.width === 0 || r.right > width; }).map(e => e.textContent.trim())""",
        page.evaluate("document.documentElement.clientWidth"),
    )
    return found


def _too_wide(page: Page) -> list[tuple[int, int, str]]:
    """Each table wider than its box (what scrolls sideways), with the heading above it."""
    found: list[tuple[int, int, str]] = page.evaluate(
        """() => [...document.querySelectorAll('table')].filter(t => t.scrollWidth > t.parentElement.clientWidth)
            .map(t => [t.scrollWidth, t.parentElement.clientWidth,
                       (t.closest('.scroll') || t).previousElementSibling?.textContent.slice(0, 40) || ''])"""
    )
    return found


def test_at_phone_width_no_table_scrolls_sideways(browser: Browser, site: Site) -> None:
    """At 360 px the users' table was 440 px in a 338 px box: the Changer and Désactiver buttons, an
    enrollment code's Révoquer and 'Utilisé le…', a correction's amount and reason, a loan's state all lay
    off the screen. On a phone, those tables are read as cards."""
    page = _page(browser, site, 360, 640)
    _login(page, "admin")
    group = f"/groups/K01/{site.groups['K01']}"
    page.goto(group)
    borrower = page.locator("table").first.locator("a[href*='/members/']").first.get_attribute("href")
    assert borrower
    wants = {
        "/users": ["button:has-text('Changer')", "button:has-text('Désactiver')", "button:has-text('Enregistrer')"],
        "/enrollments": ["button:has-text('Révoquer')", "td:has-text('Utilisé')"],
        group: ["table.corrections td[data-label=Montant]", "table.corrections td[data-label=Motif]"],
        borrower: ["table.loans td[data-label='État']", "table.loans td[data-label='Échéance finale']", "td.out"],
        "/kiosks": ["summary:has-text('Révoquer')"],
    }
    for url, selectors in wants.items():
        page.goto(url)
        assert _too_wide(page) == [], (url, _too_wide(page))
        for selector in selectors:
            assert page.locator(selector).count() > 0, (url, selector)
            assert _off_screen(page, selector) == [], (url, selector, _off_screen(page, selector))
    for url in ("/", "/groups", "/exports", "/verify", site.reports[-1]["verify_url"].replace("http://testserver", "")):
        page.goto(url)
        assert _too_wide(page) == [], (url, _too_wide(page))
    page.context.close()


PAGES = [
    ("overview", "/"),
    ("groups", "/groups"),
    ("group", "{group}"),
    ("member", "{member}"),
    ("kiosks", "/kiosks"),
    ("enrollments", "/enrollments"),
    ("users", "/users"),
    ("exports", "/exports"),
    ("verify", "{receipt}"),
    ("verify-forged", "/verify?number={number}&code=AAAAA-AAAAA"),
    ("verify-pv", "{pv}"),
]


def test_screenshots_of_every_page(browser: Browser, site: Site, tmp_path: Path) -> None:
    out = ROOT / "docs" / "screenshots" / "console" if os.environ.get("MUSO_CONSOLE_SCREENSHOTS") else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    real = next(r for r in site.receipts if r["movements"])
    group = f"/groups/K01/{site.groups['K01']}"
    for width, height, suffix in ((1280, 900, "laptop"), (390, 844, "phone")):
        page = _page(browser, site, width, height)
        page.goto("/login")
        page.screenshot(path=str(out / f"login-{suffix}.png"), full_page=True)
        _login(page, "admin")
        page.goto(group)
        member = page.locator("a[href*='/members/']").first.get_attribute("href")
        for name, template in PAGES:
            url = template.format(
                group=group,
                member=member,
                receipt=real["verify_url"].replace("http://testserver", ""),
                number=real["number"],
                pv=site.reports[-1]["verify_url"].replace("http://testserver", ""),
            )
            response = page.goto(url)
            assert response is not None and response.status == 200, url
            page.screenshot(path=str(out / f"{name}-{suffix}.png"), full_page=True)
        page.goto("/lang/en?next=/")
        page.screenshot(path=str(out / f"overview-en-{suffix}.png"), full_page=True)
        page.context.close()
    shots = sorted(p.name for p in out.glob("*.png"))
    assert len(shots) == 2 * (len(PAGES) + 2), shots
    if out == tmp_path:
        shutil.rmtree(out, ignore_errors=True)
