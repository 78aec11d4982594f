"""The visual system, in one place: tokens (spacing, type, colours for light and dark),
the QSS and QPalette made from them, the bundled icon set, and painting helpers for delegates.

``apply_theme(app, "system" | "light" | "dark")`` styles the whole application; widgets never
set their own style sheet or colours (they use ``variant``/``role`` properties the QSS knows,
and read ``colors()`` when they paint)."""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import QApplication

from desktop.gui.theme import icons
from desktop.gui.theme.palette import make_palette
from desktop.gui.theme.qss import stylesheet
from desktop.gui.theme.tokens import (
    TYPE_BODY,
    UI_FONTS,
    Scheme,
    colors,
    current_scheme,
    set_current_scheme,
)

Mode = Literal["system", "light", "dark"]

__all__ = ["Mode", "apply_theme", "colors", "current_scheme", "icons", "system_scheme"]


def system_scheme() -> Scheme:
    hints = QGuiApplication.styleHints()
    dark = hints is not None and hints.colorScheme() == Qt.ColorScheme.Dark
    return "dark" if dark else "light"


def apply_theme(app: QApplication, mode: Mode = "system") -> Scheme:
    """Style ``app`` in ``mode`` (``system`` follows the desktop's light/dark setting)."""
    scheme: Scheme = system_scheme() if mode == "system" else mode
    set_current_scheme(scheme)
    icons.clear_cache()
    app.setStyle("Fusion")
    font = QFont(app.font())
    font.setFamilies(UI_FONTS)  # Hangul falls back to Nanum/Noto when the first font lacks it
    font.setPixelSize(TYPE_BODY)
    font.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    app.setFont(font)
    app.setPalette(make_palette(colors(scheme)))
    arrow = icons.icon_file("chevron-down", "muted").as_posix()
    app.setStyleSheet(stylesheet(colors(scheme), arrow))
    return scheme
