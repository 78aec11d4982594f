"""Hybrid search embeds the query on a worker thread while the keyword search runs."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from core.indexing.indexer import Indexer
from core.library import Library
from core.search.searcher import Searcher
from tests.search_support import HashEmbedder


class ThreadNoting(HashEmbedder):
    """The fake embedder of the search tests, noting which thread embedded each query."""

    def __init__(self, fail_on: str | None = None) -> None:
        super().__init__(fail_on=fail_on)
        self.query_threads: list[str] = []

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.query_threads.append(threading.current_thread().name)
        return super().embed_queries(texts)


def _library(library: Library, embedder: HashEmbedder) -> None:
    library.notes.create("# 카페 일기\n\n오늘 서울에서 친구와 커피를 마셨다.")
    library.notes.create("# Protein intake\n\nAdults need about 0.8 g of protein per kg.")
    Indexer(library, embedder, auto_models=False).run()


def test_hybrid_embeds_the_query_once_on_a_worker_thread(library: Library) -> None:
    embedder = ThreadNoting()
    _library(library, embedder)
    searcher = Searcher(library, embedder)
    embedder.query_threads.clear()
    results = searcher.search("protein per kg", method="hybrid")
    assert embedder.query_threads and all(
        t.startswith("saem-query-embed") for t in embedder.query_threads
    )
    assert len(embedder.query_threads) == 1
    assert "dense" in results.methods and "keyword" in results.methods
    assert results.hits[0].title == "Protein intake"
    # the dense method alone embeds on the caller's thread and finds the same best chunk
    embedder.query_threads.clear()
    dense = searcher.search("protein per kg", method="dense")
    assert embedder.query_threads == [threading.current_thread().name]
    assert dense.hits[0].item_id == results.hits[0].item_id


def test_a_query_the_embedder_fails_on_still_gets_keyword_hits(library: Library) -> None:
    embedder = ThreadNoting()
    _library(library, embedder)
    embedder.fail_on = "protein"
    results = Searcher(library, embedder).search("protein", method="hybrid")
    assert "dense" not in results.methods
    assert results.hits and results.hits[0].title == "Protein intake"
    assert results.notes  # says why meaning search did not answer
