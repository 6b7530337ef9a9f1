"""The touchscreen app's window: header, screens, panels on top, kiosk mode, idle logout, workers.

The GUI thread renders and records (each use case is one short SQLite
transaction); printing and sync run in threads (ui.workers). Domain refusals
become one translated message here, in ``attempt``, and nowhere else.
"""

from __future__ import annotations

import gc
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QFont, QGuiApplication, QIcon, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QLabel,
    QMainWindow,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.domain.errors import DomainError
from kiosk.services import groups as G
from kiosk.store import StoreError
from kiosk.store.clock import Clock
from kiosk.store.print_queue import PrintQueue
from printer.transports import State

from . import printing, sdnotify, theme
from .i18n import _, error_text, printer_state_name, set_language
from .overlays import ConfirmOverlay, MessageOverlay, Overlay, Toast
from .session import Session
from .widgets import button, label, row
from .workers import PrinterBridge, SyncBridge

INPUT_EVENTS = frozenset(
    {QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin, QEvent.Type.KeyPress, QEvent.Type.Wheel}
)
TAP_EVENTS = frozenset(
    {
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonRelease,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.TouchBegin,
        QEvent.Type.TouchUpdate,
        QEvent.Type.TouchEnd,
    }
)
# After a panel opens or closes, or the screen or step changes, what is under the finger is no longer
# what the finger aimed at: the second tap of a double tap is dropped (it chose another member, skipped
# a confirmation, cancelled an amount). A deliberate next tap, after reading the screen, comes later.
TAP_SHIELD_S = 0.4
PRINTER_COLOURS = {State.READY: "#3FB950", State.PRINTING: "#3FB950", State.PAPER_OUT: "#E3A008"}


class IdleWatch(QObject):
    """Any touch or key restarts the idle timer; when it runs out, the officer is logged out.

    It also drops taps while the tap shield is up (see ``TAP_SHIELD_S``)."""

    def __init__(self, timer: QTimer) -> None:
        super().__init__()
        self.timer = timer
        self.shield_until = 0.0

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() in TAP_EVENTS and time.monotonic() < self.shield_until:
            return True
        if event.type() in INPUT_EVENTS and self.timer.isActive():
            self.timer.start()
        return False


class Header(QFrame):
    """Home, the group's menu, where we are, the printer's state, and who is logged in."""

    def __init__(self, win: MainWindow) -> None:
        super().__init__()
        self.win = win
        self.setObjectName("header")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        m = theme.current
        self.home = button("⌂", "nav_home", on=lambda: win.show_screen("home"))
        self.menu = button(_("Menu"), "nav_menu", on=lambda: win.show_screen("group"))
        self.title = label("", wrap=False, name="header_title")
        self.title.setProperty("kind", "title")
        # A long title is cut rather than widening the window past the screen.
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.printer = button("", "nav_printer", kind="two", on=self._printer)
        self.printer.setIconSize(QSize(m.px(16), m.px(16)))
        self.logout = button("", "nav_logout", kind="two", on=win.logout)
        lay = row(self.home, self.menu, self.title, self.printer, self.logout, spacing=m.px(6))
        lay.setStretch(2, 1)
        lay.setContentsMargins(m.px(4), m.px(3), m.px(4), m.px(3))
        self.setLayout(lay)

    def _printer(self) -> None:
        if self.win.session.officer:
            self.win.show_screen("settings", section="printer")

    def refresh(self, title: str) -> None:
        s = self.win.session
        self.title.setText(title)
        self.menu.setVisible(s.officer is not None and self.win.current_name != "group")
        self.logout.setVisible(s.officer is not None)
        if s.officer:
            self.logout.setText(s.officer["name"].split(" ")[0] + "\n" + _("Déconnexion"))
        self.refresh_printer()

    def refresh_printer(self) -> None:
        status = self.win.printer.status
        pending = PrintQueue(self.win.session.k.store).pending_count()
        colour = PRINTER_COLOURS.get(status.state, "#E5534B")
        if self.win.printer.to_file and status.state in (State.READY, State.PRINTING):
            # No paper comes out: members would take nothing home. Said on every screen, since one
            # officer can choose this setting and the receipts' list still says "imprimé".
            text, colour = _("Reçus en fichier :\nrien n'est imprimé"), PRINTER_COLOURS[State.PAPER_OUT]
        elif status.state in (State.READY, State.PRINTING) and pending:
            text = _("{n} à imprimer", n=pending)
        else:
            text = _("Imprimante {state}", state=printer_state_name(status.state.value))
        self.printer.setIcon(QIcon(theme.dot_pixmap(colour, theme.current.px(16))))
        self.printer.setText(text)


class MainWindow(QMainWindow):
    def __init__(self, session: Session, *, kiosk_mode: bool = True, size: QSize | None = None) -> None:
        super().__init__()
        self.session = session
        self.kiosk_mode = kiosk_mode
        self._may_close = not kiosk_mode
        self.overlays: list[Overlay] = []
        self.screens: dict[str, Any] = {}
        self.current_name = ""
        self.last_toast = ""
        set_language(session.k.store.setting("ui_lang") or "fr")
        if size is None:
            screen = QGuiApplication.primaryScreen()
            size = screen.size() if screen is not None else QSize(800, 480)
        theme.set_metrics(theme.metrics_for(size.width(), size.height()))
        self.setStyleSheet(theme.stylesheet(theme.current))
        self.setWindowTitle("MUSO")
        self.printer = PrinterBridge(session.db_path)
        # A burst of printed receipts (dozens a second on a file printer) redraws once, not per receipt.
        self.printer_redraw = QTimer(self)
        self.printer_redraw.setSingleShot(True)
        self.printer_redraw.setInterval(250)
        self.printer_redraw.timeout.connect(self._printer_changed)
        self.printer.changed.connect(self.printer_redraw.start)
        self.sync = SyncBridge(session.db_path)
        self._build()
        self.idle = QTimer(self)
        self.idle.setSingleShot(True)
        self.idle.timeout.connect(self._idle)
        self.idle_watch = IdleWatch(self.idle)
        # On the window's QWindow, not the application: input reaches it once, while an
        # application filter would run Python for every paint and layout event too.
        self.winId()
        handle = self.windowHandle()
        if handle is not None:
            handle.installEventFilter(self.idle_watch)
        self.poll = QTimer(self)
        self.poll.setInterval(3000)
        self.poll.timeout.connect(self._poll)
        self.sync_poll = QTimer(self)
        self.sync_poll.setInterval(60_000)
        self.sync_poll.timeout.connect(self.sync.refresh)

    def _build(self) -> None:
        central = QWidget()
        central.setObjectName("central")
        self.setCentralWidget(central)
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.header = Header(self)
        self.stack = QStackedWidget()
        lay.addWidget(self.header)
        lay.addWidget(self.stack, 1)
        self.toast_box = Toast(central)
        self.toast_timer = QTimer(self)
        self.toast_timer.setSingleShot(True)
        self.toast_timer.timeout.connect(self.toast_box.hide)

    # -- life cycle ------------------------------------------------------------------------

    def start(self, group_id: str | None = None, *, printer: bool = True) -> None:
        """Start the workers and show the first screen (the login of ``group_id`` if given)."""
        if printer:
            self.printer.start(printing.printer_config(self.session.k))
            QTimer.singleShot(1500, self.printer.warm_up)
        self.poll.start()
        # The first sync status is read a little later: reading it imports kiosk.sync in a
        # thread, which would compete with the first taps for the interpreter.
        QTimer.singleShot(2000, self.sync.refresh)
        self.sync_poll.start()
        if group_id:
            self.session.group_id = group_id
            self.show_screen("login", group_id=group_id)
        else:
            self.show_screen("home")

    def shutdown(self) -> None:
        """Stop timers and workers and close the database (also what a crash would skip)."""
        self.poll.stop()
        self.printer_redraw.stop()
        self.sync_poll.stop()
        self.idle.stop()
        handle = self.windowHandle()
        if handle is not None:
            handle.removeEventFilter(self.idle_watch)
        self.printer.stop()
        self.session.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._may_close:
            event.accept()
            return
        event.ignore()  # kiosk mode: leaving needs an officer's PIN
        self.request_quit()

    def end(self) -> None:
        """Quit at the system's word (SIGTERM), asking nobody. Qt's ``quit`` closes the windows first, and the
        kiosk's refuses without an officer's PIN: the quit was cancelled and systemd killed the app."""
        self._may_close = True
        app = QApplication.instance()
        if app is not None:
            app.exit(0)

    def request_quit(self) -> None:
        from .approval import ApprovalOverlay

        def approved(_approvals: list[Any]) -> None:
            self._may_close = True
            self.close()
            app = QApplication.instance()
            if app is not None:
                app.quit()

        s = self.session
        # Any officer of the group at the keyboard, or of any group when nobody is logged in.
        officers = s.officers() if s.group_id else [o for g in s.groups() for o in G.officers(s.k, g["group_id"])]
        ApprovalOverlay(
            self,
            _("Quitter l'application"),
            _("Un responsable doit taper son code pour quitter."),
            approved,
            needed=1,
            officers=officers,
        ).open()

    # -- navigation ------------------------------------------------------------------------

    def screen(self, name: str) -> Any:
        if name not in self.screens:
            from .screens import SCREENS

            widget = SCREENS[name](self)
            self.screens[name] = widget
            self.stack.addWidget(widget)
        return self.screens[name]

    def shield_taps(self) -> None:
        """What is under the finger has just changed: drop taps for a moment (``TAP_SHIELD_S``)."""
        self.idle_watch.shield_until = time.monotonic() + TAP_SHIELD_S

    def show_screen(self, name: str, **kwargs: Any) -> None:
        self.shield_taps()
        target = self.screen(name)
        if target.needs_officer and self.session.officer is None:
            name, kwargs, target = "login", {"then": name}, self.screen("login")
        old = self.stack.currentWidget()
        if old is not None and old is not target and hasattr(old, "leave_screen"):
            old.leave_screen()
        self.current_name = name
        target.enter(**kwargs)
        self.stack.setCurrentWidget(target)
        self.header.refresh(target.title())
        if self.session.officer is not None:
            self.idle.setInterval(self.session.idle_ms())
            self.idle.start()
        else:
            self.idle.stop()

    def refresh_title(self) -> None:
        widget = self.stack.currentWidget()
        if widget is not None:
            self.header.refresh(widget.title())

    def logged_in(self, officer: dict[str, Any], then: str = "group") -> None:
        self.session.login(officer)
        self.show_screen(then)

    def logout(self, *, reason: str = "") -> None:
        for overlay in list(self.overlays):
            overlay.close_overlay()
        self.session.logout()
        self.show_screen("home")
        if reason:
            self.toast(reason)

    def _idle(self) -> None:
        if self.session.officer is not None:
            self.logout(reason=_("Déconnexion automatique après inactivité."))

    def set_language(self, lang: str) -> None:
        """Every screen is rebuilt in the new language (labels are set when a screen is built)."""
        self.session.k.store.set_setting("ui_lang", lang)
        set_language(lang)
        current = self.current_name
        for widget in self.screens.values():
            self.stack.removeWidget(widget)
            widget.hide()
            widget.deleteLater()
        self.screens.clear()
        old = self.header
        self.header = Header(self)
        self.centralWidget().layout().replaceWidget(old, self.header)
        old.hide()
        old.deleteLater()
        self.show_screen(current or "home")

    # -- feedback --------------------------------------------------------------------------

    def attempt(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[bool, Any]:
        """Run a use case; a refusal becomes a message in the kiosk's language and changes nothing."""
        try:
            return True, fn(*args, **kwargs)
        except DomainError as exc:
            self.message(error_text(exc))
        except StoreError as exc:
            self.message(_("La base de données du kiosque ne répond pas : {error}", error=str(exc)))
        return False, None

    def attempt_each(self, calls: Sequence[tuple[str, Callable[[], Any]]]) -> tuple[int, list[str]]:
        """Use cases recorded one by one (``(who, call)``: a fine per member, a box per contribution):
        a refusal of one does not stop the others, and is noted as "who : why" for ``tell_refusals``.
        Returns how many were recorded, and the refusals. A database that stops answering stops it all."""
        done, refused = 0, []
        for who, call in calls:
            try:
                call()
            except DomainError as exc:
                refused.append(f"{who} : {error_text(exc)}")
                continue
            except StoreError as exc:
                refused.append(f"{who} : " + _("La base de données du kiosque ne répond pas : {error}", error=str(exc)))
                break
            done += 1
        return done, refused

    def tell_refusals(self, head: str, refused: Sequence[str], *, most: int = 5) -> None:
        """What ``attempt_each`` could not record, under ``head`` (what was): a message, not a toast that fades
        while the treasurer reads it. The first ``most`` refusals, one a line: more would leave the screen."""
        lines = list(refused[:most])
        if len(refused) > most:
            lines.append(_("+ {n} autre(s) refusé(s)", n=len(refused) - most))
        self.message("\n".join([head, *lines]), title=_("Pas tout enregistré"))

    def message(self, text: str, *, error: bool = True, title: str = "") -> MessageOverlay:
        return MessageOverlay(self, text, error=error, title=title).open()  # type: ignore[return-value]

    def confirm(self, title: str, amount: int | None, lines: list[str], on_ok: Callable[[], Any], **kw: Any) -> None:
        ConfirmOverlay(self, title, amount, lines, on_ok, **kw).open()

    def retry_printing(self) -> None:
        """The treasurer's "retry": every waiting receipt may be tried now, and the worker is woken."""
        PrintQueue(self.session.k.store).retry_now()
        self.printer.wake()
        self.toast(_("Impression relancée."))

    def reprint(self, job_id: int) -> bool:
        ok, _job = self.attempt(PrintQueue(self.session.k.store).reprint, job_id)
        if ok:
            self.printer.wake()
            self.toast(_("Duplicata ajouté à la file d'impression."))
        return ok

    def toast(self, text: str) -> None:
        self.last_toast = text
        self.toast_box.show_text(text)
        self.toast_timer.start(2500)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.toast_box.isVisible():
            self.toast_box.show_text(self.toast_box.text.text())

    # -- workers -----------------------------------------------------------------------------

    def _printer_changed(self) -> None:
        self.header.refresh_printer()
        widget = self.stack.currentWidget()
        if hasattr(widget, "printer_changed"):
            widget.printer_changed()

    def _poll(self) -> None:
        self.header.refresh_printer()
        widget = self.stack.currentWidget()
        if hasattr(widget, "poll"):
            widget.poll()

    def grab_png(self, path: str | Path) -> Path:
        """A screenshot of the whole window (panels included), for docs/screenshots."""
        pix: QPixmap = self.grab()
        pix.save(str(path))
        return Path(path)


class BindingsError(RuntimeError):
    """The installed Qt bindings would crash the app (see check_bindings)."""


def check_bindings() -> None:
    """Refuse to start on Qt bindings that lose references to None.

    PySide6 6.12.0 on Python 3.11 returns None from every call without taking a
    reference (as if None were immortal, which it is only from Python 3.12):
    after some tens of thousands of calls the process aborts with
    "none_dealloc", in the middle of a meeting. Checked here in microseconds.
    """
    probe = QLabel()
    before = sys.getrefcount(None)
    for _i in range(32):
        probe.setText("")
    if sys.getrefcount(None) < before - 16:
        import PySide6

        raise BindingsError(
            f"PySide6 {PySide6.__version__} perd des références sur Python {sys.version.split()[0]} et ferait "
            "planter l'application : installez PySide6-Essentials<6.12 (pip install 'PySide6-Essentials<6.12')."
        )


def make_app() -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "muso"])
    assert isinstance(app, QApplication)
    check_bindings()
    # The print worker renders receipts (QR codes included) in Python, in its thread: with the
    # default 5 ms GIL slices, each of the many short Python calls a tap makes on the GUI thread
    # could wait that long behind it. Shorter slices keep the screen responsive while printing.
    sys.setswitchinterval(0.0005)
    app.setApplicationName("MUSO")
    font = QFont("DejaVu Sans")  # has every Ewe and Fon letter; installed with fonts-dejavu-core
    app.setFont(font)
    return app


def run(
    db_path: str | Path,
    *,
    windowed: bool = False,
    size: tuple[int, int] = (800, 480),
    group_id: str | None = None,
    lang: str | None = None,
    clock: Clock | None = None,
) -> int:
    """Open the app on ``db_path``; returns the exit code when it is closed."""
    app = make_app()
    session = Session(db_path, clock)
    if lang:
        session.k.store.set_setting("ui_lang", lang)
    if group_id is None:
        groups = G.groups(session.k)
        group_id = groups[0]["group_id"] if len(groups) == 1 else None
    win = MainWindow(session, kiosk_mode=not windowed, size=QSize(*size) if windowed else None)
    win.start(group_id)
    if windowed:
        win.resize(*size)
        win.show()
    else:
        win.showFullScreen()
    QTimer.singleShot(0, lambda: sdnotify.ready("home screen shown"))
    # systemd stops the app with SIGTERM: quit cleanly (workers stopped, STOPPING sent). Python runs
    # signal handlers only between bytecodes, so a timer wakes the interpreter twice a second.
    signal.signal(signal.SIGTERM, lambda *_args: win.end())
    wake = QTimer(win)
    wake.timeout.connect(lambda: None)
    wake.start(500)  # for systemd's log, not a person
    watchdog = sdnotify.start_gui_watchdog(win)
    try:
        return int(app.exec())
    finally:
        if watchdog is not None:
            watchdog.stop()
        sdnotify.stopping()
        win.shutdown()
        dispose(win)


def dispose(win: MainWindow) -> None:
    """Delete the window's Qt objects now, while Python is whole: left to the interpreter's
    final teardown, PySide may release them in an order that aborts the process."""
    win.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
