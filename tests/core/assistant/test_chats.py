"""Chats: CRDT documents materialized into rows, atomic turns, sync between libraries, search."""

from __future__ import annotations

import pytest

from core.assistant.chats import ChatsService, NewMessage
from core.errors import MalformedInputError, UnknownNameError
from core.library import Library
from core.peers.service import SyncService
from storage import chats as chat_store
from storage import crdt_log
from storage.errors import NotFoundError
from storage.ids import chat_doc_id


def service(lib: Library) -> ChatsService:
    return ChatsService(lib.db, lib.docs)


def turn(q: str, a: str, sources: list | None = None) -> list[NewMessage]:
    return [NewMessage("user", q), NewMessage("assistant", a, sources or [])]


def test_turn_is_written_to_doc_log_and_rows_together(library: Library) -> None:
    chats = service(library)
    chat_id, first = chats.append_turn(None, turn("브리 치즈는 어디서 왔나요?", "프랑스 [1]",
                                                  [{"number": 1, "item_id": "x"}]),
                                       title="브리 치즈는 어디서 왔나요?")  # fmt: skip
    assert first == 0
    logged = crdt_log.updates_after(library.db, chat_doc_id(chat_id))
    assert len(logged) == 1
    rows = chat_store.messages_of(library.db, chat_id)
    assert [(m.ord, m.role, m.content) for m in rows] == [
        (0, "user", "브리 치즈는 어디서 왔나요?"),
        (1, "assistant", "프랑스 [1]"),
    ]
    assert rows[1].sources == [{"number": 1, "item_id": "x"}]
    _, first = chats.append_turn(chat_id, turn("and cheddar?", "England"))
    assert first == 2
    chat = chats.get(chat_id)
    assert [m.role for m in chat.messages] == ["user", "assistant", "user", "assistant"]
    assert chat.title == "브리 치즈는 어디서 왔나요?"
    assert chats.list()[0].messages == 4


def test_reopened_library_rebuilds_the_doc_from_the_log(library_path) -> None:
    with Library(library_path) as lib:
        chat_id, _ = service(lib).append_turn(None, turn("q1", "a1"), title="first")
        service(lib).append_turn(chat_id, turn("q2", "a2"))
    with Library(library_path) as lib:
        chat = service(lib).get(chat_id[:8])  # id prefix works too
        assert [m.content for m in chat.messages] == ["q1", "a1", "q2", "a2"]


def test_bad_message_changes_nothing(library: Library) -> None:
    chats = service(library)
    chat_id, _ = chats.append_turn(None, turn("q", "a"))
    before = crdt_log.update_count(library.db)
    with pytest.raises(MalformedInputError):
        chats.append_turn(chat_id, [NewMessage("user", "ok"), NewMessage("assistant", "x\x00")])
    with pytest.raises(UnknownNameError):
        chats.append_turn(chat_id, [NewMessage("robot", "beep")])
    assert crdt_log.update_count(library.db) == before
    assert len(chat_store.messages_of(library.db, chat_id)) == 2
    with pytest.raises(NotFoundError):
        chats.append_turn("f" * 32, turn("q", "a"))


def test_failed_transaction_leaves_doc_and_rows_as_before(library: Library, monkeypatch) -> None:
    chats = service(library)
    chat_id, _ = chats.append_turn(None, turn("q", "a"))

    def boom(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(chat_store, "replace_messages", boom)
    with pytest.raises(RuntimeError):
        chats.append_turn(chat_id, turn("q2", "a2"))
    monkeypatch.undo()
    assert len(chats.get(chat_id).messages) == 2  # the cached doc was dropped and reloaded
    assert len(chat_store.messages_of(library.db, chat_id)) == 2


def test_chats_sync_between_libraries_and_rows_follow(tmp_path) -> None:
    a, b = Library(tmp_path / "a"), Library(tmp_path / "b")
    try:
        sa, sb = SyncService(a), SyncService(b)
        chat_id, _ = service(a).append_turn(None, turn("사진 속 영수증 합계는?", "12,500원"),
                                            title="영수증")  # fmt: skip
        # b writes its own chat too; both sides then exchange everything
        other, _ = service(b).append_turn(None, turn("hello", "hi"), title="b-chat")
        for src, dst in ((sa, sb), (sb, sa)):
            updates = [(d, src.diff(d, dst.state_vector(d))) for d in src.doc_ids()]
            dst.apply_batch(updates, f"peer:{src.device_id}")
        got = service(b).get(chat_id)
        assert [m.content for m in got.messages] == ["사진 속 영수증 합계는?", "12,500원"]
        assert {c.id for c in service(a).list()} == {chat_id, other}
        # concurrent appends to the same chat on both sides merge; rows follow the doc
        service(a).append_turn(chat_id, turn("from a", "ok a"))
        service(b).append_turn(chat_id, turn("from b", "ok b"))
        for src, dst in ((sa, sb), (sb, sa)):
            updates = [(d, src.diff(d, dst.state_vector(d))) for d in src.doc_ids()]
            dst.apply_batch(updates, f"peer:{src.device_id}")
        left = [m.content for m in service(a).get(chat_id).messages]
        right = [m.content for m in service(b).get(chat_id).messages]
        assert left == right and len(left) == 6
        assert [m.content for m in chat_store.messages_of(a.db, chat_id)] == left
    finally:
        a.close()
        b.close()


def test_search_finds_messages_by_korean_stem_and_skips_deleted(library: Library) -> None:
    chats = service(library)
    keep, _ = chats.append_turn(None, turn("서울에서 먹은 냉면은?", "을지면옥"), title="냉면")
    gone, _ = chats.append_turn(None, turn("냉면 맛집", "모름"), title="old")
    chats.delete(gone)
    hits = chats.search("서울의 냉면")
    assert [h.chat_id for h in hits] == [keep]
    assert "냉면" in hits[0].snippet
    with pytest.raises(NotFoundError):
        chats.get(gone)
    assert chats.search("kind: ") == []
