"""Where the bytes go: one method to send, one to ask for the printer's state.

Modelled on python-escpos' printer classes (which do the opening and the
writing), with what a kiosk needs on top: a write timeout so a stalled printer
cannot hang the worker, a status query that treats silence as "offline"
rather than python-escpos' optimistic "paper adequate", and reopening after
the cable comes back.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from .escpos_out import _escpos

DLE_EOT_ONLINE = b"\x10\x04\x01"
DLE_EOT_PAPER = b"\x10\x04\x04"
CHUNK = 256  # small writes: progress is known when a write times out

log = logging.getLogger(__name__)


class State(StrEnum):
    READY = "ready"
    PRINTING = "printing"
    PAPER_OUT = "paper_out"
    OFFLINE = "offline"
    ERROR = "error"


@dataclass(frozen=True)
class Status:
    state: State
    reason: str = ""


class PrinterError(Exception):
    """The printer did not take the whole job. ``sent`` says how many bytes left us."""

    def __init__(self, state: State, reason: str, sent: int = 0) -> None:
        super().__init__(reason)
        self.state, self.reason, self.sent = state, reason, sent


def plain_reason(exc: BaseException) -> str:
    """What the treasurer reads on the screen when the printer fails, in words she can act on.

    A driver's exception names its internals in English ("DeviceNotFoundError: Unable to open
    serial printer on /dev/ttyUSB9: [Errno 2]…"); the detail goes to the kiosk's log instead.
    """
    text = f"{type(exc).__name__} {exc}".lower()
    if isinstance(exc, PermissionError) or "permission denied" in text or "access denied" in text:
        return "accès refusé à l'imprimante : droits du port à régler (voir le guide d'installation)"
    if isinstance(exc, TimeoutError) or "timeout" in text or "timed out" in text:
        return "l'imprimante ne répond plus : papier coincé ou capot ouvert ?"
    if isinstance(exc, ConnectionError) or "refused" in text or "unreachable" in text or "no route" in text:
        return "imprimante réseau injoignable : est-elle allumée et sur le même réseau ?"
    if isinstance(exc, FileNotFoundError) or any(w in text for w in ("not found", "no such", "could not open")):
        return "imprimante introuvable : vérifiez le câble et qu'elle est allumée"
    if "no space" in text:
        return "plus de place sur la carte mémoire de la borne"
    return "erreur de l'imprimante (le détail est dans le journal de la borne)"


@dataclass(frozen=True)
class Job:
    data: bytes
    text: str  # the readable copy (file printer, logs)
    label: str = ""


class Transport(Protocol):
    def send(self, job: Job) -> None: ...

    def status(self) -> Status: ...

    def close(self) -> None: ...


def parse_status(online: bytes, paper: bytes) -> Status:
    """DLE EOT answers; no answer is offline, never "paper OK"."""
    if not online:
        return Status(State.OFFLINE, "pas de réponse de l'imprimante")
    if online[0] & 0x08:
        return Status(State.OFFLINE, "imprimante hors ligne (capot ouvert ?)")
    if paper and paper[0] & 0x60:
        return Status(State.PAPER_OUT, "plus de papier")
    return Status(State.READY)


class EscposTransport(ABC):
    """A python-escpos printer (USB, serial, network), opened lazily and reopened after a failure."""

    def __init__(self, factory: Any, status_timeout: float = 0.3, write_timeout: float = 5.0) -> None:
        self.factory = factory
        self.status_timeout = status_timeout
        self.write_timeout = write_timeout
        self.printer: Any = None

    def _open(self) -> Any:
        if self.printer is None:
            printer = self.factory()
            printer.open()
            device = printer.device
            if hasattr(device, "write_timeout"):  # pyserial: python-escpos never sets one
                device.write_timeout = self.write_timeout
            self.printer = printer
        return self.printer

    def close(self) -> None:
        """Close without python-escpos' close(): for serial it calls tcdrain, which waits
        forever on a printer that stopped reading. What was not sent is sent again."""
        if self.printer is None:
            return
        device = getattr(self.printer, "_device", None)
        with contextlib.suppress(Exception):  # closing a dead device must not raise twice
            if device is not None and hasattr(device, "reset_output_buffer"):
                device.reset_output_buffer()
            if device:
                device.close()
        self.printer._device = False  # python-escpos' __del__ then has nothing left to close
        self.printer = None

    @abstractmethod
    def _write(self, data: bytes) -> None: ...

    @abstractmethod
    def _read(self, n: int) -> bytes: ...

    def send(self, job: Job) -> None:
        sent = 0
        try:
            self._open()
            for i in range(0, len(job.data), CHUNK):
                self._write(job.data[i : i + CHUNK])
                sent = min(len(job.data), i + CHUNK)
        except Exception as exc:
            self.close()
            log.warning("printer: sending failed after %d bytes: %s: %s", sent, type(exc).__name__, exc)
            raise PrinterError(State.OFFLINE, plain_reason(exc), sent) from exc

    def status(self) -> Status:
        try:
            self._open()
            online = self._query(DLE_EOT_ONLINE)
            paper = self._query(DLE_EOT_PAPER) if online else b""
        except Exception as exc:
            self.close()
            log.debug("printer: status query failed: %s: %s", type(exc).__name__, exc)  # asked every few seconds
            return Status(State.OFFLINE, plain_reason(exc))
        return parse_status(online, paper)

    def _query(self, command: bytes) -> bytes:
        self._drain()
        self._write(command)
        return self._read(1)

    def _drain(self) -> None:  # most devices have nothing stale to discard
        return None


class SerialTransport(EscposTransport):
    """Serial printer, e.g. ``/dev/serial/by-id/usb-…`` (a stable name that survives re-plugging)."""

    def __init__(self, devfile: str, baudrate: int = 9600, write_timeout: float = 5.0, **kwargs: Any) -> None:
        def factory() -> Any:
            return _escpos().Serial(devfile=devfile, baudrate=baudrate, timeout=0.3, dsrdtr=False, **kwargs)

        super().__init__(factory, write_timeout=write_timeout)

    def _write(self, data: bytes) -> None:
        device = self._open().device
        device.write(data)

    def _read(self, n: int) -> bytes:
        device = self._open().device
        device.timeout = self.status_timeout
        return bytes(device.read(n))

    def _drain(self) -> None:
        self._open().device.reset_input_buffer()


class UsbTransport(EscposTransport):
    def __init__(self, id_vendor: int, id_product: int, timeout_ms: int = 5000, **kwargs: Any) -> None:
        # Keywords only: python-escpos 3.1's third positional argument is usb_args, not the timeout.
        def factory() -> Any:
            return _escpos().Usb(idVendor=id_vendor, idProduct=id_product, timeout=timeout_ms, **kwargs)

        super().__init__(factory)

    def _write(self, data: bytes) -> None:
        self._open()._raw(data)

    def _read(self, n: int) -> bytes:
        printer = self._open()
        try:
            return bytes(printer.device.read(printer.in_ep, 16, int(self.status_timeout * 1000)))[:n]
        except Exception:
            return b""


class NetworkTransport(EscposTransport):
    def __init__(self, host: str, port: int = 9100, timeout: float = 5.0) -> None:
        def factory() -> Any:
            return _escpos().Network(host=host, port=port, timeout=timeout)

        super().__init__(factory)

    def _write(self, data: bytes) -> None:
        self._open().device.sendall(data)

    def _read(self, n: int) -> bytes:
        sock: socket.socket = self._open().device
        ready, _, _ = select.select([sock], [], [], self.status_timeout)
        return sock.recv(n) if ready else b""


class FileTransport:
    """No printer attached (the demo, a training laptop): raw bytes and a readable copy in files."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    @property
    def raw_path(self) -> Path:
        return self.directory / "receipts.bin"

    @property
    def text_path(self) -> Path:
        return self.directory / "receipts.txt"

    def send(self, job: Job) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with open(self.raw_path, "ab") as raw:
                raw.write(job.data)
            with open(self.text_path, "a", encoding="utf-8") as text:
                text.write(job.text + "\n" + "~" * 32 + "\n\n")
        except OSError as exc:
            log.warning("file printer: cannot write to %s: %s", self.directory, exc)
            raise PrinterError(State.ERROR, plain_reason(exc)) from exc

    def status(self) -> Status:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.debug("file printer: %s: %s", self.directory, exc)
            return Status(State.ERROR, plain_reason(exc))
        return Status(State.READY)

    def close(self) -> None:
        """Each job opens and closes its files: nothing stays open."""


class DummyTransport:
    """python-escpos' Dummy: everything sent is kept in ``output`` (tests, previews)."""

    def __init__(self) -> None:
        self.device = _escpos().Dummy()
        self.jobs: list[Job] = []
        self.state = Status(State.READY)

    @property
    def output(self) -> bytes:
        return bytes(self.device.output)

    def send(self, job: Job) -> None:
        if self.state.state is not State.READY:
            raise PrinterError(self.state.state, self.state.reason)
        self.device._raw(job.data)
        self.jobs.append(job)

    def status(self) -> Status:
        return self.state

    def close(self) -> None:
        """Nothing to release: the output lives in memory."""


def from_config(config: dict[str, Any], data_dir: Path) -> Transport:
    """The kiosk's printer setting (``muso-kiosk printer setup``) to a transport."""
    kind = config.get("connection", "file")
    if kind == "file":
        return FileTransport(config.get("path") or data_dir / "receipts")
    if kind == "serial":
        return SerialTransport(config["port"], int(config.get("baudrate", 9600)), float(config.get("write_timeout", 5)))
    if kind == "usb":
        return UsbTransport(
            int(str(config["vendor"]), 16), int(str(config["product"]), 16), **config.get("usb_args", {})
        )
    if kind == "network":
        return NetworkTransport(config["host"], int(config.get("port", 9100)))
    if kind == "dummy":
        return DummyTransport()
    raise ValueError(f"unknown printer connection: {kind!r}")


def wait_until(predicate: Any, timeout: float, step: float = 0.02) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())
