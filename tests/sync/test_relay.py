"""End-to-end encrypted sync through the stock Yjs server from npm (@y/websocket-server with
LevelDB persistence) on 127.0.0.1: libraries that never connect to each other converge."""

from __future__ import annotations

import asyncio

import pytest

from core.peers.service import SyncService
from tests.sync.conftest import library_state, paired_libraries
from tests.sync.relay_support import RelayServer, relay_server_available

pytestmark = pytest.mark.skipif(
    not relay_server_available(), reason="run `make setup` (npm ci in tests/sync/js) first"
)


@pytest.fixture
def relay(tmp_path):
    server = RelayServer(tmp_path / "relay-db").start()
    yield server
    server.kill9()


def _photo(tmp_path, name: str, seed: int):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    image = (rng.random((300, 400, 3)) * 255).astype("uint8")  # noise: incompressible bytes
    path = tmp_path / f"{name}.png"
    Image.fromarray(image).save(path)
    return path


def _join(services: list[SyncService], url: str) -> None:
    key = services[0].relay_add(url)
    for other in services[1:]:
        other.adopt_relay_key(key, [url], "test")


def test_two_libraries_converge_through_the_relay_which_stores_only_ciphertext(tmp_path, relay):
    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)
    _join([sa, sb], relay.url)
    na = a.notes.create("# Espresso diary\n\nThe crema was tigerstriped today #coffeenotes\n")
    nb = b.notes.create("# 경복궁 산책\n\n단풍이 아름다웠다 #가을기록\n")
    photo_path = _photo(tmp_path, "noise", 1)
    photo_id, _ = a.photos.add(photo_path)

    sa.relay_sync()
    sb.relay_sync()
    sa.relay_sync()
    assert library_state(a) == library_state(b)
    assert b.notes.get(na).tags == ["coffeenotes"] and a.notes.get(nb).tags == ["가을기록"]
    sha = a.photos.get(photo_id).meta.sha256
    assert b.store.blobs.path(sha).read_bytes() == photo_path.read_bytes()

    # edits keep flowing, both ways
    a.notes.edit(na, "# Espresso diary\n\nThe crema was tigerstriped today #coffeenotes\nmore\n")
    b.notes.edit(nb, "# 경복궁 산책\n\n단풍이 아름다웠다 #가을기록\n밤에도\n")
    for service in (sa, sb, sa):
        service.relay_sync()
    assert library_state(a) == library_state(b)
    assert "밤에도" in a.notes.get(nb).body and "more" in b.notes.get(na).body

    relay.stop()  # flush and close LevelDB, then read every file it keeps
    stored = relay.stored_bytes()
    words = ["Espresso", "tigerstriped", "coffeenotes", "경복궁", "단풍이", "가을기록", "밤에도"]
    for secret in words:
        assert secret.encode() not in stored, secret
    photo = photo_path.read_bytes()
    assert not any(photo[i : i + 64] in stored for i in range(0, len(photo) - 64, 4096))
    assert sa.device_id.encode() not in stored and sb.device_id.encode() not in stored


def test_the_grep_sees_plaintext_a_plain_yjs_client_writes(tmp_path, relay):
    """Control for the test above: the same grep finds words written without encryption."""
    from sync.relay.room import RoomClient

    async def write() -> None:
        room = RoomClient(f"{relay.url}/plain-room")
        await room.connect()
        await room.append([{"note": "tigerstriped crema 경복궁"}])
        await room.flush()
        await room.close()

    asyncio.run(write())
    relay.stop()
    stored = relay.stored_bytes()
    assert b"tigerstriped" in stored and "경복궁".encode() in stored


def test_offline_edits_on_both_sides_merge(tmp_path, relay):
    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)
    _join([sa, sb], relay.url)
    note = a.notes.create("# Plan\n\nline one\nline two\n")
    sa.relay_sync()
    sb.relay_sync()
    # b is offline (no relay) while both edit the same note
    a.notes.edit(note, "# Plan\n\nline one from A\nline two\n")
    sa.relay_sync()
    b.notes.edit(note, "# Plan\n\nline one\nline two from B\n")
    relay.stop()
    relay.start()  # same port, same LevelDB: the room is read back from disk
    sb.relay_sync()
    sa.relay_sync()
    assert library_state(a) == library_state(b)
    assert a.notes.get(note).body == "# Plan\n\nline one from A\nline two from B\n"


def test_a_device_added_after_compaction_catches_up_from_the_snapshot(tmp_path, relay):
    a, b, c = paired_libraries(tmp_path, ["a", "b", "c"])
    sa, sb, sc = SyncService(a), SyncService(b), SyncService(c)
    _join([sa, sb], relay.url)
    notes = [a.notes.create(f"# Note {i}\n\nbody {i}\n") for i in range(5)]
    photo_id, _ = a.photos.add(_photo(tmp_path, "p", 2))
    for i, note in enumerate(notes):
        a.notes.edit(note, f"# Note {i}\n\nbody {i} edited\n")
    b.notes.create("# From B\n\nhello\n")
    for service in (sa, sb, sa, sb):
        service.relay_sync()
    before = _room_size(sa)
    removed = sa.relay_compact()
    assert removed > 0 and _room_size(sa) < before

    _join([sa, sc], relay.url)  # c gets the key later (as pairing would hand it over)
    sc.relay_sync()  # snapshot: every note; the photo is asked for with a `want`
    assert {r[0] for r in c.db.query("SELECT title FROM items")} == {
        r[0] for r in a.db.query("SELECT title FROM items")
    }
    sa.relay_sync()  # a answers the want by writing the photo again
    sc.relay_sync()
    sha = a.photos.get(photo_id).meta.sha256
    assert c.store.blobs.has(sha)
    for service in (sb, sc):
        service.relay_sync()
    assert library_state(a) == library_state(b) == library_state(c)
    assert a.db.integrity_check() == ["ok"] and c.db.integrity_check() == ["ok"]


def _room_size(service: SyncService) -> int:
    from sync.relay.room import RoomClient

    key = service.relay_key()
    assert key is not None

    async def count() -> int:
        room = RoomClient(f"{service.relay_urls()[0]}/{key.room}")
        await room.connect(expect_content=True)
        try:
            return len(room.entries)
        finally:
            await room.close()

    return asyncio.run(count())


def test_pairing_hands_the_key_and_relays_to_a_paired_device(tmp_path, relay):
    """The key rides the mutual-TLS peer session; then the two sync through the relay only."""
    from sync.client import run_peer
    from sync.server import SyncServer

    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)
    key = sa.relay_add(relay.url)
    assert sb.relay_key() is None

    async def direct() -> None:
        server = SyncServer(sa, sa.identity, host="127.0.0.1", port=0)
        await server.start()
        try:
            report = await run_peer(sb, sb.identity, "127.0.0.1", server.port, timeout=30)
            assert report.error is None
        finally:
            await server.stop()

    asyncio.run(direct())
    assert sb.relay_key() == key and sb.relay_urls() == [relay.url]
    note = b.notes.create("# Via relay only\n\nwritten after pairing\n")
    sb.relay_sync()
    sa.relay_sync()
    assert a.notes.get(note).title == "Via relay only"
    assert sa.last_synced()["path"] == "relay"  # type: ignore[index]


def test_a_device_with_another_key_keeps_it_and_records_the_conflict(tmp_path, relay):
    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)
    sa.relay_add(relay.url)
    own = sb.relay_add(relay.url + "/other")
    sb.relay_offered(sa.device_id, sa.relay_offer()[0], [relay.url])  # type: ignore[index]
    assert sb.relay_key() == own
    assert "relay-key" in [row.kind for row in sb.security_log()]


def test_a_one_time_invite_code_joins_a_device_that_never_met_this_one(tmp_path, relay):
    from core.library import Library

    a, b = Library(tmp_path / "a"), Library(tmp_path / "b")  # not paired, never connected
    sa, sb = SyncService(a), SyncService(b)
    sa.relay_add(relay.url)
    note = a.notes.create("# Invited\n\nhello from a\n")
    code = sa.relay_invite()
    assert code.startswith(relay.url + "#")
    peer = sb.relay_join(code)
    assert peer.device_id == sa.device_id and sb.relay_key() == sa.relay_key()
    sa.relay_sync()  # collects b's answer: pairs b; the invite is used up
    assert sa.is_paired(sb.device_id)
    sb.relay_sync()
    assert b.notes.get(note).body == "# Invited\n\nhello from a\n"
    from sync.errors import RelayKeyError

    with pytest.raises(RelayKeyError):  # one-time: the invite room is empty now
        SyncService(Library(tmp_path / "c")).relay_join(code)


def test_entries_the_server_lost_are_written_again(tmp_path, relay):
    """A stock server can lose what it had not written to disk (kill -9): the device sees
    its last entry missing at the next connect and writes its state again."""
    from sync.relay.room import RoomClient

    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)
    _join([sa, sb], relay.url)
    note = a.notes.create("# Kept\n\nfirst\n")
    sa.relay_sync()
    a.notes.edit(note, "# Kept\n\nfirst\nsecond\n")
    sa.relay_sync()
    key = sa.relay_key()
    assert key is not None

    async def lose_everything() -> None:  # what a wiped or rolled-back server looks like
        room = RoomClient(f"{relay.url}/{key.room}")
        await room.connect(expect_content=True)
        await room.delete(list(range(len(room.entries))))
        await room.flush()
        await room.close()

    asyncio.run(lose_everything())
    report = sa.relay_sync()[0]
    assert report.rewrote_state and report.entries_out >= 1
    sb.relay_sync()
    assert b.notes.get(note).body == "# Kept\n\nfirst\nsecond\n"


def test_sync_serve_runs_the_relay_next_to_direct_peers(tmp_path, relay, serve_processes):
    """`saem sync serve` keeps a live relay session: a device that only reaches the relay
    gets A's notes, and its edits land in the serving library."""
    from core.library import Library
    from tests.sync.conftest import ServeProcess, wait_until

    a, b = paired_libraries(tmp_path, ["a", "b"])
    sa, sb = SyncService(a), SyncService(b)
    _join([sa, sb], relay.url)
    note = a.notes.create("# Served\n\nby a\n")
    a.close()
    server = ServeProcess(tmp_path / "a").start()
    serve_processes.append(server)
    wait_until(lambda: sb.relay_sync()[0].updates_applied > 0, timeout=60, every=0.5)
    assert b.notes.get(note).title == "Served"
    b.notes.edit(note, "# Served\n\nby a\nand by b through the relay\n")
    sb.relay_sync()

    def arrived() -> bool:
        with Library(tmp_path / "a") as lib:
            return "through the relay" in lib.notes.get(note).body

    wait_until(arrived, timeout=60, every=0.5)
