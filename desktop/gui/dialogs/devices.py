"""Devices: this device's ID (text and QR code), paired peers, pair by ID, unpair, and the
relay section (:mod:`desktop.gui.dialogs.relay_section`)."""

from __future__ import annotations

import io
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.gui.operations import Operations

if TYPE_CHECKING:
    from core.library import Library


def qr_png(text: str, scale: int = 5) -> bytes:
    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()


class DevicesDialog(QDialog):
    def __init__(self, library: Library, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library, self.ops = library, ops
        self.setWindowTitle("Devices")
        self.setAccessibleName("Devices")
        self.device_id = QLineEdit(self)
        self.device_id.setReadOnly(True)
        self.device_id.setAccessibleName("This device's ID")
        self.qr = QLabel(self)
        self.qr.setAccessibleName("This device's ID as a QR code")
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.peers = QTreeWidget(self)
        self.peers.setAccessibleName("Paired devices")
        self.peers.setHeaderLabels(["Name", "Device ID", "Address", "Last seen", "Pending"])
        self.peer_id = QLineEdit(self)
        self.peer_id.setAccessibleName("Device ID to pair")
        self.peer_id.setPlaceholderText("The other device's ID (Tools → Devices there)")
        self.peer_name = QLineEdit(self)
        self.peer_name.setAccessibleName("Name for the device")
        self.peer_address = QLineEdit(self)
        self.peer_address.setAccessibleName("Address (host:port), optional")
        self.peer_address.setPlaceholderText("host:port (optional; found on the LAN otherwise)")
        pair = QPushButton("Pair", self)
        pair.setAccessibleName("Pair the device")
        pair.clicked.connect(self.pair)
        unpair = QPushButton("Unpair selected", self)
        unpair.setAccessibleName("Unpair the selected device")
        unpair.clicked.connect(self.unpair)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Devices message")
        form = QFormLayout()
        form.addRow("This device", self.device_id)
        form.addRow(self.qr)
        form.addRow("Pair with ID", self.peer_id)
        form.addRow("Name", self.peer_name)
        form.addRow("Address", self.peer_address)
        buttons = QHBoxLayout()
        buttons.addWidget(pair)
        buttons.addWidget(unpair)
        buttons.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.peers, 1)
        layout.addWidget(self.message)
        from desktop.gui.dialogs.relay_section import RelaySection

        self.relay = RelaySection(library, ops, self)
        layout.addWidget(self.relay)
        layout.addWidget(close)
        self.resize(640, 720)
        self.refresh()

    def refresh(self) -> None:
        library = self.library

        def work() -> tuple[str, bytes, list[Any]] | None:
            service = library.sync
            device_id = service.device_id
            return device_id, qr_png(device_id), service.status()

        self.ops.query(work, self._show)

    def _show(self, loaded: tuple[str, bytes, list[Any]] | None) -> None:
        if loaded is None:
            self.message.setText("Sync is not installed in this build.")
            for widget in (self.peer_id, self.peer_name, self.peer_address, self.peers):
                widget.setEnabled(False)
            return
        device_id, png, peers = loaded
        self.device_id.setText(device_id)
        pixmap = QPixmap()
        pixmap.loadFromData(png, "PNG")
        self.qr.setPixmap(pixmap)
        self.peers.clear()
        for p in peers:
            seen = (
                time.strftime("%Y-%m-%d %H:%M", time.localtime(p.last_seen))
                if (p.last_seen)
                else "never"
            )
            item = QTreeWidgetItem([p.name, p.device_id, p.address or "", seen, str(p.pending)])
            item.setData(0, Qt.ItemDataRole.UserRole, p.device_id)
            self.peers.addTopLevelItem(item)

    def _run(self, work: Any, done_text: str) -> None:
        self.ops.run_for_dialog(work, self.message.setText, done_text, self.refresh)

    def pair(self) -> None:
        device_id = self.peer_id.text().strip()
        name, address = self.peer_name.text().strip(), self.peer_address.text().strip() or None
        library = self.library
        self._run(
            lambda: library.sync.pair(device_id, name, address),
            f"Paired {name or device_id[:7]}.",
        )
        self.peer_id.clear()

    def unpair(self) -> None:
        item = self.peers.currentItem()
        if item is None:
            self.message.setText("Select a device to unpair.")
            return
        device_id = item.data(0, Qt.ItemDataRole.UserRole)
        library = self.library
        self._run(lambda: library.sync.unpair(device_id), "Unpaired.")
