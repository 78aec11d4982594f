"""Bad files are reported with their path and reason, skipped, and change nothing else."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from core.errors import BadPathError, InputTooLargeError
from core.library import Library
from core.transfer.importer import import_markdown_folder, import_photos


def _snapshot(lib: Library) -> tuple:
    return (
        lib.stats().notes,
        lib.stats().photos,
        lib.db.scalar("SELECT COUNT(*) FROM crdt_updates"),
    )


def _reasons(report) -> dict[str, str]:
    return {Path(p).name: r for p, r in report.skipped}


def test_bad_markdown_files_are_skipped_with_reasons(library: Library, tmp_path: Path) -> None:
    vault = tmp_path / "v"
    vault.mkdir()
    (vault / "good.md").write_text("# Good\n정상 노트", encoding="utf-8")
    (vault / "latin1.md").write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    (vault / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00binary")
    (vault / "empty.md").write_bytes(b"")
    (vault / "broken-yaml.md").write_text("---\ntitle: [unclosed\ntags: x\n---\nbody\n")
    report = import_markdown_folder(library, vault)
    reasons = _reasons(report)
    assert report.notes_created == 1
    assert "not UTF-8" in reasons["latin1.md"]
    assert "binary" in reasons["binary.md"]
    assert "empty" in reasons["empty.md"]
    assert "YAML" in reasons["broken-yaml.md"]
    assert library.db.integrity_check() == ["ok"]


def test_symlink_loop_and_unreadable_files(library: Library, tmp_path: Path) -> None:
    vault = tmp_path / "v"
    (vault / "sub").mkdir(parents=True)
    (vault / "sub" / "n.md").write_text("# N\ntext")
    (vault / "sub" / "loop").symlink_to(vault, target_is_directory=True)
    (vault / "dangling.md").symlink_to(vault / "nowhere.md")
    report = import_markdown_folder(library, vault)
    assert report.notes_created == 1
    text = " ".join(r for _, r in report.skipped)
    assert "loop" in text and "symlink" in text


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read everything")
def test_unreadable_file(library: Library, tmp_path: Path) -> None:
    vault = tmp_path / "v"
    vault.mkdir()
    secret = vault / "secret.md"
    secret.write_text("# secret")
    secret.chmod(0)
    report = import_markdown_folder(library, vault)
    assert "cannot read" in _reasons(report)["secret.md"]


def test_bad_photos_are_skipped(library: Library, tmp_path: Path, make_photo) -> None:
    folder = tmp_path / "p"
    make_photo(folder / "ok.jpg", (1, 2, 3))
    data = (folder / "ok.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 3])
    (folder / "garbage.jpg").write_bytes(b"this is not a jpeg at all" * 10)
    (folder / "zero.png").write_bytes(b"")
    before = _snapshot(library)
    report = import_photos(library, [folder])
    reasons = _reasons(report)
    assert report.photos_created == 1
    assert "corrupt" in reasons["truncated.jpg"] or "truncated" in reasons["truncated.jpg"]
    assert "not a readable image" in reasons["garbage.jpg"]
    assert "empty" in reasons["zero.png"]
    assert _snapshot(library)[1] == before[1] + 1
    assert len(list(library.store.blobs.iter_hashes())) == 1


def test_decompression_bomb_is_refused(library: Library, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    # 20000 × 20000 1-bit image: tiny file, 400 M pixels when decoded.
    Image.new("1", (20000, 20000)).save(bomb, optimize=True)
    assert bomb.stat().st_size < 2_000_000
    with pytest.raises(InputTooLargeError):
        library.photos.add(bomb)
    assert library.stats().photos == 0 and not list(library.store.blobs.iter_hashes())


def test_missing_folder_is_a_clear_error(library: Library, tmp_path: Path) -> None:
    with pytest.raises(BadPathError):
        import_markdown_folder(library, tmp_path / "nope")


def test_huge_note_is_refused(library: Library) -> None:
    with pytest.raises(InputTooLargeError):
        library.notes.create("x" * 5_000_001)
    assert library.stats().notes == 0
