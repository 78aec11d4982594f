"""The note editor: Markdown source with live styling, a preview toggle, `[[wikilink]]`
completion, and implicit saving through ``library.notes.edit`` (minimal CRDT diffs).

Nothing is ever "unsaved": each pause in typing (``SAVE_DELAY_MS``) sends the text to the
library. A peer's edit that lands while the user types is merged in place
(:func:`core.content.textmerge.rebase`) with a cursor edit block: the caret stays where it is
relative to the user's text, typed text is kept, and the change history is moved through the
edit so undo/redo keeps working (:mod:`desktop.gui.notes.undo`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QCompleter,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QStackedWidget,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.content.markdown import parse_note
from core.content.textmerge import Edit, apply, rebase, span_edit, utf16_offset
from core.errors import NotFoundError
from core.library import NoteId
from desktop.gui.notes.markdown_highlight import MarkdownHighlighter
from desktop.gui.notes.undo import ChangeHistory
from desktop.gui.operations import Operations

if TYPE_CHECKING:
    from core.content.notes import Note
    from core.library import Library

SAVE_DELAY_MS = 400
_OPEN_LINK = re.compile(r"\[\[([^\[\]|#\n]*)$")


class MarkdownEdit(QPlainTextEdit):
    """Plain-text Markdown source; undo/redo come from :class:`ChangeHistory`."""

    undo_requested = Signal()
    redo_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setUndoRedoEnabled(False)
        self.completer: QCompleter | None = None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        popup = self.completer.popup() if self.completer else None
        if (
            popup is not None
            and popup.isVisible()
            and event.key()
            in (
                Qt.Key.Key_Enter,
                Qt.Key.Key_Return,
                Qt.Key.Key_Escape,
                Qt.Key.Key_Tab,
                Qt.Key.Key_Backtab,
            )
        ):
            event.ignore()  # the completer's popup handles these
            return
        if event.matches(QKeySequence.StandardKey.Undo):
            self.undo_requested.emit()
            return
        if event.matches(QKeySequence.StandardKey.Redo):
            self.redo_requested.emit()
            return
        super().keyPressEvent(event)


class NoteEditor(QWidget):
    """Edits one note at a time. ``library`` is a ``core.library.Library``."""

    saved = Signal(str)  # note id
    note_loaded = Signal(str)
    open_link = Signal(str)  # a wikilink target the user followed in the preview

    def __init__(self, library: Library, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.ops = ops
        self.note_id: str | None = None
        self._base = ""  # the body as the library last had it
        self._shadow = ""  # the editor text as of the last change we saw
        self._saving = False
        self._sending = ""
        self._applying = False
        self.history = ChangeHistory()

        self.title_label = QLabel(self)
        self.title_label.setObjectName("noteTitle")
        self.title_label.setAccessibleName("Note title")
        self.state_label = QLabel("", self)
        self.state_label.setAccessibleName("Save state")
        self.preview_button = QToolButton(self)
        self.preview_button.setText("Preview")
        self.preview_button.setCheckable(True)
        self.preview_button.setToolTip("Toggle Markdown preview (Ctrl+E)")
        self.preview_button.setAccessibleName("Toggle preview")
        self.preview_button.toggled.connect(self.set_preview)
        header = QHBoxLayout()
        header.addWidget(self.title_label, 1)
        header.addWidget(self.state_label)
        header.addWidget(self.preview_button)

        self.edit = MarkdownEdit(self)
        self.edit.setAccessibleName("Note text")
        self.edit.setPlaceholderText("Write Markdown. [[ links a note, #tag tags it.")
        self.edit.setTabChangesFocus(False)
        self.highlighter = MarkdownHighlighter(self.edit.document(), dark=_is_dark(self))
        self.preview = QTextBrowser(self)
        self.preview.setAccessibleName("Note preview")
        self.preview.setOpenLinks(False)
        self.preview.anchorClicked.connect(lambda url: self.open_link.emit(url.toString()))
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.edit)
        self.stack.addWidget(self.preview)
        self.tags_label = QLabel(self)
        self.tags_label.setAccessibleName("Note tags")
        self.tags_label.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addLayout(header)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.tags_label)

        self._titles = QStringListModel(self)
        self.completer = QCompleter(self._titles, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.completer.setWidget(self.edit)
        self.completer.activated.connect(self._insert_completion)
        self.edit.completer = self.completer

        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.save_now)
        self.edit.document().contentsChanged.connect(self._on_changed)
        self.edit.undo_requested.connect(self.undo)
        self.edit.redo_requested.connect(self.redo)
        QShortcut(QKeySequence("Ctrl+E"), self).activated.connect(self.preview_button.toggle)
        self.setEnabled(False)

    def changeEvent(self, event: QEvent) -> None:
        """Light/dark switched in the system: restyle the Markdown highlighting."""
        if event.type() == QEvent.Type.PaletteChange:
            self.highlighter.set_dark(_is_dark(self))
        super().changeEvent(event)

    # -- loading -------------------------------------------------------------------------------

    def load(self, note_id: str) -> None:
        if self.note_id and self.note_id != note_id:
            self.flush()
        lib = self.library
        self.ops.query(lambda: lib.notes.get(NoteId(note_id)), self._show_note)

    def _show_note(self, note: Note) -> None:
        self.note_id = note.id
        self.edit.setReadOnly(False)
        self._base = note.body
        self._set_text(note.body)
        self.history.clear()
        self._show_meta(note.title, note.tags)
        self.setEnabled(True)
        self.state_label.setText("Saved")
        self.note_loaded.emit(note.id)
        if self.stack.currentWidget() is self.preview:
            self.preview.setMarkdown(note.body)

    def _show_meta(self, title: str, tags: list[str]) -> None:
        self.title_label.setText(f"<b>{_escape(title) or 'Untitled'}</b>")
        self.tags_label.setText("  ".join(f"#{t}" for t in tags))

    def set_titles(self, titles: list[str]) -> None:
        """Note titles for ``[[`` completion."""
        self._titles.setStringList(titles)

    def _set_text(self, text: str) -> None:
        self._applying = True
        try:
            self.edit.setPlainText(text)
        finally:
            self._applying = False
        self._shadow = text

    @property
    def text(self) -> str:
        return self.edit.toPlainText()

    # -- local edits ---------------------------------------------------------------------------

    def _on_changed(self) -> None:
        if self._applying or self.note_id is None:
            return
        new = self.text
        edit = span_edit(self._shadow, new)
        if edit is None:
            return
        self.history.record(edit, self._shadow)
        self._shadow = new
        self.state_label.setText("Editing…")
        self._save_timer.start()
        self._maybe_complete()

    def undo(self) -> None:
        self._replay(self.history.pop_undo())

    def redo(self) -> None:
        self._replay(self.history.pop_redo())

    def _replay(self, edit: Edit | None) -> None:
        if edit is None:
            return
        self._apply_edits([edit], move_caret=True)
        self.state_label.setText("Editing…")
        self._save_timer.start()

    # -- saving --------------------------------------------------------------------------------

    def save_now(self) -> None:
        """Send the editor text to the library unless a save is already on its way."""
        self._save_timer.stop()
        if self.note_id is None or self._saving or self.text == self._base:
            return
        self._saving = True
        note_id, base, local, notes = self.note_id, self._base, self.text, self.library.notes
        self._sending = local

        def work() -> tuple[str, str, Note]:
            current = notes.get(NoteId(note_id))
            if current.body != base:  # a peer changed it: merge into the editor first
                return "remote", current.body, current
            # Notes made here are titled by their first heading; imported notes keep their
            # file name as title (as in Obsidian).
            title = None if current.source_path else parse_note(local).title
            notes.edit(NoteId(note_id), local, title=title)
            return "saved", local, notes.get(NoteId(note_id))

        def done(result: tuple[str, str, Note]) -> None:
            self._saving = False
            kind, body, note = result
            if note.id != self.note_id:
                return
            if kind == "remote":
                self.merge_remote(body)
            else:
                self._base = body
                self._show_meta(note.title, note.tags)
                self.saved.emit(note.id)
            if self.text != self._base:
                self._save_timer.start(0 if kind == "remote" else SAVE_DELAY_MS)
            else:
                self.state_label.setText("Saved")

        def failed(exc: BaseException) -> None:
            self._saving = False
            self.state_label.setText("Not saved")
            self.ops.report_error(exc)

        self.ops.query(work, done, failed)

    def flush(self) -> None:
        """Queue the final save of the open note (before switching notes or closing), even
        while an earlier save is on its way: the db thread runs it after that one. If a peer
        changed the note meanwhile, its change is merged in rather than overwritten."""
        self._save_timer.stop()
        if self.note_id is None or (not self._saving and self.text == self._base):
            return
        note_id, base, local, notes = self.note_id, self._base, self.text, self.library.notes
        sending = self._sending if self._saving else base

        def work() -> None:
            current = notes.get(NoteId(note_id))
            if current.body == local:
                return
            if current.body in (sending, base):
                merged = local  # only our own earlier save landed: nothing to merge
            else:
                merged = apply(local, rebase(base, local, current.body))
            title = None if current.source_path else parse_note(merged).title
            notes.edit(NoteId(note_id), merged, title=title)

        self.ops.query(work)

    # -- remote edits --------------------------------------------------------------------------

    def refresh(self) -> None:
        """Check the library for a newer body (a peer's edit) and merge it in."""
        if self.note_id is None or self._saving:
            return
        note_id, notes = self.note_id, self.library.notes

        def done(note: Note) -> None:
            if note.id == self.note_id and not self._saving and note.body != self._base:
                self.merge_remote(note.body)
                self._show_meta(note.title, note.tags)
                if self.text != self._base:
                    self._save_timer.start(0)

        def failed(exc: BaseException) -> None:
            if isinstance(exc, NotFoundError) and note_id == self.note_id:
                self.close_deleted()  # deleted on another device (or by the CLI)
            else:
                self.ops.report_error(exc)

        self.ops.query(lambda: notes.get(NoteId(note_id)), done, failed)

    def close_deleted(self) -> None:
        """The open note no longer exists: keep its text on screen, read-only."""
        self._save_timer.stop()
        self.note_id = None
        self.edit.setReadOnly(True)
        self.state_label.setText("Deleted elsewhere — copy what you need")

    def merge_remote(self, remote: str) -> None:
        """Apply the change ``base → remote`` to the editor, keeping the user's edits."""
        edits = rebase(self._base, self.text, remote)
        self._base = remote
        if edits:
            self._apply_edits(edits, move_caret=False, remote=True)

    def _apply_edits(self, edits: list[Edit], *, move_caret: bool, remote: bool = False) -> None:
        text = self.text
        doc = self.edit.document()
        cursor = QTextCursor(doc)
        self._applying = True
        try:
            cursor.beginEditBlock()
            for edit in reversed(edits):
                cursor.setPosition(utf16_offset(text, edit.start))
                cursor.setPosition(utf16_offset(text, edit.end), QTextCursor.MoveMode.KeepAnchor)
                cursor.insertText(edit.text)
            cursor.endEditBlock()
        finally:
            self._applying = False
        new_text = apply(text, edits)
        if remote:
            self.history.transform(edits)
        self._shadow = new_text
        if move_caret:
            caret = self.edit.textCursor()
            caret.setPosition(utf16_offset(new_text, edits[-1].start + len(edits[-1].text)))
            self.edit.setTextCursor(caret)
        if self.stack.currentWidget() is self.preview:
            self.preview.setMarkdown(new_text)

    # -- preview and completion ----------------------------------------------------------------

    def set_preview(self, on: bool) -> None:
        if on:
            self.preview.setMarkdown(_wikilinks_as_links(self.text))
            self.stack.setCurrentWidget(self.preview)
        else:
            self.stack.setCurrentWidget(self.edit)
            self.edit.setFocus()
        if self.preview_button.isChecked() != on:
            self.preview_button.setChecked(on)

    def _maybe_complete(self) -> None:
        cursor = self.edit.textCursor()
        block_text = cursor.block().text()[: cursor.positionInBlock()]
        match = _OPEN_LINK.search(block_text)
        popup = self.completer.popup()
        if not match or not self._titles.rowCount():
            popup.hide()
            return
        self.completer.setCompletionPrefix(match.group(1))
        if self.completer.completionCount() == 0:
            popup.hide()
            return
        rect = self.edit.cursorRect()
        rect.setWidth(max(240, popup.sizeHintForColumn(0) + 24))
        self.completer.complete(rect)
        popup.setCurrentIndex(self.completer.completionModel().index(0, 0))

    def _insert_completion(self, title: str) -> None:
        cursor = self.edit.textCursor()
        prefix = self.completer.completionPrefix()
        cursor.movePosition(
            QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.KeepAnchor, len(prefix)
        )
        cursor.insertText(title + "]]")
        self.edit.setTextCursor(cursor)


def _wikilinks_as_links(text: str) -> str:
    return re.sub(
        r"(?<!!)\[\[([^\[\]|#\n]+)(?:#[^\[\]|\n]*)?(?:\|([^\[\]\n]+))?\]\]",
        lambda m: f"[{m.group(2) or m.group(1)}](saem:{m.group(1)})",
        text,
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _is_dark(widget: QWidget) -> bool:
    return widget.palette().window().color().lightness() < 128
