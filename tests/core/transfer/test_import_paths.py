"""`import_paths` (what `saem import` runs): any mix of single Markdown files, photos, vaults
and photo folders; what was imported is findable by its words at once (issue 18, defects 2
and 7), with no model loaded."""

from __future__ import annotations

from pathlib import Path

from core.demo import ensure_demo_library
from core.indexing.indexer import EMBED_JOB, INDEX_JOB
from core.library import Library
from core.transfer.importer import import_paths
from storage import jobs
from tests.fixtures.vault import _photo, build_vault


def _titles(library: Library, kind: str) -> set[str]:
    return {i.title for i in library.list_items(kind)}  # type: ignore[arg-type]


def test_single_markdown_file_and_single_photo(library: Library, tmp_path: Path) -> None:
    note = tmp_path / "산책.md"
    note.write_text("# 서울 산책\n\n경복궁 근처 카페에서 커피.\n\n![[walk.jpg]]\n", "utf-8")
    _photo(tmp_path / "walk.jpg", (10, 120, 200))  # embedded: found next to the note
    _photo(tmp_path / "other.png", (200, 20, 20))
    report = import_paths(library, [note, tmp_path / "other.png"])
    assert report.skipped == []
    assert (report.notes_created, report.photos_created) == (1, 2)
    assert _titles(library, "note") == {"산책"}
    assert _titles(library, "photo") == {"walk", "other"}
    again = import_paths(library, [note, tmp_path / "other.png"])
    assert (again.notes_unchanged, again.photos_existing) == (1, 1)


def test_mixed_vault_photo_folder_files_and_a_missing_path(
    library: Library, tmp_path: Path
) -> None:
    vault = build_vault(tmp_path / "vault")
    pics = tmp_path / "pics"
    for i in range(3):
        _photo(pics / f"p{i}.jpg", (i * 40, 90, 10))
    loose = tmp_path / "loose.markdown"
    loose.write_text("# loose\n\nA note on its own.\n", "utf-8")
    report = import_paths(library, [vault, pics, loose, tmp_path / "missing.md"])
    assert report.notes_created == 6 and report.photos_created == 2 + 3
    assert report.skipped == [(str(tmp_path / "missing.md"), "no such file or folder")]


def test_photos_only_treats_a_markdown_folder_as_photos(library: Library, tmp_path: Path) -> None:
    vault = build_vault(tmp_path / "vault")
    report = import_paths(library, [vault], photos_only=True)
    assert report.notes_created == 0 and report.photos_created == 2


def test_imported_notes_are_findable_by_keyword_at_once(library: Library, tmp_path: Path) -> None:
    note = tmp_path / "day.md"
    note.write_text("# 하루\n\n아침에 경복궁역에서 친구를 만났다.\n", "utf-8")
    _photo(tmp_path / "p.jpg", (1, 2, 3))
    report = import_paths(library, [note, tmp_path / "p.jpg"])
    assert report.chunked > 0
    hits = library.search.search("경복궁").hits
    assert [h.title for h in hits] == ["day"] and "keyword" in hits[0].reasons
    assert library.models.loaded() == {}  # the keyword pass loads no model
    (item,) = library.list_items("note")
    (photo,) = library.list_items("photo")
    # vectors and photo analysis wait for the indexer; nothing is lost
    assert item.id in jobs.runnable_item_ids(library.db, [EMBED_JOB])
    assert photo.id in jobs.runnable_item_ids(library.db, [INDEX_JOB])


def test_import_without_keywords_leaves_the_index_jobs(library: Library, tmp_path: Path) -> None:
    note = tmp_path / "day.md"
    note.write_text("# 하루\n\n경복궁.\n", "utf-8")
    report = import_paths(library, [note], keywords=False)
    assert report.chunked == 0 and library.search.search("경복궁").hits == []


def test_demo_is_findable_by_keyword_right_away(library: Library) -> None:
    assert ensure_demo_library(library)
    hits = library.search.search("경복궁").hits
    assert hits and all("keyword" in h.reasons for h in hits if h.kind == "note")
    assert library.models.loaded() == {}
