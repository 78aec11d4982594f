"""Photo tag lines are scored without BM25's short-document bonus; photo-only queries get
their own fusion weights (issue 15, item 6)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from core.indexing.indexer import Indexer
from core.library import Library
from core.search.fusion import FusionConfig, weights_for
from core.search.searcher import Searcher
from core.search.tag_scores import idf, term_frequencies
from tests.search_support import HashEmbedder


def _photo(path: Path, shade: int) -> Path:
    Image.new("RGB", (80, 60), (shade, 90, 160)).save(path, "JPEG")
    return path


@pytest.fixture
def photos(library: Library, tmp_path: Path) -> dict[str, str]:
    few, _ = library.photos.add(_photo(tmp_path / "few.jpg", 10))
    many, _ = library.photos.add(_photo(tmp_path / "many.jpg", 200))
    library.photos.set_tags(few, ["dog"])
    library.photos.set_tags(many, ["dog", "beach", "ball", "grass", "park", "sunny", "summer"])
    library.notes.create("# Walks\n\nA long note about walking a dog along the river every day.")
    Indexer(library, HashEmbedder(), auto_models=False).run()
    return {"few": few, "many": many}


def test_a_short_tag_line_no_longer_outscores_a_longer_one(library: Library, photos) -> None:
    before = Searcher(library, config=FusionConfig(tag_lines_length_free=False), dense=False)
    old = before.query_sources("dog", method="bm25")["keyword"]
    assert old[photos["few"]] > old[photos["many"]]  # FTS5's BM25 favours the shorter line
    now = Searcher(library, dense=False).query_sources("dog", method="bm25")["keyword"]
    assert now[photos["few"]] == pytest.approx(now[photos["many"]])
    both = Searcher(library, dense=False).query_sources("dog beach", method="bm25")["keyword"]
    assert both[photos["many"]] > both[photos["few"]]  # more matched tags still count


def test_term_frequencies_and_idf() -> None:
    text = "#dog #dogs #animal yellow"
    assert term_frequencies(text, [("dog", False), ("dog", True), ("cat", False)]) == [1, 2, 0]
    assert idf(100, 1) > idf(100, 10) > 0
    assert idf(10, 10) == pytest.approx(1e-6)  # FTS5 floors a term found everywhere


def test_photo_only_queries_use_the_photo_weights() -> None:
    config = FusionConfig(photo_query={"keyword": 0.5, "dense": 0.2, "photo": 1.0})
    words = ["a", "dog", "runs", "on", "grass"]
    text = " ".join(words)
    photo = weights_for(config, words, text, True, "usem3-x", photos_only=True)
    assert (photo["keyword"], photo["dense"], photo["photo"]) == (0.5, 0.2, 1.0)
    assert photo["trigram"] == pytest.approx(config.trigram_latin * 0.5)  # keeps its ratio
    korean = weights_for(
        config, ["강아지", "사진"], "강아지 사진", True, "usem3-x", photos_only=True
    )
    assert korean["trigram"] == pytest.approx(config.trigram_hangul * 0.5)
    assert weights_for(config, words, text, True, "usem3-x") != photo
    no_vectors = weights_for(config, words, text, False, "usem3-x", photos_only=True)
    assert no_vectors["dense"] == no_vectors["photo"] == 0.0
    plain = replace(config, photo_query=None)
    assert weights_for(plain, words, text, True, "usem3-x", photos_only=True) == weights_for(
        plain, words, text, True, "usem3-x"
    )


def test_short_latin_words_are_not_substring_matched(library: Library) -> None:
    note = library.notes.create("# Garden\n\nTomatoes and potatoes grow well today.")
    Indexer(library, HashEmbedder(), auto_models=False).run()
    searcher = Searcher(library, dense=False)
    assert searcher.search("cheap flights to Paris").hits == []  # "to" in "tomatoes"
    assert [h.item_id for h in searcher.search("tomatoes").hits] == [note]
