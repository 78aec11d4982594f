"""CLIP-style image–text encoder pair on onnxruntime (+ a Hugging Face ``tokenizer.json``).

Standard CLIP preprocessing: RGB, resize the short side to ``image_size`` (bicubic), center
crop, scale to [0, 1], normalize with the OpenAI CLIP mean/std, NCHW float32. Text is
tokenized with the model's own tokenizer, padded/truncated to the text encoder's context
(77 for CLIP). Both outputs are L2-normalized so a dot product is the cosine.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.errors import (
    ModelConfigError,
    ModelFileCorruptError,
    ModelFileMissingError,
    ModelInputError,
    WrongModelKindError,
)
from models.protocols import Vector

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
DEFAULT_CONTEXT = 77


def onnx_session(path: Path, providers: list[str] | None = None) -> Any:
    """An onnxruntime session on the chosen providers; load errors name the file."""
    import onnxruntime as ort

    from models.providers import choose_onnx_providers, physical_cores

    path = Path(path)
    if not path.is_file():
        raise ModelFileMissingError(f"{path} does not exist.")
    options = ort.SessionOptions()
    options.intra_op_num_threads = physical_cores()
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(
            str(path), sess_options=options, providers=providers or choose_onnx_providers()
        )
    except Exception as exc:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise ModelFileCorruptError(f"{path} is not a loadable ONNX model ({first}).") from exc


def _l2(x: np.ndarray) -> Vector:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 3:  # (n, tokens, dim): take the first (CLS/pooled) token
        x = x[:, 0, :]
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    unit: Vector = (x / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


def preprocess(image: Any, size: int, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """One image (path, PIL image or HxWx3 uint8 array) → (3, size, size) float32."""
    from PIL import Image, ImageOps

    im: Image.Image
    if isinstance(image, (str, Path)):
        try:
            with Image.open(image) as opened:
                im = ImageOps.exif_transpose(opened).convert("RGB")
        except OSError as exc:
            raise ModelInputError(f"{image} is not a readable image ({exc}).") from exc
    elif isinstance(image, np.ndarray):
        im = Image.fromarray(image.astype(np.uint8)).convert("RGB")
    else:
        im = image.convert("RGB")
    w, h = im.size
    scale = size / min(w, h)
    new_size = (max(size, round(w * scale)), max(size, round(h * scale)))
    im = im.resize(new_size, Image.Resampling.BICUBIC)
    w, h = im.size
    left, top = (w - size) // 2, (h - size) // 2
    im = im.crop((left, top, left + size, top + size))
    pixels = np.asarray(im, dtype=np.float32) / 255.0
    arr: np.ndarray = (pixels - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return arr.transpose(2, 0, 1)


def _pick_output(session: Any, preferred: str) -> str:
    """The embedding output: ``image_embeds``/``text_embeds`` when exported, else the first."""
    names = [o.name for o in session.get_outputs()]
    return preferred if preferred in names else names[0]


class OnnxClip:
    """:class:`models.protocols.ImageTextEmbedder` over an image + text ONNX pair."""

    def __init__(
        self, image_model: Path, text_model: Path, tokenizer: Path, meta: dict[str, Any]
    ) -> None:
        from tokenizers import Tokenizer

        from models.validate import check_onnx

        self.files = [Path(image_model), Path(text_model), Path(tokenizer)]
        for p in self.files[:2]:
            check_onnx(p)
        try:
            self._tokenizer = Tokenizer.from_file(str(tokenizer))
        except Exception as exc:
            raise ModelFileCorruptError(
                f"{tokenizer} is not a Hugging Face tokenizer.json ({exc})."
            ) from exc
        self._image = onnx_session(self.files[0])
        self._text = onnx_session(self.files[1])
        self._lock = threading.Lock()
        image_in = self._image.get_inputs()
        if len(image_in) != 1 or len(image_in[0].shape) != 4:
            raise WrongModelKindError(
                f"{image_model} is not an image encoder (expects one NCHW input)."
            )
        text_names = [i.name for i in self._text.get_inputs()]
        if "input_ids" not in text_names:
            raise WrongModelKindError(
                f"{text_model} is not a text encoder (it has no input_ids input)."
            )
        self._image_input = image_in[0].name
        self._image_output = _pick_output(self._image, "image_embeds")
        self._text_output = _pick_output(self._text, "text_embeds")
        self._text_inputs = text_names
        shape_size = image_in[0].shape[-1]
        self.image_size = int(meta.get("image_size") or (shape_size if isinstance(
            shape_size, int) else 224))  # fmt: skip
        ctx = self._text.get_inputs()[text_names.index("input_ids")].shape[-1]
        self.context = int(
            meta.get("context") or (ctx if isinstance(ctx, int) else DEFAULT_CONTEXT)
        )
        self.mean = tuple(meta.get("mean", CLIP_MEAN))
        self.std = tuple(meta.get("std", CLIP_STD))
        self.pad_id = int(meta.get("pad_id", 0))
        self.model_id = str(meta.get("model_id") or f"clip:{Path(image_model).parent.name}")
        img_dim = self.embed_images([np.zeros((8, 8, 3), np.uint8)]).shape[1]
        txt_dim = self.embed_texts(["a"]).shape[1]
        if img_dim != txt_dim:
            raise WrongModelKindError(
                f"{image_model} gives {img_dim}-d vectors but {text_model} gives {txt_dim}-d; "
                "they are not one CLIP pair."
            )
        self.dim = int(img_dim)

    def embed_images(self, images: Sequence[Any]) -> Vector:
        if not images:
            return np.zeros((0, getattr(self, "dim", 0)), np.float32)
        batch = np.stack([preprocess(im, self.image_size, self.mean, self.std) for im in images])
        with self._lock:
            out = self._image.run([self._image_output], {self._image_input: batch})[0]
        return _l2(out)

    def embed_texts(self, texts: Sequence[str]) -> Vector:
        if not texts:
            return np.zeros((0, getattr(self, "dim", 0)), np.float32)
        ids = np.full((len(texts), self.context), self.pad_id, dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, text in enumerate(texts):
            tokens = self._tokenizer.encode(text).ids[: self.context]
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        feeds: dict[str, np.ndarray] = {"input_ids": ids}
        if "attention_mask" in self._text_inputs:
            feeds["attention_mask"] = mask
        with self._lock:
            out = self._text.run([self._text_output], feeds)[0]
        return _l2(out)

    def close(self) -> None:
        self._image = self._text = None  # onnxruntime frees the session with its last reference


def load_clip(runtime: str, files: Sequence[Path], meta: dict[str, Any]) -> OnnxClip:
    """Factory entry: ``runtime`` "onnx-clip", files = image .onnx, text .onnx, tokenizer.json.

    The two ONNX files are told apart by their inputs, so their order does not matter.
    """
    if runtime != "onnx-clip":
        raise ModelConfigError(f"Unknown CLIP runtime {runtime!r}; Saem runs CLIP on ONNX.")
    paths = [Path(f) for f in files]
    onnx = [p for p in paths if p.suffix.lower() == ".onnx"]
    tokenizer = next((p for p in paths if p.name.endswith(".json")), None)
    if len(onnx) != 2 or tokenizer is None:
        raise WrongModelKindError(
            "A CLIP model is an image .onnx, a text .onnx and a tokenizer.json."
        )
    first = onnx_session(onnx[0], providers=["CPUExecutionProvider"])
    is_text = any(i.name == "input_ids" for i in first.get_inputs())
    image, text = (onnx[1], onnx[0]) if is_text else (onnx[0], onnx[1])
    return OnnxClip(image, text, tokenizer, meta)
