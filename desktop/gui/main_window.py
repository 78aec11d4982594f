"""The main window: title bar (search, New note, Import, Ask) · sidebar (Notes, Photos, Chats,
Tags, Devices with counts) · list or grid · detail, with the status bar, the error banner,
the Ctrl+K palette and the first-run welcome. Its parts are built in ``window_parts.py``;
its look comes from ``desktop.gui.theme`` (never a per-widget style sheet)."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QModelIndex, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QMainWindow, QSplitter, QVBoxLayout, QWidget

from core.library import NoteId
from desktop.gui.errors import ErrorPresenter
from desktop.gui.menus import build_menus, palette_commands
from desktop.gui.notes.item_list import ID_ROLE, KIND_ROLE
from desktop.gui.operations import Operations
from desktop.gui.palette.palette import SearchPalette
from desktop.gui.photos.grid_layout import group_by_day
from desktop.gui.status_bar import StatusArea
from desktop.gui.theme import Mode, apply_theme
from desktop.gui.theme.tokens import SIDEBAR_WIDTH
from desktop.gui.title_bar import TitleBar
from desktop.gui.window_parts import (
    CHATS,
    DEVICES,
    NOTES,
    PHOTOS,
    SECTIONS,
    TAGS,
    WindowParts,
)

if TYPE_CHECKING:
    from core.content.notes import Note
    from core.library import Library

__all__ = ["CHATS", "DEVICES", "NOTES", "PHOTOS", "SECTIONS", "TAGS", "MainWindow"]

MAX_NOTES_LISTED = 200_000


class MainWindow(WindowParts, QMainWindow):
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

        self.title_bar = TitleBar(self)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.title_bar)
        self._build_sidebar()
        self._build_middle()
        self._build_detail()
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.sidebar_panel)
        self.splitter.addWidget(self.middle)
        self.splitter.addWidget(self.detail_split)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setCollapsible(0, False)
        self.splitter.setSizes([SIDEBAR_WIDTH, 340, 640])
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.presenter)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.status = StatusArea(library, self.ops, auto_index=auto_index, parent=self)
        self.setStatusBar(self.status)
        self.palette_widget = SearchPalette(library, self.ops, central)
        self._build_actions()
        self._connect()
        order = [
            self.title_bar.search_field,
            self.title_bar.new_button,
            self.title_bar.import_button,
            self.title_bar.ask_button,
            self.sidebar,
            self.notes_sort,
            self.notes_view,
            self.editor.edit,
            self.related.list,
        ]
        for first, second in itertools.pairwise(order):
            self.setTabOrder(first, second)
        self.resize(1180, 760)
        self._restore()
        if not self.settings.value("welcome/done", False, type=bool):
            self.detail.setCurrentWidget(self.welcome)

    # -- construction --------------------------------------------------------------------------

    def _build_actions(self) -> None:
        build_menus(self)
        shortcut = QShortcut(QKeySequence("Ctrl+K"), self)
        shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
        shortcut.activated.connect(self.open_palette)
        self.palette_widget.commands = palette_commands(self)

    def _connect(self) -> None:
        bar = self.title_bar
        bar.search.connect(self.open_palette)
        bar.new_note.connect(self.new_note)
        bar.import_folder.connect(lambda: self.open_import("folder"))
        bar.import_photos.connect(lambda: self.open_import("photos"))
        bar.ask.connect(self.start_new_chat)
        self.sidebar.currentRowChanged.connect(self._section_changed)
        self.notes_view.selectionModel().currentChanged.connect(self._note_selected)
        self.notes_view.activated.connect(lambda i: self.editor.edit.setFocus())
        self.photo_grid.photo_selected.connect(self.open_photo)
        self.photo_grid.photo_activated.connect(self._focus_viewer)
        self.tags_view.selectionModel().currentChanged.connect(self._tag_selected)
        self.tagged_view.activated.connect(self._tagged_activated)
        self.chats_view.selectionModel().currentChanged.connect(self._chat_selected)
        self.chats_view.activated.connect(lambda _i: self.chat.question.setFocus())
        self.chat.answered.connect(lambda _t: self.load_chats())
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
        self.status.models_requested.connect(self.open_models)
        self.status.devices_requested.connect(self.open_devices)

    # -- loading -------------------------------------------------------------------------------

    def load(self) -> None:
        """Fill the lists (off the GUI thread); ``ready`` once the visible one is filled.
        The other lists, completion titles and the status poll follow in the background."""
        self._pending_loads = 1
        if self.sidebar.currentRow() == PHOTOS:
            self.load_photos(self._loaded_one)
            self.notes_model.reload(self._notes_loaded)
        else:
            self.notes_model.reload(self._notes_loaded_first)
            QTimer.singleShot(200, self.load_photos)
        self.load_tags()
        self.load_chats()
        self.load_titles()

    def _notes_loaded_first(self) -> None:
        self._notes_loaded()
        self._loaded_one()

    def _notes_loaded(self) -> None:
        self.notes_page.set_empty(self.notes_model.rowCount() == 0)

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
            if self.status.auto_index:  # the app proper (tests open windows without it)
                # the search embedders load in the background: the first Ctrl+K is quick
                self.library.warm_up_search()

    def load_photos(self, done: Any = None) -> None:
        library = self.library

        def loaded(entries: list[Any]) -> None:
            self.photo_grid.grid_model.set_entries(entries)
            count = self.photo_grid.grid_model.photo_count
            self.photos_page.set_empty(count == 0)
            self.set_count(PHOTOS, count)
            self.photos_page.subtitle.setText(f"{count:,} photos" if count else "")
            if done is not None:
                done()

        self.ops.query(lambda: group_by_day(library.photos.grid_tiles()), loaded)

    def load_titles(self) -> None:
        """Every note title, for ``[[`` completion."""
        library = self.library

        def titles() -> list[str]:
            rows = library.list_items("note", limit=MAX_NOTES_LISTED)
            return sorted({r.title for r in rows if r.title})

        self.ops.query(titles, self.editor.set_titles)

    def load_tags(self) -> None:
        def loaded(rows: list[tuple[str, int]]) -> None:
            self.tags_model.set_rows(rows)
            self.tags_page.set_empty(not rows)
            self.set_count(TAGS, len(rows))

        self.ops.query(self.library.tag_counts, loaded)

    def load_chats(self) -> None:
        library = self.library

        def loaded(rows: list[Any]) -> None:
            self.chats_model.set_rows(rows)
            self.chats_page.set_empty(not rows)
            self.set_count(CHATS, len(rows))

        self.ops.query(lambda: library.chats.list(limit=200), loaded)

    def load_devices(self) -> None:
        library = self.library

        def loaded(rows: list[Any]) -> None:
            self.devices_model.set_rows(rows)
            self.devices_page.set_empty(not rows)
            self.set_count(DEVICES, len(rows))

        self.ops.query(lambda: library.sync.status(), loaded)

    def reload_lists(self) -> None:
        self._pending_loads = 1
        self.notes_model.reload(self._notes_loaded_first)
        self.load_photos()
        self.load_tags()
        self.load_chats()
        self.load_titles()

    def _state_changed(self, state: Any) -> None:
        counts = (state.notes, state.photos)
        if self._counts is not None and counts != self._counts:
            self.reload_lists()  # a peer or an import added or removed items
        if self._counts is None:
            self.welcome.set_counts(state.notes, state.photos)
            self.load_devices()
        self._counts = counts
        self.set_count(NOTES, state.notes)
        self.set_count(PHOTOS, state.photos)
        self.notes_page.subtitle.setText(f"{state.notes:,} notes" if state.notes else "")
        self.editor.refresh()  # a peer may have edited the open note

    def _sort_changed(self, _index: int) -> None:
        self.notes_model.order = str(self.notes_sort.currentData())
        self.settings.setValue("notes/order", self.notes_model.order)
        self.notes_model.reload(self._notes_loaded)

    # -- navigation ----------------------------------------------------------------------------

    def show_section(self, index: int) -> None:
        self.sidebar.setCurrentRow(index)
        page = self.middle.currentWidget()
        if page is not None:
            page.setFocus()

    def _section_changed(self, index: int) -> None:
        if index < 0:
            return
        self.middle.setCurrentIndex(index)
        if index == CHATS:
            self.detail.setCurrentWidget(self.chat)
        elif index == DEVICES:
            self.load_devices()

    def focus_next_pane(self) -> None:
        """F6: sidebar → list → detail → title bar, like a browser's pane cycling."""
        candidates = [
            self.sidebar,
            self.middle.currentWidget(),
            self.detail.currentWidget(),
            self.title_bar.search_field,
        ]
        panes: list[QWidget] = [p for p in candidates if p is not None]
        focused = QApplication.focusWidget()
        current = -1
        if focused is not None:
            current = next(
                (i for i, p in enumerate(panes) if p is focused or p.isAncestorOf(focused)), -1
            )
        panes[(current + 1) % len(panes)].setFocus(Qt.FocusReason.TabFocusReason)

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
            self.chat.open_chat(item_id)

    def _tag_selected(self, index: QModelIndex, _previous: QModelIndex) -> None:
        if index.isValid():
            tag, library = index.data(ID_ROLE), self.library
            self.ops.query(lambda: library.items_with_tag(tag), self.tagged_model.set_rows)

    def _tagged_activated(self, index: QModelIndex) -> None:
        self.open_item(index.data(KIND_ROLE), index.data(ID_ROLE))

    def _chat_selected(self, index: QModelIndex, _previous: QModelIndex) -> None:
        if index.isValid():
            self.detail.setCurrentWidget(self.chat)
            self.chat.open_chat(index.data(ID_ROLE))

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

        def found(note_id: str | None) -> None:
            if note_id:
                self.open_item("note", note_id)

        self.ops.query(find, found)

    def _note_saved(self, note_id: str) -> None:
        library = self.library

        def update(note: Note) -> None:
            if self.notes_model.row_of(note_id) < 0:
                self.reload_lists()
            else:
                self.notes_model.update_title(note_id, note.title)

        self.ops.query(lambda: library.notes.get(NoteId(note_id)), update)

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

    def start_new_chat(self) -> None:
        self.chat.new_chat()
        self.ask("")

    def finish_welcome(self, import_kind: str | None) -> None:
        self.settings.setValue("welcome/done", True)
        self.detail.setCurrentWidget(self.empty)
        if import_kind is not None:
            self.open_import(import_kind)
        else:
            page = self.middle.currentWidget()
        if page is not None:
            page.setFocus()

    def open_import(self, kind: str) -> None:
        from desktop.gui.dialogs.dialogs import ImportDialog

        dialog = ImportDialog(self.library, self.ops, kind, self)
        dialog.finished.connect(lambda _r: self.reload_lists())
        dialog.open()

    def open_devices(self) -> None:
        from desktop.gui.dialogs.dialogs import DevicesDialog

        dialog = DevicesDialog(self.library, self.ops, self)
        dialog.finished.connect(lambda _r: self.load_devices())
        dialog.open()

    def open_models(self) -> None:
        from desktop.gui.dialogs.dialogs import ModelsDialog

        ModelsDialog(self.library, self.ops, self).open()

    def sync_now(self) -> None:
        from desktop.gui.dialogs.dialogs import sync_now

        sync_now(self.library, self.ops, self.statusBar())

    def set_appearance(self, mode: Mode) -> None:
        """System / light / dark: restyle the app and re-tint every icon."""
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        apply_theme(app, mode)
        self.settings.setValue("appearance", mode)
        self.title_bar.refresh_icons()
        self.status.refresh_icons()
        self._sidebar_icons()
        self.welcome.refresh_icons()
        for empty in self.empty_states():
            empty.refresh_icon()
        self.viewer.refresh_theme()
        self.chat.refresh_icons()
        self.update()

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
        section = int(str(self.settings.value("window/section", 0) or 0))
        self.sidebar.setCurrentRow(section if 0 <= section < len(SECTIONS) else 0)

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
