"""The Devices dialog's relay section: sync through a Yjs server that only sees ciphertext.

Add a relay URL, see each relay's state, create a one-time invite code (text + QR) for a
device that never shares a network with this one, or join with such a code. Every action
goes through ``library.sync`` (core), on the operations' database thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from desktop.gui.operations import Operations

if TYPE_CHECKING:
    from core.library import Library


class RelaySection(QGroupBox):
    def __init__(self, library: Library, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__("Relay (sync from anywhere, end-to-end encrypted)", parent)
        self.library, self.ops = library, ops
        self.setAccessibleName("Relay")
        self.url = QLineEdit(self)
        self.url.setAccessibleName("Relay server address")
        self.url.setPlaceholderText("wss://host/prefix — any Yjs WebSocket server")
        self.state = QLabel("…", self)
        self.state.setWordWrap(True)
        self.state.setAccessibleName("Relay status")
        self.code = QLineEdit(self)
        self.code.setAccessibleName("Invite code")
        self.code.setPlaceholderText("An invite code from the other device, or create one")
        self.qr = QLabel(self)
        self.qr.setAccessibleName("Invite code as a QR code")
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Relay message")
        add = QPushButton("Add relay", self)
        add.setAccessibleName("Add the relay")
        add.clicked.connect(self.add)
        sync = QPushButton("Sync now", self)
        sync.setAccessibleName("Sync through the relays now")
        sync.clicked.connect(self.sync_now)
        invite = QPushButton("Create invite code", self)
        invite.setAccessibleName("Create a one-time invite code")
        invite.clicked.connect(self.invite)
        join = QPushButton("Join with code", self)
        join.setAccessibleName("Join with the invite code")
        join.clicked.connect(self.join)
        url_row = QHBoxLayout()
        url_row.addWidget(self.url, 1)
        url_row.addWidget(add)
        url_row.addWidget(sync)
        code_row = QHBoxLayout()
        code_row.addWidget(self.code, 1)
        code_row.addWidget(invite)
        code_row.addWidget(join)
        form = QFormLayout(self)
        form.addRow("Relay", url_row)
        form.addRow(self.state)
        form.addRow("Invite", code_row)
        form.addRow(self.qr)
        form.addRow(self.message)
        self._invite = ""
        self.refresh()

    def refresh(self) -> None:
        library = self.library

        def work() -> tuple[list[str], Any]:
            from core.peers.relay import format_status

            service = library.sync
            return [format_status(s) for s in service.relay_status()], service.last_synced()

        self.ops.query(work, self._show)

    def _show(self, loaded: tuple[list[str], Any]) -> None:
        lines, last = loaded
        text = "\n".join(lines) or "No relay yet: add one to sync without a shared network."
        if last:
            text += f"\nLast sync ({last.get('path')}): {last.get('what')}"
        self.state.setText(text)
        if self._invite:
            from desktop.gui.dialogs.devices import qr_png

            self.code.setText(self._invite)
            pixmap = QPixmap()
            pixmap.loadFromData(qr_png(self._invite, scale=3), "PNG")
            self.qr.setPixmap(pixmap)

    def _run(self, work: Any, done_text: str) -> None:
        self.ops.run_for_dialog(work, self.message.setText, done_text, self.refresh)

    def add(self) -> None:
        url, library = self.url.text().strip(), self.library
        self._run(lambda: library.sync.relay_add(url), f"Relay added: {url}")

    def sync_now(self) -> None:
        library = self.library
        self._run(lambda: library.sync.relay_sync(), "Synced through the relay.")

    def invite(self) -> None:
        library = self.library

        def work() -> None:
            self._invite = library.sync.relay_invite()

        self._run(work, "Type or scan this code on the new device (once, within 7 days).")

    def join(self) -> None:
        code, library = self.code.text().strip(), self.library
        self._run(lambda: library.sync.relay_join(code), "Joined; this library now syncs too.")
