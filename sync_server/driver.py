"""Plain SQL through the driver's cursor, for ingest's hot paths: a batch's thousands of reads by key
and rows written. SQLAlchemy's machinery per statement and per result row costs more than SQLite takes
to answer; errors still come out as SQLAlchemy's (OperationalError is what the app answers 503 to)."""

from __future__ import annotations

import functools
from typing import Any, Literal

from sqlalchemy import Connection, Table
from sqlalchemy.exc import DBAPIError

OnConflict = Literal["skip", "replace", "add"]


def bulk_upsert(
    conn: Connection, table: Table, keys: tuple[str, ...], rows: list[tuple[Any, ...]], *, on_conflict: OnConflict
) -> None:
    """Insert ``rows`` (tuples in the table's column order), keyed by ``keys``; a row that exists is
    left as it is (``skip``), overwritten (``replace``), or has every other column added to (``add``:
    the rollups' running figures).

    Ingest writes thousands of rows per batch; the statement goes to the
    driver's ``executemany`` as plain SQL (SQLite and PostgreSQL spell ``ON
    CONFLICT`` alike), because SQLAlchemy's per-row parameter processing would
    cost more than the insert itself.
    """
    if rows:
        driver_executemany(conn, _upsert_sql(conn.dialect, table, keys, on_conflict), rows)


def driver_query(conn: Connection, sql: str, params: tuple[Any, ...] | list[Any]) -> list[tuple[Any, ...]]:
    """The rows (plain tuples) of plain SQL run by the driver, with the driver's placeholders (``param_mark``)."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _wrapped(conn, sql, params, exc) from exc
    finally:
        cursor.close()


def driver_executemany(conn: Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(sql, rows)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _wrapped(conn, sql, rows[:3], exc) from exc
    finally:
        cursor.close()


def _wrapped(conn: Connection, sql: str, params: Any, exc: Exception) -> Exception:
    return DBAPIError.instance(sql, params, exc, conn.dialect.loaded_dbapi.Error)


def param_mark(dialect: Any) -> str:
    """The driver's placeholder, for plain SQL run by the driver (sqlite3: ``?``, psycopg: ``%s``)."""
    return "?" if dialect.paramstyle == "qmark" else "%s"


@functools.cache
def _upsert_sql(dialect: Any, table: Table, keys: tuple[str, ...], on_conflict: OnConflict) -> str:
    quote = dialect.identifier_preparer.quote
    names = [c.name for c in table.columns]
    mark = param_mark(dialect)
    others = [quote(n) for n in names if n not in keys]
    if on_conflict == "skip" or not others:
        action = "DO NOTHING"
    elif on_conflict == "replace":
        action = "DO UPDATE SET " + ", ".join(f"{n} = excluded.{n}" for n in others)
    else:
        action = "DO UPDATE SET " + ", ".join(f"{n} = {quote(table.name)}.{n} + excluded.{n}" for n in others)
    return (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join([mark] * len(names))}) ON CONFLICT ({', '.join(quote(k) for k in keys)}) {action}"
    )
