"""A large HNSW graph is built from SQLite page by page (bounded memory) and answers the
same as one built in a single step."""

from __future__ import annotations

import numpy as np
import pytest

import core.indexing.vector_index as vector_index
from core.library import Library
from storage import vectors as vector_store
from storage.vectors import VectorRow


def _fill(library: Library, n: int, dim: int = 32) -> np.ndarray:
    from storage import items

    rng = np.random.default_rng(3)
    matrix = rng.standard_normal((n, dim)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    with library.db.transaction():
        for i in range(n):
            items.insert_item(library.db, f"{i:026d}", "note", f"n{i}")
        rows = [
            VectorRow("chunk", str(i), f"{i:026d}", matrix[i].astype("<f4").tobytes())
            for i in range(n)
        ]
        vector_store.put_vectors(library.db, "m", dim, rows)
    return matrix


def test_pages_cover_every_vector_once_up_to_the_mark(library: Library) -> None:
    _fill(library, 50)
    count, last = vector_store.fingerprint(library.db, "m", "chunk")
    assert count == 50
    pages = list(vector_store.vector_pages(library.db, "m", "chunk", until_rowid=last, page=7))
    assert [len(p) for p in pages] == [7] * 7 + [1]
    assert [r[0] for p in pages for r in p] == [str(i) for i in range(50)]
    early = vector_store.vector_pages(library.db, "m", "chunk", until_rowid=last - 10, page=7)
    assert sum(len(p) for p in early) == 40


def test_graph_built_in_pages_finds_the_nearest(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    matrix = _fill(library, 300)
    monkeypatch.setattr(vector_index, "BUILD_PAGE", 64)
    index = vector_index.VectorCache(library.db, hnsw_threshold=100).index("m", "chunk")
    assert isinstance(index, vector_index.HnswIndex)
    assert len(index) == 300 and index.owners() == {str(i) for i in range(300)}
    for i in (0, 150, 299):
        assert index.search(matrix[i], k=1)[0].owner_id == str(i)
