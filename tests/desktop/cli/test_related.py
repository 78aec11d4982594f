"""`saem related`, `saem stats related|prune|sync` through click's runner on a real library.

Vectors come from a deterministic tiny hashing embedder (test double at the TextEmbedder
Protocol boundary), stored the way the indexer stores them.
"""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from core.events import EventLog
from core.library import Library
from desktop.cli.main import cli
from desktop.cli.related import parse_age
from tests.core.related.test_recommender import NOTES, index_item


@pytest.fixture
def lib_path(tmp_path):
    path = tmp_path / "lib"
    with Library(path) as lib:
        ids = {}
        for title, body in NOTES.items():
            ids[title] = lib.notes.create(body, title=title)
            index_item(lib, ids[title], [("body", body)])
        log = EventLog(lib)
        now = time.time()
        log.record("open", ids["dog"], ts=now - 40 * 86_400)
        log.record("open", ids["tea"], ts=now - 40 * 86_400 + 5)
        log.record(
            "impression",
            ids["dog"],
            ts=now - 100,
            data={
                "panel": "related",
                "items": [ids["dog2"], ids["tea"]],
                "reasons": [["content"], ["walk"]],
            },
        )
        log.record(
            "click",
            ids["dog2"],
            ts=now - 90,
            data={"from": "related", "source_item": ids["dog"], "rank": 1, "reasons": ["content"]},
        )
    return path, ids


def run(path, *args):
    return CliRunner().invoke(cli, ["--library", str(path), *args], catch_exceptions=False)


def test_related_text_and_json(lib_path):
    path, ids = lib_path
    out = run(path, "related", ids["coffee"][:10], "--limit", "3")
    assert out.exit_code == 0, out.output
    lines = out.output.rstrip().splitlines()
    assert len(lines) == 3 and lines[0].startswith(" 1. ")
    assert "coffee" in lines[0] and "similar content" in lines[0]
    out = run(path, "related", ids["coffee"], "--json", "--exclude", ids["coffee2"])
    rows = [json.loads(line) for line in out.output.splitlines()]
    assert rows and {"rank", "id", "kind", "title", "score", "reasons", "sources"} <= set(rows[0])
    assert ids["coffee2"] not in {r["id"] for r in rows}


def test_related_bad_input(lib_path):
    path, ids = lib_path
    out = run(path, "related", "zzzz")
    assert out.exit_code == 1 and "No item" in out.output
    out = run(path, "related", ids["dog"], "--limit", "0")
    assert out.exit_code == 1 and "--limit" in out.output


def test_stats_related_and_prune(lib_path):
    path, _ = lib_path
    out = run(path, "stats", "related", "--json")
    data = json.loads(out.output)
    assert (data["impressions"], data["items_shown"], data["clicks"]) == (1, 2, 1)
    assert data["ctr"] == 1.0 and data["sync"] is False
    text = run(path, "stats", "related").output
    assert "CTR (per panel)  100.0%" in text
    out = run(path, "stats", "prune", "--older-than", "30d")
    assert out.exit_code == 0 and "Deleted 2 events" in out.output
    assert json.loads(run(path, "stats", "related", "--json").output)["events"] == {
        "click": 1,
        "impression": 1,
    }
    out = run(path, "stats", "prune", "--older-than", "soon")
    assert out.exit_code == 1 and "90d" in out.output


def test_stats_sync_switch(lib_path):
    path, _ = lib_path
    assert "off" in run(path, "stats", "sync").output
    assert "on" in run(path, "stats", "sync", "on").output
    assert json.loads(run(path, "stats", "related", "--json").output)["sync"] is True


def test_parse_age():
    assert parse_age("90d") == 90 * 86_400
    assert parse_age("12h") == 12 * 3600
    assert parse_age("2") == 2 * 86_400
