"""Deployment: the installers, the systemd units, the notify protocol and backups."""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import make_group

from kiosk.cli import main
from kiosk.services import Kiosk
from kiosk.services import meetings as M
from kiosk.store.clock import FixedClock
from kiosk.store.print_queue import PrintQueue
from kiosk.store.verify import verify
from kiosk.sync import state

ROOT = Path(__file__).resolve().parent.parent
WRAPPERS = [ROOT / "deploy" / "kiosk" / "muso-kiosk", ROOT / "deploy" / "server" / "muso-server"]
SCRIPTS = [ROOT / ".ci" / "run", *sorted((ROOT / "deploy").glob("*.sh")), *WRAPPERS]
UNITS = sorted((ROOT / "systemd").glob("muso-*"))


def _tree(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every file's mode, mtime and content hash: what a second install must not change."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink() else ""
        if path.is_symlink():
            digest = os.readlink(path)
        out[str(path.relative_to(root))] = (st.st_mode, st.st_mtime_ns, digest)
    return out


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A snapshot of the checkout: the installers copy "their" source, which must hold still."""
    src = tmp_path_factory.mktemp("src") / "muso"
    ignore = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", ".pytest_cache", ".ruff_cache",
                                    ".hypothesis", ".mypy_cache")  # fmt: skip
    shutil.copytree(ROOT, src, ignore=ignore)
    return src


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory, source: Path) -> Path:
    root = tmp_path_factory.mktemp("pi")
    (root / "boot" / "firmware").mkdir(parents=True)
    (root / "boot" / "firmware" / "cmdline.txt").write_text("console=tty1 root=PARTUUID=1234-02 rootwait\n")
    run = subprocess.run(
        ["bash", str(source / "deploy" / "install-kiosk.sh"), "--root", str(root), "--no-venv", "--read-only-root",
         "--data-device", "/dev/sda2"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return root


def test_a_first_install_needs_the_kiosk_id_that_receipt_numbers_carry(source: Path) -> None:
    if Path("/var/lib/muso/kiosk.db").exists():
        pytest.skip("this machine is a kiosk: the installer would update it")
    # As nobody: were the check missing, the installer would stop at "run as root", never install here.
    who = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 and shutil.which("runuser") else []
    script = (source / "deploy" / "install-kiosk.sh").read_text()  # on stdin: nobody cannot read pytest's tmp
    run = subprocess.run([*who, "bash", "-s"], input=script, capture_output=True, text=True, timeout=60, cwd="/")
    assert run.returncode == 2 and "--kiosk-id is needed" in run.stderr, run.stderr


def test_scripts_pass_shellcheck() -> None:
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck is not installed (CI installs it)")
    result = subprocess.run(["shellcheck", "-x", *map(str, SCRIPTS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_the_pi_installer_stages_every_file_with_its_permissions(staged: Path) -> None:
    expected = {
        "etc/muso/kiosk.env": 0o640,
        "etc/udev/rules.d/99-muso-printer.rules": 0o644,
        "etc/udev/rules.d/99-muso-usb-sticks.rules": 0o644,
        "etc/pam.d/muso-kiosk": 0o644,
        "etc/systemd/timesyncd.conf.d/muso.conf": 0o644,
        "etc/tmpfiles.d/muso.conf": 0o644,
        "usr/local/bin/muso-kiosk": 0o755,
        "etc/systemd/system/muso-kiosk.service": 0o644,
        "etc/systemd/system/muso-sync.service": 0o644,
        "etc/systemd/system/muso-backup.service": 0o644,
        "etc/systemd/system/muso-backup.timer": 0o644,
        "etc/overlayroot.local.conf": 0o644,
        "var/lib/muso": 0o750,
        "var/cache/muso": 0o750,
        "etc/muso": 0o755,
    }
    for rel, mode in expected.items():
        path = staged / rel
        assert path.exists(), rel
        assert path.stat().st_mode & 0o777 == mode, (rel, oct(path.stat().st_mode))
    for unit in ("muso-kiosk.service", "muso-sync.service", "muso-backup.service", "muso-backup.timer"):
        assert (staged / "etc/systemd/system" / unit).read_bytes() == (ROOT / "systemd" / unit).read_bytes()
    wants = {
        "graphical.target.wants/muso-kiosk.service",
        "multi-user.target.wants/muso-sync.service",
        "timers.target.wants/muso-backup.timer",
    }
    for link in wants:
        assert (staged / "etc/systemd/system" / link).is_symlink(), link
    assert (staged / "opt/muso/app/kiosk/domain/reducer.py").exists()
    assert not (staged / "opt/muso/app/.git").exists()
    assert "consoleblank=0" in (staged / "boot/firmware/cmdline.txt").read_text()
    assert "tmpfs:recurse=0" in (staged / "etc/overlayroot.local.conf").read_text()
    assert "/dev/sda2 /var/lib/muso ext4" in (staged / "etc/fstab").read_text()
    # A data partition's fresh file system belongs to root: at every boot it is given to muso.
    assert "d /var/lib/muso 0750 muso muso -" in (staged / "etc/tmpfiles.d/muso.conf").read_text()
    assert 'SYMLINK+="muso-printer"' in (staged / "etc/udev/rules.d/99-muso-printer.rules").read_text()
    # Sticks are mounted where the backups look for them, under /media (there is no desktop to do it).
    sticks = (staged / "etc/udev/rules.d/99-muso-usb-sticks.rules").read_text()
    assert "systemd-mount --no-block --automount=yes" in sticks and "uid=muso" in sticks
    assert all(" /media/muso-usb-%k" in line for line in sticks.splitlines() if "RUN{" in line)


def test_running_the_installer_again_changes_nothing_and_keeps_the_data(staged: Path, source: Path) -> None:
    data = staged / "var/lib/muso/kiosk.db"
    data.write_bytes(b"the savings of 30 members")
    (staged / "etc/muso/kiosk.env").write_text("MUSO_DB=/var/lib/muso/kiosk.db\n# edited by the technician\n")
    (staged / "etc/muso/kiosk.env").chmod(0o640)
    before = _tree(staged)
    run = subprocess.run(
        ["bash", str(source / "deploy" / "install-kiosk.sh"), "--root", str(staged), "--no-venv", "--read-only-root",
         "--data-device", "/dev/sda2"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "installed" not in run.stdout
    assert _tree(staged) == before
    assert data.read_bytes() == b"the savings of 30 members"


def test_the_server_installer_generates_a_secret_once(tmp_path: Path, source: Path) -> None:
    args = ["bash", str(source / "deploy" / "install-server.sh"), "--root", str(tmp_path), "--no-venv",
            "--domain", "muso.example.org"]  # fmt: skip
    assert subprocess.run(args, capture_output=True, timeout=300).returncode == 0
    env = (tmp_path / "etc/muso/server.env").read_text()
    secret = next(line.split("=", 1)[1] for line in env.splitlines() if line.startswith("MUSO_SERVER_SECRET_KEY="))
    assert len(secret) >= 32 and "@SECRET@" not in env
    assert (tmp_path / "etc/muso/server.env").stat().st_mode & 0o777 == 0o640
    assert "muso.example.org {" in (tmp_path / "etc/caddy/Caddyfile").read_text()
    assert (tmp_path / "usr/local/bin/muso-server").stat().st_mode & 0o777 == 0o755
    before = _tree(tmp_path)
    assert subprocess.run(args, capture_output=True, timeout=300).returncode == 0
    assert _tree(tmp_path) == before  # same secret, same files


def test_systemd_analyze_verifies_every_unit(staged: Path, tmp_path: Path) -> None:
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd is not installed (CI installs it)")
    root = tmp_path / "root"
    shutil.copytree(staged / "etc", root / "etc", symlinks=True)
    (staged / "etc/systemd/system/muso-server.service").parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "systemd" / "muso-server.service", root / "etc/systemd/system/muso-server.service")
    # The units' programs, as the installers and apt would put them on the Pi.
    for exe in ("usr/bin/cage", "opt/muso/venv/bin/muso-kiosk", "opt/muso/venv/bin/muso-server"):
        path = root / exe
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    system = Path("/usr/lib/systemd/system")
    if not system.is_dir():
        system = Path("/lib/systemd/system")
    shutil.copytree(system, root / "usr/lib/systemd/system", symlinks=False, ignore_dangling_symlinks=True)
    units = [f"/etc/systemd/system/{u.name}" for u in UNITS]
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", f"--root={root}", *units], capture_output=True, text=True
    )
    problems = [ln for ln in result.stderr.splitlines() if "muso" in ln]
    assert result.returncode == 0 and not problems, result.stderr


# -- the notify protocol -----------------------------------------------------------------------

APP = """
import os, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QCoreApplication, QTimer
from ui import sdnotify
app = QCoreApplication([])
timer = sdnotify.start_gui_watchdog(app)
assert timer is not None
sdnotify.ready("home screen shown")
QTimer.singleShot(600, lambda: time.sleep(1.2))   # the GUI thread freezes
QTimer.singleShot(2300, lambda: (sdnotify.stopping(), app.quit()))
app.exec()
"""


def test_ready_watchdog_from_the_gui_thread_and_stopping(tmp_path: Path) -> None:
    address = str(tmp_path / "notify.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(address)
    server.settimeout(5)
    env = os.environ | {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "200000", "PYTHONPATH": str(ROOT)}
    env.pop("WATCHDOG_PID", None)
    proc = subprocess.Popen([sys.executable, "-c", APP], env=env, stderr=subprocess.PIPE, text=True)
    messages: list[tuple[float, str]] = []
    try:
        while True:
            data = server.recv(4096).decode()
            messages.append((time.monotonic(), data))
            if data.startswith("STOPPING=1"):
                break
    finally:
        proc.wait(10)
        server.close()
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    kinds = [m.split("=")[0] for _, m in messages]
    assert "READY" in kinds and kinds[-1] == "STOPPING"
    pings = [t for t, m in messages if m == "WATCHDOG=1"]
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    assert len(pings) >= 8
    assert max(gaps) >= 1.0  # the frozen GUI thread stopped the pings: systemd would restart it
    assert sorted(gaps)[len(gaps) // 2] < 0.3  # otherwise every ~100 ms (half of WatchdogSec)


def test_systemd_s_sigterm_stops_the_full_screen_app_cleanly(tmp_path: Path) -> None:
    """In kiosk mode closing the window asks for an officer's PIN: SIGTERM (``systemctl stop``, an update, a
    restore) went through that refusal, was cancelled, and the app was killed 15 s later, its queue's
    worker never stopped."""
    db = tmp_path / "kiosk.db"
    Kiosk.open(db, FixedClock()).close()
    address = str(tmp_path / "notify.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(address)
    server.settimeout(30)
    env = os.environ | {"NOTIFY_SOCKET": address, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    env |= {"MUSO_DATA_DIR": str(tmp_path)}
    env.pop("WATCHDOG_USEC", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "--db", str(db), "run"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        said = iter(lambda: server.recv(4096).decode(), None)
        next(m for m in said if m.startswith("READY=1"))  # the watchdog's pings, if any, before it
        proc.send_signal(signal.SIGTERM)
        stopping = next(said)
        code = proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        server.close()
    assert code == 0 and stopping.startswith("STOPPING=1"), proc.stderr.read() if proc.stderr else ""


def test_no_notify_socket_no_watchdog(monkeypatch: pytest.MonkeyPatch) -> None:
    from ui import sdnotify

    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    assert sdnotify.ready() is False
    monkeypatch.setenv("WATCHDOG_PID", "1")
    assert sdnotify.watchdog_interval_ms() is None  # meant for another process
    monkeypatch.setenv("MUSO_NOTIFY_CHILD", "1")
    assert sdnotify.watchdog_interval_ms() == 15000  # …unless the unit says we answer for cage


# -- backups -----------------------------------------------------------------------------------


def _rows(k: Kiosk) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    query = "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'p\\_%' ESCAPE '\\'"  # projections
    tables = [r["name"] for r in k.store.query(query)]
    return {t: sorted(map(tuple, k.store.conn.execute(f"SELECT * FROM {t}").fetchall()), key=repr) for t in tables}


def test_backup_to_usb_wipe_and_restore_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "data" / "kiosk.db"
    k = Kiosk.open(db, FixedClock())
    g = make_group(k)
    meeting = g.open(__import__("datetime").date(2026, 3, 2))
    M.standard_contributions(k, meeting, g.treasurer)
    g.close(meeting, adjust={"verte": -500})
    head, rows = k.store.head(), _rows(k)
    state.succeeded(k.store, 1_780_000_000_000)  # it synced
    k.close()

    usb = tmp_path / "usb"
    usb.mkdir()
    monkeypatch.setenv("MUSO_BACKUP_DIRS", str(usb))
    assert main(["--db", str(db), "backup-usb", "--keep", "2"]) == 0
    assert "Sauvegarde sur clé USB" in capsys.readouterr().out
    [copy] = (usb / "muso-sauvegardes").glob("muso-*.db")
    with Kiosk.open(db, FixedClock()) as k:
        assert k.store.setting("last_backup")  # the app can show when the last backup was made
        queue = PrintQueue(k.store)
        assert len(queue.jobs(pending_only=True)) > 2 and not any(job["duplicate"] for job in queue.jobs())
        waiting = {job["id"] for job in queue.jobs(pending_only=True, limit=1000)}
        for _ in range(2):  # after the backup, the paper came back: two of them came out
            job = queue.claim()
            assert job is not None and queue.printed(job["id"], job["attempts"])

    for suffix in ("", "-wal", "-shm"):  # the SD card dies
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    assert main(["--db", str(db), "restore-backup", str(copy)]) == 0
    out = capsys.readouterr().out
    assert "s'imprimeront marqués DUPLICATA" in out
    # Which database was replaced, and that it was a new one: the technician sees where it went.
    assert out.startswith(f"Base {db} (nouvelle) restaurée depuis {copy} :")
    restored = Kiosk.open(db, FixedClock())
    assert restored.store.head() == head
    assert _rows(restored) == rows
    # What waited in the backup may have printed since (two did): it all prints again, as duplicates only.
    jobs = PrintQueue(restored.store).jobs(pending_only=True, limit=1000)
    assert {j["id"] for j in jobs} == waiting and all(j["duplicate"] for j in jobs)
    # The server may hold what was synced after the backup: the next sync asks it before anything else.
    assert state.load(restored.store).last_success_ms is None
    assert verify(restored.store).ok
    restored.close()
    assert main(["--db", str(db), "restore-backup", str(copy)]) == 2  # refuses to overwrite without --force


def test_backups_rotate_and_a_damaged_backup_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk.store.backup import rotate

    folder = tmp_path / "b"
    folder.mkdir()
    for seq in (10, 20, 30, 40):
        (folder / f"muso-kiosk-{seq:09d}.db").write_bytes(b"x")
    rotate(folder, 2)
    assert sorted(p.name for p in folder.iterdir()) == ["muso-kiosk-000000030.db", "muso-kiosk-000000040.db"]
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database at all" * 50)
    assert main(["--db", str(tmp_path / "k.db"), "restore-backup", str(bad)]) == 3
    assert main(["--db", str(tmp_path / "k.db"), "restore-backup", str(tmp_path / "missing.db")]) == 2
    monkeypatch.setenv("MUSO_BACKUP_DIRS", str(tmp_path / "no-stick"))
    assert main(["--db", str(tmp_path / "k.db"), "backup-usb"]) == 3  # no kiosk database there: said so
    assert not (tmp_path / "k.db").exists()  # and none made
    Kiosk.open(tmp_path / "k.db", FixedClock()).close()
    assert main(["--db", str(tmp_path / "k.db"), "backup-usb"]) == 0  # no stick: nothing to do, no error


def test_a_full_stick_makes_room_and_a_failing_one_does_not_stop_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    from kiosk.store import backup as B

    db = tmp_path / "k.db"
    k = Kiosk.open(db, FixedClock())
    make_group(k)  # a journal further on than the stick's old backups
    k.close()
    full, broken, good = (tmp_path / name for name in ("full", "broken", "good"))
    for stick in (full, broken, good):
        (stick / "muso-sauvegardes").mkdir(parents=True)
    for seq in (1, 2, 3):  # the full stick holds three old backups, and room for no more
        (full / "muso-sauvegardes" / f"muso-k-{seq:09d}.db").write_bytes(b"old")
    real = B.backup

    def stick_backup(store, folder):  # type: ignore[no-untyped-def]
        if folder.parent == broken:  # pulled out, or dying
            (folder / "muso-k-000000009.db.part").write_bytes(b"half")
            raise OSError(5, "Input/output error")
        if folder.parent == full and len(list(folder.glob("muso-*.db"))) >= 3:
            (folder / "muso-k-000000009.db.part").write_bytes(b"half")
            raise sqlite3.OperationalError("database or disk is full")
        return real(store, folder)

    monkeypatch.setattr(B, "backup", stick_backup)
    monkeypatch.setenv("MUSO_BACKUP_DIRS", f"{full}:{broken}:{good}")
    assert main(["--db", str(db), "backup-usb", "--keep", "3"]) == 3  # a stick failed: the timer's unit says so
    out, err = capsys.readouterr()
    assert str(broken) in err and "Input/output error" in err
    assert out.count("Sauvegarde sur clé USB") == 2
    names = sorted(p.name for p in (full / "muso-sauvegardes").iterdir())
    assert len(names) == 3 and names[:2] == ["muso-k-000000002.db", "muso-k-000000003.db"]  # the oldest made room
    assert len(list((good / "muso-sauvegardes").glob("muso-*.db"))) == 1
    assert not list(tmp_path.glob("*/muso-sauvegardes/*.part"))  # no half file left to look like a backup


def test_restoring_reads_the_backup_and_never_writes_to_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    db = tmp_path / "k.db"
    k = Kiosk.open(db, FixedClock())
    make_group(k)
    k.close()
    stick = tmp_path / "usb"
    stick.mkdir()
    monkeypatch.setenv("MUSO_BACKUP_DIRS", str(stick))
    assert main(["--db", str(db), "backup-usb"]) == 0
    [copy] = (stick / "muso-sauvegardes").glob("muso-*.db")
    before = hashlib.sha256(copy.read_bytes()).hexdigest()
    assert main(["--db", str(tmp_path / "new.db"), "restore-backup", str(copy)]) == 0
    # A write-protected stick must do: nothing is written there, not even a -wal beside it.
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in copy.parent.iterdir()) == [copy.name]


def _kiosk_with_a_group(db: Path) -> tuple[int, str]:
    """A kiosk database holding one group; its journal's head."""
    with Kiosk.open(db, FixedClock()) as k:
        make_group(k)
        return k.store.head()


def test_bad_backup_places_are_refused_in_words(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "k.db"
    head = _kiosk_with_a_group(db)
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert main(["--db", str(db), "backup", str(afile / "x")]) == 3  # a file where a folder should be
    assert main(["--db", str(db), "backup", str(tmp_path / "nodir" / "usb" / "k.db")]) == 3
    assert "Traceback" not in capsys.readouterr().err
    assert main(["--db", str(db), "backup", f"{tmp_path / 'cle'}/"]) == 3  # a folder meant, none there
    assert "le dossier" in capsys.readouterr().err and not (tmp_path / "cle").exists()
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")  # SQLite would take it for an empty database, and the kiosk's journal gone
    assert main(["--db", str(db), "restore-backup", str(empty), "--force"]) == 1
    assert "pas une sauvegarde" in capsys.readouterr().err
    with Kiosk.open(db, FixedClock()) as k:
        assert k.store.head() == head


def test_two_kiosks_sharing_a_stick_keep_their_own_backups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stick = tmp_path / "usb"
    stick.mkdir()
    monkeypatch.setenv("MUSO_BACKUP_DIRS", str(stick))
    for kiosk_id in ("K01", "K02"):
        db = tmp_path / kiosk_id / "kiosk.db"  # the same file name on every Pi
        assert main(["--db", str(db), "init", "--kiosk-id", kiosk_id]) == 0
        k = Kiosk.open(db, FixedClock())
        make_group(k)
        k.close()
        for n in range(3):
            assert main(["--db", str(db), "backup-usb", "--keep", "2"]) == 0
            with Kiosk.open(db, FixedClock()) as k:
                make_group(k, name=f"MUSO {kiosk_id}-{n}")  # the journal moves on between backups
    names = sorted(p.name.split("-")[1] for p in (stick / "muso-sauvegardes").glob("muso-*.db"))
    assert names == ["K01", "K01", "K02", "K02"]  # each kiosk's two newest, none rotated away by the other


def test_a_backup_cannot_be_written_over_the_live_database(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "k.db"
    head = _kiosk_with_a_group(db)
    assert main(["--db", str(db), "backup", str(db)]) == 3
    assert "own database" in capsys.readouterr().err
    with Kiosk.open(db, FixedClock()) as k:
        assert k.store.head() == head and verify(k.store).ok


def test_the_deploy_guide_s_commands_go_through_the_wrappers_that_read_the_env_files() -> None:
    # `env $(cat …)` made env try to run "#"; `env $(grep …)` read the file in the technician's shell,
    # which may not read it. The wrappers read the files as systemd does: comments, blanks, KEY=value.
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert "env $(" not in guide and "/opt/muso/venv/bin/muso-" not in guide
    for name in ("kiosk/kiosk.env", "server/server.env"):
        for line in (ROOT / "deploy" / name).read_text().splitlines():
            assert not line or line.startswith("#") or re.fullmatch(r"[A-Z_]+=\S*", line), line


def test_the_installers_help_is_their_header_and_nothing_else(tmp_path: Path) -> None:
    for script in ("install-kiosk.sh", "install-server.sh"):
        run = subprocess.run(["bash", str(ROOT / "deploy" / script), "--help"], capture_output=True, text=True)
        assert run.returncode == 2 and "Idempotent" in run.stdout and "set -euo" not in run.stdout, script
    samples = subprocess.run(
        [sys.executable, "-m", "printer.samples", "--help"], capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert samples.returncode == 0 and "usage" in samples.stdout and not list(tmp_path.iterdir())


@pytest.mark.parametrize("wrapper", WRAPPERS, ids=lambda p: p.name)
def test_the_command_a_technician_types_runs_with_the_service_s_settings(wrapper: Path, tmp_path: Path) -> None:
    """``sudo -u muso env $(grep … /etc/muso/kiosk.env) …``, as the docs said, read the file in the
    technician's shell, which may not: the command then ran on a database in a home folder, and
    ``restore-backup`` restored into it while the kiosk's own stayed as it was."""
    env_file = tmp_path / "service.env"
    # As systemd reads it, literally: a "&" and a "$" in a URL, a quoted value, no newline at the end.
    url = "postgresql+psycopg://muso:pa$$w0rd@db/muso?sslmode=require&connect_timeout=10"
    env_file.write_text(f'# the service\'s settings\n\nMUSO_DB="/var/lib/muso/kiosk.db"\nDATABASE_URL={url}')
    program = tmp_path / "program"
    program.write_text('#!/bin/sh\necho "$(id -un) $MUSO_DB $DATABASE_URL [$*]"\n')
    program.chmod(0o755)
    me = subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
    script = wrapper.read_text()
    for name, value in (("user", me), ("env_file", str(env_file)), ("program", str(program))):
        assert f"\n{name}=" in script, name
        script = "\n".join(f"{name}={value}" if ln.startswith(f"{name}=") else ln for ln in script.splitlines())
    here = tmp_path / wrapper.name
    here.write_text(script)
    here.chmod(0o755)
    run = subprocess.run([str(here), "restore-backup", "a file with spaces.db"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    said = f"{me} /var/lib/muso/kiosk.db {url} [restore-backup a file with spaces.db]\n"
    assert run.stdout == said


# -- the server behind its reverse proxy ---------------------------------------------------------------


def test_behind_caddy_each_client_is_its_own_address_not_the_proxy_s(tmp_path: Path) -> None:
    """The unit's options, on a real server: Caddy connects from 127.0.0.1 and says who the client is
    in X-Forwarded-For. Read from the socket, every client was 127.0.0.1, so one address's rate
    limit (and login lockout) was everyone's."""
    import httpx
    from test_sync_support import LiveServer

    from sync_server.migrate import upgrade

    unit = (ROOT / "systemd/muso-server.service").read_text().splitlines()
    line = next(ln for ln in unit if ln.startswith("ExecStart="))
    options = line.split(" serve ", 1)[1].split()
    for name in ("--host", "--port", "--workers"):  # the test's own loopback port, one worker
        i = options.index(name)
        del options[i : i + 2]
    assert "--proxy-headers" in options, line
    url = f"sqlite:///{tmp_path / 'server.db'}"
    upgrade(url)
    burst = 3
    env = {"MUSO_SERVER_ANONYMOUS_BURST": str(burst), "MUSO_SERVER_ANONYMOUS_RATE_PER_MINUTE": "1"}
    with LiveServer(url, env, args=tuple(options)) as server:

        def login(client: str) -> int:
            body = {"username": f"personne {client}", "password": "pas le bon"}  # not one name's lockout
            headers = {"X-Forwarded-For": client}
            return httpx.post(server.base + "/v1/admin/token", json=body, headers=headers, timeout=10).status_code

        # Ten coordinators in ten villages, one failed login each: nobody is held back by the others.
        assert [login(f"10.0.1.{i}") for i in range(10)] == [401] * 10
        # One address trying again and again is, and only that one.
        assert [login("10.0.2.1") for _ in range(burst + 1)][-1] == 429
        assert login("10.0.2.2") == 401
