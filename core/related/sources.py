"""The recommender's candidate sources, each a ranked ``(item id, score, reason)`` list:
content neighbours (item vectors), the Pixie walk, keyphrase searches and recency."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from core.errors import USER_ERRORS
from core.related import keyphrases
from core.related.blend import Ranked
from core.related.vectors import ItemVectors
from storage import events as store
from storage.db import Database

if TYPE_CHECKING:
    from core.related.pixie import LibraryGraph
    from core.related.recommender import Recommender

WALK_REASONS = {
    "session": "opened together",
    "next": "opened next",
    "query": "clicked from the same search",
    "link": "linked",
    "tag": "same tag",
    "day": "same day",
    "place": "same place",
}


def content(vecs: ItemVectors, item_id: str, k: int = 50) -> Ranked:
    """Nearest items by cosine of their item vectors."""
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
    graph: LibraryGraph, item_id: str, session_items: Sequence[str] = (), k: int = 50
) -> Ranked:
    """Pixie walk from the item and (weaker) the last few items opened before it.
    ``graph``: the :class:`core.related.pixie.LibraryGraph`."""
    seeds: dict[str, float] = {item_id: 1.0}
    for j, other in enumerate(s for s in session_items if s != item_id):
        if j >= 4:
            break
        seeds.setdefault(other, 0.5 / (1 + j))
    result = graph.graph.walk(seeds, top=k)
    ranked = sorted(result.scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
    direct = graph.graph.neighbours(item_id)
    out = []
    for other, score in ranked:
        kind = direct.get(other)
        out.append((other, score, WALK_REASONS[kind] if kind else "nearby in your library"))
    return out


def recent(graph: LibraryGraph, k: int = 50) -> Ranked:
    """Recently changed items (the cold-start fallback)."""
    return [(i, 1.0 / (1 + r), "recent") for r, i in enumerate(graph.recent[:k])]


def item_text(db: Database, item_id: str, kind: str, title: str) -> str:
    """The text keyphrases are extracted from: title + body, or a photo's OCR text and caption."""
    parts = [title]
    body = store.note_body(db, item_id) if kind == "note" else None
    if body:
        parts.append(body)
    else:
        parts.extend(t for _, t in store.item_texts(db, item_id))
        caption = store.photo_caption(db, item_id) if kind == "photo" else None
        if caption:
            parts.append(caption)
    return "\n".join(p for p in parts if p)


def keyword_search(
    rec: Recommender, phrases: Sequence[keyphrases.Keyphrase], *, exclude: str, k: int
) -> Ranked:
    """Run each keyphrase as a search (the app's Searcher when present, else FTS5).
    ``rec``: the :class:`core.related.recommender.Recommender`
    (its searcher is created and kept there)."""
    scores: dict[str, float] = {}
    reasons: dict[str, str] = {}
    for phrase in phrases:
        weight = max(phrase.score, 0.05)
        for rank, other in enumerate(search_items(rec, phrase.text, k)):
            if other == exclude:
                continue
            gain = weight / (1 + rank)
            scores[other] = scores.get(other, 0.0) + gain
            if gain >= scores[other] / 2:
                reasons[other] = f"about “{phrase.text}”"
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
    return [(i, s, reasons.get(i, "shared keywords")) for i, s in ranked]


def search_items(rec: Recommender, phrase: str, k: int) -> list[str]:
    clean = " ".join(w for w in phrase.replace(":", " ").replace('"', " ").split())
    if not clean:
        return []
    if rec.use_searcher:
        if rec._searcher is None:
            from core.search.searcher import Searcher

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
