"""Blocks to ESC/POS bytes through python-escpos, with one explicit code page.

The job is built on python-escpos' ``Dummy`` (the maintainers' "preprocess
printing" pattern) and the bytes are stored or sent by a transport. We emit
``ESC @`` then ``ESC t n`` at the start of every job: some printers reset
their code page after an initialisation, and we never let python-escpos
switch pages by itself.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .blocks import Block, Line, Qr, Rule, wrap
from .text import CODEPAGES, encode, printable

ESC_T = b"\x1bt"


@dataclass(frozen=True)
class Style:
    width: int = 32
    codepage: str = "cp1252"
    codepage_slot: int | None = None  # printer-specific; defaults to the Epson slot of ``codepage``
    profile: str = "default"
    qr_size: int = 4
    cut: bool = True

    @property
    def slot(self) -> int:
        return CODEPAGES[self.codepage] if self.codepage_slot is None else self.codepage_slot


@cache
def _escpos() -> Any:
    """Import python-escpos without its import-time side effects.

    3.1 writes its capabilities pickle to a fresh temporary directory on every
    import and calls ``logging.basicConfig()``. We point the pickle at a cache
    directory of ours and give the root logger a handler for the duration of
    the import, so basicConfig has nothing to do.
    """
    cache_dir = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "muso" / "escpos"
    cache_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", str(cache_dir))
    root = logging.getLogger()
    guard = logging.NullHandler()
    root.addHandler(guard)
    try:
        import escpos.printer as printer_module
    finally:
        root.removeHandler(guard)
    return printer_module


def dummy(profile: str = "default") -> Any:
    return _escpos().Dummy(profile=profile)


def profiles() -> list[str]:
    """The printer profiles python-escpos knows (``default``, ``TM-T20II``, …)."""
    _escpos()  # imported our way first (see above)
    from escpos.capabilities import CAPABILITIES

    return sorted(CAPABILITIES["profiles"])


def render(blocks: list[Block], style: Style | None = None) -> bytes:
    """The exact bytes of a job: init, code page, lines, QR, feed and cut."""
    style = style or Style()
    p = dummy(style.profile)
    p.hw("INIT")
    p._raw(ESC_T + bytes([style.slot]))
    current = ("left", False, False)
    for block in blocks:
        if isinstance(block, Qr):
            p.set(align="center")
            p.qr(block.data, native=True, size=style.qr_size)
            p.set(align="left")
            current = ("left", current[1], current[2])
            continue
        line = Line("".join(block.char for _ in range(style.width))) if isinstance(block, Rule) else block
        wanted = (line.align, line.bold, line.big)
        if wanted != current:
            # Only what changed: every byte costs time on a 9600-baud printer.
            changes: dict[str, Any] = {}
            if wanted[0] != current[0]:
                changes["align"] = wanted[0]
            if wanted[1] != current[1]:
                changes["bold"] = wanted[1]
            if wanted[2] != current[2]:
                changes["double_height"] = wanted[2]
                changes["normal_textsize"] = not wanted[2]
                # A size is set with ESC !, which turns bold off too on ESC/POS printers: say it again.
                changes["bold"] = wanted[1]
            p.set(**changes)
            current = wanted
        p._raw(encode(line.text.rstrip(), style.codepage) + b"\n")
    # No style reset at the end: the next job starts with ESC @.
    if style.cut:
        p.cut()
    return bytes(p.output)


def as_text(blocks: list[Block], width: int = 32, codepage: str = "cp1252") -> str:
    """What the paper shows, as text: the file printer's readable copy and the tests' view."""
    out = []
    for block in blocks:
        if isinstance(block, Qr):
            out.append("[QR]".center(width).rstrip())
            out += [part.center(width).rstrip() for part in wrap(block.data, width)]
        elif isinstance(block, Rule):
            out.append(block.char * width)
        else:
            text = printable(block.text, codepage).rstrip()
            if block.align == "center":
                text = text.center(width).rstrip()
            elif block.align == "right":
                text = text.rjust(width)
            out.append(text)
    return "\n".join(out) + "\n"
