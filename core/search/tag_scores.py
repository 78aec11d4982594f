"""Keyword scores of photo tag lines without BM25's short-document bonus.

A photo's tags are one short chunk (``#dog #animal yellow green``). FTS5's BM25 divides each
term's weight by ``1 − b + b·len/avglen`` (b = 0.75), so the shortest tag line in the library
scores up to 2.2× a tag line of average length for the same matched tag: on Flickr8k one photo
tagged ``#dog #animal … yellow green`` was the top keyword hit for 4 % of all 2,500 captions,
whatever else they said. A tag line is a set of labels, not prose whose length dilutes a word,
so its score here is BM25 with b = 0: the sum of the matched query terms' IDF (× the usual
term-frequency saturation), the same for a photo with three tags as for one with twelve.
Everything else keeps FTS5's BM25.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

from storage import chunks as chunk_store
from storage.chunks import ChunkRow
from storage.db import Database

K1 = 1.2  # FTS5's bm25() default
TAG_SOURCES = frozenset({"tags"})
_TOKEN = re.compile(r"\w+", re.UNICODE)

Row = tuple[int, str, float]  # (chunk id, item id, score)


def fts_keys(exprs: Sequence[str]) -> list[tuple[str, bool]]:
    """(term, is prefix) of quoted FTS5 terms (``"dog"``, ``"rock"*``)."""
    return [(e.rstrip("*").strip('"').replace('""', '"'), e.endswith("*")) for e in exprs]


def idf(total: int, containing: int) -> float:
    """FTS5's IDF: log((N − n + 0.5) / (n + 0.5)), at least 1e-6."""
    value = math.log((total - containing + 0.5) / (containing + 0.5))
    return value if value > 0 else 1e-6


def term_frequencies(text: str, terms: Sequence[tuple[str, bool]]) -> list[int]:
    """How often each (term, is_prefix) occurs among the text's unicode61-style tokens."""
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    return [
        sum(1 for tok in tokens if tok == term or (prefix and tok.startswith(term)))
        for term, prefix in terms
    ]


def rescore_tag_lines(
    db: Database,
    rows: list[Row],
    terms: Sequence[tuple[str, bool]],
    total_chunks: Callable[[], int],
) -> list[Row]:
    """``rows`` with every tag-line chunk's score replaced by its length-free BM25, best
    first. ``terms`` are the query's keyword terms (text, is prefix) as FTS5 matched them."""
    if not rows or not terms:
        return rows
    texts: dict[int, ChunkRow] = chunk_store.get_chunks(db, [r[0] for r in rows])
    tag_rows = {r[0] for r in rows if r[0] in texts and texts[r[0]].source in TAG_SOURCES}
    if not tag_rows:
        return rows
    total = total_chunks()
    weights = [idf(total, n) for n in chunk_store.term_doc_counts(db, list(terms))]
    out = []
    for chunk_id, item_id, score in rows:
        if chunk_id in tag_rows:
            tfs = term_frequencies(texts[chunk_id].text, terms)
            free = sum(w * tf * (K1 + 1) / (tf + K1) for w, tf in zip(weights, tfs, strict=True))
            # 0: FTS5 matched a form this tokenizer splits differently; keep FTS5's score
            score = free if free > 0 else score
        out.append((chunk_id, item_id, score))
    out.sort(key=lambda r: (-r[2], r[0]))
    return out
