"""The vector cache follows the library as it fills: an index first made while the library
had no vectors (dimension unknown) takes the dimension of the first vectors that arrive, and
vectors of another dimension under the same key rebuild the index instead of crashing."""

from __future__ import annotations

import numpy as np
import pytest

import core.indexing.vector_index as vector_index
from core.library import Library
from storage import items
from storage import vectors as vector_store
from storage.vectors import VectorRow


def _unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    matrix = rng.standard_normal((n, dim)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def _put(library: Library, matrix: np.ndarray, *, start: int = 0, kind: str = "chunk") -> None:
    with library.db.transaction():
        rows = []
        for i, vec in enumerate(matrix, start=start):
            item_id = f"{i:026d}"
            if items.find_item(library.db, item_id) is None:
                items.insert_item(library.db, item_id, "note", f"n{i}")
            owner = str(i) if kind == "chunk" else item_id
            rows.append(VectorRow(kind, owner, item_id, vec.astype("<f4").tobytes()))
        vector_store.put_vectors(library.db, "m", matrix.shape[1], rows)


@pytest.mark.parametrize("kind", ["chunk", "photo"])
def test_index_made_while_empty_takes_the_first_vectors(library: Library, kind: str) -> None:
    cache = vector_index.VectorCache(library.db)
    empty = cache.index("m", kind)  # a search during the keyword pass: no vectors yet
    assert empty is not None and len(empty) == 0
    assert empty.search(np.ones(512, dtype=np.float32)) == []
    matrix = _unit(np.random.default_rng(1), 40, 512)
    _put(library, matrix, kind=kind)  # the first embedding batch lands
    index = cache.index("m", kind)
    assert index is not None and len(index) == 40 and index.dim == 512
    for i in (0, 17, 39):
        assert index.search(matrix[i], k=1)[0].item_id == f"{i:026d}"
    more = _unit(np.random.default_rng(2), 5, 512)
    _put(library, more, start=40, kind=kind)  # later batches are appended, not rebuilt
    index = cache.index("m", kind)
    assert len(index) == 45 and index.search(more[3], k=1)[0].item_id == f"{43:026d}"


def test_vectors_of_another_dimension_rebuild_the_index(library: Library) -> None:
    cache = vector_index.VectorCache(library.db)
    _put(library, _unit(np.random.default_rng(3), 10, 64))
    assert cache.index("m").dim == 64
    with library.db.transaction():
        vector_store.delete_model(library.db, "m")
    new = _unit(np.random.default_rng(4), 12, 128)
    _put(library, new, start=100)  # same key, more rows, a new dimension
    index = cache.index("m")
    assert index.dim == 128 and len(index) == 12
    assert index.search(new[5], k=1)[0].item_id == f"{105:026d}"


def test_exact_index_rejects_a_second_dimension() -> None:
    index = vector_index.ExactIndex(0)
    index.add(["a"], ["A"], np.ones((1, 8), dtype=np.float32))
    assert index.dim == 8
    with pytest.raises(vector_index.VectorDimensionError):
        index.add(["b"], ["B"], np.ones((1, 4), dtype=np.float32))
    assert len(index) == 1


def test_hnsw_graph_with_another_dimension_is_rebuilt(library: Library) -> None:
    cache = vector_index.VectorCache(library.db, hnsw_threshold=20)
    _put(library, _unit(np.random.default_rng(5), 30, 32))
    assert isinstance(cache.index("m"), vector_index.HnswIndex)
    with library.db.transaction():
        vector_store.delete_model(library.db, "m")
    new = _unit(np.random.default_rng(6), 31, 48)
    _put(library, new, start=200)
    index = cache.index("m")
    assert isinstance(index, vector_index.HnswIndex) and index.dim == 48 and len(index) == 31
    assert index.search(new[7], k=1)[0].item_id == f"{207:026d}"
