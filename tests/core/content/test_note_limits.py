"""The note size limit: 5 MB of UTF-8 text on every write path, refused with one sentence,
changing nothing; a note at the limit is accepted and its chunk count stays bounded."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.content.notes import MAX_NOTE_BYTES
from core.errors import InputTooLargeError
from core.indexing.indexer import Indexer, note_chunks
from core.library import Library
from core.transfer.importer import import_markdown_folder
from tests.search_support import HashEmbedder

HANGUL_BYTES = 3  # "가" is 3 bytes of UTF-8


def _snapshot(lib: Library) -> tuple:
    return (
        lib.stats().notes,
        lib.db.scalar("SELECT COUNT(*) FROM crdt_updates"),
        lib.db.scalar("SELECT COUNT(*) FROM jobs"),
        lib.db.scalar("SELECT COUNT(*) FROM items"),
    )


def _ascii_body(size: int) -> str:
    line = "Plain words about coffee and travel plans, repeated to make a big note.\n"
    return ("# Big\n\n" + line * (size // len(line) + 1))[:size]


def test_limit_counts_utf8_bytes_not_characters(library: Library) -> None:
    before = _snapshot(library)
    korean = "가" * (MAX_NOTE_BYTES // HANGUL_BYTES + 1)  # fewer characters than the limit
    assert len(korean) < MAX_NOTE_BYTES
    with pytest.raises(InputTooLargeError) as err:
        library.notes.create(korean)
    message = err.value.user_message
    assert "too large" in message
    assert f"{len(korean) * HANGUL_BYTES:,} bytes" in message
    assert f"{MAX_NOTE_BYTES:,}" in message
    assert _snapshot(library) == before


def test_note_at_the_limit_is_accepted_one_byte_more_is_not(library: Library) -> None:
    before = _snapshot(library)
    with pytest.raises(InputTooLargeError):
        library.notes.create(_ascii_body(MAX_NOTE_BYTES + 1))
    assert _snapshot(library) == before
    body = _ascii_body(MAX_NOTE_BYTES)
    note_id = library.notes.create(body)
    assert library.notes.get(note_id).body == body
    assert library.docs.note(note_id).text == body
    # mixed: Korean just under the limit in bytes
    korean = "# 한글\n\n" + "가" * ((MAX_NOTE_BYTES - 20) // HANGUL_BYTES)
    assert len(korean.encode()) <= MAX_NOTE_BYTES
    assert library.notes.get(library.notes.create(korean)).body == korean


def test_edit_over_the_limit_changes_nothing(library: Library) -> None:
    note_id = library.notes.create("# Small\n\nA small note.\n")
    before = _snapshot(library)
    with pytest.raises(InputTooLargeError):
        library.notes.edit(note_id, "# Small\n\n" + "한" * (MAX_NOTE_BYTES // HANGUL_BYTES))
    assert _snapshot(library) == before
    assert library.notes.get(note_id).body == "# Small\n\nA small note.\n"
    assert library.docs.note(note_id).text == "# Small\n\nA small note.\n"


def test_importer_skips_a_file_over_the_limit_with_its_reason(
    library: Library, tmp_path: Path
) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "huge.md").write_text(_ascii_body(MAX_NOTE_BYTES + 1), encoding="utf-8")
    (vault / "korean.md").write_text(
        "가" * (MAX_NOTE_BYTES // HANGUL_BYTES + 1), encoding="utf-8"
    )  # under the limit in characters, over it in bytes
    (vault / "fine.md").write_text("# Fine\n\nA normal note.\n", encoding="utf-8")
    report = import_markdown_folder(library, vault)
    reasons = {Path(p).name: r for p, r in report.skipped}
    assert set(reasons) == {"huge.md", "korean.md"}
    assert all("too large" in r and f"{MAX_NOTE_BYTES:,}" in r for r in reasons.values())
    assert report.notes_created == 1
    assert [i.title for i in library.list_items("note")] == ["fine"]  # file name


def test_chunks_of_a_note_at_the_limit_stay_bounded() -> None:
    # The worst shape for the chunker: tiny sections, one heading each (1 MB of it here;
    # the count scales linearly, so 5 MB is at most ~5× this).
    worst = "# h\n\nx\n" * (1_000_000 // 7)
    chunks = note_chunks("t", worst, [])
    assert 0 < len(chunks) <= 1_000_000 // 7 + 2
    # Ordinary prose: chunks of up to 1,500 characters, so a full-size note is a few
    # thousand chunks.
    prose = _ascii_body(MAX_NOTE_BYTES)
    chunks = note_chunks("Big", prose, [])
    assert len(chunks) <= MAX_NOTE_BYTES // 1000
    assert sum(len(c.text) for c in chunks) >= 0.9 * len(prose)


def test_a_big_note_is_indexed_and_found(library: Library) -> None:
    body = "# Big\n\n" + "\n\n".join(
        f"Paragraph {i} about the harbour, ferries and lighthouses." for i in range(20_000)
    )  # ~1.2 MB
    note_id = library.notes.create(body + "\n\nThe rare word zanzibarite is at the very end.\n")
    report = Indexer(library, HashEmbedder(), auto_models=False, batch_size=4).run()
    assert report.failed == 0
    n_chunks = library.db.scalar("SELECT COUNT(*) FROM chunks WHERE item_id = ?", (note_id,))
    assert 100 < n_chunks < 2_000
    from core.search.searcher import Searcher

    hits = Searcher(library, HashEmbedder()).search("zanzibarite", method="bm25").hits
    assert [h.item_id for h in hits] == [note_id]
