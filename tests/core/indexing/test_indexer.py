"""The indexing queue: chunks + vectors per item, retries, model switch, cancel.

kill -9 during indexing: tests/e2e/test_crash_harness.py (the index scenario).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from core.indexing.indexer import Indexer
from core.library import Library
from core.search.searcher import Searcher
from storage import chunks as chunk_store
from storage import jobs
from storage import vectors as vector_store
from tests.search_support import HashEmbedder


def _photo(path: Path, when: str | None = "2024:07:14 10:32:00") -> Path:
    image = Image.new("RGB", (96, 64), (120, 80, 40))
    exif = Image.Exif()
    if when:
        exif.get_ifd(0x8769)[36867] = when
    image.save(path, "JPEG", exif=exif)
    return path


def test_notes_become_chunks_and_vectors(library: Library) -> None:
    first = library.notes.create("# Coffee\n\nWe drank coffee in Seoul.\n\n#cafe")
    library.notes.create("# Tea\n\n" + "Green tea notes. " * 200)
    embedder = HashEmbedder()
    indexer = Indexer(library, embedder, auto_models=False, batch_size=4)
    assert indexer.status().pending == 2
    seen: list[tuple[int, int]] = []
    report = indexer.run(progress=lambda d, t, n: seen.append((d, t)))
    assert report.processed == 2 and report.failed == 0
    assert seen[-1] == (2, 2)
    status = indexer.status()
    # two "index" jobs (keyword pass: chunks) + two "embed" jobs (vectors)
    assert status.stage == "idle" and status.pending == 0 and status.done == 4
    assert status.serving_model == embedder.model_id and status.missing_vectors == 0
    rows = chunk_store.chunks_of(library.db, first)
    assert [r.source for r in rows] == ["tags", "body"]
    assert rows[1].heading == "Coffee"
    body = library.notes.get(first).body
    assert body[rows[1].start : rows[1].end] == rows[1].text
    assert vector_store.count_vectors(library.db, embedder.model_id) == status.chunks
    # one embedder call per batch, not per chunk
    assert embedder.calls == 1


def test_edit_replaces_derived_rows_atomically(library: Library) -> None:
    note = library.notes.create("# A\n\nold words here")
    indexer = Indexer(library, HashEmbedder(), auto_models=False)
    indexer.run()
    old_ids = {c.id for c in chunk_store.chunks_of(library.db, note)}
    library.notes.edit(note, "# A\n\nnew words instead")
    indexer.run()
    rows = chunk_store.chunks_of(library.db, note)
    assert not old_ids & {c.id for c in rows}
    assert "new words" in rows[0].text
    assert vector_store.chunks_missing(library.db, "test-hash-64") == 0
    library.notes.delete(note)
    assert Searcher(library, HashEmbedder()).search("new words", method="bm25").hits == []


def test_edit_during_indexing_is_indexed_again(library: Library) -> None:
    note = library.notes.create("# A\n\nfirst version")

    class EditingEmbedder(HashEmbedder):
        """Fake embedder (Protocol boundary) that edits the note while it is being indexed."""

        def embed_passages(self, texts):  # type: ignore[override]
            if self.calls == 0:
                library.notes.edit(note, "# A\n\nsecond version")
            return super().embed_passages(texts)

    indexer = Indexer(library, EditingEmbedder(), auto_models=False)
    report = indexer.run()
    assert report.processed == 2  # the job went back to pending and ran again
    assert "second version" in chunk_store.chunks_of(library.db, note)[0].text


def test_failing_item_is_retried_with_backoff_then_failed(library: Library) -> None:
    good = library.notes.create("# Good\n\nfine text")
    bad = library.notes.create("# Bad\n\nPOISON text")
    indexer = Indexer(library, HashEmbedder(fail_on="POISON"), auto_models=False, max_attempts=2)
    report = indexer.run()
    assert report.processed == 1 and report.failed == 1
    assert report.errors[0][0] == bad and "POISON" in report.errors[0][1]
    assert chunk_store.chunks_of(library.db, good)
    # the keyword pass already made the bad note findable by keyword; only its vectors wait
    assert chunk_store.chunks_of(library.db, bad)
    assert vector_store.items_missing_vectors(library.db, "test-hash-64") == {bad}
    status = indexer.status()
    assert status.pending == 1 and status.stage == "waiting-retry"
    assert indexer.run().processed == 0  # the back-off delay has not passed
    library.db.execute("UPDATE jobs SET not_before = 0")  # time passes
    indexer.run()
    assert jobs.counts(library.db)["failed"] == 1
    assert "POISON" in (jobs.failed_jobs(library.db)[0].error or "")


def test_cancel_keeps_finished_work_and_resumes(library: Library) -> None:
    for i in range(10):
        library.notes.create(f"# Note {i}\n\nbody {i}")
    indexer = Indexer(library, HashEmbedder(), auto_models=False, batch_size=3)
    calls = {"n": 0}

    def cancel_after_two_batches() -> bool:
        # the keyword pass checks twice (one batch of all ten notes, then an empty claim)
        calls["n"] += 1
        return calls["n"] > 4

    report = indexer.run(should_cancel=cancel_after_two_batches)
    assert report.cancelled and report.processed == 6
    assert indexer.status().pending == 4
    # every note is already keyword-searchable, including the four waiting for vectors
    assert len(chunk_store.items_with_chunks(library.db)) == 10
    assert indexer.run().processed == 4
    assert indexer.status().stage == "idle"


def test_changing_model_keeps_old_vectors_serving_until_complete(library: Library) -> None:
    ids = [library.notes.create(f"# Note {i}\n\ncoffee number {i}") for i in range(6)]
    old, new = HashEmbedder(model_id="old-64"), HashEmbedder(dim=32, model_id="new-32")
    Indexer(library, old, auto_models=False).run()
    switching = Indexer(library, new, auto_models=False, batch_size=2)
    switching.run(limit=2)
    status = switching.status()
    assert status.serving_model == "old-64" and status.target_model == "new-32"
    assert status.stage == "upgrading" and status.missing_vectors > 0
    done, total = status.upgrade_progress or (-1, -1)
    assert total == status.chunks and 0 < done < total  # the status bar's upgrade progress
    # search still answers by meaning with the old model while the new one is built
    results = Searcher(library, old).search("coffee number 3", method="dense")
    assert results.hits and "dense" in results.methods
    report = switching.run()
    assert report.switched_model == "new-32"
    status = switching.status()
    assert status.serving_model == "new-32" and status.target_model is None
    assert status.upgrade_progress is None
    assert vector_store.count_vectors(library.db, "old-64") == 0
    assert vector_store.count_vectors(library.db, "new-32") == len(ids)
    assert Searcher(library, new).search("coffee number 3", method="dense").hits


def test_photos_index_caption_tags_and_exif_time(library: Library, tmp_path: Path) -> None:
    photo, _ = library.photos.add(_photo(tmp_path / "receipt.jpg"))
    library.photos.set_caption(photo, "Lunch receipt from the noodle shop")
    library.photos.set_tags(photo, ["receipt", "food"])
    report = Indexer(library, HashEmbedder(), auto_models=False).run()
    assert report.failed == 0
    sources = {c.source: c.text for c in chunk_store.chunks_of(library.db, photo)}
    assert "noodle" in sources["caption"]
    assert "#receipt" in sources["tags"] and "July 2024" in sources["tags"]


def test_deleted_item_job_removes_derived_rows(library: Library) -> None:
    note = library.notes.create("# Gone\n\nsoon deleted")
    indexer = Indexer(library, HashEmbedder(), auto_models=False)
    indexer.run()
    library.notes.delete(note)
    jobs.enqueue(library.db, "index", note)
    indexer.run()
    assert chunk_store.chunks_of(library.db, note) == []
    assert vector_store.count_vectors(library.db, "test-hash-64") == 0


def test_vectors_are_normalized_float32(library: Library) -> None:
    library.notes.create("# X\n\nsome text")
    Indexer(library, HashEmbedder(), auto_models=False).run()
    rows = vector_store.load_vectors(library.db, "test-hash-64")
    vec = np.frombuffer(rows[0][2], dtype="<f4")
    assert vec.shape == (64,) and abs(float(np.linalg.norm(vec)) - 1.0) < 1e-5


def test_photo_analysis_writes_ocr_lines_and_text_chunks(library: Library, tmp_path: Path) -> None:
    from models.protocols import OcrLine

    class FixedOcr:
        """Fake OCR engine at the OcrEngine Protocol boundary: always reads two lines."""

        model_id = "fixed-ocr"

        def read(self, image: object) -> list[OcrLine]:
            return [
                OcrLine("TOTAL 12,000원", 0.93, (1, 2, 30, 8), 0, 0, "fixed"),
                OcrLine("아메리카노 2잔", 0.88, (1, 10, 30, 16), 0, 1, "fixed"),
            ]

        def close(self) -> None:
            pass

    photo, _ = library.photos.add(_photo(tmp_path / "receipt.jpg"))
    report = Indexer(library, HashEmbedder(), ocr=FixedOcr(), auto_models=False).run()
    assert report.failed == 0, report.errors
    lines = chunk_store.ocr_lines_of(library.db, photo)
    assert [ln.text for ln in lines] == ["TOTAL 12,000원", "아메리카노 2잔"]
    ocr_chunks = [c for c in chunk_store.chunks_of(library.db, photo) if c.source == "ocr"]
    assert "아메리카노" in ocr_chunks[0].text
    hit = Searcher(library, HashEmbedder()).search("아메리카노").hits[0]
    assert hit.item_id == photo and "photo text" in hit.reasons
