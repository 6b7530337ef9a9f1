"""Reading receipts as a member does: the documents queued for the printer, and their paper as words."""

from __future__ import annotations

import json

from kiosk.services import Kiosk
from printer.escpos_out import as_text
from printer.layout import layout


def queued(k: Kiosk, kind: str) -> list[dict]:
    """The documents of ``kind`` sent to the printer, oldest first."""
    rows = k.store.query("SELECT doc FROM print_jobs WHERE kind = ? ORDER BY id", (kind,))
    return [json.loads(r["doc"]) for r in rows]


def printed(doc: dict, width: int = 32) -> str:
    """The paper's words, each amount's lines joined: "Prochaine échéance le 12/02/2026 12 265 FCFA"."""
    return " ".join(as_text(layout(doc, width), width).split())
