"""OCR runtimes: rapidocr (PP-OCRv6 ONNX, Latin/CJK), Tesseract ``kor+eng``, and "auto".

Every engine returns :class:`OcrLine` objects in reading order, grouped into blocks and lines,
with boxes in the pixels of the image it was given (after EXIF orientation when it was given a
path or a PIL image). A photo lying on its side or upside down is read in the rotated frame and
its boxes are mapped back.

"auto" runs rapidocr first. PP-OCRv6's recognizer has no Hangul: it returns empty or
low-confidence text for Korean regions its detector found. Those regions (or the whole photo
when the caller says it may hold Korean) are read by Tesseract and the better line of each
overlapping pair is kept by confidence, preferring Tesseract's reading when it holds Hangul.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from models.errors import ModelConfigError
from models.ocr.auto import OCR_VERSION, AutoOcrEngine, merge
from models.ocr.base import _BaseEngine
from models.ocr.layout import (
    CJK,
    HANGUL,
    Box,
    _Item,
    box_iou,
    has_hangul,
    layout,
    load_rgb,
    round_box,
)
from models.ocr.rapid import COARSE_SIDE, COARSE_UNCLIP, RapidOcrEngine
from models.ocr.tesseract import TesseractEngine
from models.protocols import OcrEngine, OcrLine, OcrWord

__all__ = [
    "CJK",
    "COARSE_SIDE",
    "COARSE_UNCLIP",
    "HANGUL",
    "OCR_VERSION",
    "RUNTIMES",
    "AutoOcrEngine",
    "Box",
    "OcrLine",
    "OcrWord",
    "RapidOcrEngine",
    "TesseractEngine",
    "_BaseEngine",
    "_Item",
    "box_iou",
    "current_engine_id",
    "default_ocr",
    "has_hangul",
    "layout",
    "load_ocr",
    "load_rgb",
    "merge",
    "round_box",
]


RUNTIMES: dict[str, type[RapidOcrEngine | TesseractEngine | AutoOcrEngine]] = {
    "rapidocr": RapidOcrEngine,
    "tesseract": TesseractEngine,
    "auto": AutoOcrEngine,
}


def load_ocr(
    runtime: str, files: list[Path] | None = None, meta: dict[str, Any] | None = None
) -> OcrEngine:
    """An :class:`~models.protocols.OcrEngine` for ``runtime`` (loads lazily on first read)."""
    cls = RUNTIMES.get(runtime)
    if cls is None:
        raise ModelConfigError(
            f"Unknown OCR runtime {runtime!r}; use one of {', '.join(RUNTIMES)}."
        )
    return cls([Path(f) for f in files or []], dict(meta or {}))


def current_engine_id(engine: OcrEngine) -> str:
    """The id photos read by ``engine`` now will carry (for "auto": Tesseract checked first,
    so a missing Tesseract shows in the id)."""
    probe = getattr(engine, "probe", None)
    return str(probe()) if callable(probe) else engine.model_id


def default_ocr() -> OcrEngine:
    """The packaged default: rapidocr with Tesseract ``kor+eng`` for Korean regions."""
    return load_ocr("auto", [], {})
