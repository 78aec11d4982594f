"""What every OCR engine shares: reading upright (rotated text read again turned), boxes mapped
back to the photo, and the region helpers the engines use to decide what to re-read."""

from __future__ import annotations

import abc
import threading
from typing import Any

import numpy as np

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


def _ink_height(crop: np.ndarray) -> float:
    """How tall the letters in a line crop are: the rows holding the minority (ink) colour.

    A detected box holds the line plus a margin (a plate, the detector's unclip), so its height
    says little about the letter size Tesseract sees; clamped to 35–100 % of the crop."""
    grey = crop.astype(np.float32).mean(axis=2) if crop.ndim == 3 else crop.astype(np.float32)
    lo, hi = np.percentile(grey, (5, 95))
    rows = grey.shape[0]
    if hi - lo < 16:
        return float(rows)
    dark = grey < (lo + hi) / 2
    border = np.concatenate([dark[0], dark[-1], dark[:, 0], dark[:, -1]])
    ink = ~dark if border.mean() > 0.5 else dark
    share = ink.mean(axis=1)
    inked = np.flatnonzero(share > 0.08)
    height = float(inked[-1] - inked[0] + 1) if inked.size else float(rows)
    return float(min(float(rows), max(0.35 * rows, height)))


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

    def __init__(self) -> None:
        self._lock = threading.Lock()

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
            items, k = self._read_upright(rgb)
        lines = layout(items)  # reading order in the upright (rotated) frame
        if k == 0:
            return lines
        h, w = rgb.shape[:2]

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
