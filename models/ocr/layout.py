"""OCR geometry shared by the engines: image loading, boxes, grouping words into lines and
blocks in reading order, mapping boxes back from a rotated frame."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.errors import ModelInputError
from models.protocols import OcrLine, OcrWord

MAX_PIXELS = 120_000_000
DET_MIN_SIDE, DET_MAX_SIDE = 736, 1600
CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
HANGUL = re.compile("[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_WORDY = re.compile(r"[0-9A-Za-z\u00c0-\u024f\u0400-\u04ff\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7a3]")
Box = tuple[float, float, float, float]


def has_hangul(text: str) -> bool:
    return bool(HANGUL.search(text))


def load_rgb(image: Any) -> np.ndarray:
    """A path, PIL image or array → upright RGB uint8 array (EXIF orientation applied)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if isinstance(image, np.ndarray):
        arr = image
        if arr.ndim == 2:
            arr = np.stack([arr] * 3, axis=-1)
        if arr.ndim != 3 or arr.shape[2] not in (3, 4):
            raise ModelInputError(f"OCR needs an RGB image, got an array of shape {arr.shape}.")
        return np.ascontiguousarray(arr[:, :, :3].astype(np.uint8, copy=False))
    name = str(image) if isinstance(image, str | Path) else "image"
    try:
        pil = Image.open(image) if isinstance(image, str | Path) else image
        if pil.width * pil.height > MAX_PIXELS:
            raise ModelInputError(
                f"{name}: the image is too large to read ({pil.width}×{pil.height})."
            )
        pil = ImageOps.exif_transpose(pil)
        return np.asarray(pil.convert("RGB"))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ModelInputError(f"{name}: not a readable image ({exc.__class__.__name__}).") from exc
    except Image.DecompressionBombError as exc:
        raise ModelInputError(f"{name}: the image is too large to read.") from exc


# ---------------------------------------------------------------- layout: blocks, lines, order


@dataclass
class _Item:
    """One recognized line fragment before layout."""

    text: str
    confidence: float
    box: Box
    engine: str
    words: tuple[OcrWord, ...] = ()
    det_score: float = 1.0  # the text detector's score for the region (1.0: not known)

    @property
    def height(self) -> float:
        return max(1.0, self.box[3] - self.box[1])


def _quad_box(quad: Any) -> Box:
    pts = np.asarray(quad, dtype=np.float64).reshape(-1, 2)
    return (
        float(pts[:, 0].min()),
        float(pts[:, 1].min()),
        float(pts[:, 0].max()),
        float(pts[:, 1].max()),
    )


def round_box(box: Box) -> Box:
    """The box with its coordinates rounded to 0.1 pixel."""
    x0, y0, x1, y1 = box
    return round(x0, 1), round(y0, 1), round(x1, 1), round(y1, 1)


def _union(boxes: list[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def box_iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _overlap_small(a: Box, b: Box) -> float:
    """Intersection over the smaller box's area."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / small if small > 0 else 0.0


def _same_row(a: _Item, b: _Item) -> bool:
    overlap = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
    return overlap > 0.5 * min(a.height, b.height)


def _near(a: _Item, b: _Item) -> bool:
    """Fragments of one block: side by side on a row, or stacked lines of similar size."""
    h = max(a.height, b.height)
    if _same_row(a, b):
        gap = max(a.box[0], b.box[0]) - min(a.box[2], b.box[2])
        return gap < 1.5 * h
    x_overlap = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
    y_gap = max(a.box[1], b.box[1]) - min(a.box[3], b.box[3])
    similar = max(a.height, b.height) < 2.0 * min(a.height, b.height)
    return x_overlap > 0 and y_gap < 1.0 * h and similar


def layout(items: list[_Item]) -> list[OcrLine]:
    """Group fragments into blocks and lines, in reading order (top-down, left-right)."""
    items = [it for it in items if it.text.strip()]
    n = len(items)
    if n == 0:
        return []
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if _near(items[i], items[j]):
                parent[find(i)] = find(j)
    groups: dict[int, list[_Item]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(items[i])
    median_h = float(np.median([it.height for it in items]))
    blocks = sorted(
        groups.values(),
        key=lambda g: (
            round(_union([it.box for it in g])[1] / (2 * median_h)),
            _union([it.box for it in g])[0],
        ),
    )
    lines: list[OcrLine] = []
    for block_no, group in enumerate(blocks):
        rows: list[list[_Item]] = []
        for it in sorted(group, key=lambda it: (it.box[1] + it.box[3]) / 2):
            if rows and _same_row(rows[-1][-1], it):
                rows[-1].append(it)
            else:
                rows.append([it])
        for line_no, row in enumerate(rows):
            row.sort(key=lambda it: it.box[0])
            weights = [max(1, len(it.text)) for it in row]
            conf = float(np.average([it.confidence for it in row], weights=weights))
            engines = sorted({it.engine for it in row})
            lines.append(
                OcrLine(
                    text=" ".join(it.text.strip() for it in row),
                    confidence=round(conf, 4),
                    box=round_box(_union([it.box for it in row])),
                    block=block_no,
                    line=line_no,
                    engine="+".join(engines),
                    words=tuple(w for it in row for w in it.words),
                )
            )
    return lines


def _rotate_back(box: Box, k: int, width: int, height: int) -> Box:
    """Map a box found in ``np.rot90(img, k)`` back to the original ``width``×``height`` frame."""
    x0, y0, x1, y1 = box
    if k % 4 == 1:
        return (width - y1, x0, width - y0, x1)
    if k % 4 == 2:
        return (width - x1, height - y1, width - x0, height - y0)
    if k % 4 == 3:
        return (y0, height - x1, y1, height - x0)
    return box


def _scaled(box: Box, up: float) -> Box:
    return box if up == 1.0 else (box[0] / up, box[1] / up, box[2] / up, box[3] / up)


def _too_short(text: str, box: Box) -> bool:
    """Far fewer characters than a horizontal line of this size holds: PP-OCRv6 drops the
    Hangul of a mixed line silently ("영수증 12,000원" → "12,000"), so read it again."""
    w, h = box[2] - box[0], box[3] - box[1]
    if h <= 0 or w < 2 * h:
        return False
    expected = w / (0.55 * h)
    return len(text.strip()) < 0.55 * expected


def _quality(items: list[_Item]) -> float:
    return sum(it.confidence * len(_WORDY.findall(it.text)) for it in items)


# ---------------------------------------------------------------- engines
