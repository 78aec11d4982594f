"""The ``QPalette`` of each scheme, from the colour tokens (what Fusion paints with where the
QSS says nothing: scroll bars, menus, text cursors, tooltips, disabled text)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

from desktop.gui.theme.tokens import Colors


def make_palette(c: Colors) -> QPalette:
    pal = QPalette()
    role = QPalette.ColorRole
    for r, value in {
        role.Window: c.window,
        role.WindowText: c.text,
        role.Base: c.surface,
        role.AlternateBase: c.window,
        role.ToolTipBase: c.raised,
        role.ToolTipText: c.text,
        role.PlaceholderText: c.faint,
        role.Text: c.text,
        role.Button: c.surface,
        role.ButtonText: c.text,
        role.BrightText: c.danger,
        role.Light: c.surface,
        role.Midlight: c.border,
        role.Mid: c.border_strong,
        role.Dark: c.border_strong,
        role.Shadow: "#000000",
        role.Highlight: c.accent_soft,
        role.HighlightedText: c.text,
        role.Link: c.link,
        role.LinkVisited: c.link,
        role.Accent: c.accent,
    }.items():
        pal.setColor(r, QColor(value))
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.WindowText, role.Text, role.ButtonText):
        pal.setColor(disabled, r, QColor(c.faint))
    return pal
