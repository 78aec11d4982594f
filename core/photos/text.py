"""What a photo contributes to search: OCR text, machine tags, caption, time and place.

:func:`analyze` adds to what the library already knows (caption, user tags, EXIF time,
GPS → place) what the photo analysis (``core.photos.analysis``) reads with the models it is
given. :func:`photo_chunks` turns the result into chunks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from core.content.chunking import chunk_plain
from core.photos.analysis import analyze_photo
from core.photos.places import place_name_or_none as _place_name
from models.protocols import ImageTagger, OcrEngine, TextEmbedder
from storage import chunks as chunk_store
from storage import photos, tags
from storage.chunks import NewChunk, OcrLineRow
from storage.db import Database
from storage.items import ItemRow

if TYPE_CHECKING:
    from core.library import Library

log = logging.getLogger(__name__)
# Machine tags below this confidence are not shown or indexed: chosen with
# benchmarks/bench_tags.py on Flickr8k (see the README's photo-tags figures)
AUTO_TAG_MIN_SCORE = 0.5
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


@dataclass
class PhotoDerived:
    caption: str = ""
    user_tags: list[str] = field(default_factory=list)
    auto_tags: list[str] = field(default_factory=list)
    ocr_lines: list[OcrLineRow] = field(default_factory=list)
    place: str | None = None
    taken_at: str | None = None
    people: int = 0
    colors: list[str] = field(default_factory=list)
    semantic_vector: np.ndarray | None = None
    analyzed: bool = False
    ocr_engine: str | None = None  # id + version of the OCR engine that read it (None: none)

    @property
    def ocr_text(self) -> str:
        blocks: dict[int, list[str]] = {}
        for line in self.ocr_lines:
            blocks.setdefault(line.block, []).append(line.text)
        return "\n\n".join("\n".join(lines) for _, lines in sorted(blocks.items()))

    def write(self, db: Database, item_id: str) -> None:
        """Replace the photo's OCR lines and machine tags (inside the caller's transaction)."""
        if self.analyzed:
            chunk_store.replace_ocr_lines(db, item_id, self.ocr_lines)
            if self.ocr_engine:
                chunk_store.set_ocr_engine(db, item_id, self.ocr_engine)
            tags.set_tags(db, item_id, self.auto_tags, source="auto")


def _when_words(taken_at: str | None) -> str:
    """ "2024-06-15T…" → "June 2024 2024년 6월" so a typed month finds the photo."""
    if not taken_at:
        return ""
    try:
        when = datetime.fromisoformat(taken_at.replace("Z", "+00:00")[:19])
    except ValueError:
        return ""
    return f"{MONTHS[when.month - 1]} {when.year} {when.year}년 {when.month}월"


def analyze(
    library: Library,
    item: ItemRow,
    *,
    ocr: OcrEngine | None,
    tagger: ImageTagger | None,
    text_embedder: TextEmbedder | None,
) -> PhotoDerived:
    """Everything searchable about one photo. Raises typed errors on unreadable files."""
    row = photos.get_photo(library.db, item.id)
    meta = row.meta
    derived = PhotoDerived(caption=meta.caption or "", taken_at=meta.taken_at)
    derived.user_tags = chunk_store.tags_by_source(library.db, item.id, "user")
    derived.place = _place_name(meta.gps_lat, meta.gps_lon)
    path = library.store.blobs.path(meta.sha256)
    result = analyze_photo(path, ocr=ocr, tagger=tagger, text_embedder=text_embedder)
    derived.analyzed = True
    # read after the OCR ran: "auto" says in its id when Tesseract turned out to be missing
    derived.ocr_engine = ocr.model_id if ocr is not None else None
    derived.ocr_lines = [
        OcrLineRow(ln.block, ln.line, ln.text, ln.confidence, ln.box, ln.engine)
        for ln in result.ocr_lines
        if ln.text.strip()
    ]
    # only the plain user-facing tags the tagger is sure of; the raw detector/classifier
    # labels ("coco:toilet" on an espresso cup) are never shown nor indexed as words
    derived.auto_tags = list(
        dict.fromkeys(t.tag.lower() for t in result.tags if t.tag and t.score >= AUTO_TAG_MIN_SCORE)
    )
    derived.people = result.people
    derived.colors = list(result.colors)
    derived.place = result.place or derived.place
    derived.semantic_vector = result.semantic_vector
    return derived


def photo_chunks(title: str, derived: PhotoDerived) -> list[NewChunk]:
    out: list[NewChunk] = []
    if title:
        out.append(NewChunk("title", title))
    if derived.caption.strip():
        out += [NewChunk("caption", c.text, c.start, c.end) for c in chunk_plain(derived.caption)]
    words = [f"#{t}" for t in dict.fromkeys(derived.user_tags + derived.auto_tags)]
    words += list(dict.fromkeys(derived.colors))
    if derived.people:
        words.append("person" if derived.people == 1 else f"{derived.people} people")
    if derived.place:
        words.append(derived.place)
    when = _when_words(derived.taken_at)
    if when:
        words.append(when)
    if words:
        out.append(NewChunk("tags", " ".join(words)))
    text = derived.ocr_text
    if text.strip():
        out += [NewChunk("ocr", c.text, c.start, c.end) for c in chunk_plain(text)]
    return out


def photo_semantic_vector(
    library: Library, item: ItemRow, *, tagger: ImageTagger, text_embedder: TextEmbedder
) -> np.ndarray | None:
    """The photo's semantic vector in another text embedder's space (the e5 upgrade): only
    the image tagger runs again (its detections are not stored), never the OCR — the vector
    is built from the tagger's classes and detections, which do not depend on the text read."""
    meta = photos.get_photo(library.db, item.id).meta
    path = library.store.blobs.path(meta.sha256)
    result = analyze_photo(path, ocr=None, tagger=tagger, text_embedder=text_embedder)
    return result.semantic_vector
