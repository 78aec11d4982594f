"""The demo library's station sign and café receipt: every printed line is read (real OCR).

The photos go through the same path as indexing: written as the demo writes them (JPEG with
EXIF), then :func:`core.photos.analysis.analyze_photo` with the packaged default OCR.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.demo import DEMO_PHOTOS, write_demo_photo
from core.photos.analysis import analyze_photo
from models.ocr import default_ocr

# What is printed on them (core/demo_assets/*.png), line by line; the arrow glyph is not text.
SIGN = ["경복궁역", "Gyeongbokgung Station", "3번 출구 국립고궁박물관"]
RECEIPT = [
    "카페 샘물",
    "서울시 종로구 삼청로 12",
    "2024-07-14 10:32",
    "아메리카노 4,500",
    "카페라테 5,000",
    "치즈케이크 6,500",
    "합계 TOTAL 16,000",
    "감사합니다 Thank you!",
]


def _squash(text: str) -> str:
    return re.sub(r"[\s→>\-–—ㅡ]+", "", text)


@pytest.fixture(scope="module")
def ocr():
    engine = default_ocr()
    yield engine
    engine.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "want"), [("station_sign.jpg", SIGN), ("cafe_receipt.jpg", RECEIPT)]
)
def test_every_line_of_the_demo_sign_and_receipt_is_read(
    tmp_path: Path, ocr, name: str, want: list[str]
) -> None:
    photo = next(p for p in DEMO_PHOTOS if p.name == name)
    result = analyze_photo(write_demo_photo(photo, tmp_path), ocr=ocr, tagger=None)
    text = _squash("".join(ln.text for ln in result.ocr_lines))
    # every word of every line (layout may order two columns of one row either way)
    missing = [w for line in want for w in line.split() if _squash(w) not in text]
    assert not missing, f"not read: {missing}; OCR: {[ln.text for ln in result.ocr_lines]}"
    assert all(ln.box[2] > ln.box[0] and ln.box[3] > ln.box[1] for ln in result.ocr_lines)
