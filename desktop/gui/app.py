"""Starting the GUI: the QApplication (fonts with a Korean fallback, system light/dark,
high-DPI), the library, the demo content for an empty library, and the main window."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from desktop.gui.main_window import MainWindow
from desktop.gui.theme import Mode, apply_theme

if TYPE_CHECKING:
    from core.library import Library


def make_app(argv: list[str] | None = None, *, appearance: Mode | None = None) -> QApplication:
    """The one QApplication (reused when it exists, as under pytest-qt), styled by
    ``desktop.gui.theme`` in ``appearance`` (default: the saved choice, else the system's
    light/dark; ``SAEM_APPEARANCE`` overrides)."""
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
        app = QApplication(argv if argv is not None else sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Saem")
    app.setOrganizationName("Saem")
    app.setApplicationDisplayName("Saem")
    if appearance is None:
        import os

        saved = os.environ.get("SAEM_APPEARANCE") or QSettings("Saem", "Saem").value(
            "appearance", "system"
        )
        modes: dict[object, Mode] = {"system": "system", "light": "light", "dark": "dark"}
        appearance = modes.get(saved, "system")
    apply_theme(app, appearance)
    return app


def open_window(
    library: Library, *, settings: QSettings | None = None, auto_index: bool = True
) -> MainWindow:
    window = MainWindow(library, settings=settings, auto_index=auto_index)
    window.load()
    return window


def ensure_demo(library: Library) -> bool:
    """Fill an empty library with the demo notes and photos."""
    from core.demo import ensure_demo_library

    if not library.is_empty():
        return False
    return bool(ensure_demo_library(library))


def _close_on_signals(window: MainWindow) -> None:
    """Ctrl+C in the terminal (or SIGTERM) closes the window properly: the open note is
    saved and background work stops at a safe point."""
    import signal

    from PySide6.QtCore import QTimer

    def close(*_args: object) -> None:
        window.close()

    signal.signal(signal.SIGINT, close)
    signal.signal(signal.SIGTERM, close)
    timer = QTimer(window)  # lets the Python interpreter run signal handlers
    timer.start(250)
    timer.timeout.connect(lambda: None)


def run(library_path: Path | None, *, demo: bool = True, auto_index: bool = True) -> int:
    """`saem open`: show the window and run the event loop until it closes."""
    from core.library import Library

    app = make_app()
    library = Library(library_path)
    try:
        if demo:
            ensure_demo(library)
        window = open_window(library, auto_index=auto_index)
        window.show()
        _close_on_signals(window)
        return app.exec()
    finally:
        library.close()
