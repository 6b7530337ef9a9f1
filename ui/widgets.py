"""Touch building blocks: big buttons, tiles, cards and kinetic lists (the keypad and the keyboard: ui/keys.py).

Every control is at least 48 px on the 800×480 screen (theme.Metrics.touch),
works with one tap (no hover, no right-click, no double tap), and carries an
object name so tests can press it like a finger would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QScrollArea,
    QScroller,
    QScrollerProperties,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from . import theme
from .i18n import fund_name


def style_again(widget: QWidget) -> None:
    """Re-apply the style sheet after a dynamic property changed (Qt does not do it by itself)."""
    widget.style().unpolish(widget)
    widget.style().polish(widget)
    if isinstance(widget, Tile):
        widget.hold_height()  # the polish put the style sheet's minimum back


def button(
    text: str,
    name: str = "",
    *,
    kind: str = "",
    on: Callable[[], Any] | None = None,
    fund: str = "",
    checkable: bool = False,
    expand: bool = False,
) -> QPushButton:
    b = QPushButton(text)
    if name:
        b.setObjectName(name)
    if kind:
        b.setProperty("kind", kind)
    if fund:
        show_fund(b, fund)
    b.setCheckable(checkable)
    b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a touch screen has no focus ring to show
    if expand:
        b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    if on is not None:
        b.clicked.connect(lambda _checked=False: on())
    return b


def show_fund(b: QPushButton, fund: str) -> None:
    """A button's box: its colour (the style sheet's ``fund`` property) and its icon."""
    b.setProperty("fund", fund)
    b.setIcon(theme.fund_icon(fund, 64))
    size = theme.current.px(26)
    b.setIconSize(QSize(size, size))


class Tile(QPushButton):
    """A member's tile in a grid of three: each line wrapped between words to the tile's width, the tile
    as tall as it needs. Cut with "…", three "Adjoavi Kpodzro-Hou…" in one grid could only be told apart
    by their numbers, and an exception's amount lost its end ("1 250 000 F + 2…"): the treasurer reads
    the name aloud and the member checks the figure.

    ``text()`` is the whole text; what is painted is that text wrapped. Its width is the grid's, never its
    longest name's (which would push the grid wider than the screen)."""

    def __init__(self, name: str) -> None:
        super().__init__("")
        self.setObjectName(name)
        self.setProperty("kind", "tile")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.whole = ""

    def text(self) -> str:  # type: ignore[override]
        return self.whole

    def setText(self, text: str) -> None:  # type: ignore[override]
        self.whole = text
        self._fit()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        from PySide6.QtGui import QFontMetrics

        metrics = QFontMetrics(self.font())
        room = self.width() - theme.current.px(24)  # the tile's padding and border, both sides
        fitted = "\n".join(
            "\n".join(wrap_words(line, metrics.horizontalAdvance, room)) if room > 0 else line
            for line in self.whole.split("\n")
        )
        if fitted != super().text():
            super().setText(fitted)
            self.hold_height()

    def hold_height(self) -> None:
        """As tall as the wrapped lines. The style sheet's min-height becomes the widget's own minimum,
        which a layout obeys over any size hint: in a scrolled grid, a tile of three lines kept the
        height of two and lost its first and last lines at the edges."""
        self.setMinimumHeight(0)
        self.setMinimumHeight(self.sizeHint().height())


def wrap_words(text: str, width: Callable[[str], int], room: int) -> list[str]:
    """``text`` in lines no wider than ``room``, broken between words, or after a hyphen inside a word
    too long for a line ("Kpodzro-" / "Hounkanrin"). Only a single piece wider than the line alone
    still runs over: a letter is never dropped."""
    pieces: list[tuple[str, str]] = []  # (piece, what joins it to the one before)
    for word in text.split(" "):
        parts = word.split("-") if width(word) > room and "-" in word.strip("-") else [word]
        pieces += [(p + "-" if i < len(parts) - 1 else p, "" if i else " ") for i, p in enumerate(parts)]
    lines: list[str] = []
    for piece, glue in pieces:
        if lines and width(lines[-1] + glue + piece) <= room:
            lines[-1] += glue + piece
        else:
            lines.append(piece)
    return lines or [""]


def set_kind(widget: QWidget, kind: str) -> None:
    widget.setProperty("kind", kind)
    style_again(widget)


def set_status(widget: QWidget, status: str) -> None:
    widget.setProperty("status", status)
    style_again(widget)


class Note(QLabel):
    """A label that takes no room while it has nothing to say (errors, warnings)."""

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setVisible(bool(text))


class FitLabel(QLabel):
    """One line whose letters shrink until it fits: wrapped in a one-line box, "mercredi 30 septembre
    2026" lost its top and bottom, on the one screen whose job is to have the date checked."""

    def __init__(self, name: str, *, largest: int, smallest: int) -> None:
        super().__init__()
        self.setObjectName(name)
        self.setWordWrap(False)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # Its width is the room the layout gives, never what its longest text would want.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.largest, self.smallest, self.font_px = largest, smallest, largest

    def setText(self, text: str) -> None:
        super().setText(text)
        self._fit()

    def sizeHint(self) -> QSize:
        # Under a Preferred policy, it asks for its text's width at the largest size (what its letters
        # need now, shrunk, would hand its room to the others), and gives way down to nothing.
        from PySide6.QtGui import QFont, QFontMetrics

        font = QFont(self.font())
        font.setPixelSize(self.largest)
        width = QFontMetrics(font).horizontalAdvance(self.text()) + theme.current.px(16)
        return QSize(width, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        from PySide6.QtGui import QFont, QFontMetrics

        font, room = QFont(self.font()), self.contentsRect().width() - theme.current.px(16)
        size = self.largest
        font.setPixelSize(size)
        while size > self.smallest and QFontMetrics(font).horizontalAdvance(self.text()) > room:
            size -= 1
            font.setPixelSize(size)
        if size != self.font_px:  # only on a change: a new style sheet lays the window out again
            self.font_px = size
            self.setStyleSheet("" if size == self.largest else f"font-size: {size}px;")


def label(
    text: str = "", *, kind: str = "", name: str = "", wrap: bool = True, center: bool = False, hide_empty: bool = False
) -> QLabel:
    lab = Note(text) if hide_empty else QLabel(text)
    if hide_empty:
        lab.setVisible(bool(text))
    if kind:
        lab.setProperty("kind", kind)
    if name:
        lab.setObjectName(name)
    lab.setWordWrap(wrap)
    lab.setTextFormat(Qt.TextFormat.PlainText)
    if center:
        lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return lab


def card(kind: str = "card") -> QFrame:
    frame = QFrame()
    frame.setProperty("kind", kind)
    return frame


def line_card(text: str | QWidget, *trailing: QWidget, fund: str = "", kind: str = "small", name: str = "") -> QFrame:
    """One line of a list: the box's icon, text that takes the room, then values or buttons."""
    m = theme.current
    box = card()
    lay = QHBoxLayout(box)
    lay.setContentsMargins(m.px(8), m.px(2), m.px(4), m.px(2))
    lay.setSpacing(m.px(8))
    if fund:
        lay.addWidget(fund_icon_label(fund))
    lay.addWidget(label(text, kind=kind, name=name) if isinstance(text, str) else text, 1)
    for widget in trailing:
        lay.addWidget(widget)
    box.setMinimumHeight(m.touch + m.px(4))
    return box


class RichTile(QPushButton):
    """A big button with a bold first line (a QPushButton cannot mix fonts in its own text).

    The labels live in the button's layout; the size hints include it, since a
    button otherwise sizes itself from its own (empty) text.
    """

    def sizeHint(self) -> QSize:
        return super().sizeHint().expandedTo(self.layout().sizeHint())

    def minimumSizeHint(self) -> QSize:
        return super().minimumSizeHint().expandedTo(self.layout().minimumSize())


def rich_tile(title: str, detail: str, name: str, on: Callable[[], Any] | None = None) -> QPushButton:
    m = theme.current
    b = RichTile()
    b.setObjectName(name)
    b.setProperty("kind", "tile")
    b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    if on is not None:
        b.clicked.connect(lambda _checked=False: on())
    lay = QVBoxLayout(b)
    lay.setContentsMargins(m.px(14), m.px(6), m.px(10), m.px(6))
    lay.setSpacing(m.px(2))
    lay.addWidget(label(title, kind="title", wrap=False))
    lay.addWidget(label(detail, wrap=False))
    return b


def row(*items: QWidget | QLayout | int | None, spacing: int | None = None) -> QHBoxLayout:
    return _fill(QHBoxLayout(), items, spacing)


def column(*items: QWidget | QLayout | int | None, spacing: int | None = None) -> QVBoxLayout:
    return _fill(QVBoxLayout(), items, spacing)


def _fill(layout: QBoxLayout, items: Iterable[QWidget | QLayout | int | None], spacing: int | None) -> Any:
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(theme.current.px(8) if spacing is None else spacing)
    for item in items:
        if item is None:
            layout.addStretch(1)
        elif isinstance(item, int):
            layout.addSpacing(item)
        elif isinstance(item, QLayout):
            layout.addLayout(item)
        else:
            layout.addWidget(item)
    return layout


def clear(layout: QLayout) -> None:
    """Remove and delete everything in a layout (lists are rebuilt from the ledger, never patched)."""
    while layout.count():
        item = layout.takeAt(0)
        if item.widget() is not None:
            item.widget().hide()
            item.widget().deleteLater()
        elif item.layout() is not None:
            clear(item.layout())


def kinetic(area: QScrollArea) -> None:
    """Flick to scroll with a finger, as on a phone.

    Touch gestures only: a scroller that also grabs mouse presses holds each
    press back to see whether it becomes a drag, and under a quick tap it can
    swallow the press, so the button under the finger does not react. Touch
    screens send touch events (Wayland, evdev); with a mouse, the wide scroll
    bar scrolls.
    """
    viewport = area.viewport()
    viewport.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, True)
    QScroller.grabGesture(viewport, QScroller.ScrollerGestureType.TouchGesture)
    scroller = QScroller.scroller(viewport)
    props = scroller.scrollerProperties()
    # A list that bounces far looks broken on a slow screen; sideways it never moves.
    props.setScrollMetric(QScrollerProperties.ScrollMetric.OvershootDragResistanceFactor, 0.2)
    props.setScrollMetric(
        QScrollerProperties.ScrollMetric.HorizontalOvershootPolicy,
        QScrollerProperties.OvershootPolicy.OvershootAlwaysOff,
    )
    scroller.setScrollerProperties(props)


class Scroll(QScrollArea):
    """A kinetic list; ``grid`` lays children in ``columns`` columns."""

    def __init__(self, columns: int = 1) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.body = QWidget()
        self.columns = columns
        self.grid = QGridLayout(self.body)
        self.grid.setContentsMargins(0, 0, theme.current.px(8), 0)
        self.grid.setSpacing(theme.current.px(6))
        self.grid.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.setWidget(self.body)
        self.count = 0
        kinetic(self)

    def clear(self) -> None:
        """Empty the list, out of sight until ``done``: one layout pass, not one per row added."""
        self.body.hide()
        clear(self.grid)
        self.count = 0

    def done(self) -> None:
        self.body.show()

    def add(self, widget: QWidget | QLayout, span: int = 1) -> QWidget | QLayout:
        if span > 1 and self.count % self.columns:
            self.count += self.columns - self.count % self.columns
        r, c = divmod(self.count, self.columns)
        if isinstance(widget, QLayout):
            self.grid.addLayout(widget, r, c, 1, span)
        else:
            self.grid.addWidget(widget, r, c, 1, span)
        self.count += span
        return widget

    def add_row(self, widget: QWidget | QLayout) -> QWidget | QLayout:
        return self.add(widget, self.columns)

    def set_columns(self, columns: int) -> None:
        self.columns = columns
        for c in range(columns):
            self.grid.setColumnStretch(c, 1)


class FundTag(QWidget):
    """The box's icon and name: wherever a fund appears, it is shown the same way."""

    def __init__(self, fund: str, text: str | None = None, *, size: int | None = None) -> None:
        super().__init__()
        size = size or theme.current.px(28)
        icon = QLabel()
        icon.setPixmap(
            theme.fund_pixmap(fund, size * 2).scaled(size, size, mode=Qt.TransformationMode.SmoothTransformation)
        )
        icon.setFixedSize(size, size)
        self.text = label(text if text is not None else fund_name(fund), wrap=False)
        lay = row(icon, self.text, spacing=theme.current.px(6))
        self.setLayout(lay)


def fund_icon_label(fund: str, size: int | None = None) -> QLabel:
    size = size or theme.current.px(28)
    icon = QLabel()
    icon.setPixmap(
        theme.fund_pixmap(fund, size * 2).scaled(size, size, mode=Qt.TransformationMode.SmoothTransformation)
    )
    icon.setFixedSize(size, size)
    return icon
