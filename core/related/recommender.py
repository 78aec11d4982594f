"""`Recommender`: what the user probably wants next, the moment an item opens.

Four candidate sources, blended into one ranked list with the reason shown for each:

* ``content``  — nearest items by embedding: an item's vector is the mean of its chunk vectors
  (body, OCR text, caption — so notes and photos meet through the text seen in photos) plus its
  photo vector when there is one.
* ``walk``     — a Pixie random walk with restarts (:mod:`core.related.pixie`)
  from the opened item and
  the items opened before it in this session, over co-opens, next-opens, clicks from the same
  query, wikilinks, tags, same day and same place. Recent sessions weigh more.
* ``keywords`` — the item's intent keyphrases (:mod:`core.related.keyphrases`) run as searches: the
  narrower items that share what this one is about.
* ``recent``   — recently changed items: the cold-start fallback when nothing else has answers.

A light multiplicative boost favours items (and tags) the user returns to over weeks. The list
excludes what is on screen or was just seen in the session, and is diversified with MMR so five
near-duplicates never fill the panel.

Caches: the item-vector matrix and the walk graph are built once and rebuilt when the library
changes (checked at most every ``check_every`` seconds); keyphrase searches are cached per item.

Modules: the sources are in :mod:`core.related.sources`, blending and diversification in
:mod:`core.related.blend`, the item vectors in :mod:`core.related.vectors`.
"""

from __future__ import annotations

import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from core.events import SESSION_GAP, EventLog
from core.related import keyphrases
from core.related import sources as sources_
from core.related.blend import Candidate, Ranked, Recommendation, finish, fuse
from core.related.pixie import LibraryGraph, build_library_graph
from core.related.vectors import (
    ItemVectors,
    load_item_vectors,
    pick_model,
    single_blas_thread,
    vectors_fingerprint,
)
from models.protocols import TextEmbedder
from storage import events as store

if TYPE_CHECKING:
    from core.indexing.vector_index import VectorCache
    from core.library import Library
    from core.search.searcher import Searcher

__all__ = [
    "DEFAULT_WEIGHTS",
    "SOURCES",
    "ItemVectors",
    "Recommendation",
    "Recommender",
    "load_item_vectors",
    "pick_model",
    "vectors_fingerprint",
]

SOURCES = ("content", "walk", "keywords", "recent")
DEFAULT_WEIGHTS: dict[str, float] = {"content": 1.0, "walk": 1.2, "keywords": 0.5, "recent": 0.1}


class Recommender:
    """Related items for the Related panel and ``saem related``."""

    def __init__(
        self,
        library: Library,
        *,
        embedder: TextEmbedder | Literal["auto"] | None = "auto",
        model_id: str | None = None,
        weights: Mapping[str, float] | None = None,
        use_searcher: bool = True,
        clock: Callable[[], float] = time.time,
        check_every: float = 5.0,
        events_rebuild: int = 100,
        vector_cache: VectorCache | None = None,
        use_events: bool = True,
    ) -> None:
        self.library = library
        self.db = library.db
        self.events = EventLog(library)
        self._auto_embedder = embedder == "auto"
        self.embedder: TextEmbedder | None = None if embedder == "auto" else embedder
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
        self._keywords: OrderedDict[tuple[str, float], Ranked] = OrderedDict()
        self._searcher: Searcher | None = None

    # -- caches ---------------------------------------------------------------------------------

    @property
    def model_id(self) -> str | None:
        return self._model_id or pick_model(self.db, self.embedder)

    def refresh(self, *, force: bool = False) -> None:
        """Rebuild the caches that are out of date (all of them with ``force``)."""
        if self._vectors is None:
            single_blas_thread()
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

    def content(self, item_id: str, k: int = 50) -> Ranked:
        return sources_.content(self.vectors, item_id, k)

    def walk(self, item_id: str, session_items: Sequence[str] = (), k: int = 50) -> Ranked:
        return sources_.walk(self.graph, item_id, session_items, k)

    def keywords(self, item_id: str, k: int = 50, *, cached_only: bool = False) -> Ranked:
        found = store.find_brief(self.db, item_id)
        if found is None:
            return []
        key = (item_id, found[0].updated_at)
        if key in self._keywords:
            self._keywords.move_to_end(key)
            return self._keywords[key][:k]
        if cached_only:
            return []
        text = sources_.item_text(self.db, item_id, found[0].kind, found[0].title)
        vecs = self.vectors
        doc_vector = None
        with self._keyphrase_embedder() as embedder:
            if embedder is not None and embedder.model_id == vecs.model_id:
                row = vecs.index.get(item_id)
                doc_vector = vecs.matrix[row] if row is not None else None
            phrases = keyphrases.extract(text, embedder=embedder, doc_vector=doc_vector, top=3)
        results = sources_.keyword_search(self, phrases, exclude=item_id, k=k)
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

    @contextlib.contextmanager
    def _keyphrase_embedder(self) -> Iterator[Any | None]:
        """The given embedder; with "auto", the library's embedder that wrote the stored
        vectors, held for this use only (the model manager may release it when idle)."""
        model_id = self.model_id
        if not self._auto_embedder or not model_id:
            yield self.embedder
            return
        from models.errors import ModelError

        with contextlib.ExitStack() as held:
            try:
                embedder = held.enter_context(self.library.models.lease_embedder(model_id))
            except ModelError:
                embedder = None
            yield embedder

    def recent(self, k: int = 50) -> Ranked:
        return sources_.recent(self.graph, k)

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
        gathered: dict[str, Ranked] = {}
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

    def _fuse(self, gathered: Mapping[str, Ranked], banned: set[str]) -> dict[str, Candidate]:
        return fuse(gathered, banned, self.weights, self._graph)

    def _finish(
        self, fused: dict[str, Candidate], limit: int, diversity: float
    ) -> list[Recommendation]:
        return finish(self.db, fused, self._vectors, limit, diversity)

    # -- logging the panel ---------------------------------------------------------------------

    def on_open(
        self, item_id: str, *, exclude: Iterable[str] = (), limit: int = 10, fast: bool = False
    ) -> list[Recommendation]:
        """The one call for the Related panel: log the open, recommend, log the impression.

        ``fast``: the first fill as the item opens (keyword searches only when cached); the
        GUI then calls :meth:`warm` and :meth:`related` to refine the list it shows."""
        self.events.record("open", item_id)
        recs = self.related(item_id, limit=limit, exclude=exclude, fast=fast)
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
