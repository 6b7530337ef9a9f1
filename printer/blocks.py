"""What a layout produces: lines of text with a little style, rules and a QR code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from kiosk.domain.money import group_thousands

Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class Line:
    text: str = ""
    align: Align = "left"
    bold: bool = False
    big: bool = False  # double height: titles and DUPLICATA, same number of columns


@dataclass(frozen=True)
class Rule:
    char: str = "-"


@dataclass(frozen=True)
class Qr:
    data: str


Block = Line | Rule | Qr


# Joins what must stay on one line ("2 335 FCFA", "3 mois", "PAF 600 FCFA"): wrap never breaks
# there, and text.printable turns it into the plain space the printer knows (as the preview does).
NBSP = "\u00a0"
# Every space but the non-breaking ones: str.split() would break at U+00A0 too.
_BREAKS = re.compile(r"[^\S\u00a0\u202f\u2007]+")


def keep(*parts: str) -> str:
    """``parts`` joined by spaces that never break."""
    return NBSP.join(parts)


def money(amount: int, *, signed: bool = False) -> str:
    text = keep(*group_thousands(amount).split(" "), "FCFA")
    return f"+{text}" if signed and amount > 0 else text


def wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap at plain spaces; a word longer than the line is cut, never lost."""
    words, lines, current = [w for w in _BREAKS.split(text) if w], [], ""
    for word in words:
        while len(word) > width:
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:width])
            word = word[width:]
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current += " " + word
        else:
            lines.append(current)
            current = word
    if current or not lines:
        lines.append(current)
    return lines


def pair(label: str, value: str, width: int, *, indent: int = 0, bold: bool = False) -> list[Line]:
    """``label ........ value`` on one line; a long label wraps and the value stays right."""
    pad = " " * indent
    room = width - len(value) - 1 - indent
    if room < 6:  # a very narrow paper or huge value: value on its own line
        return [Line(pad + t, bold=bold) for t in wrap(label, width - indent)] + [Line(value, "right", bold)]
    parts = wrap(label, room)
    out = [Line(pad + t, bold=bold) for t in parts[:-1]]
    last = pad + parts[-1]
    out.append(Line(last + " " * (width - len(last) - len(value)) + value, bold=bold))
    return out


def centered(text: str, width: int, *, bold: bool = False, big: bool = False) -> list[Line]:
    return [Line(t, "center", bold, big) for t in wrap(text, width)]


def date_fr(iso: str | None) -> str:
    if not iso:
        return ""
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"
