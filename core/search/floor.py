"""The absolute relevance floor of meaning-only hits (see ``FusionConfig.meaning_floor``).

Meaning search always has a nearest chunk, however far; below the embedder's calibrated floor
a hit that no keyword supports is noise, so nonsense and out-of-library queries find nothing.
Short metadata chunks (photo tag lines, stray OCR words, titles) must clear a higher floor;
a short note does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from core.search.fusion import SHORT_CHUNK_CHARS, FusionConfig, floor_for
from storage import chunks as chunk_store

# chunks made from a photo's metadata, not written text: tag lines, OCR text, titles
METADATA_SOURCES = frozenset({"tags", "ocr", "title"})


class ScoredSource(Protocol):
    scores: dict[str, float]  # item → best chunk score
    best: dict[str, int | None]  # item → best chunk id


def apply_floor(
    db: Any, config: FusionConfig, model: str, sources: Mapping[str, ScoredSource]
) -> None:
    """Drop meaning-only hits below the floor from the ``dense`` and ``photo`` sources, in
    place (an item a keyword source matched keeps its meaning score, whatever it is)."""
    matched = {i for s in ("keyword", "trigram") if s in sources for i in sources[s].scores}
    for name in ("dense", "photo"):
        src = sources.get(name)
        if src is None:
            continue
        floor = floor_for(config, model, name)
        drop = [i for i, v in src.scores.items() if v < floor and i not in matched]
        short = floor_for(config, model, "short")
        if name == "dense" and short > floor:
            doubtful = {
                i: chunk
                for i, v in src.scores.items()
                if floor <= v < short and i not in matched and (chunk := src.best.get(i))
            }
            texts = chunk_store.get_chunks(db, list(doubtful.values()))
            drop += [
                i
                for i, c in doubtful.items()
                if c in texts
                and texts[c].source in METADATA_SOURCES
                and len(texts[c].text.strip()) < SHORT_CHUNK_CHARS
            ]
        for item in drop:
            del src.scores[item]
            src.best.pop(item, None)
