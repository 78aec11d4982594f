"""`saem open` on an empty library: the demo content is added and the window opens."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_saem_open_fills_an_empty_library_with_the_demo(qapp, tmp_path):
    from click.testing import CliRunner
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from core.library import Library
    from desktop.cli.main import cli
    from desktop.gui.main_window import MainWindow

    shown: list[str] = []

    def close_when_ready() -> None:
        windows = [
            w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()
        ]
        if windows and windows[0]._pending_loads == 0:
            shown.append(windows[0].windowTitle())
            windows[0].close()
        else:
            QTimer.singleShot(50, close_when_ready)

    QTimer.singleShot(0, close_when_ready)
    result = CliRunner().invoke(cli, ["--library", str(tmp_path / "lib"), "open", "--no-index"])
    assert result.exit_code == 0, result.output
    assert shown and "lib" in shown[0]
    with Library(tmp_path / "lib") as library:
        stats = library.stats()
    assert stats.notes > 0 and stats.photos > 0
