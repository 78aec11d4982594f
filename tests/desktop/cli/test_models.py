"""`saem models …` end to end on a real library with tiny real model files."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from desktop.cli.main import cli
from tests.fixtures.tiny_models import tiny_llama_gguf, tiny_mmproj_gguf


def run(lib: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--library", str(lib), "models", *args])
    return result.exit_code, result.output


def test_list_says_where_models_run(tmp_path: Path) -> None:
    code, out = run(tmp_path / "lib", "list")
    assert code == 0
    assert out.splitlines()[0].startswith("device=auto; ONNX models: CPU")
    assert "builtin:qwen2.5-0.5b" in out and "CPU (llama.cpp" in out
    _, out = run(tmp_path / "lib", "--device", "cpu", "list", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert {r["id"] for r in rows} >= {"builtin:usem3", "builtin:ocr", "builtin:qwen2.5-0.5b"}


def test_add_use_verify_remove(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    gguf = tiny_llama_gguf(tmp_path / "tiny.gguf")
    code, out = run(lib, "add", str(gguf), "--licence", "test")
    assert code == 0, out
    model_id = out.split("model ")[1].split()[0]
    code, out = run(lib, "use", model_id[:8])
    assert code == 0 and "Using" in out
    code, out = run(lib, "list", "--task", "chat")
    assert f"* {model_id}" in out
    code, out = run(lib, "verify", model_id)
    assert code == 0 and out.startswith("ok ")
    code, out = run(lib, "remove", model_id)
    assert code == 0
    code, out = run(lib, "list", "--task", "chat")
    assert model_id not in out and "* builtin:qwen2.5-0.5b" in out


def test_bad_file_is_one_line_error(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    mmproj = tiny_mmproj_gguf(tmp_path / "proj.gguf")
    result = CliRunner().invoke(cli, ["--library", str(lib), "models", "add", str(mmproj)])
    assert result.exit_code == 1
    assert "proj.gguf is a vision projector" in result.output
    _, out = run(lib, "list", "--json")
    assert all(json.loads(line)["builtin"] for line in out.splitlines())


def test_device_command_persists(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    code, out = run(lib, "device", "cpu")
    assert code == 0 and out.startswith("device=cpu")
    code, out = run(lib, "list")
    assert out.startswith("device=cpu")
    code, out = run(lib, "device", "gpu")
    assert code == 0  # persisted; on a machine without a GPU, list says where things run
    code, out = run(lib, "list")
    assert out.startswith("device=gpu")


def test_fetch_without_key_lists_catalog_and_offline_is_plain(tmp_path: Path, monkeypatch) -> None:
    code, out = run(tmp_path / "lib", "fetch")
    assert code == 0 and "clip-vit-b32" in out and "smolvlm-256m" in out
    monkeypatch.setenv("SAEM_OFFLINE", "1")
    code, out = run(tmp_path / "lib", "fetch", "qwen2.5-1.5b")
    assert code == 1 and "saem: error: Saem is offline" in out


def test_convert_refuses_a_folder_that_is_not_a_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "ckpt").mkdir()
    code, out = run(tmp_path / "lib", "convert", str(tmp_path / "ckpt"), str(tmp_path / "out"))
    assert code == 1 and "not a Hugging Face checkpoint (no config.json)" in out


def _text_rows(lib: Path) -> dict[str, dict[str, object]]:
    code, out = run(lib, "list", "--task", "text-embedding", "--json")
    assert code == 0, out
    return {row["id"]: row for row in map(json.loads, out.splitlines())}


def test_list_marks_the_embedder_that_serves_search(tmp_path: Path) -> None:
    """After the progressive upgrade (`--embedder e5`) e5 serves meaning search, so e5 is the
    text embedder in use (USE-m3 stays the model libraries start on); mid-upgrade the list
    says how far."""
    from core.library import Library

    path = tmp_path / "lib"
    lib = Library(path)
    try:
        for body in [
            "# Coffee\n\nespresso beans",
            "# 김치\n\n김치찌개를 끓였다",
            "# Run\n\nlong runs",
        ]:
            lib.notes.create(body)
        lib.indexer_with("e5").run(upgrade=False)  # meaning-searchable with USE-m3 first
        rows = _text_rows(path)
        assert [i for i, r in rows.items() if r["active"]] == ["builtin:usem3"]
        assert rows["builtin:usem3"]["note"] == "serves meaning search"
        lib.indexer.run(limit=1)  # the upgrade to e5 has begun
        done, total = lib.indexer.status().upgrade_progress or (0, 0)
        assert 0 < done < total
        rows = _text_rows(path)
        assert [i for i, r in rows.items() if r["active"]] == ["builtin:usem3"]
        percent = int(100 * done / total)
        assert rows["builtin:e5"]["note"] == (
            f"upgrading meaning search to it: {percent}% ({done:,} / {total:,} chunks)"
        )
        assert lib.indexer.run().switched_model is not None
        assert lib.search.search("espresso", method="dense").embedders[0].startswith("e5")
    finally:
        lib.close()
    rows = _text_rows(path)
    assert [i for i, r in rows.items() if r["active"]] == ["builtin:e5"]
    assert rows["builtin:e5"]["note"] == "serves meaning search"
    assert rows["builtin:usem3"]["note"] == ""
    code, out = run(path, "list", "--task", "text-embedding")
    assert code == 0 and "* builtin:e5" in out and "* builtin:usem3" not in out
    assert "[serves meaning search]" in out
