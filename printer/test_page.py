"""The page a technician prints on a new printer: every French, Ewe and Fon letter, the widths, a QR."""

from __future__ import annotations

from .blocks import Block, Line, Qr, Rule, centered, money, pair
from .blocks import wrap as wrap_words
from .layout import WIDTHS, check_width
from .text import printable

FRENCH_LETTERS = "àâæçéèêëîïôœùûüÿÀÂÆÇÉÈÊËÎÏÔŒÙÛÜŸ"
EWE_FON_LETTERS = "ɖɛƒɣŋɔʋƉƐƑƔŊƆƲ"
TONES = "àáâǎãèéêěẽìíîǐĩòóôǒõùúûǔũ"


def self_test_page(width: int = 32, *, server_url: str | None = None, codepage: str = "cp1252") -> list[Block]:
    """What a technician prints to check letters, widths and the QR on a new printer."""
    check_width(width)

    def wrap(text: str, width: int) -> list[str]:
        return wrap_words(printable(text, codepage), width)

    out: list[Block] = [*centered("PAGE DE TEST", width, bold=True, big=True)]
    out += centered("Kiosque MUSO", width)
    out.append(Rule())
    out += [Line(f"{n:<3}" + "".join(str(i % 10) for i in range(1, n - 2))) for n in WIDTHS if n <= width]
    out.append(Rule("="))
    out.append(Line("Lettres françaises :"))
    out += [Line(t) for t in wrap(" ".join(FRENCH_LETTERS), width)]
    out += [Line(t) for t in wrap("Le cœur de l'été à Lomé : ÇA VA !", width)]
    out.append(Line("Lettres ewe et fon :"))
    out += [Line(t) for t in wrap(" ".join(EWE_FON_LETTERS), width)]
    out.append(Line("Tons :"))
    out += [Line(t) for t in wrap(" ".join(TONES), width)]
    out += [Line(t) for t in wrap("Ɖɔvi Ahouansou, Ablavi Ŋuɖe, Enyonam Ʋɔdzi, Edem Ƒiaga", width)]
    out.append(Rule())
    out += pair("Montant", money(1234567), width)
    out += pair("Gras", money(12500), width, bold=True)
    out.append(Line("Double hauteur", big=True))
    out.append(Qr(server_url or "MUSO TEST"))
    out += centered("Fin du test", width)
    return out
