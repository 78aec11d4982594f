"""Pixie-style random walks with restarts over a bipartite item ↔ context graph.

Contexts are what ties items together in the user's behaviour and data: a browsing session
(items opened in it), one step of a session (item → next item), a search query (items clicked
from it), a wikilink (its two ends), a tag, a day or a place a photo was taken. A walk goes
item → context → item, restarting at the seed items with probability ``alpha`` after each hop;
items are ranked by how often walkers visit them (Eksombatchai et al., "Pixie", WWW 2018).
Several seeds (the opened item plus earlier items of the session) each get their own walkers and
their visit counts are combined with Pixie's multi-hit boost ``(Σ sqrt(v_s))²``.

All walkers move together as numpy arrays, so a walk of 10,000 steps costs about a millisecond.
Context weights decay with age (recent sessions count more: short-term interest), and each
context's pull is divided by the square root of its size so that a tag on half the library does
not drown out a two-item session.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from storage.db import Database

CONTEXT_KINDS = ("session", "next", "query", "link", "tag", "day", "place")

#: How much each kind of context pulls, before recency and size normalisation.
DEFAULT_KIND_WEIGHTS: dict[str, float] = {
    "session": 1.0,
    "next": 2.0,
    "query": 1.0,
    "link": 1.5,
    "tag": 0.6,
    "day": 0.5,
    "place": 0.4,
}


@dataclass
class GraphBuilder:
    """Collects contexts, then freezes them into an :class:`ItemGraph`."""

    kind_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_KIND_WEIGHTS))
    _items: dict[str, int] = field(default_factory=dict)
    _ctx_kind: list[int] = field(default_factory=list)
    _ctx_weight: list[float] = field(default_factory=list)
    _members: list[list[tuple[int, float]]] = field(default_factory=list)
    _ctx_key: dict[tuple[str, str], int] = field(default_factory=dict)

    def item(self, item_id: str) -> int:
        idx = self._items.get(item_id)
        if idx is None:
            idx = self._items[item_id] = len(self._items)
        return idx

    def add_items(self, item_ids: Iterable[str]) -> None:
        for item_id in item_ids:
            self.item(item_id)

    def add_context(
        self, kind: str, key: str, members: Iterable[tuple[str, float] | str], weight: float = 1.0
    ) -> None:
        """Add (or extend) the context ``kind:key`` with members (item id or (id, weight))."""
        if kind not in CONTEXT_KINDS:
            raise ValueError(f"unknown context kind {kind}")
        idx = self._ctx_key.get((kind, key))
        if idx is None:
            idx = self._ctx_key[(kind, key)] = len(self._ctx_kind)
            self._ctx_kind.append(CONTEXT_KINDS.index(kind))
            self._ctx_weight.append(float(weight))
            self._members.append([])
        else:
            self._ctx_weight[idx] = max(self._ctx_weight[idx], float(weight))
        bucket = self._members[idx]
        for m in members:
            item_id, w = (m, 1.0) if isinstance(m, str) else m
            bucket.append((self.item(item_id), float(w)))

    def build(self) -> ItemGraph:
        n_items = len(self._items)
        src: list[int] = []
        dst: list[int] = []
        w_item_to_ctx: list[float] = []
        w_ctx_to_item: list[float] = []
        kinds = np.asarray(self._ctx_kind, dtype=np.int8)
        for c, members in enumerate(self._members):
            merged: dict[int, float] = {}
            for i, w in members:
                merged[i] = merged.get(i, 0.0) + w
            if len(merged) < 2:
                continue  # a context with one item leads nowhere
            kw = self.kind_weights.get(CONTEXT_KINDS[self._ctx_kind[c]], 1.0)
            pull = kw * self._ctx_weight[c] / math.sqrt(len(merged))
            for i, w in merged.items():
                src.append(i)
                dst.append(c)
                w_item_to_ctx.append(pull * w)
                w_ctx_to_item.append(w)
        ids = [""] * n_items
        for item_id, i in self._items.items():
            ids[i] = item_id
        return ItemGraph.from_edges(
            ids,
            kinds,
            np.asarray(src, np.int64),
            np.asarray(dst, np.int64),
            np.asarray(w_item_to_ctx, np.float64),
            np.asarray(w_ctx_to_item, np.float64),
        )


class _Csr:
    """Rows with weighted edges, sampled for many walkers at once via one global cumsum."""

    def __init__(self, n_rows: int, rows: np.ndarray, cols: np.ndarray, w: np.ndarray) -> None:
        order = np.argsort(rows, kind="stable")
        self.cols = cols[order]
        weights = w[order]
        counts = np.bincount(rows, minlength=n_rows) if len(rows) else np.zeros(n_rows, np.int64)
        self.indptr = np.zeros(n_rows + 1, np.int64)
        np.cumsum(counts, out=self.indptr[1:])
        self.cum = np.cumsum(weights)
        starts = np.concatenate([[0.0], self.cum])
        self.row_base = starts[self.indptr[:-1]]
        self.row_total = starts[self.indptr[1:]] - self.row_base
        self.degree = counts

    def sample(self, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One weighted neighbour for each row (rows must have degree > 0)."""
        r = self.row_base[rows] + u * self.row_total[rows]
        # Sorted keys make numpy's binary searches cache-friendly (3-4x faster here).
        order = np.argsort(r)
        e = np.empty(len(r), np.int64)
        e[order] = np.searchsorted(self.cum, r[order], side="right")
        e = np.clip(e, self.indptr[rows], self.indptr[rows + 1] - 1)
        return self.cols[e]


@dataclass
class WalkResult:
    """Visit-based scores of items reached from the seeds (seeds excluded)."""

    scores: dict[str, float]
    #: item id → {context kind: visits through that kind}
    via: dict[str, dict[str, int]]
    steps: int


class ItemGraph:
    def __init__(self, item_ids: list[str], ctx_kinds: np.ndarray, i2c: _Csr, c2i: _Csr) -> None:
        self.item_ids = item_ids
        self.index = {item_id: i for i, item_id in enumerate(item_ids)}
        self.ctx_kinds = ctx_kinds
        self.i2c = i2c
        self.c2i = c2i

    @classmethod
    def from_edges(
        cls,
        item_ids: list[str],
        ctx_kinds: np.ndarray,
        items: np.ndarray,
        ctxs: np.ndarray,
        w_i2c: np.ndarray,
        w_c2i: np.ndarray,
    ) -> ItemGraph:
        n_ctx = len(ctx_kinds)
        return cls(
            item_ids,
            ctx_kinds,
            _Csr(len(item_ids), items, ctxs, w_i2c),
            _Csr(n_ctx, ctxs, items, w_c2i),
        )

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_edges(self) -> int:
        return len(self.i2c.cols)

    def degree(self, item_id: str) -> int:
        i = self.index.get(item_id)
        return 0 if i is None else int(self.i2c.degree[i])

    def neighbours(self, item_id: str, *, budget: int = 20_000) -> dict[str, str]:
        """Items sharing a context with ``item_id`` → the kind of the strongest shared one
        (looks at up to ``budget`` memberships, so a very popular item stays cheap)."""
        i = self.index.get(item_id)
        if i is None:
            return {}
        best: dict[str, tuple[float, str]] = {}
        lo, hi = self.i2c.indptr[i], self.i2c.indptr[i + 1]
        cum = self.i2c.cum
        for e in range(lo, hi):
            ctx = self.i2c.cols[e]
            pull = float(cum[e] - (cum[e - 1] if e else 0.0))
            kind = CONTEXT_KINDS[int(self.ctx_kinds[ctx])]
            members = self.c2i.cols[self.c2i.indptr[ctx] : self.c2i.indptr[ctx + 1]]
            budget -= len(members)
            if budget < 0:
                break
            for j in members:
                other = self.item_ids[j]
                if other != item_id and pull > best.get(other, (-1.0, ""))[0]:
                    best[other] = (pull, kind)
        return {other: kind for other, (_, kind) in best.items()}

    def walk(
        self,
        seeds: Mapping[str, float] | Sequence[str],
        *,
        walkers: int = 1200,
        steps: int = 8,
        alpha: float = 0.3,
        seed: int = 0,
        top: int = 200,
        explain: bool = False,
    ) -> WalkResult:
        """Random walks with restarts from ``seeds`` (item id → weight)."""
        if not isinstance(seeds, Mapping):
            seeds = {s: 1.0 for s in seeds}
        seed_rows = [
            (self.index[s], w)
            for s, w in seeds.items()
            if s in self.index and w > 0 and self.i2c.degree[self.index[s]] > 0
        ]
        if not seed_rows or walkers <= 0 or steps <= 0:
            return WalkResult({}, {}, 0)
        rng = np.random.default_rng(seed)
        n = self.n_items
        weights = np.asarray([w for _, w in seed_rows], np.float64)
        per_seed = np.maximum(1, np.round(walkers * weights / weights.sum())).astype(np.int64)
        origin_seed = np.repeat(np.arange(len(seed_rows)), per_seed)
        origin = np.asarray([r for r, _ in seed_rows], np.int64)[origin_seed]
        pos = origin.copy()
        n_seeds = len(seed_rows)
        n_kinds = len(CONTEXT_KINDS)
        w = len(pos)
        u = rng.random((steps, 3, w))
        hops = np.empty((steps, w), np.int64)
        kinds = np.empty((steps, w), np.int64)
        for step in range(steps):
            ctx = self.i2c.sample(pos, u[step, 0])
            nxt = self.c2i.sample(ctx, u[step, 1])
            hops[step] = nxt
            kinds[step] = self.ctx_kinds[ctx]
            pos = np.where(u[step, 2] < alpha, origin, nxt)
        visits = np.bincount((origin_seed * n + hops).ravel(), minlength=n_seeds * n)
        per_item = visits.reshape(n_seeds, n)
        boosted = np.sqrt(per_item).sum(axis=0) ** 2
        boosted[origin] = 0.0  # the seeds themselves are not recommendations
        total = float(boosted.sum())
        hit = np.flatnonzero(boosted)
        if len(hit) > top:
            hit = hit[np.argsort(-boosted[hit], kind="stable")[:top]]
        scores = {self.item_ids[i]: float(boosted[i]) / total for i in hit} if total else {}
        via_out: dict[str, dict[str, int]] = {}
        if explain:  # which kind of context each visit came through (for tests and tuning)
            via = np.bincount((kinds * n + hops).ravel(), minlength=n_kinds * n)
            via2 = via.reshape(n_kinds, n)
            for i in hit:
                via_out[self.item_ids[i]] = {
                    CONTEXT_KINDS[k]: int(via2[k, i]) for k in range(n_kinds) if via2[k, i]
                }
        return WalkResult(scores, via_out, int(len(pos) * steps))


# -- the library's graph ----------------------------------------------------------------------

DAY = 86_400.0


@dataclass
class LibraryGraph:
    """The walk graph of one library plus what the recommender derives from the same reads."""

    graph: ItemGraph
    recent: list[str]  # live items, most recently changed first
    preference: dict[str, float]  # item → long-term return score in [0, 1]
    tag_preference: dict[str, float]  # tag → [0, 1]
    item_tags: dict[str, list[str]]
    built_at: float
    n_sessions: int


def build_library_graph(
    db: Database,
    *,
    now: float,
    half_life_days: float = 14.0,
    horizon_days: float = 365.0,
    preference_days: float = 90.0,
    kind_weights: Mapping[str, float] | None = None,
    use_events: bool = True,
) -> LibraryGraph:
    """Read events, links, tags and photo metadata and build the item ↔ context graph."""
    from storage import events as store

    builder = GraphBuilder(kind_weights=dict(kind_weights or DEFAULT_KIND_WEIGHTS))
    live = store.live_items(db)
    builder.add_items(i.id for i in live)
    rate = math.log(2) / (half_life_days * DAY)

    def recency(ts: float) -> float:
        return max(0.02, math.exp(-rate * max(0.0, now - ts)))

    rows = (
        store.item_events_compact(db, ("open", "click"), since=now - horizon_days * DAY)
        if use_events
        else []
    )
    sessions: dict[str, list[tuple[float, str]]] = {}
    queries: dict[str, list[tuple[float, str]]] = {}
    days: dict[str, set[int]] = {}
    for ts, sid, item_id, query in rows:
        sessions.setdefault(sid, []).append((ts, item_id))
        if query and query.strip():
            queries.setdefault(" ".join(query.lower().split()), []).append((ts, item_id))
        if ts >= now - preference_days * DAY:
            days.setdefault(item_id, set()).add(int(ts // DAY))
    for sid, opened in sessions.items():
        weight = recency(opened[-1][0])
        builder.add_context("session", sid, [i for _, i in opened], weight)
        previous = None
        for _, item_id in opened:
            if previous and previous != item_id:
                a, b = sorted((previous, item_id))
                builder.add_context("next", f"{a}|{b}", [a, b], weight)
            previous = item_id
    for query, clicked in queries.items():
        builder.add_context("query", query, [i for _, i in clicked], recency(clicked[-1][0]))
    for src, dst in store.live_links(db):
        a, b = sorted((src, dst))
        builder.add_context("link", f"{a}|{b}", [a, b])
    item_tags: dict[str, list[str]] = {}
    for item_id, tag in store.live_tags(db):
        builder.add_context("tag", tag, [item_id])
        item_tags.setdefault(item_id, []).append(tag)
    for item_id, taken_at, lat, lon in store.photo_day_place(db):
        if taken_at:
            builder.add_context("day", str(taken_at)[:10], [item_id])
        if lat is not None and lon is not None:
            builder.add_context("place", f"{round(lat, 2)},{round(lon, 2)}", [item_id])

    # Long-term preference: coming back to an item on several different days.
    raw = {i: math.log1p(len(d) - 1) for i, d in days.items() if len(d) > 1}
    top = max(raw.values(), default=0.0)
    preference = {i: v / top for i, v in raw.items()} if top else {}
    tag_raw: dict[str, float] = {}
    for item_id, value in preference.items():
        for tag in item_tags.get(item_id, []):
            tag_raw[tag] = tag_raw.get(tag, 0.0) + value
    tag_top = max(tag_raw.values(), default=0.0)
    tag_pref = {t: v / tag_top for t, v in tag_raw.items()} if tag_top else {}
    recent = [i.id for i in sorted(live, key=lambda i: (-i.updated_at, i.id))]
    return LibraryGraph(
        builder.build(), recent, preference, tag_pref, item_tags, now, len(sessions)
    )
