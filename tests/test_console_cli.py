"""``muso-server`` for the console: scoped accounts, and rollups rebuilt by ``migrate`` and ``rebuild-rollups``."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from test_console_support import make_kiosk, sync
from test_sync_support import SECRET, ServerDb, running, server_db

from kiosk.demo import demo_scenario
from sync_server import accounts
from sync_server import cli as server_cli
from sync_server.db import console_months, console_totals, make_engine, users
from sync_server.errors import Unauthorized


def _server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ServerDb:
    """A migrated SQLite server database, which ``muso-server`` finds through the environment."""
    db = server_db("sqlite", tmp_path)
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("MUSO_SERVER_ENVIRONMENT", "test")
    monkeypatch.setenv("MUSO_SERVER_SECRET_KEY", SECRET)
    return db


def test_create_scoped_users_and_rebuild_rollups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:  # type: ignore[type-arg]
    db = _server(tmp_path, monkeypatch)
    with running(db) as s:
        k, _ = make_kiosk(tmp_path / "k.db", "K01", demo_scenario())
        sync(s, k, "K01")
        k.close()
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    args = [
        "create-user",
        "kofi",
        "--role",
        "coordinator",
        "--country",
        "tg",
        "--cooperative",
        "Coop A",
        "--password-stdin",
    ]
    assert server_cli.main(args) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert server_cli.main(["create-user", "bad", "--role", "viewer", "--country", "T-G", "--password-stdin"]) == 2
    assert "country" in capsys.readouterr().err
    engine = make_engine(db.url)
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == "kofi")).mappings().one()
        totals = conn.execute(select(console_totals)).all()
        assert conn.scalar(select(func.count()).select_from(users).where(users.c.username == "bad")) == 0
    assert (row["role"], row["countries"], row["cooperatives"]) == ("coordinator", '["TG"]', '["Coop A"]')
    with engine.begin() as conn:  # a server upgraded to the console: journals, but no rollups yet
        conn.execute(delete(console_totals))
        conn.execute(delete(console_months))
    assert server_cli.main(["migrate"]) == 0
    assert "rollups rebuilt from the journals of 1 kiosk" in capsys.readouterr().out
    with engine.connect() as conn:
        assert conn.execute(select(console_totals)).all() == totals
    assert server_cli.main(["rebuild-rollups", "--kiosk", "K01"]) == 0
    assert "rebuilt for 1 kiosk" in capsys.readouterr().out
    assert accounts.list_users(engine)[0]["username"] == "kofi"
    engine.dispose()


def test_set_password_for_someone_who_forgot_theirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:  # type: ignore[type-arg]
    db = _server(tmp_path, monkeypatch)
    with running(db) as s:
        accounts.create_user(s.engine, "awa", "the first password", "admin")
    engine = make_engine(db.url)
    monkeypatch.setattr("sys.stdin", io.StringIO("a new long password\n"))
    assert server_cli.main(["set-password", "nobody", "--password-stdin"]) == 2
    assert "no user 'nobody'" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert server_cli.main(["set-password", "awa", "--password-stdin"]) == 2
    assert "10 characters" in capsys.readouterr().err
    accounts.login(engine, "awa", "the first password")  # unchanged
    monkeypatch.setattr("sys.stdin", io.StringIO("a new long password\n"))
    assert server_cli.main(["set-password", "awa", "--password-stdin"]) == 0
    assert "password of awa changed" in capsys.readouterr().out
    assert accounts.login(engine, "awa", "a new long password")["username"] == "awa"
    with pytest.raises(Unauthorized):
        accounts.login(engine, "awa", "the first password")
