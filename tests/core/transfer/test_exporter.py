"""A vault imported then exported is unchanged in text, tags, links and attachments."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import BadPathError
from core.library import Library
from core.transfer.exporter import export_markdown_folder
from core.transfer.importer import import_markdown_folder


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".obsidian" not in p.parts
    }


def test_round_trip_is_unchanged(library: Library, vault: Path, tmp_path: Path) -> None:
    import_markdown_folder(library, vault)
    out = tmp_path / "export"
    report = export_markdown_folder(library, out)
    assert report.notes == 5 and report.photos == 2 and not report.problems
    assert _files(out) == _files(vault)

    # and the export imports into a fresh library with the same tags and links
    other = Library(tmp_path / "lib2")
    import_markdown_folder(other, out)
    for item in library.list_items("note"):
        twin = next(i for i in other.list_items("note") if i.title == item.title)
        a, b = library.notes.get(item.id), other.notes.get(twin.id)
        assert (a.body, sorted(a.tags)) == (b.body, sorted(b.tags))
        assert [(ln.kind, ln.target) for ln in a.links] == [(ln.kind, ln.target) for ln in b.links]
    other.close()


def test_notes_written_in_saem_get_title_file_names(library: Library, tmp_path: Path) -> None:
    library.notes.create("# 회의: 7/15 계획?\n내용")
    library.notes.create("# 회의: 7/15 계획?\n두 번째")
    out = tmp_path / "out"
    export_markdown_folder(library, out)
    names = sorted(p.name for p in out.glob("*.md"))
    assert names == ["회의 7 15 계획 2.md", "회의 7 15 계획.md"]


def test_export_refuses_a_non_empty_folder(library: Library, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    with pytest.raises(BadPathError):
        export_markdown_folder(library, tmp_path / "busy")
    assert (tmp_path / "busy" / "keep.txt").read_text() == "mine"


def test_doctor_finds_and_fixes_problems(library: Library, vault: Path) -> None:
    from core.doctor import run_doctor

    import_markdown_folder(library, vault)
    assert run_doctor(library).ok
    photo = library.photos.get(library.list_items("photo")[0].id)
    photo.thumb_path.unlink()
    orphan = library.store.blobs.put_bytes(b"left behind by a crash")
    report = run_doctor(library, fix=True)
    assert report.missing_thumbs == [photo.meta.sha256] and report.orphan_blobs == [orphan]
    assert photo.thumb_path.exists() and not library.store.blobs.has(orphan)
    photo.blob_path.unlink()
    assert not run_doctor(library).ok
