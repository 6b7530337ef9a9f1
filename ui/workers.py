"""Work that must never freeze the screen: printing, sync, test pages and backups run in threads.

Each thread uses its own database connection (the print worker through
ui.printing.worker_for), so it only ever sees committed data, and reports
back through a Qt signal, which Qt delivers on the GUI thread.
"""

from __future__ import annotations

import atexit
import importlib
import logging
import sys
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from kiosk.store import Store
from printer.escpos_out import Style, render
from printer.transports import FileTransport, State, Status

from . import printing

log = logging.getLogger(__name__)
_running: set[Task] = set()  # a task must outlive its caller until its answer is delivered
_bridges: weakref.WeakSet[PrinterBridge] = weakref.WeakSet()


@atexit.register
def _stop_print_workers() -> None:
    """A print thread still running while Python shuts down would call into a half-destroyed Qt."""
    for bridge in list(_bridges):
        bridge.stop(timeout=1.0)


class Task(QObject):
    """Run ``fn`` in a thread; call ``on_done(result, error)`` on the GUI thread."""

    done = Signal(object, object)

    def __init__(self, fn: Callable[[], Any], on_done: Callable[[Any, BaseException | None], Any]) -> None:
        super().__init__()
        self.fn = fn
        self.done.connect(on_done)
        self.done.connect(lambda *_: _running.discard(self))
        _running.add(self)
        self.thread = threading.Thread(target=self._run, name="ui-task", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # reported to the person, never lost in a thread
            log.warning("background task failed: %s", exc)
            self.done.emit(None, exc)
        else:
            self.done.emit(result, None)


class PrinterBridge(QObject):
    """The print worker's state, as the screens show it; the worker itself runs in its own thread."""

    changed = Signal()

    def __init__(self, db_path: Path) -> None:
        super().__init__()
        self.db_path = db_path
        self.worker: Any = None
        self.status = Status(State.READY)

    def start(self, cfg: dict[str, Any]) -> None:
        try:
            self.worker = printing.worker_for(self.db_path, cfg, on_state=self._on_state)
        except (ValueError, KeyError, OSError) as exc:  # a bad setting: the app runs, receipts wait
            self.worker = None
            self.status = Status(State.ERROR, str(exc))
            self.changed.emit()
            return
        self.worker.start()
        _bridges.add(self)

    def warm_up(self) -> None:
        """Load python-escpos (a quarter of a second) in the background, while the home screen waits,
        rather than in the middle of a meeting when the first receipts are queued."""
        threading.Thread(target=lambda: render([], Style()), name="escpos-warm-up", daemon=True).start()

    def _on_state(self, status: Status) -> None:  # called on the worker's thread
        self.status = status
        if not sys.is_finalizing():
            self.changed.emit()

    @property
    def to_file(self) -> bool:
        """Receipts go to a file, not to paper (the demo, or a printer setting chosen on the kiosk)."""
        return self.worker is not None and isinstance(self.worker.transport, FileTransport)

    def wake(self) -> None:
        if self.worker is not None:
            self.worker.wake()

    def restart(self, cfg: dict[str, Any]) -> None:
        """A new printer setting: the old worker stops in the background (a stuck write may take seconds)."""
        old, self.worker = self.worker, None
        if old is not None:
            threading.Thread(target=old.stop, name="print-worker-stop", daemon=True).start()
        self.status = Status(State.READY)
        self.start(cfg)

    def stop(self, timeout: float = 2.0) -> None:
        if self.worker is not None:
            self.worker.stop(timeout)
            self.worker = None


# -- sync (kiosk.sync may not be installed on every kiosk yet) ----------------------------------


def sync_modules(*names: str) -> dict[str, Any] | None:
    """kiosk.sync's modules, or None when this kiosk has no sync (then the screens say so).

    Only what is asked for is imported: the client brings httpx and cryptography
    (some 40 MB), loaded when the treasurer actually syncs, not at start.
    """
    try:
        return {name: importlib.import_module(f"kiosk.sync.{name}") for name in names or ("state", "errors")}
    except Exception:  # not there, or half-installed: either way, no sync from this app
        return None


def sync_status(db_path: Path) -> dict[str, Any]:
    mods = sync_modules()
    if mods is None:
        return {"available": False}
    state = mods["state"]
    with Store(db_path) as store:
        current = state.load(store)
        todo = state.pending(store)
        offset = state.clock_offset(store)
        behind = state.is_behind(store)
    return {
        "available": True,
        "server": current.server_url,
        "last_success_ms": current.last_success_ms,
        "last_error": current.last_error,
        "failures": current.failures,
        "events": todo["events"],
        "meetings": todo["meetings"],
        "clock_offset_ms": offset,
        "behind_server": behind,
    }


def sync_now(db_path: Path) -> Any:
    mods = sync_modules("client")
    assert mods is not None
    with Store(db_path) as store:
        client = mods["client"].SyncClient.open(store)
        try:
            return client.sync()
        finally:
            client.close()


def sync_enroll(db_path: Path, server: str, code: str) -> Any:
    mods = sync_modules("enrollment")
    assert mods is not None
    with Store(db_path) as store:
        return mods["enrollment"].enroll(store, server, code)


def sync_error_text(exc: BaseException, lang: str) -> str:
    mods = sync_modules()
    if mods is not None and isinstance(exc, mods["errors"].SyncError):
        return str(mods["errors"].describe(exc, lang))
    return f"{type(exc).__name__}: {exc}"


class SyncBridge(QObject):
    """Sync status, refreshed in the background (counting what is not synced reads the whole journal)."""

    changed = Signal()

    def __init__(self, db_path: Path) -> None:
        super().__init__()
        self.db_path = db_path
        self.info: dict[str, Any] = {"available": sync_modules() is not None, "loading": True}
        self.busy = False

    def refresh(self) -> None:
        if not self.info["available"] or self.busy:
            return
        self.busy = True
        Task(lambda: sync_status(self.db_path), self._got)

    def _got(self, info: Any, error: BaseException | None) -> None:
        self.busy = False
        self.info = info if error is None else {"available": True, "error": str(error)}
        self.changed.emit()
