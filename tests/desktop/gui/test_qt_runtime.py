"""The installed Qt binding must not leak references to None (PySide6 6.12.0 on Python 3.11
drops one per call to a void method, and the app dies with "deallocating None" within a few
thousand repaints). pyproject pins a release without the bug; this guards the pin."""

from __future__ import annotations

import sys

import pytest

pytestmark = pytest.mark.gui


def test_void_calls_keep_none_alive(qapp):
    from PySide6.QtWidgets import QWidget

    widget = QWidget()
    before = sys.getrefcount(None)
    for _ in range(2000):
        widget.update()
    assert before - sys.getrefcount(None) < 100
