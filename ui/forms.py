"""Small forms made of big buttons: each field shows its value and opens the right keypad when touched."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QPushButton, QWidget

from . import theme
from .i18n import _, money
from .overlays import MemberPicker, NumberOverlay, TextOverlay
from .widgets import Tile, button, clear, label

if TYPE_CHECKING:
    from .app import MainWindow


@dataclass
class Field:
    key: str
    text: str
    kind: str  # member | amount | number | text | toggle
    options: Sequence[tuple[str, str]] = ()  # toggle: (value, label)
    quick: Sequence[int] = ()
    unit: str = ""
    required: bool = True
    default: Any = None
    members: Callable[[], list[dict[str, Any]]] | None = None
    chips: Sequence[str] = ()
    auto_caps: bool = True
    fund_icons: bool = False
    per_row: int = 4  # toggle buttons per line: five roles need two lines at 800 px

    def offers(self, value: Any) -> bool:
        """A toggle's value among its choices."""
        return value in {v for v, _label in self.options}


class Form(QWidget):
    """Fields in a grid: a label on the left, the value (a button) on the right."""

    changed = Signal()

    def __init__(self, win: MainWindow, name: str, fields: Sequence[Field]) -> None:
        super().__init__()
        self.win, self.name, self.fields = win, name, list(fields)
        self.values: dict[str, Any] = {}
        self.buttons: dict[str, QPushButton] = {}
        self.toggles: dict[str, dict[str, QPushButton]] = {}
        self.toggle_rows: dict[str, QGridLayout] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(theme.current.px(6))
        grid.setColumnStretch(1, 1)
        for i, f in enumerate(self.fields):
            lab = label(f.text, wrap=True)
            lab.setAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
            grid.addWidget(lab, i, 0)
            if f.kind == "toggle":
                line = QGridLayout()
                line.setSpacing(theme.current.px(6))
                self.toggle_rows[f.key] = line
                self._toggle_buttons(f)
                grid.addLayout(line, i, 1)
            else:
                # Wrapped whole: "5. Adjoavi Kpodzro-Hounkanrin Épouse Agbod" ran off the edge mid-word,
                # on the very field that says to whom a loan or an aid goes.
                b = Tile(f"{name}_{f.key}")
                b.clicked.connect(lambda _c=False, f=f: self._edit(f))
                grid.addWidget(b, i, 1)
                self.buttons[f.key] = b
        self.reset()

    def _toggle_buttons(self, f: Field) -> None:
        line = self.toggle_rows[f.key]
        clear(line)
        self.toggles[f.key] = {}
        for i, (value, text) in enumerate(f.options):
            b = button(
                text, f"{self.name}_{f.key}_{value}", checkable=True, fund=value if f.fund_icons else "", expand=True
            )
            b.clicked.connect(lambda _c=False, key=f.key, v=value: self.set(key, v))
            line.addWidget(b, i // f.per_row, i % f.per_row)
            self.toggles[f.key][value] = b

    def set_options(self, key: str, options: Sequence[tuple[str, str]]) -> None:
        """New choices for a toggle field (e.g. loan terms after the règlement changed); the choice made
        stays if it is still offered."""
        f = next(f for f in self.fields if f.key == key)
        f.options = list(options)
        self._toggle_buttons(f)
        current = self.values.get(key)
        self.set(key, current if f.offers(current) else f.default)

    def reset(self) -> None:
        for f in self.fields:
            self.values[f.key] = f.default
            self._show(f)
        self.changed.emit()

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value
        self._show(next(f for f in self.fields if f.key == key))
        self.changed.emit()

    def snapshot(self) -> dict[str, Any]:
        """What was typed, as a draft can keep it (a member by id): only the fields set off their default."""
        kept: dict[str, Any] = {}
        for f in self.fields:
            value = self.values.get(f.key)
            if value in (None, "") or value == f.default:
                continue
            kept[f.key] = value["member_id"] if f.kind == "member" else value
        return kept

    def restore(self, saved: Any) -> None:
        """A ``snapshot`` typed back in. What no longer fits is left out, never guessed: a member who has
        left since, a term the règlement no longer offers, a value of the wrong kind (a draft is a setting,
        and a setting may come from an older version)."""
        if not isinstance(saved, dict):
            return
        for f in self.fields:
            value = saved.get(f.key)
            if f.kind == "member":
                found = [m for m in (f.members() if f.members else []) if m["member_id"] == value]
                value = found[0] if found else None
            elif f.kind in ("amount", "number"):
                value = value if type(value) is int and value > 0 else None
            elif f.kind == "toggle":
                value = value if f.offers(value) else None
            else:
                value = value if isinstance(value, str) and value else None
            if value is not None:
                self.values[f.key] = value
                self._show(f)
        self.changed.emit()

    def complete(self) -> bool:
        return all(self.values.get(f.key) not in (None, "") for f in self.fields if f.required)

    def _show(self, f: Field) -> None:
        value = self.values.get(f.key)
        if f.kind == "toggle":
            for v, b in self.toggles[f.key].items():
                b.setChecked(v == value)
            return
        if value in (None, ""):
            text = _("Toucher pour choisir") if f.kind == "member" else _("Toucher pour saisir")
        elif f.kind == "member":
            text = f"{value['number']}. {value['name']}"
        elif f.kind == "amount":
            text = money(value)
        elif f.kind == "number":
            text = f"{value} {f.unit}".strip()
        else:
            text = str(value)
        self.buttons[f.key].setText(text)

    def _edit(self, f: Field) -> None:
        def done(value: Any) -> None:
            self.set(f.key, value)

        if f.kind == "member":
            assert f.members is not None
            MemberPicker(self.win, f.text, f.members(), done).open()
        elif f.kind in ("amount", "number"):
            NumberOverlay(
                self.win,
                f.text,
                done,
                initial=self.values.get(f.key) or 0,
                quick=f.quick,
                unit="FCFA" if f.kind == "amount" else f.unit,
                allow_zero=not f.required,
            ).open()
        else:
            TextOverlay(
                self.win, f.text, done, initial=self.values.get(f.key) or "", chips=f.chips, auto_caps=f.auto_caps
            ).open()
