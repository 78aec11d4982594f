"""The main window's parts, built once: the sidebar, the middle pages (each a list with its
empty state), and the detail stack. A mixin so ``main_window.py`` keeps to behaviour."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.gui.chat.chat_panel import ChatPanel
from desktop.gui.empty_state import EmptyState
from desktop.gui.notes.item_list import (
    COUNT_ROLE,
    ID_ROLE,
    SORTS,
    CountDelegate,
    NoteDelegate,
    NoteListModel,
    item_rows_model,
    note_source,
    tag_rows_model,
)
from desktop.gui.notes.note_editor import NoteEditor
from desktop.gui.operations import Operations
from desktop.gui.pages import Page
from desktop.gui.photos.photo_grid import PhotoGrid
from desktop.gui.photos.photo_viewer import PhotoViewer
from desktop.gui.related_panel import RelatedPanel
from desktop.gui.rows_model import RowsModel
from desktop.gui.theme import icons
from desktop.gui.theme.tokens import SPACE_L, SPACE_S
from desktop.gui.welcome import Welcome

if TYPE_CHECKING:
    from core.library import Library

SECTIONS = ["Notes", "Photos", "Chats", "Tags", "Devices"]
SECTION_ICONS = ["file-text", "image", "messages-square", "hash", "monitor-smartphone"]
NOTES, PHOTOS, CHATS, TAGS, DEVICES = range(5)


def _list_view(parent: QWidget, name: str, model: Any, delegate: Any = None) -> QListView:
    view = QListView(parent)
    view.setAccessibleName(name)
    view.setModel(model)
    view.setMouseTracking(True)  # hover states
    view.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
    if delegate is not None:
        view.setItemDelegate(delegate(view))
    return view


class WindowParts:
    """Mixed into ``MainWindow``; the attributes below are its public widgets."""

    library: Library
    ops: Operations
    settings: QSettings

    # -- sidebar -------------------------------------------------------------------------------

    def _build_sidebar(self) -> None:
        parent: Any = self
        self.sidebar_panel = QWidget(parent)
        self.sidebar_panel.setObjectName("Sidebar")
        self.sidebar_panel.setMinimumWidth(160)
        brand = QLabel("Saem  <span style='font-weight:400'>샘</span>", self.sidebar_panel)
        brand.setProperty("role", "title")
        caption = QLabel("LIBRARY", self.sidebar_panel)
        caption.setProperty("role", "section")
        self.sidebar = QListWidget(self.sidebar_panel)
        self.sidebar.setObjectName("Sidebar")
        self.sidebar.setAccessibleName("Sections")
        self.sidebar.setItemDelegate(CountDelegate(self.sidebar, row_height=36))
        self.sidebar.setMouseTracking(True)
        for name in SECTIONS:
            self.sidebar.addItem(QListWidgetItem(name))
        layout = QVBoxLayout(self.sidebar_panel)
        layout.setContentsMargins(0, SPACE_L, 0, SPACE_S)
        layout.setSpacing(SPACE_S)
        for label in (brand, caption):
            label.setContentsMargins(SPACE_L + 2, 0, SPACE_L, 0)
        layout.addWidget(brand)
        layout.addSpacing(SPACE_S)
        layout.addWidget(caption)
        layout.addWidget(self.sidebar, 1)
        self._sidebar_icons()

    def _sidebar_icons(self) -> None:
        for i, name in enumerate(SECTION_ICONS):
            item = self.sidebar.item(i)
            item.setIcon(icons.icon(name, "muted"))
            item.setToolTip(f"{SECTIONS[i]} (Ctrl+{i + 1})")

    def set_count(self, section: int, count: int | None) -> None:
        item = self.sidebar.item(section)
        item.setData(COUNT_ROLE, count)
        suffix = "" if count is None else f", {count:,}"
        item.setData(Qt.ItemDataRole.AccessibleTextRole, SECTIONS[section] + suffix)

    # -- middle --------------------------------------------------------------------------------

    def _build_middle(self) -> None:
        window: Any = self
        library = self.library
        # notes
        self.notes_model = NoteListModel(window)
        order = str(self.settings.value("notes/order", "updated") or "updated")
        self.notes_model.order = order if order in SORTS else "updated"
        self.notes_model.set_source(note_source(library, lambda: self.notes_model.order), self.ops)
        self.notes_view = _list_view(window, "Notes", self.notes_model, NoteDelegate)
        self.notes_sort = QComboBox(window)
        self.notes_sort.setAccessibleName("Sort notes by")
        self.notes_sort.setToolTip("Sort notes by")
        for key, label in SORTS.items():
            self.notes_sort.addItem(label, key)
        self.notes_sort.setCurrentIndex(list(SORTS).index(self.notes_model.order))
        self.notes_sort.currentIndexChanged.connect(window._sort_changed)
        self.notes_page = Page(
            "Notes",
            self.notes_view,
            EmptyState(
                "file-text",
                "No notes yet",
                "Write your first note, or bring in a Markdown folder or an Obsidian vault.",
                [
                    ("New note", window.new_note),
                    ("Import notes…", lambda: window.open_import("folder")),
                ],
            ),
            [self.notes_sort],
        )
        # photos
        self.photo_grid = PhotoGrid(window)
        self.photos_page = Page(
            "Photos",
            self.photo_grid,
            EmptyState(
                "image",
                "No photos yet",
                "Import a folder of photos: Saem reads their dates, places and the text in them.",
                [("Import photos…", lambda: window.open_import("photos"))],
            ),
        )
        # chats
        self.chats_model = RowsModel(
            {
                Qt.ItemDataRole.DisplayRole: lambda r: r.title or "Untitled chat",
                Qt.ItemDataRole.AccessibleTextRole: lambda r: f"Chat: {r.title or 'Untitled'}",
                ID_ROLE: lambda r: r.id,
                COUNT_ROLE: lambda r: r.messages or None,
                Qt.ItemDataRole.DecorationRole: lambda r: icons.icon(
                    "image" if r.photo_item_id else "messages-square", "muted"
                ),
            },
            window,
            key=lambda r: r.id,
        )
        self.chats_view = _list_view(
            window, "Chats", self.chats_model, lambda v: CountDelegate(v, row_height=40)
        )
        new_chat = QPushButton("New chat", window)
        new_chat.setProperty("variant", "ghost")
        new_chat.clicked.connect(window.start_new_chat)
        self.chats_page = Page(
            "Chats",
            self.chats_view,
            EmptyState(
                "messages-square",
                "No chats yet",
                "Ask a question about your notes and photos; every answer shows its sources.",
                [("Ask a question", window.start_new_chat)],
            ),
            [new_chat],
        )
        # tags
        self.tags_model = tag_rows_model(window)
        self.tags_view = _list_view(
            window, "Tags", self.tags_model, lambda v: CountDelegate(v, row_height=32)
        )
        self.tagged_model = item_rows_model(window)
        self.tagged_view = _list_view(
            window,
            "Items with the tag",
            self.tagged_model,
            lambda v: CountDelegate(v, row_height=32),
        )
        tags_split = QSplitter(Qt.Orientation.Vertical, window)
        tags_split.addWidget(self.tags_view)
        tags_split.addWidget(self.tagged_view)
        tags_split.setFocusProxy(self.tags_view)
        self.tags_page = Page(
            "Tags",
            tags_split,
            EmptyState(
                "hash",
                "No tags yet",
                "Write #tags in a note; Saem also tags photos by what is in them when it indexes.",
                [("New note", window.new_note)],
            ),
        )
        # devices
        self.devices_model = RowsModel(
            {
                Qt.ItemDataRole.DisplayRole: lambda p: p.name or p.device_id[:8],
                Qt.ItemDataRole.ToolTipRole: lambda p: (
                    f"{p.address or 'no address'} · {p.pending} pending"
                ),
                Qt.ItemDataRole.DecorationRole: lambda p: icons.icon("smartphone", "muted"),
                COUNT_ROLE: lambda p: p.pending or None,
            },
            window,
        )
        self.devices_view = _list_view(
            window, "Paired devices", self.devices_model, lambda v: CountDelegate(v, row_height=40)
        )
        self.devices_view.activated.connect(lambda _i: window.open_devices())
        pair = QPushButton("Pair…", window)
        pair.setProperty("variant", "ghost")
        pair.clicked.connect(window.open_devices)
        self.devices_page = Page(
            "Devices",
            self.devices_view,
            EmptyState(
                "monitor-smartphone",
                "No paired devices",
                "Pair another computer to sync notes and photos directly over your network — "
                "no cloud, no account.",
                [("Pair a device…", window.open_devices)],
            ),
            [pair],
        )
        self.middle = QStackedWidget(window)
        for page in self.pages():
            self.middle.addWidget(page)

    def pages(self) -> list[Page]:
        return [
            self.notes_page,
            self.photos_page,
            self.chats_page,
            self.tags_page,
            self.devices_page,
        ]

    # -- detail --------------------------------------------------------------------------------

    def _build_detail(self) -> None:
        window: Any = self
        library = self.library
        self.empty = EmptyState(
            "search",
            "Nothing open",
            "Pick a note or a photo on the left, or search everything with Ctrl+K.",
            [("Search", window.open_palette), ("New note", window.new_note)],
            window,
        )
        self.editor = NoteEditor(library, self.ops, window)
        self.viewer = PhotoViewer(library, self.ops, window)
        self.chat = ChatPanel(library, self.ops, window)
        self.welcome = Welcome(parent=window)
        self.welcome.import_notes.connect(lambda: window.finish_welcome("folder"))
        self.welcome.import_photos.connect(lambda: window.finish_welcome("photos"))
        self.welcome.dismissed.connect(lambda: window.finish_welcome(None))
        self.detail = QStackedWidget(window)
        for widget in (self.empty, self.editor, self.viewer, self.chat, self.welcome):
            self.detail.addWidget(widget)
        self.related = RelatedPanel(library, self.ops, window)
        self.detail_split = QSplitter(Qt.Orientation.Horizontal, window)
        self.detail_split.addWidget(self.detail)
        self.detail_split.addWidget(self.related)
        self.detail_split.setStretchFactor(0, 1)
        self.detail_split.setSizes([600, 280])
        self.related.hide()

    def empty_states(self) -> list[EmptyState]:
        return [p.pane.empty for p in self.pages()] + [self.empty]
