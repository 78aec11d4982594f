"""The window's menus (File, View, Go, Tools) and the palette's commands: one list of what the
app can do, each bound to a :class:`~desktop.gui.main_window.MainWindow` slot."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from desktop.gui.palette.palette import Command
from desktop.gui.theme import Mode
from desktop.gui.window_parts import SECTIONS

if TYPE_CHECKING:
    from desktop.gui.main_window import MainWindow

APPEARANCES: list[tuple[Mode, str]] = [
    ("system", "&System"),
    ("light", "&Light"),
    ("dark", "&Dark"),
]


def build_menus(window: MainWindow) -> None:
    """Fill the window's menu bar; the shortcuts live on the actions."""

    def action(menu: Any, text: str, slot: Any, shortcut: str | None = None) -> QAction:
        act = QAction(text, window)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    action(file_menu, "&New note", window.new_note, "Ctrl+N")
    action(file_menu, "Import Markdown &folder or vault…", lambda: window.open_import("folder"))
    action(file_menu, "Import &photos…", lambda: window.open_import("photos"))
    file_menu.addSeparator()
    action(file_menu, "&Quit", window.close, "Ctrl+Q")
    view = bar.addMenu("&View")
    appearance = view.addMenu("&Appearance")
    group = QActionGroup(window)
    current = str(window.settings.value("appearance", "system") or "system")
    for mode, label in APPEARANCES:
        act = action(appearance, label, lambda _=False, m=mode: window.set_appearance(m))
        act.setCheckable(True)
        act.setChecked(mode == current)
        group.addAction(act)
    action(view, "Next &pane", window.focus_next_pane, "F6")
    go = bar.addMenu("&Go")
    action(go, "&Search…", window.open_palette)
    action(go, "&Related items", lambda: window.related.list.setFocus(), "Ctrl+R")
    for i, name in enumerate(SECTIONS):
        action(go, name, lambda _=False, i=i: window.show_section(i), f"Ctrl+{i + 1}")
    tools = bar.addMenu("&Tools")
    action(tools, "Sync &now", window.sync_now)
    action(tools, "&Devices…", window.open_devices)
    action(tools, "&Models…", window.open_models)
    action(tools, "&Index now", window.status.run_index)


def palette_commands(window: MainWindow) -> list[Command]:
    """What Ctrl+K offers besides search results (matched by name and keywords)."""
    return [
        Command("New note", "create write", window.new_note),
        Command(
            "Import folder or vault…",
            "markdown obsidian import",
            lambda: window.open_import("folder"),
        ),
        Command("Import photos…", "pictures images import", lambda: window.open_import("photos")),
        Command("Sync now", "peers devices sync", window.sync_now),
        Command("Switch model…", "models llm embedder device gpu cpu", window.open_models),
        Command("Devices…", "pair peers sync qr", window.open_devices),
        Command("Index now", "reindex indexing", window.status.run_index),
        Command("Ask about photo", "chat photo", lambda: window.chat.about_photo(window.viewer)),
        Command("Dark appearance", "theme dark mode night", lambda: window.set_appearance("dark")),
        Command("Light appearance", "theme light mode day", lambda: window.set_appearance("light")),
    ]
