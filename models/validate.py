"""Check model files before a native runtime sees them.

llama.cpp and onnxruntime either crash or fail with vague messages on a truncated or foreign
file. These checks read only headers (a GGUF's metadata and tensor table, an ONNX protobuf's
graph) and turn every problem into a :class:`ModelError` that names the file.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.errors import (
    ModelError,
    ModelFileCorruptError,
    ModelFileMissingError,
    ModelOutOfMemoryError,
    UnsupportedModelError,
    WrongModelKindError,
)

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32

# ggml type id → (elements per block, bytes per block); mirrors gguf.constants.GGML_QUANT_SIZES.
GGML_BLOCK_SIZES: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 40), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176),
    14: (256, 210), 15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98),
    19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1),
    25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2),
    34: (256, 54), 35: (256, 66), 39: (32, 17), 40: (64, 36), 41: (128, 18),
}  # fmt: skip

# GGUF metadata value types: id → struct format of a scalar (8 = string, 9 = array).
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q",
            12: "d"}  # fmt: skip
_STRING, _ARRAY = 8, 9
# Arrays longer than this are skipped (tokenizer vocabularies); only their length is kept.
_MAX_ARRAY_KEEP = 64


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    ggml_type: int
    offset: int

    def nbytes(self) -> int | None:
        block = GGML_BLOCK_SIZES.get(self.ggml_type)
        if block is None:
            return None
        n = 1
        for d in self.shape:
            n *= d
        return n // block[0] * block[1]


@dataclass
class GgufInfo:
    """What a GGUF header says: metadata (long arrays as lengths) and the tensor table."""

    path: Path
    version: int
    metadata: dict[str, Any] = field(default_factory=dict)
    tensors: dict[str, TensorInfo] = field(default_factory=dict)
    data_offset: int = 0
    expected_size: int | None = None

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", ""))

    @property
    def is_projector(self) -> bool:
        """An mmproj (vision/audio projector) rather than a language model."""
        return self.architecture == "clip"

    @property
    def has_chat_template(self) -> bool:
        return isinstance(self.metadata.get("tokenizer.chat_template"), str)

    def get(self, suffix: str, default: Any = None) -> Any:
        """A metadata value by key, with ``{arch}`` standing for the architecture."""
        return self.metadata.get(suffix.replace("{arch}", self.architecture), default)


class _Buf:
    """A cursor over a memory-mapped file (header parsing without reading tensor data)."""

    def __init__(self, data: Any) -> None:
        self.data = data
        self.pos = 0
        self.size = len(data)

    def take(self, fmt: str) -> Any:
        size = struct.calcsize("<" + fmt)
        if self.pos + size > self.size:
            raise EOFError
        value = struct.unpack_from("<" + fmt, self.data, self.pos)[0]
        self.pos += size
        return value

    def string(self) -> str:
        n = self.take("Q")
        if n > 1 << 26:
            raise ValueError(f"implausible string length {n}")
        if self.pos + n > self.size:
            raise EOFError
        raw = bytes(self.data[self.pos : self.pos + n])
        self.pos += n
        return raw.decode("utf-8", errors="replace")

    def skip_strings(self, count: int) -> None:
        unpack, data, pos, size = struct.unpack_from, self.data, self.pos, self.size
        for _ in range(count):
            if pos + 8 > size:
                raise EOFError
            pos += 8 + unpack("<Q", data, pos)[0]
        if pos > size:
            raise EOFError
        self.pos = pos

    def value(self, vtype: int) -> Any:
        if vtype in _SCALARS:
            return self.take(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            item_type = self.take("I")
            n = self.take("Q")
            if n > _MAX_ARRAY_KEEP and item_type in _SCALARS:
                self.pos += struct.calcsize("<" + _SCALARS[item_type]) * n
                if self.pos > self.size:
                    raise EOFError
                return _ArrayLen(n)
            if n > _MAX_ARRAY_KEEP and item_type == _STRING:
                self.skip_strings(n)
                return _ArrayLen(n)
            values = [self.value(item_type) for _ in range(n)]
            return values if n <= _MAX_ARRAY_KEEP else _ArrayLen(n)
        raise ValueError(f"unknown metadata type {vtype}")


class _ArrayLen(int):
    """Stands for a long metadata array of which only the length was kept."""


def _parse(path: Path, buf: _Buf) -> GgufInfo:
    if bytes(buf.data[:4]) != GGUF_MAGIC:
        raise WrongModelKindError(f"{path} is not a GGUF model file (wrong magic bytes).")
    buf.pos = 4
    version = buf.take("I")
    if version not in (2, 3):
        raise UnsupportedModelError(f"{path}: unsupported GGUF version {version}.")
    n_tensors, n_kv = buf.take("Q"), buf.take("Q")
    if n_tensors > 1_000_000 or n_kv > 1_000_000:
        raise ModelFileCorruptError(f"{path}: the GGUF header is corrupt.")
    info = GgufInfo(path=path, version=version)
    for _ in range(n_kv):
        key = buf.string()
        info.metadata[key] = buf.value(buf.take("I"))
    for _ in range(n_tensors):
        name = buf.string()
        n_dims = buf.take("I")
        if n_dims > 8:
            raise ValueError(f"tensor {name} has {n_dims} dimensions")
        shape = tuple(buf.take("Q") for _ in range(n_dims))
        info.tensors[name] = TensorInfo(name, shape, buf.take("I"), buf.take("Q"))
    align = int(info.metadata.get("general.alignment", DEFAULT_ALIGNMENT) or DEFAULT_ALIGNMENT)
    info.data_offset = (buf.pos + align - 1) // align * align
    return info


def read_gguf(path: Path) -> GgufInfo:
    """Parse a GGUF header; raise :class:`ModelError` naming ``path`` when it is not one."""
    import mmap

    path = Path(path)
    try:
        size = path.stat().st_size
        if size < 24:
            with path.open("rb") as f:
                head = f.read()
            if head[:4] != GGUF_MAGIC:
                raise WrongModelKindError(f"{path} is not a GGUF model file (wrong magic bytes).")
            raise ModelFileCorruptError(f"{path} is truncated: its GGUF header ends early.")
        with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            info = _parse(path, _Buf(mm))
    except ModelError:
        raise
    except EOFError as exc:
        raise ModelFileCorruptError(f"{path} is truncated: its GGUF header ends early.") from exc
    except (ValueError, struct.error, UnicodeDecodeError) as exc:
        raise ModelFileCorruptError(f"{path}: the GGUF header is corrupt ({exc}).") from exc
    except OSError as exc:
        raise ModelFileCorruptError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    ends = [t.offset + (t.nbytes() or 0) for t in info.tensors.values()]
    if info.tensors and all(t.nbytes() is not None for t in info.tensors.values()):
        info.expected_size = info.data_offset + max(ends)
        if size < info.expected_size:
            raise ModelFileCorruptError(
                f"{path} is truncated: {size:,} bytes on disk, its tensors need "
                f"{info.expected_size:,}."
            )
    return info


# -- memory -------------------------------------------------------------------------------------


def available_memory() -> int | None:
    """Bytes of RAM available to a new allocation (Linux MemAvailable), None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits_in_memory(path: Path, needed: int, *, available: int | None = None) -> None:
    """Refuse a model whose weights (+ runtime overhead) do not fit in the RAM available now."""
    available = available_memory() if available is None else available
    if available is not None and needed > available:
        raise ModelOutOfMemoryError(
            f"{path} needs about {needed / 2**30:.1f} GiB of memory but only "
            f"{available / 2**30:.1f} GiB is available; choose a smaller (more quantized) model."
        )


def check_gguf(path: Path, *, overhead: int = 0) -> GgufInfo:
    """Header, completeness and memory checks of a GGUF file."""
    info = read_gguf(path)
    if not info.tensors:
        raise ModelFileCorruptError(f"{path} has no tensors; it is not a usable model.")
    check_fits_in_memory(path, int((info.expected_size or path.stat().st_size) * 1.05) + overhead)
    return info


def check_onnx(path: Path) -> Any:
    """Load an ONNX file's graph (not its runtime) to prove it is complete; returns the proto.

    Uses the ``onnx`` package when installed; otherwise onnxruntime will be the judge.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileMissingError(f"{path} does not exist.")
    if path.stat().st_size < 16:
        raise ModelFileCorruptError(f"{path} is empty or truncated; it is not an ONNX model.")
    check_fits_in_memory(path, int(path.stat().st_size * 1.5))
    try:
        import onnx
    except ImportError:  # default install: let onnxruntime parse it
        import onnxruntime

        try:
            onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelFileCorruptError(f"{path} is not a readable ONNX model ({exc}).") from exc
        return None
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:
        raise ModelFileCorruptError(
            f"{path} is not a readable ONNX model (truncated or corrupt)."
        ) from exc
    if not model.graph.node:
        raise ModelFileCorruptError(f"{path} is not a readable ONNX model (it has no graph).")
    return model
