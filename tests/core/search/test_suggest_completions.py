"""The palette's prefix search in a large library writes a prefix out as its completions."""

from __future__ import annotations

import pytest

import core.search.searcher as searcher_module
from core.indexing.indexer import Indexer
from core.library import Library
from core.search.searcher import Searcher
from storage import chunks as chunk_store
from tests.search_support import HashEmbedder

NOTES = [
    "# 서울 여행\n\n서울역에서 기차를 탔다. 서울은 붐볐다.",
    "# 서울대 산책\n\n서울대학교 캠퍼스를 걸었다.",
    "# 부산\n\n해운대 바다, 서면 시장.",
    "# Meeting notes\n\nThe meeting with the budget team moved to Monday.",
    "# Meetup\n\nA meetup about vector search; we met at the cafe.",
    "# Garden\n\nTomatoes and basil in the garden.",
]


@pytest.fixture
def searcher(library: Library) -> Searcher:
    for text in NOTES:
        library.notes.create(text)
    Indexer(library, HashEmbedder(), auto_models=False).run()
    return Searcher(library, HashEmbedder())


def test_completions_are_the_index_terms_with_the_prefix(library: Library, searcher: Searcher):
    assert chunk_store.prefix_completions(library.db, "meet", 10) == ["meeting", "meetup"]
    assert chunk_store.prefix_completions(library.db, "서울", 2) == ["서울", "서울대"]
    assert chunk_store.prefix_completions(library.db, "zzz", 10) == []


@pytest.mark.parametrize("prefix", ["서울", "서", "meet", "me", "부산 서", "garden tom", "zzz"])
def test_large_library_path_finds_what_the_prefix_query_finds(
    searcher: Searcher, monkeypatch: pytest.MonkeyPatch, prefix: str
) -> None:
    plain = [h.item_id for h in searcher.suggest(prefix).hits]
    monkeypatch.setattr(searcher_module, "SUGGEST_MIN_CHUNKS", 0)  # every library is "large"
    written_out = [h.item_id for h in searcher.suggest(prefix).hits]
    assert sorted(written_out) == sorted(plain)


def test_a_prefix_with_more_completions_than_the_cap_still_finds_matches(
    searcher: Searcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(searcher_module, "SUGGEST_MIN_CHUNKS", 0)
    monkeypatch.setattr(searcher_module, "SUGGEST_COMPLETIONS", 1)
    titles = {h.title for h in searcher.suggest("서울").hits}
    assert titles and titles <= {"서울 여행", "서울대 산책"}
