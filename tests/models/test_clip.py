"""ONNX CLIP runtime on a tiny dual encoder the test builds (real ONNX, real tokenizer)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.clip import load_clip, preprocess
from models.errors import ModelFileCorruptError, WrongModelKindError
from models.protocols import ImageTextEmbedder
from tests.fixtures.tiny_models import CLIP_COLORS, tiny_clip_onnx


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    return tiny_clip_onnx(tmp_path_factory.mktemp("clip"))


@pytest.fixture(scope="module")
def clip(tiny):
    model = load_clip("onnx-clip", [tiny.text, tiny.tokenizer, tiny.image], {"model_id": "t"})
    yield model
    model.close()


def _solid(rgb: tuple[int, int, int], w: int = 64, h: int = 40) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, np.uint8), (h, w, 3)).copy()


def test_protocol_and_shapes(clip, tiny) -> None:
    assert isinstance(clip, ImageTextEmbedder)
    assert clip.dim == tiny.dim and clip.image_size == tiny.image_size and clip.context == 16
    texts = clip.embed_texts(["a photo of a dog", "red"])
    assert texts.shape == (2, tiny.dim) and texts.dtype == np.float32
    assert np.allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-5)
    assert clip.embed_texts([]).shape == (0, tiny.dim)


def test_colour_images_match_colour_words(clip, tmp_path: Path) -> None:
    from PIL import Image

    words = clip.embed_texts([f"a photo of {c}" for c in CLIP_COLORS])
    red_file = tmp_path / "red.jpg"
    Image.fromarray(_solid((230, 20, 20))).save(red_file)
    images = [red_file, _solid((20, 200, 30)), Image.fromarray(_solid((10, 20, 240)))]
    vectors = clip.embed_images(images)
    sims = vectors @ words.T
    assert list(sims.argmax(axis=1)) == [0, 1, 2]


def test_real_photo_goes_through_preprocessing(clip) -> None:
    from skimage import data as skimage_data

    photo = skimage_data.astronaut()  # 512x512 RGB
    vec = clip.embed_images([photo])
    assert vec.shape == (1, clip.dim) and np.isfinite(vec).all()
    arr = preprocess(photo[:, :300], 32, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    assert arr.shape == (3, 32, 32) and arr.min() >= -1.0 and arr.max() <= 1.0


def test_wrong_files_name_the_file(tiny, tmp_path: Path) -> None:
    cut = tmp_path / "image_cut.onnx"
    cut.write_bytes(tiny.image.read_bytes()[:200])
    with pytest.raises(ModelFileCorruptError, match=r"image_cut.onnx"):
        load_clip("onnx-clip", [cut, tiny.text, tiny.tokenizer], {})
    with pytest.raises(WrongModelKindError):
        load_clip("onnx-clip", [tiny.image, tiny.tokenizer], {})
    bad_tok = tmp_path / "tokenizer.json"
    bad_tok.write_text("{not json", "utf-8")
    with pytest.raises(ModelFileCorruptError, match=r"tokenizer.json"):
        load_clip("onnx-clip", [tiny.image, tiny.text, bad_tok], {})


def test_mismatched_pair_is_refused(tiny, tmp_path: Path) -> None:
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(tiny.image))
    proj = next(t for t in model.graph.initializer if t.name == "proj")
    proj.CopyFrom(numpy_helper.from_array(np.ones((3, 7), np.float32), "proj"))
    del model.graph.output[0].type.tensor_type.shape.dim[1]
    model.graph.output[0].type.tensor_type.shape.dim.add().dim_value = 7
    other = tmp_path / "other_image.onnx"
    onnx.save(model, str(other))
    with pytest.raises(WrongModelKindError):
        load_clip("onnx-clip", [other, tiny.text, tiny.tokenizer], {})
