"""What a review of the console found, each pinned down: kiosks shared between scopes, cash discrepancies that
cancelled out, phone numbers quoted in CSV files, accent-sensitive search, empty tables, silent kiosks.

The world is the usual two kiosks (K01 Togo, K02 Benin) and two kiosks that each serve two groups:

- K05: "MUSO Avé de Kévé" (TG, Coopérative ELIKE) and "MUSO Kétou" (BJ, Coopérative Zou);
- K06: "MUSO Dzidzɔ de Kpalimé" (TG, Coopérative ELIKE) and "MUSO 100% Agbe" (TG, Coopérative Kloto),
  silent for 30 days.
"""

from __future__ import annotations

import copy
import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, insert, select, update
from test_console_support import World, benin_scenario, csrf_of, make_kiosk, served_world, signed_in, sync, token
from test_sync_support import BACKENDS

from kiosk.scenario import Runner
from sync_server.db import enrollment_codes, kiosk_keys, kiosks, now_ms, projections
from sync_server.security import code_hash
from sync_server.web import fleet

NBSP = "\u00a0"
SILENT_DAYS = 30


def _scenario(name: str, country: str, coop: str, village: str, weeks: int = 3, later: bool = False) -> dict[str, Any]:
    data = copy.deepcopy(benin_scenario(weeks=weeks))
    data["group"] = {"name": name, "country": country, "cooperative": coop, "village": village}
    if later:  # a second group on the same kiosk meets after the first's meetings
        for m in data["meetings"]:
            m["date"] = m["date"].replace("2026-05", "2026-08").replace("2026-06", "2026-09")
    return data


@pytest.fixture(scope="module", params=BACKENDS)
def w(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("fixes")
    for world in served_world(request.param, tmp):
        keve = _scenario("MUSO Avé de Kévé", "TG", "Coopérative ELIKE", "Kévé")
        keve["meetings"][1]["open_count"] = {"adjust": {"verte": -1000}}  # 1 000 F missing at opening...
        keve["meetings"][1]["close_count"] = {"adjust": {"verte": 1000}}  # ...and 1 000 F too many at closing
        k5, g5 = make_kiosk(tmp / "K05.db", "K05", keve)
        Runner(k5).run(_scenario("MUSO Kétou", "BJ", "Coopérative Zou", "Kétou", later=True))
        sync(world.server, k5, "K05")
        k6, g6 = make_kiosk(
            tmp / "K06.db", "K06", _scenario("MUSO Dzidzɔ de Kpalimé", "TG", "Coopérative ELIKE", "Kpalimé")
        )
        agbe = _scenario("MUSO 100% Agbe", "TG", "Coopérative Kloto", "Agou", later=True)
        agbe["meetings"][-1]["close"] = False  # left open since September: never counted, no receipts
        Runner(k6).run(agbe)
        sync(world.server, k6, "K06")
        world.kiosks |= {"K05": k5, "K06": k6}
        world.groups |= {"K05": g5, "K06": g6}
        long_ago = now_ms() - (SILENT_DAYS * 86_400_000 + 3_600_000)
        with world.server.engine.begin() as conn:  # K06 last pushed a month ago, enrolled before that
            conn.execute(update(kiosks).where(kiosks.c.kiosk_id == "K06").values(last_push_at=long_ago))
            conn.execute(update(kiosk_keys).where(kiosk_keys.c.kiosk_id == "K06").values(created_at=long_ago - 1))
            conn.execute(update(kiosks).where(kiosks.c.kiosk_id == "K05").values(printer_error="plus de papier"))
        yield world


_client = signed_in


_TOKENS: dict[tuple[int, str], dict[str, str]] = {}


def _auth(w: World, who: str) -> dict[str, str]:
    key = (id(w), who)
    if key not in _TOKENS:
        _TOKENS[key] = token(w.client, who)
    return _TOKENS[key]


def _codes(w: World, kiosk_id: str) -> int:
    with w.server.engine.connect() as conn:
        query = select(func.count()).select_from(enrollment_codes).where(enrollment_codes.c.kiosk_id == kiosk_id)
        return int(conn.scalar(query) or 0)


# -- 1. a kiosk serving groups of two scopes is no one coordinator's to re-enroll ------------------------

# kiosk -> who may create or revoke its codes (every group it serves in their scope)
MAY_ACT = {
    "K05": {"admin"},  # TG/ELIKE + BJ/Zou
    "K06": {"admin", "coord_tg"},  # TG/ELIKE + TG/Kloto
    "K01": {"admin", "coord_tg", "coord_coop"},  # TG/ELIKE alone
}
SEES = {  # ... and who sees it (one of its groups in scope): told why they may not act
    "K05": {"admin", "coord_tg", "coord_coop", "coord_bj"},
    "K06": {"admin", "coord_tg", "coord_coop"},
    "K01": {"admin", "coord_tg", "coord_coop"},
}
CONCERNED = ("admin", "coord_tg", "coord_coop", "coord_bj")


@pytest.mark.parametrize("replace", [True, False])
def test_codes_for_an_existing_kiosk_need_every_group_it_serves_in_scope(w: World, replace: bool) -> None:
    """A replacement code restores the kiosk's whole journal on a new device, every group's; one group in
    scope used to be enough. An ordinary code for an enrolled kiosk ends in a conflict once allowed."""
    for kiosk_id, allowed in MAY_ACT.items():
        for who in CONCERNED:
            before = _codes(w, kiosk_id)
            api = w.client.post(
                "/v1/admin/enrollments", json={"kiosk_id": kiosk_id, "replace": replace}, headers=_auth(w, who)
            )
            page = _client(w, who)
            form = {"csrf": csrf_of(page.get("/enrollments").text), "nonce": f"n-{who}-{kiosk_id}-{replace}-0123456789"}
            sent = page.post("/enrollments", data=form | {"kiosk_id": kiosk_id, "replace": "true" if replace else ""})
            where = f"{who} {kiosk_id} replace={replace}"
            if who not in allowed:
                assert api.status_code == sent.status_code == 403, where
                assert _codes(w, kiosk_id) == before, where  # nothing created
                if who in SEES[kiosk_id]:  # they see the kiosk on their pages: told why, and whom to ask
                    assert api.json()["detail"]["code"] == "kiosk_partly_outside_scope", where
                    assert "sert aussi des groupes hors de votre périmètre" in sent.text, where
            elif replace:
                assert api.status_code == 201 and sent.status_code == 200, where
                assert "Code pour" in sent.text and _codes(w, kiosk_id) == before + 2, where
            else:
                assert api.status_code == sent.status_code == 409, where  # already enrolled: the check let it by


def test_a_code_for_a_shared_kiosk_is_listed_but_only_its_whole_scope_may_revoke_it(w: World) -> None:
    admin = w.client.post("/v1/admin/enrollments", json={"kiosk_id": "K05", "replace": True}, headers=_auth(w, "admin"))
    assert admin.status_code == 201
    handle = fleet.handle(w.server.settings.secret_key.get_secret_value(), code_hash(admin.json()["code"]))
    for who in ("coord_tg", "coord_coop"):
        page = _client(w, who)
        listing = page.get("/enrollments").text
        assert "K05" in listing  # they see the kiosk (one of its groups is theirs)...
        assert f"/enrollments/{handle}/revoke" not in listing  # ...but are offered no button, and told why
        assert "révocable par un administrateur" in listing
        refused = page.post(f"/enrollments/{handle}/revoke", data={"csrf": csrf_of(listing)}, follow_redirects=False)
        assert refused.status_code == 403, who
        assert "sert aussi des groupes hors de votre périmètre" in refused.text
    boss = _client(w, "admin")
    listing = boss.get("/enrollments").text
    assert f"/enrollments/{handle}/revoke" in listing  # still waiting: nobody revoked it
    done = boss.post(f"/enrollments/{handle}/revoke", data={"csrf": csrf_of(listing)}, follow_redirects=False)
    assert done.status_code == 303


def test_a_kiosk_with_no_group_yet_still_goes_by_its_declared_place(w: World) -> None:
    created = w.client.post(
        "/v1/admin/enrollments", json={"kiosk_id": "K40", "country": "TG"}, headers=_auth(w, "coord_tg")
    )
    assert created.status_code == 201
    again = w.client.post("/v1/admin/enrollments", json={"kiosk_id": "K40"}, headers=_auth(w, "coord_tg"))
    assert again.status_code == 201  # pending, in their country: a second code is fine
    assert "K40" in _client(w, "coord_tg").get("/enrollments").text
    bj = w.client.post("/v1/admin/enrollments", json={"kiosk_id": "K40"}, headers=_auth(w, "coord_bj"))
    assert bj.status_code == 403 and bj.json()["detail"]["code"] == "kiosk_outside_scope"


# -- 2. a shortfall at opening and a surplus at closing are two faults, not zero -----------------------


def _flat(html: str) -> str:
    """The page's text as read: tags out, no-break spaces as spaces."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html).replace(NBSP, " "))


def test_opening_and_closing_discrepancies_are_shown_apart(w: World) -> None:
    page = _flat(_client(w, "admin").get(w.group_url("K05")).text)
    assert "Ouverture : Caisse verte -1 000 F" in page
    assert "Clôture : Caisse verte +1 000 F" in page
    assert "Caisse verte 0 F" not in page
    en = _flat(_client(w, "admin", "en").get(w.group_url("K05")).text)
    assert "Opening: Green fund -1 000 F" in en and "Closing: Green fund +1 000 F" in en
    api = w.client.get("/v1/console" + w.group_url("K05"), headers=_auth(w, "admin"))
    found = [m["discrepancy"] for m in api.json()["meetings"] if m["discrepancy"]["open"] or m["discrepancy"]["close"]]
    assert found == [{"open": {"verte": -1000}, "close": {"verte": 1000}}]


def test_the_meetings_export_has_a_column_per_moment_and_fund(w: World) -> None:
    group = f"K05/{w.groups['K05']}"
    fr = _client(w, "admin").get(f"/exports/meetings.csv?group={group}").text.lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(fr), delimiter=";"))
    head = rows[0]
    opening, closing = (
        head.index("Écart caisse verte à l'ouverture (F)"),
        head.index("Écart caisse verte à la clôture (F)"),
    )
    assert [(r[opening], r[closing]) for r in rows[1:] if r[opening] != "0" or r[closing] != "0"] == [("-1000", "1000")]
    auth = _auth(w, "admin")
    api = w.client.get(f"/v1/console/exports/meetings?format=csv&group={group}", headers=auth).text.lstrip("\ufeff")
    raw = list(csv.DictReader(io.StringIO(api)))
    assert [k for k in raw[0] if k.startswith("discrepancy")] == [
        f"discrepancy_{when}_{fund}" for when in ("open", "close") for fund in ("verte", "rouge", "bleue")
    ]
    moved = [r for r in raw if r["discrepancy_open_verte"] != "0" or r["discrepancy_close_verte"] != "0"]
    assert [(r["discrepancy_open_verte"], r["discrepancy_close_verte"]) for r in moved] == [("-1000", "1000")]
    xlsx = w.client.get(f"/v1/console/exports/meetings?format=xlsx&group={group}", headers=auth)
    sheet = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    at = sheet[0].index("discrepancy_open_verte"), sheet[0].index("discrepancy_close_verte")
    assert [(r[at[0]], r[at[1]]) for r in sheet[1:] if r[at[0]] or r[at[1]]] == [(-1000, 1000)]


# -- 3. a phone number is not a formula -------------------------------------------------------------


def test_phone_numbers_are_exported_as_they_are_and_formulas_still_as_text() -> None:
    from sync_server.web.exports import csv_chunks

    phones = ["+22890132333", "+228 90 13 23 33", "90 13 23 33", "+228"]
    formulas = [
        '=HYPERLINK("http://evil.example","x")',
        "-1+1",
        "@SUM(1)",
        "+1+1",
        "+cmd|' /C calc'!A0",
        "+",
        "+ ",
        "\t9",
    ]
    rows = [(v,) for v in phones + formulas]
    for lang in ("fr", None):
        text = "".join(csv_chunks(("phone",), iter(rows), lang)).lstrip("\ufeff")
        read = [r[0] for r in csv.reader(io.StringIO(text), delimiter=";" if lang else ",")][1:]
        assert read == phones + ["'" + v for v in formulas], lang


def test_the_members_exports_carry_phone_numbers_unquoted(w: World) -> None:
    group = f"K01/{w.groups['K01']}"
    fr = _client(w, "admin").get(f"/exports/members.csv?group={group}").text.lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(fr), delimiter=";"))
    phones = {r[rows[0].index("Téléphone")] for r in rows[1:]} - {""}
    assert phones and all(p.startswith("+228") for p in phones), phones  # no quote in front
    auth = _auth(w, "admin")
    api = w.client.get(f"/v1/console/exports/members?format=csv&group={group}", headers=auth).text.lstrip("\ufeff")
    assert {r["phone"] for r in csv.DictReader(io.StringIO(api))} - {""} == phones
    xlsx = w.client.get(f"/v1/console/exports/members?format=xlsx&group={group}", headers=auth)
    sheet = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    at = sheet[0].index("phone")
    assert {r[at] for r in sheet[1:]} - {None} == phones  # as before: text, as typed


# -- 4. search: accents and case folded, wildcards typed are letters --------------------------------


@pytest.mark.parametrize(
    ("q", "names"),
    [
        ("elikem", ["MUSO Élikem de Bolou"]),
        ("ÉLIKEM", ["MUSO Élikem de Bolou"]),
        ("seme", ["MUSO Sèmè de Bohicon"]),
        ("dzidzo", ["MUSO Dzidzɔ de Kpalimé"]),
        ("kpalime", ["MUSO Dzidzɔ de Kpalimé"]),  # the name and the village
        ("keve", ["MUSO Avé de Kévé"]),
        ("%", ["MUSO 100% Agbe"]),
        ("0%", ["MUSO 100% Agbe"]),
        ("_", []),
        ("k05", ["MUSO Avé de Kévé", "MUSO Kétou"]),
    ],
)
def test_group_search_folds_accents_and_case_and_takes_wildcards_literally(w: World, q: str, names: list[str]) -> None:
    auth = _auth(w, "admin")
    found = w.client.get("/v1/console/groups", params={"q": q}, headers=auth).json()
    assert sorted(g["name"] for g in found["groups"]) == sorted(names) and found["total"] == len(names)
    page = _client(w, "admin").get("/groups", params={"q": q}).text
    assert (f"{len(names)} groupe" if len(names) < 2 else f"{len(names)} groupes") in page
    assert all(name in page for name in names)


# -- 5. an empty table says so -----------------------------------------------------------------------


def test_empty_tables_say_so_in_both_languages(w: World) -> None:
    fr, en = _client(w, "admin"), _client(w, "admin", "en")
    assert "Aucun groupe ne correspond à cette recherche." in fr.get("/groups?q=zzzz").text
    assert "No group matches this search." in en.get("/groups?q=zzzz").text
    assert "Aucun groupe dans votre périmètre." in _client(w, "nobody").get("/groups").text
    assert "Aucune séance." in fr.get(w.group_url("K01") + "?mp=999").text
    assert "No meeting." in en.get(w.group_url("K01") + "?mp=999").text
    assert "Aucune séance." not in fr.get(w.group_url("K01")).text
    members = projections["members"]
    with w.server.engine.begin() as conn:  # a member who joined and has not paid anything yet
        row = dict(conn.execute(select(members).where(members.c.kiosk_id == "K01")).mappings().first() or {})
        conn.execute(insert(members).values(row | {"member_id": "new-member", "number": 99, "name": "Kossi Nouveau"}))
    url = w.group_url("K01") + "/members/new-member"
    assert "Aucun mouvement." in fr.get(url).text and "No movement." in en.get(url).text
    assert "Aucun mouvement." not in fr.get(w.group_url("K01") + "/members/" + row["member_id"]).text


# -- 6. a silent kiosk's groups say their figures are old ------------------------------------------------


def test_a_silent_kiosk_s_groups_say_their_figures_stop_at_its_last_sync(w: World) -> None:
    fr, en = _client(w, "admin"), _client(w, "admin", "en")
    with w.server.engine.connect() as conn:
        last = conn.scalar(select(kiosks.c.last_push_at).where(kiosks.c.kiosk_id == "K06"))
    from datetime import UTC, datetime

    day = datetime.fromtimestamp(last / 1000, UTC).date()
    page = _flat(fr.get(w.group_url("K06")).text)
    assert f"Kiosque muet depuis {SILENT_DAYS} j : chiffres au {day:%d/%m/%Y}." in page
    assert f"Kiosk silent for {SILENT_DAYS} d: figures as of {day.isoformat()}." in _flat(
        en.get(w.group_url("K06")).text
    )
    assert "Kiosque muet" not in fr.get(w.group_url("K01")).text
    listing = fr.get("/groups").text
    rows = re.findall(r'<tr><td><a href="/groups/(K\d+)/[^"]+">[^<]*</a>(.*?)</tr>', listing)
    assert {k for k, _ in rows} == {"K01", "K02", "K05", "K06"}
    assert {k for k, rest in rows if ">muet</span>" in rest} == {"K06"}
    api = w.client.get("/v1/console/groups", headers=_auth(w, "admin")).json()["groups"]
    assert {g["kiosk_id"] for g in api if g["silent"]} == {"K06"}
    one = w.client.get("/v1/console" + w.group_url("K06"), headers=_auth(w, "admin")).json()
    assert one["silence"]["days"] == SILENT_DAYS
    assert w.client.get("/v1/console" + w.group_url("K01"), headers=_auth(w, "admin")).json()["silence"] is None


# -- 7. what needs a coordinator at once, on the overview ------------------------------------------------


def test_the_overview_flags_printers_in_trouble_quarantined_events_and_meetings_left_open(w: World) -> None:
    figures = _client(w, "admin").get("/v1/console/overview").json()
    assert figures["figures"]["printers_down"] == 1  # K05: out of paper
    assert figures["figures"]["stale_meetings"] == 1
    [stale] = figures["stale"]
    assert stale["name"] == "MUSO 100% Agbe" and stale["kiosk_id"] == "K06"
    page = _client(w, "coord_tg").get("/").text
    assert "Imprimantes en panne" in page and "Séances ouvertes &gt; 7 j" in page
    assert f'href="/groups/K06/{stale["group_id"]}">MUSO 100% Agbe</a>' in page
    # Out of scope, out of sight: Benin's coordinator sees K05's printer (one of its groups is theirs),
    # not the Togolese group's open meeting.
    bj = _client(w, "coord_bj").get("/v1/console/overview").json()
    assert bj["figures"]["printers_down"] == 1 and bj["figures"]["stale_meetings"] == 0 and bj["stale"] == []
