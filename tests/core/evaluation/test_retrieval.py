"""BEIR evaluation through the real import + index path, on a tiny set written here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import BadPathError, MalformedInputError, UnknownNameError
from core.evaluation.retrieval import (
    evaluate_dataset,
    load_beir,
    mrr_at,
    ndcg_at,
    recall_at,
    score_run,
)
from tests.search_support import HashEmbedder

DOCS = {
    "d1": ("Coffee in Seoul", "Seoul has many small coffee roasters and cafes."),
    "d2": ("Tea ceremony", "The Korean tea ceremony values calm and simplicity."),
    "d3": ("부산 여행", "해운대 바다에서 수영하고 회를 먹었다."),
    "d4": ("Protein", "Adults need protein every day for muscle repair."),
    "d5": ("Bicycles", "A bicycle commute is healthy and cheap."),
}
QUERIES = {"q1": "coffee roasters", "q2": "해운대 바다", "q3": "muscle protein", "q4": "unjudged"}
QRELS = [("q1", "d1", 1), ("q2", "d3", 1), ("q3", "d4", 2)]


def write_beir(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "qrels").mkdir(exist_ok=True)
    with (root / "corpus.jsonl").open("w", encoding="utf-8") as f:
        for doc_id, (title, text) in DOCS.items():
            f.write(
                json.dumps({"_id": doc_id, "title": title, "text": text}, ensure_ascii=False) + "\n"
            )
    with (root / "queries.jsonl").open("w", encoding="utf-8") as f:
        for qid, text in QUERIES.items():
            f.write(json.dumps({"_id": qid, "text": text}, ensure_ascii=False) + "\n")
    lines = ["query-id\tcorpus-id\tscore"] + [f"{q}\t{d}\t{s}" for q, d, s in QRELS]
    (root / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_metrics_by_hand() -> None:
    rel = {"a": 1, "b": 1}
    assert ndcg_at(["a", "b", "c"], rel) == pytest.approx(1.0)
    assert ndcg_at(["c", "a"], {"a": 1}) == pytest.approx(1 / 1.5849625, rel=1e-6)
    assert recall_at(["a", "x"], rel, 10) == 0.5
    assert mrr_at(["x", "y", "a"], rel) == pytest.approx(1 / 3)
    m = score_run({"q": ["a", "b"]}, {"q": rel, "q2": {"z": 1}})
    assert m.queries == 2 and m.ndcg10 == pytest.approx(0.5)


def test_load_beir_reads_layout(tmp_path: Path) -> None:
    data = load_beir(write_beir(tmp_path / "set"))
    assert len(data.corpus) == 5 and data.corpus["d3"][0] == "부산 여행"
    assert set(data.qrels) == {"q1", "q2", "q3"}  # q4 has no judgements


def test_missing_files_are_named(tmp_path: Path) -> None:
    root = write_beir(tmp_path / "set")
    (root / "qrels" / "test.tsv").unlink()
    with pytest.raises(BadPathError, match=r"missing qrels/test.tsv"):
        load_beir(root)
    with pytest.raises(BadPathError):
        load_beir(tmp_path / "nowhere")
    (root / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\n", encoding="utf-8"
    )
    with pytest.raises(MalformedInputError):
        load_beir(root)
    (root / "corpus.jsonl").write_text("{broken\n", encoding="utf-8")
    with pytest.raises(MalformedInputError):
        load_beir(root)


def test_evaluate_through_import_and_index(tmp_path: Path) -> None:
    root = write_beir(tmp_path / "set")
    report = evaluate_dataset(
        root, methods=["bm25", "dense", "hybrid", "rrf"], embedder=HashEmbedder(), workdir=tmp_path
    )
    assert report.documents == 5
    assert set(report.methods) == {"bm25", "dense", "hybrid", "rrf"}
    assert report.methods["bm25"].ndcg10 == pytest.approx(1.0)
    assert report.methods["hybrid"].ndcg10 >= 0.9
    for metrics in report.methods.values():
        assert metrics.queries == 3
        assert 0.0 <= metrics.ndcg10 <= 1.0 and 0.0 <= metrics.recall100 <= 1.0
    assert not list(tmp_path.glob("saem-eval-*"))  # the temporary library is gone


def test_unknown_method_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError):
        evaluate_dataset(write_beir(tmp_path / "set"), methods=["magic"], embedder=HashEmbedder())
