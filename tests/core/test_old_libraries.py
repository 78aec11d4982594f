"""Libraries written by every earlier Saem open with today's Library: the notes read back
the same, each note's CRDT log replays to its body, chats, devices, models and the sync log
are there, and the upgraded library takes new edits and keyword searches."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.library import Library
from tests.storage.old_libraries import facts, unpack, versions


@pytest.mark.parametrize("version", versions())
def test_old_library_reads_and_works_after_upgrade(tmp_path: Path, version: int) -> None:
    expected = facts(version)
    root = unpack(version, tmp_path / "lib")
    with Library(root) as lib:
        for want in expected["notes"]:
            note = lib.notes.get(want["id"])
            assert (note.title, note.body) == (want["title"], want["body"])
            assert sorted(note.tags) == want["tags"]
            assert sorted(ln.target for ln in note.links) == want["links"]
            assert lib.docs.note(want["id"]).text == want["body"]  # the CRDT log replays
        for want in expected["photos"]:
            photo = lib.photos.get(want["id"])
            assert (photo.meta.sha256, photo.meta.caption) == (want["sha256"], want["caption"])
            assert sorted(photo.tags) == want["tags"]
        for want in expected.get("chats", []):
            assert [m.content for m in lib.chats.get(want["id"]).messages] == want["messages"]
        if "peers" in expected:
            assert [p.device_id for p in lib.sync.devices()] == expected["peers"]
        if "models" in expected:
            assert set(expected["models"]) <= {m.id for m in lib.models.list()}
        if "library_id" in expected:
            assert lib.sync.library_id() == expected["library_id"]
            assert sorted(r.kind for r in lib.sync.security_log()) == expected["sync_log"]
        if expected["counts"].get("chunks"):
            hits = lib.search.search("아메리카노", method="bm25").hits
            assert [h.item_id for h in hits][:1] == [expected["notes"][0]["id"]]
        first = expected["notes"][0]
        assert lib.notes.edit(first["id"], first["body"] + "\n업그레이드 뒤에 쓴 줄.\n")
    with Library(root) as lib:
        assert lib.notes.get(first["id"]).body.endswith("업그레이드 뒤에 쓴 줄.\n")
        assert lib.db.integrity_check() == ["ok"]
