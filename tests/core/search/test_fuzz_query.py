"""Fuzzing (hypothesis, bounded) of the search query parser and the whole search path:
any string gives results or one clear BadInputError, never another exception or SQL error."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import BadInputError
from core.indexing.indexer import Indexer
from core.library import Library
from core.search.query import parse_query
from core.search.searcher import Searcher
from tests.search_support import HashEmbedder

PIECES = [
    *'"*()^:-+',
    "AND",
    "OR",
    "NOT",
    "NEAR(",
    "kind:",
    "tag:",
    "after:",
    "before:",
    "near:",
    "2024-13",
    "2024-06",
    "photo",
    "note",
    "커피를",
    "서울",
    "coffee",
    " ",
    "\\",
    "'",
    "%",
    "_",
    "\x00",
    "🙂",
]
queries = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=12).map("".join),
    st.text(max_size=60),
)
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(queries)
def test_parse_query_never_crashes(raw: str) -> None:
    try:
        parse_query(raw)
    except BadInputError as exc:
        assert exc.user_message


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory):
    lib = Library(Path(tmp_path_factory.mktemp("fuzz")) / "lib")
    lib.notes.create("# 커피 노트\n서울에서 커피를 마셨다. #coffee")
    lib.notes.create("# Protein\nHow much protein per day? #health")
    embedder = HashEmbedder()
    Indexer(lib, embedder, auto_models=False).run()
    yield Searcher(lib, embedder)
    lib.close()


@FUZZ
@given(queries)
def test_search_never_leaks_an_exception(searcher: Searcher, raw: str) -> None:
    for method in ("hybrid", "bm25"):
        try:
            results = searcher.search(raw, method=method)
        except BadInputError as exc:
            assert exc.user_message
        else:
            assert all(hit.item_id for hit in results.hits)
    try:
        searcher.suggest(raw)
    except BadInputError as exc:
        assert exc.user_message
