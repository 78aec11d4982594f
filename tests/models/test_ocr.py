"""OCR runtimes on rendered Korean and English lines (real rapidocr + Tesseract models)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from models.errors import ModelConfigError, ModelFileMissingError, ModelInputError
from models.ocr import _Item, box_iou, default_ocr, has_hangul, layout, load_ocr
from models.protocols import OcrEngine

FONT = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")
KOREAN = "서울에서 커피를 마셨다"
ENGLISH = "Meeting notes for Tuesday"


def _page(tmp_path: Path) -> Path:
    font = ImageFont.truetype(str(FONT), 40)
    img = Image.new("RGB", (900, 220), "white")
    draw = ImageDraw.Draw(img)
    draw.text((30, 30), KOREAN, font=font, fill="black")
    draw.text((30, 120), ENGLISH, font=font, fill="black")
    path = tmp_path / "page.png"
    img.save(path)
    return path


def _texts(lines) -> list[str]:
    return [ln.text for ln in lines]


@pytest.fixture(scope="module")
def auto():
    engine = default_ocr()
    yield engine
    engine.close()


def test_layout_groups_rows_into_lines_and_blocks_in_reading_order() -> None:
    items = [
        _Item("world", 0.9, (120, 10, 200, 30), "t"),
        _Item("hello", 0.8, (10, 10, 100, 30), "t"),
        _Item("second line", 0.9, (10, 40, 180, 60), "t"),
        _Item("far away block", 0.9, (10, 400, 200, 420), "t"),
    ]
    lines = layout(items)
    assert _texts(lines) == ["hello world", "second line", "far away block"]
    assert [(ln.block, ln.line) for ln in lines] == [(0, 0), (0, 1), (1, 0)]
    assert lines[0].box == (10, 10, 200, 30)
    assert box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)


def test_unknown_runtime_and_bad_image_give_model_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelConfigError):
        load_ocr("nope")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(ModelInputError):
        load_ocr("rapidocr").read(broken)
    with pytest.raises(ModelFileMissingError):
        load_ocr("rapidocr", [tmp_path / "det.onnx"]).read(np.zeros((20, 20, 3), np.uint8))


@pytest.mark.slow
def test_auto_reads_korean_and_english_lines(tmp_path: Path, auto) -> None:
    assert isinstance(auto, OcrEngine)
    lines = auto.read(_page(tmp_path))
    assert _texts(lines) == [KOREAN, ENGLISH]
    assert lines[0].engine == "tesseract" and lines[1].engine == "rapidocr"
    assert all(ln.confidence > 0.8 for ln in lines)
    assert lines[1].box[1] > lines[0].box[3] - 5  # English line is below the Korean one
    assert [w.text for w in lines[1].words] == ENGLISH.split()


def test_auto_without_korean_tesseract_data_still_reads_english(tmp_path: Path, caplog) -> None:
    """Tesseract or its language data missing (e.g. `tesseract-ocr` without `-kor`): the
    English line is still read, Korean is skipped, and the reason is logged once."""
    engine = load_ocr("auto", [], {"tesseract": {"lang": "zzz"}})
    try:
        with caplog.at_level("WARNING", logger="saem.models.ocr"):
            assert _texts(engine.read(_page(tmp_path))) == [ENGLISH]
            assert _texts(engine.read(_page(tmp_path))) == [ENGLISH]
    finally:
        engine.close()
    assert engine.tesseract_problem and "zzz" in engine.tesseract_problem
    assert len([r for r in caplog.records if "Korean text is not read" in r.message]) == 1


@pytest.mark.slow
def test_single_runtimes(tmp_path: Path) -> None:
    page = _page(tmp_path)
    rapid = _texts(load_ocr("rapidocr").read(page))
    assert rapid == [ENGLISH]  # PP-OCRv6 has no Hangul: that is why "auto" exists
    tess = load_ocr("tesseract").read(page)
    assert _texts(tess) == [KOREAN, ENGLISH]
    assert has_hangul(tess[0].text)


@pytest.mark.slow
def test_exif_rotated_photo_still_reads(tmp_path: Path, auto) -> None:
    upright = Image.open(_page(tmp_path))
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # camera stored it sideways
    exif = Image.Exif()
    exif[274] = 6  # "rotate 90° clockwise to display"
    path = tmp_path / "sideways.jpg"
    stored.save(path, quality=95, exif=exif)
    lines = auto.read(path)
    assert _texts(lines) == [KOREAN, ENGLISH]
    assert lines[0].box[2] <= 900 and lines[0].box[3] <= 220  # boxes in the upright frame


@pytest.mark.slow
def test_sideways_and_upside_down_without_exif(tmp_path: Path, auto) -> None:
    upright = Image.open(_page(tmp_path))
    for turn in (90, 180):
        path = tmp_path / f"turned{turn}.png"
        upright.rotate(turn, expand=True).save(path)
        lines = auto.read(path)
        assert _texts(lines) == [KOREAN, ENGLISH], turn
        w, h = Image.open(path).size
        assert all(
            0 <= ln.box[0] < ln.box[2] <= w and 0 <= ln.box[1] < ln.box[3] <= h for ln in lines
        )


@pytest.mark.slow
def test_blank_image_reads_nothing(auto) -> None:
    assert auto.read(np.full((200, 300, 3), 255, np.uint8)) == []


def _plate(text: str, angle: float) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Light letters on a coloured plate, turned a few degrees, over a busy background."""
    rng = np.random.default_rng(7)
    photo = rng.integers(60, 200, size=(260, 700, 3), dtype=np.uint8)
    font = ImageFont.truetype(str(FONT), 44)
    plate = Image.new("RGB", (420, 90), (40, 70, 150))
    ImageDraw.Draw(plate).text((24, 16), text, font=font, fill=(235, 235, 235))
    plate = plate.rotate(angle, expand=True, fillcolor=(40, 70, 150))
    image = Image.fromarray(photo)
    image.paste(plate, (120, 70))
    return np.asarray(image), (120, 70, 120 + plate.width, 70 + plate.height)


def test_prepared_crops_read_light_text_on_a_turned_plate() -> None:
    from models.ocr import TesseractEngine

    rgb, box = _plate("출구 안내 센터", 5.0)
    items = TesseractEngine([], {}).read_regions(rgb, [box])
    assert len(items) == 1
    assert items[0].text.replace(" ", "") == "출구안내센터"
    # the reading's box lies on the plate, in the photo's pixels
    assert box_iou(items[0].box, box) > 0.3


def test_prepare_line_gives_nothing_for_a_flat_region() -> None:
    from models.ocr.prep import prepare_line

    assert prepare_line(np.full((40, 200, 3), 128, dtype=np.uint8)) is None
    line = prepare_line(_plate("합계 12,000원", 0.0)[0][70:160, 120:540])
    assert line is not None and line.image.shape[0] == 40 + 2 * 12


def test_phantom_filter_needs_more_confidence_for_short_readings() -> None:
    from models.ocr.filters import PhantomFilter

    flt = PhantomFilter(
        min_det=0.5, min_rec=0.6, short_chars=2, min_det_short=0.8, min_rec_short=0.9
    )
    word = _Item("SALE", 0.7, (0, 0, 40, 10), "rapidocr", det_score=0.6)
    assert flt.keeps(word)
    assert not flt.keeps(_Item("LA", 0.85, (0, 0, 20, 10), "rapidocr", det_score=0.9))
    assert flt.keeps(_Item("LA", 0.95, (0, 0, 20, 10), "rapidocr", det_score=0.9))
    assert not flt.keeps(_Item("SALE", 0.7, (0, 0, 40, 10), "rapidocr", det_score=0.4))


def test_a_read_reports_seconds_per_stage(auto: OcrEngine, tmp_path: Path) -> None:
    from models.ocr import AutoOcrEngine

    assert isinstance(auto, AutoOcrEngine)
    auto.read(_page(tmp_path))
    stages = auto.stage_seconds
    assert {"detection", "recognition", "tesseract"} <= set(stages)
    assert all(v >= 0 for v in stages.values())


def test_small_photos_are_enlarged_only_when_they_hold_small_text(monkeypatch) -> None:
    """A small photo is read at its own size; only when that pass finds tiny text regions is it
    read again enlarged (before, every small photo was detected enlarged to a 736 px side)."""
    rapid = load_ocr("rapidocr")
    scales: list[float] = []
    read_at = rapid._detect_read  # type: ignore[attr-defined]

    def spy(engine: object, rgb: np.ndarray, up: float) -> object:
        scales.append(up)
        return read_at(engine, rgb, up)

    monkeypatch.setattr(rapid, "_detect_read", spy)
    assert rapid.read(np.full((150, 200, 3), 255, np.uint8)) == []
    assert scales == [1.0]  # nothing found at its own size: not enlarged

    img = Image.new("RGB", (320, 120), "white")
    font = ImageFont.truetype(str(FONT), 7)
    ImageDraw.Draw(img).text((10, 40), ENGLISH, font=font, fill="black")
    scales.clear()
    assert _texts(rapid.read(np.asarray(img))) == [ENGLISH]
    assert scales[0] == 1.0 and scales[1] > 1.5  # tiny text: read again enlarged
