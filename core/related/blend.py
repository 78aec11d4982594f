"""Blending the recommender's candidate sources into one ranked, diversified list.

Each source's ranked list is normalised (score share and reciprocal rank), weighted and summed
per item; a light multiplicative boost favours items and tags the user returns to; greedy MMR
over the item vectors then picks the list so near-duplicates never fill the panel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from core.related.vectors import ItemVectors
from storage import events as store
from storage.db import Database

if TYPE_CHECKING:
    from core.related.pixie import LibraryGraph

Ranked = list[tuple[str, float, str]]  # (item id, score, reason), best first


@dataclass(frozen=True)
class Recommendation:
    item_id: str
    kind: str
    title: str
    score: float
    reasons: list[str]
    sources: tuple[str, ...] = field(default=())


@dataclass
class Candidate:
    score: float = 0.0
    reasons: dict[str, str] = field(default_factory=dict)  # source → reason text
    parts: dict[str, float] = field(default_factory=dict)  # source → share of the score


def fuse(
    gathered: Mapping[str, Ranked],
    banned: set[str],
    weights: Mapping[str, float],
    graph: LibraryGraph | None,
) -> dict[str, Candidate]:
    """Weighted sum of the sources' normalised scores and ranks, then the preference boost
    (``graph``: the :class:`core.related.pixie.LibraryGraph`, or None before it is built)."""
    fused: dict[str, Candidate] = {}
    for source, ranked in gathered.items():
        ranked = [r for r in ranked if r[0] not in banned]
        if not ranked:
            continue
        top = max(s for _, s, _ in ranked) or 1.0
        weight = weights.get(source, 0.0)
        for rank, (other, score, reason) in enumerate(ranked):
            cand = fused.setdefault(other, Candidate())
            norm = max(0.0, score / top) if top > 0 else 0.0
            part = weight * (0.5 * norm + 0.5 / (1 + rank))
            cand.score += part
            cand.parts[source] = part
            cand.reasons[source] = reason
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


def finish(
    db: Database,
    fused: dict[str, Candidate],
    vectors: ItemVectors | None,
    limit: int,
    diversity: float,
) -> list[Recommendation]:
    """The best live candidates, diversified, as recommendations with their reasons
    (strongest source first)."""
    pool = sorted(fused.items(), key=lambda kv: (-kv[1].score, kv[0]))[: limit * 4]
    live = store.briefs(db, [i for i, _ in pool])
    pool = [(i, c) for i, c in pool if i in live]
    picked = mmr(pool, vectors, limit, diversity)
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


def mmr(
    pool: list[tuple[str, Candidate]], vectors: ItemVectors | None, limit: int, diversity: float
) -> list[tuple[str, Candidate]]:
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
