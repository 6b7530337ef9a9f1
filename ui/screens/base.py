"""What every screen shares: the window, the session, and a padded layout."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from .. import theme

if TYPE_CHECKING:
    from ..app import MainWindow


class Screen(QWidget):
    needs_officer = True

    def __init__(self, win: MainWindow) -> None:
        super().__init__()
        self.win = win
        self.s = win.session
        self.k = win.session.k
        self.setObjectName("screen")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        m = theme.current
        self.lay = QVBoxLayout(self)
        self.lay.setContentsMargins(m.px(8), m.px(5), m.px(8), m.px(5))
        self.lay.setSpacing(m.px(6))

    def enter(self, **kwargs: Any) -> None:
        """Shown: read what it needs from the ledger (screens never cache money)."""

    def title(self) -> str:
        return ""
