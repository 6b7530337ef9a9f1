"""Settings (officers only): the printer and its queue, language, the kiosk's identity, sync, backup, quit.

Anything slow (a test page on a stuck printer, a sync over 2G, a backup to a
slow stick) runs in a thread (ui.workers.Task); the screen shows the answer
when it comes.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QStackedWidget, QVBoxLayout, QWidget

from kiosk.store import Store
from kiosk.store.backup import backup
from kiosk.store.print_queue import PrintQueue
from kiosk.sync import state
from printer.escpos_out import as_text, render
from printer.test_page import self_test_page
from printer.transports import Job, State, Status

from .. import printing, theme
from ..approval import ApprovalOverlay
from ..forms import Field, Form
from ..i18n import _, job_status_name, language, printer_state_name, short_date
from ..overlays import TextOverlay
from ..widgets import Scroll, button, column, label, line_card, row
from ..workers import Task, sync_enroll, sync_error_text, sync_now
from .base import Screen

MOUNT_GLOBS = ("/media/*", "/media/*/*", "/run/media/*/*", "/mnt/*")


def usb_sticks() -> list[Path]:
    """Mounted removable drives, where a backup can go."""
    found = []
    for pattern in MOUNT_GLOBS:
        for path in sorted(glob.glob(pattern)):
            if os.path.ismount(path) and os.access(path, os.W_OK):
                found.append(Path(path))
    return found


def send_test_page(cfg: dict[str, Any], server: str | None) -> Status:
    style = printing.style(cfg)
    blocks = self_test_page(style.width, server_url=server)
    transport = printing.transport(cfg)
    try:
        status = transport.status()
        if status.state is not State.READY:
            return status
        transport.send(Job(render(blocks, style), as_text(blocks, style.width, style.codepage), "test"))
        return transport.status()
    finally:
        transport.close()


def backup_to(db_path: Path, dest: Path) -> Path:
    with Store(db_path) as store:  # its own connection: the GUI thread keeps recording meanwhile
        return backup(store, dest)


class SettingsScreen(Screen):
    def __init__(self, win: Any) -> None:
        super().__init__(win)
        m = theme.current
        menu = QVBoxLayout()
        menu.setSpacing(m.px(6))
        self.panel = QStackedWidget()
        self.tabs: dict[str, Any] = {}
        self.sections: dict[str, QWidget] = {}
        for key, text, build in (
            ("printer", _("Imprimante"), self._printer_panel),
            ("language", _("Langue"), self._language_panel),
            ("kiosk", _("Kiosque"), self._kiosk_panel),
            ("sync", _("Synchronisation"), self._sync_panel),
            ("backup", _("Sauvegarde"), self._backup_panel),
        ):
            b = button(text, f"settings_{key}", checkable=True, on=lambda key=key: self.show_section(key), expand=True)
            menu.addWidget(b)
            self.tabs[key] = b
            widget = build()
            self.sections[key] = widget
            self.panel.addWidget(widget)
        menu.addWidget(button(_("Quitter l'application"), "settings_quit", kind="danger", on=self._quit, expand=True))
        body = row(menu, self.panel, spacing=m.px(12))
        body.setStretch(0, 2)
        body.setStretch(1, 5)
        self.lay.addLayout(body, 1)
        self.section = "printer"
        win.sync.changed.connect(self._sync_refresh)

    def title(self) -> str:
        return _("Paramètres")

    def enter(self, **kwargs: Any) -> None:
        self.show_section(kwargs.get("section", self.section))

    def show_section(self, key: str) -> None:
        self.section = key
        for k, b in self.tabs.items():
            b.setChecked(k == key)
        self.panel.setCurrentWidget(self.sections[key])
        getattr(self, f"_{key}_refresh")()

    def _quit(self) -> None:
        if self.win.kiosk_mode:
            self.win.request_quit()
        else:
            self.win.close()

    # -- printer -----------------------------------------------------------------------------

    def _printer_panel(self) -> QWidget:
        scroll = Scroll(columns=1)
        self.printer_state = label("", kind="title", name="printer_state")
        scroll.add_row(self.printer_state)
        self.printer_form = Form(
            self.win,
            "pr",
            [
                Field(
                    "connection",
                    _("Branchement"),
                    "toggle",
                    options=[("file", _("fichier")), ("serial", _("série")), ("usb", "USB"), ("network", _("réseau"))],
                ),
                Field("port", _("Port série"), "text", required=False, auto_caps=False),
                Field("usb", _("USB"), "text", required=False, auto_caps=False),
                Field("host", _("Réseau"), "text", required=False, auto_caps=False),
                Field(
                    "width",
                    _("Papier"),
                    "toggle",
                    options=[("32", "58 mm"), ("42", "80 mm · 42"), ("48", "80 mm · 48")],
                ),
            ],
        )
        scroll.add_row(self.printer_form)
        scroll.add_row(
            row(
                button(_("Enregistrer le réglage"), "printer_save", kind="primary", on=self._printer_save),
                button(_("Page de test"), "printer_test", on=self._printer_test),
                button(_("Réessayer"), "printer_retry", on=self._printer_retry),
                None,
            )
        )
        self.queue_title = label("", kind="title", name="printer_queue")
        scroll.add_row(self.queue_title)
        self.queue = column()
        holder = QWidget()
        holder.setLayout(self.queue)
        scroll.add_row(holder)
        return scroll

    def _printer_refresh(self) -> None:
        cfg = printing.printer_config(self.k)
        status = self.win.printer.status
        self.printer_state.setText(
            _("Imprimante {state}", state=printer_state_name(status.state.value))
            + (f" — {status.reason}" if status.reason else "")
        )
        usb = f"{cfg['vendor']}:{cfg['product']}" if cfg.get("vendor") else ""
        for key, value in (
            ("connection", cfg.get("connection")),
            ("port", cfg.get("port")),
            ("usb", usb),
            ("host", cfg.get("host")),
            ("width", str(cfg.get("width", 32))),
        ):
            self.printer_form.set(key, value or "")
        queue = PrintQueue(self.k.store)
        self.queue_title.setText(_("File d'impression : {n} reçu(s) en attente", n=queue.pending_count()))
        from ..widgets import clear

        clear(self.queue)
        jobs = queue.jobs(limit=12)
        # As on the receipts step: what has not come out yet is not reprinted (PrintQueue.reprint refuses it).
        reprintable = queue.reprintable(jobs)
        for job in jobs:
            title = f"{job['number'] or job['title']}" + (" · " + _("DUPLICATA") if job["duplicate"] else "")
            reprint = button(_("Réimprimer"), f"queue_reprint_{job['id']}", on=lambda j=job["id"]: self._reprint(j))
            reprint.setVisible(job["id"] in reprintable)
            status = label(job_status_name(job["status"], to_file=self.win.printer.to_file), kind="small", wrap=False)
            self.queue.addWidget(line_card(title, status, reprint))

    def printer_changed(self) -> None:
        if self.section == "printer":
            self.printer_state.setText(
                _("Imprimante {state}", state=printer_state_name(self.win.printer.status.state.value))
            )

    def _printer_save(self) -> None:
        v = self.printer_form.values
        values: dict[str, Any] = {"connection": v["connection"], "width": int(v["width"] or 32)}
        if v["connection"] == "serial":
            values["port"] = v["port"]
        elif v["connection"] == "usb":
            vendor, _sep, product = (v["usb"] or "").partition(":")
            values |= {"vendor": vendor, "product": product}
        elif v["connection"] == "network":
            values["host"] = v["host"]
        try:
            cfg = printing.set_printer_config(self.k, values)
        except (ValueError, KeyError) as exc:
            self.win.message(_("Réglage refusé : {error}", error=str(exc)))
            return
        self.win.printer.restart(cfg)
        self.win.toast(_("Réglage de l'imprimante enregistré."))
        self._printer_refresh()

    def _printer_test(self) -> None:
        cfg = printing.printer_config(self.k)
        server = state.server_url(self.k.store)

        def done(status: Any, error: BaseException | None) -> None:
            if error is not None:
                self.win.message(_("Page de test impossible : {error}", error=str(error)))
            elif status.state is not State.READY:
                self.win.message(
                    _(
                        "Imprimante non prête : {state} {reason}",
                        state=printer_state_name(status.state.value),
                        reason=status.reason,
                    )
                )
            else:
                self.win.toast(_("Page de test envoyée."))

        self.win.toast(_("Envoi de la page de test…"))
        Task(lambda: send_test_page(cfg, server), done)

    def _printer_retry(self) -> None:
        self.win.retry_printing()

    def _reprint(self, job_id: int) -> None:
        self.win.reprint(job_id)
        self._printer_refresh()

    # -- language and kiosk ------------------------------------------------------------------

    def _language_panel(self) -> QWidget:
        w = QWidget()
        self.lang_buttons = {
            "fr": button("Français", "lang_fr", checkable=True, on=lambda: self.win.set_language("fr"), expand=True),
            "en": button("English", "lang_en", checkable=True, on=lambda: self.win.set_language("en"), expand=True),
        }
        w.setLayout(
            column(
                label(_("Langue de l'écran (les reçus restent en français)."), kind="small"),
                row(*self.lang_buttons.values()),
                None,
            )
        )
        return w

    def _language_refresh(self) -> None:
        for lang, b in self.lang_buttons.items():
            b.setChecked(lang == language())

    def _kiosk_panel(self) -> QWidget:
        w = QWidget()
        self.kiosk_id = label("", name="kiosk_id")
        self.kiosk_form = Form(
            self.win,
            "ks",
            [
                Field("name", _("Nom du kiosque"), "text"),
                Field(
                    "idle",
                    _("Déconnexion après"),
                    "toggle",
                    options=[(str(n), _("{n} min", n=n)) for n in (2, 5, 10, 15)],
                ),
            ],
        )
        self.kiosk_form.changed.connect(self._kiosk_save)
        self.kiosk_data = label("", kind="muted", name="kiosk_data")
        w.setLayout(column(self.kiosk_id, self.kiosk_form, self.kiosk_data, None))
        return w

    def _kiosk_refresh(self) -> None:
        self._loading = True
        self.kiosk_id.setText(_("Identifiant du kiosque : {id}", id=self.s.kiosk_id() or _("non défini")))
        self.kiosk_form.set("name", self.s.kiosk_name())
        self.kiosk_form.set("idle", str(self.s.idle_ms() // 60_000))
        seq, _head = self.k.store.head()
        self.kiosk_data.setText(_("Journal : {n} événements", n=seq))
        self._loading = False

    def _kiosk_save(self) -> None:
        if getattr(self, "_loading", True):
            return
        v = self.kiosk_form.values
        if v.get("name") and v["name"] != self.s.kiosk_name():
            self.k.store.set_setting("kiosk_name", v["name"])
            self.win.toast(_("Nom du kiosque enregistré."))
        if v.get("idle") and int(v["idle"]) * 60_000 != self.s.idle_ms():
            self.k.store.set_setting("ui_idle_minutes", v["idle"])
            self.win.idle.setInterval(self.s.idle_ms())
            self.win.toast(_("Déconnexion après {n} min sans toucher l'écran.", n=v["idle"]))

    # -- sync --------------------------------------------------------------------------------

    def _sync_panel(self) -> QWidget:
        w = QWidget()
        self.sync_text = label("", name="sync_text")
        self.sync_btn = button(_("Synchroniser maintenant"), "sync_now", kind="primary", on=self._sync_now)
        self.enroll_form = Form(
            self.win,
            "en",
            [
                Field("server", _("Serveur"), "text", auto_caps=False),
                Field("code", _("Code d'inscription"), "text", auto_caps=False),
            ],
        )
        self.enroll_btn = button(_("Inscrire ce kiosque"), "sync_enroll", on=self._enroll)
        self.enroll_form.changed.connect(lambda: self.enroll_btn.setEnabled(self.enroll_form.complete()))
        self.enroll_btn.setEnabled(False)
        self.sync_body = QWidget()
        self.sync_body.setLayout(
            column(
                row(self.sync_btn, None),
                label(_("Inscription auprès du serveur :"), kind="small"),
                self.enroll_form,
                row(self.enroll_btn, None),
            )
        )
        w.setLayout(column(self.sync_text, self.sync_body, None))
        return w

    def _sync_refresh(self) -> None:
        info = self.win.sync.info
        if not info.get("available"):
            self.sync_text.setText(
                _(
                    "La synchronisation n'est pas disponible sur ce kiosque : le journal reste "
                    "complet ici et pourra être envoyé plus tard."
                )
            )
            self.sync_body.setVisible(False)
            return
        self.sync_body.setVisible(True)
        if info.get("loading"):
            text = _("Lecture de l'état…")
        elif info.get("error"):
            text = _("Erreur : {error}", error=info["error"])
        else:
            last = info.get("last_success_ms")
            from datetime import UTC, datetime

            when = short_date(datetime.fromtimestamp(last / 1000, UTC).date()) if last else _("jamais")
            text = _(
                "Serveur : {server}\nDernière synchronisation : {when}\nÀ envoyer : {n} événement(s), {m} séance(s)",
                server=info.get("server") or _("non inscrit"),
                when=when,
                n=info.get("events", 0),
                m=info.get("meetings", 0),
            )
            if info.get("last_error"):
                text += "\n" + _("Dernière erreur : {error}", error=info["last_error"])
        self.sync_text.setText(text)
        self.sync_btn.setEnabled(bool(info.get("server")))

    def _sync_now(self) -> None:
        self.sync_btn.setEnabled(False)
        self.win.toast(_("Synchronisation en cours…"))
        lang = language()

        def done(report: Any, error: BaseException | None) -> None:
            self.sync_btn.setEnabled(True)
            if error is not None:
                self.win.message(sync_error_text(error, lang))
            else:
                self.win.toast(_("Synchronisé : {n} événement(s) envoyé(s).", n=report.pushed))
            self.win.sync.refresh()

        Task(lambda: sync_now(self.s.db_path), done)

    def _enroll(self) -> None:
        v = dict(self.enroll_form.values)
        lang = language()

        def done(_data: Any, error: BaseException | None) -> None:
            if error is not None:
                self.win.message(sync_error_text(error, lang))
            else:
                self.win.toast(_("Kiosque inscrit."))
            self.win.sync.refresh()

        self._vouched(
            _("Inscrire ce kiosque"), lambda: Task(lambda: sync_enroll(self.s.db_path, v["server"], v["code"]), done)
        )

    def _vouched(self, title: str, then: Callable[[], Any]) -> None:
        """A second officer's PIN before what reaches beyond the group: a backup carries every group's
        books and PIN hashes (a 4-digit PIN falls to an offline search), enrolling says where every
        group's journal goes. One officer alone, or a passer-by who became one, must not do either."""
        me = self.s.officer["member_id"] if self.s.officer else None
        others = [o for o in self.s.officers() if o["member_id"] != me]
        if not others:  # a group with one officer so far (its set-up): nobody else to ask
            then()
            return
        ApprovalOverlay(
            self.win, title, _("Un autre responsable approuve."), lambda _approvals: then(), needed=1, officers=others
        ).open()

    # -- backup ------------------------------------------------------------------------------

    def _backup_panel(self) -> QWidget:
        w = QWidget()
        self.sticks = column()
        self.backup_result = label("", name="backup_result")
        w.setLayout(
            column(
                label(_("Branchez une clé USB, puis touchez-la pour y copier toute la base du kiosque."), kind="small"),
                self.sticks,
                button(_("Autre dossier…"), "backup_other", on=self._backup_other),
                self.backup_result,
                None,
            )
        )
        return w

    def _backup_refresh(self) -> None:
        from ..widgets import clear

        clear(self.sticks)
        sticks = usb_sticks()
        for path in sticks:
            self.sticks.addWidget(
                button(
                    _("Sauvegarder sur {path}", path=str(path)),
                    f"backup_{path.name}",
                    kind="primary",
                    on=lambda p=path: self._backup(p),
                )
            )
        if not sticks:
            self.sticks.addWidget(label(_("Aucune clé USB trouvée."), kind="muted", name="backup_none"))

    def _backup_other(self) -> None:
        TextOverlay(
            self.win, _("Dossier de destination"), lambda t: self._backup(Path(t)) if t else None, auto_caps=False
        ).open()

    def _backup(self, dest: Path) -> None:
        self._vouched(_("Sauvegarde"), lambda: self._backup_now(dest))

    def _backup_now(self, dest: Path) -> None:
        self.backup_result.setText(_("Sauvegarde en cours…"))

        def done(path: Any, error: BaseException | None) -> None:
            if error is not None:
                self.backup_result.setText("")
                self.win.message(_("Sauvegarde impossible : {error}", error=str(error)))
            else:
                self.backup_result.setText(_("Sauvegarde écrite : {path}", path=str(path)))
                self.win.toast(_("Sauvegarde terminée."))

        Task(lambda: backup_to(self.s.db_path, dest), done)
