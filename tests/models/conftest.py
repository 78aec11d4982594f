"""Tiny model files built once per session (real formats, random weights)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.tiny_models import tiny_llama_gguf


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_llama_gguf(tmp_path_factory.mktemp("tiny") / "tiny-llama-q8_0.gguf")
