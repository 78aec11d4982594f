"""The torch side of the converter (imported only when converting)."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from models.errors import ConversionError

OPSET = 17


def _tokenizer_json(checkpoint: Path, output: Path) -> Path:
    """Copy (or build from the slow-tokenizer files) the checkpoint's tokenizer.json."""
    target = output / "tokenizer.json"
    source = checkpoint / "tokenizer.json"
    if source.is_file():
        shutil.copyfile(source, target)
        return target
    try:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(str(checkpoint), local_files_only=True)
        tok.backend_tokenizer.save(str(target))
    except Exception as exc:
        raise ConversionError(
            f"{checkpoint} has no usable tokenizer (tokenizer.json): {exc}"
        ) from exc
    return target


def _export(module: Any, args: tuple[Any, ...], path: Path, inputs: list[str], outputs: list[str],
            dynamic: dict[str, dict[int, str]]) -> Path:  # fmt: skip
    import torch

    tmp = path.with_name(path.name + ".part")
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, args, str(tmp), input_names=inputs, output_names=outputs,
                              dynamic_axes=dynamic, opset_version=OPSET, dynamo=False)  # fmt: skip
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        raise ConversionError(f"Exporting {path.name} to ONNX failed: {exc}") from exc
    os.replace(tmp, path)
    return path


def quantize_int8(source: Path, target: Path) -> Path:
    """Dynamic int8 quantization of the MatMul/Gemm weights (Conv stays float: CPU-safe)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = target.with_name(target.name + ".part")
    try:
        with _quiet_root_logger():
            quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8,
                             op_types_to_quantize=["MatMul", "Gemm"])  # fmt: skip
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        raise ConversionError(f"Quantizing {source} to int8 failed: {exc}") from exc
    os.replace(tmp, target)
    return target


@contextlib.contextmanager
def _quiet_root_logger() -> Iterator[None]:  # the quantizer logs advice to the root logger
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def _quiet_transformers() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def _step(progress: Callable[..., None] | None, total: int, note: str) -> None:
    if progress:
        progress(1, total, note)


def convert_text_encoder(
    checkpoint: Path, output: Path, *, int8: bool, progress: Callable[..., None] | None
) -> list[Path]:
    """A sentence encoder → ``model.onnx`` (input_ids, attention_mask → last_hidden_state)."""
    import torch
    from transformers import AutoModel

    total = 3 if int8 else 2
    _quiet_transformers()
    try:
        model = AutoModel.from_pretrained(str(checkpoint), local_files_only=True).eval()
    except Exception as exc:
        raise ConversionError(f"Cannot load the checkpoint in {checkpoint}: {exc}") from exc

    class Encoder(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    tokenizer = _tokenizer_json(checkpoint, output)
    _step(progress, total, "tokenizer")
    ids = torch.ones((2, 8), dtype=torch.long)
    names = ("input_ids", "attention_mask", "last_hidden_state")
    dyn = {n: {0: "batch", 1: "seq"} for n in names}
    onnx_path = _export(Encoder(model), (ids, torch.ones_like(ids)), output / "model.onnx",
                        ["input_ids", "attention_mask"], ["last_hidden_state"], dyn)  # fmt: skip
    _step(progress, total, "model.onnx")
    if not int8:
        return [onnx_path, tokenizer]
    q = quantize_int8(onnx_path, output / "model.int8.onnx")
    _step(progress, total, "model.int8.onnx")
    return [q, tokenizer]


def convert_clip(
    checkpoint: Path, output: Path, *, int8: bool, progress: Callable[..., None] | None
) -> list[Path]:
    """A CLIP checkpoint → image encoder + text encoder ONNX (projected embeddings)."""
    import torch
    from transformers import CLIPModel

    total = 5 if int8 else 3
    _quiet_transformers()
    try:
        model = CLIPModel.from_pretrained(str(checkpoint), local_files_only=True).eval()
    except Exception as exc:
        raise ConversionError(f"Cannot load the CLIP checkpoint in {checkpoint}: {exc}") from exc

    def _tensor(out: Any) -> Any:  # transformers 5 may return an output object
        return out if isinstance(out, torch.Tensor) else out.pooler_output

    class Image(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, pixel_values: Any) -> Any:
            return _tensor(self.inner.get_image_features(pixel_values=pixel_values))

    class Text(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return _tensor(
                self.inner.get_text_features(input_ids=input_ids, attention_mask=attention_mask)
            )

    tokenizer = _tokenizer_json(checkpoint, output)
    _step(progress, total, "tokenizer")
    size = int(model.config.vision_config.image_size)
    context = int(model.config.text_config.max_position_embeddings)
    pixels = torch.zeros((1, 3, size, size))
    image = _export(
        Image(model),
        (pixels,),
        output / "image_encoder.onnx",
        ["pixel_values"],
        ["image_embeds"],
        {"pixel_values": {0: "batch"}, "image_embeds": {0: "batch"}},
    )
    _step(progress, total, "image_encoder.onnx")
    ids = torch.zeros((1, context), dtype=torch.long)
    text = _export(Text(model), (ids, torch.ones_like(ids)), output / "text_encoder.onnx",
                   ["input_ids", "attention_mask"], ["text_embeds"],
                   {"input_ids": {0: "batch"}, "attention_mask": {0: "batch"},
                    "text_embeds": {0: "batch"}})  # fmt: skip
    _step(progress, total, "text_encoder.onnx")
    if not int8:
        return [image, text, tokenizer]
    qi = quantize_int8(image, output / "image_encoder.int8.onnx")
    _step(progress, total, "image_encoder.int8.onnx")
    qt = quantize_int8(text, output / "text_encoder.int8.onnx")
    _step(progress, total, "text_encoder.int8.onnx")
    return [qi, qt, tokenizer]
