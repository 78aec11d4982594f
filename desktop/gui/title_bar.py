"""The title-bar area: a search field that opens the palette, and New note · Import · Ask."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QPushButton, QSizePolicy, QToolBar, QWidget

from desktop.gui.theme import icons


class TitleBar(QToolBar):
    search = Signal()
    new_note = Signal()
    import_folder = Signal()
    import_photos = Signal()
    ask = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Title bar", parent)
        self.setObjectName("TitleBar")
        self.setMovable(False)
        self.setFloatable(False)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)
        self.search_field = QPushButton("Search notes, photos and chats…", self)
        self.search_field.setObjectName("SearchField")
        self.search_field.setAccessibleName("Search (Ctrl+K)")
        self.search_field.setToolTip("Search everything, run a command or ask (Ctrl+K)")
        self.search_field.clicked.connect(self.search)
        left = QWidget(self)
        left.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        right = QWidget(self)
        right.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.addWidget(left)
        self.addWidget(self.search_field)
        self.addWidget(right)
        self.new_button = self._button("New note", "notebook-pen", "New note (Ctrl+N)")
        self.new_button.clicked.connect(self.new_note)
        self.import_button = self._button("Import", "download", "Import notes or photos")
        menu = QMenu(self.import_button)
        self.import_folder_action = QAction("Markdown folder or vault…", menu)
        self.import_folder_action.triggered.connect(self.import_folder)
        self.import_photos_action = QAction("Photos…", menu)
        self.import_photos_action.triggered.connect(self.import_photos)
        menu.addAction(self.import_folder_action)
        menu.addAction(self.import_photos_action)
        self.import_button.setMenu(menu)
        self.ask_button = self._button("Ask", "sparkles", "Ask your notes and photos")
        self.ask_button.setProperty("variant", "primary")
        self.ask_button.clicked.connect(self.ask)
        self.refresh_icons()

    def _button(self, text: str, icon_name: str, tip: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setProperty("icon_name", icon_name)
        button.setProperty("variant", "ghost")
        button.setToolTip(tip)
        button.setAccessibleName(text)
        self.addWidget(button)
        return button

    def refresh_icons(self) -> None:
        """After a theme change: icons are tinted with the scheme's colours."""
        self.search_field.setIcon(icons.icon("search", "faint"))
        for button in (self.new_button, self.import_button, self.ask_button):
            token = "on_accent" if button.property("variant") == "primary" else "text"
            button.setIcon(icons.icon(str(button.property("icon_name")), token))
