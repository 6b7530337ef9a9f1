"""Fixed receipt documents: the golden files, the README previews and the benchmark use them."""

from __future__ import annotations

from typing import Any

VERIFY = "https://muso.example.org/v/K07-000123/ABCDEFGHJK"


def member() -> dict[str, Any]:
    return {
        "type": "member",
        "title": "Reçu de membre",
        "group": "MUSO Élikem de Bolou",
        "meeting": {"number": 12, "date": "2026-07-20"},
        "member": {"number": 9, "name": "Ɖɔvi Ŋuɖe-Ahouansou"},
        "movements": [
            {"kind": "contribution", "fund": "verte", "amount": 1000, "flow": "in", "detail": {}},
            {"kind": "contribution", "fund": "rouge", "amount": 200, "flow": "in", "detail": {}},
            {"kind": "fine", "fund": "rouge", "amount": 200, "flow": "in", "detail": {"fine": "retard"}},
            {
                "kind": "repayment",
                "fund": "verte",
                "amount": 5355,
                "flow": "in",
                "detail": {"principal": 5000, "paf": 300, "penalty": 55},
            },
            {
                "kind": "reversal",
                "of": "contribution",
                "fund": "verte",
                "amount": -1000,
                "flow": "in",
                "detail": {"kind": "contribution"},
                "of_date": "2026-07-20",
                "reason": "cotisation saisie deux fois",
            },
            {"kind": "aid", "fund": "rouge", "amount": 10000, "flow": "out", "detail": {"aid": "deces"}},
        ],
        "balances": {
            "savings": 20000,
            "loan_outstanding": 10000,
            "late": 0,
            "next_due": {"amount": 5300, "date": "2026-08-05"},
            "aid_received": 10000,
        },
        "officer": "Kossi Agbéko",
        "officer_as": "recorded",
        "number": "K07-000123",
        "code": "ABCDE-FGHJK",
        "kiosk": "K07",
        "verify_url": VERIFY,
    }


def report() -> dict[str, Any]:
    return {
        "type": "report",
        "title": "Procès-verbal de séance",
        "group": "MUSO Élikem de Bolou",
        "meeting": {
            "number": 12,
            "date": "2026-07-20",
            "opened_by": ["Afi Mensah", "Ɖɔvi Ahouansou"],
            "closed_by": ["Afi Mensah", "Yawo Kpogo"],
        },
        "attendance": {"present": 23, "late": 2, "absent": 3, "excused": 1, "represented": 1},
        "funds": {
            "verte": {
                "opening_expected": 250000,
                "opening_counted": 250000,
                "in": 41355,
                "out": 30000,
                "closing_expected": 261355,
                "closing_counted": 260855,
            },
            "rouge": {
                "opening_expected": 80000,
                "opening_counted": 80100,
                "in": 6200,
                "out": 10000,
                "closing_expected": 76300,
                "closing_counted": 76300,
            },
            "bleue": {
                "opening_expected": 0,
                "opening_counted": 0,
                "in": 0,
                "out": 0,
                "closing_expected": 0,
                "closing_counted": 0,
            },
        },
        "totals": [
            {"fund": "rouge", "kind": "aid", "count": 1, "amount": 10000},
            # 26 paying members (present, late, represented); the verte has a 27th, typed twice and reversed.
            {"fund": "rouge", "kind": "contribution", "count": 26, "amount": 5200},
            {"fund": "rouge", "kind": "fine", "count": 5, "amount": 1000},
            {"fund": "verte", "kind": "contribution", "count": 27, "amount": 27000},
            {"fund": "verte", "kind": "loan", "count": 1, "amount": 30000},
            {"fund": "verte", "kind": "repayment", "count": 3, "amount": 15355},
            {"fund": "verte", "kind": "reversal", "count": 1, "amount": 1000},
        ],
        # The cycle's gains credited to savings, the cash left in the box.
        "share_outs": [
            {"fund": "verte", "gains": 1370, "gained_by": 23, "loss": 0, "lost_by": 0, "paid": 0, "paid_to": 0}
        ],
        "loans": [{"member": "n° 14 Enyonam Ʋɔdzi", "amount": 30000, "term_months": 3, "fund": "verte"}],
        "aid": [{"member": "n° 9 Ɖɔvi Ŋuɖe-Ahouansou", "aid": "deces", "amount": 10000}],
        "corrections": [
            {
                "of": "contribution",
                "amount": 1000,
                "reason": "cotisation saisie deux fois",
                "member": "n° 9 Ɖɔvi Ŋuɖe-Ahouansou",
                "detail": {},
            }
        ],
        "number": "K07-000150",
        "code": "QRSTU-VWXYZ",
        "kiosk": "K07",
        "verify_url": None,
    }


def statement() -> dict[str, Any]:
    return {
        "type": "statement",
        "title": "Relevé de compte",
        "group": "MUSO Élikem de Bolou",
        "member": {"number": 9, "name": "Ɖɔvi Ŋuɖe-Ahouansou"},
        "as_of": "2026-07-20",
        "movements": [
            {"kind": "contribution", "fund": "verte", "amount": 1000, "flow": "in", "detail": {}, "date": "2026-07-06"}
            | {"savings": 1000, "loan": 0},
            {"kind": "contribution", "fund": "rouge", "amount": 500, "flow": "in", "detail": {}, "date": "2026-07-06"}
            | {"savings": 0, "loan": 0},
            {"kind": "loan", "fund": "verte", "amount": 15000, "flow": "out", "detail": {}, "date": "2026-07-06"}
            | {"savings": 0, "loan": 15000},
            {"kind": "contribution", "fund": "verte", "amount": 1000, "flow": "in", "detail": {}, "date": "2026-07-13"}
            | {"savings": 1000, "loan": 0},
            {
                "kind": "fine",
                "fund": "rouge",
                "amount": 200,
                "flow": "in",
                "detail": {"fine": "retard"},
                "date": "2026-07-13",
                "savings": 0,
                "loan": 0,
            },
            {
                "kind": "repayment",
                "fund": "verte",
                "amount": 5355,
                "flow": "in",
                "detail": {"principal": 5000, "paf": 300, "penalty": 55},
                "date": "2026-07-20",
                "savings": 0,
                "loan": -5000,
            },
        ],
        "carried": {"date": "2026-06-29", "savings": 18000, "loan_outstanding": 0},
        "balances": {
            "savings": 20000,
            "loan_outstanding": 10000,
            "late": 0,  # the same day as the member's receipt: its loan's first installment falls due in August
            "next_due": {"amount": 5300, "date": "2026-08-05"},
            "aid_received": 10000,
        },
        "number": None,
        "kiosk": "K07",
        "journal_seq": 4521,
        "code": "MNPQR-STUVW",
    }


def schedule() -> dict[str, Any]:
    return {
        "type": "schedule",
        "title": "Échéancier de prêt",
        "group": "MUSO Élikem de Bolou",
        "member": {"number": 14, "name": "Enyonam Ʋɔdzi"},
        "loan": {
            "principal": 30000,
            "fund": "verte",
            "method": "flat",
            "rate_bp": 200,
            "term_months": 3,
            "start": "2026-07-20",
            "paf_total": 1800,
            "principal_paid": 0,
            "paf_paid": 0,
            "penalty_paid": 0,
            "kind": "loan",
        },
        "installments": [
            {"number": 1, "due": "2026-08-20", "principal": 10000, "paf": 600},
            {"number": 2, "due": "2026-09-20", "principal": 10000, "paf": 600},
            {"number": 3, "due": "2026-10-20", "principal": 10000, "paf": 600},
        ],
        "number": None,
        "kiosk": "K07",
        "journal_seq": 4522,
        "code": "ABCDE-23456",
    }


DOCS = {"member": member, "report": report, "statement": statement, "schedule": schedule}


def write_previews(directory: str) -> list[str]:
    """PNG previews of every layout at 32 and 48 columns (docs/receipts/)."""
    from .layout import layout
    from .preview import to_png
    from .test_page import self_test_page

    written = []
    for width in (32, 48):
        for kind, make in DOCS.items():
            written.append(str(to_png(layout(make(), width), f"{directory}/{kind}_{width}.png", width)))
        written.append(str(to_png(self_test_page(width), f"{directory}/test_page_{width}.png", width)))
    written.append(str(to_png(layout(member(), 32, duplicate=True), f"{directory}/member_32_duplicata.png", 32)))
    return written


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="PNG previews of the sample receipts")
    parser.add_argument("dir", nargs="?", default="docs/receipts")
    for path in write_previews(parser.parse_args().dir):
        print(path)
