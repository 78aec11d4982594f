"""Hybrid search: keywords (FTS5 BM25 + trigrams) and meaning (vectors), fused per query.

Sources, all over chunks of notes and photos (OCR text, tags and captions are chunks too):
``keyword`` — FTS5 BM25 on the unicode61 table, Korean words stemmed and prefix-matched;
``trigram`` — BM25 on the trigram table (Korean substrings: 커피 in 아이스커피를);
``dense`` — cosine between the query embedding and chunk vectors; ``photo`` — cosine to a
photo's semantic vector. Chunk scores become item scores (best chunk), are fused by
:mod:`core.search.fusion`, filtered (``kind: tag: after: before: near: "phrase"``) and returned
with a snippet, highlight offsets and the reasons each item matched.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from core.errors import UnknownNameError
from core.indexing.progressive import JOB_KINDS
from core.indexing.vector_index import VectorCache
from core.search.fusion import NO_CHUNK, FusionConfig, fuse, ranked
from core.search.meaning import CANDIDATES, MeaningResult, MeaningSearch
from core.search.meaning import Source as _Source
from core.search.near import NEAR_KM, bounding_box, distance_km, place_center
from core.search.query import Query, fts_terms, is_hangul, parse_query, trigram_terms
from core.search.snippets import chunk_with_phrase, first_chunk, make_snippet
from core.search.tag_scores import fts_keys, rescore_tag_lines
from models.protocols import TextEmbedder
from storage import chunks as chunk_store
from storage import jobs
from storage import vectors as vector_store
from storage.chunks import ChunkRow, ItemFacts
from storage.errors import StorageError

if TYPE_CHECKING:
    from core.library import Library

log = logging.getLogger(__name__)

PRUNE_MIN_CHUNKS = 20_000  # from this size on, very common query words are left out
PRUNE_RATIO = 0.25
# A keyword source ranks at most the newest 20k chunks that match (see chunks.fts_match):
# the same results below 20k matches (every evaluation set), bounded latency above.
MAX_RANKED_MATCHES = 20_000
# The palette, per keystroke, in a large library: a prefix is written out as at most this many
# of its completions, and only the newest this-many matching chunks are ranked (Enter runs the
# full search). The same results as the full prefix below these sizes.
SUGGEST_MIN_CHUNKS = 20_000
SUGGEST_COMPLETIONS = 64
SUGGEST_RANKED_MATCHES = 2_000
TAIL_FRACTION = 0.05  # hybrid hits below this share of the best score are not shown
METHODS = ("hybrid", "bm25", "dense", "trigram", "rrf")


@dataclass(frozen=True)
class SearchHit:
    item_id: str
    kind: str
    title: str
    snippet: str
    highlights: list[tuple[int, int]]
    reasons: list[str]
    score: float
    chunk_id: int | None = None
    thumb_path: str | None = None


@dataclass
class SearchResults:
    query: str
    hits: list[SearchHit] = field(default_factory=list)
    took_ms: float = 0.0
    methods: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. "meaning search unavailable: …"
    # the embedders meaning search used, the better first (two during a progressive upgrade)
    embedders: list[str] = field(default_factory=list)
    levels: dict[str, float] = field(default_factory=dict)  # see Searcher.meaning_levels


class Searcher:
    """Search one library. Cheap to create; keeps the vector cache and the query embedder."""

    def __init__(
        self,
        library: Library,
        embedder: TextEmbedder | None = None,
        *,
        config: FusionConfig | None = None,
        dense: bool = True,
        hnsw_threshold: int | None = None,
    ) -> None:
        self.library = library
        self.db = library.db
        self.config = config or FusionConfig()
        self.dense_enabled = dense
        self._embedder = embedder
        self._chunk_count: tuple[object, int] | None = None
        self._vectors = (
            VectorCache(self.db)
            if hnsw_threshold is None
            else VectorCache(self.db, hnsw_threshold=hnsw_threshold)
        )
        self._meaning = MeaningSearch(library, self._vectors, self.config, embedder)

    # -- public -------------------------------------------------------------------------------

    def search(self, query: str, limit: int = 20, *, method: str = "hybrid") -> SearchResults:
        """Ranked items for ``query``; bad queries raise :class:`BadInputError`."""
        started = time.perf_counter()
        if method not in METHODS:
            raise UnknownNameError(f"Unknown search method {method!r}; use {', '.join(METHODS)}.")
        limit = max(1, min(int(limit), 500))
        parsed = parse_query(query)
        results = SearchResults(query=query)
        sources = self._gather(parsed, method, results)
        ranked = self._rank(parsed, sources, method, results)
        window = len(ranked) if parsed.has_filters or parsed.phrases else limit * 4 + 50
        facts = chunk_store.item_facts(self.db, [i for i, _ in ranked[:window]])
        ranked = [(i, s) for i, s in ranked if i in facts]
        ranked = self._filter(parsed, ranked, facts)
        if parsed.phrases:
            ranked = self._require_phrases(parsed, ranked, sources)
        if method == "hybrid" and ranked and parsed.words:
            # The weak tail (an item only a distant vector returned, a few percent of the best
            # score) is noise on screen; the ranking above it is unchanged.
            floor = ranked[0][1] * TAIL_FRACTION
            ranked = [(i, s) for i, s in ranked if s >= floor]
        results.hits = self._hits(parsed, ranked[:limit], sources, facts)
        waiting = jobs.runnable_count(self.db, JOB_KINDS)  # not the background upgrade
        if waiting:  # e.g. `saem search` right after an import: say why something is missing
            results.notes.append(
                f"{waiting:,} indexing job(s) are still waiting, so results may be incomplete "
                "(the app indexes in the background; `saem index` does it now)."
            )
        results.took_ms = (time.perf_counter() - started) * 1000
        return results

    def suggest(self, prefix: str, limit: int = 8) -> SearchResults:
        """Palette results while typing: keywords only, the last word matched as a prefix."""
        started = time.perf_counter()
        parsed = parse_query(prefix)
        results = SearchResults(query=prefix, methods=["keyword"])
        sources: dict[str, _Source] = {}
        if parsed.words:
            words = self._selective_words(parsed.words)
            last = words[-1]
            # a one-letter Latin prefix ("m*") matches a large part of the vocabulary
            as_prefix = len(last) >= 2 or is_hangul(last)
            exprs = fts_terms(words, prefix_last=as_prefix).words
            newest = MAX_RANKED_MATCHES
            if self._total_chunks() >= SUGGEST_MIN_CHUNKS:
                exprs = [self._completions(e) for e in exprs]
                newest = SUGGEST_RANKED_MATCHES
            sources["keyword"] = self._fts(
                "chunks_fts", " OR ".join(exprs), limit * 8, newest=newest
            )
        ranked = self._rank(parsed, sources, "bm25", results)
        facts = chunk_store.item_facts(self.db, [i for i, _ in ranked[: limit * 4]])
        ranked = self._filter(parsed, [(i, s) for i, s in ranked if i in facts], facts)
        results.hits = self._hits(parsed, ranked[:limit], sources, facts)
        results.took_ms = (time.perf_counter() - started) * 1000
        return results

    def rank_items(
        self, query: str, *, method: str = "hybrid", k: int = 100
    ) -> list[tuple[str, float]]:
        """(item id, score) best first, without snippets (used by the evaluation)."""
        parsed = parse_query(query)
        results = SearchResults(query=query)
        sources = self._gather(parsed, method, results)
        return self._rank(parsed, sources, method, results)[:k]

    def query_sources(self, query: str, method: str = "hybrid") -> dict[str, dict[str, float]]:
        """Raw per-source item scores of a query (for fusion experiments)."""
        parsed = parse_query(query)
        sources = self._gather(parsed, method, SearchResults(query=query))
        return {name: dict(src.scores) for name, src in sources.items()}

    def meaning_levels(self, query: str) -> dict[str, float]:
        """Item → how close in meaning to ``query`` its best chunk is, on a scale common to
        every embedder (:func:`core.search.meaning.level`; mid-upgrade each chunk's best
        vector counts): absolute, unlike the fused scores. Used by the assistant."""
        parsed = parse_query(query)
        if not parsed.words or not self.dense_enabled:
            return {}
        results = SearchResults(query=query)
        self._gather(parsed, "dense", results)
        return results.levels

    # -- sources ------------------------------------------------------------------------------

    def _gather(self, q: Query, method: str, results: SearchResults) -> dict[str, _Source]:
        sources: dict[str, _Source] = {}
        if not q.words:
            return sources
        meaning = method in ("hybrid", "dense", "rrf") and self.dense_enabled
        prefetched = self._meaning.prefetch(q) if meaning and method != "dense" else None
        try:
            self._keyword_sources(q, method, sources)
            if meaning:
                found = self._meaning.gather(q, sources, prefetched)
                results.levels = found.levels
                results.embedders = found.models
                results.notes += found.notes
        finally:
            if prefetched is not None:
                prefetched.close()
        results.methods = [name for name, src in sources.items() if src.scores]
        return sources

    def _keyword_sources(self, q: Query, method: str, sources: dict[str, _Source]) -> None:
        words = self._selective_words(q.words)
        if method in ("hybrid", "bm25", "rrf"):
            terms = fts_terms(words)
            keyed = fts_keys(terms.words)
            rescore = (
                (lambda rows: rescore_tag_lines(self.db, rows, keyed, self._total_chunks))
                if self.config.tag_lines_length_free
                else None
            )
            sources["keyword"] = self._fts(
                "chunks_fts", " OR ".join(terms.words), CANDIDATES, rescore=rescore
            )
        if method in ("hybrid", "trigram", "rrf"):
            tri = trigram_terms(words)
            if tri:
                # Korean words are meant as substrings (커피 in 아이스커피를); an English word is
                # not ("boy" inside "cowboy"): Latin-only queries keep a trigram hit only where a
                # query word starts a word of the chunk (inflections like "rocks" still count).
                latin = [] if any(is_hangul(w) for w in words) else words
                sources["trigram"] = self._fts(
                    "chunks_tri", " OR ".join(tri), CANDIDATES, word_starts=latin
                )
        if method in ("hybrid", "bm25", "trigram", "rrf") and not any(
            s.scores for s in sources.values()
        ):
            # 1–2 character Korean/CJK words the trigram index cannot look up (스커 inside
            # 아이스커피): scan. Not Latin ones: "to" inside "tomato" is no match (issue 15)
            short = [w for w in q.words if len(w) <= 2 and not w.isascii()]
            if short:
                src = _Source()
                for cid, item_id, score in chunk_store.like_match(self.db, short, limit=CANDIDATES):
                    src.add(item_id, cid, score)
                sources["trigram"] = src

    def _selective_words(self, words: list[str]) -> list[str]:
        """In a large library, leave out words found in more than a quarter of all chunks.

        FTS5 computes BM25 for every chunk that contains any query word, so one very common
        word makes a query slow at 100k chunks, while its IDF adds almost nothing to the
        ranking. Small libraries (below ``PRUNE_MIN_CHUNKS``) always use every word."""
        total = self._total_chunks()
        if total < PRUNE_MIN_CHUNKS or len(words) < 2:
            return words
        keyed = fts_keys([e[0] for w in words if (e := fts_terms([w]).words)])
        if len(keyed) != len(words):
            return words
        counts = chunk_store.term_doc_counts(self.db, keyed)
        kept = [w for w, n in zip(words, counts, strict=True) if n <= PRUNE_RATIO * total]
        if kept:
            return kept
        return [min(zip(words, counts, strict=True), key=lambda wc: wc[1])[0]]

    def _total_chunks(self) -> int:
        token = vector_store.change_token(self.db)
        if self._chunk_count is None or self._chunk_count[0] != token:
            self._chunk_count = (token, chunk_store.count_chunks(self.db))
        return self._chunk_count[1]

    def _fts(
        self,
        table: str,
        expr: str,
        limit: int,
        word_starts: list[str] | None = None,
        rescore: Callable[[list[tuple[int, str, float]]], list[tuple[int, str, float]]]
        | None = None,
        newest: int = MAX_RANKED_MATCHES,
    ) -> _Source:
        src = _Source()
        if not expr:
            return src
        try:
            rows = chunk_store.fts_match(self.db, table, expr, limit=limit, newest=newest)
        except StorageError as exc:
            log.warning("FTS query failed for %r: %s", expr, exc)
            return src
        if word_starts:
            starts = re.compile(
                r"\b(?:" + "|".join(re.escape(w) for w in word_starts) + ")", re.IGNORECASE
            )
            texts = chunk_store.get_chunks(self.db, [r[0] for r in rows])
            rows = [r for r in rows if r[0] in texts and starts.search(texts[r[0]].text)]
        if rescore is not None:
            rows = rescore(rows)
        for chunk_id, item_id, score in rows:
            src.add(item_id, chunk_id, score)
        return src

    def _completions(self, expr: str) -> str:
        """A prefix term (``"서울"*``) as its completions written out (``"서울" OR "서울역"
        OR …``, at most ``SUGGEST_COMPLETIONS``): FTS5 can walk those newest-first and stop,
        where a prefix query merges every completion's doclist first. Other terms unchanged."""
        if not expr.endswith("*"):
            return expr
        prefix = expr[:-1].strip('"').replace('""', '"')
        found = chunk_store.prefix_completions(self.db, prefix, SUGGEST_COMPLETIONS)
        if len(found) >= SUGGEST_COMPLETIONS and prefix not in found:
            found[-1] = prefix
        return " OR ".join('"' + t.replace('"', '""') + '"' for t in found) if found else expr

    # -- ranking ------------------------------------------------------------------------------

    def _rank(
        self, q: Query, sources: dict[str, _Source], method: str, results: SearchResults
    ) -> list[tuple[str, float]]:
        if not q.words:
            items = chunk_store.recent_items(
                self.db,
                sorted(q.kinds),
                2000,
                tags=q.tags,
                after=q.after,
                before=q.before,
                box=bounding_box(place_center(q.near), NEAR_KM * 1.5) if q.near else None,
            )
            return [(item, 1.0 / (1 + i)) for i, item in enumerate(items)]
        raw = {name: src.scores for name, src in sources.items() if src.scores}
        if method == "bm25":
            fused = dict(raw.get("keyword") or raw.get("trigram") or {})
        elif method == "trigram":
            fused = dict(raw.get("trigram", {}))
        elif method == "dense":
            fused = dict(raw.get("dense", {}))
            for item, score in raw.get("photo", {}).items():
                fused[item] = max(fused.get(item, -1.0), score)
        else:
            meaning = MeaningResult(models=results.embedders)
            raw, weights, how = self._meaning.fusion(
                q.words, q.text, raw, meaning, photos_only=q.kinds == {"photo"}
            )
            if method == "rrf":  # the naive baseline: unweighted RRF of keywords and meaning
                fused = fuse(
                    {k: raw[k] for k in ("keyword", "dense") if k in raw},
                    {"keyword": 1.0, "dense": 1.0},
                    "rrf",
                )
            else:
                fused = fuse(raw, weights, how)
        kept = {k: v for k, v in fused.items() if v > 0 or method == "dense"}
        return ranked(kept, _tie_keys(sources))

    def _filter(
        self, q: Query, ranked: list[tuple[str, float]], facts: dict[str, ItemFacts]
    ) -> list[tuple[str, float]]:
        if not q.has_filters:
            return ranked
        tagged = chunk_store.items_with_all_tags(self.db, q.tags) if q.tags else None
        center = place_center(q.near) if q.near else None
        out = []
        for item_id, score in ranked:
            f = facts[item_id]
            if q.kinds and f.kind not in q.kinds:
                continue
            if tagged is not None and item_id not in tagged:
                continue
            if q.after or q.before:
                when = f.taken_at or datetime.fromtimestamp(f.created_at).isoformat()
                if q.after and when[: len(q.after)] < q.after:
                    continue
                if q.before and when[: len(q.before)] >= q.before:
                    continue
            far = center is not None and (
                f.lat is None or f.lon is None or distance_km(center, (f.lat, f.lon)) > NEAR_KM
            )
            if far:
                continue
            out.append((item_id, score))
        return out

    def _require_phrases(
        self, q: Query, ranked: list[tuple[str, float]], sources: dict[str, _Source]
    ) -> list[tuple[str, float]]:
        wanted = [" ".join(p.lower().split()) for p in q.phrases]
        out = []
        for item_id, score in ranked[:500]:
            texts = [
                " ".join(c.text.lower().split()) for c in chunk_store.chunks_of(self.db, item_id)
            ]
            if all(any(p in t for t in texts) for p in wanted):
                out.append((item_id, score))
        return out

    # -- presenting ---------------------------------------------------------------------------

    def _hits(
        self,
        q: Query,
        ranked: list[tuple[str, float]],
        sources: dict[str, _Source],
        facts: dict[str, ItemFacts],
    ) -> list[SearchHit]:
        best_ids: dict[str, int | None] = {}
        for item_id, _ in ranked:
            best_ids[item_id] = next(
                (
                    sources[s].best[item_id]
                    for s in ("keyword", "trigram", "dense")
                    if s in sources
                    and item_id in sources[s].best
                    and sources[s].best[item_id] is not None
                ),
                None,
            )
        chunk_rows = chunk_store.get_chunks(self.db, [c for c in best_ids.values() if c])
        surface = fts_terms(q.words).surface + [p.lower() for p in q.phrases] if q.words else []
        hits = []
        for item_id, score in ranked:
            f = facts[item_id]
            chunk = chunk_rows.get(best_ids[item_id] or -1)
            if chunk is None:
                chunk = first_chunk(self.db, item_id)
            if q.phrases and chunk is not None:
                chunk = chunk_with_phrase(self.db, item_id, q.phrases) or chunk
            snippet, highlights = make_snippet(chunk.text if chunk else "", surface)
            hits.append(
                SearchHit(
                    item_id=item_id,
                    kind=f.kind,
                    title=f.title,
                    snippet=snippet,
                    highlights=highlights,
                    reasons=self._reasons(q, item_id, chunk, sources),
                    score=round(float(score), 6),
                    chunk_id=chunk.id if chunk else None,
                    thumb_path=self._thumb(f),
                )
            )
        return hits

    def _reasons(
        self, q: Query, item_id: str, chunk: ChunkRow | None, sources: dict[str, _Source]
    ) -> list[str]:
        reasons = []
        keyword = any(item_id in sources[s].scores for s in ("keyword", "trigram") if s in sources)
        if keyword:
            reasons.append("keyword")
        dense = sources.get("dense")
        if dense and dense.scores and item_id in dense.scores:
            top = max(dense.scores.values())
            if dense.scores[item_id] >= top - 0.1:
                reasons.append("meaning")
        photo = sources.get("photo")
        if photo and item_id in photo.scores and "meaning" not in reasons:
            reasons.append("meaning")
        if chunk is not None and chunk.source == "ocr" and keyword:
            reasons.append("photo text")
        if q.tags or (chunk is not None and chunk.source == "tags" and keyword):
            reasons.append("tag")
        if q.near:
            reasons.append("place")
        if q.after or q.before:
            reasons.append("time")
        return reasons or (["filter"] if q.has_filters else [])

    def _thumb(self, f: ItemFacts) -> str | None:
        if f.kind != "photo" or not f.sha256:
            return None
        path = self.library.photos.thumb_path(f.sha256)
        return str(path)


def _tie_keys(sources: dict[str, _Source]) -> dict[str, int]:
    """item → the lowest id among its best chunks in every source (for stable tie-breaks)."""
    keys: dict[str, int] = {}
    for src in sources.values():
        for item_id, chunk_id in src.best.items():
            if chunk_id is not None and chunk_id < keys.get(item_id, NO_CHUNK):
                keys[item_id] = chunk_id
    return keys
