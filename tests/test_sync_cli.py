"""The two command lines end to end (``muso-server``, ``muso-kiosk`` sync commands), the schema and settings."""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from pydantic import ValidationError
from test_sync_support import BACKENDS, PG_URL, ROOT, SECRET, LiveServer, ServerDb, server_db, station  # noqa: F401

from kiosk import cli as kiosk_cli
from sync_server import cli as server_cli
from sync_server import enrollment
from sync_server.app import SchemaNotReady, create_app
from sync_server.db import make_engine, metadata
from sync_server.settings import Settings


@pytest.mark.parametrize("kind", BACKENDS)
def test_the_migrated_schema_is_exactly_the_code_s_tables(kind: str, tmp_path: Path) -> None:
    db = server_db(kind, tmp_path)
    try:
        engine = make_engine(db.url)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        engine.dispose()
        assert diff == [], f"the tables changed without a migration: {diff}"
    finally:
        if db.cleanup:
            db.cleanup()


def test_the_app_refuses_to_start_on_a_database_that_was_not_migrated(tmp_path: Path) -> None:
    settings = Settings(environment="test", secret_key=SECRET, database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(SchemaNotReady, match="muso-server migrate"), TestClient(create_app(settings)):
        pass


def test_settings_refuse_default_secrets_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="MUSO_SERVER_SECRET_KEY"):
        Settings(environment="production")
    assert Settings(environment="development").secret_key.get_secret_value() == "change-me"
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db.invalid/muso")
    monkeypatch.setenv("MUSO_SERVER_ENVIRONMENT", "production")
    monkeypatch.setenv("MUSO_SERVER_SECRET_KEY", "x" * 40)
    settings = Settings()
    assert settings.database_url.startswith("postgresql+psycopg") and not settings.is_sqlite
    monkeypatch.delenv("MUSO_SERVER_SECRET_KEY")
    assert server_cli.main(["create-enrollment", "--kiosk-id", "K01"]) == server_cli.EXIT_INPUT


@pytest.fixture
def server_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("MUSO_SERVER_ENVIRONMENT", "test")
    monkeypatch.setenv("MUSO_SERVER_SECRET_KEY", SECRET)
    assert server_cli.main(["migrate"]) == 0
    yield url


def test_muso_server_commands(server_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:  # type: ignore[type-arg]
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert server_cli.main(["create-user", "awa", "--password-stdin"]) == 0
    engine = make_engine(server_env)
    with engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT password_hash FROM users WHERE username = 'awa'").scalar()
    assert stored.startswith("$argon2id$")
    monkeypatch.setattr("sys.stdin", io.StringIO("again long enough\n"))
    assert server_cli.main(["create-user", "awa", "--password-stdin"]) == server_cli.EXIT_INPUT
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert server_cli.main(["create-user", "bob", "--role", "viewer", "--password-stdin"]) == server_cli.EXIT_INPUT
    capsys.readouterr()
    # Only the first account is an administrator by default: a later one says what it is.
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert server_cli.main(["create-user", "zoe", "--password-stdin"]) == server_cli.EXIT_INPUT
    assert "give --role" in capsys.readouterr().err

    def no_terminal(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr("getpass.getpass", no_terminal)
    assert server_cli.main(["create-user", "zoe", "--role", "viewer"]) == server_cli.EXIT_INPUT
    assert "no password given" in capsys.readouterr().err
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM users").scalar() == 1

    class Gone(io.StringIO):  # `muso-server create-enrollment … | head -1`, the reader gone
        def write(self, text: str) -> int:
            raise BrokenPipeError

    real = sys.stdout
    monkeypatch.setattr("sys.stdout", Gone())
    assert server_cli.main(["create-enrollment", "--kiosk-id", "K06"]) == 0
    monkeypatch.setattr("sys.stdout", real)
    capsys.readouterr()
    argv = ["create-enrollment", "--kiosk-id", "K05", "--country", "TG", "--group", "MUSO Bolou", "--json"]
    assert server_cli.main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kiosk_id"] == "K05" and len(out["code"]) == 14
    assert server_cli.main(["create-enrollment", "--kiosk-id", "K09", "--replace"]) == server_cli.EXIT_INPUT
    assert server_cli.main(["revoke-kiosk", "K404"]) == server_cli.EXIT_INPUT
    assert server_cli.main(["import-bundle", "/nonexistent"]) == server_cli.EXIT_INPUT
    assert "kiosk_unknown" in capsys.readouterr().err
    engine.dispose()


def test_commands_before_migrate_say_to_migrate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:  # type: ignore[type-arg]
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.db'}")
    monkeypatch.setenv("MUSO_SERVER_ENVIRONMENT", "test")
    monkeypatch.setenv("MUSO_SERVER_SECRET_KEY", SECRET)

    def must_not_start(*args: object, **kwargs: object) -> None:
        raise AssertionError("uvicorn started on a database that was not migrated")

    monkeypatch.setattr("uvicorn.run", must_not_start)
    assert server_cli.main(["serve"]) == server_cli.EXIT_INPUT
    assert "run `muso-server migrate`" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert server_cli.main(["create-user", "awa", "--role", "admin", "--password-stdin"]) == server_cli.EXIT_DB
    assert "run `muso-server migrate`" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["sqlite_folder", "postgresql_database"])
def test_a_database_that_cannot_be_opened_is_named_and_not_told_to_migrate(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:  # type: ignore[type-arg]
    """`migrate` cannot reach it either: "run `muso-server migrate`" after migrate failed sent people in a circle."""
    if where == "sqlite_folder":
        url, named = f"sqlite:///{tmp_path / 'nope' / 'x.db'}", str(tmp_path / "nope" / "x.db")
    else:
        if not PG_URL:
            pytest.skip("MUSO_TEST_DATABASE_URL is not set (no PostgreSQL)")
        url, named = PG_URL.rsplit("/", 1)[0] + "/muso_no_such_database", "muso_no_such_database"
    for argv in (["--database-url", url, "migrate"], ["--database-url", url, "create-enrollment", "--kiosk-id", "K07"]):
        monkeypatch.setenv("MUSO_SERVER_ENVIRONMENT", "test")
        monkeypatch.setenv("MUSO_SERVER_SECRET_KEY", SECRET)
        assert server_cli.main(argv) == server_cli.EXIT_DB
        err = capsys.readouterr().err
        assert "cannot open the database" in err and named in err and "check DATABASE_URL" in err
        assert "muso-server migrate" not in err


def test_a_command_run_from_another_directory_names_the_database_it_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:  # type: ignore[type-arg]
    # DATABASE_URL forgotten: the default SQLite file is relative, made empty wherever the command runs.
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("MUSO_SERVER_DATABASE_URL", raising=False)
    monkeypatch.setenv("MUSO_SERVER_ENVIRONMENT", "test")
    monkeypatch.setenv("MUSO_SERVER_SECRET_KEY", SECRET)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert server_cli.main(["create-enrollment", "--kiosk-id", "K07"]) == server_cli.EXIT_DB
    err = capsys.readouterr().err
    assert f"the database SQLite file {elsewhere / 'muso-server.db'} is not migrated" in err
    assert "check DATABASE_URL" in err and "working directory" in err
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: None)
    assert server_cli.main(["serve"]) == server_cli.EXIT_INPUT
    assert f"SQLite file {elsewhere / 'muso-server.db'} is at nothing" in capsys.readouterr().err
    assert server_cli.main(["migrate"]) == 0
    assert f"database SQLite file {elsewhere / 'muso-server.db'} at head" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        # ids the sync protocol cannot carry: the kiosk would spend its code, then fail every sync
        (["create-enrollment", "--kiosk-id", "K 07"], "kiosk_id_invalid"),
        (["create-enrollment", "--kiosk-id", "K" * 65], "kiosk_id_invalid"),
        (["create-enrollment", "--kiosk-id", "K07", "--hours", "-5"], "hours_invalid"),
        (["create-enrollment", "--kiosk-id", "K07", "--hours", "0"], "hours_invalid"),
        (["create-enrollment", "--kiosk-id", "K07", "--hours", "100000000000000"], "hours_invalid"),
        # a group the kiosk will set up needs its country, or Togo's coordinators would get Benin's groups
        (["create-enrollment", "--kiosk-id", "K07", "--group", "MUSO Bohicon"], "group_country_required"),
        (["create-enrollment", "--kiosk-id", "K07", "--country", "Bénin", "--group", "G"], "country_invalid"),
        (["create-enrollment", "--kiosk-id", "K07", "--country", "BJ", "--group", "G", "--template", "x"], "template"),
        (["create-enrollment", "--kiosk-id", "K07", "--country", "BJ", "--template", "x"], "template_without_groups"),
        (["migrate", "--revision", "nonsense"], "nonsense"),
        (["rebuild-rollups", "--kiosk", "NOPE"], "kiosk_unknown"),
    ],
)
def test_bad_arguments_get_a_clear_error_and_change_nothing(
    server_env: str,
    argv: list[str],
    says: str,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
) -> None:
    engine = make_engine(server_env)
    with engine.connect() as conn:
        before = conn.exec_driver_sql("SELECT COUNT(*) FROM kiosks").scalar()
    capsys.readouterr()
    assert server_cli.main(argv) == server_cli.EXIT_INPUT
    assert says in capsys.readouterr().err
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM kiosks").scalar() == before
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM enrollment_codes").scalar() == 0
    engine.dispose()


def test_an_unreadable_entry_of_a_bundle_folder_is_refused_in_words_not_a_traceback(
    server_env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
) -> None:
    stick = tmp_path / "usb"
    (stick / "muso-K01-1-40.batch.gz").mkdir(parents=True)  # a folder named like a batch
    assert server_cli.main(["import-bundle", str(stick)]) == server_cli.EXIT_REFUSED
    assert "batch_unreadable" in capsys.readouterr().out


@pytest.mark.parametrize("entry", ["link to /dev/zero", "fifo", "link to a file"])
def test_a_hostile_stick_s_links_pipes_and_devices_are_refused_unread(
    server_env: str, tmp_path: Path, entry: str
) -> None:
    stick = tmp_path / "usb"
    stick.mkdir()
    name = stick / "muso-K00-000000001-000000200.batch.gz"
    if entry == "link to /dev/zero":
        name.symlink_to("/dev/zero")  # read whole, it never ends
    elif entry == "fifo":
        os.mkfifo(name)  # opened, it waits for a writer forever
    else:
        (tmp_path / "server-file").write_bytes(b"a file of the server's, not of the stick")
        name.symlink_to(tmp_path / "server-file")

    def bounded() -> None:  # a MemoryError here rather than at the end of the machine's memory
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    done = subprocess.run(
        [sys.executable, "-m", "sync_server.cli", "import-bundle", str(stick)],
        cwd=ROOT,
        env=os.environ,
        capture_output=True,
        text=True,
        timeout=30,
        preexec_fn=bounded,
    )
    assert done.returncode == server_cli.EXIT_REFUSED, done.stderr
    assert f"{name.name}: REFUSED batch_unreadable" in done.stdout and "not a regular file" in done.stdout


def test_a_stick_entry_that_fails_as_it_is_looked_at_is_still_named_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sync_server.bundles import stray_files

    stick = tmp_path / "usb"
    stick.mkdir()
    (stick / "muso-K01-000000001-000000200.batch.gz.part").write_bytes(b"")
    real = Path.lstat

    def failing(self: Path) -> os.stat_result:
        if self.name.endswith(".part"):
            raise OSError(5, "Input/output error")  # a stick pulled out between the listing and the look
        return real(self)

    monkeypatch.setattr(Path, "lstat", failing)
    assert stray_files(stick) == (["muso-K01-000000001-000000200.batch.gz.part"], [])


def test_a_kiosk_enrolls_syncs_reports_and_exports_from_its_command_line(
    server_env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
) -> None:
    live = LiveServer(server_env, {})
    live.start()
    try:
        db = tmp_path / "kiosk.db"
        st = station(db)
        st.meeting()
        st.k.close()
        kiosk = ["--db", str(db)]
        argv = ["create-enrollment", "--kiosk-id", "K05", "--country", "TG", "--group", "MUSO Bolou", "--json"]
        assert server_cli.main(argv) == 0
        code = json.loads(capsys.readouterr().out)["code"]
        assert kiosk_cli.main([*kiosk, "sync"]) == 2  # not enrolled yet: a clear refusal
        err = capsys.readouterr().err
        assert "inscrit" in err and err.startswith("Erreur de synchronisation : ")  # French spacing, in French only
        assert kiosk_cli.main(["--lang", "en", *kiosk, "sync"]) == 2
        assert capsys.readouterr().err.startswith("Sync error: ")
        assert kiosk_cli.main([*kiosk, "enroll", "--server", live.base, "--code", code]) == 0
        assert kiosk_cli.main([*kiosk, "enroll", "--server", live.base, "--code", code]) == 2  # spent
        capsys.readouterr()
        assert kiosk_cli.main([*kiosk, "sync-status", "--json"]) == 0
        before = json.loads(capsys.readouterr().out)
        assert before["events_not_synced"] > 0 and before["meetings_not_synced"] == 1
        assert before["last_success_ms"] is None
        assert kiosk_cli.main([*kiosk, "sync", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["acked_seq"] == report["head_seq"] == before["head_seq"]
        assert kiosk_cli.main([*kiosk, "sync-status", "--remote"]) == 0
        text = capsys.readouterr().out
        assert "Événements non synchronisés : 0" in text and "Séances non synchronisées : 0" in text
        assert kiosk_cli.main([*kiosk, "export-bundle", str(tmp_path / "usb")]) == 2  # no stick mounted there
        assert "branchez la clé" in capsys.readouterr().err and not (tmp_path / "usb").exists()
        (tmp_path / "usb").mkdir()
        assert kiosk_cli.main([*kiosk, "export-bundle", str(tmp_path / "usb")]) == 0
        assert "Rien à exporter" in capsys.readouterr().out
        assert kiosk_cli.main([*kiosk, "export-bundle", "--all", str(tmp_path / "usb")]) == 0
        assert list((tmp_path / "usb").glob("muso-K05-*.batch.gz"))
        assert server_cli.main(["import-bundle", str(tmp_path / "usb")]) == 0
        assert "0 new" in capsys.readouterr().out
        # A new Pi takes over K05: a mistyped database is refused (and not made), then it is told to restore.
        typo = tmp_path / "nwe.db"
        assert kiosk_cli.main(["--db", str(typo), "restore"]) == 3 and not typo.exists()
        spare = ["--db", str(tmp_path / "new.db")]
        assert kiosk_cli.main([*spare, "enroll", "--server", live.base, "--code", "ABCD-EFGH-JKMN"]) == 3
        assert "pas de base de kiosque" in capsys.readouterr().err  # `init` first, as the installer does
        assert kiosk_cli.main([*spare, "init", "--kiosk-id", "K05"]) == 0
        capsys.readouterr()
        assert server_cli.main(["create-enrollment", "--kiosk-id", "K05", "--replace", "--json"]) == 0
        assert (
            kiosk_cli.main(
                [*spare, "enroll", "--server", live.base, "--code", json.loads(capsys.readouterr().out)["code"]]
            )
            == 0
        )
        capsys.readouterr()
        assert kiosk_cli.main([*spare, "sync-status", "--remote"]) == 0
        assert "lancez `muso-kiosk restore`" in capsys.readouterr().out
        assert kiosk_cli.main([*spare, "restore"]) == 0
        capsys.readouterr()
        assert kiosk_cli.main([*spare, "sync-status", "--remote"]) == 0
        assert "ATTENTION" not in capsys.readouterr().out
        kiosk = spare  # the old Pi's key is retired: the new one carries on
        daemon = [*kiosk, "sync", "--daemon", "--rounds", "2", "--interval", "0.05"]
        assert kiosk_cli.main(daemon) == 0
        live.stop()
        assert kiosk_cli.main([*kiosk, "sync"]) == 4  # unreachable: transient, nothing lost
        capsys.readouterr()
        assert kiosk_cli.main([*kiosk, "sync-status"]) == 0
        assert "network" in capsys.readouterr().out
    finally:
        live.stop()


def test_the_private_key_file_is_private(tmp_path: Path) -> None:
    from kiosk.sync import keys
    from kiosk.sync.errors import SyncError

    path = tmp_path / "kiosk.db.key"
    keys.create(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    keys.load(path)
    os.chmod(path, 0o644)
    with pytest.raises(SyncError) as err:
        keys.load(path)
    assert err.value.code == "key_insecure"


def test_a_push_that_takes_longer_to_upload_than_the_signature_window_is_still_taken(
    server_env: str, tmp_path: Path
) -> None:
    """2G: the body trickles up for longer than the signature's window. The signing time is judged
    against when the request began to arrive, not when its last byte did (it was a clock_skew 401)."""
    import time

    import httpx

    from kiosk.domain.wire import request_message
    from kiosk.sync import keys
    from kiosk.sync.batches import batch_body
    from kiosk.sync.enrollment import enroll

    with LiveServer(server_env, {"MUSO_SERVER_SIGNATURE_WINDOW_S": "10"}) as live:
        st = station(tmp_path / "k.db")
        st.meeting()
        engine = make_engine(server_env)
        code, _ = enrollment.create_enrollment(engine, "K01", created_by="test", hours=1)
        engine.dispose()
        enroll(st.store, live.base, code, http=httpx.Client(base_url=live.base))
        key = keys.load(keys.key_path(st.store.path))
        body = batch_body(st.store, "K01", key, list(st.store.events()), now=True)
        signed_at = int(time.time() * 1000)
        signature = keys.sign(key, request_message("POST", "/v1/sync/push", "K01", signed_at, body))

        def trickle() -> Iterator[bytes]:
            yield body[:100]
            time.sleep(11)  # longer than the window
            yield body[100:]

        resp = httpx.post(
            live.base + "/v1/sync/push",
            content=trickle(),
            headers={
                "Authorization": f"Muso K01 {signed_at} {signature}",
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
            },
            timeout=60,
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["acked_seq"] == st.store.head()[0]


@pytest.mark.parametrize("url", ["127.0.0.1:18777", "ftp://sync.example.org", "https://", "not a url"])
def test_a_mistyped_server_address_is_a_typo_to_fix_not_a_network_problem(
    tmp_path: Path,
    url: str,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
) -> None:
    db = str(tmp_path / "k.db")
    assert kiosk_cli.main(["--db", db, "init", "--kiosk-id", "K01"]) == 0
    assert kiosk_cli.main(["--db", db, "enroll", "--server", url, "--code", "ABCDE-FGHIJ"]) == 2
    assert "adresse de serveur invalide" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.key*"))  # no key made for nothing
