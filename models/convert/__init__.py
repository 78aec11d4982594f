"""Hugging Face checkpoint folder on disk → ONNX (+ int8), for sentence encoders and CLIP.

Needs the optional ``convert`` extra (``torch==2.13.0``, ``transformers``); the default install
never imports torch. Nothing is downloaded: the checkpoint must be a local folder with
``config.json``, the weights and a tokenizer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from models.errors import (
    ModelConfigError,
    ModelFileCorruptError,
    ModelFileMissingError,
    ModelNotInstalledError,
    UnsupportedModelError,
    WrongModelKindError,
)

Progress = Callable[..., None]
KINDS = ("auto", "text", "clip")


def checkpoint_kind(checkpoint: Path) -> str:
    """ "clip" or "text", from the checkpoint's config.json."""
    config_path = Path(checkpoint) / "config.json"
    try:
        config = json.loads(config_path.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise WrongModelKindError(
            f"{checkpoint} is not a Hugging Face checkpoint (no config.json)."
        ) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelFileCorruptError(f"{config_path} is not valid JSON ({exc}).") from exc
    model_type = str(config.get("model_type", ""))
    if model_type in ("clip", "chinese_clip", "siglip"):
        if model_type != "clip":
            raise UnsupportedModelError(
                f"{checkpoint}: {model_type} checkpoints are not supported yet."
            )
        return "clip"
    if not model_type:
        raise WrongModelKindError(f"{config_path} has no model_type; cannot tell what to convert.")
    return "text"


def convert_checkpoint(
    checkpoint: Path,
    output: Path,
    *,
    kind: str = "auto",
    int8: bool = True,
    progress: Progress | None = None,
) -> list[Path]:
    """Convert and return the files to add (int8 models when ``int8``) + tokenizer.json."""
    if kind not in KINDS:
        raise ModelConfigError(f"Unknown conversion kind {kind!r}; use one of {', '.join(KINDS)}.")
    checkpoint, output = Path(checkpoint), Path(output)
    if not checkpoint.is_dir():
        raise ModelFileMissingError(f"{checkpoint} is not a folder.")
    found = checkpoint_kind(checkpoint)
    if kind != "auto" and kind != found:
        raise WrongModelKindError(f"{checkpoint} is a {found} checkpoint, not {kind}.")
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ModelNotInstalledError(
            "Converting needs the optional `convert` extra: pip install 'saem[convert]' "
            "(torch==2.13.0 CPU build and transformers)."
        ) from exc
    from models.convert import hf_onnx

    output.mkdir(parents=True, exist_ok=True)
    if found == "clip":
        return hf_onnx.convert_clip(checkpoint, output, int8=int8, progress=progress)
    return hf_onnx.convert_text_encoder(checkpoint, output, int8=int8, progress=progress)
