"""Converter: tiny random-weight Hugging Face checkpoints (built from configs) → ONNX (+ int8).

Needs the `convert` extra (torch==2.13.0 + transformers); skipped with the reason otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from models.convert import checkpoint_kind, convert_checkpoint
from models.errors import ConversionError, WrongModelKindError

torch = pytest.importorskip("torch", reason="the `convert` extra (torch==2.13.0) is not installed")
transformers = pytest.importorskip("transformers", reason="the `convert` extra is not installed")

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "photo", "of", "dog", "cat", "red", "note",
         "hello", "world", "saem"]  # fmt: skip


def _tokenizer(path: Path, specials: tuple[str, str] = ("[CLS]", "[SEP]")) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    vocab = {w: i for i, w in enumerate(WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    cls, sep = specials
    tok.post_processor = processors.TemplateProcessing(
        single=f"{cls} $A {sep}", special_tokens=[(cls, vocab[cls]), (sep, vocab[sep])]
    )
    tok.save(str(path / "tokenizer.json"))


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cfg = transformers.BertConfig(vocab_size=len(WORDS), hidden_size=32, num_hidden_layers=2,
                                  num_attention_heads=2, intermediate_size=37,
                                  max_position_embeddings=64)  # fmt: skip
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("bert")
    transformers.BertModel(cfg).eval().save_pretrained(folder)
    _tokenizer(folder)
    return folder


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cfg = transformers.CLIPConfig(
        text_config={"vocab_size": len(WORDS), "hidden_size": 32, "intermediate_size": 37,
                     "num_hidden_layers": 2, "num_attention_heads": 2,
                     "max_position_embeddings": 16, "bos_token_id": 2, "eos_token_id": 3,
                     "pad_token_id": 0},
        vision_config={"image_size": 32, "patch_size": 8, "hidden_size": 32,
                       "intermediate_size": 37, "num_hidden_layers": 2, "num_attention_heads": 2},
        projection_dim=16,
    )  # fmt: skip
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("clipckpt")
    transformers.CLIPModel(cfg).eval().save_pretrained(folder)
    _tokenizer(folder)
    return folder


def test_text_encoder_matches_torch_and_loads_as_an_embedder(bert_dir: Path, tmp_path) -> None:
    import onnxruntime as ort

    from models.factory import detect, load

    files = convert_checkpoint(bert_dir, tmp_path / "out", int8=True)
    assert [f.name for f in files] == ["model.int8.onnx", "tokenizer.json"]
    ids = np.array([[2, 11, 12, 3, 0], [2, 7, 3, 0, 0]], np.int64)
    mask = (ids != 0).astype(np.int64)
    model = transformers.BertModel.from_pretrained(bert_dir).eval()
    with torch.no_grad():
        ref = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
    ref = ref.last_hidden_state.numpy()
    fp32 = ort.InferenceSession(str(tmp_path / "out" / "model.onnx"))
    got = fp32.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    assert np.allclose(got, ref, atol=1e-4)
    q = ort.InferenceSession(str(files[0])).run(None, {"input_ids": ids, "attention_mask": mask})[0]
    cos = (q * ref).sum(-1) / np.linalg.norm(q, axis=-1) / np.linalg.norm(ref, axis=-1)
    assert cos[mask.astype(bool)].min() > 0.95  # int8 stays close to float
    found = detect(files)
    assert found.task == "text-embedding" and found.runtime == "onnx-text"
    embedder = load(found.task, found.runtime, found.files, {"pooling": "mean"})
    vectors = embedder.embed_passages(["hello world", "a photo of a dog"])
    assert vectors.shape == (2, 32)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    embedder.close()


def test_clip_matches_torch_and_loads(clip_dir: Path, tmp_path: Path) -> None:
    from models.clip import load_clip, preprocess

    files = convert_checkpoint(clip_dir, tmp_path / "out", kind="clip", int8=False)
    assert [f.name for f in files] == ["image_encoder.onnx", "text_encoder.onnx", "tokenizer.json"]
    clip = load_clip("onnx-clip", files, {})
    assert clip.dim == 16 and clip.image_size == 32 and clip.context == 16
    model = transformers.CLIPModel.from_pretrained(clip_dir).eval()
    image = np.random.default_rng(1).integers(0, 255, (40, 50, 3), dtype=np.uint8)
    pixels = torch.from_numpy(preprocess(image, 32, clip.mean, clip.std)[None])
    with torch.no_grad():
        ref_img = model.get_image_features(pixel_values=pixels)
        ids = torch.tensor([[2, 4, 5, 6, 4, 7, 3] + [0] * 9])
        ref_txt = model.get_text_features(input_ids=ids, attention_mask=(ids != 0).long())
    ref_img = getattr(ref_img, "pooler_output", ref_img).numpy()
    ref_txt = getattr(ref_txt, "pooler_output", ref_txt).numpy()
    ref_img /= np.linalg.norm(ref_img)
    ref_txt /= np.linalg.norm(ref_txt)
    assert np.allclose(clip.embed_images([image]), ref_img, atol=1e-4)
    assert np.allclose(clip.embed_texts(["a photo of a dog"]), ref_txt, atol=1e-4)
    clip.close()
    q = convert_checkpoint(clip_dir, tmp_path / "q", kind="clip", int8=True)
    assert [f.name for f in q][:2] == ["image_encoder.int8.onnx", "text_encoder.int8.onnx"]
    qclip = load_clip("onnx-clip", q, {})
    assert float((qclip.embed_images([image]) @ ref_img.T)[0, 0]) > 0.9
    qclip.close()


def test_bad_checkpoints(tmp_path: Path, bert_dir: Path) -> None:
    with pytest.raises(WrongModelKindError):
        checkpoint_kind(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}), "utf-8")
    with pytest.raises(ConversionError):
        convert_checkpoint(tmp_path, tmp_path / "out")
    with pytest.raises(WrongModelKindError):
        convert_checkpoint(bert_dir, tmp_path / "out2", kind="clip")
