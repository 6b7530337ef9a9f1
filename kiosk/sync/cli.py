"""``muso-kiosk`` sync commands: enroll, sync [--daemon], sync-status, export-bundle, restore.

Imports httpx and cryptography only when a command runs, so ``muso-kiosk
verify`` stays light. Exit codes (as the core CLI): 0 done, 2 refused or bad
input (nothing changed), 3 database error, 4 server unreachable or failing
(nothing lost: the events stay and the next sync retries).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_INPUT, EXIT_STORE, EXIT_NETWORK = 0, 2, 3, 4


def _store(args: argparse.Namespace, *, existing: bool = False) -> Any:
    from kiosk.cli import db_file  # here: kiosk.cli loads this module as one of its extensions
    from kiosk.store import Store

    return Store(db_file(args, existing=existing))


def _fail(exc: Any, args: argparse.Namespace) -> int:
    from .errors import describe

    prefix = "Erreur de synchronisation :" if args.lang == "fr" else "Sync error:"  # French sets the colon apart
    print(f"{prefix} {describe(exc, args.lang)}", file=sys.stderr)
    return EXIT_NETWORK if exc.transient else EXIT_INPUT


def _when(ms: int | None) -> str:
    if ms is None:
        return "jamais"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def cmd_enroll(args: argparse.Namespace) -> int:
    from .enrollment import enroll
    from .errors import SyncError

    # Enrolled where the kiosk's database is: one made here at a mistyped or default path would spend the code
    # on an empty kiosk and leave the real one unenrolled, with "inscrit" printed.
    with _store(args, existing=True) as store:
        try:
            data = enroll(store, args.server, args.code, force=args.force)
        except SyncError as exc:
            return _fail(exc, args)
        kind, warning = _replacement_hint(store, data) if data["replace"] else ("", "")
    print(f"Kiosque {data['kiosk_id']} inscrit auprès de {args.server}{kind}")
    if data.get("left_server"):
        kept = f" : son ancienne clé est gardée dans {data['old_key']}" if data["old_key"] else ""
        print(
            f"Il quitte le serveur {data['left_server']}{kept}. "
            f"La prochaine synchronisation envoie tout son journal à {args.server}."
        )
    if warning:
        print(warning, file=sys.stderr)
    return EXIT_OK


def _replacement_hint(store: Any, data: dict[str, Any]) -> tuple[str, str]:
    """What to do next on a device that takes over a kiosk: restore only when it can (an empty journal, or a
    beginning of the server's), nothing when it already holds the server's journal, a warning on a fork."""
    from .client import SyncClient
    from .errors import SyncError

    local = store.head()[0]
    server = int(data.get("acked_seq") or 0)
    fork = (
        "ATTENTION : le journal de ce kiosque diffère de celui du serveur : n'enregistrez rien, appelez le coordinateur"
    )
    if local == 0:
        return (" (remplacement : lancez `muso-kiosk restore`)" if server else ""), ""
    try:
        client = SyncClient.open(store)
        try:
            standing = client.standing()  # one status, and one event of the server's journal at most
        finally:
            client.close()
    except SyncError:
        # Unknown for now: better no advice than a wrong one; sync-status --remote will tell.
        return " (remplacement : `muso-kiosk sync-status --remote` dira s'il faut restaurer)", ""
    if standing == "behind":
        return (
            f" (remplacement : ce kiosque a {local} des {server} événements du serveur : lancez `muso-kiosk restore`)"
        ), ""
    if standing == "fork":
        return "", fork
    return "", ""


def cmd_sync(args: argparse.Namespace) -> int:
    from .client import SyncClient
    from .errors import SyncError

    if args.daemon:
        return _daemon(args)
    with _store(args, existing=True) as store:
        try:
            client = SyncClient.open(store)
        except SyncError as exc:
            return _fail(exc, args)
        try:
            report = client.sync()
        except SyncError as exc:
            return _fail(exc, args)
        finally:
            client.close()
    if args.json:
        print(json.dumps(report.__dict__))
    else:
        print(
            f"Synchronisé : {report.pushed} événement(s) envoyé(s), serveur à jour jusqu'au n° {report.acked_seq} "
            f"sur {report.head_seq} ({report.requests} requête(s))"
        )
        if report.quarantined:
            print(f"Attention : {report.quarantined} événement(s) mis en quarantaine par le serveur", file=sys.stderr)
    return EXIT_OK


def _daemon(args: argparse.Namespace) -> int:
    import logging
    import sqlite3

    from kiosk.cli import db_file
    from kiosk.store import Store, StoreError

    from . import daemon
    from .client import SyncClient
    from .errors import SyncError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    path = db_file(args)

    def open_client() -> SyncClient:
        # No database yet (the app makes it at its first start, `init` on a technician's bench): made
        # here it would race the app's own first start, so the daemon waits for it like for enrollment.
        if not path.is_file():
            raise SyncError("no_database", f"no kiosk database at {path} yet")
        try:
            store = Store(path)
        except (StoreError, sqlite3.Error) as exc:
            # The app making it this very moment (a half-made file, a migration under way): wait.
            raise SyncError("database_not_ready", f"kiosk database at {path} not ready yet: {exc}") from None
        try:
            return SyncClient.open(store)
        except BaseException:
            store.close()
            raise

    # Not enrolled yet (a Pi installed before its code came): wait here, on our own slow timer, rather than
    # exit and be restarted by systemd every 30 s, a log line each time on the SD card.
    client = daemon.wait_for_client(open_client, stop, args.enroll_wait)
    if client is None:
        return EXIT_OK  # stopped while waiting
    schedule = daemon.Schedule(interval_s=args.interval, min_backoff_s=args.min_backoff, max_backoff_s=args.max_backoff)
    try:
        daemon.run(client, schedule, stop, rounds=args.rounds)
    finally:
        client.close()
        client.store.close()
    return EXIT_OK


def _gap(ms: int) -> str:
    """A clock gap a person reads at a glance: days and hours, hours and minutes, or minutes."""
    minutes = round(abs(ms) / 60_000)  # to the nearest: the milliseconds a command takes must not make 12 h read 11 h
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        return f"{days} j {hours} h"
    return f"{hours} h {mins} min" if hours else f"{mins} min"


def cmd_status(args: argparse.Namespace) -> int:
    from . import state
    from .errors import SyncError, describe, describe_stored

    with _store(args, existing=True) as store:
        current = state.load(store)
        todo = state.pending(store)
        offset = state.clock_offset(store)
        ahead = state.behind(store)
        info: dict[str, Any] = {
            "kiosk_id": store.setting("kiosk_id"),
            "server": current.server_url,
            "last_success_ms": current.last_success_ms,
            "last_error": current.last_error,
            "failures": current.failures,
            "acked_seq": todo["acked_seq"],
            "head_seq": todo["head_seq"],
            "events_not_synced": todo["events"],
            "meetings_not_synced": todo["meetings"],
            "clock_offset_ms": offset,
            "restore_in_progress": current.restore_to is not None,
            # The server's count when it holds more than this kiosk (a sync or the enrollment said so).
            "server_ahead_seq": ahead,
        }
        remote_error = None
        if args.remote:
            from .client import SyncClient

            try:
                client = SyncClient.open(store)
                try:
                    info["server_status"] = client.status()
                finally:
                    client.close()
            except SyncError as exc:
                remote_error = exc
                info["server_status"] = {"error": f"{exc.code}: {exc.message}"}
    # --remote asks the server: a script (or a technician's `&&`) must see that it did not answer.
    code = EXIT_OK if remote_error is None else EXIT_NETWORK if remote_error.transient else EXIT_INPUT
    if args.json:
        print(json.dumps(info, ensure_ascii=False))
        return code
    print(f"Kiosque {info['kiosk_id'] or '?'} — serveur {info['server'] or 'non inscrit'}")
    print(f"  Dernière synchronisation réussie : {_when(current.last_success_ms)}")
    server_seq = todo["acked_seq"] if ahead is None else ahead
    print(f"  Événements non synchronisés : {todo['events']} (journal n° {todo['head_seq']}, serveur {server_seq})")
    print(f"  Séances non synchronisées : {todo['meetings']}")
    if current.last_error:
        said = describe_stored(current.last_error, args.lang)
        print(f"  Dernière erreur ({current.failures} échec(s) de suite) : {said}")
    if offset is not None and abs(offset) > 5 * 60_000:
        # offset > 0: the server's clock is later than the kiosk's, so the kiosk is behind.
        way = "retarde" if offset > 0 else "avance"
        print(
            f"  ATTENTION : l'horloge du kiosque {way} de {_gap(offset)} sur celle du serveur : "
            "remettez-la à l'heure (docs/deploy.md, §6, ligne de l'avertissement de date : `sudo date -s …`, "
            "ou une horloge RTC)"
        )
    if current.restore_to is not None:
        print(f"  Restauration en cours (jusqu'au n° {current.restore_to}) : relancez `muso-kiosk restore`")
    elif ahead is not None:
        print(
            f"  ATTENTION : le serveur a {ahead} événements de ce kiosque, celui-ci {todo['head_seq']} : "
            "lancez `muso-kiosk restore` ; n'enregistrez rien avant (l'application refuse toute nouvelle séance)."
        )
    if remote_error is not None:
        # "No answer" only when none came: a revoked kiosk's or a refused request's server did answer.
        silent = "pas de réponse — " if remote_error.code == "network" else ""
        print(f"  Serveur : {silent}{describe(remote_error, args.lang)}")
    elif "server_status" in info:
        remote = info["server_status"]
        status = {"active": "actif", "revoked": "révoqué"}.get(str(remote.get("status")), "?")
        print(f"  Serveur : a reçu jusqu'au n° {remote.get('acked_seq')} (kiosque {status})")
        if remote.get("acked_seq", 0) > todo["head_seq"] and current.restore_to is None and ahead is None:
            print(
                "  ATTENTION : le serveur a plus d'événements que ce kiosque. S'il en remplace un autre, ou s'il a "
                "été remis d'une sauvegarde, lancez `muso-kiosk restore` ; n'enregistrez rien avant."
            )
    return code


def cmd_export(args: argparse.Namespace) -> int:
    from kiosk.cli import say

    from .bundle import export
    from .errors import SyncError

    target = Path(args.dir)
    if not target.is_dir():
        # Not created here: a stick that is not mounted would have the batches land on the SD card.
        said = say(
            args,
            f"{target} n'est pas un dossier : branchez la clé USB et donnez son dossier.",
            f"{target} is not a folder: plug in the USB stick and give its folder.",
        )
        print(said, file=sys.stderr)
        return EXIT_INPUT
    with _store(args, existing=True) as store:
        try:
            files = export(store, target, from_seq=1 if args.all else None)
        except SyncError as exc:
            return _fail(exc, args)
        except OSError as exc:  # read-only, full, pulled out
            why = exc.strerror or exc
            print(say(args, f"Écriture impossible dans {target} : {why}", f"Cannot write to {target}: {why}"),
                  file=sys.stderr)  # fmt: skip
            return EXIT_STORE
    if not files:
        print("Rien à exporter : le serveur a déjà tous les événements connus.")
    else:
        print(f"{len(files)} lot(s) écrit(s) dans {args.dir} : apportez la clé au coordinateur")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from .client import SyncClient
    from .errors import SyncError

    with _store(args, existing=True) as store:  # enrolled first: a mistyped path is no kiosk to restore
        before = store.head()[0]
        # A backup put back has its officers' PINs; a new Pi has none, even when its restore, cut off
        # half-way, resumes with part of the journal here already.
        backup = before > 0 and bool(store.query("SELECT 1 FROM officer_pins LIMIT 1"))
        try:
            client = SyncClient.open(store)
            try:
                seq = client.restore(
                    progress=lambda done, total: print(f"  {done}/{total}", file=sys.stderr) if args.verbose else None
                )
            finally:
                client.close()
        except SyncError as exc:
            return _fail(exc, args)
        names = sorted(str((store.get("members", (m,)) or {}).get("name", m)) for m in client.pins_dropped)
    if backup:  # put back from an older backup: its officers' PINs came back with it, but for those changed since
        print(f"Kiosque complété : {seq} événements ({seq - before} reçus du serveur), même chaîne que le serveur.")
        if names:
            print("Codes changés ou retirés depuis la sauvegarde, à refaire à la connexion : " + ", ".join(names) + ".")
    else:
        print(
            f"Kiosque restauré : {seq} événements, même chaîne que le serveur. "
            "Les responsables doivent refaire leur code."
        )
    # Print jobs live on the device that made them, never in the journal: what was waiting for paper there
    # is not here. The figures are: a member who went home without a receipt gets them on a relevé.
    print(
        "Les reçus restés sans papier sur l'ancien kiosque ne sont pas repris : un membre qui n'a pas eu le sien "
        "demande son relevé (Membres → le membre → Imprimer le relevé)."
    )
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("enroll", help="inscrire ce kiosque auprès du serveur de synchronisation")
    p.add_argument("--server", required=True, help="adresse du serveur, ex. https://sync.example.org")
    p.add_argument("--code", required=True, help="code d'inscription donné par le coordinateur")
    p.add_argument(
        "--force",
        action="store_true",
        help="quitter le serveur auprès duquel ce kiosque est inscrit pour celui-ci (l'ancienne clé est gardée)",
    )
    p.set_defaults(func=cmd_enroll)

    p = sub.add_parser("sync", help="envoyer le journal au serveur (une fois, ou en continu avec --daemon)")
    p.add_argument("--daemon", action="store_true", help="synchroniser à intervalles, sans fin")
    p.add_argument("--interval", type=float, default=900.0, help="secondes entre deux synchronisations réussies")
    p.add_argument("--min-backoff", type=float, default=15.0)
    p.add_argument("--max-backoff", type=float, default=3600.0)
    p.add_argument("--rounds", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument(
        "--enroll-wait",
        type=float,
        default=600.0,
        help="avec --daemon : secondes entre deux essais tant que le kiosque n'est pas inscrit",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("sync-status", help="état de la synchronisation : dernière réussite, ce qui reste à envoyer")
    p.add_argument("--remote", action="store_true", help="demander aussi au serveur")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("export-bundle", help="écrire les événements non synchronisés sur une clé USB")
    p.add_argument("dir", help="dossier de destination (clé USB)")
    p.add_argument("--all", action="store_true", help="tout le journal, pas seulement ce que le serveur n'a pas")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "restore",
        help="reconstruire ce kiosque depuis le serveur (vide après enroll, ou remis d'une sauvegarde plus ancienne)",
    )
    p.add_argument("--verbose", action="store_true")
    p.set_defaults(func=cmd_restore)
