"""`saem photos show` prints the text Saem read in the photo (issue 18, defect 3), as lines
and in `--json`, and says when the photo has not been read yet."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from core.indexing.indexer import Indexer
from core.library import Library
from desktop.cli.main import cli
from models.protocols import OcrLine
from tests.fixtures.vault import _photo
from tests.search_support import HashEmbedder


class TwoBlockOcr:
    """Fake OCR engine at the OcrEngine Protocol boundary: a sign with two text blocks."""

    model_id = "fixed-ocr"

    def read(self, image: object) -> list[OcrLine]:
        return [
            OcrLine("경복궁 Gyeongbokgung", 0.95, (10, 5, 200, 30), 0, 0, "fixed"),
            OcrLine("입장료 3,000원", 0.9, (10, 35, 160, 60), 0, 1, "fixed"),
            OcrLine("OPEN 09:00", 0.8, (10, 90, 120, 110), 1, 0, "fixed"),
        ]

    def close(self) -> None:
        pass


def _show(library_path: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--library", str(library_path), "photos", "show", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_photos_show_prints_the_ocr_text(library_path: Path, tmp_path: Path) -> None:
    _photo(tmp_path / "sign.jpg", (200, 200, 200))
    with Library(library_path) as lib:
        photo_id, _ = lib.photos.add(tmp_path / "sign.jpg")
    assert "not read yet" in _show(library_path, photo_id[:8])
    with Library(library_path) as lib:
        report = Indexer(lib, HashEmbedder(), ocr=TwoBlockOcr(), auto_models=False).run()
        assert report.failed == 0, report.errors
    text = _show(library_path, photo_id[:8])
    assert "3 line(s) read" in text
    lines = text.splitlines()
    start = lines.index("  경복궁 Gyeongbokgung")
    assert lines[start : start + 4] == [
        "  경복궁 Gyeongbokgung",
        "  입장료 3,000원",
        "",
        "  OPEN 09:00",
    ]
    data = json.loads(_show(library_path, photo_id[:8], "--json"))
    assert [ln["text"] for ln in data["ocr_lines"]] == [
        "경복궁 Gyeongbokgung",
        "입장료 3,000원",
        "OPEN 09:00",
    ]
    assert data["ocr_lines"][2]["block"] == 1 and data["ocr_lines"][0]["box"] == [10, 5, 200, 30]
