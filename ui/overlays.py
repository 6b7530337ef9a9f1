"""Full-window panels that ask one thing: a message, a confirmation, a number, a text, a choice, a member.

They are not modal dialogs with their own event loop: each covers the window,
calls back with the answer and goes away. Nothing waits, a test presses their
buttons like any other, and on the 7-inch screen they use every pixel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from kiosk.domain.funds import SMALLEST_PIECE

from . import theme
from .i18n import _, money
from .keys import Keyboard, Keypad, edit_digits
from .widgets import FundTag, Scroll, Tile, button, column, label, row

if TYPE_CHECKING:
    from .app import MainWindow


class Overlay(QFrame):
    """Covers the whole window until answered; the newest one is on top."""

    def __init__(self, win: MainWindow, name: str) -> None:
        host = win.centralWidget()
        super().__init__(host)
        self.win = win
        self.setObjectName("overlay")
        self.setProperty("overlay", name)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setGeometry(host.rect())
        host.installEventFilter(self)
        m = theme.current
        self.lay = QVBoxLayout(self)
        self.lay.setContentsMargins(m.px(14), m.px(10), m.px(14), m.px(10))
        self.lay.setSpacing(m.px(8))
        win.overlays.append(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and obj is self.parent():
            self.setGeometry(self.parentWidget().rect())
        return False

    def open(self) -> Overlay:
        self.win.shield_taps()
        self.show()
        self.raise_()
        return self

    def close_overlay(self) -> None:
        self.win.shield_taps()
        if self in self.win.overlays:
            self.win.overlays.remove(self)
        self.parentWidget().removeEventFilter(self)
        self.hide()
        self.deleteLater()


class GoOnOverlay(Overlay):
    """Moving on from a step that left something undone (members who came and paid nothing, a loan
    filled in and never granted).

    Going back is the big button: the usual cause is the one tap forgotten, and once the meeting
    is closed it can only be done at the next one, if the member is still there.
    """

    def __init__(
        self, win: MainWindow, name: str, title: str, text: str, back: str, on_continue: Callable[[], Any]
    ) -> None:
        super().__init__(win, name)
        self.on_continue = on_continue
        m = theme.current
        self.lay.addWidget(label(title, kind="title", name=f"{name}_title", center=True))
        self.lay.addStretch(1)
        self.lay.addWidget(label(text, kind="warn", name=f"{name}_text", center=True))
        self.lay.addWidget(label(_("Continuer quand même ?"), name=f"{name}_question", center=True))
        self.lay.addStretch(1)
        back_button = button(back, f"{name}_back", kind="primary", on=self.close_overlay, expand=True)
        back_button.setMinimumHeight(m.px(72))
        go_on = button(_("Continuer quand même"), f"{name}_continue", on=self._continue, expand=True)
        line = row(go_on, back_button)
        line.setStretch(1, 2)
        self.lay.addLayout(line)

    def _continue(self) -> None:
        self.close_overlay()
        self.on_continue()


class MessageOverlay(Overlay):
    def __init__(self, win: MainWindow, text: str, *, error: bool = True, title: str = "") -> None:
        super().__init__(win, "message")
        box = QFrame()
        box.setProperty("kind", "errorbox" if error else "card")
        inner = QVBoxLayout(box)
        m = theme.current
        inner.setContentsMargins(m.px(16), m.px(16), m.px(16), m.px(16))
        inner.addWidget(label(title or (_("Impossible") if error else _("Information")), kind="title"))
        self.text = label(text, name="message_text")
        inner.addWidget(self.text)
        self.lay.addStretch(1)
        self.lay.addWidget(box)
        self.lay.addStretch(1)
        self.lay.addLayout(row(None, button(_("Compris"), "message_ok", kind="primary", on=self.close_overlay)))


class ConfirmOverlay(Overlay):
    """The last look before money moves: what, for whom, and the amount in large digits."""

    def __init__(
        self,
        win: MainWindow,
        title: str,
        amount: int | None,
        lines: Sequence[str],
        on_ok: Callable[[], Any],
        *,
        fund: str = "",
        ok_text: str = "",
        danger: bool = False,
    ) -> None:
        super().__init__(win, "confirm")
        self.on_ok = on_ok
        self.lay.addWidget(label(title, kind="title", name="confirm_title", center=True))
        if fund:
            self.lay.addLayout(row(None, FundTag(fund), None))
        self.lay.addStretch(1)
        if amount is not None:
            self.lay.addWidget(label(money(amount), kind="big", name="confirm_amount", center=True))
        for line in lines:
            self.lay.addWidget(label(line, center=True, name="confirm_line"))
        self.lay.addStretch(1)
        self.lay.addLayout(
            row(
                button(_("Annuler"), "confirm_cancel", on=self.close_overlay, expand=True),
                button(
                    ok_text or _("Confirmer"),
                    "confirm_ok",
                    kind="danger" if danger else "primary",
                    on=self._ok,
                    expand=True,
                ),
            )
        )

    def _ok(self) -> None:
        self.close_overlay()
        self.on_ok()


class NumberOverlay(Overlay):
    """An amount (or a count, or months) typed on the keypad, with quick-amount buttons."""

    def __init__(
        self,
        win: MainWindow,
        title: str,
        on_done: Callable[[int], Any],
        *,
        initial: int = 0,
        quick: Sequence[int] = (),
        unit: str = "FCFA",
        allow_zero: bool = False,
        max_digits: int = 9,
        hint: str = "",
        usual_max: int = 0,
        usual_note: str = "",
    ) -> None:
        super().__init__(win, "number")
        self.on_done, self.unit, self.allow_zero, self.max_digits = on_done, unit, allow_zero, max_digits
        # Above it the amount is asked again (0: never): a key pressed too often must not pass unseen.
        self.usual_max, self.usual_note = usual_max, usual_note
        self.quick = set(quick)
        self.value = str(initial) if initial else ""
        self.fresh = bool(initial)
        m = theme.current
        self.lay.addWidget(label(title, kind="title", name="number_title"))
        body = QHBoxLayout()
        body.setSpacing(m.px(14))
        left = QVBoxLayout()
        left.setSpacing(m.px(8))
        self.display = label("", kind="display", name="number_display", wrap=False)
        self.display.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        left.addWidget(self.display)
        self.error = label("", kind="error", name="number_error", hide_empty=True)
        left.addWidget(self.error)
        if hint:
            left.addWidget(label(hint, kind="muted", name="number_hint"))
        grid = QGridLayout()
        grid.setSpacing(m.px(6))
        for i, amount in enumerate(quick):
            text = money(amount) if unit == "FCFA" else f"{amount} {unit}".strip()
            b = button(text, f"quick_{amount}", expand=True)
            b.clicked.connect(lambda _c=False, a=amount: self._set(str(a)))
            grid.addWidget(b, i // 2, i % 2)
        left.addLayout(grid)
        left.addStretch(1)
        left.addLayout(
            row(
                button(_("Annuler"), "number_cancel", on=self.close_overlay, expand=True),
                button(_("Valider"), "number_ok", kind="primary", on=self._ok, expand=True),
            )
        )
        body.addLayout(left, 3)
        pad = Keypad("key", last="000" if unit == "FCFA" else "clear")
        pad.key.connect(self._key)
        body.addWidget(pad, 2)
        self.lay.addLayout(body, 1)
        self._show()

    def _key(self, key: str) -> None:
        # The amount shown on opening is replaced by the first key, as on a calculator.
        current = "" if self.fresh else self.value
        self._set(edit_digits(current, key, self.max_digits))

    def _set(self, value: str) -> None:
        self.fresh = False
        self.error.setText("")
        self.value = value.lstrip("0")[: self.max_digits]
        self._show()

    def _show(self) -> None:
        n = int(self.value or 0)
        self.display.setText(money(n) if self.unit == "FCFA" else f"{n} {self.unit}".strip())

    def _ok(self) -> None:
        n = int(self.value or 0)
        if n == 0 and not self.allow_zero:
            self.display.setText(_("Tapez un nombre"))
            return
        if self.unit == "FCFA" and n % SMALLEST_PIECE and n not in self.quick:
            # No coin makes it: the box could never be counted equal to the books (the quick amounts are
            # the kiosk's own figures, e.g. a PAF rounded to 1 F by an old règlement, and always stand).
            # The next key starts a new amount, as when the panel opens with one.
            self.error.setText(_("Aucune pièce ne fait {amount}.", amount=money(n)))
            self.fresh = True
            return
        if self.usual_max and n > self.usual_max:
            # Asked on top of the keypad: "Annuler" comes back to it with the amount, to be typed again.
            self.fresh = True
            lines = [self.usual_note] if self.usual_note else []
            ConfirmOverlay(
                self.win,
                _("Montant inhabituel : confirmer ?"),
                n,
                [*lines, _("Vérifiez le montant : « Annuler » revient au clavier.")],
                lambda: self._done(n),
                ok_text=_("Confirmer ce montant"),
                danger=True,
            ).open()
            return
        self._done(n)

    def _done(self, n: int) -> None:
        self.close_overlay()
        self.on_done(n)


class TextOverlay(Overlay):
    """A line of text typed on the on-screen keyboard (a physical keyboard works too)."""

    def __init__(
        self,
        win: MainWindow,
        title: str,
        on_done: Callable[[str], Any],
        *,
        initial: str = "",
        auto_caps: bool = True,
        chips: Sequence[str] = (),
        max_len: int = 80,
    ) -> None:
        super().__init__(win, "text")
        self.on_done = on_done
        m = theme.current
        self.edit = QLineEdit(initial)
        self.edit.setObjectName("text_edit")
        self.edit.setMaxLength(max_len)
        self.edit.setMinimumHeight(m.touch)
        top = row(label(title, kind="title", wrap=False), self.edit, spacing=m.px(10))
        top.setStretch(1, 1)
        self.lay.addLayout(top)
        if chips:
            line = QHBoxLayout()
            for i, chip in enumerate(chips):
                b = button(chip, f"chip_{i}", expand=True)
                b.clicked.connect(lambda _c=False, t=chip: self.edit.setText(t))
                line.addWidget(b)
            self.lay.addLayout(line)
        self.keyboard = Keyboard(auto_caps=auto_caps)
        self.keyboard.typed.connect(self.edit.insert)
        self.keyboard.back.connect(self.edit.backspace)
        self.edit.textChanged.connect(lambda t: self.keyboard.start_word(t == "" or t.endswith((" ", "-"))))
        self.keyboard.start_word(initial == "")
        self.lay.addWidget(self.keyboard, 1)
        self.lay.addLayout(
            row(
                button(_("Annuler"), "text_cancel", on=self.close_overlay, expand=True),
                button(_("Valider"), "text_ok", kind="primary", on=self._ok, expand=True),
            )
        )
        self.edit.setFocus()

    def _ok(self) -> None:
        text = " ".join(self.edit.text().split())
        self.close_overlay()
        self.on_done(text)


class ChoiceOverlay(Overlay):
    def __init__(
        self,
        win: MainWindow,
        title: str,
        options: Sequence[tuple[str, str]],
        on_choice: Callable[[str], Any],
        *,
        columns: int = 2,
        current: str | None = None,
        subtitle: str = "",
    ) -> None:
        super().__init__(win, "choice")
        self.on_choice = on_choice
        self.lay.addWidget(label(title, kind="title"))
        if subtitle:
            self.lay.addWidget(label(subtitle, kind="muted"))
        grid = QGridLayout()
        grid.setSpacing(theme.current.px(8))
        for i, (key, text) in enumerate(options):
            b = button(text, f"choice_{key}", expand=True, checkable=current is not None)
            if key == current:
                b.setChecked(True)
            b.clicked.connect(lambda _c=False, k=key: self._pick(k))
            grid.addWidget(b, i // columns, i % columns)
        self.lay.addLayout(grid, 1)
        self.lay.addLayout(row(button(_("Annuler"), "choice_cancel", on=self.close_overlay), None))

    def _pick(self, key: str) -> None:
        self.close_overlay()
        self.on_choice(key)


class MemberPicker(Overlay):
    """Members as big tiles (number and name), with a search by name or number."""

    def __init__(
        self,
        win: MainWindow,
        title: str,
        members: Sequence[dict[str, Any]],
        on_pick: Callable[[dict[str, Any]], Any],
        *,
        note: Callable[[dict[str, Any]], str] | None = None,
    ) -> None:
        super().__init__(win, "picker")
        self.members, self.on_pick, self.note = list(members), on_pick, note
        self.filter = ""
        self.search_btn = button(_("Rechercher"), "pick_search", on=self._search)
        self.lay.addLayout(row(label(title, kind="title"), None, self.search_btn))
        self.list = Scroll(columns=3)
        self.list.set_columns(self.list.columns)
        self.lay.addWidget(self.list, 1)
        self.lay.addLayout(row(button(_("Annuler"), "pick_cancel", on=self.close_overlay), None))
        self._fill()

    def _fill(self) -> None:
        self.list.clear()
        wanted = self.filter.casefold()
        for m in self.members:
            if wanted and wanted not in m["name"].casefold() and wanted != str(m["number"]):
                continue
            text = f"{m['number']}. {m['name']}"
            if self.note:
                text += f"\n{self.note(m)}"
            b = Tile(f"pick_{m['number']}")
            b.setText(text)
            b.clicked.connect(lambda _c=False, m=m: self._pick(m))
            self.list.add(b)
        if self.list.count == 0:
            self.list.add_row(label(_("Personne ne correspond à « {text} ».", text=self.filter), kind="muted"))
        self.list.done()

    def _search(self) -> None:
        def done(text: str) -> None:
            self.filter = text
            self.search_btn.setText(_("Rechercher") + (f" : {text}" if text else ""))
            self._fill()

        TextOverlay(self.win, _("Nom ou numéro"), done, initial=self.filter).open()

    def _pick(self, member: dict[str, Any]) -> None:
        self.close_overlay()
        self.on_pick(member)


class Toast(QFrame):
    """A short note that something was recorded; it fades by itself and never needs a tap."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("toast")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)  # a tap goes to what is under it
        self.text = QLabel(self)
        self.text.setObjectName("toast_text")
        lay = column(self.text)
        m = theme.current
        lay.setContentsMargins(m.px(16), m.px(8), m.px(16), m.px(8))
        self.setLayout(lay)
        self.hide()

    def show_text(self, text: str) -> None:
        host = self.parentWidget().rect()
        m = theme.current
        self.text.setText(text)
        self.text.setWordWrap(True)
        # As wide as the text, but no wider than the room between the Back and Next buttons.
        width = min(self.text.fontMetrics().horizontalAdvance(text) + m.px(40), host.width() * 6 // 10)
        self.setFixedWidth(width)
        self.adjustSize()
        self.move((host.width() - self.width()) // 2, host.height() - self.height() - theme.current.px(6))
        self.show()
        self.raise_()
