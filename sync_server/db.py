"""Tables (SQLAlchemy Core), engines and transactions, the same code for SQLite and PostgreSQL.

The schema itself is created only by the Alembic migrations (``muso-server
migrate``); ``tests/test_sync_server_db.py`` checks that the migrated
database matches this metadata, so a change here without a migration fails.

Projection tables (``p_*``) are generated from ``kiosk.domain.projections.TABLES``
with ``kiosk_id`` added in front of every primary key. Group, member and
transaction ids are UUIDs made on kiosks, so they are unique in practice,
and sharing rows across kiosks would have worked for honest kiosks. We scope
by kiosk anyway because the server must reproduce exactly what each kiosk
computed from its own journal: with shared rows, one kiosk's buggy or
hostile events (a ``member_added`` naming another kiosk's group) would change
another kiosk's books on the server, and server state would depend on the
order in which kiosks happened to sync. One extra key column buys "the
server's projections for K are a function of K's journal alone".
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

try:
    import fcntl
except ImportError:  # Windows has none: there SQLite's busy_timeout alone queues the processes
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from kiosk.domain.events import GENESIS
from kiosk.domain.projections import TABLES

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
AutoId = BigInteger().with_variant(Integer(), "sqlite")
KioskId = String(64)

users = Table(
    "users",
    metadata,
    Column("user_id", AutoId, primary_key=True, autoincrement=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(20), nullable=False),  # admin | coordinator | viewer
    Column("active", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # Scope of a coordinator or viewer (JSON lists; "*" = all): see sync_server/web/scope.py.
    Column("countries", Text, nullable=False, server_default="[]"),
    Column("cooperatives", Text, nullable=False, server_default="[]"),
    # Raised whenever the account's sessions are ended (logged out elsewhere, disabled, new role or password):
    # API tokens carry the value they were made under, and one made before is refused (api/deps.py).
    Column("token_epoch", Integer, nullable=False, server_default="0"),
)

# Console sessions, server-side: logging out, disabling a user or an admin ending a session takes
# effect at the next request. Only the SHA-256 of the cookie's token is stored (see web/auth.py).
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", AutoId, ForeignKey("users.user_id"), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("seen_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
    Column("remote", String(64)),
)

# Failed logins per account ("user:<name>") and per client address ("addr:<ip>"), shared by all workers.
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("first_at", BigInteger, nullable=False),
    Column("locked_until", BigInteger, nullable=False),
)

# The console's forms that must take effect once: a reload of the page a POST answered, or a double
# click, sends the same form again (an HMAC of the session and the form's nonce; rows older than a day go).
sent_forms = Table(
    "sent_forms",
    metadata,
    Column("form_hash", String(64), primary_key=True),
    Column("sent_at", BigInteger, nullable=False),
)

kiosks = Table(
    "kiosks",
    metadata,
    Column("kiosk_id", KioskId, primary_key=True),
    Column("name", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending (code issued) | active | revoked
    Column("acked_seq", BigInteger, nullable=False),
    Column("head", String(64), nullable=False),
    Column("quarantined", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger),
    Column("last_push_at", BigInteger),
    Column("revoked_at", BigInteger),
    # Where a coordinator said the kiosk will stand (at enrollment): puts a kiosk with no group yet in a scope.
    Column("country", String(8)),
    Column("cooperative", Text),
    # What the kiosk last said about itself (PushBatch.report), for the fleet page.
    Column("app_version", String(32)),
    Column("print_pending", BigInteger),
    Column("printer_error", Text),
    Column("events_pending", BigInteger),
    Column("reported_at", BigInteger),
    # When `muso-server reapply` last rebuilt its projections (sync_server/reapply.py): a push reduced on
    # a snapshot taken before is reduced again under the lock, as when the cursor moved.
    Column("reapplied_at", BigInteger),
)

kiosk_keys = Table(
    "kiosk_keys",
    metadata,
    Column("public_key", String(64), primary_key=True),  # raw Ed25519 key, base64url
    Column("kiosk_id", KioskId, ForeignKey("kiosks.kiosk_id"), nullable=False, index=True),
    Column("status", String(16), nullable=False),  # active | replaced | revoked
    Column("created_at", BigInteger, nullable=False),
    Column("ended_at", BigInteger),
)

enrollment_codes = Table(
    "enrollment_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),  # SHA-256 of the code: a database leak reveals no code
    Column("kiosk_id", KioskId, nullable=False),
    Column("replace", Boolean, nullable=False),  # a replacement kiosk takes over this kiosk's journal
    Column("created_by", String(100), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger),
    Column("used_key", String(64)),
)

journal = Table(
    "journal",
    metadata,
    Column("kiosk_id", KioskId, primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("type", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("device_time", BigInteger, nullable=False),
    Column("boot_id", String(64), nullable=False),
    Column("mono_ms", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # applied | quarantined
    Column("reason", Text),
    Column("batch_id", BigInteger, nullable=False),
    Column("est_time", BigInteger),  # device time corrected from the server's clock, when the boot was anchored
    Column("received_at", BigInteger, nullable=False),
    Index("ix_journal_boot", "kiosk_id", "boot_id"),
)
# An event as the kiosk made it (kiosk.domain.events.Event's fields), in that order.
EVENT_COLUMNS = tuple(journal.c[name] for name in ("seq", "type", "body", "device_time", "boot_id", "mono_ms"))

batches = Table(
    "batches",
    metadata,
    Column("batch_id", AutoId, primary_key=True, autoincrement=True),
    Column("kiosk_id", KioskId, nullable=False, index=True),
    Column("from_seq", BigInteger, nullable=False),
    Column("to_seq", BigInteger, nullable=False),
    Column("head", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
    Column("public_key", String(64), nullable=False),
    Column("source", String(16), nullable=False),  # http | bundle
    Column("new_events", Integer, nullable=False),
    Column("received_at", BigInteger, nullable=False),
)

boot_anchors = Table(
    "boot_anchors",
    metadata,
    Column("kiosk_id", KioskId, primary_key=True),
    Column("boot_id", String(64), primary_key=True),
    Column("server_ms", BigInteger, nullable=False),
    Column("mono_ms", BigInteger, nullable=False),
)

incidents = Table(
    "incidents",
    metadata,
    Column("incident_id", AutoId, primary_key=True, autoincrement=True),
    Column("kiosk_id", KioskId),
    Column("code", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("remote", String(64)),
    Column("created_at", BigInteger, nullable=False, index=True),
)

reference = Table(
    "reference",
    metadata,
    Column("entity", String(32), primary_key=True),
    Column("key", String(100), primary_key=True),
    Column("scope", String(64), primary_key=True),  # "*" for every kiosk, else one kiosk_id
    Column("value", Text),
    Column("version", BigInteger, nullable=False, index=True),
    Column("deleted", Boolean, nullable=False),
)

counters = Table(
    "counters",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

SQL_TYPES = {"int": BigInteger, "text": Text, "json": Text}


def _projection(name: str) -> Table:
    spec = TABLES[name]
    cols = [Column("kiosk_id", KioskId, primary_key=True)]
    for col, kind in spec.columns:
        cols.append(Column(col, SQL_TYPES[kind](), primary_key=col in spec.key, autoincrement=False))
    return Table(f"p_{name}", metadata, *cols)


projections: dict[str, Table] = {name: _projection(name) for name in TABLES}

# Indexes the console's queries need (sync_server/web/queries.py); the reducer itself reads by key only.
Index("ix_p_groups_place", projections["groups"].c.country, projections["groups"].c.cooperative)
Index("ix_p_members_group", projections["members"].c.kiosk_id, projections["members"].c.group_id)
Index(
    "ix_p_loans_status",
    projections["loans"].c.status,
    projections["loans"].c.kiosk_id,
    projections["loans"].c.group_id,
)
Index("ix_p_loans_member", projections["loans"].c.kiosk_id, projections["loans"].c.member_id)
Index(
    "ix_p_transactions_kind",
    projections["transactions"].c.kiosk_id,
    projections["transactions"].c.group_id,
    projections["transactions"].c.kind,
)
Index(
    "ix_p_transactions_member",
    projections["transactions"].c.kiosk_id,
    projections["transactions"].c.member_id,
    projections["transactions"].c.seq,
)
Index("ix_p_transactions_loan", projections["transactions"].c.kiosk_id, projections["transactions"].c.loan_id)
Index("ix_p_meetings_status", projections["meetings"].c.status, projections["meetings"].c.date)  # open ones
Index(
    "ix_p_meetings_group",
    projections["meetings"].c.kiosk_id,
    projections["meetings"].c.group_id,
    projections["meetings"].c.date,
)


def _rollup_columns() -> list[Column]:
    return [
        Column(name, BigInteger, nullable=False, server_default="0")
        for name in (
            "members",
            "women",
            "savings",
            "loans",
            "loans_active",
            "aid",
            "income",
            "cash_verte",
            "cash_rouge",
            "cash_bleue",
            "lender",
            "attended",
            "slots",
            "meetings",
        )
    ]


# Server-side rollups of the projections, kept by ingest in the same transaction (sync_server/rollup.py):
# per group and month of meeting date, the change of each figure; and per group, the running total.
# The console reads these instead of summing millions of postings.
ROLLUP_FIELDS = tuple(c.name for c in _rollup_columns())
console_months = Table(
    "console_months",
    metadata,
    Column("kiosk_id", KioskId, primary_key=True),
    Column("group_id", Text, primary_key=True),
    Column("month", String(7), primary_key=True),  # YYYY-MM
    *_rollup_columns(),
    Index("ix_console_months_month", "month"),
)
console_totals = Table(
    "console_totals",
    metadata,
    Column("kiosk_id", KioskId, primary_key=True),
    Column("group_id", Text, primary_key=True),
    *_rollup_columns(),
)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


# Accented letters folded to their base letter for sorting names (lower() leaves "é" after "u": byte order).
# Latin letters of French, Ewe, Fon, Mina…, both cases: PostgreSQL's lower() under the C locale folds
# ASCII only. SQLite has no translate(), and one replace() per letter overflows its parser: there the
# same folding is a Python function, given to every connection (``make_engine``).
_LETTERS = {"a": "àáâãäåā", "c": "ç", "d": "ɖ", "e": "èéêëēěɛ", "f": "ƒ", "g": "ɣ", "i": "ìíîïī", "n": "ñńŋ"}
_LETTERS |= {"o": "òóôõöōɔ", "u": "ùúûüū", "v": "ʋ", "y": "ýÿ"}
FOLD_FROM = "".join(letters + letters.upper() for letters in _LETTERS.values())
FOLD_TO = "".join(plain * (2 * len(letters)) for plain, letters in _LETTERS.items())
_FOLD = str.maketrans(FOLD_FROM, FOLD_TO)


def fold_name(value: Any) -> Any:
    return value.lower().translate(_FOLD) if isinstance(value, str) else value


def make_engine(url: str, *, pool: bool = True) -> Engine:
    """An engine with the settings each backend needs; writes go through ``write()``."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, poolclass=None if pool else NullPool
        )

        @event.listens_for(engine, "connect")
        def _sqlite_setup(dbapi_conn: Any, _record: Any) -> None:
            # Take transactions out of the driver's hands: it would BEGIN lazily and
            # never IMMEDIATE, and two writers would then fail half-way instead of queueing.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            # SQLite's lower() folds ASCII only: "Élikem" would never match a search for "élikem".
            dbapi_conn.create_function("lower", 1, _unicode_lower, deterministic=True)
            dbapi_conn.create_function("muso_fold", 1, fold_name, deterministic=True)  # web.queries.folded

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get("muso_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if not pool:
        kwargs["poolclass"] = NullPool
    return create_engine(url, **kwargs)


# SQLite has one writer at a time. Writers queue here rather than in SQLite's own
# lock, which a waiting writer polls, sleeping 1, 2, 5, 10… ms between tries (not
# fair, and a write of 3 ms then costs the next one 8): threads of one process
# queue on a lock in Python, worker processes on an flock of a file beside the
# database, which wakes the next writer the moment the last one commits.
_sqlite_writer = threading.Lock()


@contextmanager
def _sqlite_write_turn(engine: Engine) -> Iterator[None]:
    path = engine.url.database
    with _sqlite_writer:
        if not path or path == ":memory:" or fcntl is None:
            yield
            return
        # Opened for each transaction (microseconds, against milliseconds for the write): an flock
        # belongs to an open file, so a descriptor kept across a fork would not exclude the child.
        try:
            fd = os.open(f"{path}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:  # no such folder, not ours to write: the database cannot be opened, as SQLite says
            raise OperationalError(f"open {path}-writer.lock", None, exc) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """One write transaction. On SQLite, BEGIN IMMEDIATE once it is our turn (see ``_sqlite_write_turn``)."""
    if engine.dialect.name == "sqlite":
        with _sqlite_write_turn(engine), engine.connect() as conn:
            conn = conn.execution_options(muso_write=True)
            with conn.begin():
                yield conn
        return
    with engine.connect() as conn:
        conn = conn.execution_options(muso_write=True)
        with conn.begin():
            yield conn


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn, conn.begin():
        yield conn


def insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL alike)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def lock_kiosk(conn: Connection, kiosk_id: str) -> Any:
    """The kiosk's row, locked until commit: pushes of one kiosk are serialised, other kiosks run in parallel.

    On SQLite the IMMEDIATE transaction already holds the single writer lock.
    """
    query = kiosks.select().where(kiosks.c.kiosk_id == kiosk_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).mappings().first()


def new_kiosk_row(kiosk_id: str, name: str, status: str) -> dict[str, Any]:
    return {
        "kiosk_id": kiosk_id,
        "name": name,
        "status": status,
        "acked_seq": 0,
        "head": GENESIS,
        "quarantined": 0,
        "created_at": now_ms(),
    }
