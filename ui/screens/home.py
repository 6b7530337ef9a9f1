"""Home: the groups that meet here, today's date (and whether to trust it), printer and sync."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from kiosk.domain.dates import add_months
from kiosk.services import groups as G
from kiosk.services import meetings as M
from kiosk.store.print_queue import PrintQueue

from .. import theme
from ..i18n import _, long_date, printer_state_name, short_date, step_name
from ..widgets import Scroll, card, column, label, rich_tile, row, set_kind
from .base import Screen

CLOCK_FAR_AHEAD = timedelta(days=400)  # a year without a meeting is likelier a wrong clock than a pause


def next_meeting(last: str | None, frequency: str) -> date | None:
    if not last:
        return None
    day = date.fromisoformat(last)
    if frequency == "monthly":
        return add_months(day, 1)
    return day + timedelta(days=14 if frequency == "biweekly" else 7)


def clock_warning(today: date, groups: list[dict[str, Any]]) -> str:
    """Why the kiosk's date looks wrong, or "" (the Pi has no real-time clock)."""
    last = max((g["last_meeting_date"] for g in groups if g["last_meeting_date"]), default=None)
    if last and today.isoformat() < last:
        return _(
            "L'horloge du kiosque indique le {today}, avant la dernière séance du {last}. "
            "Faites corriger la date avant d'ouvrir une séance.",
            today=short_date(today),
            last=short_date(last),
        )
    if last and today - date.fromisoformat(last) > CLOCK_FAR_AHEAD:
        return _(
            "L'horloge du kiosque indique le {today}, plus d'un an après la dernière séance : vérifiez la date.",
            today=short_date(today),
        )
    return ""


class HomeScreen(Screen):
    needs_officer = False

    def __init__(self, win: Any) -> None:
        super().__init__(win)
        self.kiosk = label("", kind="title", name="home_kiosk", wrap=False)
        self.today = label("", name="home_today", wrap=False)
        self.lay.addLayout(row(self.kiosk, None, self.today))
        self.warning_box = card("warnbox")
        self.warning = label("", kind="warn", name="home_clock_warning")
        box = column(self.warning)
        m = theme.current
        box.setContentsMargins(m.px(10), m.px(6), m.px(10), m.px(6))
        self.warning_box.setLayout(box)
        self.lay.addWidget(self.warning_box)
        self.groups = Scroll(columns=1)
        self.lay.addWidget(self.groups, 1)
        self.printer = label("", kind="small", name="home_printer", wrap=False)
        self.sync = label("", kind="small", name="home_sync")
        self.lay.addLayout(row(self.printer, None, self.sync))
        win.sync.changed.connect(self._sync)

    def title(self) -> str:
        return _("Accueil")

    def enter(self, **kwargs: Any) -> None:
        s = self.s
        name = s.kiosk_name() or _("Kiosque MUSO")
        self.kiosk.setText(f"{name} · {s.kiosk_id()}" if s.kiosk_id() else name)
        today = s.today()
        self.today.setText(_("Aujourd'hui : {date}", date=long_date(today)))
        groups = s.groups()
        warning = clock_warning(today, groups)
        offset = self.win.sync.info.get("clock_offset_ms")
        if not warning and offset is not None and abs(offset) > 5 * 60_000:
            warning = _("L'horloge du kiosque a {minutes} min d'écart avec le serveur.", minutes=abs(offset) // 60_000)
        self.warning.setText("⚠ " + warning if warning else "")
        self.warning_box.setVisible(bool(warning))
        self.groups.clear()
        for g in groups:
            self.groups.add_row(self._group_card(g))
        assigned = G.assigned_groups(self.k)
        for a in assigned:  # given this kiosk by the coordinators, through the sync: set up here, in front of it
            place = ", ".join(p for p in (a["village"], a["cooperative"]) if p)
            detail = (
                _("Attribué à ce kiosque par le coordinateur : touchez pour le créer")
                if a["rules"] is not None
                else _("Règlement introuvable : appelez le coordinateur")
            )
            text = f"{place}\n{detail}" if place else detail
            tile = rich_tile(a["name"], text, f"assigned_{a['name']}", on=lambda a=a: self._create(a))
            tile.setProperty("status", "exception")
            self.groups.add_row(tile)
        if not groups and not assigned:
            self.groups.add_row(
                label(
                    _(
                        "Aucun groupe sur ce kiosque. Un technicien peut en créer un avec "
                        "« muso-kiosk scenario run » ou le recevoir par la synchronisation."
                    ),
                    kind="muted",
                )
            )
        self.groups.done()
        self.poll()
        self._sync()

    def _group_card(self, g: dict[str, Any]) -> Any:
        k = self.k
        lines = [g["name"]]
        place = ", ".join(p for p in (g["village"], g["cooperative"]) if p)
        lines.append(
            _("{place} · {n} membres", place=place, n=g["member_count"])
            if place
            else _("{n} membres", n=g["member_count"])
        )
        if g["open_meeting"]:
            meeting = k.meeting(g["open_meeting"])
            lines.append(
                _(
                    "Séance n° {n} ouverte (étape : {step}) : touchez pour la reprendre",
                    n=meeting["number"],
                    step=step_name(M.step(k, meeting["meeting_id"])),
                )
            )
        elif g["last_meeting_date"]:
            rules = k.rules(g["group_id"])
            nxt = next_meeting(g["last_meeting_date"], rules.frequency.value)
            lines.append(
                _(
                    "Dernière séance n° {n} le {last} · prochaine le {next}",
                    n=g["meeting_count"],
                    last=short_date(g["last_meeting_date"]),
                    next=short_date(nxt),
                )
            )
        else:
            lines.append(_("Pas encore de séance"))
        b = rich_tile(lines[0], "\n".join(lines[1:]), f"group_{g['name']}", on=lambda g=g: self._open(g))
        b.setProperty("status", "paid" if not g["open_meeting"] else "exception")
        return b

    def _create(self, a: dict[str, Any]) -> None:
        def confirmed() -> None:
            ok, group_id = self.win.attempt(G.create_assigned_group, self.k, a["group_id"])
            if ok:
                self.win.toast(_("Groupe {name} créé.", name=a["name"]))
                self._open(self.k.group(group_id))

        place = ", ".join(p for p in (a["village"], a["cooperative"]) if p)
        self.win.confirm(
            _("Créer le groupe {name} ?", name=a["name"]),
            None,
            [line for line in (place, _("Ensuite : son premier responsable, puis ses membres.")) if line],
            confirmed,
            ok_text=_("Créer le groupe"),
        )

    def _open(self, g: dict[str, Any]) -> None:
        s = self.s
        if s.officer is not None and s.officer["group_id"] == g["group_id"]:
            self.win.show_screen("group")
            return
        s.logout()
        s.group_id = g["group_id"]
        self.win.show_screen("login", group_id=g["group_id"])

    def poll(self) -> None:
        status = self.win.printer.status
        pending = PrintQueue(self.k.store).pending_count()
        # A file printer is "ready" and prints nothing: said as the header says it, not "prête".
        state = _("fichier, rien n'est imprimé") if self.win.printer.to_file else printer_state_name(status.state.value)
        self.printer.setText(_("Imprimante : {state} · {n} reçu(s) en attente", state=state, n=pending))

    def _sync(self) -> None:
        info = self.win.sync.info
        if not info.get("available"):
            text = _("Synchronisation : non configurée")
        elif info.get("loading"):
            text = _("Synchronisation : …")
        elif info.get("error"):
            text = _("Synchronisation : erreur ({error})", error=info["error"])
        elif not info.get("server"):
            text = _("Synchronisation : kiosque non inscrit · {n} événement(s) à envoyer", n=info.get("events", 0))
        elif info.get("behind_server") or (info.get("last_error") or "").startswith("chain_diverged:"):
            # Not a network hiccup: this kiosk's history and the server's part ways. Said here, in red.
            behind = bool(info.get("behind_server"))
            text = (
                _("Synchronisation : le serveur a des séances que ce kiosque n'a pas. Appelez le technicien ; "
                  "d'ici là, seule la séance déjà ouverte peut continuer.")
                if behind
                else _("Synchronisation : l'historique de ce kiosque diffère de celui du serveur. Appelez le "
                       "coordinateur.")
            )  # fmt: skip
            self.sync.setText(text)
            set_kind(self.sync, "error")
            return
        else:
            when = info.get("last_success_ms")
            last = (
                short_date(datetime.fromtimestamp(when / 1000, UTC).date()) if when else _("jamais")
            )  # the server's time, not the kiosk's doubtful clock
            text = _(
                "Synchronisation : dernière le {last} · {n} événement(s) à envoyer", last=last, n=info.get("events", 0)
            )
        self.sync.setText(text)
        set_kind(self.sync, "small")
