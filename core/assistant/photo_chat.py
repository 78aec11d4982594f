"""What the assistant knows about a photo: OCR lines with positions, EXIF time and place,
tags, caption, and the notes that link to it or were written the same day.

Everything here comes from the library (what the indexer extracted); the picture itself only
reaches a model through a vision model (``core.assistant.service``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from core.assistant.receipts import (
    Fields,
    Row,
    extract_fields,
    layout_rows,
    layout_text,
    render_fields,
)
from core.errors import UnreadableFileError
from core.photos.places import place_name_or_none as _place_name
from storage import chats as chat_store
from storage import items, tags
from storage.ids import PhotoId

if TYPE_CHECKING:
    from core.library import Library

log = logging.getLogger(__name__)

MAX_OCR_LINES = 40
_LIKE_THIS = re.compile(
    r"\b(find|show|search|look for|any)\b.{0,30}\b(photos?|pictures?|images?|pics?)\b"
    r"|\b(photos?|pictures?|images?)\b.{0,12}\b(like|similar|about|of)\b"
    r"|(비슷한|닮은|같은|관련된?|이런|유사한).{0,8}(사진|이미지)"
    r"|(사진|이미지).{0,6}(찾아|보여|검색)",
    re.IGNORECASE,
)


def wants_photo_search(question: str) -> bool:
    """ "Find photos like this", "show me pictures of the beach", "비슷한 사진 찾아줘"."""
    return bool(_LIKE_THIS.search(question))


@dataclass
class PhotoFacts:
    photo_id: str
    title: str
    blob_path: Path
    taken_at: str | None
    place: str | None
    gps: tuple[float, float] | None
    camera: str
    caption: str
    tags: list[str]
    ocr: list[tuple[str, tuple[float, float]]]  # (text, (x%, y%) of the line's centre)
    width: int | None
    height: int | None
    note_ids: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)  # OCR lines as laid out (core.receipts)
    fields: Fields = field(default_factory=Fields)

    def text_block(self, lang: str) -> list[str]:
        """The photo's text as laid out (rows in reading order, label … value, blank line
        between blocks) and the fields read from that layout."""
        ko = lang == "ko"
        if not self.rows:
            return ["사진에서 찾은 글자 없음." if ko else "No text was found in the photo."]
        out = [
            "사진 속 글자 (OCR, 보이는 배치대로 한 줄씩, …는 같은 줄의 떨어진 칸):"
            if ko
            else "Text in the photo (OCR, row by row as laid out; … = a gap on the same row):",
            layout_text(self.rows),
        ]
        fields = render_fields(self.fields, lang)
        if fields:
            out += ["읽어 낸 항목:" if ko else "Fields read from the layout:", fields]
        return out

    def render(self, label: str, lang: str, *, layout: bool = True) -> str:
        """The facts block of the user turn (compact: every token costs time). ``layout``
        False: the OCR lines one by one with their positions (the earlier form)."""
        ko = lang == "ko"
        lines = [f"{'사진' if ko else 'Photo'} {label}: {self.title or self.photo_id[:8]}"]
        if self.taken_at:
            lines.append(("찍은 때: " if ko else "Taken: ") + self.taken_at.replace("T", " ")[:16])
        if self.place or self.gps:
            where = self.place or ""
            if self.gps:
                where += f" ({self.gps[0]:.4f}, {self.gps[1]:.4f})"
            lines.append(("장소: " if ko else "Place: ") + where.strip())
        if self.camera:
            lines.append(("카메라: " if ko else "Camera: ") + self.camera)
        if self.tags:
            lines.append(("태그: " if ko else "Tags: ") + ", ".join(self.tags))
        if self.caption:
            lines.append(("설명: " if ko else "Caption: ") + self.caption)
        if layout:
            lines += self.text_block(lang)
        elif self.ocr:
            lines.append(
                "사진 속 글자 (OCR, 위치는 왼쪽 위 기준 x%,y%):"
                if ko
                else "Text found in the photo (OCR; position x%,y% from top-left):"
            )
            lines += [f'- "{text}" @{x:.0f},{y:.0f}' for text, (x, y) in self.ocr]
        else:
            lines.append("사진에서 찾은 글자 없음." if ko else "No text was found in the photo.")
        return "\n".join(lines)

    def search_terms(self) -> str:
        """Words describing the photo, for "find photos like this"."""
        words = [*self.tags, self.caption, self.place or ""]
        words += [t for t, _ in self.ocr[:5]]
        return " ".join(w for w in words if w).strip()


def photo_facts(library: Library, photo_id: str) -> PhotoFacts:
    """Facts of a photo by id or id prefix (``BadInputError`` for a note id)."""
    pid = library.resolve_photo(photo_id.strip())
    photo = library.photos.get(pid)
    meta = photo.meta
    ocr = []
    all_lines = library.photos.ocr_lines(pid)
    rows = layout_rows(all_lines)[:MAX_OCR_LINES]
    for line in all_lines[:MAX_OCR_LINES]:
        x0, y0, x1, y1 = line.box
        w, h = meta.width or 0, meta.height or 0
        centre = (
            100.0 * (x0 + x1) / 2 / w if w else 0.0,
            100.0 * (y0 + y1) / 2 / h if h else 0.0,
        )
        if line.text.strip():
            ocr.append((line.text.strip(), centre))
    gps = (meta.gps_lat, meta.gps_lon) if meta.gps_lat is not None and meta.gps_lon else None
    camera = " ".join(x for x in (meta.camera_make, meta.camera_model) if x)
    return PhotoFacts(
        photo_id=pid,
        title=photo.title,
        blob_path=photo.blob_path,
        taken_at=meta.taken_at,
        place=_place_name(meta.gps_lat, meta.gps_lon),
        gps=gps,
        camera=camera,
        caption=meta.caption or "",
        tags=list(photo.tags),
        ocr=ocr,
        width=meta.width,
        height=meta.height,
        note_ids=related_note_ids(library, pid, meta.taken_at, photo.created_at),
        rows=rows,
        fields=extract_fields(rows),
    )


def photo_source_text(library: Library, photo_id: str) -> str:
    """A photo as a source of ``saem ask``: its OCR text as laid out, the fields read from it
    (labelled in both languages so that either language's question words find them), when and
    where it was taken, its tags and caption."""
    photo = library.photos.get(PhotoId(photo_id))
    meta = photo.meta
    rows = layout_rows(library.photos.ocr_lines(PhotoId(photo_id)))[:MAX_OCR_LINES]
    lines = []
    if meta.taken_at:
        lines.append("Taken/찍은 때: " + meta.taken_at.replace("T", " ")[:16])
    place = _place_name(meta.gps_lat, meta.gps_lon)
    if place:
        lines.append("Place/장소: " + place)
    if photo.tags:
        lines.append("Tags/태그: " + ", ".join(photo.tags))
    if meta.caption:
        lines.append("Caption/설명: " + meta.caption)
    fields = extract_fields(rows)
    both = {"store": "Store/가게", "date": "Date/날짜", "total": "Total/합계",
            "address": "Address/주소", "phone": "Phone/전화"}  # fmt: skip
    lines += [f"{both[k]}: {v}" for k, v in fields.items()]
    if rows:
        lines.append(layout_text(rows))
    return "\n".join(lines)


def related_note_ids(
    library: Library, photo_id: str, taken_at: str | None, created_at: float, limit: int = 4
) -> list[str]:
    """Notes that link to the photo, then notes written the day it was taken."""
    db = library.db
    found = list(tags.backlinks_of(db, photo_id))
    when: datetime | None = None
    if taken_at:
        try:
            when = datetime.fromisoformat(taken_at.replace("Z", "+00:00")[:19])
        except ValueError:
            when = None
    if when is not None:
        day = when.replace(hour=0, minute=0, second=0, microsecond=0)
        found += chat_store.notes_created_between(
            db, day.timestamp(), (day + timedelta(days=1)).timestamp(), limit
        )
    live = [n for n in dict.fromkeys(found) if (row := items.find_item(db, n)) and not row.deleted]
    return live[:limit]


def check_decodes(path: Path) -> None:
    """Raise ``BadInputError`` when the photo's file cannot be decoded (before a model sees it)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
        raise UnreadableFileError(
            f"The photo file {path.name} cannot be decoded ({exc}); the question was not sent."
        ) from exc
