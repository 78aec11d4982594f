"""In-memory nearest-neighbour search over the ``vectors`` table (a rebuildable cache).

Vectors stay in SQLite (the source of truth). :class:`VectorCache` keeps one exact index per
(model, owner kind) and refreshes it when the database changed: new rows are appended
incrementally, anything else (deletions, replacements) rebuilds from SQLite. Exact search is
one matrix–vector product; at 100k × 512 float32 that is ~200 MB and a few ms per query.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from storage import vectors as vector_store
from storage.db import Database


@dataclass(frozen=True)
class Neighbour:
    owner_id: str
    item_id: str
    score: float


class ExactIndex:
    """Cosine (= dot product of normalized vectors) top-k by brute force."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.matrix = np.zeros((0, dim), dtype=np.float32)
        self.owner_ids: list[str] = []
        self.item_ids: list[str] = []

    def __len__(self) -> int:
        return len(self.owner_ids)

    def add(self, owner_ids: list[str], item_ids: list[str], matrix: np.ndarray) -> None:
        if len(owner_ids) == 0:
            return
        self.matrix = np.vstack([self.matrix, matrix.astype(np.float32, copy=False)])
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


def _decode(rows: list[tuple[str, str, bytes]], dim: int) -> np.ndarray:
    if not rows:
        return np.zeros((0, dim), dtype=np.float32)
    buf = b"".join(r[2] for r in rows)
    return np.frombuffer(buf, dtype="<f4").reshape(len(rows), -1).astype(np.float32)


class VectorCache:
    """Indexes per (model id, owner kind), refreshed lazily from SQLite."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._indexes: dict[tuple[str, str], ExactIndex] = {}
        self._marks: dict[tuple[str, str], tuple[int, int]] = {}
        self._token: object = None

    def index(self, model_id: str, owner_kind: str = "chunk") -> ExactIndex | None:
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
        if old is not None and index is not None and max_rowid > old[1]:
            rows = vector_store.load_vectors(self.db, model_id, owner_kind, after_rowid=old[1])
            if len(index) + len(rows) == count:  # only appends happened
                index.add([r[0] for r in rows], [r[1] for r in rows], _decode(rows, index.dim))
                self._marks[key] = (count, max_rowid)
                return
        rows = vector_store.load_vectors(self.db, model_id, owner_kind)
        matrix = _decode(rows, 0 if not rows else len(rows[0][2]) // 4)
        index = ExactIndex(matrix.shape[1] if rows else 0)
        index.add([r[0] for r in rows], [r[1] for r in rows], matrix)
        self._indexes[key] = index
        self._marks[key] = (count, max_rowid)

    def clear(self) -> None:
        self._indexes.clear()
        self._marks.clear()
        self._token = None
