"""Item vectors for the recommender: one L2-normalised vector per live item (the mean of its
chunk vectors and its photo vector), read from the search's cache or from SQLite."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from models.protocols import TextEmbedder
from storage import events as store
from storage import vectors as vector_store
from storage.db import Database

if TYPE_CHECKING:
    from core.indexing.vector_index import VectorCache


@dataclass
class ItemVectors:
    """One L2-normalised vector per item (mean of its chunk vectors and its photo vector)."""

    model_id: str | None
    ids: list[str]
    kinds: list[str]
    index: dict[str, int]
    matrix: np.ndarray  # (n, dim) float32


def single_blas_thread() -> None:
    """One BLAS thread for this process, as the search's USE-m3 loader also sets: our products
    are small, and on 2 busy cores a second OpenBLAS thread makes them ~10x slower."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def pick_model(db: Database, embedder: TextEmbedder | str | None) -> str | None:
    """The vector model to read: the embedder's, else the one search serves, else the largest."""
    if embedder is not None and not isinstance(embedder, str):  # "auto": what is stored
        return str(embedder.model_id)
    serving = vector_store.serving_model(db)
    if serving:
        return serving
    ids = vector_store.model_ids(db)
    if not ids:
        return None
    return max(ids, key=lambda m: (vector_store.count_vectors(db, m), m))


def vectors_fingerprint(db: Database, model_id: str | None) -> tuple[int, ...]:
    if not model_id:
        return (0, 0, 0, 0)
    return (
        *vector_store.fingerprint(db, model_id, "chunk"),
        *vector_store.fingerprint(db, model_id, "photo"),
    )


def load_item_vectors(
    db: Database, model_id: str | None, cache: VectorCache | None = None
) -> ItemVectors:
    """Aggregate chunk (and photo) vectors per live item.

    ``cache``: the search's :class:`core.indexing.vector_index.VectorCache`, to reuse its matrices
    instead of reading the blobs from SQLite a second time.
    """
    empty = ItemVectors(model_id, [], [], {}, np.zeros((0, 1), np.float32))
    if model_id is None:
        return empty
    parts: list[tuple[list[str], np.ndarray]] = []
    for kind in ("chunk", "photo"):
        index = cache.index(model_id, kind) if cache is not None else None
        matrix = getattr(index, "matrix", None)  # exact indexes only (HNSW keeps no matrix)
        if index is not None and matrix is not None and len(matrix) == len(index.item_ids):
            if len(matrix):
                parts.append((list(index.item_ids), matrix))
            continue
        rows = vector_store.load_vectors(db, model_id, kind)
        if rows:
            dim = len(rows[0][2]) // 4
            rows = [r for r in rows if len(r[2]) == dim * 4]
            data = np.frombuffer(b"".join(r[2] for r in rows), dtype="<f4").reshape(-1, dim)
            parts.append(([r[1] for r in rows], data))
    dims = {m.shape[1] for _, m in parts}
    if not parts or len(dims) != 1:
        return empty
    owners_all = [i for ids, _ in parts for i in ids]
    raw = np.concatenate([m for _, m in parts]) if len(parts) > 1 else parts[0][1]
    live = store.briefs(db, list(dict.fromkeys(owners_all)))
    ids = [i for i in dict.fromkeys(owners_all) if i in live]
    index_of = {item: i for i, item in enumerate(ids)}
    owners = np.fromiter((index_of.get(i, -1) for i in owners_all), np.int64, len(owners_all))
    keep = owners >= 0
    matrix = np.zeros((len(ids), raw.shape[1]), np.float32)
    np.add.at(matrix, owners[keep], raw[keep])
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix /= np.where(norms == 0, 1.0, norms)
    kinds = [live[i].kind for i in ids]
    return ItemVectors(model_id, ids, kinds, index_of, matrix)
