"""``muso-kiosk`` sync commands as a technician meets them: what enroll advises, the daemon before enrollment,
what the errors say in French, and ``sync-status``. The commands talk to the real app in-process."""

from __future__ import annotations

import http.server
import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from test_sync_support import (  # noqa: F401  (backend_fixture, server_fixture: fixtures)
    Server,
    Station,
    backend_fixture,
    backup_of,
    enrolled,
    free_port,
    kiosk_journal,
    server_fixture,
    server_journal_tuples,
    station,
    synced,
)

from kiosk import cli as kiosk_cli
from kiosk.domain.errors import DomainError
from kiosk.services import Kiosk
from kiosk.services import groups as G
from kiosk.store import Store
from kiosk.store.clock import FixedClock
from kiosk.sync import enrollment, state
from kiosk.sync.client import SyncClient
from kiosk.sync.enrollment import enroll
from kiosk.sync.errors import SyncError, describe
from sync_server.db import enrollment_codes
from sync_server.security import new_enrollment_code

URL = "http://testserver"


class Kept:
    """The app's TestClient for the commands, which close their client when done (this one serves the test)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def close(self) -> None:
        """Left open: the test serves on with it."""


@pytest.fixture
def wired(server: Server, monkeypatch: pytest.MonkeyPatch) -> Server:
    monkeypatch.setattr("kiosk.sync.client.http_client", lambda url, timeout=30.0: Kept(server.client))
    return server


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:  # type: ignore[type-arg]
    capsys.readouterr()
    code = kiosk_cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def initialized(db: Path, kiosk_id: str = "K01") -> str:
    """An empty kiosk's database, as the installer's `muso-kiosk init` makes it before anyone enrolls."""
    assert kiosk_cli.main(["--db", str(db), "init", "--kiosk-id", kiosk_id]) == 0
    return str(db)


# -- enroll with a replacement code: restore only when it can ------------------------------------------


def test_enroll_with_a_replacement_code_advises_restore_only_when_restore_can_work(
    wired: Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
) -> None:
    st, client = synced(wired, tmp_path / "k.db")
    prefix = backup_of(st, tmp_path / "prefix.db")  # a backup, then more recorded and synced
    fork = backup_of(st, tmp_path / "fork.db")
    st.meeting()
    client.sync()
    same = backup_of(st, tmp_path / "same.db")
    st.k.close()
    with Kiosk.open(fork, FixedClock(boot_id="fork")) as k:
        G.create_group(k, "Un autre groupe")  # recorded on the old backup: a fork

    def takeover(db: Path) -> tuple[int, str, str]:
        return run(capsys, "--db", str(db), "enroll", "--server", URL, "--code", wired.code("K01", replace=True))

    code, out, err = takeover(fork)
    assert code == 0 and "restore" not in out
    assert "diffère de celui du serveur" in err
    code, out, err = takeover(same)
    assert code == 0 and "restore" not in out + err  # it holds the server's journal already: nothing to do
    code, out, err = takeover(Path(initialized(tmp_path / "new.db")))
    assert code == 0 and "lancez `muso-kiosk restore`" in out
    code, out, err = takeover(prefix)
    assert code == 0 and "lancez `muso-kiosk restore`" in out
    code, out, err = run(capsys, "--db", str(prefix), "restore")
    assert code == 0 and "complété" in out, err
    with Kiosk.open(prefix) as k:
        assert server_journal_tuples(wired, "K01") == kiosk_journal(k)


def test_enroll_refuses_a_database_that_is_not_there_and_keeps_the_code_unspent(
    wired: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
) -> None:
    # The README's steps on a laptop: `enroll` without --db, where the demo's database is elsewhere.
    monkeypatch.delenv("MUSO_DB", raising=False)
    monkeypatch.setenv("MUSO_DATA_DIR", str(tmp_path / "data"))
    code_text = wired.code("K01")
    code, out, err = run(capsys, "enroll", "--server", URL, "--code", code_text)
    assert code == 3 and "inscrit" not in out
    assert f"pas de base de kiosque à {tmp_path / 'data' / 'kiosk.db'}" in err
    assert not (tmp_path / "data").exists() or not list((tmp_path / "data").iterdir())  # no database, no key
    # The code was not spent: the kiosk it was meant for enrolls with it.
    db = initialized(tmp_path / "real.db")
    assert run(capsys, "--db", db, "enroll", "--server", URL, "--code", code_text)[0] == 0


def test_a_code_from_another_server_does_not_take_an_enrolled_kiosk_away_without_force(
    wired: Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
) -> None:
    st, _ = synced(wired, tmp_path / "k.db")
    st.k.close()
    db, key = str(tmp_path / "k.db"), tmp_path / "k.db.key"
    original = key.read_bytes()
    other = "https://autre-serveur.example.org"
    code_text = wired.code("K01", replace=True)  # answered by the test's server, wherever the URL points
    code, out, err = run(capsys, "--db", db, "enroll", "--server", other, "--code", code_text)
    assert code == 2 and "inscrit auprès d'un autre serveur" in err and f"(inscrit auprès de {URL})" in err
    assert "--force" in err and "inscrit auprès de https" not in out
    assert key.read_bytes() == original and not list(tmp_path.glob("k.db.key.*"))
    with Store(Path(db)) as store:
        assert state.server_url(store) == URL
    # The same server (spelled with a slash at the end, or behind TLS since) is no other: enrolling goes as before.
    code, _, err = run(capsys, "--db", db, "enroll", "--server", URL + "/", "--code", wired.code("K01", replace=True))
    assert code == 0, err
    assert enrollment.same_server(URL, URL.replace("http://", "https://"))
    assert not enrollment.same_server(URL, "https://testserver.example.org")
    enrolled_key = key.read_bytes()
    assert enrolled_key != original and not (tmp_path / "k.db.key.old").exists()

    code, out, err = run(capsys, "--db", db, "enroll", "--server", other, "--code", code_text, "--force")
    assert code == 0, err
    assert f"Il quitte le serveur {URL}/" in out and "k.db.key.old" in out
    assert (tmp_path / "k.db.key.old").read_bytes() == enrolled_key and key.read_bytes() != enrolled_key
    with Store(Path(db)) as store:
        current = state.load(store)
        assert current.server_url == other and current.acked_seq == 0 and current.ref_cursor == 0
        assert state.pending(store)["events"] == store.head()[0]  # all of it, for the new server


def test_a_kiosk_put_back_without_its_key_or_half_restored_is_not_moved_to_another_server_unasked(
    wired: Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
) -> None:
    st, _ = synced(wired, tmp_path / "k.db")
    st.k.close()
    db, other = str(tmp_path / "k.db"), "https://autre-serveur.example.org"
    (tmp_path / "k.db.key").unlink()  # a backup carries the database, not the key
    code, _, err = run(capsys, "--db", db, "enroll", "--server", other, "--code", wired.code("K01", replace=True))
    assert code == 2 and "inscrit auprès d'un autre serveur" in err
    with Store(Path(db)) as store:
        state.update(store, restore_to=store.head()[0] + 10)
        before = state.load(store)
    for extra in ((), ("--force",)):
        replacing = wired.code("K01", replace=True)
        code, _, err = run(capsys, "--db", db, "enroll", "--server", other, "--code", replacing, *extra)
        assert code == 2 and "une restauration est en cours" in err and f"(inscrit auprès de {URL})" in err
        with Store(Path(db)) as store:
            assert state.load(store) == before and not (tmp_path / "k.db.key").exists()
    with Store(Path(db)) as store:
        state.update(store, restore_to=None)
    code, out, err = run(capsys, "--db", db, "enroll", "--server", other, "--code", replacing, "--force")
    assert code == 0 and f"Il quitte le serveur {URL}. " in out and "ancienne clé" not in out, err


def test_a_usb_backup_put_on_a_new_pi_is_told_to_enroll_with_a_replacement_code_and_then_syncs(
    wired: Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
) -> None:
    # docs/deploy.md §5, "From a USB backup": the stick holds the database (backup-usb), never the key.
    st, _ = synced(wired, tmp_path / "dead.db")
    st.meeting()  # recorded after the last sync: only the backup has it
    code, out, err = run(capsys, "--db", str(st.store.path), "backup", str(tmp_path / "stick.db"))
    assert code == 0, err
    st.k.close()
    new_pi = str(tmp_path / "new" / "kiosk.db")
    assert run(capsys, "--db", new_pi, "restore-backup", str(tmp_path / "stick.db"))[0] == 0
    for lang, says in (("fr", "code de remplacement"), ("en", "replacement code")):
        code, _, err = run(capsys, "--db", new_pi, "--lang", lang, "sync")
        assert code == 2 and says in err and "--replace" in err, err
        assert "pas encore inscrit" not in err and "not enrolled with the server yet" not in err
    code, out, _ = run(capsys, "--db", new_pi, "sync-status", "--remote")
    assert code == 2 and "sa clé manque" in out
    code, _, err = run(capsys, "--db", new_pi, "enroll", "--server", URL, "--code", wired.code("K01", replace=True))
    assert code == 0, err
    code, out, err = run(capsys, "--db", new_pi, "sync")
    assert code == 0 and "événement(s) envoyé(s)" in out, err
    with Kiosk.open(Path(new_pi)) as k:
        assert server_journal_tuples(wired, "K01") == kiosk_journal(k)


def test_a_running_sync_follows_an_enrollment_made_while_it_runs(
    wired: Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
) -> None:
    # The sync daemon holds one client for as long as it runs: `enroll --force` happens under it.
    st, _ = synced(wired, tmp_path / "k.db")
    running = SyncClient.open(st.store)
    other = "https://autre-serveur.example.org"
    db = str(tmp_path / "k.db")
    code, _, err = run(
        capsys, "--db", db, "enroll", "--server", other, "--code", wired.code("K01", replace=True), "--force"
    )
    assert code == 0, err
    st.meeting()
    report = running.sync()  # with the key the old one gave way to, the server refused it (401)
    assert running.server_url == other and report.acked_seq == st.store.head()[0]
    with Store(Path(db)) as store:
        assert state.server_url(store) == other  # not taken back to the server it left
    running.close()


def test_a_replacement_pi_records_nothing_between_enroll_and_restore_and_status_says_why(
    wired: Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
) -> None:
    old, _ = synced(wired, tmp_path / "old.db")
    old.meeting()
    SyncClient.open(old.store, http=wired.client).sync()
    server_seq = old.store.head()[0]
    db = tmp_path / "new.db"
    assert run(capsys, "--db", str(db), "init", "--kiosk-id", "K01")[0] == 0
    code, out, err = run(capsys, "--db", str(db), "enroll", "--server", URL, "--code", wired.code("K01", replace=True))
    assert code == 0 and "lancez `muso-kiosk restore`" in out, err

    # Before any sync: the app refuses a new group or meeting, as it would after a sync found the server ahead.
    with Kiosk.open(db) as k, pytest.raises(DomainError) as refused:
        G.create_group(k, "MUSO Bolou")
    assert refused.value.code == "kiosk_behind_server"
    code, out, _ = run(capsys, "--db", str(db), "sync-status")
    assert code == 0 and f"serveur {server_seq})" in out and "lancez `muso-kiosk restore`" in out
    code, out, _ = run(capsys, "--db", str(db), "sync-status", "--json")
    assert json.loads(out)["server_ahead_seq"] == server_seq

    code, out, err = run(capsys, "--db", str(db), "restore")
    assert code == 0 and "restauré" in out and "refaire leur code" in out, err
    assert "reçus restés sans papier sur l'ancien kiosque ne sont pas repris" in out  # print jobs are the device's
    with Kiosk.open(db) as k:
        assert not state.is_behind(k.store) and kiosk_journal(k) == server_journal_tuples(wired, "K01")
    code, out, _ = run(capsys, "--db", str(db), "sync-status", "--json")
    assert json.loads(out)["server_ahead_seq"] is None


def test_a_new_pi_whose_restore_was_cut_off_is_told_as_a_new_pi_when_it_resumes(
    wired: Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old, _ = synced(wired, tmp_path / "old.db")
    old.meeting()
    SyncClient.open(old.store, http=wired.client).sync()
    db = str(initialized(tmp_path / "new.db"))
    assert run(capsys, "--db", db, "enroll", "--server", URL, "--code", wired.code("K01", replace=True))[0] == 0
    wired.settings.restore_page = 10
    pages = SyncClient.restore_page

    def then_the_2g_drops(self: SyncClient, after: int, limit: int | None = None) -> Any:
        if after >= 10:
            raise SyncError("network", "the 2G dropped", transient=True)
        return pages(self, after, limit)

    monkeypatch.setattr(SyncClient, "restore_page", then_the_2g_drops)
    assert run(capsys, "--db", db, "restore")[0] != 0
    monkeypatch.setattr(SyncClient, "restore_page", pages)
    code, out, err = run(capsys, "--db", db, "restore")  # part of the journal is here: still a new Pi, no PINs
    assert code == 0 and "Kiosque restauré" in out and "refaire leur code" in out and "complété" not in out, err


def test_a_fork_is_said_from_the_first_event_that_differs_not_where_it_was_noticed(
    wired: Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
) -> None:
    old, _ = synced(wired, tmp_path / "old.db")
    fork = backup_of(old, tmp_path / "fork.db")
    shared = old.store.head()[0]
    for _ in range(3):
        old.meeting()
    SyncClient.open(old.store, http=wired.client).sync()
    server_seq = old.store.head()[0]

    # A backup someone recorded on: the histories part at the first event recorded since it was made.
    with Kiosk.open(fork, FixedClock(boot_id="fork")) as k:
        for i in range(3):
            G.create_group(k, f"Un autre groupe {i}")
    code, _, err = run(capsys, "--db", str(fork), "restore")
    assert code == 2 and f"à partir du n° {shared + 1})" in err, err

    # A new Pi used on its own before it was enrolled as the replacement: more events than the server holds,
    # none of them the server's.
    new = station(tmp_path / "new.db", members=12)
    for _ in range(4):
        new.meeting()
    assert new.store.head()[0] > server_seq
    new.k.close()
    db = str(tmp_path / "new.db")
    code, _, err = run(capsys, "--db", db, "enroll", "--server", URL, "--code", wired.code("K01", replace=True))
    assert code == 0 and "diffère de celui du serveur" in err
    for command in ("restore", "sync"):
        code, _, err = run(capsys, "--db", db, command)
        assert code == 2 and "à partir du n° 1)" in err, (command, err)


def test_the_app_s_enroll_button_enrolls_the_kiosk(wired: Server, tmp_path: Path) -> None:
    from ui.workers import sync_enroll, sync_status

    db = Path(initialized(tmp_path / "k.db"))
    data = sync_enroll(db, URL, wired.code("K01"))
    assert data["kiosk_id"] == "K01" and sync_status(db)["server"] == URL


# -- receipts of an enrolled kiosk ----------------------------------------------------------------------


def test_an_enrolled_kiosk_s_receipts_carry_a_qr_code_that_opens_their_check_on_its_server(
    wired: Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
) -> None:
    st = station(tmp_path / "k.db")
    st.meeting()  # before enrollment: no server to send a member to
    code, _, err = run(capsys, "--db", str(st.store.path), "enroll", "--server", URL, "--code", wired.code("K01"))
    assert code == 0, err
    st.meeting()
    jobs = st.store.conn.execute("SELECT doc FROM print_jobs WHERE kind = 'member' ORDER BY id").fetchall()
    docs = [json.loads(doc) for (doc,) in jobs]
    before, after = docs[: len(docs) // 2], docs[len(docs) // 2 :]
    assert before and all(d["verify_url"] is None for d in before)
    assert after and all(d["verify_url"] == f"{URL}/v/{d['number']}/{d['code'].replace('-', '')}" for d in after)
    code, _, err = run(capsys, "--db", str(st.store.path), "sync")
    assert code == 0, err
    page = wired.client.get(after[0]["verify_url"].removeprefix(URL))
    assert page.status_code == 200 and "Code authentique" in page.text


# -- the daemon of a kiosk not enrolled yet -------------------------------------------------------------


def test_the_daemon_of_a_kiosk_not_enrolled_yet_waits_for_it_and_then_syncs(
    wired: Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = tmp_path / "k.db"
    st = station(db)
    st.meeting()
    st.k.close()
    code, _, err = run(capsys, "--db", str(db), "sync")
    assert code == 2 and "inscrit" in err  # once: fails fast, with the reason
    monkeypatch.setattr("kiosk.sync.cli.signal.signal", lambda *args: None)  # pytest keeps its own handlers
    enrollment = wired.code("K01")

    def technician_enrolls() -> None:
        # After the daemon has said it waits (a fixed 0.4 s was shorter than its start on a slow machine).
        deadline = time.monotonic() + 60
        while not any("waits" in r.getMessage() for r in caplog.records) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.4)
        with Store(db) as store:
            enroll(store, URL, enrollment, http=wired.client)

    caplog.set_level(logging.INFO, logger="muso.sync")
    helper = threading.Thread(target=technician_enrolls)
    helper.start()
    try:
        started = time.monotonic()
        daemon = ["--db", str(db), "sync", "--daemon", "--rounds", "1", "--enroll-wait", "0.05"]
        assert run(capsys, *daemon)[0] == 0
    finally:
        helper.join()
    assert time.monotonic() - started >= 0.4  # it waited, it did not exit
    waits = [r for r in caplog.records if "waits" in r.getMessage()]
    assert len(waits) == 1 and "not_enrolled" in waits[0].getMessage()  # said once, not at every try
    with Kiosk.open(db) as k:
        assert server_journal_tuples(wired, "K01") == kiosk_journal(k)


def test_the_daemon_of_a_kiosk_whose_app_never_started_waits_for_its_database(
    wired: Server,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """systemd starts the sync daemon at boot, maybe before the app ever made the database: it must wait,
    not exit and be restarted every 30 s, nor make an empty database the app would then race."""
    db = tmp_path / "k.db"
    monkeypatch.setattr("kiosk.sync.cli.signal.signal", lambda *args: None)
    enrollment = wired.code("K01")

    def logged(words: str) -> None:
        # Waiting for the daemon's word, not a fixed time: on a slow machine its start alone took longer.
        deadline = time.monotonic() + 60
        # Past the deadline, on all the same: the assertions below say what was missed, and the daemon ends.
        while not any(words in r.getMessage() for r in caplog.records) and time.monotonic() < deadline:
            time.sleep(0.02)

    def first_start_then_enrollment() -> None:
        logged("no_database")
        assert not db.exists()  # the daemon made nothing
        db.write_bytes(b"half a database")  # the app making it, caught in the middle
        logged("not ready yet")
        db.write_bytes(b"")  # and on: never gone in between, or the daemon would say "no database" again
        st = station(db)
        st.meeting()
        enroll(st.k.store, URL, enrollment, http=wired.client)
        st.k.close()

    caplog.set_level(logging.INFO, logger="muso.sync")
    helper = threading.Thread(target=first_start_then_enrollment)
    helper.start()
    try:
        daemon = ["--db", str(db), "sync", "--daemon", "--rounds", "1", "--enroll-wait", "0.05"]
        assert kiosk_cli.main(daemon) == 0
    finally:
        helper.join()
    waits = [r.getMessage() for r in caplog.records if "waits" in r.getMessage()]
    assert "no_database" in waits[0] and len([w for w in waits if "no_database" in w]) == 1
    assert any("not ready yet" in r.getMessage() for r in caplog.records)  # the half-made file: waited on too
    with Kiosk.open(db) as k:
        assert server_journal_tuples(wired, "K01") == kiosk_journal(k)


def test_a_reason_to_wait_that_lasts_is_said_again_not_only_once(caplog: pytest.LogCaptureFixture) -> None:
    """A database that stays unreadable is a broken card, not one being made: said again each day."""
    from kiosk.sync import daemon

    stop, tries = threading.Event(), []

    def broken() -> Any:
        tries.append(1)
        if len(tries) == 6:
            stop.set()
        raise SyncError("database_not_ready", "file is not a database")

    caplog.set_level(logging.INFO, logger="muso.sync")
    assert daemon.wait_for_client(broken, stop, every_s=0.02, remind_s=0.05) is None
    said = [r for r in caplog.records if "database_not_ready" in r.getMessage()]
    assert 2 <= len(said) < len(tries)  # again after a while, never at every try


# -- what the technician reads ----------------------------------------------------------------------------


ENGLISH = ("has already been used", "expired: ask", "unknown enrollment", "this device", "not signed", "HTTP ")


def test_the_server_s_refusals_are_told_in_french(
    wired: Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
) -> None:
    st, _client = synced(wired, tmp_path / "k.db")
    st.k.close()
    fresh = initialized(tmp_path / "fresh.db")

    said = {}
    code, _, said["unknown"] = run(capsys, "--db", fresh, "enroll", "--server", URL, "--code", new_enrollment_code())
    assert code == 2
    used = wired.code("K02")
    assert run(capsys, "--db", fresh, "enroll", "--server", URL, "--code", used)[0] == 0
    other = initialized(tmp_path / "other.db")
    code, _, said["used"] = run(capsys, "--db", other, "enroll", "--server", URL, "--code", used)
    assert code == 2
    expired = wired.code("K03")
    with wired.engine.begin() as conn:
        conn.execute(update(enrollment_codes).values(expires_at=0).where(enrollment_codes.c.used_at.is_(None)))
    code, _, said["expired"] = run(
        capsys, "--db", initialized(tmp_path / "x.db"), "enroll", "--server", URL, "--code", expired
    )
    assert code == 2
    # K01's device, with its journal, given K04's code
    code, _, said["mismatch"] = run(
        capsys, "--db", str(st.store.path), "enroll", "--server", URL, "--code", wired.code("K04")
    )
    assert code == 2
    # another device took K01 over with a replacement code: the old one's key is no longer K01's
    spare = initialized(tmp_path / "spare.db")
    assert run(capsys, "--db", spare, "enroll", "--server", URL, "--code", wired.code("K01", replace=True))[0] == 0
    code, _, said["replaced"] = run(capsys, "--db", str(st.store.path), "sync")
    assert code == 2

    assert "code d'inscription inconnu" in said["unknown"]
    assert "déjà servi" in said["used"]
    assert "a expiré" in said["expired"]
    assert "pour un autre kiosque" in said["mismatch"]
    assert "(ce kiosque-ci : K01 ; ce code : kiosque K04)" in said["mismatch"]
    assert "un autre appareil l'a peut-être remplacé" in said["replaced"]
    for text in said.values():
        assert not any(english in text for english in ENGLISH), text


@pytest.mark.parametrize(
    ("error", "french"),
    [
        (SyncError("rate_limited", "too many requests", transient=True, retry_after=30), "dans 30 s"),
        (SyncError("refused", "HTTP 429 rate_limited: too many requests", server_code="rate_limited"), "attendre"),
        (
            SyncError(
                "refused", "HTTP 403 kiosk_not_active: this kiosk is not enrolled", server_code="kiosk_not_active"
            ),
            "pas actif",
        ),
        (SyncError("network", "ConnectError: [Errno 111] Connection refused", transient=True), "injoignable"),
        (
            SyncError("server_ahead", "server holds 9 events, this kiosk 4", server=9, local=4),
            "serveur : 9 événements, ce kiosque : 4",
        ),
    ],
)
def test_french_output_has_no_english_in_it(error: SyncError, french: str) -> None:
    text = describe(error, "fr")
    assert french in text and error.message not in text
    assert error.message in describe(error, "en")  # English keeps the detail


def test_an_unknown_refusal_still_says_its_code() -> None:
    text = describe(SyncError("refused", "HTTP 400 brand_new: a new check", server_code="brand_new", status=400), "fr")
    assert text.startswith("le serveur a refusé la demande") and "brand_new" in text and "a new check" not in text


@pytest.fixture
def not_muso() -> Iterator[str]:
    """Some other web server: 404 to a GET, 501 to a POST, empty bodies."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _empty(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            self._empty(404)

        def do_POST(self) -> None:
            self._empty(501)

        def log_message(self, *args: object) -> None:
            """Quiet: the test reads answers, not this server's log."""

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_an_address_that_is_not_a_muso_server_is_said_so(
    server: Server,
    not_muso: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
) -> None:
    db = initialized(tmp_path / "k.db")
    code, _, err = run(capsys, "--db", db, "enroll", "--server", not_muso, "--code", "ABCD-EFGH-JKMN")
    assert code == 2 and "ne répond pas comme un serveur MUSO" in err and "HTTP" not in err
    assert not list(tmp_path.glob("*.key*"))
    # an enrolled kiosk whose address was changed to the wrong one
    st = station(tmp_path / "e.db")
    enrolled(st, server, "K01")
    state.update(st.store, server_url=not_muso)
    st.k.close()
    code, _, err = run(capsys, "--db", str(tmp_path / "e.db"), "sync")
    assert code == 2 and "ne répond pas comme un serveur MUSO" in err


# -- sync-status ----------------------------------------------------------------------------------------

STATUS_KEYS = {
    "kiosk_id",
    "server",
    "last_success_ms",
    "last_error",
    "failures",
    "acked_seq",
    "head_seq",
    "events_not_synced",
    "meetings_not_synced",
    "clock_offset_ms",
    "restore_in_progress",
    "server_ahead_seq",
    "server_status",
}


@pytest.mark.parametrize(("days", "says"), [(400, "retarde de 400 j 0 h"), (-2.5, "avance de 2 j 12 h")])
def test_sync_status_gives_the_clock_gap_in_days_and_hours_and_which_way(
    tmp_path: Path,
    days: float,
    says: str,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
) -> None:
    db = tmp_path / "k.db"
    assert kiosk_cli.main(["--db", str(db), "init", "--kiosk-id", "K01"]) == 0
    with Store(db) as store:  # the system clock, as the command's: the server's time is `days` away from it
        mono = store.clock.mono_ms()
        state.learn_clock(store, store.clock.now_ms() + int(days * 86_400_000), mono, mono)
    code, out, _ = run(capsys, "--db", str(db), "sync-status")
    assert code == 0 and says in out and "min d'écart" not in out
    assert "remettez-la à l'heure (docs/deploy.md, §6" in out  # where the procedure is


def test_sync_status_remote_on_a_revoked_kiosk_says_the_server_answered(
    server: Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sync_server.enrollment import revoke

    monkeypatch.setattr("kiosk.sync.client.http_client", lambda url, timeout=30.0: Kept(server.client))
    st, _ = synced(server, tmp_path / "k.db")
    st.k.close()
    revoke(server.engine, "K01")
    code, out, _ = run(capsys, "--db", str(tmp_path / "k.db"), "sync-status", "--remote")
    assert code == 2
    assert "Serveur : ce kiosque a été révoqué" in out and "pas de réponse" not in out


def test_an_enrollment_that_gets_no_answer_says_to_run_it_again_with_the_same_code(
    tmp_path: Path,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
) -> None:
    db = initialized(tmp_path / "k.db")
    code, _, err = run(capsys, "--db", db, "enroll", "--server", f"http://127.0.0.1:{free_port()}", "--code", "ABCD")
    assert code == 4
    assert "relancez-la avec le même code" in err and "nouvel essai plus tard" not in err
    assert (tmp_path / "k.db.key.new").exists()  # kept for that second run: the server may have bound it


def test_sync_status_remote_fails_when_the_server_does_not_answer_and_says_why_in_french(
    server: Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
) -> None:
    st = station(tmp_path / "k.db")
    st.meeting()
    enrolled(st, server, "K01")
    state.update(st.store, server_url=f"http://127.0.0.1:{free_port()}")  # nobody listens there
    st.k.close()
    db = str(tmp_path / "k.db")
    assert run(capsys, "--db", db, "sync")[0] == 4
    code, out, _ = run(capsys, "--db", db, "sync-status", "--remote")
    assert code == 4
    assert "serveur injoignable" in out and "[network]" in out and "ConnectError" not in out
    code, out, _ = run(capsys, "--db", db, "sync-status", "--remote", "--json")
    assert code == 4
    info = json.loads(out)
    assert set(info) == STATUS_KEYS and info["server_status"]["error"].startswith("network: ")
    assert info["last_error"].startswith("network: ")  # machine-readable as before


def test_an_address_where_nothing_answers_is_named_so_a_mistyped_one_can_be_seen(
    server: Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
) -> None:
    # A wrong port or host looks like no network: "relancez quand le réseau est là" alone sends the
    # technician to wait for a network that is there.
    nobody = f"http://127.0.0.1:{free_port()}"
    db = initialized(tmp_path / "k.db")
    code, _, err = run(capsys, "--db", db, "enroll", "--server", nobody, "--code", "ABCD")
    assert code == 4 and f"adresse essayée : {nobody} (si le réseau marche, vérifiez-la)" in err
    code, _, err = run(capsys, "--db", db, "--lang", "en", "enroll", "--server", nobody, "--code", "ABCD")
    assert code == 4 and f"address tried: {nobody} (if the network works, check it)" in err
    st = station(tmp_path / "e.db")
    enrolled(st, server, "K01")
    state.update(st.store, server_url=nobody)
    st.k.close()
    code, _, err = run(capsys, "--db", str(tmp_path / "e.db"), "sync")
    assert code == 4 and "serveur injoignable" in err and f"adresse essayée : {nobody}" in err
    assert "ConnectError" not in err  # French stays French


def test_enrolling_again_with_the_code_that_enrolled_the_kiosk_says_there_is_nothing_to_do(
    wired: Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
) -> None:
    db = initialized(tmp_path / "k.db")
    code_text = wired.code("K01")
    assert run(capsys, "--db", db, "enroll", "--server", URL, "--code", code_text)[0] == 0
    key = (tmp_path / "k.db.key").read_bytes()
    code, out, err = run(capsys, "--db", db, "enroll", "--server", URL, "--code", code_text)  # the same, again
    assert code == 2 and "déjà inscrit auprès de ce serveur" in err and "lancez `muso-kiosk sync`" in err
    assert "demandez-en un nouveau" not in err and "inscrit auprès" not in out
    code, _, err = run(capsys, "--db", db, "--lang", "en", "enroll", "--server", URL, "--code", code_text)
    assert code == 2 and "already enrolled with this server" in err
    assert (tmp_path / "k.db.key").read_bytes() == key and not list(tmp_path.glob("k.db.key.*"))
    assert run(capsys, "--db", db, "sync")[0] == 0  # and it is indeed enrolled
    # A kiosk not enrolled yet given a spent code is still told to ask for a new one.
    other = initialized(tmp_path / "other.db", "K02")
    code, _, err = run(capsys, "--db", other, "enroll", "--server", URL, "--code", code_text)
    assert code == 2 and "déjà servi : demandez-en un nouveau" in err
