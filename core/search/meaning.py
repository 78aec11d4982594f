"""Meaning search: the ``dense`` (chunk vectors) and ``photo`` (photo vectors) sources.

One embedder normally: its cosines go to fusion raw, with its floor, weights and normalization
(:mod:`core.search.fusion`). During a progressive upgrade (:mod:`core.indexing.progressive`)
some chunks already have the better model's vector and every chunk still has the fast
model's: the query is embedded with both, each chunk (and photo) is searched with the best
vector it has — the fast model's neighbours that the better model covers are dropped — and
each part gets its own embedder's floor and fusion weight. The parts' cosines are not
comparable (e5's unrelated pairs sit near 0.80, USE-m3's near 0.1), so each score becomes a
z-score against its own embedder's nearest neighbours for this query (mean and deviation of
the top candidates, covered ones included), the merged scores are min–max scaled, and in
hybrid fusion each is weighted by its own embedder's weight. On KorQuAD half-upgraded (150
documents, 80 queries) this kept hybrid at the better end and dense between the two ends
(``benchmarks/bench_progressive.py``); an absolute calibration by the embedders' floors
(:func:`level`, which the assistant's thresholds use) ranked below both ends there.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from core.indexing.vector_index import ExactIndex, HnswIndex, VectorCache
from core.search.floor import apply_floor
from core.search.fusion import FusionConfig, Scores, floor_for, method_for, weights_for
from core.search.query import Query
from models.errors import ModelError
from models.protocols import TextEmbedder
from storage import vectors as vector_store

if TYPE_CHECKING:
    from core.library import Library

CANDIDATES = 200  # chunks per source before fusion
Index = ExactIndex | HnswIndex


@dataclass
class Source:
    scores: dict[str, float] = field(default_factory=dict)  # item → best chunk score
    best: dict[str, int | None] = field(default_factory=dict)  # item → best chunk id

    def add(self, item_id: str, chunk_id: int | None, score: float) -> None:
        if item_id not in self.scores or score > self.scores[item_id]:
            self.scores[item_id] = score
            self.best[item_id] = chunk_id


@dataclass
class MeaningResult:
    """Which embedders answered (best first) and any reason meaning search could not."""

    models: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # mid-upgrade: source → item → the fusion weight of the embedder that scored it
    weights: dict[str, dict[str, float]] = field(default_factory=dict)
    # item → its meaning level (:func:`level`), comparable across embedders
    levels: dict[str, float] = field(default_factory=dict)

    @property
    def mixed(self) -> bool:
        return len(self.models) > 1


@dataclass
class Prefetch:
    """A query's embeddings started before the keyword search runs (see
    :meth:`MeaningSearch.prefetch`): the leased embedders and their query vectors to come."""

    text: str
    stack: contextlib.ExitStack
    embedders: dict[str, TextEmbedder | None] = field(default_factory=dict)
    vectors: dict[str, Future[np.ndarray]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def close(self) -> None:
        for future in self.vectors.values():
            future.cancel()
        self.stack.close()


class MeaningSearch:
    """The meaning sources of one library (owned by a :class:`core.search.Searcher`)."""

    def __init__(
        self,
        library: Library,
        vectors: VectorCache,
        config: FusionConfig,
        embedder: TextEmbedder | None = None,
    ) -> None:
        self.library = library
        self.db = library.db
        self.vectors = vectors
        self.config = config
        self.embedder = embedder
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()  # the Prefetch of the query this thread gathers

    def prefetch(self, q: Query) -> Prefetch | None:
        """Start embedding ``q`` with each embedder meaning search will use, on a worker
        thread, and return at once: the caller runs the keyword search meanwhile and passes
        this to :meth:`gather`, which waits for the vectors. ONNX Runtime and SQLite both
        release the GIL, so on two cores a hybrid query costs about the slower of the two
        instead of their sum. The caller must :meth:`Prefetch.close` it (releases the
        embedders' leases)."""
        serving, _, models = self._models()
        if serving is None:
            return None
        text = q.text or " ".join(q.words)
        pending = Prefetch(text, contextlib.ExitStack())
        result = MeaningResult()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="saem-query-embed")
        for model in models:
            embedder = self._lease(pending.stack, model, result)
            pending.embedders[model] = embedder
            if embedder is not None:
                pending.vectors[model] = self._pool.submit(_embed_query, embedder, text)
        pending.notes = result.notes
        return pending

    def model(self) -> str:
        """The model id of the vectors single-embedder meaning search uses."""
        serving = vector_store.serving_model(self.db)
        return serving or (self.embedder.model_id if self.embedder is not None else "")

    def gather(
        self, q: Query, sources: dict[str, Source], prefetched: Prefetch | None = None
    ) -> MeaningResult:
        """Add the ``dense``/``photo`` sources for ``q`` to ``sources`` (floors applied),
        with the embedders and query vectors of ``prefetched`` when given."""
        self._local.prefetched = prefetched
        try:
            return self._gather(q, sources)
        finally:
            self._local.prefetched = None

    def _gather(self, q: Query, sources: dict[str, Source]) -> MeaningResult:
        result = MeaningResult()
        serving, target, models = self._models()
        if serving is None:
            return result
        with contextlib.ExitStack() as stack:
            embedders: dict[str, TextEmbedder] = {}
            for model in models:
                embedder = self._lease(stack, model, result)
                if embedder is not None:
                    embedders[model] = embedder
            if len(embedders) == 2:
                self._mixed(q, target or "", serving, embedders, sources, result)
            elif serving in embedders:  # the target's model cannot load: the old one serves
                self._single(q, embedders[serving], sources, result)
                apply_floor(self.db, self.config, serving, sources)
                dense = sources.get("dense")
                scores = dense.scores if dense else {}
                result.levels = {
                    i: level(self.config, serving, "dense", v) for i, v in scores.items()
                }
        return result

    def fusion(
        self,
        words: list[str],
        text: str,
        raw: Mapping[str, Scores],
        result: MeaningResult,
        *,
        photos_only: bool = False,
    ) -> tuple[dict[str, dict[str, float]], dict[str, float], dict[str, str]]:
        """The sources as fused (mid-upgrade: each meaning score times its embedder's
        weight), with the fusion weights and normalization for them."""
        if not result.mixed:
            model = self.model()
            config = self.config.for_model(model)
            dense = "dense" in raw or "photo" in raw
            weights = weights_for(config, words, text, dense, model, photos_only=photos_only)
            return {k: dict(v) for k, v in raw.items()}, weights, method_for(config, model)
        best = result.models[0]  # keyword weights as the better model's fit has them
        config = self.config.for_model(best)
        weights = weights_for(config, words, text, True, best, photos_only=photos_only)
        weights.update(dense=1.0, photo=1.0)  # the merged sources carry their weights
        method = method_for(config, best)
        method.update(dense="none", photo="none")
        fused = {k: dict(v) for k, v in raw.items()}
        for name, per_item in result.weights.items():
            if name in fused:
                fused[name] = {i: v * per_item.get(i, 0.0) for i, v in fused[name].items()}
        return fused, weights, method

    # -- one embedder ---------------------------------------------------------------------------

    def _single(
        self, q: Query, embedder: TextEmbedder, sources: dict[str, Source], result: MeaningResult
    ) -> None:
        chunks = self.vectors.index(embedder.model_id, "chunk")
        photos = self.vectors.index(embedder.model_id, "photo")
        if not chunks and not photos:
            return
        qvec = self._query_vector(embedder, q, result)
        if qvec is None:
            return
        result.models = [embedder.model_id]
        if chunks:
            src = Source()
            for n in chunks.search(qvec, CANDIDATES):
                src.add(n.item_id, int(n.owner_id), n.score)
            sources["dense"] = src
        if photos:
            src = Source()
            for n in photos.search(qvec, CANDIDATES // 2):
                src.add(n.item_id, None, n.score)
            sources["photo"] = src

    # -- two embedders during an upgrade ----------------------------------------------------------

    def _mixed(
        self,
        q: Query,
        target: str,
        serving: str,
        embedders: dict[str, TextEmbedder],
        sources: dict[str, Source],
        result: MeaningResult,
    ) -> None:
        covered = {kind: _owners(self.vectors.index(target, kind)) for kind in ("chunk", "photo")}
        keywords = {k: v for k, v in sources.items() if k in ("keyword", "trigram")}
        merged = {"dense": Source(), "photo": Source()}
        result.weights = {"dense": {}, "photo": {}}
        parts: list[tuple[str, dict[str, Source], dict[str, tuple[float, float]]]] = []
        for model in (target, serving):
            qvec = self._query_vector(embedders[model], q, result)
            if qvec is None:
                continue
            skip = {"chunk": set(), "photo": set()} if model == target else covered
            part, stats = self._part(model, qvec, skip)
            apply_floor(self.db, self.config, model, {**keywords, **part})
            result.models.append(model)
            parts.append((model, part, stats))
        for model, part, stats in parts:
            weights = weights_for(
                self.config.for_model(model), q.words, q.text, True, model,
                photos_only=q.kinds == {"photo"},
            )  # fmt: skip
            for name, src in part.items():
                mean, std = stats[name]
                for item, score in src.scores.items():
                    value = (score - mean) / std
                    if item not in merged[name].scores or value > merged[name].scores[item]:
                        result.weights[name][item] = weights[name]
                    merged[name].add(item, src.best.get(item), value)
                    if name == "dense":  # for the assistant: absolute, not per query
                        calibrated = level(self.config, model, name, score)
                        result.levels[item] = max(result.levels.get(item, calibrated), calibrated)
        for name, src in merged.items():
            if src.scores:  # min–max over the merged candidates: the best 1, the weakest 0
                hi, lo = max(src.scores.values()), min(src.scores.values())
                span = hi - lo if hi - lo > 1e-12 else 1.0
                src.scores = {i: (v - lo) / span for i, v in src.scores.items()}
                sources[name] = src

    def _part(
        self, model: str, qvec: np.ndarray, skip: dict[str, set[str]]
    ) -> tuple[dict[str, Source], dict[str, tuple[float, float]]]:
        """One embedder's raw sources without the chunks/photos in ``skip``, and per source
        the mean and deviation of its nearest neighbours' scores (``skip`` included)."""
        part: dict[str, Source] = {}
        stats: dict[str, tuple[float, float]] = {}
        for name, kind, k in (("dense", "chunk", CANDIDATES), ("photo", "photo", CANDIDATES // 2)):
            index = self.vectors.index(model, kind)
            if not index:
                continue
            src = Source()
            # ask for more when the other model covers many: the best uncovered ones remain
            found = index.search(qvec, k + min(len(skip[kind]), 4 * k))
            for n in found:
                if n.owner_id not in skip[kind]:
                    src.add(n.item_id, int(n.owner_id) if kind == "chunk" else None, n.score)
            top = np.asarray([n.score for n in found[:k]], dtype=np.float64)
            std = float(top.std()) if len(top) > 1 else 0.0
            stats[name] = (float(top.mean()) if len(top) else 0.0, std if std > 1e-6 else 1.0)
            part[name] = src
        return part, stats

    # -- helpers --------------------------------------------------------------------------------

    def _models(self) -> tuple[str | None, str | None, list[str]]:
        """(serving model, upgrade target, the models a query is embedded with: the target
        first when it already has vectors, then the serving one)."""
        serving = vector_store.serving_model(self.db)
        target = vector_store.target_model(self.db)
        if serving is None:
            return None, target, []
        if target and target != serving and self._has_vectors(target):
            return serving, target, [target, serving]
        return serving, target, [serving]

    def _has_vectors(self, model: str) -> bool:
        return bool(self.vectors.index(model, "chunk") or self.vectors.index(model, "photo"))

    def _lease(
        self, stack: contextlib.ExitStack, model: str, result: MeaningResult
    ) -> TextEmbedder | None:
        """The embedder for ``model``'s vectors, held only for this query (the model manager
        may release it when the app is idle)."""
        pending: Prefetch | None = getattr(self._local, "prefetched", None)
        if pending is not None and model in pending.embedders:
            result.notes += [n for n in pending.notes if n not in result.notes]
            return pending.embedders[model]
        if self.embedder is not None and self.embedder.model_id == model:
            return self.embedder
        try:
            embedder = stack.enter_context(self.library.models.lease_embedder(model))
        except ModelError as exc:
            result.notes.append(f"meaning search unavailable: {exc.user_message}")
            return None
        if embedder is None:
            result.notes.append(f"meaning search unavailable: the model {model} is not loaded")
        return embedder

    def _query_vector(
        self, embedder: TextEmbedder, q: Query, result: MeaningResult
    ) -> np.ndarray | None:
        text = q.text or " ".join(q.words)
        pending: Prefetch | None = getattr(self._local, "prefetched", None)
        try:
            if pending is not None and pending.text == text:
                future = pending.vectors.get(embedder.model_id)
                if future is not None:
                    return future.result()
            return _embed_query(embedder, text)
        except (ModelError, ValueError, RuntimeError) as exc:
            result.notes.append(f"meaning search unavailable: {exc}")
            return None


def level(config: FusionConfig, model: str, source: str, score: float) -> float:
    """A cosine of ``model`` on a scale common to all embedders: how far above the model's
    floor for ``source`` ("dense" or "photo") it lies, in units of the model's spread of
    unrelated pairs (short floor − meaning floor). 0 = at the floor; USE-m3's cosine 0.45
    is 0.95, e5's 0.859 too."""
    spread = floor_for(config, model, "short") - floor_for(config, model, "dense")
    spread = spread if math.isfinite(spread) and spread > 0 else 1.0
    floor = floor_for(config, model, source)
    floor = floor if math.isfinite(floor) else 0.0  # an embedder without floors
    return (score - floor) / spread


def _embed_query(embedder: TextEmbedder, text: str) -> np.ndarray:
    return np.asarray(embedder.embed_queries([text])[0])


def _owners(index: Index | None) -> set[str]:
    return index.owners() if index is not None else set()
