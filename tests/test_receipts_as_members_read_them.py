"""The papers as a member reads them: what the procès-verbal and the receipts say, from the meetings' books."""

from __future__ import annotations

import json
from datetime import date

from conftest import Group, make_group

from kiosk.domain.funds import count_for
from kiosk.services import Kiosk
from kiosk.services import meetings as M
from printer.escpos_out import as_text
from printer.layout import layout

DAY = date(2026, 3, 2)


def _docs(k: Kiosk, kind: str) -> list[dict]:
    rows = k.store.query("SELECT doc FROM print_jobs WHERE kind = ? ORDER BY id", (kind,))
    return [json.loads(r["doc"]) for r in rows]


def _lines(doc: dict, width: int = 32) -> list[str]:
    return as_text(layout(doc, width), width).splitlines()


def _open_counting(g: Group, day: date, over: dict[str, int]) -> str:
    """A meeting opened with the boxes counted ``over`` what the books expect (negative: missing)."""
    expected = M.expected_cash(g.k, g.group_id)
    counts = {f: count_for(expected[f] + over.get(f, 0)) for f in expected}
    meeting = M.open_meeting(g.k, g.group_id, day, counts, g.two())
    M.record_attendance(g.k, meeting, {m["member_id"]: "present" for m in [*g.officers.values(), *g.members]})
    return meeting


def test_a_box_100_over_at_opening_and_100_short_at_closing_shows_both_errors(kiosk: Kiosk) -> None:
    g = make_group(kiosk, 2)
    first = g.open(DAY)
    M.standard_contributions(kiosk, first, g.treasurer)
    g.close(first)
    meeting = _open_counting(g, date(2026, 3, 9), {"rouge": 100})
    M.standard_contributions(kiosk, meeting, g.treasurer)
    g.close(meeting, adjust={"rouge": -100})
    report = _docs(kiosk, "report")[-1]
    rouge = report["funds"]["rouge"]
    assert rouge["opening_counted"] - rouge["opening_expected"] == 100
    assert rouge["closing_counted"] - rouge["closing_expected"] == -100
    lines = _lines(report)
    lines = lines[lines.index("CAISSE ROUGE") : lines.index("MOUVEMENTS")]
    [opening] = [line for line in lines if line.startswith(" Écart à l'ouverture")]
    [closing] = [line for line in lines if line.startswith(" Écart à la clôture")]
    assert opening.endswith(" +100 FCFA") and closing.endswith(" -100 FCFA")
    assert lines[lines.index(opening) + 1].startswith(" Entrées")  # under the opening's lines
    assert lines[lines.index(closing) - 1].startswith(" Clôture, compté")
    text = "\n".join(_lines(report))
    assert " Écart" not in text.split("CAISSE VERTE")[1].split("CAISSE ROUGE")[0]  # counted right: nothing said
