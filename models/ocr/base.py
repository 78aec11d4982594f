"""What every OCR engine shares: reading upright (rotated text read again turned), boxes mapped
back to the photo, and the region helpers the engines use to decide what to re-read."""

from __future__ import annotations

import abc
import threading
from typing import Any

import numpy as np

from models.ocr.filters import PhantomFilter
from models.ocr.layout import (
    Box,
    _Item,
    _quality,
    _rotate_back,
    layout,
    load_rgb,
    round_box,
)
from models.protocols import OcrLine, OcrWord


def _area(b: Box) -> float:
    return max(1e-6, (b[2] - b[0]) * (b[3] - b[1]))


def _read_boxes(items: list[_Item]) -> list[Box]:
    """Where text was actually read: word boxes when the engine gives them, else line boxes."""
    return [w.box for it in items for w in it.words] + [it.box for it in items if not it.words]


def _unread_parts(box: Box, read: list[Box]) -> list[Box]:
    """The stretches of a (coarse) line box that no read fragment on its row covers, when they
    are at least 0.8 line heights wide: PP-OCR reads "TOTAL 16,000" and silently drops "합계"."""
    h = box[3] - box[1]
    spans = sorted(
        (max(box[0], r[0]), min(box[2], r[2]))
        for r in read
        if min(box[3], r[3]) - max(box[1], r[1]) > 0.4 * min(h, r[3] - r[1])
        and r[2] > box[0]
        and r[0] < box[2]
    )
    parts, x = [], box[0]
    for a, b in spans:
        if a - x >= 0.8 * h:
            parts.append((x, box[1], a, box[3]))
        x = max(x, b)
    if box[2] - x >= 0.8 * h:
        parts.append((x, box[1], box[2], box[3]))
    return parts


class _BaseEngine(abc.ABC):
    model_id = "ocr"

    def __init__(self, meta: dict[str, Any] | None = None) -> None:
        self._lock = threading.Lock()
        # seconds spent per stage in the last read() (detection, recognition, tesseract, …)
        self.stage_seconds: dict[str, float] = {}
        self.phantom = PhantomFilter.from_meta((meta or {}).get("phantom"))

    def _spent(self, stage: str, seconds: float) -> None:
        self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + seconds

    @abc.abstractmethod
    def _items(self, rgb: np.ndarray) -> tuple[list[_Item], list[Box], int]:
        """Fragments, unread text regions and how many crops looked upside down."""

    def _read_upright(self, rgb: np.ndarray) -> tuple[list[_Item], int]:
        """Read, and read again rotated when the text runs vertically or upside down.

        Returns the fragments in the frame of ``np.rot90(rgb, k)`` and ``k``.
        """
        items, unread, flipped = self._items(rgb)
        boxes = [it.box for it in items] + unread
        tall = sum(1 for b in boxes if (b[3] - b[1]) > 1.5 * (b[2] - b[0]))
        candidates: list[tuple[float, list[_Item], int]] = [(_quality(items), items, 0)]
        turns: list[int] = []
        if boxes and tall > len(boxes) / 2:
            turns = [1, 3]
        elif boxes and flipped > len(boxes) / 2:
            turns = [2]
        for k in turns:
            rotated, _, _ = self._items(np.ascontiguousarray(np.rot90(rgb, k)))
            candidates.append((_quality(rotated) * (1.05 if k == 2 else 1.0), rotated, k))
        _, best, k = max(candidates, key=lambda c: c[0])
        return best, k

    def read(self, image: Any) -> list[OcrLine]:
        rgb = load_rgb(image)
        with self._lock:
            self.stage_seconds = {}
            items, k = self._read_upright(rgb)
        return self.finish(items, k, rgb.shape[:2], self.phantom)

    def finish(
        self, items: list[_Item], k: int, size: tuple[int, ...], phantom: PhantomFilter
    ) -> list[OcrLine]:
        """Fragments (in the frame turned ``k`` times) → the photo's lines in reading order,
        phantom fragments dropped."""
        lines = layout([it for it in items if phantom.keeps(it)])
        if k == 0:
            return lines
        h, w = size

        def back(b: Box) -> Box:
            return round_box(_rotate_back(b, k, w, h))

        return [
            OcrLine(
                ln.text,
                ln.confidence,
                back(ln.box),
                ln.block,
                ln.line,
                ln.engine,
                tuple(OcrWord(wd.text, wd.confidence, back(wd.box)) for wd in ln.words),
            )
            for ln in lines
        ]

    def close(self) -> None:  # engines without native handles have nothing to free
        return None
