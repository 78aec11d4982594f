"""`saem ask`, `saem photo-chat`, `saem chats …` through click's runner on a real library:
notes indexed with the packaged text embedder, the tiny random llama registered as the
library's chat model (random words, so the tests check structure, not wording)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.indexing.indexer import Indexer
from core.library import Library
from desktop.cli.main import cli
from storage.chunks import OcrLineRow, replace_ocr_lines
from tests.core.assistant.test_service import CHEESE, DOGS, _receipt


@pytest.fixture(scope="module")
def lib_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.fixtures import tiny_models

    root = tmp_path_factory.mktemp("cli-chat")
    default, tiny_models.N_CTX = tiny_models.N_CTX, 4096
    try:
        gguf = tiny_models.tiny_llama_gguf(root / "tiny-chat.gguf")
    finally:
        tiny_models.N_CTX = default
    path = root / "lib"
    with Library(path) as lib:
        lib.notes.create(CHEESE)
        lib.notes.create(DOGS)
        photo, _ = lib.photos.add(_receipt(root / "receipt.png", "TOTAL 12,500"))
        lib.photos.set_tags(photo, ["receipt"])
        Indexer(lib, auto_models=False).run()
        with lib.db.transaction():  # what an OCR engine found (the indexer ran without OCR)
            lines = [OcrLineRow(0, 0, "TOTAL", 0.98, (40, 150, 90, 165)),
                     OcrLineRow(1, 0, "12,500", 0.97, (200, 151, 260, 166))]  # fmt: skip
            replace_ocr_lines(lib.db, photo, lines)
        lib.models.add([gguf], task="chat", use=True, meta={"context_tokens": 2048})
    (root / "photo-id").write_text(photo)
    return path


def run(path: Path, *args: str):
    return CliRunner().invoke(cli, ["--library", str(path), *args], catch_exceptions=False)


def test_ask_streams_prints_sources_and_continues_a_chat(lib_path: Path) -> None:
    first = run(lib_path, "ask", "Where does brie cheese come from?", "--max-tokens", "8")
    assert first.exit_code == 0, first.output
    assert "Sources:" in first.stdout and "[1] Cheese" in first.stdout
    # the instant answer comes first: a verbatim sentence of the note, its source and link
    assert first.stdout.startswith("Instant answer (")
    assert "Brie is a soft cheese from France" in first.stdout.split("Sources:")[0]
    assert "saem://note/" in first.stdout
    chat = first.stderr.split("continue with --chat ")[1].split()[0]
    again = run(lib_path, "ask", "and cheddar?", "--chat", chat, "--max-tokens", "4", "--json")
    assert again.exit_code == 0, again.output
    data = json.loads(again.stdout)
    assert data["chat_id"].startswith(chat) and data["text"]  # random weights may stop at once
    assert isinstance(data["unsupported"], list) and "instant" in data
    shown = run(lib_path, "chats", "show", chat)
    assert shown.exit_code == 0
    assert shown.stdout.count("\nYou: ") == 2 and shown.stdout.count("\nSaem: ") == 2
    assert "Where does brie cheese come from?" in run(lib_path, "chats", "list").stdout
    found = run(lib_path, "chats", "search", "brie")
    assert chat in found.stdout


def test_instant_only_answers_without_a_model(lib_path: Path) -> None:
    result = run(lib_path, "ask", "Where is cheddar from?", "--instant", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)["instant"]
    assert "Cheddar is a hard cheese from Somerset in England" in found["text"]
    assert found["qtype"] == "place" and found["link"].startswith("saem://note/")
    photo = (lib_path.parent / "photo-id").read_text()[:8]
    total = run(lib_path, "photo-chat", photo, "What is the total?", "--instant", "--json")
    assert json.loads(total.stdout)["instant"]["answer"] == "12,500"
    nothing = run(lib_path, "ask", "quantum chromodynamics lattice", "--instant")
    assert nothing.exit_code == 0 and "No sentence" in nothing.stderr
    assert run(lib_path, "chats", "list").stdout.count("Where is cheddar from?") == 0


def test_photo_chat_says_it_cannot_see_without_a_vision_model(lib_path: Path) -> None:
    photo = (lib_path.parent / "photo-id").read_text()[:8]
    result = run(lib_path, "photo-chat", photo, "what is the total?", "--max-tokens", "4")
    assert result.exit_code == 0, result.output
    assert "cannot see this photo" in result.stderr
    like = run(lib_path, "photo-chat", photo, "find photos like this", "--json")
    assert like.exit_code == 0 and json.loads(like.stdout)["photo_hits"] == []


def test_errors_are_one_line_and_store_nothing(lib_path: Path) -> None:
    before = run(lib_path, "chats", "list", "--json").stdout
    for args, message in [
        (("ask", "  "), "Ask a question"),
        (("ask", "cheese " * 2000), "characters long"),
        (("ask", "cheese " * 1100), "tokens long"),
        (("ask", "hi", "--chat", "ffffffff"), "No chat with id"),
        (("photo-chat", "0000", "hi"), "No photo with id"),
        (("chats", "show", "nope"), "No chat with id"),
    ]:
        result = run(lib_path, *args)
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr.startswith("saem: error:") and message in result.stderr
        assert result.stderr.count("\n") == 1
    assert run(lib_path, "chats", "list", "--json").stdout == before
