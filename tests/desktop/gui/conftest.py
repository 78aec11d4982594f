"""GUI fixtures: the app on a temp library (offscreen), and a check for leaked windows."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def no_leaked_windows(qapp: object) -> Iterator[None]:
    """Fail a test that leaves a visible top-level widget behind."""
    from PySide6.QtWidgets import QApplication

    before = {id(w) for w in QApplication.topLevelWidgets() if w.isVisible()}
    yield
    QApplication.processEvents()
    leaked = [w for w in QApplication.topLevelWidgets() if w.isVisible() and id(w) not in before]
    for widget in leaked:
        widget.close()
    assert not leaked, f"leaked top-level widgets: {[type(w).__name__ for w in leaked]}"


@pytest.fixture
def settings(tmp_path: Path) -> object:
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot: object, library: object, settings: object) -> Iterator[object]:
    from desktop.gui.app import make_app, open_window

    make_app()
    from PySide6.QtWidgets import QApplication

    win = open_window(library, settings=settings, auto_index=False)
    win.show()
    win.activateWindow()  # window shortcuts (Ctrl+N) need the active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=5_000)  # type: ignore
    qtbot.waitUntil(lambda: win._pending_loads == 0, timeout=10_000)  # type: ignore[attr-defined]
    yield win
    win.close()


@pytest.fixture
def settle(qtbot: object) -> object:
    """``settle(window)``: wait until the window's background operations reported back."""

    def wait(window: object, timeout: int = 10_000) -> None:
        qtbot.waitUntil(lambda: window.ops.in_flight == 0, timeout=timeout)  # type: ignore

    return wait


@pytest.fixture
def type_text(qtbot: object) -> object:
    """Type like a user: ASCII through key clicks, Hangul as the input method commits it."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QInputMethodEvent
    from PySide6.QtWidgets import QApplication

    def type_(widget: object, text: str) -> None:
        for ch in text:
            if ch == "\n":
                qtbot.keyClick(widget, Qt.Key.Key_Return)  # type: ignore[attr-defined]
            elif ch.isascii():
                qtbot.keyClicks(widget, ch)  # type: ignore[attr-defined]
            else:
                event = QInputMethodEvent("", [])
                event.setCommitString(ch)
                QApplication.sendEvent(widget, event)

    return type_
