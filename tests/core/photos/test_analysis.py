"""analyze_photo on real photo files: EXIF orientation, GPS, OCR, tags, semantic vector."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from skimage import data

from core.errors import InputTooLargeError, UnreadableFileError
from core.photos.analysis import analyze_photo, load_upright

FONT = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")


def _exif(orientation: int | None = None, gps: tuple[float, float] | None = None) -> Image.Exif:
    exif = Image.Exif()
    if orientation:
        exif[274] = orientation
    if gps:
        lat, lon = gps
        deg = lambda v: (int(v), int(v * 60 % 60), round(v * 3600 % 60, 2))  # noqa: E731
        exif.get_ifd(0x8825).update({1: "N", 2: deg(lat), 3: "E", 4: deg(lon)})
    return exif


def _sign(tmp_path: Path) -> Path:
    """A receipt-like sign photographed sideways (EXIF says rotate 90° to view) in Seoul."""
    font = ImageFont.truetype(str(FONT), 36)
    img = Image.new("RGB", (800, 260), "white")
    draw = ImageDraw.Draw(img)
    draw.text((30, 30), "영수증 합계 12,000원", font=font, fill="black")
    draw.text((30, 120), "Total 12.00 paid by card", font=font, fill="black")
    path = tmp_path / "sign.jpg"
    img.transpose(Image.Transpose.ROTATE_90).save(
        path, quality=95, exif=_exif(orientation=6, gps=(37.5665, 126.978))
    )
    return path


def test_corrupt_truncated_and_huge_images_are_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"definitely not a photo")
    with pytest.raises(UnreadableFileError):
        analyze_photo(junk, ocr=None, tagger=None)
    good = tmp_path / "cat.jpg"
    Image.fromarray(data.chelsea()).save(good, quality=90)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(good.read_bytes()[:4000])
    with pytest.raises(UnreadableFileError):
        analyze_photo(cut, ocr=None, tagger=None)
    huge = tmp_path / "huge.png"
    Image.new("L", (12_000, 10_100)).save(huge)
    with pytest.raises(InputTooLargeError):
        analyze_photo(huge, ocr=None, tagger=None)


def test_orientation_and_gps_without_models(tmp_path: Path) -> None:
    path = _sign(tmp_path)
    rgb, gps = load_upright(path)
    assert rgb.shape == (260, 800, 3)  # upright again
    assert gps is not None and abs(gps[0] - 37.5665) < 1e-3
    result = analyze_photo(path, ocr=None, tagger=None)
    assert (result.width, result.height) == (800, 260)
    assert result.place == "Seoul, KR"
    assert result.ocr_lines == [] and result.tags == [] and result.semantic_vector is None


@pytest.mark.slow
def test_full_analysis_of_a_rotated_korean_receipt(tmp_path: Path) -> None:
    from models.image_tags import default_tagger
    from models.ocr import default_ocr

    result = analyze_photo(_sign(tmp_path), ocr=default_ocr(), tagger=default_tagger())
    texts = [ln.text for ln in result.ocr_lines]
    assert texts[0].startswith("영수증") and "12,000" in texts[0]
    assert texts[1].startswith("Total 12.00")
    assert all(ln.box[2] <= 800 and ln.box[3] <= 260 for ln in result.ocr_lines)
    assert result.ocr_text.splitlines()[0] == texts[0]
    assert result.models["ocr"].startswith("auto(")
    assert result.people == 0


@pytest.mark.slow
def test_photo_with_a_person_gets_tags_and_a_semantic_vector(tmp_path: Path) -> None:
    from models.image_tags import default_tagger
    from tests.models.test_semantic_vectors import CountingEmbedder

    path = tmp_path / "astronaut.jpg"
    Image.fromarray(data.astronaut()).save(path, quality=92)
    embedder = CountingEmbedder()
    result = analyze_photo(path, ocr=None, tagger=default_tagger(), text_embedder=embedder)
    assert "people" in result.tag_names and result.people == 1
    assert result.semantic_vector is not None
    assert result.semantic_vector.shape == (embedder.dim,)
    assert abs(float(np.linalg.norm(result.semantic_vector)) - 1) < 1e-5
    assert result.place is None
