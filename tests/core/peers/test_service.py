"""SyncService: remote updates are applied, logged and materialized in one transaction."""

from __future__ import annotations

import hashlib

import pytest

from core.library import Library
from core.peers.service import SyncService
from storage import crdt_log
from sync.errors import BlobTransferError, MalformedUpdateError, UnknownDocumentError


def exchange(src: SyncService, dst: SyncService) -> int:
    """Send dst whatever it lacks from src (sync step 1 → step 2), library doc first."""
    updates = [(d, src.diff(d, dst.state_vector(d))) for d in src.doc_ids()]
    return dst.apply_batch(updates, f"peer:{src.device_id}")


@pytest.fixture
def pair(tmp_path):
    a, b = Library(tmp_path / "a"), Library(tmp_path / "b")
    yield a, b, SyncService(a), SyncService(b)
    a.close()
    b.close()


def test_remote_note_is_materialized_with_tags_links_and_index_job(pair):
    a, b, sa, sb = pair
    other = a.notes.create("# Other\n\nbody\n")
    note = a.notes.create("# 회의록\n\n내용 #work [[Other]]\n")
    assert exchange(sa, sb) == 3
    got = b.notes.get(note)
    assert (got.title, got.body, got.tags) == (
        "회의록",
        "# 회의록\n\n내용 #work [[Other]]\n",
        ["work"],
    )
    assert got.links[0].dst_item_id == other
    assert b.db.scalar("SELECT state FROM jobs WHERE item_id = ?", (note,)) == "pending"
    origins = {r[0] for r in b.db.query("SELECT origin FROM crdt_updates")}
    assert origins == {f"peer:{sa.device_id}"}


def test_concurrent_edits_merge_character_by_character(pair):
    a, b, sa, sb = pair
    note = a.notes.create("line one\nline two\n")
    exchange(sa, sb)
    a.notes.edit(note, "line ONE\nline two\n")
    b.notes.edit(note, "line one\nline two 둘\n")
    exchange(sa, sb)
    exchange(sb, sa)
    assert a.notes.get(note).body == b.notes.get(note).body == "line ONE\nline two 둘\n"


def test_deletion_propagates_and_drops_search_chunks(pair):
    a, b, sa, sb = pair
    note = a.notes.create("# Gone soon\n")
    exchange(sa, sb)
    a.notes.delete(note)
    exchange(sa, sb)
    row = b.db.query_one("SELECT deleted FROM items WHERE id = ?", (note,))
    assert row[0] == 1
    assert b.list_items("note") == []


def test_duplicate_update_is_not_logged_twice(pair):
    a, b, sa, sb = pair
    a.notes.create("hello")
    exchange(sa, sb)
    count = crdt_log.update_count(b.db)
    assert exchange(sa, sb) == 0
    assert crdt_log.update_count(b.db) == count


@pytest.mark.parametrize("garbage", [b"", b"\x00", b"\xff" * 20, b"\x01\x02\x03\x04\x05"])
def test_malformed_update_changes_nothing(pair, garbage):
    a, b, sa, sb = pair
    note = a.notes.create("hello")
    exchange(sa, sb)
    before = (crdt_log.update_count(b.db), b.notes.get(note).body)
    good = sa.diff(f"note:{note}", b"\x00")
    with pytest.raises(MalformedUpdateError):
        sb.apply_batch([(f"note:{note}", good), (f"note:{note}", garbage)], "peer:x")
    assert (crdt_log.update_count(b.db), b.notes.get(note).body) == before
    a.notes.edit(note, "hello again")  # the cached docs still work afterwards
    exchange(sa, sb)
    assert b.notes.get(note).body == "hello again"


@pytest.mark.parametrize("doc_id", ["bogus", "note:../../etc", "note:" + "g" * 32, "", "x" * 500])
def test_unknown_document_is_refused(pair, doc_id):
    _, b, _, sb = pair
    with pytest.raises(UnknownDocumentError):
        sb.apply_batch([(doc_id, b"\x00\x00")], "peer:x")
    assert crdt_log.update_count(b.db) == 0


def test_note_body_arriving_before_its_library_entry(pair):
    a, b, sa, sb = pair
    note = a.notes.create("# Early\n\ntext\n")
    body = sa.diff(f"note:{note}", b"\x00")
    sb.apply(f"note:{note}", body, "peer:x")
    assert b.list_items() == []
    sb.apply("library", sa.diff("library", b"\x00"), "peer:x")
    assert b.notes.get(note).body == "# Early\n\ntext\n"


def test_room_edits_derive_tags_as_a_local_change(pair):
    a, _, sa, _ = pair
    note = a.notes.create("# Old\n")
    from pycrdt import Doc, Text

    js = Doc()
    js.get("body", type=Text)
    js.apply_update(sa.diff(f"note:{note}", b"\x00"))
    before = js.get_state()
    body = js.get("body", type=Text)
    body.insert(len(b"# Old\n"), "tagged #js\n")
    sa.apply(f"note:{note}", js.get_update(before), "room:1")
    got = a.notes.get(note)
    assert got.body == "# Old\ntagged #js\n" and got.tags == ["js"] and got.title == "Old"
    assert a.db.scalar("SELECT origin FROM crdt_updates ORDER BY id DESC LIMIT 1") == "local"


def test_compaction_keeps_what_stale_and_new_peers_need(pair, tmp_path):
    a, b, sa, sb = pair
    note = a.notes.create("v0")
    exchange(sa, sb)  # b is now a stale peer at v0
    for i in range(1, 60):
        a.notes.edit(note, f"v{i} " + "가나다" * (i % 7))
    a.notes.delete(a.notes.create("short-lived"))
    report = sa.compact(min_updates=2)
    assert report.updates_removed > 50 and crdt_log.update_count(a.db, f"note:{note}") == 0
    exchange(sa, sb)
    assert b.notes.get(note).body == a.notes.get(note).body
    with Library(tmp_path / "fresh") as c:
        exchange(sa, SyncService(c))
        assert c.notes.get(note).body == a.notes.get(note).body
    a.docs.forget()
    assert a.docs.note(note).text == b.notes.get(note).body  # reloads from the snapshot


def test_photo_entry_blob_transfer_verified_and_resumable(pair, tmp_path):
    a, b, sa, sb = pair
    from PIL import Image
    from skimage import data

    path = tmp_path / "astronaut.png"
    Image.fromarray(data.astronaut()).save(path)
    photo_id, _ = a.photos.add(path)
    a.photos.set_tags(photo_id, ["space"])
    exchange(sa, sb)
    sha = a.photos.get(photo_id).meta.sha256
    assert sb.wanted_blobs() == [sha]
    assert b.photos.get(photo_id).tags == ["space"]
    blob = path.read_bytes()
    total = len(blob)
    assert not sb.blobs.write(sha, 0, total, blob[:1000])
    assert sb.blobs.partial(sha) == 1000  # resumes from here
    corrupt = bytearray(blob)
    corrupt[-1] ^= 0xFF
    with pytest.raises(BlobTransferError):
        sb.blobs.write(sha, 1000, total, bytes(corrupt[1000:]))
    assert sb.blobs.partial(sha) == 0 and not b.store.blobs.has(sha)
    assert sb.blobs.write(sha, 0, total, blob)
    sb.blob_arrived(sha)
    assert hashlib.sha256(b.store.blobs.path(sha).read_bytes()).hexdigest() == sha
    assert b.photos.get(photo_id).thumb_path.is_file()
    assert sb.wanted_blobs() == []


def test_pairing_rules(pair):
    _, _, sa, sb = pair
    from sync.errors import BadDeviceIdError

    with pytest.raises(BadDeviceIdError):
        sa.pair(sa.device_id)
    sa.pair(sb.device_id, name="phone", address="127.0.0.1:22070")
    assert sa.resolve_peer("phone").device_id == sb.device_id
    assert sa.resolve_peer(sb.device_id[:9]).name == "phone"
    assert [s.pending for s in sa.status()] == [0]
    sa.unpair("phone")
    assert sa.devices() == []


def test_compaction_keeps_pending_updates_until_their_dependency_arrives(pair, tmp_path):
    a, b, sa, sb = pair
    note = a.notes.create("one ")
    doc_id = f"note:{note}"
    exchange(sa, sb)
    steps = []
    for text in ("one two ", "one two three ", "one two three four"):
        sv = a.docs.note(note).state_vector()
        a.notes.edit(note, text)
        steps.append(a.docs.note(note).encode_state(sv))
    for update in steps[1:] + steps[1:]:  # the gap: step 0 is missing; plus duplicates
        sb.apply(doc_id, update, "peer:x")
    for i in range(6):
        b.notes.edit(note, f"one b{i} ")  # local history so the doc gets compacted
    sb.compact(min_updates=2)
    b.docs.forget()  # as after a restart: rebuilt from snapshot + log
    sb.apply(doc_id, steps[0], "peer:x")
    merged = b.notes.get(note).body
    assert "three" in merged and "four" in merged and "b5" in merged
    exchange(sb, sa)
    assert a.notes.get(note).body == merged


def test_a_second_process_writing_the_log_does_not_make_cached_documents_stale(tmp_path):
    """E.g. the GUI holds a note while `saem sync serve` (another process) applies a remote
    edit: the GUI's next edit must merge, not re-insert the remote text as its own."""
    path = tmp_path / "lib"
    with Library(path) as gui, Library(path) as server, Library(tmp_path / "remote") as remote:
        note = gui.notes.create("first line\n")
        gui.notes.get(note)  # cached in the GUI process
        ss, sr = SyncService(server), SyncService(remote)
        exchange(ss, sr)
        remote.notes.edit(note, "first line\nremote line\n")
        exchange(sr, ss)  # the serving process persists the remote edit
        body = gui.notes.get(note).body  # the GUI re-reads the row …
        assert body == "first line\nremote line\n"
        gui.notes.edit(note, body + "gui line\n")  # … and the user types
        assert gui.docs.note(note).text == "first line\nremote line\ngui line\n"
        exchange(ss, sr)
        assert remote.notes.get(note).body == "first line\nremote line\ngui line\n"
        ss.compact(min_updates=1)  # compaction by the other process is handled too
        server.notes.edit(note, "first line\nremote line\ngui line\nserver line\n")
        ss.compact(min_updates=1)
        gui.notes.edit(note, gui.notes.get(note).body + "again\n")
        assert gui.docs.note(note).text.count("server line") == 1


def test_compaction_keeps_updates_a_connected_peer_has_not_acknowledged(pair):
    a, _, sa, sb = pair
    note = a.notes.create("start")
    sa.pair(sb.device_id, name="b")
    sa.record_peer(sb.device_id, 10, 10, None)  # b has connected once …
    acked = crdt_log.last_update_id(a.db)
    sa.peer_acked(sb.device_id, acked)  # … and confirmed everything so far
    for i in range(5):
        a.notes.edit(note, f"start {i}")
    sa.compact(min_updates=1)
    left = crdt_log.updates_since(a.db, 0)
    assert left and all(u.id > acked for u in left)  # the unacknowledged tail is still there
    assert len(left) == 5
    sa.peer_acked(sb.device_id, crdt_log.last_update_id(a.db))
    sa.compact(min_updates=1)
    assert crdt_log.update_count(a.db) == 0
    a.docs.forget()
    assert a.notes.get(note).body == "start 4" == a.docs.note(note).text


def test_chats_sync_as_crdt_documents(pair):
    from core.assistant.chats import ChatsService, NewMessage

    a, b, sa, sb = pair
    chats_a, chats_b = ChatsService(a.db, a.docs), ChatsService(b.db, b.docs)
    chat_id, _ = chats_a.append_turn(
        None,
        [NewMessage("user", "사진 속 글자?"), NewMessage("assistant", "영수증입니다.")],
        title="영수증",
    )
    exchange(sa, sb)
    got = chats_b.get(chat_id)
    assert got.title == "영수증"
    assert [m.content for m in got.messages] == ["사진 속 글자?", "영수증입니다."]
    chats_b.append_turn(chat_id, [NewMessage("user", "합계는?")])
    exchange(sb, sa)
    assert [m.content for m in chats_a.get(chat_id).messages][-1] == "합계는?"
