"""``muso-kiosk`` commands of the application layer: the app (run, demo) and the printer.

Registered through kiosk.cli's extension hook. Nothing here imports Qt at
import time: the app is loaded inside the command, so the CLI starts fast and
works on a machine without a screen.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

from kiosk import cli as kiosk_cli
from kiosk import config
from kiosk.cli import EXIT_INPUT, EXIT_OK, EXIT_STORE, print_report
from kiosk.demo import ROLES, demo_scenario
from kiosk.scenario import Runner
from kiosk.services import Kiosk
from kiosk.services import groups as G
from kiosk.services import statements as ST
from kiosk.services.movements import active_loans
from kiosk.store.print_queue import PrintQueue
from kiosk.sync import state
from printer.escpos_out import as_text, render
from printer.layout import layout
from printer.preview import to_png
from printer.test_page import self_test_page
from printer.transports import Job, State
from printer.worker import render_job

from . import instance, printing
from .i18n import role_name


def _kiosk(args: argparse.Namespace) -> Kiosk:
    """The kiosk's own database, which ``init`` made: a mistyped --db must not become an empty kiosk
    that takes the printer's settings (or opens the app on no group)."""
    return kiosk_cli._kiosk(args, existing=True)


def _headless() -> bool:
    """No screen to open a window on (an SSH session, CI): the app cannot start."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return False
    return sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    try:
        return int(width), int(height)
    except ValueError:
        raise argparse.ArgumentTypeError(f"taille attendue LARGEURxHAUTEUR, ex. 800x480 (reçu : {text})") from None


def _launch(args: argparse.Namespace, path: Path, group_id: str | None, lang: str | None) -> int:
    from .app import BindingsError, run  # Qt is loaded only now

    try:
        with instance.held(path):
            return run(path, windowed=args.windowed, size=args.size, group_id=group_id, lang=lang)
    except (BindingsError, instance.AlreadyOpen) as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return EXIT_INPUT


DEMO_NAME = "Kiosque de démonstration"


def _is_demo(path: Path) -> bool:
    """Whether ``path`` is absent or a demo database: the demo rebuilds its database from scratch."""
    if not path.exists():
        return True
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM settings WHERE key = 'kiosk_name'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return row is not None and row[0] == DEMO_NAME


def cmd_demo(args: argparse.Namespace) -> int:
    path = Path(args.db) if args.db else config.demo_db_path()
    if not _is_demo(path):
        print(
            f"{path} n'est pas une base de démonstration : la démo ne l'efface pas. Donnez un autre --db.",
            file=sys.stderr,
        )
        return EXIT_INPUT
    if instance.in_use(path):  # its files deleted under it, an open app's entries would go nowhere
        print(f"La démo est déjà ouverte sur {path} : fermez-la d'abord.", file=sys.stderr)
        return EXIT_INPUT
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    receipts_dir = path.parent / "receipts"
    for name in ("receipts.txt", "receipts.bin"):
        (receipts_dir / name).unlink(missing_ok=True)
    with Kiosk.open(path) as k:
        k.store.set_setting("kiosk_id", "K00")
        k.store.set_setting("kiosk_name", DEMO_NAME)
        printing.set_printer_config(k, {"connection": "file", "path": str(receipts_dir)})
        group_id = Runner(k).run(demo_scenario())
        officers = [(m["name"], m["role"]) for m in G.officers(k, group_id)]
        cfg = printing.printer_config(k)
        app = not (args.no_app or args.json)
        if app and _headless():
            print("Pas d'écran (ni DISPLAY ni WAYLAND_DISPLAY) : voici le rapport à la place de l'application.",
                  file=sys.stderr)  # fmt: skip
            app = False
        if not app:
            print_report(k, group_id, args.json)
    print(f"Base de démonstration : {path}", file=sys.stderr)
    pins = dict(ROLES.values())
    codes = ", ".join(f"{name} ({role_name(role).lower()}) {pins[role]}" for name, role in officers if role in pins)
    print(f"Codes des responsables : {codes}", file=sys.stderr)
    # The demo's past meetings handed out their receipts back then: the app opens with no backlog.
    worker = printing.worker_for(path, cfg)
    printed = worker.drain()
    worker.transport.close()
    print(f"{printed} reçus imprimés sur l'imprimante fichier : {receipts_dir / 'receipts.txt'}", file=sys.stderr)
    if app:
        print("Les reçus de la séance s'y impriment aussi.", file=sys.stderr)
        return _launch(args, path, group_id, args.lang)
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    """The kiosk itself: its own database (kiosk.config), fullscreen, leaving needs an officer's PIN."""
    db = kiosk_cli.db_file(args, existing=True)  # a mistyped --db is said first: a screen would not fix it
    if _headless():
        print("Pas d'écran (ni DISPLAY ni WAYLAND_DISPLAY, ni QT_QPA_PLATFORM) : impossible d'ouvrir l'application.",
              file=sys.stderr)  # fmt: skip
        return EXIT_INPUT
    return _launch(args, db, None, None)


def cmd_setup(args: argparse.Namespace) -> int:
    values = {key: getattr(args, key) for key in ("connection", "path", "port", "baudrate", "host", "width",
                                                  "codepage", "codepage_slot", "profile")}  # fmt: skip
    if args.usb:
        vendor, _, product = args.usb.partition(":")
        values |= {"vendor": vendor, "product": product}
    with _kiosk(args) as k:
        try:
            cfg = printing.set_printer_config(k, values)
        except ValueError as exc:
            print(f"Réglage refusé : {exc}", file=sys.stderr)
            return EXIT_INPUT
        except KeyError as exc:  # what this kind of link needs and was not given
            option = {"vendor": "usb", "product": "usb"}.get(str(exc.args[0]), str(exc.args[0]).replace("_", "-"))
            print(f"Réglage refusé : il manque --{option} pour ce type de connexion", file=sys.stderr)
            return EXIT_INPUT
    print(json.dumps(cfg, ensure_ascii=False, indent=2))
    return EXIT_OK


def cmd_test(args: argparse.Namespace) -> int:
    with _kiosk(args) as k:
        cfg = printing.printer_config(k)
        server = state.server_url(k.store)
    style = printing.style(cfg)
    blocks = self_test_page(style.width, server_url=server)
    if args.preview:
        print(f"Aperçu : {to_png(blocks, args.preview, style.width, style.codepage)}")
    transport = printing.transport(cfg)
    status = transport.status()
    if status.state is not State.READY:
        print(f"Imprimante non prête : {status.state.value} {status.reason}", file=sys.stderr)
        return EXIT_INPUT
    transport.send(Job(render(blocks, style), as_text(blocks, style.width, style.codepage), "test"))
    transport.close()
    print("Page de test envoyée.")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    with _kiosk(args) as k:
        cfg = printing.printer_config(k)
        pending = PrintQueue(k.store).pending_count()
    status = printing.transport(cfg).status()
    print(f"Imprimante ({cfg['connection']}) : {status.state.value}" + (f" — {status.reason}" if status.reason else ""))
    print(f"Reçus en attente : {pending}")
    return EXIT_OK if status.state is State.READY else EXIT_INPUT


def _unknown_job(args: argparse.Namespace) -> None:
    print(kiosk_cli.say(args, f"Tâche d'impression inconnue : {args.job}", f"Unknown print job: {args.job}"),
          file=sys.stderr)  # fmt: skip


def cmd_queue(args: argparse.Namespace) -> int:
    with _kiosk(args) as k:
        queue = PrintQueue(k.store)
        if args.action == "retry":
            print(f"{queue.retry_now()} reçu(s) seront réessayés maintenant.")
        elif args.action == "reprint":
            if args.job is None:
                print("Indiquez le numéro de tâche à réimprimer.", file=sys.stderr)
                return EXIT_INPUT
            try:
                job = queue.reprint(args.job)
            except KeyError:
                _unknown_job(args)
                return EXIT_INPUT
            print(f"Duplicata ajouté à la file (tâche {job}).")
        elif args.action == "print":
            cfg = printing.printer_config(k)
            worker = printing.worker_for(k.store.path, cfg)
            # No recover() here: a job "printing" may be the running app's, and taking it back would
            # print it twice. The app's worker takes back what a crash cut, when it starts.
            printed = worker.drain()
            left = queue.pending_count()
            print(f"{printed} reçu(s) imprimé(s) ; état : {worker.status.state.value} {worker.status.reason}")
            if left:
                print(
                    f"{left} reçu(s) toujours en attente (imprimante, ou l'application les imprime).", file=sys.stderr
                )
                return EXIT_STORE
        else:
            rows = queue.jobs(pending_only=not args.all, limit=args.limit)
            for row in rows:
                dup = " DUPLICATA" if row["duplicate"] else ""
                err = f"  ({row['last_error']})" if row["last_error"] else ""
                print(f"{row['id']:>6}  {row['status']:<9} {row['kind']:<9} {row['number'] or row['title']}{dup}{err}")
            if not rows:
                print("File d'impression vide." if not args.all else "Aucune tâche.")
    return EXIT_OK


def cmd_preview(args: argparse.Namespace) -> int:
    with _kiosk(args) as k:
        cfg = printing.printer_config(k)
        rows = k.store.query("SELECT doc, duplicate FROM print_jobs WHERE id = ?", (args.job,))
    if not rows:
        _unknown_job(args)
        return EXIT_INPUT
    style = printing.style(cfg)
    width = args.width or style.width
    blocks = layout(json.loads(rows[0]["doc"]), width, duplicate=bool(rows[0]["duplicate"]))
    print(f"Aperçu : {to_png(blocks, args.output, width, style.codepage)}")
    return EXIT_OK


def _member(k: Kiosk, group: str, number: int) -> dict[str, Any]:
    groups = [g for g in G.groups(k) if group in (g["group_id"], g["name"])]
    if not groups:
        from kiosk.domain.errors import DomainError

        raise DomainError("group_unknown", "group", value=group)
    return k.member_by_number(groups[0]["group_id"], number)


def cmd_statement(args: argparse.Namespace) -> int:
    with _kiosk(args) as k:
        member = _member(k, args.group, args.member)
        if args.schedule:
            loans = active_loans(k, member["member_id"])
            if not loans:
                print(f"{member['name']} n'a pas de prêt en cours.", file=sys.stderr)
                return EXIT_INPUT
            job = ST.print_schedule(k, loans[0]["loan_id"])
        else:
            job = ST.print_statement(k, member["member_id"])
    print(f"Ajouté à la file d'impression (tâche {job}).")
    return EXIT_OK


def _app_flags(p: argparse.ArgumentParser, *, windowed_default: bool) -> None:
    p.add_argument("--windowed", action="store_true", default=windowed_default,
                   help="dans une fenêtre (développement) plutôt qu'en plein écran")  # fmt: skip
    p.add_argument("--fullscreen", dest="windowed", action="store_false", help="plein écran, mode kiosque")
    p.add_argument("--size", type=_size, default=(800, 480), help="taille de la fenêtre, ex. 1024x600")


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("demo", help="construire le groupe de démonstration et ouvrir l'application dessus")
    p.add_argument("--json", action="store_true", help="le rapport en JSON, sans ouvrir l'application")
    p.add_argument("--no-app", dest="no_app", action="store_true",
                   help="afficher le rapport et imprimer les reçus, sans ouvrir l'application (tests, CI)")  # fmt: skip
    # The demo runs on a laptop: a window, unless asked for the kiosk's full screen.
    _app_flags(p, windowed_default=True)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("run", help="ouvrir l'application du kiosque (plein écran) sur sa base")
    _app_flags(p, windowed_default=False)
    p.set_defaults(func=cmd_run)

    printer = sub.add_parser("printer", help="imprimante de reçus : réglage, test, état, file d'impression")
    psub = printer.add_subparsers(dest="printer_command", required=True)
    s = psub.add_parser("setup", help="choisir l'imprimante (enregistré dans la base du kiosque)")
    s.add_argument("--connection", choices=("file", "serial", "usb", "network", "dummy"))
    s.add_argument("--path", help="dossier de l'imprimante fichier")
    s.add_argument("--port", help="port série, de préférence /dev/serial/by-id/…")
    s.add_argument("--baudrate", type=int)
    s.add_argument("--usb", help="identifiants USB VENDOR:PRODUCT en hexadécimal, ex. 0416:5011")
    s.add_argument("--host", help="imprimante réseau (port 9100)")
    s.add_argument("--width", type=int, choices=(32, 42, 48), help="colonnes : 32 (58 mm), 42 ou 48 (80 mm)")
    s.add_argument("--codepage", choices=("cp1252", "cp858", "cp850"))
    s.add_argument("--codepage-slot", dest="codepage_slot", type=int, help="numéro ESC t de la page (page de test)")
    s.add_argument("--profile", help="profil python-escpos, ex. POS-5890, TM-T20II")
    s.set_defaults(func=cmd_setup)
    t = psub.add_parser("test", help="imprimer la page de test (lettres, largeurs, QR)")
    t.add_argument("--preview", help="écrire aussi un aperçu PNG")
    t.set_defaults(func=cmd_test)
    psub.add_parser("status", help="état de l'imprimante et reçus en attente").set_defaults(func=cmd_status)
    q = psub.add_parser("queue", help="file d'impression : lister, réessayer, réimprimer, imprimer")
    q.add_argument("action", nargs="?", default="list", choices=("list", "retry", "reprint", "print"))
    q.add_argument("job", nargs="?", type=int)
    q.add_argument("--all", action="store_true", help="aussi les reçus déjà imprimés")
    q.add_argument("--limit", type=int, default=50)
    q.set_defaults(func=cmd_queue)
    v = psub.add_parser("preview", help="aperçu PNG d'une tâche d'impression")
    v.add_argument("job", type=int)
    v.add_argument("output")
    v.add_argument("--width", type=int, choices=(32, 42, 48))
    v.set_defaults(func=cmd_preview)
    st = psub.add_parser("statement", help="imprimer le relevé (ou l'échéancier) d'un membre")
    st.add_argument("--group", required=True)
    st.add_argument("--member", type=int, required=True)
    st.add_argument("--schedule", action="store_true", help="l'échéancier de son prêt en cours")
    st.set_defaults(func=cmd_statement)


__all__ = ["add_parsers", "render_job"]
