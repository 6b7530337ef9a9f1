"""Counting the cash of the three boxes by denomination (billetage), with a keypad always in view.

Touch a box, touch a pile (a note or a coin), type how many pieces. The
counted total, what the books expect and the difference are shown as you go:
a difference is recorded at opening or closing, never hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QVBoxLayout, QWidget

from kiosk.domain.funds import DENOMINATIONS, Fund, count_total
from kiosk.domain.money import group_thousands

from .. import theme
from ..i18n import NBSP, _, francs, fund_name, fund_short, money
from ..keys import Keypad, edit_digits
from ..widgets import button, label, set_kind


def denomination_label(key: str, value: int) -> str:
    # The one value that is both a note and a coin: named first, as said aloud ("un billet de 500").
    if key == "b500":
        return _("Billet 500")
    if key == "c500":
        return _("Pièce 500")
    return group_thousands(value).replace(" ", NBSP)


class CashCount(QWidget):
    changed = Signal()

    def __init__(self, prefix: str) -> None:
        super().__init__()
        m = theme.current
        self.prefix = prefix
        self.counts: dict[str, dict[str, int]] = {f.value: {} for f in Fund}
        self.fresh = True  # the next digit starts the touched pile's count afresh
        self.expected: dict[str, int] = {f.value: 0 for f in Fund}
        self.fund = Fund.VERTE.value
        self.denom = DENOMINATIONS[0][0]
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(m.px(6))
        body = QHBoxLayout()
        body.setSpacing(m.px(10))
        funds = QVBoxLayout()
        funds.setSpacing(m.px(6))
        self.fund_buttons = {}
        for f in Fund:
            b = button("", f"{prefix}_fund_{f.value}", kind="tile", fund=f.value, checkable=True, expand=True)
            b.setIconSize(QSize(m.px(30), m.px(30)))
            b.clicked.connect(lambda _c=False, f=f.value: self.select_fund(f))
            funds.addWidget(b)
            self.fund_buttons[f.value] = b
        body.addLayout(funds, 5)
        grid = QGridLayout()
        grid.setSpacing(m.px(5))
        self.denom_buttons = {}
        for i, (key, _value) in enumerate(DENOMINATIONS):
            b = button("", f"{prefix}_{key}", kind="cell", checkable=True, expand=True)
            b.setProperty("coin", key.startswith("c"))
            b.clicked.connect(lambda _c=False, key=key: self.select_denomination(key))
            grid.addWidget(b, i // 3, i % 3)
            self.denom_buttons[key] = b
        body.addLayout(grid, 9)
        pad = Keypad(f"{prefix}_key", last="clear")
        pad.key.connect(self._key)
        body.addWidget(pad, 5)
        outer.addLayout(body, 1)
        self.summary = label("", name=f"{prefix}_summary", wrap=False)
        outer.addWidget(self.summary)
        self.refresh()

    def set_expected(self, expected: dict[str, int]) -> None:
        self.expected = dict(expected)
        self.refresh()

    def reset(self) -> None:
        self.fresh = True
        self.counts = {f.value: {} for f in Fund}
        self.fund = Fund.VERTE.value
        self.denom = DENOMINATIONS[0][0]
        self.refresh()

    def select_fund(self, fund: str) -> None:
        self.fund = fund
        self.denom = DENOMINATIONS[0][0]
        self.fresh = True
        self.refresh()

    def select_denomination(self, key: str) -> None:
        self.denom = key
        self.fresh = True
        self.refresh()

    def _key(self, key: str) -> None:
        pile = self.counts[self.fund]
        # A pile touched again is counted again: its first digit replaces the count, as on every other
        # keypad (appending made 3 notes and a "2" into 32).
        current = "" if self.fresh and key.isdigit() else str(pile.get(self.denom, "") or "")
        self.fresh = False
        value = edit_digits(current, key, max_len=4)
        pile[self.denom] = int(value or 0)
        self.refresh()
        self.changed.emit()

    def totals(self) -> dict[str, int]:
        return {f: count_total(c) for f, c in self.counts.items()}

    def as_counts(self) -> dict[str, dict[str, int]]:
        return {f: {k: n for k, n in c.items() if n} for f, c in self.counts.items()}

    def refresh(self) -> None:
        totals = self.totals()
        for f, b in self.fund_buttons.items():
            b.setText(f"{fund_short(f).capitalize()}\n{francs(totals[f])}")
            b.setChecked(f == self.fund)
        pile = self.counts[self.fund]
        for key, value in DENOMINATIONS:
            b = self.denom_buttons[key]
            n = pile.get(key, 0)
            b.setText(f"{denomination_label(key, value)}\n×{NBSP}{n}" if n else denomination_label(key, value))
            b.setChecked(key == self.denom)
        diff = totals[self.fund] - self.expected[self.fund]
        self.summary.setText(
            _(
                "{fund} : compté {counted} · attendu {expected} · écart {diff}",
                fund=fund_short(self.fund).capitalize(),
                counted=francs(totals[self.fund]),
                expected=francs(self.expected[self.fund]),
                diff=francs(diff) if diff <= 0 else "+" + francs(diff),
            )
        )
        set_kind(self.summary, "error" if diff else "ok")

    def lines(self) -> list[str]:
        """One line per box for the confirmation: counted, expected, difference."""
        out = []
        totals = self.totals()
        for f in Fund:
            diff = totals[f.value] - self.expected[f.value]
            line = _(
                "{fund} : compté {counted}, attendu {expected}",
                fund=fund_name(f.value),
                counted=money(totals[f.value]),
                expected=money(self.expected[f.value]),
            )
            if diff:
                line += " — " + _("ÉCART {diff}", diff=money(diff, signed=True))
            out.append(line)
        return out

    def discrepancy(self) -> bool:
        totals = self.totals()
        return any(totals[f] != self.expected[f] for f in totals)


class BoxCount(CashCount):
    """The cash count, where a box not counted yet is not a box counted empty.

    An untouched box used to go in as 0 F, and two PINs later a discrepancy of the whole box stayed
    in the books for ever. A box the books expect money in is counted, or declared empty with a tap
    ("Caisse vide"); a box the books expect empty needs nothing, there is no difference to hide.
    """

    def __init__(self, prefix: str, on_change: Callable[[], Any]) -> None:
        super().__init__(prefix)
        self.empty: set[str] = set()
        self.empty_btn = button(_("Caisse vide"), f"{prefix}_empty", on=self.mark_empty, expand=True)
        # In the pile grid's last row, next to the 5 F coins: the screen has no height to spare.
        body = self.layout().itemAt(0).layout()
        grid = next(
            body.itemAt(i).layout() for i in range(body.count()) if isinstance(body.itemAt(i).layout(), QGridLayout)
        )
        free = len(DENOMINATIONS)  # the first free cell of the 3-column grid
        span = 3 - free % 3 if free % 3 else 3
        grid.addWidget(self.empty_btn, free // 3, free % 3, 1, span)
        self.changed.connect(on_change)
        self.refresh()

    def counted(self, fund: str) -> bool:
        return fund in self.empty or count_total(self.counts[fund]) > 0 or self.expected[fund] == 0

    def uncounted(self) -> list[str]:
        return [f.value for f in Fund if not self.counted(f.value)]

    def _key(self, key: str) -> None:
        self.empty.discard(self.fund)
        super()._key(key)

    def mark_empty(self) -> None:
        self.counts[self.fund] = {}
        self.empty.add(self.fund)
        self.fresh = True
        self.refresh()
        self.changed.emit()

    def reset(self) -> None:
        self.empty = set()
        super().reset()

    def refresh(self) -> None:
        super().refresh()
        if not hasattr(self, "empty_btn"):
            return  # CashCount.__init__ draws once before this class has its parts
        for f, b in self.fund_buttons.items():
            if not self.counted(f):
                b.setText(f"{fund_short(f).capitalize()}\n{_('à compter')}")
            elif f in self.empty:
                b.setText(f"{fund_short(f).capitalize()}\n{_('vide')}")
        if not self.counted(self.fund):
            self.summary.setText(
                _(
                    "{fund} : pas encore comptée · attendu {expected}",
                    fund=fund_short(self.fund).capitalize(),
                    expected=francs(self.expected[self.fund]),
                )
            )
            set_kind(self.summary, "warn")

    def refuse_uncounted(self, win: Any) -> bool:
        """True (and says why, on the first box left) while a box is not counted."""
        missing = self.uncounted()
        if not missing:
            return False
        self.select_fund(missing[0])
        win.message(
            _(
                "Pas encore comptée : {funds}. Comptez chaque caisse, "
                "ou touchez « Caisse vide » pour une caisse qui ne contient rien.",
                funds=", ".join(fund_name(f) for f in missing),
            )
        )
        return True

    def as_draft(self) -> dict[str, Any]:
        counts = self.as_counts()
        if not any(counts.values()) and not self.empty:
            return {}
        return {"counts": counts, "empty": sorted(self.empty)}

    def load(self, draft: dict[str, Any]) -> None:
        self.reset()
        known = {key for key, _value in DENOMINATIONS}
        for fund, pile in (draft.get("counts") or {}).items():
            if fund in self.counts and isinstance(pile, dict):
                self.counts[fund] = {k: int(n) for k, n in pile.items() if k in known and isinstance(n, int) and n > 0}
        self.empty = {f for f in draft.get("empty") or [] if f in self.counts}
        self.refresh()
