"""Title matching for the search palette when the full :class:`core.search.searcher.Searcher` is not
available (or has no index yet). Hits have the same fields as ``core.search.searcher.SearchHit``.

Titles (and photo thumbnail paths) are cached and refreshed when the library's item count or
newest change moves, so a keystroke costs a scan of the cached titles in memory.
"""

from __future__ import annotations

import heapq
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.library import Library

_REFRESH_SECONDS = 2.0
_MAX_ITEMS = 200_000


@dataclass(frozen=True)
class QuickHit:
    item_id: str
    kind: str
    title: str
    snippet: str
    highlights: list[tuple[int, int]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=lambda: ["title"])
    score: float = 0.0
    chunk_id: int | None = None
    thumb_path: str | None = None


@dataclass(frozen=True)
class QuickResults:
    hits: list[QuickHit]


class QuickFinder:
    """Case-insensitive title search over one library's notes and photos."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self._rows: list[tuple[str, str, str, str]] = []  # (folded title, id, kind, title)
        self._loaded_at = 0.0
        self._signature: tuple[str, float] | None = None
        self._thumbs: dict[str, str] = {}
        self._lock = threading.Lock()

    def refresh(self, *, force: bool = False) -> None:
        """Reload the titles when the newest change or the count moved (checked at most every
        2 s: the check is one cheap query, a reload reads every item). Callers that must not
        wait on the database (the palette's keystroke path) search with ``refresh=False``
        and call this from their database thread instead."""
        with self._lock:
            self._refresh(force)

    def _refresh(self, force: bool) -> None:
        now = time.monotonic()
        if self._rows and not force and now - self._loaded_at < _REFRESH_SECONDS:
            return
        self._loaded_at = now
        newest = self.library.list_items(limit=1)
        signature = (newest[0].id, newest[0].updated_at) if newest else None
        if self._rows and signature == self._signature:
            stats = self.library.stats()
            if stats.notes + stats.photos == len(self._rows):
                return
        rows = self.library.list_items(limit=_MAX_ITEMS)
        thumbs = {str(pid): str(thumb) for pid, _t, _at, thumb in self.library.photos.grid_rows()}
        self._thumbs = thumbs
        self._rows = [(r.title.casefold(), r.id, r.kind, r.title) for r in rows]
        self._signature = signature

    def search(self, query: str, limit: int = 20, *, refresh: bool = True) -> QuickResults:
        words = query.casefold().split()
        if refresh or not self._rows:
            self.refresh()
        rows, thumbs = self._rows, self._thumbs
        if not words:
            picked = [(0, r) for r in rows[:limit]]
        else:
            # Filter by the longest word first (fewest matches), in C-speed comprehensions.
            ordered = sorted(words, key=len, reverse=True)
            matches = [r for r in rows if ordered[0] in r[0]]
            for word in ordered[1:]:
                matches = [r for r in matches if word in r[0]]
            first = words[0]
            picked = heapq.nsmallest(
                limit,
                ((0 if r[0].startswith(first) else 1, r) for r in matches),
                key=lambda p: (p[0], len(p[1][0])),
            )
        hits = []
        for rank, (folded, item_id, kind, title) in picked:
            spans = []
            for w in words:
                at = folded.find(w)
                if at >= 0:
                    spans.append((at, at + len(w)))
            thumb = thumbs.get(item_id) if kind == "photo" else None
            hits.append(
                QuickHit(
                    item_id,
                    kind,
                    title,
                    title,
                    sorted(spans),
                    ["title"],
                    1.0 / (1 + rank),
                    None,
                    thumb,
                )
            )
        return QuickResults(hits)
