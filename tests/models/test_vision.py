"""Vision chat through llama.cpp mtmd with a tiny llama + a tiny LLaVA-style mmproj."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.errors import ModelClosedError, ModelInputError, WrongModelKindError
from models.protocols import ChatMessage, VisionChatModel
from models.vision import image_data_uri, load_vision_model
from tests.fixtures.tiny_models import tiny_llama_gguf, tiny_mmproj_gguf


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("vision")
    return tiny_llama_gguf(d / "vlm.gguf"), tiny_mmproj_gguf(d / "mmproj.gguf")


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from PIL import Image
    from skimage import data as skimage_data

    path = tmp_path_factory.mktemp("img") / "coffee.jpg"
    Image.fromarray(skimage_data.coffee()).save(path)
    return path


def test_image_question_streams_through_mtmd(pair, photo: Path) -> None:
    model = load_vision_model("llama.cpp", [pair[1], pair[0]], {"context_tokens": 512})
    try:
        assert isinstance(model, VisionChatModel) and model.supports_images()
        question = [ChatMessage("user", "what is in the photo", images=(str(photo),))]
        pieces = list(model.stream(question, max_tokens=6, temperature=0.0))
        assert pieces and all(isinstance(p, str) for p in pieces)
        # text-only turns work on the same model
        assert model.complete([ChatMessage("user", "hello")], max_tokens=3) is not None
        calls = {"n": 0}

        def cancel() -> bool:
            calls["n"] += 1
            return calls["n"] > 2

        assert len(list(model.stream(question, max_tokens=50, should_cancel=cancel))) <= 2
    finally:
        model.close()
        model.close()
    with pytest.raises(ModelClosedError):
        model.count_tokens("x")


def test_mmproj_that_does_not_match_its_llm(pair, tmp_path: Path) -> None:
    wrong = tiny_mmproj_gguf(tmp_path / "wrong-mmproj.gguf", text_embd=32)
    with pytest.raises(WrongModelKindError, match=r"wrong-mmproj.gguf does not match vlm.gguf"):
        load_vision_model("llama.cpp", [pair[0], wrong], {"context_tokens": 256})


def test_mtmd_itself_rejects_a_mismatch_our_precheck_cannot_see(pair, tmp_path: Path) -> None:
    """Without mm.2.weight shape hints the pair reaches mtmd, whose refusal is reported."""
    import models.vision as vision

    wrong = tiny_mmproj_gguf(tmp_path / "wrong2.gguf", text_embd=32)
    original = vision.check_projector
    vision.check_projector = lambda *a, **k: None
    try:
        with pytest.raises(WrongModelKindError, match=r"wrong2.gguf does not match vlm.gguf"):
            load_vision_model("llama.cpp", [pair[0], wrong], {"context_tokens": 256})
    finally:
        vision.check_projector = original


def test_two_language_models_are_not_a_pair(pair, tmp_path: Path) -> None:
    other = tiny_llama_gguf(tmp_path / "other.gguf")
    with pytest.raises(WrongModelKindError):
        load_vision_model("llama.cpp", [pair[0], other], {})


def test_unreadable_image_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(ModelInputError, match=r"broken.jpg"):
        image_data_uri(bad)
