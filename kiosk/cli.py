"""``muso-kiosk``: the kiosk's command line. Errors become one clear message and an exit code.

Exit codes: 0 done, 1 verification found problems, 2 bad input (nothing
changed), 3 the database could not be opened or written.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
from collections.abc import Sequence
from contextlib import closing, suppress
from datetime import UTC
from pathlib import Path
from typing import Any

from kiosk import config
from kiosk.domain.errors import DomainError
from kiosk.domain.money import format_xof
from kiosk.i18n import messages
from kiosk.scenario import Runner, ScenarioError, load
from kiosk.services import Kiosk
from kiosk.services import groups as G
from kiosk.services import reports as R
from kiosk.store import Store, StoreError
from kiosk.store.backup import backup, backup_to_usb, failure_reason, restore
from kiosk.store.verify import verify

EXIT_OK, EXIT_VERIFY, EXIT_INPUT, EXIT_STORE = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # as a shell reports Ctrl-C


def say(args: argparse.Namespace, fr: str, en: str) -> str:
    """An error line in the language asked for (``--lang``): the commands' own, not the books' refusals,
    which kiosk.i18n words."""
    return en if getattr(args, "lang", "fr") == "en" else fr


def db_file(args: argparse.Namespace, *, existing: bool = False) -> Path:
    """The kiosk's database; ``existing``: it must be there already (a command that only reads, copies or
    uses it would otherwise make an empty one at a mistyped path, and report it "intact")."""
    path = config.db_path(args.db)
    if existing and not path.is_file():
        raise StoreError(
            say(
                args,
                f"pas de base de kiosque à {path} (vérifiez --db ou MUSO_DB ; `init` en fait une)",
                f"no kiosk database at {path} (check --db or MUSO_DB; `init` makes one)",
            )
        )
    return path


def _kiosk(args: argparse.Namespace, *, existing: bool = False) -> Kiosk:
    return Kiosk.open(db_file(args, existing=existing))


def cmd_init(args: argparse.Namespace) -> int:
    with _kiosk(args) as k:
        current = k.store.setting("kiosk_id")
        if current and current != args.kiosk_id:
            print(f"Ce kiosque est déjà initialisé ({current}).", file=sys.stderr)
            return EXIT_INPUT
        k.store.set_setting("kiosk_id", args.kiosk_id)
        if args.name:
            k.store.set_setting("kiosk_name", args.name)
        print(f"Kiosque {args.kiosk_id} prêt : {k.store.path}")
    return EXIT_OK


def cmd_scenario(args: argparse.Namespace) -> int:
    data = load(args.file)
    with _kiosk(args) as k:
        group_id = Runner(k, args.lang).run(data)
        seq, _head = k.store.head()
        print(f"Scénario appliqué : groupe {k.group(group_id)['name']} ({group_id}), journal n° {seq}")
    return EXIT_OK


def _find_group(k: Kiosk, wanted: str | None) -> list[dict[str, Any]]:
    groups = G.groups(k)
    if wanted:
        groups = [g for g in groups if wanted in (g["group_id"], g["name"])]
        if not groups:
            raise DomainError("group_unknown", "group", value=wanted)
    return groups


def cmd_report(args: argparse.Namespace) -> int:
    with _kiosk(args, existing=True) as k:
        groups = _find_group(k, args.group)
        if args.json:
            print(json.dumps([R.balances(k, g["group_id"]) for g in groups], ensure_ascii=False, indent=2))
        else:
            for g in groups:
                print_report(k, g["group_id"], False)
    return EXIT_OK


def print_report(k: Kiosk, group_id: str, as_json: bool) -> None:
    b = R.balances(k, group_id)
    if as_json:
        print(json.dumps(b, ensure_ascii=False, indent=2))
        return
    print(f"{b['group']} — {b['meetings']} séances, situation au {b['as_of']} (règlement v{b['rules_version']})")
    print()
    for fund, label in (("verte", "Caisse verte"), ("rouge", "Caisse rouge"), ("bleue", "Caisse bleue")):
        print(f"  {label:<14}{format_xof(b['funds'][fund]):>16}")
    print(f"  {'Épargne totale':<14}{format_xof(b['total_savings']):>16}")
    print()
    print(f"  {'N°':>3}  {'Membre':<24}{'Épargne':>14}{'Prêt restant':>16}{'Impayés':>14}{'Aides':>13}")
    for m in b["members"]:
        flag = "" if m["active"] else "  (parti)"
        print(
            f"  {m['number']:>3}  {m['name']:<24}{format_xof(m['savings']):>14}{format_xof(m['loan_outstanding']):>16}"
            f"{format_xof(m['arrears']):>14}{format_xof(m['aid_received']):>13}{flag}"
        )
    late = [ln for ln in b["loans"] if ln["arrears"]]
    print()
    print(f"  Prêts en cours : {len(b['loans'])}, dont {len(late)} avec impayés")
    for ln in late:
        print(
            f"    n° {ln['member_number']:>2} {ln['member']:<24} échéance {ln['due_date']}  "
            f"impayé {format_xof(ln['arrears'])}, pénalité {format_xof(ln['penalty'])}"
        )
    print()


def cmd_verify(args: argparse.Namespace) -> int:
    with _kiosk(args, existing=True) as k:
        report = verify(k.store)
    if report.ok:
        print(
            f"Journal vérifié : {report.events} événements, chaîne et projections intactes (tête {report.head[:16]}…)"
        )
        return EXIT_OK
    print(f"ANOMALIES ({len(report.problems)}) :", file=sys.stderr)
    for problem in report.problems[:50]:
        print(f"  - {problem}", file=sys.stderr)
    return EXIT_VERIFY


def cmd_backup(args: argparse.Namespace) -> int:
    with _kiosk(args, existing=True) as k:
        try:
            dest = backup(k.store, args.dest)
        except (OSError, sqlite3.Error) as exc:
            why = _backup_why(args, exc)
            print(say(args, f"Sauvegarde impossible vers {args.dest} : {why}", f"Backup to {args.dest} failed: {why}"),
                  file=sys.stderr)  # fmt: skip
            return EXIT_STORE
    print(f"Sauvegarde écrite : {dest}")
    return EXIT_OK


def _backup_why(args: argparse.Namespace, exc: BaseException) -> str:
    """Why a backup failed, with what to do where the technician can act (SQLite's own words are English)."""
    reason = failure_reason(exc)
    if reason == "full":
        return say(
            args,
            "plus de place sur la clé ou le disque : libérez de la place ou prenez une autre clé "
            "(rien n'y a été laissé)",
            "no space left on the stick or disk: make room or use another stick (nothing was left on it)",
        )
    if reason == "read_only":
        return say(
            args,
            f"écriture refusée (clé protégée en écriture ou montée en lecture seule ?) : {exc}",
            f"writing refused (a write-protected stick, or mounted read-only?): {exc}",
        )
    if reason == "missing":
        return say(
            args,
            "ce dossier n'existe pas : branchez la clé USB, ou créez le dossier",
            "no such folder: plug the USB stick in, or create the folder",
        )
    return str(exc)


def _usb_why(args: argparse.Namespace, exc: BaseException) -> str:
    if failure_reason(exc) is None:
        return say(args, f"clé pleine, retirée ou protégée ? ({type(exc).__name__}: {exc})",
                   f"stick full, pulled out or write-protected? ({type(exc).__name__}: {exc})")  # fmt: skip
    return _backup_why(args, exc)


def cmd_backup_usb(args: argparse.Namespace) -> int:
    """Run by the backup timer: a backup on every USB stick present, rotated, noted for the app."""
    from datetime import datetime

    with _kiosk(args, existing=True) as k:
        written, failed = backup_to_usb(k.store, args.keep)
        seq, _ = k.store.head()
        note = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "seq": seq,
            "dest": [str(p) for p in written],
        }
        if written:
            k.store.set_setting("last_backup", json.dumps(note))
    for path in written:
        print(f"Sauvegarde sur clé USB : {path} (journal n° {seq})")
    for mount, exc in failed.items():
        why = _usb_why(args, exc)
        print(say(args, f"Sauvegarde impossible sur {mount} : {why}", f"Backup to {mount} failed: {why}"),
              file=sys.stderr)  # fmt: skip
    if not written and not failed:
        print("Aucune clé USB : pas de sauvegarde cette fois.")
    return EXIT_STORE if failed else EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    """Replace the kiosk's database by a backup, after checking the backup through and through."""
    source = Path(args.backup)
    if not source.is_file():
        print(say(args, f"Sauvegarde introuvable : {source}", f"Backup not found: {source}"), file=sys.stderr)
        return EXIT_INPUT
    target = config.db_path(args.db)
    existed = target.exists()
    if existed and not args.force:
        print(
            say(
                args,
                f"{target} existe déjà : ajoutez --force pour le remplacer (arrêtez l'application d'abord).",
                f"{target} exists already: add --force to replace it (stop the app first).",
            ),
            file=sys.stderr,
        )
        return EXIT_INPUT
    with tempfile.TemporaryDirectory() as tmp:
        # Checked on a copy, read from the stick without writing to it (it may be write-protected,
        # and a backup is not ours to migrate); the copy checked is the one put in place.
        staged = Path(tmp) / "backup.db"
        try:
            restore(source, staged)
            with closing(sqlite3.connect(staged)) as conn:
                journal = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'journal'").fetchone()
        except sqlite3.Error as exc:
            # A stick pulled out mid-copy, a dying card: the technician's move is another backup, and to know
            # that the kiosk's own database was not touched.
            said = say(
                args,
                f"{source} ne se lit pas (sauvegarde abîmée ou incomplète : {exc}) : prenez-en une autre, "
                "la précédente sur la clé ; rien n'a été remplacé.",
                f"{source} cannot be read (a damaged or incomplete backup: {exc}): take another one, the "
                "previous on the stick; nothing was replaced.",
            )
            print(said, file=sys.stderr)
            return EXIT_STORE
        if journal is None:  # an empty file is an empty database to SQLite: not a kiosk's backup
            print(
                say(args, f"{source} n'est pas une sauvegarde de kiosque (aucun journal).",
                    f"{source} is not a kiosk backup (no journal)."),
                file=sys.stderr,
            )  # fmt: skip
            return EXIT_VERIFY
        with Store(staged) as copy:
            report = verify(copy)
            if not report.ok:
                problem = report.problems[0]
                n = len(report.problems)
                said = say(
                    args,
                    f"Sauvegarde refusée, {n} anomalie(s) : {problem}",
                    f"Backup refused, {n} problem(s): {problem}",
                )
                print(said, file=sys.stderr)
                return EXIT_VERIFY
            with copy.write() as w:
                # Receipts waiting when the backup was made may have printed since: nobody can tell, so
                # they come out marked DUPLICATA, never as a second original of the same movement.
                reprints = w.execute("UPDATE print_jobs SET duplicate = 1 WHERE status != 'printed'").rowcount
                # The server may hold more than this backup (synced after it was made): the next sync asks.
                w.execute("UPDATE sync_state SET last_success_ms = NULL")
        target.parent.mkdir(parents=True, exist_ok=True)
        restore(staged, target)
    # Named, and said when new: run without the kiosk's settings, the default path is a home folder's,
    # and the kiosk's own database would stay as it was.
    new = "" if existed else " (nouvelle)"
    print(f"Base {target}{new} restaurée depuis {source} : {report.events} événements vérifiés.")
    if reprints:
        print(f"{reprints} reçu(s) en attente dans la sauvegarde : ils s'imprimeront marqués DUPLICATA.")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="muso-kiosk", description="Kiosque MUSO : caisses, séances, reçus.")
    parser.add_argument("--db", help="base de données du kiosque (défaut : $MUSO_DB ou ~/.local/share/muso/kiosk.db)")
    parser.add_argument("--lang", default="fr", choices=("fr", "en"), help="langue des messages")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="créer la base et l'identité du kiosque")
    p.add_argument("--kiosk-id", default="K01")
    p.add_argument("--name", default="")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("scenario", help="appliquer un fichier de scénario (docs/scenario.md)")
    scen = p.add_subparsers(dest="scenario_command", required=True)
    run = scen.add_parser("run", help="appliquer FILE en une seule transaction")
    run.add_argument("file")
    run.set_defaults(func=cmd_scenario)

    p = sub.add_parser("report", help="soldes par caisse et par membre, prêts et impayés")
    p.add_argument("--group", help="nom ou identifiant du groupe (défaut : tous)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("verify", help="recalculer la chaîne et toutes les projections depuis le journal")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("backup", help="sauvegarde cohérente (API de sauvegarde SQLite)")
    p.add_argument("dest", help="fichier ou dossier de destination (clé USB)")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("backup-usb", help="sauvegarde sur chaque clé USB branchée, avec rotation (minuterie)")
    p.add_argument("--keep", type=int, default=10, help="nombre de sauvegardes gardées par clé")
    p.set_defaults(func=cmd_backup_usb)

    p = sub.add_parser("restore-backup", help="remplacer la base par une sauvegarde vérifiée")
    p.add_argument("backup")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_restore)

    for extension in _extensions():
        extension(sub)
    return parser


# Other packages' commands (sync; printer and app from ui, the layer that may
# use both kiosk and printer) register here: each module's add_parsers adds
# its subcommands. This is the one place that names them, by string, so the
# core does not depend on them; they load nothing heavy at import.
def _extensions() -> list[Any]:
    import importlib

    found = []
    for module in ("kiosk.sync.cli", "ui.cli"):
        try:
            found.append(importlib.import_module(module).add_parsers)
        except ModuleNotFoundError as exc:
            if not (exc.name and (module + ".").startswith(exc.name + ".")):
                raise  # the extension exists but something it imports is missing
    return found


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # here, inside the try: a reader gone (`| head`) must not end in a traceback at exit
        return code
    except DomainError as exc:
        for text in messages(exc, args.lang):
            print(f"Erreur : {text}" if args.lang == "fr" else f"Error: {text}", file=sys.stderr)
        return EXIT_INPUT
    except ScenarioError as exc:
        print(say(args, f"Erreur dans le scénario, {exc}", f"Error in the scenario, {exc}"), file=sys.stderr)
        return EXIT_INPUT
    except StoreError as exc:
        print(say(args, f"Erreur de base de données : {exc}", f"Database error: {exc}"), file=sys.stderr)
        return EXIT_STORE
    except sqlite3.Error as exc:  # read-only, locked for too long, full: nothing was written
        print(say(args, f"Erreur de base de données (rien n'a été enregistré) : {exc}",
                  f"Database error (nothing was recorded): {exc}"), file=sys.stderr)  # fmt: skip
        return EXIT_STORE
    except KeyboardInterrupt:
        print("Interrompu : ce qui était enregistré l'est, le reste n'a pas été fait.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `muso-kiosk report | head`: the reader has gone (commands write last)
        with suppress(OSError, ValueError):  # Python's recipe, or flushing stdout at exit fails again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
