"""Pressing the app's buttons as a finger would, for the screenshots, the benchmark and the tests.

A ``Driver`` finds a control by its object name among what a person could
touch (the topmost panel if one is open, else the screen), scrolls it into
view like a flick would, and presses it. It counts every tap, so the tests
can report how many touches a meeting takes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QWindow
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QScrollArea, QWidget

if TYPE_CHECKING:
    from .app import MainWindow


class NotOnScreen(LookupError):
    """The walkthrough asked for a control that is not (or not once, or not enabled) on screen."""


def window_point(widget: QWidget) -> tuple[QWindow, QPoint]:
    """Where a finger touching ``widget`` lands, in its window's coordinates."""
    window = widget.window()
    return window.windowHandle(), widget.mapTo(window, widget.rect().center())


def qtest_click(widget: QWidget) -> None:
    """A tap at the widget's centre, delivered to the window as the touchscreen would: whatever is
    on top at that point gets it (a test cannot press a covered button), and the window sees it."""
    window, point = window_point(widget)
    QTest.mouseClick(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)


class Driver:
    def __init__(self, win: MainWindow, click: Callable[[QWidget], None] = qtest_click) -> None:
        self.win = win
        self.click = click
        self.taps = 0
        self.keys = 0

    def settle(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.processEvents()
            app.processEvents()  # layout requests posted by the first pass

    def root(self) -> QWidget:
        return self.win.overlays[-1] if self.win.overlays else self.win

    def find(self, name: str) -> QWidget:
        """The one visible control called ``name`` that a finger could reach now."""
        found = [w for w in self.root().findChildren(QWidget, name) if w.isVisible()]
        if not found:
            raise NotOnScreen(f"{name!r} is not on screen (top: {self.root().property('overlay') or 'screen'})")
        if len(found) > 1:
            raise NotOnScreen(f"{name!r} is on screen {len(found)} times")
        return found[0]

    def exists(self, name: str) -> bool:
        try:
            self.find(name)
        except NotOnScreen:
            return False
        return True

    def text(self, name: str) -> str:
        return str(self.find(name).text())  # type: ignore[attr-defined]

    def tap(self, name: str) -> None:
        """A deliberate tap: the person has looked at the screen first (the tap shield is down by then)."""
        self.win.idle_watch.shield_until = 0.0
        self.quick_tap(name)

    def quick_tap(self, name: str) -> None:
        """A tap with no pause after the last one: the tap shield may drop it."""
        widget = self.find(name)
        if not widget.isEnabled():
            raise NotOnScreen(f"{name!r} is disabled")
        self._into_view(widget)
        self.click(widget)
        self.taps += 1
        self.settle()

    def double_tap(self, name: str) -> None:
        """Two quick taps at one spot: the second lands on whatever is there after the first."""
        widget = self.find(name)
        self._into_view(widget)
        window, point = window_point(widget)
        self.win.idle_watch.shield_until = 0.0
        for _ in range(2):
            QTest.mouseClick(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
            self.taps += 1
            self.settle()

    def _into_view(self, widget: QWidget) -> None:
        parent = widget.parentWidget()
        while parent is not None:
            if isinstance(parent, QScrollArea):
                parent.ensureWidgetVisible(widget)
                break
            parent = parent.parentWidget()

    def digits(self, value: int | str, prefix: str = "key") -> None:
        """Type a number on a keypad, using the 000 key where it saves taps."""
        text = str(value)
        while text:
            if text.startswith("000") and self.exists(f"{prefix}_000"):
                self.tap(f"{prefix}_000")
                text = text[3:]
            else:
                self.tap(f"{prefix}_{text[0]}")
                text = text[1:]

    def amount(self, value: int) -> None:
        """In a number panel: a quick-amount button when there is one, else the keypad; then OK."""
        if self.exists(f"quick_{value}"):
            self.tap(f"quick_{value}")
        else:
            self.digits(value)
        self.tap("number_ok")

    def pin(self, pin: str, prefix: str = "pin") -> None:
        for d in pin:
            self.tap(f"{prefix}_{d}")
        self.tap(f"{prefix}_ok")

    def approve(self, *officers: tuple[int, str]) -> None:
        """Officers (member number, PIN) approve one after the other in the approval panel."""
        for number, pin in officers:
            self.tap(f"officer_{number}")
            self.pin(pin)

    def type_text(self, text: str) -> None:
        """On the on-screen keyboard: one tap per letter (capitals come by themselves at word starts)."""
        for ch in text:
            name = "kb_space" if ch == " " else f"kb_{ch.lower()}"
            if ch.isupper() and not self.find(name).text().isupper():  # type: ignore[attr-defined]
                self.tap("kb_shift")
            self.tap(name)

    def count(self, fund: str, pieces: dict[str, int], prefix: str) -> None:
        """A cash count for one box: touch the box, then each pile and its number of pieces."""
        self.tap(f"{prefix}_fund_{fund}")
        for key, n in pieces.items():
            self.tap(f"{prefix}_{key}")
            self.digits(n, f"{prefix}_key")
