"""Search result snippets: a window of text around the first match, with highlight offsets."""

from __future__ import annotations

from storage import chunks as chunk_store
from storage.chunks import ChunkRow
from storage.db import Database

SNIPPET_CHARS = 220


def make_snippet(
    text: str, terms: list[str], width: int = SNIPPET_CHARS
) -> tuple[str, list[tuple[int, int]]]:
    """A window of ``text`` around the first matched term, and the match offsets in it."""
    lowered = text.lower()
    positions = [(lowered.find(t), t) for t in terms if t and lowered.find(t) >= 0]
    first = min((p for p, _ in positions), default=0)
    start = max(0, first - width // 3)
    if start > 0:
        space = text.find(" ", start, first)
        start = space + 1 if 0 <= space < first else start
    end = min(len(text), start + width)
    snippet = text[start:end]
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    shown = prefix + " ".join(snippet.split("\n")) + suffix
    highlights: list[tuple[int, int]] = []
    low = shown.lower()
    for term in terms:
        if not term:
            continue
        pos = low.find(term)
        while pos >= 0:
            highlights.append((pos, pos + len(term)))
            pos = low.find(term, pos + len(term))
    highlights.sort()
    merged: list[tuple[int, int]] = []
    for s, e in highlights:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return shown, merged


def first_chunk(db: Database, item_id: str) -> ChunkRow | None:
    rows = chunk_store.chunks_of(db, item_id)
    body = [c for c in rows if c.source in ("body", "ocr", "caption")]
    first = body or rows
    return first[0] if first else None


def chunk_with_phrase(db: Database, item_id: str, phrases: list[str]) -> ChunkRow | None:
    for chunk in chunk_store.chunks_of(db, item_id):
        text = chunk.text.lower()
        if any(p.lower() in text for p in phrases):
            return chunk
    return None
