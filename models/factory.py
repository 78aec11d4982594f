"""One entry point from (task, runtime, files, meta) to a loaded model, plus file detection.

Runtimes live in their own modules and are imported only when a model of that kind loads,
so importing this module costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.errors import ModelConfigError, ModelFileMissingError, WrongModelKindError

TASKS = ("text-embedding", "ocr", "image-tags", "clip", "chat", "vision-chat")
LLM_TASKS = ("chat", "vision-chat")
TOKENIZER_NAMES = ("tokenizer.json",)


def load(task: str, runtime: str, files: Sequence[Path | str], meta: dict[str, Any]) -> Any:
    """Load a model of ``task`` with the runtime's own loader (see CONTRACTS.md)."""
    paths = [Path(f) for f in files]
    meta = dict(meta or {})
    if task == "text-embedding":
        from models.text_embedders import load_text_embedder

        return load_text_embedder(runtime, paths, meta)
    if task == "ocr":
        from models.ocr import load_ocr

        return load_ocr(runtime, paths, meta)
    if task == "image-tags":
        from models import image_tags

        return image_tags.load_tagger(runtime, paths, meta)
    if task == "clip":
        from models.clip import load_clip

        return load_clip(runtime, paths, meta)
    if task == "chat":
        from models.llm import load_chat_model

        return load_chat_model(runtime, paths, meta)
    if task == "vision-chat":
        from models.vision import load_vision_model

        return load_vision_model(runtime, paths, meta)
    raise ModelConfigError(f"Unknown model task {task!r}; known tasks: {', '.join(TASKS)}.")


@dataclass
class Detected:
    """What a set of files is: the task, runtime, display name and loader metadata."""

    task: str
    runtime: str
    name: str
    files: list[Path]
    meta: dict[str, Any] = field(default_factory=dict)
    dim: int | None = None


def _onnx_kind(path: Path) -> tuple[str, dict[str, Any]]:
    """ "image" (a 4-D pixel input), "text" (input_ids) or "other", with shape hints."""
    from models.clip import onnx_session

    session = onnx_session(path, providers=["CPUExecutionProvider"])
    inputs = session.get_inputs()
    names = [i.name for i in inputs]
    out = session.get_outputs()
    hints: dict[str, Any] = {}
    dim = out[0].shape[-1] if out and out[0].shape else None
    if isinstance(dim, int):
        hints["dim"] = dim
    if "input_ids" in names:
        return "text", hints
    if len(inputs) == 1 and len(inputs[0].shape) == 4:
        size = inputs[0].shape[-1]
        if isinstance(size, int):
            hints["image_size"] = size
        return "image", hints
    return "other", hints


def _detect_gguf(ggufs: list[Path]) -> Detected:
    from models.validate import check_fits_in_memory, read_gguf

    infos = [read_gguf(p) for p in ggufs]
    for info in infos:  # before anything is copied
        check_fits_in_memory(info.path, int((info.expected_size or 0) * 1.05))
    projectors = [i for i in infos if i.is_projector]
    llms = [i for i in infos if not i.is_projector]
    if len(llms) != 1 or len(projectors) > 1:
        if not llms:
            raise WrongModelKindError(
                f"{projectors[0].path} is a vision projector (mmproj) alone; add it together "
                "with the language model GGUF it belongs to."
            )
        raise WrongModelKindError(
            "Add one language model GGUF (and at most one mmproj for vision) at a time; got "
            + ", ".join(p.name for p in ggufs)
            + "."
        )
    llm = llms[0]
    name = str(llm.metadata.get("general.name") or llm.path.stem)
    if projectors:
        files = [llm.path, projectors[0].path]
        return Detected("vision-chat", "llama.cpp", name, files, {}, None)
    return Detected("chat", "llama.cpp", name, [llm.path], {}, None)


def detect(files: Sequence[Path | str], task: str | None = None) -> Detected:
    """Recognise model files by their content; ``task`` (if given) must agree."""
    paths = [Path(f) for f in files]
    if not paths:
        raise ModelFileMissingError("No model files given.")
    for p in paths:
        if not p.is_file():
            raise ModelFileMissingError(f"{p} does not exist or is not a file.")
    if task is not None and task not in TASKS:
        raise ModelConfigError(f"Unknown model task {task!r}; known tasks: {', '.join(TASKS)}.")
    ggufs = [p for p in paths if _is_gguf(p)]
    onnx = [p for p in paths if p.suffix.lower() == ".onnx"]
    tokenizers = [p for p in paths if p.name.endswith(".json")]
    others = [p for p in paths if p not in ggufs and p not in onnx and p not in tokenizers]
    if others:
        raise WrongModelKindError(
            f"{others[0]} is neither a GGUF nor an ONNX model (nor a tokenizer.json)."
        )
    if ggufs and onnx:
        raise WrongModelKindError("Add GGUF and ONNX models separately.")
    found = _detect_gguf(ggufs) if ggufs else _detect_onnx(onnx, tokenizers)
    if task is not None and task != found.task:
        raise WrongModelKindError(
            f"{paths[0]} is a {found.task} model, not a {task} model; "
            f"add it as {found.task} or choose another file."
        )
    return found


def _detect_onnx(onnx: list[Path], tokenizers: list[Path]) -> Detected:
    from models.validate import check_onnx

    for p in onnx:
        check_onnx(p)
    kinds = {p: _onnx_kind(p) for p in onnx}
    images = [p for p, (k, _) in kinds.items() if k == "image"]
    texts = [p for p, (k, _) in kinds.items() if k == "text"]
    if len(images) == 1 and len(texts) == 1:
        if not tokenizers:
            raise ModelFileMissingError(
                f"The CLIP text encoder {texts[0]} needs its tokenizer.json too."
            )
        meta = {**kinds[images[0]][1]}
        name = images[0].parent.name or images[0].stem
        return Detected(
            "clip", "onnx-clip", name, [images[0], texts[0], tokenizers[0]], meta, meta.get("dim")
        )
    if len(texts) == 1 and not images:
        if not tokenizers:
            raise ModelFileMissingError(
                f"The text encoder {texts[0]} needs its tokenizer.json too."
            )
        dim = kinds[texts[0]][1].get("dim")
        name = texts[0].parent.name or texts[0].stem
        return Detected("text-embedding", "onnx-text", name, [texts[0], tokenizers[0]], {}, dim)
    if not onnx:
        raise WrongModelKindError(
            "A tokenizer.json alone is not a model; add it with its ONNX model."
        )
    raise WrongModelKindError(
        "Cannot tell what these ONNX files are: Saem takes a sentence encoder (.onnx with "
        "input_ids + tokenizer.json) or a CLIP pair (image .onnx + text .onnx + tokenizer.json); "
        f"got {', '.join(p.name for p in onnx)}."
    )


def _is_gguf(path: Path) -> bool:
    if path.suffix.lower() == ".gguf":
        return True
    try:
        with path.open("rb") as f:
            return f.read(4) == b"GGUF"
    except OSError:
        return False
