"""Wiring the kiosk's print queue to a printer: the app and the CLI share this.

The printer's setting lives in the kiosk database (``settings`` key
``printer``, JSON); without one, receipts go to a file printer in the data
directory, which is what the demo and a machine without a printer use.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kiosk import config
from kiosk.services import Kiosk
from kiosk.store import Store
from kiosk.store.print_queue import PrintQueue
from printer.escpos_out import Style, profiles
from printer.transports import Transport, from_config
from printer.worker import PrintWorker

DEFAULTS: dict[str, Any] = {"connection": "file", "width": 32, "codepage": "cp1252", "profile": "default"}
CONNECTION_KEYS = {"path", "port", "baudrate", "write_timeout", "vendor", "product", "usb_args", "host"}
KEYS = {"connection", "path", "port", "baudrate", "write_timeout", "vendor", "product", "usb_args", "host",
        "width", "codepage", "codepage_slot", "profile", "qr_size", "cut"}  # fmt: skip


def printer_config(k: Kiosk) -> dict[str, Any]:
    stored = k.store.setting("printer")
    return DEFAULTS | (json.loads(stored) if stored else {})


def set_printer_config(k: Kiosk, values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - KEYS
    if unknown:
        raise ValueError(f"unknown printer setting(s): {', '.join(sorted(unknown))}")
    current = printer_config(k)
    if values.get("connection") not in (None, current["connection"]):
        # Another kind of link: the old one's settings go (a serial device name is no network port).
        current = {key: v for key, v in current.items() if key not in CONNECTION_KEYS}
    merged = current | {key: v for key, v in values.items() if v is not None}
    style(merged)  # refuse a bad width or code page before storing it
    # and a profile or slot that would make every receipt fail at printing time, one after the other
    if merged.get("profile", "default") not in profiles():
        close = [p for p in profiles() if p.lower().startswith(str(merged["profile"]).lower()[:4])][:6]
        raise ValueError(
            f"unknown printer profile {merged['profile']!r}" + (f" (known: {', '.join(close)})" if close else "")
        )
    slot = merged.get("codepage_slot")
    if slot is not None and (isinstance(slot, bool) or not isinstance(slot, int) or not 0 <= slot <= 255):
        raise ValueError("codepage_slot must be a number from 0 to 255")
    from_config(merged, config.data_dir())
    k.store.set_setting("printer", json.dumps(merged, sort_keys=True))
    return merged


def style(cfg: dict[str, Any]) -> Style:
    width = int(cfg.get("width", 32))
    if width not in (32, 42, 48):
        raise ValueError("width must be 32, 42 or 48 columns")
    return Style(
        width=width,
        codepage=cfg.get("codepage", "cp1252"),
        codepage_slot=cfg.get("codepage_slot"),
        profile=cfg.get("profile", "default"),
        qr_size=int(cfg.get("qr_size", 4)),
        cut=bool(cfg.get("cut", True)),
    )


def transport(cfg: dict[str, Any], data_dir: Path | None = None) -> Transport:
    return from_config(cfg, data_dir or config.data_dir())


def worker_for(db_path: str | Path, cfg: dict[str, Any], data_dir: Path | None = None, **kwargs: Any) -> PrintWorker:
    """A worker with its own connection: it must only ever see committed jobs."""
    queue = PrintQueue(Store(db_path))
    return PrintWorker(queue, transport(cfg, data_dir), style(cfg), **kwargs)
