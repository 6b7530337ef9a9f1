"""Every screen fits 800×480, 1024×600 and 1280×800: nothing grows the window, no text is cut,
every touch target is at least 48 px (about 9 mm on the 7-inch screen)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import ui_support  # noqa: F401  (chooses the offscreen platform before Qt loads)
from PySide6.QtCore import QPoint
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from kiosk.store.print_queue import PrintQueue
from ui import theme
from ui.overlays import Overlay
from ui.screenshots import Tour
from ui.widgets import FitLabel

SLACK = 3  # px: rounding of font metrics


def layout_problems(root: QWidget, m: theme.Metrics) -> list[str]:
    problems = []
    for b in root.findChildren(QPushButton):
        if not b.isVisible() or (not b.isEnabled() and not b.text()):
            continue
        name = b.objectName() or b.text()[:20]
        if b.height() < m.touch or b.width() < m.touch:
            problems.append(f"button {name!r} is {b.width()}×{b.height()} px, below {m.touch}")
        # The style's own measure of the text, padding and icon: narrower than that, the text is cut.
        if b.text() and b.layout() is None and b.sizeHint().width() > b.width() + SLACK:
            problems.append(
                f"button {name!r}: text cut ({b.text()!r} needs {b.sizeHint().width()} px, has {b.width()})"
            )
    for lab in root.findChildren(QLabel):
        if not lab.isVisible() or not lab.text() or lab.wordWrap() or (lab.pixmap() is not None and lab.text() == ""):
            continue
        if lab.objectName() == "header_title":  # cut on purpose rather than widening the window
            continue
        if isinstance(lab, FitLabel):  # its size hint is the text at its largest: the letters it has now must fit
            if QFontMetrics(lab.font()).horizontalAdvance(lab.text()) > lab.contentsRect().width() + SLACK:
                problems.append(f"label {lab.objectName()!r}: text cut even at its smallest ({lab.text()!r})")
            continue
        if lab.sizeHint().width() > lab.width() + SLACK:
            problems.append(f"label {lab.objectName() or lab.text()[:20]!r}: text cut ({lab.text()!r})")
    return problems + cancel_problems(root)


def cancel_problems(root: QWidget) -> list[str]:
    """'Annuler' sits in the bottom-left corner everywhere, where the hand finds it without reading:
    the thumb that goes there to back out must never land on an OK."""
    # Tiles scrolled out of sight are visible to Qt but not to the eye.
    shown = [b for b in root.findChildren(QPushButton) if b.isVisible() and not b.visibleRegion().isEmpty()]
    spots = {b: b.mapTo(root, QPoint(0, 0)) for b in shown}
    bottom = max((p.y() + b.height() for b, p in spots.items()), default=0)
    # The lower half's left edge (a screen's header, above, starts a few pixels further left), the cancel
    # buttons left out of it; with nothing else down there, the overlay's own margin.
    lower = [p.x() for b, p in spots.items() if p.y() > root.height() // 2 and not b.objectName().endswith("_cancel")]
    margin = root.layout().contentsMargins().left() if root.layout() is not None else 0
    left = margin if isinstance(root, Overlay) else min(lower, default=margin)  # an overlay: its own margin
    return [
        f"button {b.objectName()!r} is not in the bottom-left corner"
        for b, p in spots.items()
        if b.objectName().endswith("_cancel") and (p.y() + b.height() < bottom - SLACK or p.x() > left + SLACK)
    ]


class CheckedTour(Tour):
    """The screenshot tour, checking each screen instead of photographing it."""

    def shot(self, name: str) -> None:
        self.d.settle()
        size = self.win.size()
        if (size.width(), size.height()) != self.size:
            self.problems.append(f"{name}: the window grew to {size.width()}×{size.height()}")
        root = self.win.overlays[-1] if self.win.overlays else self.win
        self.problems += [f"{name}: {p}" for p in layout_problems(root, theme.current)]


@pytest.mark.parametrize(
    ("size", "lang"),
    # English is checked on the smallest screen, where it is hardest to fit.
    [((800, 480), "fr"), ((1024, 600), "fr"), ((1280, 800), "fr"), ((800, 480), "en")],
)
def test_every_screen_fits(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int], lang: str
) -> None:
    monkeypatch.setenv("MUSO_DATA_DIR", str(tmp_path))
    tour = CheckedTour(tmp_path, size, lang, tmp_path)
    tour.problems = []
    try:
        tour.run()
        # The pictures show a printer that keeps up: the demo's past receipts and this meeting's are out.
        assert PrintQueue(tour.win.session.k.store).pending_count() == 0
    finally:
        tour.close()
    assert not tour.problems, "\n".join(tour.problems)


def test_a_long_name_and_a_large_amount_wrap_whole_on_their_tile(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cut with "…", two members called "Adjoavi Kpodzro-Hou…" could only be told apart by their numbers,
    and an exception's amount lost its end: every letter and figure is painted, on as many lines as it
    takes, and the tile is as tall as its lines."""
    from datetime import date

    from ui_support import prepare_db, running_app, to_contributions

    from kiosk.services import Kiosk
    from kiosk.services import groups as G
    from ui.widgets import Tile

    path, group_id = prepare_db(tmp_path, monkeypatch)
    long_name = "Adjoavi Kpodzro-Hounkanrin Épouse Agbodjan"
    with Kiosk.open(path) as k:
        number = G.add_member(k, group_id, long_name, "F", joined=date(2026, 1, 5))["number"]
    with running_app(qtbot, path, group_id) as a:
        to_contributions(a)
        a.d.tap(f"contrib_member_{number}")
        a.d.tap("contrib_verte_other")
        a.d.digits(1250000)
        a.d.tap("number_ok")
        a.d.tap("confirm_ok")  # an unusual amount, asked again
        a.d.tap("contrib_rouge_400")
        a.d.tap("contrib_ok")
        for name in (f"contrib_member_{number}", "step_attendance", f"att_{number}"):
            if name.startswith("step_"):
                a.d.tap(name)
                continue
            tile = a.d.find(name)
            a.d.settle()
            assert isinstance(tile, Tile) and long_name in tile.text()  # the whole name, for whoever reads it
            painted = QPushButton.text(tile)
            assert "…" not in painted
            # Broken only between words, or after a hyphen: put back on one line, it reads as the whole.
            assert " ".join(painted.split()).replace("- ", "-") == " ".join(tile.text().split())
            room = tile.width() - theme.current.px(20)
            assert all(QFontMetrics(tile.font()).horizontalAdvance(line) <= room for line in painted.split("\n"))
            assert tile.height() >= tile.sizeHint().height()  # no line lost at the top or bottom edge
            if name.startswith("contrib_"):
                assert "1\u00a0250\u00a0000\u00a0F + 400\u00a0F" in painted
        assert a.d.text(f"att_{number}").endswith("\nPrésente")  # she is a woman: said of her, it agrees
        # The form's member field, on the loan that goes to her, and the members' list: wrapped whole too.
        a.d.tap("step_loans")
        a.d.tap("loan_member")
        a.d.tap(f"pick_{number}")
        for name in ("loan_member", f"member_{number}"):
            if name.startswith("member_"):
                a.win.show_screen("members")
            else:
                a.win.show_screen("meeting", step="loans")
            tile = a.d.find(name)
            a.d.settle()
            painted = QPushButton.text(tile)
            assert " ".join(painted.split()).replace("- ", "-") == " ".join(tile.text().split())
            room = tile.width() - theme.current.px(20)
            assert all(QFontMetrics(tile.font()).horizontalAdvance(line) <= room for line in painted.split("\n"))
            assert tile.height() >= tile.sizeHint().height()


def test_the_pin_overlays_the_tour_never_shows_have_annuler_in_the_corner_too(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui_support import prepare_db, running_app

    from ui.approval import NewPinOverlay
    from ui.screens.members import PinChangeOverlay

    path, group_id = prepare_db(tmp_path, monkeypatch)
    with running_app(qtbot, path, group_id) as a:
        member = a.k.store.query("SELECT * FROM p_members WHERE group_id = ? LIMIT 1", (group_id,))[0]
        for overlay in (
            NewPinOverlay(a.win, member["name"], lambda pin: None),
            PinChangeOverlay(a.win, member, lambda old, new: None, ask_current=True),
        ):
            overlay.open()
            a.d.settle()
            assert not cancel_problems(overlay), overlay.objectName()
            overlay.close_overlay()
