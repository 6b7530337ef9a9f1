"""A receipt as a PNG, laid out as the printer lays it out.

One character cell of font A is 12 × 24 dots at 203 dpi, so 32 columns make
the 384 dots of a 58 mm printer and 48 columns the 576 of an 80 mm one. The
text drawn is the text sent (Ewe letters already replaced, as on paper).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .blocks import Block, Line, Qr, Rule
from .text import printable

CELL_W, CELL_H, MARGIN = 12, 24, 16
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts")


class PreviewError(Exception):
    """A preview cannot be drawn on this machine (a font is missing)."""


@cache
def _font(bold: bool) -> ImageFont.FreeTypeFont:
    name = "DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf"
    for directory in FONT_DIRS:
        path = Path(directory) / name
        if path.exists():
            return ImageFont.truetype(str(path), 20)
    raise PreviewError(f"{name} not found: install the fonts-dejavu-core package")


def _qr(data: str, module: int = 4) -> Image.Image:
    import qrcode

    code = qrcode.QRCode(border=0, box_size=module, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(data)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("L")


def _line_image(line: Line, width: int, codepage: str) -> Image.Image:
    text = printable(line.text, codepage).rstrip()
    if line.align == "center":
        text = text.center(width).rstrip()
    elif line.align == "right":
        text = text.rjust(width)
    img = Image.new("L", (width * CELL_W, CELL_H), 255)
    draw = ImageDraw.Draw(img)
    font = _font(line.bold)
    for i, ch in enumerate(text[:width]):
        draw.text((i * CELL_W, 0), ch, font=font, fill=0)
    return img.resize((img.width, CELL_H * 2)) if line.big else img


def to_png(blocks: list[Block], path: str | Path, width: int = 32, codepage: str = "cp1252") -> Path:
    parts: list[Image.Image] = []
    for block in blocks:
        if isinstance(block, Qr):
            parts.append(_qr(block.data))
        elif isinstance(block, Rule):
            parts.append(_line_image(Line(block.char * width), width, codepage))
        else:
            parts.append(_line_image(block, width, codepage))
    paper_w = width * CELL_W
    height = sum(p.height for p in parts) + 2 * MARGIN + CELL_H * 2  # the feed before the cut
    page = Image.new("L", (paper_w + 2 * MARGIN, height), 255)
    y = MARGIN
    for part in parts:
        page.paste(part, (MARGIN + (paper_w - part.width) // 2 if part.width < paper_w else MARGIN, y))
        y += part.height
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    page.save(out, optimize=True)
    return out
