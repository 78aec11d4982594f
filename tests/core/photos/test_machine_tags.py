"""Machine labels never leak into what the user sees (issue 18, defect 4): a photo's search
text, snippets and tags carry only plain user-facing tags at or above the confidence floor
``AUTO_TAG_MIN_SCORE`` (chosen with benchmarks/bench_tags.py), never raw detector/classifier
labels such as ``coco:toilet``."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.indexing.indexer import Indexer
from core.library import Library
from core.photos.text import AUTO_TAG_MIN_SCORE
from core.search.searcher import Searcher
from models.protocols import ImageTags, OcrLine, TagScore
from storage import chunks as chunk_store
from tests.fixtures.vault import _photo
from tests.search_support import HashEmbedder

DEMO_COFFEE = Path(__file__).resolve().parents[3] / "core" / "demo_assets" / "coffee.jpg"


class UnsureTagger:
    """Fake image tagger at the ImageTagger Protocol boundary: one sure tag, one unsure one
    (from a detector label), and raw labels as a real tagger reports them."""

    model_id = "unsure-tagger"

    def tag(self, image: Any, ocr_lines: Sequence[OcrLine] | None = None) -> ImageTags:
        return ImageTags(
            tags=[
                TagScore("food", AUTO_TAG_MIN_SCORE + 0.2, "espresso"),
                TagScore("toilet", AUTO_TAG_MIN_SCORE - 0.1, "coco:toilet"),
            ],
            raw_labels=[("espresso", 0.61), ("coco:toilet", 0.42), ("cup", 0.2)],
        )

    def close(self) -> None:
        pass


def _tags_chunk(library: Library, item_id: str) -> str:
    return " ".join(
        c.text for c in chunk_store.chunks_of(library.db, item_id) if c.source == "tags"
    )


def test_only_sure_plain_tags_are_kept(library: Library, tmp_path: Path) -> None:
    _photo(tmp_path / "cup.jpg", (90, 60, 30))
    photo_id, _ = library.photos.add(tmp_path / "cup.jpg")
    embedder = HashEmbedder()
    report = Indexer(library, embedder, tagger=UnsureTagger(), auto_models=False).run()
    assert report.failed == 0, report.errors
    assert library.photos.get(photo_id).tags == ["food"]
    text = _tags_chunk(library, photo_id)
    assert "#food" in text
    assert "coco" not in text and "toilet" not in text and "espresso" not in text
    searcher = Searcher(library, embedder)
    assert photo_id not in {h.item_id for h in searcher.search("toilet", method="bm25").hits}
    hits = searcher.search("food").hits
    assert hits and hits[0].item_id == photo_id
    assert ":" not in hits[0].snippet and "tag" in hits[0].reasons


def test_the_demo_espresso_shows_no_detector_label(library: Library, tmp_path: Path) -> None:
    """The real tagger on the demo's espresso cup (NanoDet calls it a toilet)."""
    shutil.copy(DEMO_COFFEE, tmp_path / "coffee.jpg")
    photo_id, _ = library.photos.add(tmp_path / "coffee.jpg")
    from models.image_tags import default_tagger

    tagger = default_tagger()
    raw = tagger.tag(tmp_path / "coffee.jpg")
    report = Indexer(library, HashEmbedder(), tagger=tagger, auto_models=False).run()
    assert report.failed == 0, report.errors
    shown = set(library.photos.get(photo_id).tags)
    assert shown == {t.tag for t in raw.tags if t.score >= AUTO_TAG_MIN_SCORE}
    assert "toilet" not in shown
    text = _tags_chunk(library, photo_id)
    for label, _ in raw.raw_labels:
        assert label not in text.split()
    assert "coco:" not in text
