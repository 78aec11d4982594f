"""The llama.cpp chat runtime on a tiny Q8_0 llama built by the test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from models.errors import (
    ContextOverflowError,
    ModelClosedError,
    ModelConfigError,
    ModelFileCorruptError,
    ModelOutOfMemoryError,
    WrongModelKindError,
)
from models.llm import LlamaChatModel, load_chat_model
from models.protocols import ChatMessage, ChatModel
from models.validate import GGML_BLOCK_SIZES, check_fits_in_memory
from tests.fixtures.tiny_models import tiny_llama_gguf

USER = [ChatMessage("user", "hello the dog")]


@pytest.fixture
def chat(tiny_gguf: Path):
    model = LlamaChatModel(tiny_gguf, context_tokens=256)
    yield model
    model.close()


def test_implements_protocol_and_streams(chat: LlamaChatModel) -> None:
    assert isinstance(chat, ChatModel)
    pieces = list(chat.stream(USER, max_tokens=12, temperature=0.0))
    assert pieces and all(isinstance(p, str) for p in pieces)
    # greedy decoding is deterministic, and the second call reuses the cached prompt
    assert "".join(chat.stream(USER, max_tokens=12, temperature=0.0)) == "".join(pieces)


def test_kv_cache_is_reused_for_a_follow_up(chat: LlamaChatModel) -> None:
    first = chat.complete(USER, max_tokens=4, temperature=0.0)
    turn2 = [*USER, ChatMessage("assistant", first), ChatMessage("user", "and the cat")]
    prompt = chat.prompt_tokens(turn2, 8)
    cached = list(chat.llama._input_ids[: chat.llama.n_tokens])
    common = next(
        (i for i, (a, b) in enumerate(zip(cached, prompt, strict=False)) if a != b), len(cached)
    )
    assert common >= len(chat.prompt_tokens(USER, 8)) - 1  # the first turn's prompt is kept
    assert chat.complete(turn2, max_tokens=4, temperature=0.0) is not None
    stats = chat.last_stats
    assert stats is not None and stats.prompt_tokens == len(prompt)
    assert stats.reused_tokens >= len(chat.prompt_tokens(USER, 8)) - 1
    assert 1 <= stats.generated_tokens <= 4


def test_count_tokens_and_template(chat: LlamaChatModel) -> None:
    assert chat.count_tokens("") == 0
    assert chat.count_tokens("hello world") > chat.count_tokens("hello")
    text = chat.llama.detokenize(chat.prompt_tokens(USER, 8), special=True).decode()
    assert "<|im_start|>user\nhello the dog<|im_end|>" in text
    assert text.endswith("<|im_start|>assistant\n")


def test_cancel_stops_the_stream(chat: LlamaChatModel) -> None:
    calls = {"n": 0}

    def cancel() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    # The random tiny model may end early (EOS); compare with the same greedy run uncancelled.
    full = list(chat.stream(USER, max_tokens=200, temperature=0))
    pieces = list(chat.stream(USER, max_tokens=200, temperature=0, should_cancel=cancel))
    assert pieces == full[: len(pieces)]
    assert len(pieces) <= 3 and calls["n"] <= 4  # checked once per token, stops at the 4th
    if len(full) > 3:
        assert len(pieces) < len(full) and calls["n"] == 4


def test_max_tokens_is_respected(chat: LlamaChatModel) -> None:
    n = sum(chat.count_tokens(p) > 0 for p in chat.stream(USER, max_tokens=5, temperature=0))
    assert n <= 5


def test_context_budget_drops_old_turns(chat: LlamaChatModel) -> None:
    long_turn = "cheese " * 120
    history = [ChatMessage("system", "be brief")]
    for _ in range(4):
        history += [ChatMessage("user", long_turn), ChatMessage("assistant", "yes")]
    history.append(ChatMessage("user", "the question"))
    tokens = chat.prompt_tokens(history, 32)
    assert len(tokens) + 32 <= chat.context_tokens
    text = chat.llama.detokenize(tokens, special=True).decode()
    assert "be brief" in text and "the question" in text


def test_prompt_that_cannot_fit_is_an_error(chat: LlamaChatModel) -> None:
    with pytest.raises(ContextOverflowError):
        list(chat.stream([ChatMessage("user", "cheese " * 400)]))


def test_close_is_deterministic_and_idempotent(tiny_gguf: Path) -> None:
    model = LlamaChatModel(tiny_gguf, context_tokens=128)
    model.close()
    model.close()
    with pytest.raises(ModelClosedError):
        model.count_tokens("a")


def test_load_chat_model_factory_entry(tiny_gguf: Path) -> None:
    model = load_chat_model("llama.cpp", [tiny_gguf], {"context_tokens": 128, "model_id": "x"})
    try:
        assert model.model_id == "x" and model.context_tokens == 128
    finally:
        model.close()
    with pytest.raises(ModelConfigError):
        load_chat_model("onnx", [tiny_gguf], {})


def test_missing_template_falls_back_to_chatml(tmp_path: Path) -> None:
    path = tiny_llama_gguf(tmp_path / "notemplate.gguf", chat_template=None)
    with LlamaChatModel(path, context_tokens=128) as model:
        text = model.llama.detokenize(model.prompt_tokens(USER, 8), special=True).decode()
        assert "<|im_start|>assistant" in text


# -- bad files ------------------------------------------------------------------------------


def test_truncated_gguf_names_the_file(tiny_gguf: Path, tmp_path: Path) -> None:
    bad = tmp_path / "cut.gguf"
    bad.write_bytes(tiny_gguf.read_bytes()[: tiny_gguf.stat().st_size // 2])
    with pytest.raises(ModelFileCorruptError, match=r"cut.gguf"):
        LlamaChatModel(bad)
    head = tmp_path / "head.gguf"
    head.write_bytes(tiny_gguf.read_bytes()[:100])
    with pytest.raises(ModelFileCorruptError, match=r"head.gguf"):
        LlamaChatModel(head)


def test_not_a_gguf(tmp_path: Path) -> None:
    bad = tmp_path / "junk.gguf"
    bad.write_bytes(b"PK\x03\x04 not a model at all" * 10)
    with pytest.raises(WrongModelKindError):
        LlamaChatModel(bad)


def test_corrupt_tensor_table(tiny_gguf: Path, tmp_path: Path) -> None:
    raw = bytearray(tiny_gguf.read_bytes())
    raw[8:16] = (10**9).to_bytes(8, "little")  # absurd tensor count
    bad = tmp_path / "corrupt.gguf"
    bad.write_bytes(bytes(raw))
    with pytest.raises(ModelFileCorruptError):
        LlamaChatModel(bad)


def test_too_large_for_ram(tiny_gguf: Path) -> None:
    with pytest.raises(ModelOutOfMemoryError, match=r"needs about .* GiB of memory"):
        check_fits_in_memory(tiny_gguf, 64 << 30, available=8 << 30)


def test_too_large_for_ram_real_file(tmp_path: Path) -> None:
    """A sparse GGUF whose tensors need 200 GiB: refused before llama.cpp maps it."""
    import gguf
    import numpy as np

    path = tmp_path / "huge.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_tokenizer_model("llama")
    w.add_tensor_info("token_embd.weight", (50_000, 1_000_000), np.dtype(np.float32),
                      200_000_000_000)  # fmt: skip
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    w.close()
    info_size = (path.stat().st_size + 31) // 32 * 32 + 200_000_000_000
    with path.open("r+b") as f:
        f.truncate(info_size)  # sparse: no disk space used
    with pytest.raises(ModelOutOfMemoryError, match=r"needs about 19[0-9].* GiB"):
        LlamaChatModel(path)


def test_block_sizes_match_the_gguf_package() -> None:
    import gguf

    for qtype, (block, size) in gguf.GGML_QUANT_SIZES.items():
        assert GGML_BLOCK_SIZES[int(qtype)] == (block, size), qtype


def test_projector_is_not_a_chat_model(tmp_path: Path) -> None:
    from tests.fixtures.tiny_models import tiny_mmproj_gguf

    mmproj = tiny_mmproj_gguf(tmp_path / "mmproj.gguf")
    with pytest.raises(WrongModelKindError):
        LlamaChatModel(mmproj)


def test_copy_of_model_loads_the_same(tiny_gguf: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.gguf"
    shutil.copy(tiny_gguf, copy)
    with (
        LlamaChatModel(copy, context_tokens=128) as a,
        LlamaChatModel(tiny_gguf, context_tokens=128) as b,
    ):
        assert a.complete(USER, max_tokens=6, temperature=0) == b.complete(
            USER, max_tokens=6, temperature=0)  # fmt: skip
