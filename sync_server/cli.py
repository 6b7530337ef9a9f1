"""``muso-server``: run, migrate and operate the sync server.

Exit codes: 0 done, 1 something was refused (e.g. a bundle batch), 2 bad
input (nothing changed), 3 database error.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from .errors import SyncServerError

if TYPE_CHECKING:
    from .bundles import FileResult

EXIT_OK, EXIT_REFUSED, EXIT_INPUT, EXIT_DB = 0, 1, 2, 3

# Migrating the wrong database makes a second, empty server: the usual cause is DATABASE_URL not set, where
# the default SQLite file is relative to the directory the command runs in.
CANNOT_OPEN = (
    "check DATABASE_URL (or --database-url), that the server answers, that the database exists (PostgreSQL: "
    "createdb) and, for a SQLite file, that its folder exists and may be written to"
)
MIGRATE_OR_CHECK = (
    "if this is not the server's database, check DATABASE_URL (or --database-url; a relative SQLite path "
    "depends on the working directory) before anything else; if it is a new server, run `muso-server migrate`"
)


def _settings(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from .settings import Settings

    if args.database_url:
        # Also for uvicorn's worker processes, which read the environment.
        os.environ["DATABASE_URL"] = args.database_url
    return Settings()


def _engine(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from .db import make_engine

    return make_engine(_settings(args).database_url)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .migrate import current_revision, head_revision

    _settings(args)  # refuse bad settings here, once, rather than in every worker
    engine = _engine(args)
    current, head = current_revision(engine), head_revision()
    engine.dispose()
    if current != head:  # said here in one line; each worker would refuse to start with a traceback
        print(
            f"the database {_location(args)} is at {current or 'nothing'}, this server needs {head}",
            file=sys.stderr,
        )
        print(MIGRATE_OR_CHECK, file=sys.stderr)
        return EXIT_INPUT
    uvicorn.run(
        "sync_server.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=args.proxy_headers,
        forwarded_allow_ips=args.forwarded_allow_ips,
        log_level=args.log_level,
        timeout_keep_alive=30,
    )
    return EXIT_OK


def cmd_migrate(args: argparse.Namespace) -> int:
    from alembic.util import CommandError

    from .migrate import upgrade

    settings = _settings(args)
    try:
        upgrade(settings.database_url, args.revision)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    print(f"database {database_location(settings.database_url)} at {args.revision}")
    if args.revision == "head":
        from .rollup import needs_rebuild, rebuild

        engine = _engine(args)
        if needs_rebuild(engine):
            print(f"console rollups rebuilt from the journals of {rebuild(engine)} kiosk(s)")
        engine.dispose()
    return EXIT_OK


def cmd_rebuild_rollups(args: argparse.Namespace) -> int:
    from .rollup import rebuild

    engine = _engine(args)
    if args.kiosk:
        from .enrollment import kiosk

        for kiosk_id in args.kiosk:
            kiosk(engine, kiosk_id)  # NotFound: a typo must not report success
    done = rebuild(engine, args.kiosk or None)
    print(f"console rollups rebuilt for {done} kiosk(s)")
    return EXIT_OK


def cmd_reapply(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from .db import kiosks, read
    from .reapply import reapply

    engine = _engine(args)
    if args.kiosk:
        from .enrollment import kiosk

        for kiosk_id in args.kiosk:
            kiosk(engine, kiosk_id)  # NotFound: a typo must not report success
    with read(engine) as conn:
        ids = args.kiosk or list(conn.execute(select(kiosks.c.kiosk_id).order_by(kiosks.c.kiosk_id)).scalars())
    for kiosk_id in ids:
        done = reapply(engine, kiosk_id)
        print(
            f"{kiosk_id}: {done.events} event(s) applied again; {done.now_applied} applied now that were "
            f"quarantined, {done.now_quarantined} quarantined now that were applied, {done.quarantined} quarantined"
        )
    return EXIT_OK


def _password(args: argparse.Namespace) -> str | None:
    """From standard input (scripts), or typed twice without echo; None when the two differ."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    try:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("the two passwords differ", file=sys.stderr)
            return None
    except (EOFError, KeyboardInterrupt):  # Ctrl-D, Ctrl-C, or no terminal to type in
        print("\nno password given (--password-stdin reads one from a pipe)", file=sys.stderr)
        return None
    return password


def cmd_create_user(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from .accounts import clean_scope, create_user, unmatched_scope
    from .db import read, users

    engine = _engine(args)
    if args.role is None:
        # Only the first account defaults to administrator: a later one made without a word would get
        # every right, users and kiosk revocation included.
        with read(engine) as conn:
            if conn.scalar(select(func.count()).select_from(users)):
                print("give --role: admin, coordinator or viewer", file=sys.stderr)
                return EXIT_INPUT
        args.role = "admin"
    password = _password(args)
    if password is None:
        return EXIT_INPUT
    user_id = create_user(
        engine, args.username, password, args.role, countries=args.country, cooperatives=args.cooperative
    )
    print(f"user {args.username} created (id {user_id}, {args.role})")
    for warning in unmatched_scope(engine, *clean_scope(args.role, args.country, args.cooperative)):
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK


def cmd_set_password(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from .accounts import set_password
    from .db import read, users

    engine = _engine(args)
    with read(engine) as conn:
        user_id = conn.scalar(select(users.c.user_id).where(users.c.username == args.username.strip()))
    if user_id is None:
        print(f"no user {args.username!r}", file=sys.stderr)
        return EXIT_INPUT
    password = _password(args)
    if password is None:
        return EXIT_INPUT
    set_password(engine, user_id, password)
    print(f"password of {args.username} changed; their sessions are closed")
    return EXIT_OK


def cmd_create_enrollment(args: argparse.Namespace) -> int:
    from .enrollment import create_enrollment

    settings = _settings(args)
    code, expires = create_enrollment(
        _engine(args),
        args.kiosk_id,
        created_by=args.created_by,
        hours=settings.enrollment_ttl_hours if args.hours is None else args.hours,
        name=args.name,
        replace=args.replace,
        groups=args.group,
        country=args.country.strip().upper() if args.country else None,
        cooperative=args.cooperative.strip() if args.cooperative else None,
        template=args.template,
    )
    if args.json:
        print(json.dumps({"kiosk_id": args.kiosk_id, "code": code, "expires_at": expires, "replace": args.replace}))
    else:
        kind = "replacement " if args.replace else ""
        print(f"{kind}enrollment code for kiosk {args.kiosk_id}: {code}")
        print(f"valid once, until {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(expires / 1000))}")
    return EXIT_OK


def cmd_revoke(args: argparse.Namespace) -> int:
    from .enrollment import revoke

    revoke(_engine(args), args.kiosk_id)
    print(f"kiosk {args.kiosk_id} revoked: its requests are refused from now on")
    return EXIT_OK


def cmd_import_bundle(args: argparse.Namespace) -> int:
    from .bundles import import_folder

    folder = Path(args.dir)
    if not folder.is_dir():
        print(f"{folder} is not a folder", file=sys.stderr)
        return EXIT_INPUT
    settings = _settings(args)
    from .db import make_engine

    where = database_location(settings.database_url)
    result = import_folder(make_engine(settings.database_url), settings, folder)
    again = "run `muso-kiosk export-bundle DIR` on the kiosk again and import that stick"
    for name in result.partial:
        print(
            f"warning: {name} was never finished (the stick pulled out during an export?): not imported; {again}",
            file=sys.stderr,
        )
    for name in result.unexpected:
        print(f"warning: {name} is not named like a batch (muso-KIOSK-FROM-TO.batch.gz): not imported", file=sys.stderr)
    if not result.files:
        print(f"no batch files (muso-*.batch.gz) in {folder}", file=sys.stderr)
        return EXIT_INPUT
    for f in result.files:
        if f.error:
            print(f"  {f.name}: REFUSED {_bundle_refusal(f, where, again)}")
        else:
            extra = f", {f.quarantined} quarantined" if f.quarantined else ""
            print(f"  {f.name}: kiosk {f.kiosk_id} now at {f.acked_seq} ({f.new} new{extra})")
    done = [f for f in result.files if not f.error]
    skipped = sum(f.code == "skipped" for f in result.files)
    refused = len(result.files) - len(done) - skipped
    quarantined = sum(f.quarantined for f in done)
    warnings = len(result.partial) + len(result.unexpected)
    print(
        f"{len(result.files)} batch file(s) into {where}: {len(done)} imported "
        f"({sum(f.new for f in done)} new event(s)" + (f", {quarantined} quarantined" if quarantined else "") + "), "
        f"{refused} refused, {skipped} not tried after a refusal, {warnings} warning(s)"
    )
    return EXIT_OK if result.ok else EXIT_REFUSED


# What a file cut short or garbled on the way is refused with: the kiosk still holds its events.
DAMAGED = frozenset({"body_truncated", "body_not_compressed", "batch_unreadable", "batch_invalid", "batch_malformed"})


def _bundle_refusal(f: FileResult, where: str, again: str) -> str:
    """A refused batch file in words a coordinator can act on: the numbers, and what to do next."""
    acked = f.params.get("acked_seq")
    if f.code == "gap" and isinstance(acked, int) and f.first is not None:
        return (
            f"gap: the server holds kiosk {f.kiosk_id} up to n° {acked}, this file n° {f.first}–{f.last}: "
            f"n° {acked + 1}–{f.first - 1} are missing (a stick not imported, or lost); {again}"
        )
    if f.code == "kiosk_unknown":
        return (
            f"kiosk_unknown: kiosk {f.kiosk_id} is not known to the server database {where}: if it is enrolled, "
            "this is not its server's database (check DATABASE_URL or --database-url)"
        )
    if f.code in DAMAGED:
        return f"{f.error} (the file is damaged: copied only in part, or a failing stick?); {again}"
    if f.code == "skipped":
        return f"not tried: an earlier batch of kiosk {f.kiosk_id} was refused (import the stick again once it is)"
    return str(f.error)


def _location(args: argparse.Namespace) -> str:
    try:
        return database_location(_settings(args).database_url)
    except ValidationError:
        return "(settings invalid)"


def database_location(url: str) -> str:
    """The database a URL names, as a person can check it: a SQLite file's full path (a relative one depends on
    the working directory the command ran in), else the URL without its password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    if parsed.get_backend_name() == "sqlite":
        name = parsed.database
        return f"SQLite file {os.path.abspath(name)}" if name and name != ":memory:" else "SQLite in memory"
    return parsed.render_as_string(hide_password=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="muso-server", description="MUSO sync server")
    parser.add_argument("--database-url", help="overrides $DATABASE_URL (default: sqlite:///muso-server.db)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the HTTP server (uvicorn)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--proxy-headers", action="store_true", help="trust X-Forwarded-* from --forwarded-allow-ips")
    p.add_argument("--forwarded-allow-ips", default="127.0.0.1")
    p.add_argument("--log-level", default="info")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="bring the database schema up to date (Alembic)")
    p.add_argument("--revision", default="head")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("rebuild-rollups", help="recompute the console's rollups from the journals")
    p.add_argument("--kiosk", action="append", default=[], help="only this kiosk (repeatable)")
    p.set_defaults(func=cmd_rebuild_rollups)

    p = sub.add_parser(
        "reapply",
        help="apply the journals again with this server's reducer (after an upgrade: events an older one quarantined)",
    )
    p.add_argument("--kiosk", action="append", default=[], help="only this kiosk (repeatable)")
    p.set_defaults(func=cmd_reapply)

    p = sub.add_parser("create-user", help="create a console account (the first one: an admin)")
    p.add_argument("username")
    p.add_argument(
        "--role", choices=("admin", "coordinator", "viewer"), help="required, except for the first account (admin)"
    )
    p.add_argument("--country", action="append", default=[], help="coordinator/viewer scope: a country (TG, BJ, *)")
    p.add_argument("--cooperative", action="append", default=[], help="coordinator/viewer scope: a cooperative")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=cmd_create_user)

    p = sub.add_parser("set-password", help="a new password for a console account (one who forgot theirs)")
    p.add_argument("username")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=cmd_set_password)

    p = sub.add_parser("create-enrollment", help="a one-time code with which a kiosk enrolls")
    p.add_argument("--kiosk-id", required=True)
    p.add_argument("--name", default="")
    p.add_argument(
        "--group",
        action="append",
        default=[],
        help="a group to offer on the kiosk's home screen after its first sync, set up there in one tap (repeatable)",
    )
    p.add_argument("--country", help="where the kiosk stands (TG, BJ): its groups' country, and the coordinators'")
    p.add_argument("--cooperative", help="the cooperative of the kiosk and its groups")
    p.add_argument("--template", help="the règlement (a rule_template) the groups start on; default: the default one")
    p.add_argument("--replace", action="store_true", help="for a new device taking over this kiosk's journal")
    p.add_argument("--hours", type=int, default=None, help="validity (default: the server setting, 72)")
    p.add_argument("--created-by", default="cli")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_create_enrollment)

    p = sub.add_parser(
        "revoke-kiosk",
        help="refuse every request and USB stick of a kiosk (stolen or lost; a broken one replaced with "
        "create-enrollment --replace needs none, and its sticks stay importable)",
    )
    p.add_argument("kiosk_id")
    p.set_defaults(func=cmd_revoke)

    p = sub.add_parser("import-bundle", help="import the batches a kiosk wrote to a USB stick")
    p.add_argument("dir")
    p.set_defaults(func=cmd_import_bundle)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # here, inside the try: a reader gone (`| head`) must not end in a traceback at exit
        return code
    except SyncServerError as exc:
        print(f"error: {exc.message} ({exc.code})", file=sys.stderr)
        return EXIT_INPUT
    except ValidationError as exc:
        print(f"bad settings: {exc.errors()[0]['msg']}", file=sys.stderr)
        return EXIT_INPUT
    except SQLAlchemyError as exc:
        first = str(exc).splitlines()[0]
        print(f"database error: {exc.__class__.__name__}: {first}", file=sys.stderr)
        if "no such table" in first or ('relation "' in first and "does not exist" in first):
            print(f"the database {_location(args)} is not migrated.", file=sys.stderr)
            print(MIGRATE_OR_CHECK, file=sys.stderr)
        elif isinstance(exc, OperationalError):  # never reached: telling to migrate it would say the same again
            print(f"cannot open the database {_location(args)}: {CANNOT_OPEN}", file=sys.stderr)
        return EXIT_DB
    except BrokenPipeError:  # `… | head`: the reader has gone, nothing more to say
        # Python's own recipe: point stdout at /dev/null, or flushing it at exit fails once more.
        with suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
