"""Photos are read again when the OCR engine (id + version) changes, including photos read
while Tesseract was missing and photos indexed before schema 5 (an upgraded old library)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from core.indexing.indexer import Indexer
from core.library import Library
from models.ocr import AutoOcrEngine
from models.protocols import OcrLine
from storage import chunks as chunk_store
from storage import jobs
from storage.store import Store
from tests.search_support import HashEmbedder
from tests.storage.old_libraries import facts, unpack


class VersionedOcr:
    """Fake OCR engine at the OcrEngine Protocol boundary: reads one line, says its version."""

    def __init__(self, model_id: str, text: str) -> None:
        self.model_id, self.text, self.reads = model_id, text, 0

    def read(self, image: object) -> list[OcrLine]:
        self.reads += 1
        return [OcrLine(self.text, 0.9, (1, 2, 30, 8), 0, 0, self.model_id)]

    def close(self) -> None:
        pass


def _photo(path: Path) -> Path:
    image = Image.new("RGB", (120, 60), "white")
    ImageDraw.Draw(image).text((8, 20), f"TOTAL {path.stem}", fill="black")
    image.save(path)
    return path


def test_a_new_ocr_version_reads_indexed_photos_again(library: Library, tmp_path: Path) -> None:
    photo, _ = library.photos.add(_photo(tmp_path / "a.png"))
    old = VersionedOcr("fake-ocr/v1", "TOTAL 500")
    Indexer(library, HashEmbedder(), ocr=old, auto_models=False).run()
    assert chunk_store.ocr_engine_of(library.db, photo) == "fake-ocr/v1"
    assert Indexer(library, HashEmbedder(), ocr=old, auto_models=False).queue_stale_ocr() == 0

    new = VersionedOcr("fake-ocr/v2", "합계 500")
    indexer = Indexer(library, HashEmbedder(), ocr=new, auto_models=False)
    assert indexer.queue_stale_ocr() == 1
    assert jobs.runnable_count(library.db) == 1
    report = indexer.run()
    assert report.failed == 0 and new.reads == 1
    assert chunk_store.ocr_engine_of(library.db, photo) == "fake-ocr/v2"
    assert [ln.text for ln in chunk_store.ocr_lines_of(library.db, photo)] == ["합계 500"]
    assert indexer.queue_stale_ocr() == 0  # done: nothing left to re-read


def test_reread_is_resumable_and_cancellable(library: Library, tmp_path: Path) -> None:
    ids = [library.photos.add(_photo(tmp_path / f"p{i}.png"))[0] for i in range(3)]
    Indexer(library, HashEmbedder(), ocr=VersionedOcr("o/v1", "A1"), auto_models=False).run()
    new = VersionedOcr("o/v2", "B2")
    first = Indexer(library, HashEmbedder(), ocr=new, auto_models=False)
    assert first.queue_stale_ocr() == 3
    assert first.run(should_cancel=lambda: True).cancelled
    assert jobs.runnable_count(library.db) == 3  # still queued after the cancel
    first.run(limit=1)
    # a later process (a restart) picks up where the first one stopped
    later = Indexer(library, HashEmbedder(), ocr=new, auto_models=False)
    assert later.queue_stale_ocr() == 0  # the two left are still queued: nothing new
    assert jobs.runnable_count(library.db) == 2
    later.run()
    assert {chunk_store.ocr_engine_of(library.db, i) for i in ids} == {"o/v2"}


def test_photos_read_without_tesseract_carry_that_in_their_engine_id() -> None:
    missing = AutoOcrEngine([], {"tesseract": {"lang": "xx-no-such-language"}})
    present = AutoOcrEngine([], {})
    assert missing.probe().endswith("-without-tesseract")
    assert present.probe() != missing.probe()
    assert not present.probe().endswith("-without-tesseract")


def test_a_new_photo_waiting_for_its_first_read_is_not_counted(
    library: Library, tmp_path: Path
) -> None:
    library.photos.add(_photo(tmp_path / "new.png"))  # queued by the import itself
    indexer = Indexer(library, HashEmbedder(), ocr=VersionedOcr("o/v1", "A"), auto_models=False)
    assert indexer.queue_stale_ocr() == 0
    indexer.run()
    assert indexer.queue_stale_ocr() == 0


def test_photos_of_an_upgraded_old_library_are_read_again(tmp_path: Path) -> None:
    root = unpack(4, tmp_path / "lib")
    Store(root).close()  # upgrade to today's schema
    lib = Library(root)
    try:
        photo_ids = [p["id"] for p in facts(4)["photos"]]
        assert chunk_store.photos_with_stale_ocr(lib.db, "any-engine/v1") == sorted(photo_ids)
        ocr = VersionedOcr("fake-ocr/v1", "CAFE 4500")
        indexer = Indexer(lib, HashEmbedder(), ocr=ocr, auto_models=False)
        assert indexer.queue_stale_ocr() == len(photo_ids)
    finally:
        lib.close()
