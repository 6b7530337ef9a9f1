"""Scenario files and the ``muso-kiosk`` command line, as a trainer and a technician use them."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.cli import EXIT_INPUT, EXIT_OK, EXIT_VERIFY, main
from kiosk.demo import demo_scenario
from kiosk.scenario import Runner, ScenarioError, load
from kiosk.services import Kiosk
from kiosk.store.clock import FixedClock

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "scenarios" / "first-meetings.json"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_example_scenario_gives_the_balances_worked_out_by_hand(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "k.db")
    assert run_cli(capsys, "--db", db, "scenario", "run", str(EXAMPLE))[0] == EXIT_OK
    code, out, _ = run_cli(capsys, "--db", db, "report", "--json")
    assert code == EXIT_OK
    [report] = json.loads(out)
    # verte: 5 x 1 000 (meeting 1, one absent) + 5 x 1 000 + 500 (meeting 2) - 6 000 lent - 100 missing
    # rouge: 5 x 200 + entry fee 2 000 + lateness 200 + 6 x 200 + meeting 1's absence 500, paid at meeting 2
    assert report["funds"] == {"verte": 4400, "rouge": 4900, "bleue": 0}
    assert report["total_savings"] == 10500
    savings = {m["number"]: m["savings"] for m in report["members"]}
    assert savings == {1: 2000, 2: 2000, 3: 2000, 4: 1500, 5: 2000, 6: 1000}
    assert [(ln["member_number"], ln["outstanding"]) for ln in report["loans"]] == [(5, 6000)]
    assert run_cli(capsys, "--db", db, "verify")[0] == EXIT_OK


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d["meetings"][1]["operations"][0].update(member=42), "meetings[1].operations[0].member"),
        (lambda d: d["meetings"][1]["operations"][1].update(amount=-500), "meetings[1].operations[1]"),
        (lambda d: d["meetings"][1]["operations"][1].update(amount=12.5), "meetings[1].operations[1]"),
        (lambda d: d["meetings"][1]["operations"][0].update(amount=600000), "meetings[1].operations[0]"),
        (lambda d: d["meetings"][0].update(officers=[1, 1]), "meetings[0]"),
        (lambda d: d["meetings"][0].update(officers=[1, 4]), "meetings[0].officers[1]"),
        (lambda d: d["meetings"][1].update(date="2025-12-01"), "meetings[1]"),
        (lambda d: d["meetings"][1].update(date="12/01/2026"), "meetings[1].date"),
        (lambda d: d["members"][3].update(sex="X"), "members[3]"),
        (lambda d: d["rules"].update(rounding_unit=3), "group"),
        (lambda d: d["meetings"][0]["operations"].append({"op": "dance"}), "meetings[0].operations[2].op"),
        (lambda d: d["meetings"][0]["operations"].append({"op": "fine", "member": 4}), "meetings[0].operations[2]"),
        (lambda d: d.pop("members"), "members"),
        # values of the wrong shape, which crashed the runner
        (lambda d: d["meetings"][0].update(close_count={"adjust": {"verte": "abc"}}), "meetings[0]"),
        (lambda d: d["meetings"][0].update(contributions={"exceptions": [4]}), "meetings[0]"),
        (lambda d: d["meetings"][0].update(contributions={"exceptions": {"four": {"verte": 0}}}), "meetings[0]"),
        (lambda d: d["meetings"][0].update(attendance={"represented": ["6"]}), "meetings[0]"),
        (lambda d: d["meetings"][0].update(attendance={"represented": {"six": "Ama"}}), "meetings[0]"),
        (
            lambda d: d["meetings"][0]["operations"].append(
                {"op": "correction", "target": 3, "reason": "x y z", "approvers": [1, 3]}
            ),
            "meetings[0]",
        ),
    ],
)
def test_a_bad_scenario_names_the_place_and_changes_nothing(tmp_path: Path, mutate, where: str) -> None:  # type: ignore[no-untyped-def]
    data = copy.deepcopy(load(EXAMPLE))
    mutate(data)
    with Kiosk.open(tmp_path / "k.db", FixedClock()) as k:
        with pytest.raises(ScenarioError) as exc:
            Runner(k).run(data)
        assert exc.value.where.startswith(where), exc.value
        assert k.store.head()[0] == 0
        assert k.store.query("SELECT COUNT(*) AS n FROM p_groups")[0]["n"] == 0


def test_scenario_errors_reach_the_user_as_one_clear_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.json"
    bad.write_text('{"group": {"name": "X"},\n "members": [}', encoding="utf-8")
    code, _, err = run_cli(capsys, "--db", str(tmp_path / "k.db"), "scenario", "run", str(bad))
    assert code == EXIT_INPUT
    assert "ligne 2" in err and "JSON invalide" in err
    data = load(EXAMPLE)
    data["meetings"][1]["operations"][0]["amount"] = 600000
    bad.write_text(json.dumps(data), encoding="utf-8")
    code, _, err = run_cli(capsys, "--db", str(tmp_path / "k.db"), "scenario", "run", str(bad))
    assert code == EXIT_INPUT
    assert "meetings[1].operations[0]" in err and "plafond" in err
    code, _, err = run_cli(capsys, "--db", str(tmp_path / "k.db"), "--lang", "en", "scenario", "run", str(bad))
    assert "ceiling" in err


def test_a_scenario_that_is_not_a_readable_file_gets_a_clear_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    latin = tmp_path / "latin1.json"
    latin.write_bytes('{"group": {"name": "Élikem"}}'.encode("latin-1"))
    for path, says in ((tmp_path, "illisible"), (latin, "UTF-8")):
        code, _, err = run_cli(capsys, "--db", str(tmp_path / "k.db"), "scenario", "run", str(path))
        assert code == EXIT_INPUT and says in err and "Traceback" not in err


def test_demo_is_a_realistic_six_months(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "demo.db")
    code, out, _ = run_cli(capsys, "--db", db, "demo", "--json")
    assert code == EXIT_OK
    report = json.loads(out)
    assert report["meetings"] == 26 and len(report["members"]) == 24
    assert any(set(m["name"]) & set("ɖɛƒɣŋɔʋƉƐƑƔŊƆƲ") for m in report["members"])
    assert any(ln["arrears"] > 0 for ln in report["loans"])
    assert any(m["aid_received"] for m in report["members"])
    with Kiosk.open(db) as k:
        kinds = {r["kind"] for r in k.store.query("SELECT DISTINCT kind FROM p_transactions")}
    assert {"contribution", "fine", "entry_fee", "loan", "repayment", "aid", "reversal", "discrepancy"} <= kinds
    assert run_cli(capsys, "--db", db, "verify")[0] == EXIT_OK
    assert demo_scenario() == demo_scenario()  # seeded: the same demo every time


def test_verify_backup_and_exit_codes(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "k.db"
    run_cli(capsys, "--db", str(db), "scenario", "run", str(EXAMPLE))
    code, out, _ = run_cli(capsys, "--db", str(db), "backup", str(tmp_path))
    assert code == EXIT_OK and "Sauvegarde" in out
    backups = list(tmp_path.glob("muso-*.db"))
    assert len(backups) == 1
    assert run_cli(capsys, "--db", str(backups[0]), "verify")[0] == EXIT_OK
    with Kiosk.open(db) as k:
        k.store.conn.execute("UPDATE p_accounts SET balance = balance + 1 WHERE account = 'verte:cash'")
    code, _, err = run_cli(capsys, "--db", str(db), "verify")
    assert code == EXIT_VERIFY and "ANOMALIES" in err
    code, _, err = run_cli(capsys, "--db", str(db), "report", "--group", "nope")
    assert code == EXIT_INPUT and "groupe inconnu" in err


def test_init_sets_the_kiosk_identity_once(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "k.db")
    assert run_cli(capsys, "--db", db, "init", "--kiosk-id", "K07", "--name", "Bolou")[0] == EXIT_OK
    assert run_cli(capsys, "--db", db, "init", "--kiosk-id", "K07")[0] == EXIT_OK
    assert run_cli(capsys, "--db", db, "init", "--kiosk-id", "K08")[0] == EXIT_INPUT


def test_the_console_script_runs(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "kiosk.cli", "--db", str(tmp_path / "k.db"), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    mistyped = run("verify")  # no database there: said so, and none is made to be reported intact
    assert mistyped.returncode == 3 and "pas de base de kiosque" in mistyped.stderr
    assert not (tmp_path / "k.db").exists()
    assert run("init", "--kiosk-id", "K09").returncode == 0
    result = run("verify")
    assert result.returncode == 0, result.stderr
    assert "0 événements" in result.stdout
    assert run("scenario", "run", str(EXAMPLE)).returncode == 0
    # Read by a pager that stops early (`| head`, `| true`): no traceback for a reader that has gone.
    command = f"{sys.executable} -m kiosk.cli --db {tmp_path / 'k.db'} report | true; exit ${{PIPESTATUS[0]}}"
    piped = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60)
    assert piped.returncode == 0 and "Traceback" not in piped.stderr and "Exception" not in piped.stderr


def test_the_commands_own_error_lines_follow_lang(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """Under --lang en, the first errors a newcomer meets came out in French."""
    typo = str(tmp_path / "kiosk.bd")
    code, _, err = run_cli(capsys, "--db", typo, "--lang", "en", "report")
    assert code == 3 and err.startswith("Database error: no kiosk database at") and "--db or MUSO_DB" in err
    assert "pas de base de kiosque" in run_cli(capsys, "--db", typo, "report")[2]  # French stays the default
    db = str(tmp_path / "k.db")
    assert run_cli(capsys, "--db", db, "init", "--kiosk-id", "K07")[0] == EXIT_OK
    code, _, err = run_cli(capsys, "--db", db, "--lang", "en", "export-bundle", str(tmp_path / "no-stick"))
    assert code == EXIT_INPUT and "is not a folder: plug in the USB stick" in err
    code, _, err = run_cli(capsys, "--db", db, "--lang", "en", "printer", "preview", "999", str(tmp_path / "x.png"))
    assert code == EXIT_INPUT and "Unknown print job: 999" in err
    afile = tmp_path / "afile"
    afile.write_text("x")
    code, _, err = run_cli(capsys, "--db", db, "--lang", "en", "backup", str(afile / "x"))
    assert code == 3 and "Backup to" in err and "failed" in err and "Sauvegarde" not in err


def test_a_backup_to_a_full_stick_says_so_and_leaves_nothing_on_it(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sqlite3

    db = str(tmp_path / "k.db")
    assert run_cli(capsys, "--db", db, "scenario", "run", str(EXAMPLE))[0] == EXIT_OK
    stick = tmp_path / "stick"
    stick.mkdir()
    (stick / "photos.jpg").write_bytes(b"x")  # what the stick held before stays
    connect = sqlite3.connect

    def tiny(path: str, *args: object, **kwargs: object) -> sqlite3.Connection:
        conn = connect(path, *args, **kwargs)  # type: ignore[arg-type]
        if str(path).endswith(".part"):  # a stick with room for two pages: SQLite's own "disk is full"
            conn.execute("PRAGMA max_page_count = 2")
        return conn

    monkeypatch.setattr(sqlite3, "connect", tiny)
    code, _, err = run_cli(capsys, "--db", db, "backup", str(stick))
    assert code == 3 and "plus de place sur la clé" in err and "disk is full" not in err
    assert sorted(p.name for p in stick.iterdir()) == ["photos.jpg"]  # no half copy, no SQLite journal of one
    code, _, err = run_cli(capsys, "--db", db, "--lang", "en", "backup", str(stick))
    assert code == 3 and "no space left on the stick" in err
    assert sorted(p.name for p in stick.iterdir()) == ["photos.jpg"]
    monkeypatch.setattr(sqlite3, "connect", connect)
    assert run_cli(capsys, "--db", db, "backup", str(stick))[0] == EXIT_OK  # room again: it works


def test_restore_backup_and_backup_usb_error_lines_follow_lang(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The README promises the commands' own error lines in English under --lang en: a failed backup's were French."""
    db = str(tmp_path / "k.db")
    assert run_cli(capsys, "--db", db, "init", "--kiosk-id", "K07")[0] == EXIT_OK
    en = ("--db", db, "--lang", "en")
    code, _, err = run_cli(capsys, *en, "restore-backup", str(tmp_path / "missing.db"))
    assert code == EXIT_INPUT and err.startswith("Backup not found:")
    assert run_cli(capsys, *en, "backup", str(tmp_path / "copy.db"))[0] == EXIT_OK
    code, _, err = run_cli(capsys, *en, "restore-backup", str(tmp_path / "copy.db"))
    assert code == EXIT_INPUT and "exists already: add --force" in err
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    code, _, err = run_cli(capsys, *en, "restore-backup", str(empty), "--force")
    assert code == EXIT_VERIFY and "is not a kiosk backup" in err
    cut = tmp_path / "cut.db"  # a stick pulled out mid-copy
    cut.write_bytes((tmp_path / "copy.db").read_bytes()[:5000])
    before = Path(db).read_bytes()
    for lang, says in (("fr", "prenez-en une autre"), ("en", "take another one")):
        code, _, err = run_cli(capsys, "--db", db, "--lang", lang, "restore-backup", str(cut), "--force")
        assert code == 3 and says in err and "cannot open" not in err, err
    assert Path(db).read_bytes() == before
    stick = tmp_path / "stick"
    stick.mkdir()
    (stick / "muso-sauvegardes").write_text("a file where the folder goes")  # the backup cannot go there
    monkeypatch.setenv("MUSO_BACKUP_DIRS", str(stick))
    code, _, err = run_cli(capsys, *en, "backup-usb")
    assert code == 3 and err.startswith(f"Backup to {stick} failed") and "Sauvegarde" not in err


def test_a_backup_to_a_stick_that_is_not_mounted_says_so_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It said "Erreur de base de données", and in French under --lang en."""
    db = str(tmp_path / "k.db")
    assert run_cli(capsys, "--db", db, "init", "--kiosk-id", "K07")[0] == EXIT_OK
    stick = str(tmp_path / "media" / "cle") + "/"
    code, _, err = run_cli(capsys, "--db", db, "backup", stick)
    assert code == 3 and err.startswith(f"Sauvegarde impossible vers {stick} : ce dossier n'existe pas : branchez")
    code, _, err = run_cli(capsys, "--db", db, "--lang", "en", "backup", stick)
    assert code == 3 and err.startswith(f"Backup to {stick} failed: no such folder: plug the USB stick in")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.db"]  # no file named like the folder


def test_a_write_protected_stick_is_named_not_taken_for_no_stick(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backup timer skipped a read-only stick and said "Aucune clé USB": the technician looked for no fault."""
    import os

    from kiosk.store import backup as backup_module

    db = str(tmp_path / "k.db")
    assert run_cli(capsys, "--db", db, "init", "--kiosk-id", "K07")[0] == EXIT_OK
    locked, free = tmp_path / "locked", tmp_path / "free"
    locked.mkdir()
    free.mkdir()
    monkeypatch.setenv("MUSO_BACKUP_DIRS", f"{locked}:{free}")
    access = os.access
    # As a stick mounted read-only answers, whoever asks (root included: a chmod would not do).
    monkeypatch.setattr(backup_module.os, "access", lambda p, mode: Path(p) != locked and access(p, mode))
    for lang, says in (("fr", "écriture refusée (clé protégée en écriture"), ("en", "writing refused")):
        code, out, err = run_cli(capsys, "--db", db, "--lang", lang, "backup-usb")
        assert code == 3 and str(locked) in err and says in err, err
        assert "Aucune clé USB" not in out
    assert list(locked.iterdir()) == []
    assert len(list((free / "muso-sauvegardes").glob("muso-K07-*.db"))) == 1  # the other stick still got its copy
