"""`saem index`, `saem search`, `saem eval` through click, on a real temporary library."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from desktop.cli.main import cli
from tests.core.evaluation.test_retrieval import write_beir


def _run(args: list[str]) -> object:
    return CliRunner().invoke(cli, args, catch_exceptions=False)


@pytest.mark.slow
def test_index_then_search_with_real_default_embedder(tmp_path: Path) -> None:
    lib = str(tmp_path / "lib")
    assert (
        _run(
            [
                "--library",
                lib,
                "notes",
                "new",
                "--title",
                "Cafe",
                "--body",
                "# Cafe\n\n서울에서 커피를 마셨다. Good espresso.",
            ]
        ).exit_code
        == 0
    )
    status = _run(["--library", lib, "index", "--status", "--json"])
    assert json.loads(status.output)["pending"] == 1
    result = _run(["--library", lib, "index"])
    assert result.exit_code == 0, result.output
    assert "Indexed 1 item" in result.output and "idle" in result.output
    found = _run(["--library", lib, "search", "커피", "--json"])
    data = json.loads(found.output)
    assert data["hits"][0]["title"] == "Cafe" and "keyword" in data["hits"][0]["reasons"]
    assert "dense" in data["methods"]
    text = _run(["--library", lib, "search", "espresso"])
    assert "Cafe" in text.output


def test_search_bad_input_is_one_clear_line(tmp_path: Path) -> None:
    lib = str(tmp_path / "lib")
    for query, message in [
        ("colour:red", "Unknown filter"),
        ('"', "no words"),
        ("x" * 10_000, "too long"),
    ]:
        result = CliRunner().invoke(cli, ["--library", lib, "search", query])
        assert result.exit_code == 1
        assert message in result.output and "Traceback" not in result.output


def test_search_empty_library_says_no_results(tmp_path: Path) -> None:
    result = _run(["--library", str(tmp_path / "lib"), "search", "anything"])
    assert result.exit_code == 0 and "No matches" in result.output


def test_eval_missing_files_message(tmp_path: Path) -> None:
    root = write_beir(tmp_path / "set")
    (root / "queries.jsonl").unlink()
    result = CliRunner().invoke(cli, ["eval", "--dataset", str(root)])
    assert result.exit_code == 1
    assert "missing queries.jsonl" in result.output


@pytest.mark.slow
def test_eval_prints_metrics_table(tmp_path: Path) -> None:
    root = write_beir(tmp_path / "set")
    result = _run(["eval", "--dataset", str(root), "--methods", "bm25,hybrid", "--json"])
    data = json.loads(result.output.strip().splitlines()[-1])
    assert data["documents"] == 5
    assert data["methods"]["bm25"]["nDCG@10"] == 1.0
    assert set(data["methods"]["hybrid"]) >= {"nDCG@10", "Recall@10", "Recall@100", "MRR@10"}
