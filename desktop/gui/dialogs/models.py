"""Models: what is installed per task, where it runs (CPU/GPU), which one is active; add a
model file; what is missing and what it would enable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.gui.operations import Operations

if TYPE_CHECKING:
    from core.library import Library
    from core.modelstore.builtins import ModelInfo

ENABLES = {
    "text-embedding": "search by meaning and related notes",
    "ocr": "finding the text inside photos (signs, receipts, screenshots)",
    "image-tags": "automatic photo tags (people, food, cars…)",
    "clip": "finding photos by describing them",
    "chat": "asking questions about your notes (answers with sources)",
    "vision-chat": "asking questions about a photo itself",
}
DEVICES = ("auto", "cpu", "gpu")


def missing_tasks(models: list[ModelInfo]) -> list[str]:
    """Tasks with no usable active model, as sentences."""
    usable = {m.task for m in models if m.active and m.available}
    return [
        f"No {task} model: adding one enables {what}."
        for task, what in ENABLES.items()
        if task not in usable
    ]


class ModelsDialog(QDialog):
    def __init__(self, library: Library, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library, self.ops = library, ops
        self.setWindowTitle("Models")
        self.setAccessibleName("Models")
        self.tree = QTreeWidget(self)
        self.tree.setAccessibleName("Installed models")
        self.tree.setHeaderLabels(["Model", "Runtime", "Runs on", "State"])
        self.device = QComboBox(self)
        self.device.setAccessibleName("Device")
        self.device.addItems(DEVICES)
        self.device.activated.connect(self._set_device)
        use = QPushButton("Use selected", self)
        use.setAccessibleName("Use the selected model")
        use.clicked.connect(self.use_selected)
        add = QPushButton("Add model file…", self)
        add.setAccessibleName("Add a model file")
        add.clicked.connect(self._browse)
        self.missing = QLabel(self)
        self.missing.setAccessibleName("Missing models")
        self.missing.setWordWrap(True)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(QLabel("Device:", self))
        row.addWidget(self.device)
        row.addStretch(1)
        row.addWidget(use)
        row.addWidget(add)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.missing)
        layout.addWidget(self.message)
        layout.addWidget(close)
        self.resize(760, 520)
        self.refresh()

    def refresh(self) -> None:
        manager = self.library.models
        self.ops.query(lambda: (manager.list(), manager.device()), self._show)

    def _show(self, loaded: tuple[list[ModelInfo], str]) -> None:
        models, device = loaded
        self.device.setCurrentText(device)
        self.tree.clear()
        by_task: dict[str, QTreeWidgetItem] = {}
        for task in ENABLES:
            parent = QTreeWidgetItem([task])
            parent.setFirstColumnSpanned(False)
            self.tree.addTopLevelItem(parent)
            by_task[task] = parent
        for m in models:
            known = by_task.get(m.task)
            if known is None:
                known = by_task[m.task] = QTreeWidgetItem([m.task])
                self.tree.addTopLevelItem(known)
            parent = known
            state = "active" if m.active else ("available" if m.available else "missing files")
            state = f"{state} — {m.note}" if m.note else state
            item = QTreeWidgetItem([m.name, m.runtime, m.where, state])
            item.setData(0, Qt.ItemDataRole.UserRole, m.id)
            parent.addChild(item)
        self.tree.expandAll()
        for column in range(4):
            self.tree.resizeColumnToContents(column)
        gaps = missing_tasks(models)
        self.missing.setText("\n".join(gaps) if gaps else "Every task has a model.")

    def _run(self, work: Any, done_text: str, *, long: bool = False) -> None:
        self.ops.run_for_dialog(work, self.message.setText, done_text, self.refresh, long=long)

    def _set_device(self, index: int) -> None:
        device, manager = DEVICES[index], self.library.models
        self._run(lambda: manager.set_device(device), f"Models will run on: {device}.")

    def use_selected(self) -> None:
        item = self.tree.currentItem()
        model_id = item.data(0, Qt.ItemDataRole.UserRole) if item else None
        if not model_id:
            self.message.setText("Select a model first.")
            return
        manager = self.library.models
        self._run(lambda: manager.use(model_id), "Switched.")

    def _browse(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Model files", "", "Models (*.gguf *.onnx);;All files (*)"
        )
        if files:
            self.add_files(files)

    def add_files(self, files: list[str]) -> None:
        manager = self.library.models
        self.message.setText("Checking and adding the model…")
        self._run(lambda: manager.add(files), "Added.", long=True)
