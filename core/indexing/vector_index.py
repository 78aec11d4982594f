"""In-memory nearest-neighbour search over the ``vectors`` table (a rebuildable cache).

Vectors stay in SQLite (the source of truth). :class:`VectorCache` keeps one exact index per
(model, owner kind) and refreshes it when the database changed: new rows are appended
incrementally, anything else (deletions, replacements) rebuilds from SQLite. Exact search is
one matrix–vector product (at 100k × 512 float32: 200 MB read per query, ~20 ms); from
``HNSW_THRESHOLD`` vectors on, an HNSW graph (usearch) answers in about a millisecond.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import VectorDimensionError
from storage import vectors as vector_store
from storage.db import Database


@dataclass(frozen=True)
class Neighbour:
    owner_id: str
    item_id: str
    score: float


class ExactIndex:
    """Cosine (= dot product of normalized vectors) top-k by brute force.

    ``dim`` may be 0 (made while the library had no vectors yet): the first vectors added
    set it. Adding vectors of another length to a non-empty index raises
    :class:`VectorDimensionError` and leaves the index as it was.
    """

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.matrix = np.zeros((0, dim), dtype=np.float32)
        self.owner_ids: list[str] = []
        self.item_ids: list[str] = []
        self._owners: set[str] | None = None

    def __len__(self) -> int:
        return len(self.owner_ids)

    def owners(self) -> set[str]:
        """The owner ids in the index (kept until the next :meth:`add`)."""
        if self._owners is None:
            self._owners = set(self.owner_ids)
        return self._owners

    def add(self, owner_ids: list[str], item_ids: list[str], matrix: np.ndarray) -> None:
        if len(owner_ids) == 0:
            return
        matrix = np.asarray(matrix, dtype=np.float32).reshape(len(owner_ids), -1)
        if matrix.shape[1] != self.dim:
            if len(self):
                raise VectorDimensionError(
                    f"Vectors of length {matrix.shape[1]} do not fit an index of {self.dim}."
                )
            self.dim = matrix.shape[1]
            self.matrix = np.zeros((0, self.dim), dtype=np.float32)
        self.matrix = np.vstack([self.matrix, matrix])
        self._owners = None
        self.owner_ids += owner_ids
        self.item_ids += item_ids

    def search(self, query: np.ndarray, k: int = 100) -> list[Neighbour]:
        if len(self) == 0:
            return []
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        if q.shape[0] != self.dim:
            return []
        scores = self.matrix @ q
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [Neighbour(self.owner_ids[i], self.item_ids[i], float(scores[i])) for i in top]


HNSW_THRESHOLD = 20_000  # below this, exact search is fast enough and exact
BUILD_PAGE = 20_000  # vectors read from SQLite per step while building a graph


class HnswIndex:
    """Approximate search (usearch HNSW, inner product) for large libraries.

    Keys are positions in append order; removed owners are deleted from the graph, so the
    index is updated incrementally as chunks change instead of being rebuilt.
    """

    def __init__(self, dim: int) -> None:
        from usearch.index import Index

        self.dim = dim
        self.index = Index(
            ndim=dim,
            metric="ip",
            # half the memory of f32 (374k × 512-d: 410 MB instead of 820 MB), the same
            # recall; a graph saved as f32 by an older version still loads as f32
            dtype="f16",
            connectivity=16,
            expansion_add=64,
            expansion_search=96,
        )
        self.owner_ids: list[str] = []
        self.item_ids: list[str] = []
        self.live = 0
        self._key_of: dict[str, int] = {}

    def __len__(self) -> int:
        return self.live

    def add(self, owner_ids: list[str], item_ids: list[str], matrix: np.ndarray) -> None:
        if not owner_ids:
            return
        start = len(self.owner_ids)
        keys = np.arange(start, start + len(owner_ids), dtype=np.uint64)
        for owner in owner_ids:
            if owner in self._key_of:  # a replaced vector: drop the old entry first
                self.remove([owner])
        # a bulk build uses every core; small incremental adds stay on one thread
        threads = 0 if len(owner_ids) > 2000 else 1
        self.index.add(keys, np.ascontiguousarray(matrix, dtype=np.float32), threads=threads)
        self.owner_ids += owner_ids
        self.item_ids += item_ids
        for key, owner in zip(keys.tolist(), owner_ids, strict=True):
            self._key_of[owner] = key
        self.live += len(owner_ids)

    def remove(self, owner_ids: list[str]) -> None:
        keys = [self._key_of.pop(o) for o in owner_ids if o in self._key_of]
        if keys:
            self.index.remove(np.asarray(keys, dtype=np.uint64))
            self.live -= len(keys)

    def owners(self) -> set[str]:
        return set(self._key_of)

    def save(self, path: Path, marks: tuple[int, int]) -> None:
        """Write the graph and its id maps next to the library (a cache: safe to delete)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        self.index.save(str(tmp))
        meta = {
            "marks": list(marks),
            "dim": self.dim,
            "owner_ids": self.owner_ids,
            "item_ids": self.item_ids,
            "live": sorted(self._key_of.items()),
        }
        meta_tmp = path.with_suffix(".json.tmp")
        meta_tmp.write_text(json.dumps(meta), encoding="utf-8")
        os.replace(tmp, path)
        os.replace(meta_tmp, path.with_suffix(".json"))

    @classmethod
    def load(cls, path: Path) -> tuple[HnswIndex, tuple[int, int]] | None:
        meta_path = path.with_suffix(".json")
        if not path.is_file() or not meta_path.is_file():
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            index = cls(int(meta["dim"]))
            index.index.load(str(path))
            index.owner_ids = list(meta["owner_ids"])
            index.item_ids = list(meta["item_ids"])
            index._key_of = {str(k): int(v) for k, v in meta["live"]}
            index.live = len(index._key_of)
            marks = (int(meta["marks"][0]), int(meta["marks"][1]))
        except (OSError, ValueError, KeyError, TypeError, RuntimeError):
            return None  # a damaged cache is rebuilt from SQLite
        if len(index.index) != index.live:
            return None
        return index, marks

    def search(self, query: np.ndarray, k: int = 100) -> list[Neighbour]:
        if self.live == 0:
            return []
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        if q.shape[0] != self.dim:
            return []
        found = self.index.search(q, min(k, self.live), threads=1)
        return [
            Neighbour(self.owner_ids[int(key)], self.item_ids[int(key)], 1.0 - float(dist))
            for key, dist in zip(found.keys, found.distances, strict=True)
        ]


def _row_dim(rows: list[tuple[str, str, bytes]]) -> int | None:
    """The vector length of the rows (``None`` for no rows)."""
    return len(rows[0][2]) // 4 if rows else None


def _decode(rows: list[tuple[str, str, bytes]], dim: int) -> np.ndarray:
    if not rows:
        return np.zeros((0, dim), dtype=np.float32)
    buf = b"".join(r[2] for r in rows)
    return np.frombuffer(buf, dtype="<f4").reshape(len(rows), -1).astype(np.float32)


class VectorCache:
    """Indexes per (model id, owner kind), refreshed lazily from SQLite."""

    def __init__(self, db: Database, *, hnsw_threshold: int = HNSW_THRESHOLD) -> None:
        self.db = db
        self.hnsw_threshold = hnsw_threshold
        self._indexes: dict[tuple[str, str], ExactIndex | HnswIndex] = {}
        self._marks: dict[tuple[str, str], tuple[int, int]] = {}
        self._token: object = None

    def index(self, model_id: str, owner_kind: str = "chunk") -> ExactIndex | HnswIndex | None:
        token = vector_store.change_token(self.db)
        key = (model_id, owner_kind)
        if token == self._token and key in self._indexes:
            return self._indexes[key]
        self._token = token
        for cached in list(self._indexes):
            self._refresh(cached)
        if key not in self._indexes:
            self._refresh(key)
        return self._indexes.get(key)

    def _refresh(self, key: tuple[str, str]) -> None:
        model_id, owner_kind = key
        count, max_rowid = vector_store.fingerprint(self.db, model_id, owner_kind)
        old = self._marks.get(key)
        if old == (count, max_rowid) and key in self._indexes:
            return
        index = self._indexes.get(key)
        rebuild = False
        if old is not None and index is not None and max_rowid >= old[1]:
            rows = vector_store.load_vectors(self.db, model_id, owner_kind, after_rowid=old[1])
            if _row_dim(rows) not in (None, index.dim) and (
                isinstance(index, HnswIndex) or len(index) > 0
            ):
                # the vectors changed length (new embedder): rebuild below, not from the
                # graph saved for the old length
                index = None
                rebuild = True
                self._drop_saved(key)
            elif isinstance(index, HnswIndex):
                index.add([r[0] for r in rows], [r[1] for r in rows], _decode(rows, index.dim))
                if len(index) != count:  # some vectors were deleted: drop them from the graph
                    current = set(vector_store.owner_ids(self.db, model_id, owner_kind))
                    index.remove(sorted(index.owners() - current))
                self._marks[key] = (count, max_rowid)
                return
            elif len(index) + len(rows) == count:  # only appends happened
                dim = _row_dim(rows) or index.dim
                index.add([r[0] for r in rows], [r[1] for r in rows], _decode(rows, dim))
                self._marks[key] = (count, max_rowid)
                return
        cache_path = self._cache_path(key)
        if not rebuild and index is None and count >= self.hnsw_threshold and cache_path:
            loaded = HnswIndex.load(cache_path)
            if loaded is not None and loaded[1][1] <= max_rowid:
                self._indexes[key], self._marks[key] = loaded
                self._refresh(key)  # apply what changed since it was saved
                return
        if count >= self.hnsw_threshold:
            # a big graph is built page by page: one page of blobs in memory at a time
            # (all at once, 374k vectors peaked at 4.6 GB in the indexing process)
            index = None
            pages = vector_store.vector_pages(
                self.db, model_id, owner_kind, until_rowid=max_rowid, page=BUILD_PAGE
            )
            for rows in pages:
                if index is None:
                    index = self._new_index(len(rows[0][2]) // 4, count)
                index.add([r[0] for r in rows], [r[1] for r in rows], _decode(rows, index.dim))
            if index is None:
                index = ExactIndex(0)
        else:
            rows = vector_store.load_vectors(self.db, model_id, owner_kind)
            dim = _row_dim(rows) or 0
            index = self._new_index(dim, len(rows))
            index.add([r[0] for r in rows], [r[1] for r in rows], _decode(rows, dim))
        self._indexes[key] = index
        self._marks[key] = (count, max_rowid)
        path = self._cache_path(key)
        if isinstance(index, HnswIndex) and path is not None:
            try:
                index.save(path, (count, max_rowid))
            except OSError:
                pass  # read-only library folder: keep the index in memory only

    def _drop_saved(self, key: tuple[str, str]) -> None:
        path = self._cache_path(key)
        if path is not None:
            for stale in (path, path.with_suffix(".json")):
                with contextlib.suppress(OSError):  # read-only folder: rebuilt in memory
                    stale.unlink(missing_ok=True)

    def _cache_path(self, key: tuple[str, str]) -> Path | None:
        if not isinstance(self.db.path, Path):
            return None  # in-memory database
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in "-".join(key))
        return self.db.path.parent / "cache" / f"hnsw-{safe}.usearch"

    def _new_index(self, dim: int, size: int) -> ExactIndex | HnswIndex:
        if size >= self.hnsw_threshold and dim:
            return HnswIndex(dim)
        return ExactIndex(dim)

    def clear(self) -> None:
        self._indexes.clear()
        self._marks.clear()
        self._token = None
