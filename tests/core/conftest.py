"""Fixtures for core tests (the vault builder lives in tests_vault.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.vault import _photo, build_vault


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return build_vault(tmp_path / "vault")


@pytest.fixture
def make_photo():
    return _photo
