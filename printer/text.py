"""Text the printer can print: one code page, and legible stand-ins for what it lacks.

A thermal printer knows one 8-bit code page at a time. We send exactly one
(WPC1252 by default: every French letter including œ and Ÿ) and encode
ourselves, so python-escpos' automatic code-page switching (which picks
Turkish or Greek pages for French capitals) never runs.

Ewe and Fon letters are in no code page. By default they print as the
closest Latin letters (Ɖɔvi → Dovi, Ŋuɖe → Ngude), which every reader of the
receipt can read; tone marks are dropped unless the code page has the
accented letter (é, è stay). Nothing ever prints as "?".
"""

from __future__ import annotations

import unicodedata

CODEPAGES = {"cp1252": 16, "cp858": 19, "cp850": 2}  # Epson slot numbers; configurable per printer

# Typography the code pages lack.
_PUNCT = {
    "\u202f": " ",
    "\u00a0": " ",
    "\u2009": " ",
    "\u2019": "'",
    "\u2018": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u00b7": "-",
}
# Letters some code pages lack (CP850 has no œ): the usual spelling without them.
_FALLBACK = {"œ": "oe", "Œ": "OE", "Ÿ": "Y", "€": "EUR"}
# Ewe and Fon letters -> the Latin spelling people use when a keyboard lacks them.
_AFRICAN = {
    "ɖ": "d",
    "Ɖ": "D",
    "ɛ": "e",
    "Ɛ": "E",
    "ƒ": "f",
    "Ƒ": "F",
    "ɣ": "g",
    "Ɣ": "G",
    "ŋ": "ng",
    "Ŋ": "Ng",
    "ɔ": "o",
    "Ɔ": "O",
    "ʋ": "v",
    "Ʋ": "V",
}


def _encodable(ch: str, codec: str) -> bool:
    try:
        ch.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def printable(text: str, codec: str = "cp1252") -> str:
    """``text`` with every character in ``codec``; letters replaced by readable equivalents."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in _PUNCT:
            out.append(_PUNCT[ch])
        elif _encodable(ch, codec):
            out.append(ch)
        elif ch in _FALLBACK:
            out.append(_FALLBACK[ch])
        elif ch in _AFRICAN:
            out.append(_AFRICAN[ch])
        elif unicodedata.combining(ch):
            continue  # a tone mark the page cannot put on this letter: the letter alone is still readable
        else:
            # A tone mark on a letter the page lacks (ɔ́, ǎ): keep the letter, drop the mark.
            base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
            base = "".join(_AFRICAN.get(c, c) for c in base)
            out.append(base if base and all(_encodable(c, codec) for c in base) else "-")
    return "".join(out)


def encode(text: str, codec: str = "cp1252") -> bytes:
    return printable(text, codec).encode(codec)
