"""No phantom text: a line is kept only when the detector and the recognizer are both sure.

On everyday photos without text, PP-OCR finds "text" in foliage, fences and fur and reads it
as short fragments ("C", "LA", "ff", "华"), which then pollute search. Real words come with a
confident detector region and a confident reading; a one- or two-character reading needs more
of both. Thresholds are fitted by ``benchmarks/bench_ocr.py --phantom`` on one half of ICDAR 2015
and Flickr8k and reported on the other half (see the README's OCR section).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.ocr.layout import _WORDY, _Item, has_hangul


@dataclass(frozen=True)
class PhantomFilter:
    min_det: float = 0.0  # detector score a region needs (rapidocr's DB box score)
    min_rec: float = 0.0  # recognizer confidence any line needs
    short_chars: int = 2  # a reading with at most this many letters/digits is "short"
    min_det_short: float = 0.0
    min_rec_short: float = 0.0
    # a Hangul reading longer than short_chars needs only this (Tesseract's confidences on
    # scene Korean run lower than PP-OCR's on Latin; korean_scene lost 0.05 char accuracy
    # with min_rec 0.7 applied to them)
    min_rec_hangul: float = 0.0

    @classmethod
    def from_meta(cls, meta: dict[str, Any] | None) -> PhantomFilter:
        if meta is None:
            return DEFAULT_FILTER
        return cls(**{k: type(getattr(DEFAULT_FILTER, k))(v) for k, v in meta.items()})

    def keeps(self, item: _Item) -> bool:
        letters = len(_WORDY.findall(item.text))
        long_hangul = letters > self.short_chars and has_hangul(item.text)
        needed = self.min_rec_hangul if long_hangul else self.min_rec
        if item.det_score < self.min_det or item.confidence < needed:
            return False
        if letters <= self.short_chars:
            return item.det_score >= self.min_det_short and item.confidence >= self.min_rec_short
        return True


OFF = PhantomFilter()
# chosen by bench_ocr.py --phantom 40 --flickr 100 on the even half (ICDAR recall kept, fewest
# Flickr photos with lines); odd half: ICDAR precision 0.405 -> 0.627 at the same recall 0.588,
# Flickr photos with OCR lines 20/50 -> 3/50. Long Hangul readings keep Tesseract's own floor.
DEFAULT_FILTER = PhantomFilter(min_rec=0.7, min_det_short=0.7, min_rec_short=0.9)
