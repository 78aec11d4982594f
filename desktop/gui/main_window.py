"""The main window: sidebar (Notes, Photos, Chats, Tags) · list or grid · detail, with the
status bar, the error banner and the Ctrl+K palette."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QModelIndex, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QLabel,
    QListView,
    QListWidget,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.gui.chat.chat_panel import ChatPanel
from desktop.gui.errors import ErrorPresenter
from desktop.gui.notes.item_list import ID_ROLE, KIND_ROLE, ItemListModel, TagListModel
from desktop.gui.notes.note_editor import NoteEditor
from desktop.gui.operations import Operations
from desktop.gui.palette.palette import Command, SearchPalette
from desktop.gui.photos.photo_grid import PhotoGrid, group_by_day
from desktop.gui.photos.photo_viewer import PhotoViewer
from desktop.gui.related_panel import RelatedPanel
from desktop.gui.status_bar import StatusArea

if TYPE_CHECKING:
    from core.library import Library

SECTIONS = ["Notes", "Photos", "Chats", "Tags"]
NOTES, PHOTOS, CHATS, TAGS = range(4)
MAX_NOTES_LISTED = 200_000


class MainWindow(QMainWindow):
    ready = Signal()  # the lists are loaded: the window is usable

    def __init__(
        self, library: Library, *, settings: QSettings | None = None, auto_index: bool = True
    ) -> None:
        super().__init__()
        self.library = library
        self.settings = settings or QSettings("Saem", "Saem")
        self.setWindowTitle(f"Saem — {library.root}")
        self.setAccessibleName("Saem")
        self.presenter = ErrorPresenter(self)
        self.ops = Operations(self.presenter.present)
        self._pending_loads = 0
        self._counts: tuple[int, int] | None = None
        self._closed = False

        # sidebar
        self.sidebar = QListWidget(self)
        self.sidebar.setAccessibleName("Sections")
        self.sidebar.addItems(SECTIONS)
        self.sidebar.setMaximumWidth(180)
        # middle
        self.notes_model = ItemListModel(self)
        self.notes_view = QListView(self)
        self.notes_view.setAccessibleName("Notes")
        self.notes_view.setUniformItemSizes(True)
        self.notes_view.setModel(self.notes_model)
        self.photo_grid = PhotoGrid(self)
        self.chats_view = QListWidget(self)
        self.chats_view.setAccessibleName("Chats")
        self.chats_view.addItem("New chat")
        self.tags_model = TagListModel(self)
        self.tags_view = QListView(self)
        self.tags_view.setAccessibleName("Tags")
        self.tags_view.setModel(self.tags_model)
        self.tagged_model = ItemListModel(self)
        self.tagged_view = QListView(self)
        self.tagged_view.setAccessibleName("Items with the tag")
        self.tagged_view.setModel(self.tagged_model)
        tags_page = QSplitter(Qt.Orientation.Vertical, self)
        tags_page.addWidget(self.tags_view)
        tags_page.addWidget(self.tagged_view)
        self.middle = QStackedWidget(self)
        for widget in (self.notes_view, self.photo_grid, self.chats_view, tags_page):
            self.middle.addWidget(widget)
        # detail
        self.empty = QLabel("Select a note or a photo.  Ctrl+K searches everything.", self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.editor = NoteEditor(library, self.ops, self)
        self.viewer = PhotoViewer(library, self.ops, self)
        self.chat = ChatPanel(library, self.ops, self)
        self.detail = QStackedWidget(self)
        for widget in (self.empty, self.editor, self.viewer, self.chat):
            self.detail.addWidget(widget)
        self.related = RelatedPanel(library, self.ops, self)
        self.detail_split = QSplitter(Qt.Orientation.Horizontal, self)
        self.detail_split.addWidget(self.detail)
        self.detail_split.addWidget(self.related)
        self.detail_split.setStretchFactor(0, 1)
        self.detail_split.setSizes([600, 280])
        self.related.hide()

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(self.middle)
        self.splitter.addWidget(self.detail_split)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setSizes([150, 320, 620])
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(self.presenter)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.status = StatusArea(library, self.ops, auto_index=auto_index, parent=self)
        self.setStatusBar(self.status)
        self.palette_widget = SearchPalette(library, self.ops, central)
        self._build_actions()
        self._connect()
        self.setTabOrder(self.sidebar, self.notes_view)
        self.setTabOrder(self.notes_view, self.editor.edit)
        self.setTabOrder(self.editor.edit, self.related.list)
        self.resize(1180, 760)
        self._restore()

    # -- construction --------------------------------------------------------------------------

    def _build_actions(self) -> None:
        def action(menu: Any, text: str, slot: Any, shortcut: str | None = None) -> QAction:
            act = QAction(text, self)
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
            act.triggered.connect(slot)
            menu.addAction(act)
            return act

        file_menu = self.menuBar().addMenu("&File")
        self.new_note_action = action(file_menu, "&New note", self.new_note, "Ctrl+N")
        action(file_menu, "Import Markdown &folder or vault…", lambda: self.open_import("folder"))
        action(file_menu, "Import &photos…", lambda: self.open_import("photos"))
        file_menu.addSeparator()
        action(file_menu, "&Quit", self.close, "Ctrl+Q")
        go = self.menuBar().addMenu("&Go")
        action(go, "&Search…", self.open_palette)
        action(go, "&Related items", lambda: self.related.list.setFocus(), "Ctrl+R")
        for i, name in enumerate(SECTIONS):
            action(go, name, lambda _=False, i=i: self.show_section(i), f"Ctrl+{i + 1}")
        tools = self.menuBar().addMenu("&Tools")
        action(tools, "Sync &now", self.sync_now)
        action(tools, "&Devices…", self.open_devices)
        action(tools, "&Models…", self.open_models)
        action(tools, "&Index now", self.status.run_index)
        self.palette_shortcut = QShortcut(QKeySequence("Ctrl+K"), self)
        self.palette_shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
        self.palette_shortcut.activated.connect(self.open_palette)
        self.palette_widget.commands = [
            Command("New note", "create write", self.new_note),
            Command(
                "Import folder or vault…",
                "markdown obsidian import",
                lambda: self.open_import("folder"),
            ),
            Command("Import photos…", "pictures images import", lambda: self.open_import("photos")),
            Command("Sync now", "peers devices sync", self.sync_now),
            Command("Switch model…", "models llm embedder device gpu cpu", self.open_models),
            Command("Devices…", "pair peers sync qr", self.open_devices),
            Command("Index now", "reindex indexing", self.status.run_index),
            Command("Ask about photo", "chat photo", lambda: self.chat.about_photo(self.viewer)),
        ]

    def _connect(self) -> None:
        self.sidebar.currentRowChanged.connect(self._section_changed)
        self.notes_view.selectionModel().currentChanged.connect(self._note_selected)
        self.notes_view.activated.connect(lambda i: self.editor.edit.setFocus())
        self.photo_grid.photo_selected.connect(self.open_photo)
        self.photo_grid.photo_activated.connect(self._focus_viewer)
        self.tags_view.selectionModel().currentChanged.connect(self._tag_selected)
        self.tagged_view.activated.connect(self._tagged_activated)
        self.chats_view.currentRowChanged.connect(
            lambda _r: self.detail.setCurrentWidget(self.chat)
        )
        self.editor.saved.connect(self._note_saved)
        self.editor.open_link.connect(self._follow_link)
        self.viewer.tags_changed.connect(lambda _id: self.load_tags())
        self.palette_widget.open_item.connect(self.open_item)
        self.palette_widget.ask.connect(self.ask)
        self.palette_widget.searched.connect(self.related.activity.searched)
        self.related.open_item.connect(self.open_item)
        self.detail.currentChanged.connect(self._detail_changed)
        self.status.state_changed.connect(self._state_changed)
        self.status.index_finished.connect(lambda _r: self.load_tags())

    # -- loading -------------------------------------------------------------------------------

    def load(self) -> None:
        """Fill the lists (off the GUI thread); ``ready`` once the visible one is filled.
        The other lists, completion titles and the status poll follow in the background."""
        library = self.library
        self.notes_model.set_source(
            lambda offset, limit: library.list_items("note", limit=limit, offset=offset),
            self.ops,
        )
        self._pending_loads = 1
        if self.sidebar.currentRow() == PHOTOS:
            self.load_photos(self._loaded_one)
            self.notes_model.reload()
        else:
            self.notes_model.reload(self._loaded_one)
            QTimer.singleShot(200, self.load_photos)
        self.load_tags()
        self.load_titles()

    def _loaded_one(self) -> None:
        self._pending_loads -= 1
        if self._pending_loads == 0:
            if not self.status.timer.isActive():
                # Status (indexer, sync, models) after the lists: its imports stay off the
                # start-up path.
                QTimer.singleShot(300, self._start_status)
            self.ready.emit()

    def _start_status(self) -> None:
        if not self._closed:
            self.status.start()

    def load_photos(self, done: Any = None) -> None:
        library = self.library

        def loaded(entries: list[Any]) -> None:
            self.photo_grid.grid_model.set_entries(entries)
            if done is not None:
                done()

        self.ops.query(lambda: group_by_day(library.photos.grid_rows()), loaded)

    def load_titles(self) -> None:
        """Every note title, for ``[[`` completion."""
        library = self.library

        def titles() -> list[str]:
            rows = library.list_items("note", limit=MAX_NOTES_LISTED)
            return sorted({r.title for r in rows if r.title})

        self.ops.query(titles, self.editor.set_titles)

    def load_tags(self) -> None:
        library = self.library
        self.ops.query(library.tag_counts, self.tags_model.set_rows)

    def reload_lists(self) -> None:
        self._pending_loads = 1
        self.notes_model.reload(self._loaded_one)
        self.load_photos()
        self.load_tags()
        self.load_titles()

    def _state_changed(self, state: Any) -> None:
        counts = (state.notes, state.photos)
        if self._counts is not None and counts != self._counts:
            self.reload_lists()  # a peer or an import added or removed items
        self._counts = counts
        self.editor.refresh()  # a peer may have edited the open note

    # -- navigation ----------------------------------------------------------------------------

    def show_section(self, index: int) -> None:
        self.sidebar.setCurrentRow(index)
        self.middle.currentWidget().setFocus()

    def _section_changed(self, index: int) -> None:
        if index < 0:
            return
        self.middle.setCurrentIndex(index)
        if index == CHATS:
            self.detail.setCurrentWidget(self.chat)

    def _note_selected(self, index: QModelIndex, _previous: QModelIndex) -> None:
        if index.isValid():
            self.open_note(index.data(ID_ROLE))

    def open_note(self, note_id: str) -> None:
        self.editor.load(note_id)
        self.detail.setCurrentWidget(self.editor)
        self.related.show_item("note", note_id)

    def open_photo(self, photo_id: str) -> None:
        self.viewer.load(photo_id)
        self.detail.setCurrentWidget(self.viewer)
        self.related.show_item("photo", photo_id)

    def _detail_changed(self, _index: int) -> None:
        """The Related panel shows beside a note or a photo; leaving them ends the dwell."""
        showing = self.detail.currentWidget() in (self.editor, self.viewer)
        self.related.setVisible(showing)
        if not showing:
            self.related.leave()

    def _focus_viewer(self, photo_id: str) -> None:
        self.open_photo(photo_id)
        self.viewer.view.setFocus()

    def open_item(self, kind: str, item_id: str) -> None:
        if kind == "note":
            self.sidebar.setCurrentRow(NOTES)
            row = self.notes_model.row_of(item_id)
            if row >= 0:
                self.notes_view.setCurrentIndex(self.notes_model.index(row, 0))
            else:
                self.open_note(item_id)
            self.editor.edit.setFocus()
        elif kind == "photo":
            self.sidebar.setCurrentRow(PHOTOS)
            self.photo_grid.select_photo(item_id)
            self._focus_viewer(item_id)
        elif kind == "chat":
            self.sidebar.setCurrentRow(CHATS)

    def _tag_selected(self, index: QModelIndex, _previous: QModelIndex) -> None:
        if index.isValid():
            tag, library = index.data(ID_ROLE), self.library
            self.ops.query(lambda: library.items_with_tag(tag), self.tagged_model.set_rows)

    def _tagged_activated(self, index: QModelIndex) -> None:
        self.open_item(index.data(KIND_ROLE), index.data(ID_ROLE))

    def _follow_link(self, url: str) -> None:
        if not url.startswith("saem:"):
            return
        title = url.removeprefix("saem:").casefold()
        library = self.library

        def find() -> str | None:
            hits = library.quick_find.search(title, limit=50).hits
            return next(
                (h.item_id for h in hits if h.kind == "note" and h.title.casefold() == title), None
            )

        self.ops.query(find, lambda note_id: note_id and self.open_item("note", note_id))

    def _note_saved(self, note_id: str) -> None:
        library = self.library

        def update(note: Any) -> None:
            if self.notes_model.row_of(note_id) < 0:
                self.reload_lists()
            else:
                self.notes_model.update_title(note_id, note.title)

        self.ops.query(lambda: library.notes.get(note_id), update)

    # -- actions -------------------------------------------------------------------------------

    def open_palette(self) -> None:
        self.palette_widget.open()

    def new_note(self) -> None:
        library = self.library

        def created(note_id: str) -> None:
            self.reload_lists()
            self.sidebar.setCurrentRow(NOTES)
            self.open_note(note_id)
            self.editor.edit.setFocus()

        self.ops.query(lambda: library.notes.create("# Untitled\n\n"), created)

    def ask(self, question: str) -> None:
        self.related.activity.asked(question)
        self.sidebar.setCurrentRow(CHATS)
        self.detail.setCurrentWidget(self.chat)
        self.chat.prefill(question)

    def open_import(self, kind: str) -> None:
        from desktop.gui.dialogs.dialogs import ImportDialog

        dialog = ImportDialog(self.library, self.ops, kind, self)
        dialog.finished.connect(lambda _r: self.reload_lists())
        dialog.open()

    def open_devices(self) -> None:
        from desktop.gui.dialogs.dialogs import DevicesDialog

        DevicesDialog(self.library, self.ops, self).open()

    def open_models(self) -> None:
        from desktop.gui.dialogs.dialogs import ModelsDialog

        ModelsDialog(self.library, self.ops, self).open()

    def sync_now(self) -> None:
        from desktop.gui.dialogs.dialogs import sync_now

        sync_now(self.library, self.ops, self.statusBar())

    # -- state ---------------------------------------------------------------------------------

    def _restore(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        split = self.settings.value("window/splitter")
        if isinstance(split, QByteArray):
            self.splitter.restoreState(split)
        self.sidebar.setCurrentRow(int(self.settings.value("window/section", 0) or 0))

    def save_state(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.settings.setValue("window/section", max(0, self.sidebar.currentRow()))
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._closed = True
        self.editor.flush()
        self.save_state()
        self.related.leave()  # the dwell on the open item, logged before the workers stop
        self.status.timer.stop()
        self.status.cancel_index()  # the indexer stops after its current batch; it resumes
        self.ops.shutdown()
        super().closeEvent(event)
