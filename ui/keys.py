"""The numeric keypad and the letter keyboard: typing with taps on a screen with no keyboard.

Keys are as big as any other control (theme.Metrics.touch) and carry object names, so tests press
them like a finger would.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from . import theme
from .i18n import _
from .widgets import button


class Keypad(QWidget):
    """Phone-style digits (1 2 3 on top, as on the mobile-money phones people know).

    Emits ``key`` with "0".."9", "000", "back" or "ok"; the owner keeps the value.
    """

    key = Signal(str)

    def __init__(self, prefix: str = "key", *, last: str = "000", ok_text: str = "") -> None:
        super().__init__()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(theme.current.px(6))
        keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "back", "0", last]
        for i, k in enumerate(keys):
            if k == "back":
                text = "⌫"
            elif k == "clear":
                text = "C"
            elif k == "ok":
                text = ok_text or _("OK")
            else:
                text = k
            b = button(text, f"{prefix}_{k}", kind="primary" if k == "ok" else "key", expand=True)
            b.clicked.connect(lambda _c=False, k=k: self.key.emit(k))
            grid.addWidget(b, i // 3, i % 3)


def edit_digits(value: str, key: str, max_len: int = 9) -> str:
    """The keypad's effect on a string of digits (no leading zeros)."""
    if key == "back":
        return value[:-1]
    if key == "clear":
        return ""
    if not key.isdigit():
        return value
    out = (value + key).lstrip("0")
    return out[:max_len] if len(out) <= max_len else value


# -- the letter keyboard ---------------------------------------------------------------------

LETTERS = ("azertyuiop", "qsdfghjklm", "wxcvbn'-")
ACCENTS = "éèêëàâçôùûîï"
DIGITS = "1234567890.,/()"
EWE_FON = "ɖɛƒɣŋɔʋ"


class Keyboard(QWidget):
    """AZERTY letters, French accents, and the Ewe and Fon letters ɖ ɛ ƒ ɣ ŋ ɔ ʋ, with capitals.

    ``auto_caps`` capitalises the first letter of each word (names); shift
    capitalises the next letter, as on a phone.
    """

    typed = Signal(str)
    back = Signal()

    def __init__(self, *, auto_caps: bool = True) -> None:
        super().__init__()
        self.auto_caps = auto_caps
        self.shift = False
        self.caps_next = auto_caps
        self.digits = False
        self.keys: list[tuple[QPushButton, str]] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(theme.current.px(5))
        for letters in LETTERS:
            line = QHBoxLayout()
            line.setSpacing(theme.current.px(5))
            if letters.startswith("w"):
                self.shift_btn = button("⇧", "kb_shift", kind="key", on=self._toggle_shift, checkable=True, expand=True)
                line.addWidget(self.shift_btn)
            for ch in letters:
                line.addWidget(self._key(ch))
            if letters.startswith("w"):
                line.addWidget(button("⌫", "kb_back", kind="key", on=self._back, expand=True), 2)
            lay.addLayout(line)
        self.accent_line = QHBoxLayout()
        self.accent_line.setSpacing(theme.current.px(5))
        self.accent_keys = [self._key(ch) for ch in ACCENTS]
        for b in self.accent_keys:
            self.accent_line.addWidget(b)
        lay.addLayout(self.accent_line)
        last = QHBoxLayout()
        last.setSpacing(theme.current.px(5))
        self.mode_btn = button("123", "kb_mode", kind="key", on=self._toggle_digits, expand=True)
        last.addWidget(self.mode_btn, 2)
        for ch in EWE_FON:
            last.addWidget(self._key(ch))
        last.addWidget(button(_("espace"), "kb_space", on=lambda: self._type(" "), expand=True), 4)
        lay.addLayout(last)
        self._refresh()

    def _key(self, ch: str) -> QPushButton:
        b = button(ch, f"kb_{ch}", kind="key", expand=True)
        b.clicked.connect(lambda _c=False, b=b: self._type(b.text()))
        b.setMinimumWidth(0)
        self.keys.append((b, ch))
        return b

    def _type(self, text: str) -> None:
        self.typed.emit(text)
        if self.shift:
            self.shift = False
            self.shift_btn.setChecked(False)
        self.caps_next = self.auto_caps and text in " -'"
        self._refresh()

    def _back(self) -> None:
        self.back.emit()

    def _toggle_shift(self) -> None:
        self.shift = self.shift_btn.isChecked()
        self.caps_next = False
        self._refresh()

    def _toggle_digits(self) -> None:
        self.digits = not self.digits
        self._refresh()

    def start_word(self, at_start: bool) -> None:
        """Called by the owner when the text changes: capitals at the start of a name."""
        self.caps_next = self.auto_caps and at_start
        self._refresh()

    def _refresh(self) -> None:
        upper = self.shift or self.caps_next
        pool = DIGITS if self.digits else ACCENTS
        for i, b in enumerate(self.accent_keys):
            ch = pool[i] if i < len(pool) else ""
            b.setEnabled(bool(ch))
            b.setText(ch.upper() if upper and not self.digits else ch)
            b.setObjectName(f"kb_{ch}" if ch else f"kb_none{i}")
        for b, ch in self.keys:
            if b in self.accent_keys:
                continue
            b.setText(ch.upper() if upper else ch)
        self.mode_btn.setText("àé" if self.digits else "123")
