"""The packaged EfficientNet-Lite0 + NanoDet tagger on real photos from scikit-image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from skimage import data

from models.errors import ChecksumMismatchError, ModelConfigError, ModelFileCorruptError
from models.image_tags import (
    ASSETS,
    PhotoTags,
    color_names,
    default_tagger,
    load_tagger,
    text_kind,
)
from models.protocols import ImageTagger, OcrLine


@pytest.fixture(scope="module")
def tagger():
    t = default_tagger()
    yield t
    t.close()


def _tags(result: PhotoTags) -> dict[str, float]:
    return {t.tag: t.score for t in result.tags}


@pytest.mark.slow
def test_cat_photo_is_a_cat_not_a_dog(tagger) -> None:
    assert isinstance(tagger, ImageTagger)
    result = tagger.tag(data.chelsea())
    tags = _tags(result)
    assert tags["cat"] > 0.5 and "dog" not in tags and "people" not in tags
    assert result.people == 0
    assert "cat" in result.raw_labels[0][0] or "Mau" in result.raw_labels[0][0]
    assert result.class_probs.shape == (1000,)
    assert abs(float(result.class_probs.sum()) - 1.0) < 1e-3


@pytest.mark.slow
def test_astronaut_is_one_person_with_a_box(tagger) -> None:
    result = tagger.tag(data.astronaut())
    assert "people" in _tags(result)
    assert result.people == 1
    person = next(d for d in result.detections if d.label == "person")
    x0, _y0, x1, y1 = person.box
    assert x0 < 100 and x1 > 250 and y1 > 400  # the astronaut fills the left of the photo


@pytest.mark.slow
def test_coffee_is_food_and_brownish(tagger) -> None:
    result = tagger.tag(data.coffee())
    assert "food" in _tags(result)
    assert result.raw_labels[0][0] == "espresso"
    assert result.people == 0
    assert {"brown", "orange", "red"} & set(result.colors)


def test_colour_names_of_flat_images() -> None:
    blue = np.zeros((40, 40, 3), np.uint8)
    blue[..., 2] = 230
    assert color_names(blue) == ["blue"]
    half = np.full((40, 40, 3), 255, np.uint8)
    half[:, :20] = 0
    assert set(color_names(half)) == {"black", "white"}


def test_receipt_and_screenshot_from_ocr_text_layout() -> None:
    receipt = [
        OcrLine(t, 0.95, (100, 40 * i, 300, 40 * i + 25), 0, i)
        for i, t in enumerate(
            [
                "GROCERY MART",
                "Milk 2.49",
                "Bread 3.10",
                "Eggs 4.99",
                "Apples 5.20",
                "Subtotal 15.78",
                "Tax 1.26",
                "Total 17.04",
            ]
        )
    ]
    kinds = text_kind(receipt, 400, 400, flat=0.1)
    assert kinds["receipt"] >= 0.5 and "document" in kinds
    screen = [
        OcrLine(f"Settings item number {i}", 0.99, (20, 30 * i, 600, 30 * i + 20), 0, i)
        for i in range(10)
    ]
    assert "screenshot" in text_kind(screen, 800, 400, flat=0.7)
    assert "screenshot" not in text_kind(screen, 800, 400, flat=0.05)
    assert text_kind(receipt[:2], 400, 400, flat=0.1) == {}


def test_broken_or_replaced_model_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelConfigError):
        load_tagger("nope")
    bad = tmp_path / "effnet_lite0.onnx"
    bad.write_bytes(b"not an onnx model")
    tagger = load_tagger("onnx-tagger", [bad, ASSETS / "nanodet.onnx"])
    with pytest.raises(ModelFileCorruptError):
        tagger.tag(data.chelsea())
    # a packaged file that changed on disk fails its sha256 check
    (tmp_path / "nanodet.onnx").write_bytes(b"truncated")
    from models import image_tags

    tampered = image_tags.OnnxImageTagger()
    tampered._nanodet = tmp_path / "nanodet.onnx"
    with pytest.raises(ChecksumMismatchError):
        tampered.tag(data.chelsea())
