"""Restore onto a replacement kiosk, and USB bundles: the same batches on a stick."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import Group
from test_sync_support import (  # noqa: F401  (backend_fixture, server_fixture: fixtures)
    Server,
    Station,
    backend_fixture,
    backup_of,
    enrolled,
    kiosk_journal,
    kiosk_projections,
    server_fixture,
    server_journal_tuples,
    station,
    synced,
)

from kiosk.services import Kiosk
from kiosk.services import groups as G
from kiosk.store.clock import FixedClock
from kiosk.store.verify import verify
from kiosk.sync import bundle, keys, state
from kiosk.sync.batches import batch_body
from kiosk.sync.client import SyncClient
from kiosk.sync.enrollment import enroll
from kiosk.sync.errors import SyncError
from sync_server.bundles import import_folder


def test_a_replacement_kiosk_rebuilds_itself_and_continues_the_same_chain(server: Server, tmp_path: Path) -> None:
    old = station(tmp_path / "old.db")
    for _ in range(3):
        old.meeting(extra_movements=2)
    enrolled(old, server, "K07").sync()
    head_seq, head = old.store.head()

    # the old Pi is gone; a new one enrolls with a replacement code for the same kiosk id
    new = Kiosk.open(tmp_path / "new.db", FixedClock(now=1_767_225_600_000 + 86_400_000, boot_id="new-boot"))
    enroll(new.store, "http://testserver", server.code("K07", replace=True), http=server.client)
    client = SyncClient.open(new.store, http=server.client)
    client.batch_events = 50
    pages = []
    server.settings.restore_page = 40  # several pages, like a real (bigger) journal
    assert client.restore(progress=lambda done, total: pages.append(done)) == head_seq
    assert len(pages) > 2
    assert new.store.head() == (head_seq, head)
    assert kiosk_projections(new) == kiosk_projections(old.k)
    assert verify(new.store).ok
    assert state.pending(new.store)["events"] == 0

    # it continues the chain: officers set their PINs again (they never leave a kiosk), then a meeting
    from conftest import PINS, Group

    from kiosk.services import groups as G

    g = Group(new, old.group.group_id, old.group.officers, old.group.members)
    for role, pin in PINS.items():
        G.change_pin(new, g.officers[role]["member_id"], pin)
    old.group = g
    old.k = new
    old.meeting()
    report = client.sync()
    assert report.acked_seq == new.store.head()[0] > head_seq
    assert server_journal_tuples(server, "K07") == kiosk_journal(new)
    assert server.projections("K07") == kiosk_projections(new)
    # the old device's key was retired when the new one enrolled
    assert server.client.get("/v1/sync/status").status_code == 401


def test_a_journal_with_an_event_the_server_quarantined_restores_and_continues(server: Server, tmp_path: Path) -> None:
    import uuid

    from test_sync_support import push_raw, raw_batch

    from kiosk.domain.events import make_event
    from kiosk.domain.wire import chain

    old = station(tmp_path / "old.db")
    old.meeting()
    client = enrolled(old, server, "K07")
    client.sync()
    # An event the server's reducer refuses (a kiosk of another version, say): quarantined, the cursor moves on.
    seq, head = old.store.head()
    bogus = make_event(seq + 1, "movement_recorded", {"meeting": str(uuid.uuid4()), "kind": "contribution"}, 1, "b", 1)
    assert push_raw(client, raw_batch(client.key, "K07", chain([bogus], head), head)).json()["quarantined"] == [seq + 1]

    new = Kiosk.open(tmp_path / "new.db", FixedClock(now=1_767_225_600_000 + 86_400_000, boot_id="new-boot"))
    enroll(new.store, "http://testserver", server.code("K07", replace=True), http=server.client)
    restorer = SyncClient.open(new.store, http=server.client)
    assert restorer.restore() == seq + 1  # it was refused, every time, before
    assert new.store.head()[0] == seq + 1 and new.store.quarantined() == {seq + 1: server.journal("K07")[-1]["reason"]}
    assert kiosk_projections(new) == server.projections("K07")
    assert verify(new.store).ok  # the replay leaves it out, as the server did
    # and the chain goes on from it
    from conftest import PINS, Group

    from kiosk.services import groups as G

    g = Group(new, old.group.group_id, old.group.officers, old.group.members)
    for role, pin in PINS.items():
        G.change_pin(new, g.officers[role]["member_id"], pin)
    old.group, old.k = g, new
    old.meeting()
    assert restorer.sync().acked_seq == new.store.head()[0]
    assert server.projections("K07") == kiosk_projections(new)


def test_an_interrupted_restore_resumes_and_sync_waits_for_it(server: Server, tmp_path: Path) -> None:
    old = station(tmp_path / "old.db")
    old.meeting()
    old.meeting()
    enrolled(old, server, "K07").sync()
    new = Kiosk.open(tmp_path / "new.db", FixedClock())
    enroll(new.store, "http://testserver", server.code("K07", replace=True), http=server.client)
    client = SyncClient.open(new.store, http=server.client)
    server.settings.restore_page = 10

    def cut(done: int, total: int) -> None:
        raise SyncError("network", "the 2G dropped", transient=True)

    with pytest.raises(SyncError):
        client.restore(progress=cut)
    assert state.load(new.store).restore_to == old.store.head()[0]
    with pytest.raises(SyncError) as err:
        client.sync()
    assert err.value.code == "restore_in_progress"
    # Nor may anything be recorded on the half-rebuilt journal: it would fork the chain for good.
    from kiosk.domain.errors import DomainError
    from kiosk.services import groups as G

    half = new.store.head()
    assert half[0] > 0 and state.pending(new.store)["events"] == 0  # what it holds came from the server
    # Refused from the enrollment on (the server said it held more), and by the journal during the restore.
    with pytest.raises(DomainError, match="kiosk_behind_server"):
        G.create_group(new, "Un autre groupe")
    state.set_behind(new.store, None)
    with pytest.raises(DomainError, match="restore_in_progress"):
        G.create_group(new, "Un autre groupe")
    assert new.store.head() == half
    assert client.restore() == old.store.head()[0]
    assert new.store.head() == old.store.head()
    assert kiosk_projections(new) == kiosk_projections(old.k)
    G.create_group(new, "Un autre groupe")  # restored: the kiosk records again


def _local_state(k: Kiosk) -> tuple[Any, ...]:
    """Everything a refused restore must leave as it was on the kiosk."""
    return kiosk_journal(k), kiosk_projections(k), state.load(k.store), k.store.quarantined()


def _synced_then_backed_up(server: Server, tmp_path: Path) -> tuple[Station, SyncClient, Path]:
    """A kiosk that met once and synced, and a USB backup of it as it was then."""
    st, client = synced(server, tmp_path / "k.db")
    return st, client, backup_of(st, tmp_path / "usb" / "k.db")


def test_a_kiosk_put_back_from_an_older_backup_restores_what_it_lacks_and_continues_the_chain(
    server: Server, tmp_path: Path
) -> None:
    st, client, backup = _synced_then_backed_up(server, tmp_path)
    backed_up = st.store.head()[0]
    for _ in range(3):
        st.meeting(extra_movements=2)
    client.sync()
    server_head = st.store.head()

    # The SD card died; the older backup is put back as the kiosk's database.
    restored = Kiosk.open(backup, FixedClock(now=1_767_225_600_000 + 86_400_000, boot_id="after-backup"))
    again = SyncClient(restored.store, server.client, keys.load(keys.key_path(backup)), "K01")
    with pytest.raises(SyncError) as err:
        again.sync()
    assert err.value.code == "server_ahead"  # it was a dead end: restore refused a kiosk that was not empty
    assert restored.store.setting(state.BEHIND) == str(server_head[0])  # no new meeting until restored
    server.settings.restore_page = 20  # several pages
    pages: list[int] = []
    assert again.restore(progress=lambda done, total: pages.append(done)) == server_head[0]
    assert pages[0] > backed_up and len(pages) > 1
    assert restored.store.head() == server_head
    assert kiosk_projections(restored) == kiosk_projections(st.k) == server.projections("K01")
    assert verify(restored.store).ok
    assert state.load(restored.store).restore_to is None and state.pending(restored.store)["events"] == 0
    assert restored.store.setting(state.BEHIND) is None

    # It records on: the officers' PINs came back with the backup.
    st.k.close()
    st.k = restored
    st.group = Group(restored, st.group.group_id, st.group.officers, st.group.members)
    st.meeting()
    assert again.sync().acked_seq == restored.store.head()[0] > server_head[0]
    assert server_journal_tuples(server, "K01") == kiosk_journal(restored)
    assert server.projections("K01") == kiosk_projections(restored)
    restored.close()


def test_restore_refuses_a_journal_that_is_not_a_beginning_of_the_server_s_and_changes_nothing(
    server: Server, tmp_path: Path
) -> None:
    st, client, fork_path = _synced_then_backed_up(server, tmp_path)
    for _ in range(2):
        st.meeting(extra_movements=2)
    client.sync()

    # The backup was put back and someone recorded on it before restoring: its history forked.
    fork = Kiosk.open(fork_path, FixedClock(boot_id="fork"))
    G.create_group(fork, "Un autre groupe")
    assert 0 < fork.store.head()[0] < st.store.head()[0]
    forked = SyncClient(fork.store, server.client, keys.load(keys.key_path(fork_path)), "K01")
    before = _local_state(fork)
    with pytest.raises(SyncError) as err:
        forked.restore()
    assert err.value.code == "chain_diverged" and err.value.params["seq"] == fork.store.head()[0]
    assert _local_state(fork) == before
    # …and so is a fork longer than the server's journal
    while fork.store.head()[0] <= st.store.head()[0]:
        G.create_group(fork, f"Groupe {fork.store.head()[0]}")
    assert fork.store.head()[0] > st.store.head()[0]
    before = _local_state(fork)
    with pytest.raises(SyncError) as err:
        forked.restore()
    assert err.value.code == "chain_diverged"
    assert _local_state(fork) == before
    fork.close()


def test_restore_tells_a_kiosk_ahead_of_the_server_to_sync(server: Server, tmp_path: Path) -> None:
    st = station(tmp_path / "k.db")
    client = enrolled(st, server, "K01")
    before = _local_state(st.k)
    with pytest.raises(SyncError) as err:
        client.restore()
    assert err.value.code == "restore_not_needed"
    assert _local_state(st.k) == before
    client.sync()
    assert client.restore() == st.store.head()[0]  # the same journal as the server's: nothing to add, no harm


def test_a_usb_bundle_is_imported_exactly_once_and_online_sync_carries_on(server: Server, tmp_path: Path) -> None:
    st = station(tmp_path / "k.db")
    client = enrolled(st, server, "K01")
    client.sync()
    for _ in range(3):
        st.meeting(extra_movements=2)
    stick = tmp_path / "usb"
    files = bundle.export(st.store, stick, batch_events=40)
    exported = st.store.head()[0]
    assert len(files) > 2 and all(f.name.startswith("muso-K01-") for f in files)
    assert state.pending(st.store)["events"] > 0  # exporting is not syncing: only the server's answer is
    key_mode = os.stat(keys.key_path(st.store.path)).st_mode & 0o777
    assert key_mode == 0o600

    result = import_folder(server.engine, server.settings, stick)
    assert result.ok, [f.error for f in result.files]
    assert server_journal_tuples(server, "K01") == kiosk_journal(st.k)
    again = import_folder(server.engine, server.settings, stick)  # the same stick twice
    assert again.ok and sum(f.new for f in again.files) == 0
    assert server_journal_tuples(server, "K01") == kiosk_journal(st.k)
    assert server.projections("K01") == kiosk_projections(st.k)

    st.meeting()
    report = client.sync()  # asks the server first: the stick's events arrived, and are not sent again
    assert report.acked_seq == st.store.head()[0]
    assert report.requests == 2 and report.pushed == st.store.head()[0] - exported
    assert server_journal_tuples(server, "K01") == kiosk_journal(st.k)
    assert client.sync().requests == 1  # once, not at every sync


def test_export_writes_its_own_files_whatever_a_stick_holds_under_their_names(server: Server, tmp_path: Path) -> None:
    st = station(tmp_path / "k.db")
    enrolled(st, server, "K01").sync()
    st.meeting()
    first = state.load(st.store).acked_seq + 1
    stick = tmp_path / "usb"
    stick.mkdir()
    names = [f"muso-K01-{first:09d}-{first + 19:09d}.batch.gz", f"muso-K01-{first + 20:09d}-{first + 39:09d}.batch.gz"]
    # A link to the kiosk's own database, which writing through it would truncate, and a FIFO, whose open would
    # wait for a reader forever: left on the stick where the export makes its files.
    database = st.store.path.read_bytes()
    (stick / (names[0] + ".part")).symlink_to(st.store.path)
    fifo = stick / (names[1] + ".part")
    os.mkfifo(fifo)
    done, stuck = threading.Event(), []

    def unblock() -> None:  # without the fix the export waits in open(): a reader lets it go on, and fail the test
        if not done.wait(10):
            stuck.append(True)
            fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
            done.wait(30)
            os.close(fd)

    watchdog = threading.Thread(target=unblock, daemon=True)
    watchdog.start()
    try:
        files = bundle.export(st.store, stick, batch_events=20)
    finally:
        done.set()
        watchdog.join()
    assert not stuck
    assert [f.name for f in files[:2]] == names
    assert all(stat.S_ISREG(f.lstat().st_mode) for f in files)
    assert st.store.path.read_bytes()[:100] == database[:100] and verify(st.store).ok
    assert import_folder(server.engine, server.settings, stick).ok
    assert server_journal_tuples(server, "K01") == kiosk_journal(st.k)


def test_import_bundle_says_what_is_missing_where_it_looked_and_what_it_passed_over(
    server: Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,  # type: ignore[type-arg]
) -> None:
    from sync_server import cli as server_cli

    monkeypatch.setenv("DATABASE_URL", server.settings.database_url)
    monkeypatch.setenv("MUSO_SERVER_ENVIRONMENT", "test")
    monkeypatch.setenv("MUSO_SERVER_SECRET_KEY", "test-secret-not-for-production")
    st = station(tmp_path / "k.db")
    enrolled(st, server, "K01").sync()
    acked = st.store.head()[0]
    for _ in range(3):
        st.meeting(extra_movements=2)
    stick = tmp_path / "usb"
    files = bundle.export(st.store, stick, batch_events=20)
    files[0].unlink()  # the stick that carried the first batch never reached the coordinator
    second = files[1].name.split("-")
    (stick / (files[-1].name + ".part")).write_bytes(b"half")  # pulled out during an export
    (stick / "muso-K01-copie.batch.gz").write_bytes(b"?")  # renamed on the way
    (stick / "muso-sauvegardes").mkdir()  # the kiosk's backups: a folder, not a batch

    code = server_cli.main(["import-bundle", str(stick)])
    out, err = capsys.readouterr()
    assert code == server_cli.EXIT_REFUSED
    first, last = int(second[2]), int(second[3].split(".")[0])
    assert (
        f"gap: the server holds kiosk K01 up to n° {acked}, this file n° {first}–{last}: "
        f"n° {acked + 1}–{first - 1} are missing"
    ) in out
    assert "muso-kiosk export-bundle DIR" in out
    assert f"{files[-1].name}.part was never finished" in err and "muso-K01-copie.batch.gz is not named" in err
    assert "muso-sauvegardes" not in err
    rest = len(files) - 2
    assert out.splitlines()[-1].endswith(
        f": 0 imported (0 new event(s)), 1 refused, {rest} not tried after a refusal, 2 warning(s)"
    )
    assert f"{len(files) - 1} batch file(s) into " in out.splitlines()[-1]

    # A file cut short on the way (the stick pulled out while copying it on a laptop): what to do is said.
    damaged = tmp_path / "usb-cut"
    damaged.mkdir()
    first_file = bundle.export(st.store, tmp_path / "again", batch_events=20)[0]
    whole = first_file.read_bytes()
    (damaged / first_file.name).write_bytes(whole[: len(whole) // 2])
    assert server_cli.main(["import-bundle", str(damaged)]) == server_cli.EXIT_REFUSED
    out = capsys.readouterr().out
    assert "REFUSED body_truncated" in out and "the file is damaged" in out and "export-bundle DIR" in out
    assert st.store.head()[0] > acked and server.kiosk("K01")["acked_seq"] == acked  # nothing imported

    # A kiosk this server does not know: which database was asked is said.
    stranger = station(tmp_path / "stranger.db")
    stranger.meeting()
    stranger.store.set_setting("kiosk_id", "K99")
    keys.create(keys.key_path(stranger.store.path))
    other = tmp_path / "usb2"
    bundle.export(stranger.store, other)
    assert server_cli.main(["import-bundle", str(other)]) == server_cli.EXIT_REFUSED
    out = capsys.readouterr().out
    assert "kiosk_unknown: kiosk K99 is not known to the server database " in out and "DATABASE_URL" in out
    if server.settings.is_sqlite:
        assert str(Path(server.settings.database_url.removeprefix("sqlite:///"))) in out


def test_after_a_usb_bundle_the_next_sync_sends_only_what_the_stick_did_not_carry(
    server: Server, tmp_path: Path
) -> None:
    st = station(tmp_path / "k.db")
    client = enrolled(st, server, "K01")
    client.sync()
    for _ in range(6):
        st.meeting(extra_movements=3)
    on_stick = st.store.head()[0]
    assert bundle.export(st.store, tmp_path / "usb")
    assert import_folder(server.engine, server.settings, tmp_path / "usb").ok  # at the coordinator's
    st.meeting()
    report = client.sync()
    print(f"bytes sent after the stick: {report.bytes_sent} ({report.requests} requests, {report.pushed} events)")
    assert report.pushed == st.store.head()[0] - on_stick
    # What pushing the new events alone costs: nothing is paid twice for what the stick carried.
    alone = batch_body(st.store, "K01", client.key, list(st.store.events(after=on_stick)), now=True, zdict=None)
    assert report.bytes_sent <= len(alone)
    assert server_journal_tuples(server, "K01") == kiosk_journal(st.k)


def test_what_a_bundle_s_signature_does_not_cover_is_not_taken_as_the_kiosk_s_word(
    server: Server, tmp_path: Path
) -> None:
    import gzip
    import json

    from sqlalchemy import select

    from sync_server.db import boot_anchors, journal

    st = station(tmp_path / "k.db")
    enrolled(st, server, "K01")
    st.meeting()
    files = bundle.export(st.store, tmp_path / "usb", batch_events=500)
    doc = json.loads(gzip.decompress(files[0].read_bytes()))
    # Someone with the stick anchors the kiosk's clock years off and makes up its report.
    doc["now"] = [doc["boots"][0], 0]
    doc["report"] = {"v": "EVIL-9.9", "pq": 999999, "pe": "forged"}
    files[0].write_bytes(gzip.compress(json.dumps(doc).encode()))
    result = import_folder(server.engine, server.settings, tmp_path / "usb")
    assert result.ok  # the events are the kiosk's, signed: they count
    assert server_journal_tuples(server, "K01") == kiosk_journal(st.k)
    kiosk = server.kiosk("K01")
    assert (kiosk["app_version"], kiosk["print_pending"], kiosk["printer_error"]) == (None, None, None)
    with server.engine.connect() as conn:
        assert conn.execute(select(boot_anchors)).all() == []
        assert set(conn.execute(select(journal.c.est_time)).scalars()) == {None}


def test_a_tampered_or_foreign_bundle_is_refused(server: Server, tmp_path: Path) -> None:
    st = station(tmp_path / "k.db")
    enrolled(st, server, "K01")
    st.meeting()
    stick = tmp_path / "usb"
    files = bundle.export(st.store, stick, batch_events=30)
    data = bytearray(files[0].read_bytes())
    import gzip

    text = gzip.decompress(bytes(data)).replace(b'"amount":', b'"amount":1', 1)
    files[0].write_bytes(gzip.compress(text))
    before = server.snapshot("K01")
    result = import_folder(server.engine, server.settings, stick)
    assert not result.ok
    assert "chain_mismatch" in result.files[0].error
    assert all("skipped" in f.error for f in result.files[1:])
    assert server.snapshot("K01") == before
    # a kiosk this server never enrolled (its key made elsewhere)
    stranger = station(tmp_path / "s.db")
    stranger.meeting()
    stranger.store.set_setting("kiosk_id", "K99")
    keys.create(keys.key_path(stranger.store.path))
    other = tmp_path / "usb2"
    bundle.export(stranger.store, other)
    result = import_folder(server.engine, server.settings, other)
    assert not result.ok and "kiosk_unknown" in result.files[0].error
    # a kiosk revoked (stolen, say): said so, not "signature invalid"
    from sync_server.enrollment import revoke

    revoke(server.engine, "K01")
    revoked = server.snapshot("K01")
    result = import_folder(server.engine, server.settings, stick)
    assert not result.ok and "kiosk_not_active" in result.files[0].error
    assert server.snapshot("K01") == revoked
    # …and once a new Pi took its place, the revoked key's stick is refused as such, not as a forgery
    replacement = Kiosk.open(tmp_path / "new.db", FixedClock(boot_id="new-boot"))
    enroll(replacement.store, "http://testserver", server.code("K01", replace=True), http=server.client)
    genuine = tmp_path / "usb3"
    bundle.export(st.store, genuine)
    result = import_folder(server.engine, server.settings, genuine)
    assert not result.ok and "key_revoked" in result.files[0].error
    assert server.incidents()[-1]["code"] == "key_revoked"
    assert server.journal("K01") == revoked[0]
    replacement.close()


def test_a_stick_s_refusals_are_flagged_as_over_the_network(server: Server, tmp_path: Path) -> None:
    """A bomb, a file too large, a revoked kiosk's batches: refused before ``ingest.push`` (which flags its
    own), they left no incident, where the same over HTTP leaves one."""
    import gzip

    st = station(tmp_path / "k.db")
    enrolled(st, server, "K01")
    st.meeting()
    stick = tmp_path / "usb"
    files = bundle.export(st.store, stick, batch_events=30)
    files[0].write_bytes(gzip.compress(b"[" + b" " * (server.settings.max_decompressed_bytes + 10) + b"]"))
    files[1].write_bytes(os.urandom(server.settings.max_body_bytes + 1))
    before = len(server.incidents())
    result = import_folder(server.engine, server.settings, stick)
    assert "decompressed_too_large" in result.files[0].error and "body_too_large" in result.files[1].error
    filed = server.incidents()[before:]
    assert [i["code"] for i in filed] == ["decompressed_too_large", "body_too_large"]
    assert all(i["kiosk_id"] == "K01" and i["remote"] == "usb" and "claimed_not_proven" in i["detail"] for i in filed)
    from sync_server.enrollment import revoke

    revoke(server.engine, "K01")
    genuine = tmp_path / "usb2"
    bundle.export(st.store, genuine, batch_events=30)
    result = import_folder(server.engine, server.settings, genuine)
    assert "kiosk_not_active" in result.files[0].error
    assert server.incidents()[-1]["code"] == "kiosk_not_active"


def test_a_stick_s_files_are_imported_in_the_order_of_their_contents_not_their_names(
    server: Server, tmp_path: Path
) -> None:
    st = station(tmp_path / "k.db")
    enrolled(st, server, "K01")
    st.meeting(extra_movements=2)
    stick = tmp_path / "usb"
    files = bundle.export(st.store, stick, batch_events=30)
    files[0].rename(stick / "muso-K01-999-1000.batch.gz")  # renamed on a laptop on the way: sorts last
    result = import_folder(server.engine, server.settings, stick)
    assert result.ok, [f.error for f in result.files]
    assert server_journal_tuples(server, "K01") == kiosk_journal(st.k)


def test_a_stick_signed_by_a_replaced_pi_s_key_is_imported_and_said_to_the_coordinators(
    server: Server, tmp_path: Path
) -> None:
    """Written before its Pi was replaced, a stick carries the group's meetings; written by the old Pi
    after, it forks the group's history from the new one's. Only a person can tell which."""
    old = station(tmp_path / "old.db")
    enrolled(old, server, "K07").sync()
    new = Kiosk.open(tmp_path / "new.db", FixedClock(boot_id="new-boot"))
    enroll(new.store, "http://testserver", server.code("K07", replace=True), http=server.client)
    old.meeting()  # the old Pi, thought dead, records on
    bundle.export(old.store, tmp_path / "usb")
    before = len(server.incidents())
    result = import_folder(server.engine, server.settings, tmp_path / "usb")
    assert result.ok and sum(f.new for f in result.files) > 0
    filed = server.incidents()[before:]
    assert filed and {i["code"] for i in filed} == {"replaced_key_bundle"}
    again = import_folder(server.engine, server.settings, tmp_path / "usb")  # nothing new: nothing to say
    assert again.ok and len(server.incidents()) == before + len(filed)
    new.close()


def test_a_kiosk_put_back_from_a_backup_forgets_the_pins_changed_or_given_up_since(
    server: Server, tmp_path: Path
) -> None:
    """PINs never travel: the backup holds those of its day. A PIN reset since (someone had seen it), or
    held by an officer who has left office since, must not work again once the kiosk is completed."""
    from conftest import PINS

    from kiosk.store import pins

    st, client, backup = _synced_then_backed_up(server, tmp_path)
    g = st.group
    secretary, controller = g.officers["secretaire"]["member_id"], g.officers["controleur"]["member_id"]
    G.reset_pin(st.k, secretary, "97531", [g.approval("president"), g.approval("tresorier")])
    G.update_member(st.k, controller, approvals=g.two("president", "tresorier"), role="membre")
    client.sync()

    restored = Kiosk.open(backup, FixedClock(boot_id="after-backup"))
    again = SyncClient(restored.store, server.client, keys.load(keys.key_path(backup)), "K01")
    again.restore()
    assert restored.store.head() == st.store.head()
    assert again.pins_dropped == {secretary, controller}
    assert not pins.has_pin(restored.store.conn, secretary) and not pins.has_pin(restored.store.conn, controller)
    president = g.officers["president"]["member_id"]
    pins.verify_pin(restored.store, president, PINS["president"])  # the others' PINs stand
    restored.close()


def test_what_the_app_records_while_a_restore_is_checked_stops_the_restore_not_the_kiosk(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The checks take 2G round trips before the journal is closed to recording: a movement recorded
    # meanwhile made the restore fail half-way and left the kiosk refusing both recording and sync.
    st, client, backup = _synced_then_backed_up(server, tmp_path)
    st.meeting()
    client.sync()

    restored = Kiosk.open(backup, FixedClock(boot_id="after-backup"))
    again = SyncClient(restored.store, server.client, keys.load(keys.key_path(backup)), "K01")
    page = again.restore_page

    def and_meanwhile(after: int, limit: int | None = None) -> Any:
        G.create_group(restored, "Saisi pendant la restauration")  # the treasurer, at the touchscreen
        monkeypatch.setattr(again, "restore_page", page)
        return page(after, limit)

    monkeypatch.setattr(again, "restore_page", and_meanwhile)
    with pytest.raises(SyncError) as err:
        again.restore()
    assert err.value.code == "chain_diverged"
    assert state.load(restored.store).restore_to is None  # not stuck half-restored
    G.create_group(restored, "La vie continue")  # the kiosk still records (its history has forked: a person looks)
    restored.close()
