"""Test helpers for indexing and search.

:class:`HashEmbedder` is a FAKE at the ``TextEmbedder`` Protocol boundary: a deterministic
hashed bag of words and character trigrams (so texts sharing words are near each other). Unit
tests use it instead of USE-m3 so they run in milliseconds; slow tests use the real models.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np


class HashEmbedder:
    """Fake text embedder (Protocol boundary): hashed words + character trigrams, 64-d."""

    def __init__(self, dim: int = 64, model_id: str = "test-hash-64", fail_on: str | None = None):
        self.dim = dim
        self.model_id = model_id
        self.fail_on = fail_on
        self.calls = 0
        self.texts_seen = 0

    def _vec(self, text: str) -> np.ndarray:
        if self.fail_on and self.fail_on in text:
            raise ValueError(f"cannot embed text containing {self.fail_on!r}")
        v = np.zeros(self.dim, dtype=np.float32)
        low = text.lower()
        feats = re.findall(r"\w+", low)
        feats += [low[i : i + 3] for i in range(max(0, len(low) - 2))]
        for f in feats:
            h = int.from_bytes(hashlib.blake2b(f.encode(), digest_size=4).digest(), "little")
            v[h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_passages(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts_seen += len(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vec(t) for t in texts]).astype(np.float32)

    def close(self) -> None:
        pass
