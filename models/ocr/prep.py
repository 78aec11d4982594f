"""Line crops prepared for Tesseract: black letters on white, straight, at a set letter height.

Scene text is on coloured plates, straight over a photo with an outline, low-contrast, blurred
and turned a few degrees. Tesseract's LSTM reads dark-on-light lines of ~30-40 px letters, and its
own global binarization is led astray by the plate's edge and the photo around it (on
``korean_scene`` with ground-truth boxes, grey crops scaled by box height read 0.22 character
accuracy; these prepared crops 0.57-0.67, see ``benchmarks/bench_ocr.py --korean-scene``).

The steps, each measured on ground-truth boxes:

1. project the crop's colours on their first principal component (taken from the middle band,
   where the letters are), so green-on-yellow or red-on-red keeps its contrast in one channel;
2. Otsu threshold from the middle band; the letters are the minority class there (``flip`` gives
   the other polarity: the caller reads both and keeps the more confident reading, which covers
   outlined text whose fill and outline swap roles);
3. connected components that touch the crop's edge (plate borders, photo clutter) are dropped,
   and the crop is cut to the remaining ink;
4. deskew by the angle (±9°, 1° steps) whose row profile is sharpest;
5. scale so the ink is ``text_height`` px tall, with a white margin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Box = tuple[float, float, float, float]
TEXT_HEIGHT = 40  # px of ink height Tesseract sees (32 and 48 both read worse on korean_scene)
MARGIN = 12


@dataclass(frozen=True)
class PreparedLine:
    image: np.ndarray  # uint8 grey, black letters on white, TEXT_HEIGHT + 2 × MARGIN tall
    ink: Box  # the ink's bounds in the crop's pixels (before deskew)
    angle: float  # degrees turned to straighten it


def _principal_grey(crop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The crop projected on its middle band's main colour axis, stretched to 0-255."""
    pixels = crop.astype(np.float32)
    rows = crop.shape[0]
    band = pixels[rows // 4 : max(rows // 4 + 1, 3 * rows // 4)].reshape(-1, 3)
    mean = band.mean(axis=0)
    if band.shape[0] > 2:
        _, vectors = np.linalg.eigh(np.cov((band - mean).T))
        axis = vectors[:, -1]
    else:
        axis = np.array([0.299, 0.587, 0.114], np.float32)
    band_proj = (band - mean) @ axis
    lo, hi = np.percentile(band_proj, (1, 99))
    span = max(float(hi - lo), 1e-3)
    grey = np.clip(((pixels - mean) @ axis - lo) / span * 255, 0, 255).astype(np.uint8)
    band_grey = np.clip((band_proj - lo) / span * 255, 0, 255).astype(np.uint8)
    return grey, band_grey


def _sharpest_angle(ink: np.ndarray) -> float:
    """The turn (degrees) after which the ink's row profile is most peaked: text rows aligned."""
    import cv2

    h, w = ink.shape
    best, best_angle = -1.0, 0.0
    for angle in np.arange(-9.0, 9.5, 1.0):
        m = cv2.getRotationMatrix2D((w / 2, h / 2), float(angle), 1.0)
        turned = cv2.warpAffine(ink, m, (w, h))
        score = float(turned.sum(axis=1).astype(np.float64).var())
        if score > best:
            best, best_angle = score, float(angle)
    return best_angle


def prepare_line(
    crop: np.ndarray, flip: bool = False, text_height: int = TEXT_HEIGHT
) -> PreparedLine | None:
    """``crop`` (RGB uint8, the line with some margin) → a clean line image, or None when no
    letter-like ink is left (an empty or all-clutter region)."""
    import cv2

    if crop.ndim != 3 or min(crop.shape[:2]) < 4:
        return None
    grey, band = _principal_grey(crop)
    threshold, _ = cv2.threshold(band.reshape(1, -1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if (float((band > threshold).mean()) < 0.5) != flip:  # letters are the band's minority
        grey, threshold = 255 - grey, 255 - threshold
    ink = (grey <= threshold).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    h, w = ink.shape
    keep = np.zeros(count, dtype=bool)
    for i in range(1, count):
        x, y, cw, ch, area = (int(v) for v in stats[i])
        keep[i] = area >= 3 and x > 0 and y > 0 and x + cw < w and y + ch < h
    if not keep.any():
        return None
    mask = keep[labels]
    ys, xs = np.nonzero(mask)
    x0, x1, y0, y1 = int(xs.min()), int(xs.max()) + 1, int(ys.min()), int(ys.max()) + 1
    line: np.ndarray = np.where(mask[y0:y1, x0:x1], 0, 255).astype(np.uint8)
    angle = _sharpest_angle(255 - line) if line.shape[1] > 2 * line.shape[0] else 0.0
    if angle:
        line = cv2.copyMakeBorder(line, 20, 20, 20, 20, cv2.BORDER_CONSTANT, value=255)
        m = cv2.getRotationMatrix2D((line.shape[1] / 2, line.shape[0] / 2), angle, 1.0)
        line = cv2.warpAffine(
            line, m, (line.shape[1], line.shape[0]), flags=cv2.INTER_LINEAR, borderValue=255
        )
        ys, xs = np.nonzero(line < 128)
        line = line[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    scale = text_height / line.shape[0]
    size = (max(1, round(line.shape[1] * scale)), text_height)
    line = cv2.resize(line, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    image = cv2.copyMakeBorder(line, MARGIN, MARGIN, MARGIN, MARGIN, cv2.BORDER_CONSTANT, value=255)
    return PreparedLine(image, (float(x0), float(y0), float(x1), float(y1)), angle)
