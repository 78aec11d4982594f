"""Import dialog (Markdown folder / Obsidian vault, photos) with progress and cancel, and
"Sync now". The Devices and Models dialogs live in their own modules."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStatusBar,
    QVBoxLayout,
    QWidget,
)

from core.errors import USER_ERRORS, user_message
from desktop.gui.dialogs.devices import DevicesDialog
from desktop.gui.dialogs.models import ModelsDialog
from desktop.gui.operations import CancelToken, Operations

if TYPE_CHECKING:
    from core.library import Library
    from core.transfer.importer import ImportReport

__all__ = ["DevicesDialog", "ImportDialog", "ModelsDialog", "sync_now"]

_TITLES = {"folder": "Import a Markdown folder or Obsidian vault", "photos": "Import photos"}


class ImportDialog(QDialog):
    """Pick a folder (or photo files), import with a progress bar; Cancel keeps what finished."""

    def __init__(
        self, library: Library, ops: Operations, kind: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.library, self.ops, self.kind = library, ops, kind
        self.report: ImportReport | None = None
        self._token: CancelToken | None = None
        self.setWindowTitle(_TITLES[kind])
        self.setAccessibleName(_TITLES[kind])
        self.path = QLineEdit(self)
        self.path.setAccessibleName("Folder or files to import")
        self.path.setPlaceholderText("Folder" if kind == "folder" else "Folder or photo files")
        browse = QPushButton("Browse…", self)
        browse.setAccessibleName("Browse for the folder")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Import progress")
        self.status = QLabel("Choose what to import.", self)
        self.status.setAccessibleName("Import status")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(self)
        self.start_button = self.buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.start_button.clicked.connect(lambda: self.start(self.path.text()))
        self.cancel_button.clicked.connect(self.cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.resize(560, 180)

    def _browse(self) -> None:
        if self.kind == "folder":
            chosen = QFileDialog.getExistingDirectory(self, "Markdown folder or vault")
            if chosen:
                self.path.setText(chosen)
        else:
            files, _ = QFileDialog.getOpenFileNames(
                self, "Photos", "", "Photos (*.jpg *.jpeg *.png *.webp *.heic *.heif)"
            )
            if files:
                self.path.setText(";".join(files))

    def start(self, text: str) -> None:
        text = text.strip()
        if not text:
            self.status.setText("Choose a folder first.")
            return
        from core.transfer import importer

        library, ops = self.library, self.ops
        token = self._token = CancelToken()
        paths = [Path(p) for p in text.split(";") if p]
        self.start_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.status.setText("Importing…")

        def progress(done: int, total: int, note: str = "") -> None:
            ops.to_gui(lambda: self._progress(done, total, note))

        def work() -> ImportReport:
            if self.kind == "folder":
                return importer.import_markdown_folder(
                    library, paths[0], progress=progress, should_cancel=token
                )
            return importer.import_photos(library, paths, progress=progress, should_cancel=token)

        ops.long(work, self._done, self._failed)

    def _progress(self, done: int, total: int, note: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.status.setText(f"{done:,} of {total:,} · {note}" if note else f"{done:,} of {total:,}")

    def _done(self, report: ImportReport) -> None:
        self._token = None
        self.report = report
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        skipped = "".join(f"\n• {Path(p).name}: {why}" for p, why in report.skipped[:5])
        self.status.setText(f"Done: {report.summary}.{skipped}")
        self.start_button.setEnabled(True)
        self.cancel_button.setText("Close")

    def _failed(self, exc: BaseException) -> None:
        self._token = None
        self.start_button.setEnabled(True)
        self.progress.setRange(0, 1)
        if isinstance(exc, USER_ERRORS):
            self.status.setText(user_message(exc))
        else:
            self.ops.report_error(exc)
            self.status.setText("The import stopped because of an unexpected error.")

    def cancel(self) -> None:
        if self._token is not None:
            self._token.cancel()
            self.status.setText("Cancelling… what finished is kept; import again to continue.")
        else:
            self.reject()

    @property
    def running(self) -> bool:
        return self._token is not None


def sync_now(library: Library, ops: Operations, status: QStatusBar) -> None:
    """One sync round with every paired device that has an address (on the long thread)."""

    def work() -> list[str]:
        service = library.sync
        peers = [p for p in service.devices() if p.address]
        if not peers:
            return ["No paired device with an address: pair one in Tools → Devices."]
        lines = []
        for peer in peers:
            try:
                report = service.sync_now(peer.device_id, timeout=60.0)
            except USER_ERRORS as exc:
                lines.append(f"{peer.name or peer.device_id[:7]}: {user_message(exc)}")
                continue
            lines.append(
                f"{peer.name or peer.device_id[:7]}: {report.updates_in} in, "
                f"{report.updates_out} out"
            )
        return lines

    status.showMessage("Syncing…")
    ops.long(work, lambda lines: status.showMessage(" · ".join(lines), 15_000))
