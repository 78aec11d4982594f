"""The "auto" engine: rapidocr everywhere, Tesseract where rapidocr could not read (Hangul)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from models.errors import ModelError
from models.ocr.base import _BaseEngine
from models.ocr.layout import CJK, Box, _Item, _overlap_small, has_hangul
from models.ocr.rapid import RapidOcrEngine
from models.ocr.tesseract import TesseractEngine

log = logging.getLogger("saem.models.ocr")
# Bumped when what "auto" reads changes enough that indexed photos should be read again
# (the id is stored per photo; the indexer re-reads photos with another id). 2: Tesseract
# reads prepared crops (prep.py), phantom filter.
OCR_VERSION = 2


class AutoOcrEngine(_BaseEngine):
    """rapidocr everywhere, Tesseract ``kor+eng`` where rapidocr could not read (Hangul)."""

    def __init__(self, files: list[Path] | None = None, meta: dict[str, Any] | None = None) -> None:
        super().__init__(meta)
        meta = meta or {}
        self.rapid = RapidOcrEngine(
            [f for f in files or [] if str(f).endswith((".onnx", ".txt"))], meta.get("rapidocr")
        )
        self.tess = TesseractEngine(
            [f for f in files or [] if str(f).endswith(".traineddata")], meta.get("tesseract")
        )
        langs = meta.get("languages") or []
        self.korean_expected = "ko" in langs
        self.max_regions = int(meta.get("max_regions", 24))
        # Why Korean is not read (Tesseract or its `kor` data missing), once it is known:
        # the photos still get rapidocr's Latin text and digits instead of failing, and the
        # engine id says so, so they are read again once Tesseract is installed.
        self.tesseract_problem: str | None = None
        self.model_id = self._engine_id()

    def _engine_id(self) -> str:
        engine = f"auto({self.rapid.model_id}+{self.tess.model_id})/v{OCR_VERSION}"
        return engine + ("-without-tesseract" if self.tesseract_problem else "")

    def _tesseract_failed(self, exc: ModelError) -> None:
        self.tesseract_problem = exc.user_message
        self.model_id = self._engine_id()
        log.warning("OCR: Korean text is not read: %s", exc.user_message)

    def probe(self) -> str:
        """Check now whether Tesseract can read Korean (a quick version/language query) and
        return the engine id that photos read now will carry."""
        if self.tesseract_problem is None:
            try:
                self.tess._check()
            except ModelError as exc:
                self._tesseract_failed(exc)
        return self.model_id

    def _items(self, rgb: np.ndarray) -> tuple[list[_Item], list[Box], int]:
        self.rapid.stage_seconds = self.stage_seconds  # one tally for the whole read
        items, unread, flipped = self.rapid._items(rgb)
        extra: list[_Item] = []
        start = time.perf_counter()
        if self.tesseract_problem is None and (self.korean_expected or unread):
            try:
                if self.korean_expected:  # the caller says Korean: read the whole photo
                    extra = self.tess._items(rgb)[0]
                else:
                    largest = sorted(unread, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))
                    extra = self.tess.read_regions(rgb, largest[: self.max_regions])
            except ModelError as exc:
                self._tesseract_failed(exc)
        if extra or unread:
            self._spent("tesseract", time.perf_counter() - start)
        return merge(items, extra, self.rapid.hanzi_suspect), unread, flipped

    def close(self) -> None:
        self.rapid.close()


def merge(primary: list[_Item], extra: list[_Item], hanzi_suspect: bool = True) -> list[_Item]:
    """Keep the better reading of each region: higher confidence, Hangul readings preferred."""
    kept = list(primary)
    for it in extra:
        rivals = [p for p in kept if _overlap_small(p.box, it.box) > 0.5]
        hangul = has_hangul(it.text)

        def beats(p: _Item, it: _Item = it, hangul: bool = hangul) -> bool:
            # a Hangul reading wins over a Latin one (PP-OCRv6 keeps only the digits/Latin of
            # a Korean line) and over an unsure kana/hanzi one (its misreading of Hangul)
            sure_cjk = bool(CJK.search(p.text)) and p.confidence >= 0.9 and not hanzi_suspect
            hangul_wins = hangul and not has_hangul(p.text) and not sure_cjk
            return (hangul_wins and it.confidence >= 0.5) or (it.confidence > p.confidence + 0.05)

        if all(beats(p) for p in rivals):
            kept = [p for p in kept if p not in rivals] + [it]
    return kept
