"""ModelManager on a real library with tiny real model files (GGUF, mmproj, ONNX CLIP)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import AlreadyExistsError, BadInputError, UnknownNameError
from core.library import Library
from models.errors import (
    ModelClosedError,
    ModelError,
    ModelFileCorruptError,
    ModelOutOfMemoryError,
    WrongModelKindError,
)
from models.protocols import ChatMessage, ChatModel
from tests.fixtures.tiny_models import tiny_llama_gguf, tiny_mmproj_gguf


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("models")
    return {
        "llm": tiny_llama_gguf(d / "tiny-chat.gguf"),
        "llm2": tiny_llama_gguf(d / "tiny-chat-2.gguf", seed=7),
        "mmproj": tiny_mmproj_gguf(d / "tiny-mmproj.gguf"),
        "mmproj_bad": tiny_mmproj_gguf(d / "wrong-mmproj.gguf", text_embd=32),
    }


def _rows(lib: Library) -> int:
    return int(lib.db.scalar("SELECT COUNT(*) FROM models"))


def test_builtins_are_listed(library: Library) -> None:
    listed = {m.id: m for m in library.models.list()}
    assert listed["builtin:usem3"].task == "text-embedding"
    assert listed["builtin:qwen2.5-0.5b"].task == "chat"
    assert listed["builtin:usem3"].active
    assert all(m.where for m in listed.values())
    assert "CPU" in listed["builtin:qwen2.5-0.5b"].where


def test_add_chat_model_detects_task_and_registers(library: Library, files) -> None:
    info = library.models.add([files["llm"]])
    assert info.task == "chat" and info.runtime == "llama.cpp"
    assert len(info.sha256) == 64 and info.size == files["llm"].stat().st_size
    copied = Path(info.files[0])
    assert copied.is_file() and library.root in copied.parents
    assert not info.active  # a packaged chat default exists: not switched silently
    library.models.use(info.id[:6])
    model = library.models.get("chat")
    assert isinstance(model, ChatModel)
    assert model is library.models.get("chat")  # cached per process
    assert "".join(model.stream([ChatMessage("user", "hi")], max_tokens=4)) is not None
    assert library.models.verify(info.id).ok


def test_at_most_one_llm_and_close(library: Library, files) -> None:
    chat = library.models.add([files["llm"]], use=True)
    vision = library.models.add([files["llm2"], files["mmproj"]])
    assert vision.task == "vision-chat" and vision.active  # no packaged vision model
    first = library.models.get("chat")
    assert library.models.loaded() == {"chat": chat.id}
    v = library.models.get("vision-chat")
    assert v.supports_images()
    assert library.models.loaded() == {"vision-chat": vision.id}
    with pytest.raises(ModelClosedError):
        first.count_tokens("a")  # the first LLM was freed, not just forgotten
    library.models.close()
    assert library.models.loaded() == {}


def test_memory_pressure_unloads_the_llm_and_it_reloads_lazily(
    library: Library, files, monkeypatch: pytest.MonkeyPatch
) -> None:
    import models.validate

    chat = library.models.add([files["llm"]], use=True)
    first = library.models.get("chat")
    assert library.models.relieve_memory_pressure() == []  # plenty of RAM here
    # the OS's available-memory reading is the boundary faked here
    monkeypatch.setattr(models.validate, "available_memory", lambda: 100 << 20)
    assert library.models.relieve_memory_pressure() == [chat.id]
    assert library.models.loaded() == {}
    with pytest.raises(ModelClosedError):
        first.count_tokens("a")  # freed, not just forgotten
    monkeypatch.setattr(models.validate, "available_memory", lambda: 8 << 30)
    again = library.models.get("chat")  # loads again on the next question
    assert again is not first and library.models.loaded() == {"chat": chat.id}


def test_default_chat_model_is_picked_for_the_machine(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    import models.packaged
    import models.providers
    import models.validate
    from core.modelstore import builtins

    listed = {m.id for m in library.models.list("chat")}
    assert {"builtin:qwen2.5-0.5b", "builtin:qwen2.5-1.5b"} <= listed
    # both packaged models "installed" and a big machine (installation and machine facts
    # are the boundary); a fresh manager picks once
    monkeypatch.setattr(models.packaged, "is_installed", lambda m: True)
    monkeypatch.setattr(models.providers, "physical_cores", lambda: 8)
    monkeypatch.setattr(models.validate, "available_memory", lambda: 16 << 30)
    library.models._default_chat = None
    assert library.models.active("chat").id == "builtin:qwen2.5-1.5b"
    monkeypatch.setattr(models.providers, "physical_cores", lambda: 2)
    assert library.models.active("chat").id == "builtin:qwen2.5-1.5b"  # picked once
    library.models._default_chat = None
    assert library.models.active("chat").id == "builtin:qwen2.5-0.5b"  # 2 cores: the small one
    library.models.use("builtin:qwen2.5-1.5b")  # the user's choice wins
    assert library.models.active("chat").id == "builtin:qwen2.5-1.5b"
    assert builtins.BUILTIN_BY_ID["builtin:qwen2.5-1.5b"].task == "chat"


def test_remove_deletes_copy_and_falls_back(library: Library, files) -> None:
    info = library.models.add([files["llm"]], use=True)
    library.models.get("chat")
    library.models.remove(info.id)
    assert not Path(info.files[0]).exists()
    assert library.models.active("chat").id == "builtin:qwen2.5-0.5b"
    with pytest.raises(BadInputError):
        library.models.remove("builtin:usem3")


def test_duplicate_add_is_refused(library: Library, files) -> None:
    library.models.add([files["llm"]])
    with pytest.raises(AlreadyExistsError):
        library.models.add([files["llm"]])
    assert _rows(library) == 1


def test_verify_catches_a_changed_file(library: Library, files) -> None:
    info = library.models.add([files["llm"]])
    path = Path(info.files[0])
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    result = library.models.verify(info.id)
    assert not result.ok and "sha256" in result.problems[0]


def test_device_setting(library: Library) -> None:
    library.models.set_device("cpu")
    assert library.models.device() == "cpu"
    assert library.models.placement().onnx_providers == ["CPUExecutionProvider"]
    with pytest.raises(UnknownNameError):
        library.models.set_device("tpu")


# -- bad input: clear error naming the file, nothing registered, previous model still works --


def _sparse_huge_gguf(path: Path) -> Path:
    """A GGUF whose one tensor needs 200 GB; the file is sparse, so it costs no disk."""
    import gguf
    import numpy as np

    w = gguf.GGUFWriter(str(path), "llama")
    w.add_tokenizer_model("llama")
    w.add_tensor_info("token_embd.weight", (50_000, 1_000_000), np.dtype(np.float32),
                      200_000_000_000)  # fmt: skip
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    w.close()
    with path.open("r+b") as f:
        f.truncate((path.stat().st_size + 31) // 32 * 32 + 200_000_000_000)
    return path


def _bad_cases(
    files: dict[str, Path], tmp: Path
) -> list[tuple[list[Path], str | None, type[ModelError]]]:
    raw = files["llm"].read_bytes()
    cut = tmp / "cut.gguf"
    cut.write_bytes(raw[: len(raw) * 2 // 3])
    junk = tmp / "junk.onnx"
    junk.write_bytes(b"\x08\x07garbage that is not protobuf" * 20)
    huge = _sparse_huge_gguf(tmp / "huge.gguf")
    return [
        ([cut], None, ModelFileCorruptError),
        ([huge], None, ModelOutOfMemoryError),
        ([junk], None, ModelFileCorruptError),
        ([files["llm"]], "text-embedding", WrongModelKindError),
        ([files["mmproj"]], None, WrongModelKindError),
        ([files["llm"], files["mmproj_bad"]], None, WrongModelKindError),
    ]


def test_bad_files_change_nothing(library: Library, files, tmp_path: Path) -> None:
    good = library.models.add([files["llm"]], use=True)
    before = library.models.get("chat")
    for paths, task, error in _bad_cases(files, tmp_path):
        with pytest.raises(error):
            library.models.add(paths, task)
        assert _rows(library) == 1
        assert sorted(p.name for p in library.store.paths.models.iterdir()) == [good.id]
    # the previous model still works (the bad vision pair unloaded it to test; it reloads)
    after = library.models.get("chat")
    assert "".join(after.stream([ChatMessage("user", "hi")], max_tokens=3)) is not None
    assert library.models.active("chat").id == good.id
    del before


def test_add_clip_pair_and_embed(library: Library, tmp_path: Path) -> None:
    import numpy as np

    from tests.fixtures.tiny_models import tiny_clip_onnx

    tiny = tiny_clip_onnx(tmp_path / "clip")
    with pytest.raises(WrongModelKindError):
        library.models.add(tiny.files, "chat")
    info = library.models.add(tiny.files)
    assert info.task == "clip" and info.active and info.dim == tiny.dim
    assert "onnxruntime" in info.where
    clip = library.models.get("clip")
    assert clip.embed_texts(["red"]).shape == (1, tiny.dim)
    red = np.full((20, 20, 3), (240, 10, 10), np.uint8)
    assert clip.embed_images([red]).shape == (1, tiny.dim)
    assert library.models.verify(info.id).ok


def test_leftovers_of_a_crashed_add_are_cleaned(library_path: Path) -> None:
    with Library(library_path) as lib:
        models = lib.store.paths.models
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    (models / f".abc.{dead}.tmp").mkdir()
    (models / f".abc.{dead}.tmp" / "half.gguf").write_bytes(b"GGUF")
    (models / f".qwen.gguf.{dead}.part").write_bytes(b"x")
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as alive:
        busy = models / f".qwen.gguf.{alive.pid}.part"  # another process is still writing
        busy.write_bytes(b"x")
        with Library(library_path) as lib:
            assert list(lib.store.paths.models.iterdir()) == [busy]
        alive.kill()


def test_add_reports_progress(library: Library, files) -> None:
    seen: list[tuple[int, int]] = []
    library.models.add([files["llm"]], progress=lambda d, t, n="": seen.append((d, t)))
    size = files["llm"].stat().st_size
    assert seen[-1] == (2 * size, 2 * size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
