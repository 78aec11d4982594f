"""Retrieval for the assistant: search hits → the best chunks, scored for relevance.

The hybrid searcher ranks items with per-query normalized scores (the best hit is always
near 1), so its score cannot tell "the notes contain this" from "this is the least bad
note". Each candidate chunk therefore also gets two absolute signals: the share of the
question's words (Korean by stem) found in it, and — when the library has vectors — the
meaning similarity of its item. A question is *grounded* when some chunk passes a
threshold on either; otherwise the assistant says the notes do not contain the answer.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from core.assistant.photo_chat import photo_source_text
from core.assistant.prompting import PromptSource
from core.search.fusion import FusionConfig
from core.search.meaning import level
from core.search.query import fts_terms, parse_query
from storage import chunks as chunk_store
from storage.chunks import ChunkRow

if TYPE_CHECKING:
    from core.library import Library
    from core.search.searcher import Searcher, SearchHit

SEARCH_HITS = 10
MIN_COVERAGE = 0.4  # share of question words in a chunk for "grounded"
# Meaning thresholds, set as USE-m3 cosines (0.45 for "grounded", 0.35 to be kept) and used as
# meaning levels (core.search.meaning.level), so they hold for e5 and mid-upgrade libraries too
MIN_DENSE = level(FusionConfig(), "usem3", "dense", 0.45)
KEEP_COVERAGE = 0.2  # weaker candidates are not shown to the model at all
KEEP_DENSE = level(FusionConfig(), "usem3", "dense", 0.35)
RELATIVE_COVERAGE = 0.7  # …and those covering much less of the question than the best
MAX_QUERY_CHARS = 1000
_SYNTAX = re.compile(r'[:"*()]')
# Question words and answer-type nouns: a passage holding the answer rarely contains them,
# so they do not count against its coverage ("어디", "인물은?", "which year").
_QUESTION_TEXT = (
    "어디 무엇 무엇인가 무엇일까 언제 누구 누가 어떻게 어떤 왜 몇 무슨 "
    "어느 뭐 뭔가 있나 있나요 인가 인가요 일까 했나 했는가 하는가 되는가 "
    "것은 것 이름 날 날짜 연도 해 인물 장소 사람 곳 이유 방법 얼마 "
    "얼마나 "
    "you your me my i we our please tell know about come comes much many year date "
    "name place person kind sort according notes note number missing claim statement "
    "say says said mention mentioned "
)
_QUESTION_WORDS = frozenset(_QUESTION_TEXT.split())


@dataclass
class Source:
    number: int
    item_id: str
    kind: str
    title: str
    heading: str
    chunk_id: int | None
    start: int
    end: int
    text: str
    score: float = 0.0
    coverage: float = 0.0
    dense: float | None = None

    @property
    def key(self) -> tuple[str, int | None]:
        return (self.item_id, self.chunk_id)

    def prompt(self) -> PromptSource:
        return PromptSource(self.number, self.title, self.heading, self.text)

    def with_text(self, text: str) -> Source:
        return replace(self, text=text)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Source:
        fields = cls.__dataclass_fields__
        clean = {k: v for k, v in data.items() if k in fields}
        clean.setdefault("number", 0)
        for k in ("item_id", "kind", "title", "heading", "text"):
            clean.setdefault(k, "")
        clean.setdefault("chunk_id", None)
        clean.setdefault("start", 0)
        clean.setdefault("end", 0)
        return cls(**clean)

    @classmethod
    def from_hit(cls, number: int, hit: SearchHit) -> Source:
        return cls(number, hit.item_id, hit.kind, hit.title, "", hit.chunk_id, 0, 0,
                   hit.snippet, float(hit.score))  # fmt: skip


@dataclass
class Found:
    sources: list[Source]
    grounded: bool
    query: str


def clean_query(text: str) -> str:
    """A question as a plain search query (no filter syntax, bounded length)."""
    return " ".join(_SYNTAX.sub(" ", text).split())[:MAX_QUERY_CHARS]


def query_terms(text: str) -> list[str]:
    words = parse_query(clean_query(text)).words
    terms = fts_terms(words).surface if words else []
    kept = [t for t in terms if t not in _QUESTION_WORDS and t.rstrip("?은는이가을를") not in
            _QUESTION_WORDS]  # fmt: skip
    return kept or terms


def coverage(terms: list[str], text: str) -> float:
    if not terms:
        return 0.0
    low = text.lower()
    return sum(1 for t in terms if t and t in low) / len(terms)


def _close_to_best(sources: list[Source], must: Collection[str] = ()) -> list[Source]:
    """Drop sources far weaker than the best one: a small model is easily led astray by a
    neighbouring paragraph, and every source costs prompt time. The items in ``must`` (the
    instant answer's: the sentence holding the question's key words) are never dropped."""
    if not sources:
        return sources
    best = max(s.coverage for s in sources)
    return [s for s in sources
            if s.coverage >= RELATIVE_COVERAGE * best or (s.dense or 0.0) >= MIN_DENSE
            or s.item_id in must]  # fmt: skip


class Retriever:
    def __init__(self, library: Library, searcher: Searcher | None = None) -> None:
        self.library = library
        self.db = library.db
        self._searcher = searcher

    @property
    def searcher(self) -> Searcher:
        if self._searcher is None:
            from core.search.searcher import Searcher

            self._searcher = Searcher(self.library)
        return self._searcher

    def retrieve(
        self, query: str, *, also: str | None = None, must: dict[str, int] | None = None
    ) -> Found:
        """Candidate chunks for ``query`` (and ``also``: the raw follow-up), best first.
        ``must`` maps item ids that are always kept to the character offset whose chunk to
        use (the instant answer's sentence). A photo's text is its OCR as laid out + fields."""
        must = must or {}
        q = clean_query(query)
        hits = list(self.searcher.search(q, limit=SEARCH_HITS).hits) if q else []
        dense = self._dense_scores(q) if hits else {}
        if also:
            extra = clean_query(also)
            seen = {h.item_id for h in hits}
            hits += [h for h in self.searcher.search(extra, limit=4).hits if h.item_id not in seen]
        term_sets = [query_terms(q)] + ([query_terms(also)] if also else [])
        rows = chunk_store.get_chunks(self.db, [h.chunk_id for h in hits if h.chunk_id])
        out: list[Source] = []
        seen_text: set[str] = set()
        grounded = False
        for hit in hits:
            chunk = self._best_chunk(hit, rows.get(hit.chunk_id or -1), term_sets[0],
                                     must.get(hit.item_id))  # fmt: skip
            if chunk is None:
                continue
            if hit.kind == "photo":
                text = photo_source_text(self.library, hit.item_id)
                chunk = replace(chunk, text=text or chunk.text, start=0, end=0)
            digest = hashlib.sha1(" ".join(chunk.text.split()).lower().encode()).hexdigest()
            if digest in seen_text:
                continue
            where = f"{hit.title}\n{chunk.heading}\n{chunk.text}"
            cov = max(coverage(terms, where) for terms in term_sets)
            sim = dense.get(hit.item_id)
            strong = cov >= MIN_COVERAGE or (sim is not None and sim >= MIN_DENSE)
            weak = cov >= KEEP_COVERAGE or (sim is not None and sim >= KEEP_DENSE)
            if not (strong or weak or hit.item_id in must):
                continue
            grounded = grounded or strong
            seen_text.add(digest)
            out.append(Source(0, hit.item_id, hit.kind, hit.title, chunk.heading, chunk.id,
                              chunk.start, chunk.end, chunk.text, float(hit.score), cov,
                              sim))  # fmt: skip
        out = _close_to_best(out, must)
        for i, s in enumerate(out, 1):
            s.number = i
        return Found(out, grounded, q)

    def _dense_scores(self, q: str) -> dict[str, float]:
        try:
            return self.searcher.meaning_levels(q)
        except (AttributeError, ValueError):
            return {}

    def _best_chunk(
        self, hit: SearchHit, chunk: ChunkRow | None, terms: list[str], at: int | None = None
    ) -> ChunkRow | None:
        """The hit's chunk, or — when it is only a title/tags line or missing — the item's
        chunk that covers the question best; the chunk holding offset ``at`` when given."""
        if at is not None and hit.kind != "photo":
            for c in chunk_store.chunks_of(self.db, hit.item_id):
                if c.source == "body" and c.start <= at < c.end:
                    return c
        if chunk is not None and chunk.source not in ("title", "tags"):
            return chunk
        candidates = [c for c in chunk_store.chunks_of(self.db, hit.item_id)
                      if c.source not in ("title", "tags")]  # fmt: skip
        if not candidates:
            return chunk
        return max(candidates, key=lambda c: (coverage(terms, c.text), -c.ord))

    def note_sources(self, note_ids: list[str], query: str) -> list[Source]:
        """The best chunk of each given note for ``query`` (photo chat: linked notes)."""
        terms = query_terms(query)
        facts = chunk_store.item_facts(self.db, note_ids)
        out: list[Source] = []
        for note_id in note_ids:
            f = facts.get(note_id)
            chunks = [c for c in chunk_store.chunks_of(self.db, note_id) if c.source == "body"]
            if f is None or not chunks:
                continue
            best = max(chunks, key=lambda c: (coverage(terms, c.text), -c.ord))
            out.append(Source(0, note_id, f.kind, f.title, best.heading, best.id, best.start,
                              best.end, best.text, 0.0, coverage(terms, best.text)))  # fmt: skip
        return out

    def photo_search(self, terms: str, limit: int = 12) -> list[SearchHit]:
        q = clean_query(terms)
        if not q:
            return []
        return list(self.searcher.search(f"kind:photo {q}", limit=limit).hits)
