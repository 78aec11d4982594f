"""Importing a realistic vault: notes, front matter, tags, links, embedded photos, EXIF."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from core.library import Library
from core.transfer.importer import import_markdown_folder, import_photos


def _note(lib: Library, title: str):
    item = next(i for i in lib.list_items("note") if i.title == title)
    return lib.notes.get(item.id)


def test_vault_import_reads_notes_tags_links_and_photos(library: Library, vault: Path) -> None:
    report = import_markdown_folder(library, vault)
    assert report.notes_created == 5
    assert report.photos_created == 2
    assert report.skipped == []
    day = _note(library, "서울 하루")
    assert set(day.tags) == {"diary", "서울", "여행", "coffee"}
    targets = {(ln.kind, ln.target, ln.heading, ln.alias) for ln in day.links}
    assert ("wikilink", "Projects/Saem roadmap", None, "로드맵") in targets
    assert ("wikilink", "Reading", "Books", None) in targets
    assert ("embed", "cafe.jpg", None, None) in targets
    assert all(ln.dst_item_id for ln in day.links), day.links
    roadmap = _note(library, "Saem roadmap")
    assert roadmap.tags == ["work"]  # "#nothing" inside the code block is not a tag
    assert [ln.kind for ln in roadmap.links] == ["embed"]
    assert roadmap.links[0].dst_item_id is not None
    assert day.id in roadmap.backlinks
    reading = _note(library, "Reading")
    assert set(reading.tags) == {"reading", "books", "소설"}
    loose = _note(library, "notes without front matter")
    assert loose.links[0].dst_item_id is None  # [[Missing note]] stays unresolved
    assert _note(library, "한글 파일명").tags == ["기차"]


def test_photo_exif_and_upright_thumbnail(library: Library, vault: Path) -> None:
    import_markdown_folder(library, vault)
    item = next(i for i in library.list_items("photo") if i.title == "cafe")
    photo = library.photos.get(item.id)
    meta = photo.meta
    assert meta.taken_at == "2024-07-14T10:32:00"
    assert abs(meta.gps_lat - (37 + 34 / 60 + 30 / 3600)) < 1e-6
    assert abs(meta.gps_lon - (126 + 58 / 60 + 40 / 3600)) < 1e-6
    assert (meta.camera_make, meta.camera_model, meta.orientation) == ("TestMake", "TestModel", 6)
    assert photo.blob_path.is_file()
    with Image.open(photo.thumb_path) as thumb:
        assert thumb.size[0] < thumb.size[1]  # 320×240 rotated by orientation 6 → portrait


def test_reimport_is_idempotent_and_updates_changed_notes(library: Library, vault: Path) -> None:
    import_markdown_folder(library, vault)
    before = library.stats()
    again = import_markdown_folder(library, vault)
    assert (again.notes_created, again.notes_updated, again.notes_unchanged) == (0, 0, 5)
    assert library.stats().notes == before.notes and library.stats().photos == before.photos
    target = vault / "Reading.md"
    target.write_text(target.read_text(encoding="utf-8") + "\n새 문장 #added\n", encoding="utf-8")
    third = import_markdown_folder(library, vault)
    assert (third.notes_created, third.notes_updated) == (0, 1)
    reading = _note(library, "Reading")
    assert "added" in reading.tags and reading.body.endswith("새 문장 #added\n")
    assert library.docs.note(reading.id).text == reading.body


def test_photo_folder_import_dedupes_by_content(
    library: Library, tmp_path: Path, make_photo
) -> None:
    folder = tmp_path / "pics"
    make_photo(folder / "a.jpg", (10, 20, 30))
    make_photo(folder / "b.png", (200, 20, 30))
    (folder / "copy").mkdir()
    (folder / "copy" / "a-again.jpg").write_bytes((folder / "a.jpg").read_bytes())
    (folder / "readme.txt").write_text("not a photo")
    report = import_photos(library, [folder])
    assert (report.photos_created, report.photos_existing) == (2, 1)
    assert import_photos(library, [folder]).photos_created == 0


def test_real_photos_from_scikit_image(library: Library, tmp_path: Path) -> None:
    from core.demo import DEMO_PHOTOS, write_demo_photo

    paths = [write_demo_photo(p, tmp_path) for p in DEMO_PHOTOS[:4]]
    report = import_photos(library, paths)
    assert report.photos_created == 4 and not report.skipped
    sign = next(i for i in library.list_items("photo") if i.title == "station_sign")
    assert library.photos.get(sign.id).meta.gps_lat == 37.5759


def test_notes_written_through_crdt_log(library: Library) -> None:
    from storage import crdt_log

    note_id = library.notes.create("# 제목\n본문 #tag")
    library.notes.edit(note_id, "# 제목\n본문을 고쳤다 #tag")
    updates = crdt_log.updates_after(library.db, f"note:{note_id}")
    assert len(updates) == 2
    assert len(updates[1].data) < 80  # a minimal edit, not the whole body again
    from sync.docs import NoteDoc

    assert NoteDoc(None, [u.data for u in updates]).text == "# 제목\n본문을 고쳤다 #tag"


def test_cancel_keeps_a_consistent_library_and_rerun_finishes(
    library: Library, tmp_path: Path
) -> None:
    from tests.fixtures.vault import build_vault

    vault = build_vault(tmp_path / "big", extra_notes=40)
    calls = {"n": 0}

    def cancel_after_ten() -> bool:
        calls["n"] += 1
        return calls["n"] > 10

    first = import_markdown_folder(library, vault, should_cancel=cancel_after_ten)
    assert first.cancelled and first.notes_created == 10
    assert library.db.integrity_check() == ["ok"]
    second = import_markdown_folder(library, vault)
    assert second.notes_created == 35 and second.notes_unchanged == 10
    assert library.stats().notes == 45


def test_heic_and_webp_photos(library: Library, tmp_path: Path) -> None:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    Image.new("RGB", (64, 48), (200, 10, 10)).save(tmp_path / "phone.heic", quality=80)
    Image.new("RGB", (64, 48), (10, 200, 10)).save(tmp_path / "web.webp")
    report = import_photos(library, [tmp_path / "phone.heic", tmp_path / "web.webp"])
    assert report.photos_created == 2, report.skipped
    mimes = {library.photos.get(i.id).meta.mime for i in library.list_items("photo")}
    assert mimes == {"image/heif", "image/webp"}
