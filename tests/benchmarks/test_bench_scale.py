"""bench_scale runs end to end at a tiny size (so the script cannot rot), and the library it
generates is a whole, fully indexed library (the same checks as `saem doctor`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # loads the packaged USE-m3 (query embeddings and a few real passages)
def test_bench_scale_tiny_library_is_whole_and_searchable(tmp_path: Path) -> None:
    root = tmp_path / "scale"
    out = tmp_path / "figures.json"
    args = [sys.executable, str(REPO / "benchmarks" / "bench_scale.py")]
    args += ["--notes", "300", "--photos", "30", "--baseline-notes", "0", "--queries", "24"]
    args += ["--real-chunks", "40", "--library", str(root), "--json", str(out)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| hybrid p95 |" in done.stdout
    assert "| peak RSS (open + all queries) |" in done.stdout

    (result,) = json.loads(out.read_text(encoding="utf-8"))
    lib_info, measured = result["library"], result["measure"]
    assert (lib_info["notes"], lib_info["photos"]) == (300, 30)
    assert lib_info["jobs"]["done"] > 0
    assert lib_info["pending"] == 0 and lib_info["jobs"]["failed"] == 0
    assert lib_info["chunks"] > 330
    assert result["generation"]["real_vectors"] == 40
    assert result["generation"]["hashed_vectors"] > 0
    assert measured["first_search_hits"] > 0
    assert "dense" in measured["first_search_methods"]  # the real query embedder answered
    assert measured["n_queries"] == 24
    assert measured["queries_with_hits"]["hybrid"] >= 18
    assert measured["queries_with_hits"]["bm25"] >= 12
    assert measured["latency"]["palette keystroke (suggest)"]["n"] > 24
    assert len(result["cli_search_ms"]) == 3
    assert result["disk_mb"]["blobs"] > 0 and result["disk_mb"]["thumbs"] > 0

    from core.doctor import run_doctor
    from core.library import Library

    with Library(root, create=False) as lib:
        report = run_doctor(lib)
        assert report.ok, report
        assert not report.missing_thumbs and not report.orphan_blobs
        counts = dict(lib.db.query("SELECT owner_kind, COUNT(*) FROM vectors GROUP BY owner_kind"))
        assert counts["chunk"] == lib_info["chunks"]  # every chunk has its vector
        assert counts["photo"] > 0
        assert lib.db.scalar("SELECT COUNT(*) FROM ocr_lines") > 0
        assert lib.db.scalar("SELECT COUNT(*) FROM links WHERE dst_item_id IS NOT NULL") > 0
        assert lib.photos.get(lib.list_items("photo", limit=1)[0].id).meta.taken_at
