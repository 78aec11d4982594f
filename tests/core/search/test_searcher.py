"""Hybrid search over a real temporary library: Korean substrings, filters, snippets, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from core.errors import BadInputError, EmptyInputError, InputTooLargeError, UnknownNameError
from core.indexing.indexer import Indexer
from core.library import Library
from core.search.searcher import Searcher, make_snippet
from tests.search_support import HashEmbedder


def _photo(path: Path, when: str, gps: tuple[float, float] | None = None) -> Path:
    image = Image.new("RGB", (96, 64), (40, 90, 160))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = when
    if gps:
        lat, lon = gps
        g = exif.get_ifd(0x8825)
        g[1], g[2], g[3], g[4] = (
            "N",
            (float(int(lat)), (lat % 1) * 60, 0.0),
            "E",
            (float(int(lon)), (lon % 1) * 60, 0.0),
        )
    image.save(path, "JPEG", exif=exif)
    return path


@pytest.fixture
def indexed(library: Library, tmp_path: Path) -> dict[str, str]:
    ids = {
        "coffee": library.notes.create(
            "# 카페 일기\n\n오늘 서울에서 친구와 커피를 마셨다. "
            "아이스커피가 정말 맛있었다.\n\n#diary"
        ),
        "busan": library.notes.create("# 부산 여행\n\n해운대 바다에서 수영했다. 부산은 덥다."),
        "protein": library.notes.create(
            "# Protein intake\n\nAdults need about 0.8 g of protein per kg of body weight per day."
            " Exercise increases protein synthesis."
        ),
        "cells": library.notes.create(
            "# Stem cells\n\nStem cells differentiate into many tissues. The exact phrase lives "
            "here: bone marrow transplant."
        ),
        "marrow": library.notes.create("# Marrow soup\n\nA soup with bone and marrow, slowly."),
    }
    summer, _ = library.photos.add(
        _photo(tmp_path / "a.jpg", "2024:07:14 10:32:00", (37.56, 126.97))
    )
    winter, _ = library.photos.add(_photo(tmp_path / "b.jpg", "2023:12:24 18:00:00"))
    library.photos.set_caption(summer, "receipt from the noodle shop")
    library.photos.set_tags(summer, ["receipt"])
    library.photos.set_caption(winter, "snowy mountain view")
    ids["summer"], ids["winter"] = summer, winter
    Indexer(library, HashEmbedder(), auto_models=False).run()
    return ids


def _ids(results) -> list[str]:
    return [h.item_id for h in results.hits]


@pytest.mark.parametrize("query", ["커피", "커피를", "서울", "서울에서", "아이스커피", "맛있는"])
def test_korean_words_found_inside_agglutinated_forms(
    library: Library, indexed: dict, query: str
) -> None:
    results = Searcher(library, HashEmbedder()).search(query, method="bm25")
    assert _ids(results)[:1] == [indexed["coffee"]], query


def test_two_syllable_word_inside_a_compound_is_found(library: Library, indexed: dict) -> None:
    # "스커" only occurs inside 아이스커피: neither a word start nor 3 characters long
    results = Searcher(library, HashEmbedder()).search("스커", method="bm25")
    assert _ids(results) == [indexed["coffee"]]


def test_english_ranking_and_light_stemming(library: Library, indexed: dict) -> None:
    s = Searcher(library, HashEmbedder())
    assert _ids(s.search("protein synthesized by adults", method="bm25"))[0] == indexed["protein"]
    assert _ids(s.search("differentiates", method="bm25"))[0] == indexed["cells"]


def test_hybrid_returns_snippet_highlights_and_reasons(library: Library, indexed: dict) -> None:
    results = Searcher(library, HashEmbedder()).search("protein per day")
    hit = results.hits[0]
    assert hit.item_id == indexed["protein"] and hit.kind == "note"
    assert hit.title == "Protein intake"
    assert "keyword" in hit.reasons
    assert hit.highlights
    for start, end in hit.highlights:
        assert hit.snippet[start:end].lower() in {"protein", "per", "day"}
    assert hit.chunk_id is not None and results.took_ms > 0
    json.dumps([h.__dict__ for h in results.hits])  # plain data, serializable


def test_dense_only_finds_by_vectors(library: Library, indexed: dict) -> None:
    results = Searcher(library, HashEmbedder()).search("proteins intake adult", method="dense")
    assert results.methods == ["dense"]
    assert _ids(results)[0] == indexed["protein"]


def test_exact_phrase_filters_to_items_containing_it(library: Library, indexed: dict) -> None:
    s = Searcher(library, HashEmbedder())
    loose = _ids(s.search("bone marrow"))
    assert set(loose) >= {indexed["cells"], indexed["marrow"]}
    exact = s.search('"bone marrow transplant"')
    assert _ids(exact) == [indexed["cells"]]
    assert any(
        exact.hits[0].snippet[a:b].lower() == "bone marrow transplant"
        for a, b in exact.hits[0].highlights
    )


def test_kind_tag_and_time_filters(library: Library, indexed: dict) -> None:
    s = Searcher(library, HashEmbedder())
    assert set(_ids(s.search("kind:photo"))) == {indexed["summer"], indexed["winter"]}
    assert _ids(s.search("tag:receipt")) == [indexed["summer"]]
    assert _ids(s.search("receipt kind:photo"))[0] == indexed["summer"]
    assert _ids(s.search("kind:photo after:2024-06 before:2024-09")) == [indexed["summer"]]
    assert _ids(s.search("kind:photo before:2024")) == [indexed["winter"]]
    hit = s.search("kind:photo after:2024-06").hits[0]
    assert "time" in hit.reasons and hit.thumb_path and hit.thumb_path.endswith(".jpg")
    assert _ids(s.search("tag:diary 커피")) == [indexed["coffee"]]
    photos_only = s.search("커피 kind:photo", method="bm25")
    assert _ids(photos_only) == []  # no photo has the word; the note is filtered out


def test_near_filter_uses_place_lookup(library: Library, indexed: dict) -> None:
    s = Searcher(library, HashEmbedder())
    assert _ids(s.search("near:Seoul")) == [indexed["summer"]]
    with pytest.raises(UnknownNameError):
        s.search("near:Xyzzyqwertyville")


@pytest.mark.parametrize(
    ("query", "error", "message"),
    [
        ("", EmptyInputError, "Type something"),
        ('"', EmptyInputError, "no words"),
        ("*", EmptyInputError, "no words"),
        ("x" * 10_000, InputTooLargeError, "too long"),
        ("colour:red tea", UnknownNameError, "Unknown filter"),
    ],
)
def test_bad_queries_give_clear_errors(
    library: Library, indexed: dict, query: str, error: type[BadInputError], message: str
) -> None:
    with pytest.raises(error, match=message):  # the sentence is what the palette shows
        Searcher(library, HashEmbedder()).search(query)


@pytest.mark.parametrize(
    "query",
    [
        "NEAR(",
        "AND",
        "a AND OR NOT b",
        "coffee*",
        "^tea",
        "(",
        "'",
        "-",
        "col:",
        "커피 NEAR(서울, 2)",
    ],
)
def test_fts_operators_never_leak_errors(library: Library, indexed: dict, query: str) -> None:
    try:
        results = Searcher(library, HashEmbedder()).search(query)
    except BadInputError:
        return
    assert isinstance(results.hits, list)


def test_new_vectors_are_searchable_after_indexing(library: Library, indexed: dict) -> None:
    s = Searcher(library, HashEmbedder())
    assert s.search("zebra crossing", method="dense").hits  # warms the vector cache
    note = library.notes.create("# Zebra\n\nzebra crossing near the school")
    Indexer(library, HashEmbedder(), auto_models=False).run()
    assert _ids(s.search("zebra crossing", method="dense"))[0] == note
    assert _ids(s.search("zebra"))[0] == note


def test_search_without_vectors_still_answers_by_keywords(library: Library) -> None:
    note = library.notes.create("# Tea\n\ngreen tea")
    Indexer(library, HashEmbedder(), auto_models=False).run()
    results = Searcher(library, dense=False).search("tea")
    assert _ids(results) == [note] and "dense" not in results.methods


def test_search_says_when_indexing_is_still_pending(library: Library) -> None:
    """Right after an import nothing is indexed: search says so instead of a bare "nothing"."""
    library.notes.create("# Tea\n\ngreen tea")
    pending = Searcher(library, dense=False).search("tea")
    assert not pending.hits
    assert any("still waiting" in note and "saem index" in note for note in pending.notes)
    Indexer(library, HashEmbedder(), auto_models=False).run()
    done = Searcher(library, dense=False).search("tea")
    assert done.hits and not done.notes


def test_suggest_matches_prefix_of_last_word(library: Library, indexed: dict) -> None:
    s = Searcher(library, HashEmbedder())
    assert _ids(s.suggest("prot"))[:1] == [indexed["protein"]]
    assert _ids(s.suggest("stem ce"))[:1] == [indexed["cells"]]


def test_make_snippet_windows_and_highlights() -> None:
    text = "start " + "filler " * 60 + "target word here " + "tail " * 60
    snippet, spans = make_snippet(text, ["target"])
    assert snippet.startswith("…") and snippet.endswith("…")
    assert [snippet[a:b] for a, b in spans] == ["target"]


def test_hnsw_index_is_updated_incrementally(library: Library, indexed: dict) -> None:
    from core.indexing.vector_index import HnswIndex

    s = Searcher(library, HashEmbedder(), hnsw_threshold=1)
    assert _ids(s.search("protein intake adults", method="dense"))[0] == indexed["protein"]
    assert isinstance(s._vectors.index("test-hash-64"), HnswIndex)
    library.notes.edit(indexed["protein"], "# Protein intake\n\nnow about zebra crossings")
    note = library.notes.create("# Adults protein\n\nprotein intake of adults")
    Indexer(library, HashEmbedder(), auto_models=False).run()
    index = s._vectors.index("test-hash-64")
    assert isinstance(index, HnswIndex)
    assert _ids(s.search("protein intake adults", method="dense"))[0] == note
    # the replaced chunk's old vector left the graph
    assert (
        len(index)
        == len(set(index.owners()))
        == library.db.scalar("SELECT COUNT(*) FROM vectors WHERE owner_kind = 'chunk'")
    )


def test_hnsw_index_is_persisted_and_reloaded(library: Library, indexed: dict) -> None:
    from core.indexing.vector_index import HnswIndex

    first = Searcher(library, HashEmbedder(), hnsw_threshold=1)
    expected = _ids(first.search("protein intake adults", method="dense"))
    saved = list((library.root / "cache").glob("hnsw-*.usearch"))
    assert saved
    note = library.notes.create("# Adults protein\n\nprotein intake of adults")
    Indexer(library, HashEmbedder(), auto_models=False).run()
    # a new process would load the saved graph and apply the new vector incrementally
    second = Searcher(library, HashEmbedder(), hnsw_threshold=1)
    assert _ids(second.search("protein intake adults", method="dense"))[0] == note
    assert isinstance(second._vectors.index("test-hash-64"), HnswIndex)
    assert set(expected) <= set(_ids(second.search("protein intake adults", method="dense")))
    for path in saved:  # a damaged cache is rebuilt, never trusted
        path.write_bytes(b"garbage")
    third = Searcher(library, HashEmbedder(), hnsw_threshold=1)
    assert _ids(third.search("protein intake adults", method="dense"))[0] == note


def test_very_common_words_are_left_out_in_large_libraries(library: Library) -> None:
    import core.search.searcher as search_module

    common = [library.notes.create(f"# N{i}\n\nmeeting notes number {i}") for i in range(8)]
    rare = library.notes.create("# Budget\n\nmeeting about the zebra budget")
    Indexer(library, HashEmbedder(), auto_models=False).run()
    s = Searcher(library, HashEmbedder())
    assert s._selective_words(["meeting", "zebra"]) == ["meeting", "zebra"]  # small library
    old = search_module.PRUNE_MIN_CHUNKS
    search_module.PRUNE_MIN_CHUNKS = 1
    try:
        assert s._selective_words(["meeting", "zebra"]) == ["zebra"]
        assert s._selective_words(["meeting", "notes"]) in (["notes"], ["meeting"])
        assert _ids(s.search("meeting zebra", method="bm25")) == [rare]
    finally:
        search_module.PRUNE_MIN_CHUNKS = old
    assert len(_ids(s.search("meeting zebra", method="bm25"))) == len(common) + 1


def test_meaning_only_hits_below_the_floor_are_not_shown(library: Library, indexed: dict) -> None:
    """A floor above every nonsense score: nothing for nonsense, keywords still find."""
    from core.search.fusion import FusionConfig

    embedder = HashEmbedder()
    config = FusionConfig(meaning_floor={"test-hash": 0.5}, photo_floor={"test-hash": 0.5})
    searcher = Searcher(library, embedder, config=config)
    unfloored = Searcher(library, embedder)
    assert unfloored.search("xqzv blorft wump").hits  # the nearest vectors, however far
    assert searcher.search("xqzv blorft wump").hits == []
    assert searcher.search("xqzv blorft wump", method="dense").hits == []
    hits = searcher.search("protein intake").hits
    assert hits and hits[0].item_id == indexed["protein"]
    # a keyword hit keeps its meaning score even below the floor
    sources = searcher.query_sources("marrow")
    assert indexed["marrow"] in sources["keyword"]


def test_english_words_do_not_match_inside_other_words(library: Library) -> None:
    """'boy' is not found inside 'cowboy'; a word start still matches its inflections."""
    cowboy = library.notes.create("# Rodeo\n\nA cowboy rides a horse at the rodeo.")
    boys = library.notes.create("# Park\n\nTwo boys play football in the park.")
    rocking = library.notes.create("# Porch\n\nAn old rocking chair on the porch.")
    Indexer(library, HashEmbedder(), auto_models=False).run()
    searcher = Searcher(library, dense=False)
    found = _ids(searcher.search("boy", method="trigram"))
    assert boys in found and cowboy not in found
    assert rocking in _ids(searcher.search("rock", method="trigram"))
