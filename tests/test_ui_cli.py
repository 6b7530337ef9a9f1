"""``muso-kiosk demo`` and ``run``: the demo opens the app on its group; the CLI itself never loads Qt."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kiosk.cli import EXIT_INPUT, EXIT_OK, main


@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, Any]]:
    """Replace the app's event loop by a note of how it was asked to open."""
    import ui.app

    calls: list[dict[str, Any]] = []

    def fake_run(db: Path, **kwargs: Any) -> int:
        calls.append({"db": Path(db), **kwargs})
        return 0

    monkeypatch.setattr(ui.app, "run", fake_run)
    monkeypatch.setenv("MUSO_DATA_DIR", str(tmp_path))
    return calls


def test_the_cli_starts_without_qt() -> None:
    code = (
        "import sys, kiosk.cli, ui.cli; kiosk.cli.build_parser(); "
        "sys.exit(any(m.startswith('PySide6') for m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_demo_opens_the_app_on_the_demo_group(
    launched: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    db = tmp_path / "demo.db"
    assert main(["--db", str(db), "demo"]) == EXIT_OK
    [call] = launched
    assert call["db"] == db and call["windowed"] is True and call["size"] == (800, 480)
    from kiosk.services import Kiosk
    from kiosk.store.print_queue import PrintQueue

    with Kiosk.open(db) as k:
        assert k.group(call["group_id"])["name"] == "MUSO Élikem de Bolou"
        # The past meetings' receipts were handed out then: the app opens with no backlog.
        assert PrintQueue(k.store).pending_count() == 0
    assert "Reçu" in (tmp_path / "receipts" / "receipts.txt").read_text(encoding="utf-8")
    err = capsys.readouterr().err
    assert "Codes des responsables" in err and "Afi Mensah (président·e) 2580" in err


def test_demo_without_the_app_prints_the_report(
    launched: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", str(tmp_path / "demo.db"), "demo", "--no-app"]) == EXIT_OK
    assert not launched
    out, err = capsys.readouterr()
    assert "MUSO Élikem de Bolou" in out and "reçus imprimés" in err


def test_without_a_screen_the_demo_falls_back_to_the_report(
    launched: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    assert main(["--db", str(tmp_path / "demo.db"), "demo"]) == EXIT_OK
    assert not launched
    assert "Pas d'écran" in capsys.readouterr().err
    # A mistyped database is said before the missing screen: a screen would not fix it.
    assert main(["--db", str(tmp_path / "kiosk.bd"), "run"]) == 3 and not launched
    assert "pas de base de kiosque" in capsys.readouterr().err


def test_run_uses_the_kiosk_database(
    launched: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setenv("MUSO_DB", str(tmp_path / "k.db"))
    assert main(["run"]) == 3 and not launched and not (tmp_path / "k.db").exists()  # no kiosk there yet
    assert main(["init", "--kiosk-id", "K07"]) == EXIT_OK
    assert main(["run"]) == EXIT_OK
    assert launched[0]["db"] == tmp_path / "k.db" and launched[0]["windowed"] is False
    assert main(["run", "--windowed", "--size", "1024x600"]) == EXIT_OK
    assert launched[1]["windowed"] is True and launched[1]["size"] == (1024, 600)


def test_printer_commands_refuse_a_mistyped_database_and_make_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "kiosk.bd"
    for command in (["status"], ["queue"], ["test"], ["setup", "--connection", "file", "--path", str(tmp_path)]):
        assert main(["--db", str(typo), "printer", *command]) == 3, command
        assert "pas de base de kiosque" in capsys.readouterr().err
    assert not typo.exists()
    db = str(tmp_path / "k.db")
    assert main(["--db", db, "init", "--kiosk-id", "K07"]) == EXIT_OK
    for link, missing in (("serial", "--port"), ("network", "--host"), ("usb", "--usb")):
        assert main(["--db", db, "printer", "setup", "--connection", link]) == EXIT_INPUT
        assert f"il manque {missing}" in capsys.readouterr().err, link


@pytest.mark.parametrize(
    "args",
    [
        ["--profile", "TM-T20III"],  # a typo away from TM-T20II: every receipt would fail at printing time
        ["--codepage-slot", "300"],
    ],
)
def test_a_printer_setting_that_could_not_print_is_refused_and_the_old_one_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    db = str(tmp_path / "k.db")
    assert main(["--db", db, "init", "--kiosk-id", "K07"]) == EXIT_OK
    assert main(["--db", db, "printer", "setup", "--connection", "file", "--path", str(tmp_path / "out")]) == EXIT_OK
    before = capsys.readouterr().out
    assert main(["--db", db, "printer", "setup", *args]) == EXIT_INPUT
    assert "Réglage refusé" in capsys.readouterr().err
    from kiosk.services import Kiosk
    from ui import printing

    with Kiosk.open(Path(db)) as k:
        assert printing.printer_config(k)["path"] == str(tmp_path / "out")
        assert printing.printer_config(k)["profile"] == "default" and before


def test_the_demo_never_wipes_a_real_kiosk_s_database(
    launched: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from conftest import make_group

    from kiosk.services import Kiosk

    db = tmp_path / "kiosk.db"
    with Kiosk.open(db) as k:
        k.store.set_setting("kiosk_id", "K07")
        make_group(k)
        head = k.store.head()
    assert main(["--db", str(db), "demo", "--no-app"]) == EXIT_INPUT
    assert "n'est pas une base de démonstration" in capsys.readouterr().err
    with Kiosk.open(db) as k:
        assert k.store.head() == head and k.store.setting("kiosk_id") == "K07"
    demo = tmp_path / "demo.db"
    assert main(["--db", str(demo), "demo", "--no-app"]) == EXIT_OK
    assert main(["--db", str(demo), "demo", "--no-app"]) == EXIT_OK  # a demo is rebuilt as often as wanted


def test_printing_the_queue_from_the_command_line_leaves_the_app_s_job_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date

    from conftest import make_group

    from kiosk.services import Kiosk
    from kiosk.services import meetings as M
    from kiosk.store.print_queue import PrintQueue
    from ui import printing

    monkeypatch.setenv("MUSO_DATA_DIR", str(tmp_path))
    db = tmp_path / "k.db"
    with Kiosk.open(db) as k:
        printing.set_printer_config(k, {"connection": "file", "path": str(tmp_path / "out")})
        g = make_group(k)
        meeting = g.open(date(2026, 3, 2))
        M.standard_contributions(k, meeting, g.treasurer)
        g.close(meeting)
        total = PrintQueue(k.store).pending_count()
        held = PrintQueue(k.store).claim()  # the app's worker, busy with the first receipt
        assert held is not None
    assert main(["--db", str(db), "printer", "queue", "print"]) == 3  # it waits its turn: said so
    assert "toujours en attente" in capsys.readouterr().err
    with Kiosk.open(db) as k:
        assert PrintQueue(k.store).pending_count() == total  # nothing printed behind the app's back, nor twice
        assert PrintQueue(k.store).printed(held["id"], attempt=held["attempts"])
    assert main(["--db", str(db), "printer", "queue", "print"]) == EXIT_OK
    with Kiosk.open(db) as k:
        assert PrintQueue(k.store).pending_count() == 0


def test_another_kind_of_printer_link_drops_the_old_one_s_settings(tmp_path: Path) -> None:
    from kiosk.services import Kiosk
    from ui import printing

    with Kiosk.open(tmp_path / "k.db") as k:
        printing.set_printer_config(k, {"connection": "serial", "port": "/dev/ttyUSB0", "width": 42})
        cfg = printing.set_printer_config(k, {"connection": "network", "host": "192.168.1.50"})
        assert cfg["connection"] == "network" and cfg["host"] == "192.168.1.50"
        assert "port" not in cfg and cfg["width"] == 42  # the paper stays; the serial device name goes


def test_one_app_per_database_and_the_demo_never_rebuilds_under_an_open_one(
    launched: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ui import instance

    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    demo = tmp_path / "demo.db"
    assert main(["--db", str(demo), "demo", "--no-app"]) == EXIT_OK
    size = demo.stat().st_size
    with instance.held(demo):  # the demo app is open on it
        assert main(["--db", str(demo), "demo", "--no-app"]) == EXIT_INPUT
        assert "déjà ouverte" in capsys.readouterr().err
        assert demo.exists() and demo.stat().st_size == size
        assert main(["--db", str(demo), "run"]) == EXIT_INPUT and not launched  # a second app: refused
        assert "déjà ouverte" in capsys.readouterr().err
    assert main(["--db", str(demo), "run"]) == EXIT_OK and launched  # closed: free again
    assert main(["--db", str(demo), "demo", "--no-app"]) == EXIT_OK
