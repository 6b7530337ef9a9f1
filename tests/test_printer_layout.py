"""Receipt layouts and their ESC/POS bytes: golden files, letters, columns and sums."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from printer.blocks import Line, Qr, wrap
from printer.escpos_out import Style, as_text, render
from printer.layout import layout
from printer.samples import DOCS
from printer.test_page import EWE_FON_LETTERS, FRENCH_LETTERS, TONES, self_test_page
from printer.text import encode, printable

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("MUSO_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("width", [32, 48])
@pytest.mark.parametrize("kind", sorted(DOCS))
def test_golden_bytes(kind: str, width: int) -> None:
    """Byte-exact output through python-escpos' Dummy; MUSO_UPDATE_GOLDEN=1 rewrites after a deliberate change."""
    data = render(layout(DOCS[kind](), width), Style(width=width))
    path = GOLDEN / f"{kind}_{width}.bin"
    if UPDATE:
        path.write_bytes(data)
        (GOLDEN / f"{kind}_{width}.txt").write_text(as_text(layout(DOCS[kind](), width), width), encoding="utf-8")
    assert data == path.read_bytes()


def test_every_job_starts_with_init_and_one_code_page_and_ends_with_a_cut() -> None:
    data = render(layout(DOCS["member"](), 32), Style(width=32))
    assert data.startswith(b"\x1b@\x1bt\x10")  # ESC @, then ESC t 16 (WPC1252)
    assert data.count(b"\x1bt") == 1  # no automatic page switching
    assert b"\x1d(k" in data  # native QR
    assert data.rstrip(b"\x00").endswith(b"\x1dVA") or b"\x1dV" in data[-8:]
    slot = render(layout(DOCS["member"](), 32), Style(width=32, codepage="cp858", codepage_slot=53))
    assert slot.startswith(b"\x1b@\x1bt\x35")


@pytest.mark.parametrize("letter", list(FRENCH_LETTERS))
def test_every_french_letter_prints_as_itself(letter: str) -> None:
    doc = DOCS["member"]()
    doc["member"]["name"] = f"Test {letter}"
    data = render(layout(doc, 32), Style(width=32))
    assert f"Test {letter}".encode("cp1252") in data
    assert printable(letter) == letter


@pytest.mark.parametrize("letter", list(EWE_FON_LETTERS + TONES))
def test_ewe_and_fon_letters_print_legibly_never_as_a_question_mark(letter: str) -> None:
    shown = printable(letter)
    assert shown and "?" not in shown and shown.isalpha()
    assert encode(letter) == shown.encode("cp1252")
    for codepage in ("cp850", "cp858"):
        assert "?" not in printable(letter, codepage)
        printable(letter, codepage).encode(codepage)


def test_names_keep_their_shape() -> None:
    assert printable("Ɖɔvi Ahouansou") == "Dovi Ahouansou"
    assert printable("Ablavi Ŋuɖe") == "Ablavi Ngude"
    assert printable("Enyonam Ʋɔdzi") == "Enyonam Vodzi"
    assert printable("Kɔ́mi Adzɔ̀vi") == "Komi Adzovi"  # tone marks on letters the page lacks are dropped
    assert printable("Sèna Hounkpè") == "Sèna Hounkpè"  # …but kept where the page has the letter
    assert printable("12\u202f500\u00a0F\u202fCFA") == "12 500 F CFA"  # CLDR's spaces are not on paper


AMOUNT = re.compile(r"(-?\d{1,3}(?: \d{3})*) FCFA$")


def _amount(line: str) -> int:
    match = AMOUNT.search(line)
    assert match, line
    return int(match.group(1).replace(" ", ""))


@pytest.mark.parametrize("width", [32, 42, 48])
@pytest.mark.parametrize("kind", sorted(DOCS))
def test_no_line_is_wider_than_the_paper(kind: str, width: int) -> None:
    text = as_text(layout(DOCS[kind](), width), width)
    assert all(len(line) <= width for line in text.splitlines()), text


@pytest.mark.parametrize("width", [32, 48])
def test_member_receipt_totals_add_up(width: int) -> None:
    lines = as_text(layout(DOCS["member"](), width), width).splitlines()
    marks = [lines.index(f"{title} :") for title in ("Vous avez versé", "Vous avez reçu", "Corrections")]
    rule = next(i for i in range(marks[-1], len(lines)) if lines[i].startswith("---"))
    paid, received, corrected = (
        [_amount(ln) for ln in lines[a:b] if AMOUNT.search(ln) and not ln.startswith("   ")]
        for a, b in zip(marks, [*marks[1:], rule], strict=True)
    )
    total_paid = next(ln for ln in lines if ln.startswith("TOTAL VERSÉ"))
    total_received = next(ln for ln in lines if ln.startswith("TOTAL REÇU"))
    assert paid == [1000, 200, 200, 5355] and corrected == [-1000]  # a contribution entered twice
    assert sum(paid) + sum(corrected) == _amount(total_paid) == 5755
    assert sum(received) == _amount(total_received) == 10000
    # The lines under "Vous avez versé" add up to 6 755: the paper says the total is after the correction.
    assert lines[lines.index(total_received) + 1].strip() == "corrections déduites"
    plain = DOCS["member"]() | {"movements": [m for m in DOCS["member"]()["movements"] if m["kind"] != "reversal"]}
    assert "corrections déduites" not in as_text(layout(plain, width), width)
    # every amount is right-aligned on the paper's edge
    assert all(len(ln) == width for ln in lines if AMOUNT.search(ln) and not ln.startswith("   "))


def _receipt_of(*movements: dict[str, Any]) -> str:
    return as_text(layout(DOCS["member"]() | {"movements": list(movements)}, 32), 32)


def test_a_correction_alone_never_prints_a_negative_total() -> None:
    # An entry fee cancelled at a later meeting: the money goes back to the member.
    fee = {"kind": "reversal", "of": "entry_fee", "fund": "verte", "amount": -800, "flow": "in", "detail": {}}
    text = _receipt_of(fee | {"of_date": "2026-03-02", "reason": "adhésion en double"})
    flat = " ".join(text.split())
    assert "Corrections : ANNULATION Droit d'adhésion (verte) du 02/03/2026 -800 FCFA" in flat
    assert re.search(r"TOTAL VERSÉ +0 FCFA", text) and re.search(r"TOTAL REÇU +800 FCFA", text)
    # A loan cancelled: the member hands its cash back.
    loan = {"kind": "reversal", "of": "loan", "fund": "verte", "amount": -9000, "flow": "out", "detail": {}}
    text = _receipt_of(loan)
    assert re.search(r"TOTAL VERSÉ +9 000 FCFA", text) and "TOTAL REÇU" not in text  # nothing received: no line
    assert " du " not in text.split("Corrections :")[1].splitlines()[1]  # a job queued before of_date: no date


def test_what_is_late_and_who_recorded_it_are_said_plainly() -> None:
    doc = DOCS["member"]()
    doc["balances"] |= {"late": 9270, "next_due": None}
    text = as_text(layout(doc, 32), 32)
    assert re.search(r"Capital restant dû +10 000 FCFA", text) and re.search(r"EN RETARD, à payer +9 270 FCFA", text)
    assert "Saisi par : Kossi Agbéko" in text and "Trésorier" not in text
    opened = as_text(layout(DOCS["member"]() | {"movements": [], "officer_as": "opened"}, 32), 32)
    assert "Séance ouverte par : Kossi Agbéko" in " ".join(opened.split())
    legacy = DOCS["member"]()  # a job queued by the previous version keeps its words
    del legacy["officer_as"], legacy["balances"]["late"]
    assert "Trésorier : Kossi Agbéko" in as_text(layout(legacy, 32), 32)
    assert "Vos soldes à ce jour :" in as_text(layout(DOCS["member"]() | {"per_movement": True}, 32), 32)


def test_meeting_report_cash_adds_up() -> None:
    doc = DOCS["report"]()
    for f in doc["funds"].values():
        assert f["opening_counted"] + f["in"] - f["out"] == f["closing_expected"]
    text = as_text(layout(doc, 32), 32)
    verte, rouge = text.split("CAISSE VERTE")[1].split("CAISSE ROUGE")
    assert verte.split("Clôture, compté")[1].splitlines()[1] == " Écart à la clôture    -500 FCFA"
    assert "Écart à l'ouverture" not in verte
    # The caisse rouge's 100 F over were found at opening: said there, not under its closing.
    assert rouge.splitlines()[1:4] == [
        " Ouverture, compté   80 100 FCFA",
        "   attendu           80 000 FCFA",
        " Écart à l'ouverture   +100 FCFA",
    ]
    assert "Écart à la clôture" not in rouge
    assert "CAISSE BLEUE" not in text  # an empty box is not printed


def test_an_error_at_opening_and_its_opposite_at_closing_are_both_on_the_procès_verbal() -> None:
    # 100 F too many counted at opening, 100 F missing at closing: summed, they printed no line at all.
    doc = DOCS["report"]()
    doc["funds"]["rouge"] |= {
        "opening_expected": 94600,
        "opening_counted": 94700,
        "in": 6000,
        "out": 10000,
        "closing_expected": 90700,
        "closing_counted": 90600,
    }
    for width in (32, 48):
        lines = _lines(doc, width)
        lines = lines[lines.index("CAISSE ROUGE") :]
        opening = next(i for i, line in enumerate(lines) if line.startswith(" Écart à l'ouverture"))
        closing = next(i for i, line in enumerate(lines) if line.startswith(" Écart à la clôture"))
        assert lines[opening].endswith(" +100 FCFA") and lines[opening - 1].strip().startswith("attendu")
        assert lines[closing].endswith(" -100 FCFA") and lines[closing - 1].startswith(" Clôture, compté")
        assert "ÉCART" not in "\n".join(lines)


def test_duplicata_is_marked() -> None:
    blocks = layout(DOCS["member"](), 32, duplicate=True)
    assert Line("*** DUPLICATA ***", "center", bold=True, big=True) in blocks
    assert b"DUPLICATA" in render(blocks, Style(width=32))
    assert "DUPLICATA" not in as_text(layout(DOCS["member"](), 32), 32)


def test_bold_survives_a_change_of_size() -> None:
    # ESC ! (the size) clears bold on the printer: a bold title after a bold line must say bold again.
    for before in (Line("a"), Line("a", bold=True)):
        data = render([before, Line("TITLE", bold=True, big=True), Line("b", bold=True)], Style(width=32))
        for text in (b"TITLE\n", b"b\n"):
            head = data[: data.index(text)]
            assert head.rindex(b"\x1bE\x01") > head.rindex(b"\x1b!"), (before, text)


def test_qr_only_when_a_server_is_configured() -> None:
    assert any(isinstance(b, Qr) for b in layout(DOCS["member"](), 32))
    doc = DOCS["member"]() | {"verify_url": None}
    assert not any(isinstance(b, Qr) for b in layout(doc, 32))
    assert b"\x1d(k" not in render(layout(doc, 32), Style(width=32))
    assert "Vérifier sur" not in as_text(layout(doc, 32), 32)


@pytest.mark.parametrize(
    ("url", "site"),
    [
        ("https://muso.ong.tg/v/K07-000123/ABCDEFGHJK", "muso.ong.tg/verify"),
        ("https://ong.example.org/muso/v/K07-000123/ABCDEFGHJK", "ong.example.org/muso/verify"),  # behind a prefix
        ("http://192.168.1.20:8000/v/K07-000123/ABCDEFGHJK", "192.168.1.20:8000/verify"),
    ],
)
def test_the_paper_says_where_to_check_it_by_hand(url: str, site: str) -> None:
    """A smudged QR code, or no phone to scan it with: the member types the number and code on this page."""
    for width in (32, 48):
        text = as_text(layout(DOCS["member"]() | {"verify_url": url}, width), width)
        joined = "".join(line.strip() for line in text.splitlines()).replace(" ", "")  # a long address wraps
        assert f"Vérifiersur{site}" in joined


def test_a_typical_receipt_fits_in_a_kilobyte_and_renders_fast() -> None:
    doc = DOCS["member"]()
    doc["movements"] = doc["movements"][:2]  # a typical week: the two standard contributions
    data = render(layout(doc, 32), Style(width=32))
    assert len(data) <= 1024, len(data)
    start = time.perf_counter()
    for _ in range(50):
        render(layout(doc, 32), Style(width=32))
    assert (time.perf_counter() - start) / 50 < 0.05  # generous: the benchmark measures the real figure


def test_the_test_page_shows_every_letter_and_width() -> None:
    for width in (32, 42, 48):
        text = as_text(self_test_page(width), width)
        assert all(len(line) <= width for line in text.splitlines())
        assert "Dovi Ahouansou" in text and "cœur" in text
        assert f"{width:<3}" in text


def test_bad_width_is_refused() -> None:
    with pytest.raises(ValueError, match="width"):
        layout(DOCS["member"](), 40)


def _lines(doc: dict[str, Any], width: int) -> list[str]:
    return as_text(layout(doc, width), width).splitlines()


@pytest.mark.parametrize("width", [32, 42, 48])
def test_an_amount_a_rate_or_a_duration_is_never_split_across_lines(width: int) -> None:
    # The reviewer's cases: "pénalité 2" / "335 FCFA", "PAF fixe 2,00" / "%/mois", "Kpodar, 6" / "mois".
    member = DOCS["member"]()
    repayment = {"kind": "repayment", "fund": "verte", "amount": 142335, "flow": "in"}
    member["movements"] = [repayment | {"detail": {"principal": 115000, "paf": 25000, "penalty": 2335}}]
    lines = _lines(member, width)
    for part in ("capital 115 000 FCFA", "PAF 25 000 FCFA", "pénalité 2 335 FCFA"):
        assert any(part in line for line in lines), (part, lines)
    schedule = DOCS["schedule"]()
    schedule["loan"] |= {"principal": 1250000, "paf_total": 150000, "term_months": 6}
    lines = _lines(schedule, width)
    assert any("2,00 %/mois" in line for line in lines) and any(line.endswith(" 6 mois") for line in lines)
    report = DOCS["report"]()
    report["loans"] = [{"member": "n° 7 Komlanvi Sénamé Kpodar", "amount": 1250000, "term_months": 6, "fund": "verte"}]
    lines = _lines(report, width)
    assert any("6 mois" in line for line in lines)
    for doc in (member, schedule, report):  # and no line begins with the tail of a number
        assert not any(re.match(r" *(\d{3} FCFA|mois|%)", line) for line in _lines(doc, width))


def test_the_spaces_that_hold_an_amount_together_print_as_plain_spaces() -> None:
    assert wrap("pénalité\u00a02\u00a0335\u00a0FCFA et plus", 20) == ["pénalité\u00a02\u00a0335\u00a0FCFA", "et plus"]
    assert wrap("a\tb\nc  d", 3) == ["a b", "c d"]  # any other space still breaks, as before
    doc = DOCS["member"]()
    data = render(layout(doc, 32), Style(width=32))
    assert b"\xa0" not in data and b"5 355 FCFA" in data  # cp1252 has U+00A0: it must not reach the printer
    assert "\u00a0" not in as_text(layout(doc, 32), 32)


def test_several_loans_due_the_same_day_are_said_so() -> None:
    for kind, indent in (("member", " "), ("statement", "")):
        doc = DOCS[kind]()
        doc["balances"]["next_due"] = {"amount": 12265, "date": "2026-02-12", "loans": 2}
        lines = _lines(doc, 32)
        i = next(i for i, line in enumerate(lines) if line.startswith(f"{indent}Prochaine échéance"))
        assert lines[i + 1 : i + 3] == [f"{indent}le 12/02/2026".ljust(21) + "12 265 FCFA", f"{indent}  pour 2 prêts"]
        doc["balances"]["next_due"]["loans"] = 1
        assert "pour" not in as_text(layout(doc, 32), 32)


def test_a_relevé_cut_short_says_so_and_carries_the_balances() -> None:
    doc = DOCS["statement"]()
    text = as_text(layout(doc, 32), 32)
    assert "(6 derniers mouvements)" in text
    savings = (
        "ÉPARGNE (caisse verte)\n"
        " Reporté du 29/06/26 18 000 FCFA\n"
        " 06/07/26 Cotisation +1 000 FCFA\n"
        " 13/07/26 Cotisation +1 000 FCFA\n"
        "Épargne              20 000 FCFA\n"
    )
    assert savings in text, text
    doc["carried"]["loan_outstanding"] = 5000
    assert " Reporté du 29/06/26  5 000 FCFA\n 06/07/26 Prêt" in as_text(layout(doc, 32), 32)


def test_a_relevé_adds_up_section_by_section_and_lists_the_rest_apart() -> None:
    doc = DOCS["statement"]()
    text = " ".join(as_text(layout(doc, 48), 48).split())
    assert "PRÊTS : CAPITAL 06/07/26 Prêt +15 000 FCFA 20/07/26 Remboursement -5 000 FCFA" in text
    assert "Capital restant dû 10 000 FCFA" in text
    paid = "AUTRES VERSEMENTS 06/07/26 Cotisation (rouge) 500 FCFA 13/07/26 Amende retard (rouge) 200 FCFA"
    assert paid + " 20/07/26 PAF et pénalité (verte) 355 FCFA" in text
    assert "AUTRES SOMMES REÇUES" not in text


def test_a_member_s_savings_stand_out_on_the_receipt() -> None:
    lines = [b for b in layout(DOCS["member"](), 32) if isinstance(b, Line)]
    [savings] = [line for line in lines if line.text.strip().startswith("Épargne (verte)")]
    assert savings.bold
