"""Sizes, colours and the three boxes' icons, drawn in code (no image files to ship or lose).

Sizes scale with the screen height: the 7-inch 800×480 screen is the base,
and every touch target stays at least 48 px there (about 9 mm).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

FUND_COLOURS = {"verte": "#2E7D32", "rouge": "#C62828", "bleue": "#1565C0"}
FUND_LIGHT = {"verte": "#E3F1E4", "rouge": "#FBE5E5", "bleue": "#E2EDF9"}
STATUS_COLOURS = {
    "present": "#2E7D32",
    "late": "#E08E00",
    "absent": "#C62828",
    "excused": "#6B7280",
    "represented": "#7B3FA0",
}
INK = "#1F2328"
MUTED = "#5B636E"
PAPER = "#F6F4EF"
CARD = "#FFFFFF"
ACCENT = "#0B6E4F"
WARN = "#B45309"
DANGER = "#B42318"


@dataclass(frozen=True)
class Metrics:
    """Pixel sizes for one screen; ``scale`` is 1 on the 800×480 screen."""

    scale: float

    def px(self, base: float) -> int:
        return max(1, round(base * self.scale))

    @property
    def touch(self) -> int:
        """A touch target's outer height: 48 px (about 9 mm) on the 7-inch screen."""
        return self.px(48)

    @property
    def font(self) -> int:
        return self.px(17)

    @property
    def small(self) -> int:
        return self.px(14)

    @property
    def title(self) -> int:
        return self.px(22)

    @property
    def big(self) -> int:
        return self.px(52)


def metrics_for(width: int, height: int) -> Metrics:
    # Never below the 7-inch base: smaller text would be unreadable at arm's length.
    return Metrics(max(1.0, min(width / 800, height / 480)))


# The window sets this once it knows its screen; widgets read sizes from it.
current = Metrics(1.0)


def set_metrics(m: Metrics) -> None:
    global current
    current = m


def stylesheet(m: Metrics) -> str:
    r = m.px(10)
    return f"""
    QWidget {{ color: {INK}; font-size: {m.font}px; }}
    QMainWindow, #central, #screen {{ background: {PAPER}; }}
    QScrollArea, QScrollArea > QWidget > QWidget {{ background: transparent; border: none; }}
    QLabel {{ background: transparent; }}
    QLabel[kind="title"] {{ font-size: {m.title}px; font-weight: bold; }}
    QLabel[kind="muted"] {{ color: {MUTED}; font-size: {m.small}px; }}
    QLabel[kind="small"] {{ font-size: {m.small}px; }}
    QLabel[kind="warn"] {{ color: {WARN}; font-weight: bold; }}
    QLabel[kind="error"] {{ color: {DANGER}; font-weight: bold; }}
    QLabel[kind="ok"] {{ color: {ACCENT}; font-weight: bold; }}
    QLabel[kind="big"] {{ font-size: {m.big}px; font-weight: bold; }}
    QLabel[kind="display"] {{ font-size: {m.px(34)}px; font-weight: bold; background: {CARD};
        border: 2px solid #C9CDD2; border-radius: {r}px; padding: {m.px(4)}px {m.px(10)}px; }}
    QFrame[kind="card"] {{ background: {CARD}; border: 1px solid #DDD8CC; border-radius: {r}px; }}
    QFrame[kind="warnbox"] {{ background: #FFF4E0; border: 2px solid {WARN}; border-radius: {r}px; }}
    QFrame[kind="errorbox"] {{ background: #FDECEA; border: 2px solid {DANGER}; border-radius: {r}px; }}
    QFrame#header {{ background: #243B34; }}
    QFrame#header QLabel {{ color: white; }}
    QFrame#header QPushButton {{ background: #35524A; color: white; border-color: #35524A; }}
    QFrame#overlay {{ background: {PAPER}; }}
    QFrame#toast {{ background: #243B34; border-radius: {r}px; }}
    QFrame#toast QLabel {{ color: white; font-weight: bold; font-size: {m.small}px; }}
    QPushButton {{ min-height: {m.touch - 4}px; min-width: {m.touch - 4}px; padding: 0 {m.px(8)}px;
        background: {CARD}; border: 2px solid #C9CDD2; border-radius: {r}px; }}
    QPushButton:pressed {{ background: #DDE3E0; }}
    QPushButton:disabled {{ color: #9AA0A6; background: #EEECE6; border-color: #DDDAD2; }}
    QPushButton:checked {{ background: #D5EBDD; border: 3px solid {ACCENT}; font-weight: bold; }}
    QPushButton[kind="primary"] {{ background: {ACCENT}; color: white; border-color: {ACCENT}; font-weight: bold; }}
    QPushButton[kind="primary"]:disabled {{ background: #9DB9AE; color: #EEF3F1; border-color: #9DB9AE; }}
    QPushButton[kind="danger"] {{ background: {DANGER}; color: white; border-color: {DANGER}; font-weight: bold; }}
    QPushButton[kind="flat"] {{ background: transparent; border-color: transparent; text-align: left; }}
    QPushButton[kind="key"] {{ font-size: {m.px(24)}px; font-weight: bold; padding: 0; }}
    QPushButton[kind="cell"] {{ font-size: {m.px(16)}px; padding: 0 {m.px(2)}px; min-width: 0; }}
    QPushButton#nav_home {{ font-size: {m.px(28)}px; }}
    QFrame#header QLabel[kind="title"] {{ font-size: {m.px(19)}px; }}
    QPushButton[kind="two"] {{ font-size: {m.small}px; }}
    QPushButton[kind="tile"] {{ text-align: left; padding: {m.px(6)}px {m.px(10)}px; }}
    QPushButton[kind="step"] {{ min-width: 0; padding: 0 {m.px(2)}px; font-size: {m.small}px;
        border-radius: {m.px(6)}px; }}
    QPushButton[kind="step"][state="done"] {{ background: #D5EBDD; border-color: #9CCBAE; }}
    QPushButton[kind="step"][state="current"] {{ background: {ACCENT}; color: white; border-color: {ACCENT};
        font-weight: bold; }}
    QPushButton[status="present"] {{ border-left: {m.px(8)}px solid {STATUS_COLOURS["present"]}; }}
    QPushButton[status="late"] {{ border-left: {m.px(8)}px solid {STATUS_COLOURS["late"]}; background: #FFF4E0; }}
    QPushButton[status="absent"] {{ border-left: {m.px(8)}px solid {STATUS_COLOURS["absent"]}; background: #FDECEA; }}
    QPushButton[status="excused"] {{ border-left: {m.px(8)}px solid {STATUS_COLOURS["excused"]};
        background: #EEEFF1; }}
    QPushButton[status="represented"] {{ border-left: {m.px(8)}px solid {STATUS_COLOURS["represented"]};
        background: #F3E9F8; }}
    QPushButton[status="paid"] {{ border-left: {m.px(8)}px solid {ACCENT}; background: #EAF5EE; }}
    QPushButton[status="exception"] {{ border-left: {m.px(8)}px solid {WARN}; background: #FFF4E0; }}
    QPushButton[status="reversed"] {{ color: {MUTED}; background: #EEECE6; }}
    QPushButton[fund="verte"] {{ border-left: {m.px(8)}px solid {FUND_COLOURS["verte"]}; }}
    QPushButton[fund="rouge"] {{ border-left: {m.px(8)}px solid {FUND_COLOURS["rouge"]}; }}
    QPushButton[fund="bleue"] {{ border-left: {m.px(8)}px solid {FUND_COLOURS["bleue"]}; }}
    QScrollBar:vertical {{ width: {m.px(16)}px; background: #E6E3DB; border-radius: {m.px(8)}px; }}
    QScrollBar::handle:vertical {{ background: #9AA1A9; border-radius: {m.px(8)}px; min-height: {m.px(48)}px; }}
    QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; }}
    """


@cache
def fund_pixmap(fund: str, size: int) -> QPixmap:
    """A cash box in the fund's colour: body, lid with a coin slot, a lock."""
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    colour = QColor(FUND_COLOURS.get(fund, MUTED))
    s = float(size)
    body = QRectF(s * 0.08, s * 0.34, s * 0.84, s * 0.56)
    lid = QRectF(s * 0.04, s * 0.16, s * 0.92, s * 0.24)
    p.setPen(QPen(colour.darker(150), max(1.0, s / 24)))
    p.setBrush(colour)
    path = QPainterPath()
    path.addRoundedRect(body, s * 0.06, s * 0.06)
    p.drawPath(path)
    p.setBrush(colour.darker(125))
    p.drawRoundedRect(lid, s * 0.06, s * 0.06)
    p.setPen(QPen(QColor("#1B1B1B"), max(1.5, s / 14), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawLine(int(s * 0.36), int(s * 0.28), int(s * 0.64), int(s * 0.28))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#F2C94C"))
    p.drawEllipse(QRectF(s * 0.42, s * 0.52, s * 0.16, s * 0.16))
    p.end()
    return pix


def fund_icon(fund: str, size: int = 32) -> QIcon:
    return QIcon(fund_pixmap(fund, size))


@cache
def dot_pixmap(colour: str, size: int) -> QPixmap:
    """A status light (printer, sync)."""
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(QColor(colour).darker(140), 1))
    p.setBrush(QColor(colour))
    p.drawEllipse(QRectF(1, 1, size - 2, size - 2))
    p.end()
    return pix
