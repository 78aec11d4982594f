"""Import (with progress), Devices (ID + QR, pairing errors) and Models dialogs."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.gui


def test_import_folder_with_progress(qtbot, window, library, tmp_path: Path, settle):
    from desktop.gui.dialogs.dialogs import ImportDialog

    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "서울 여행.md").write_text("# 서울 여행\n\n경복궁 #travel", encoding="utf-8")
    (vault / "Recipes.md").write_text("Kimchi stew [[서울 여행]]", encoding="utf-8")
    (vault / "broken.md").write_bytes(b"\xff\xfe\x00bad")
    dialog = ImportDialog(library, window.ops, "folder", window)
    qtbot.addWidget(dialog)
    dialog.open()
    dialog.path.setText(str(vault))
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=20_000)
    assert dialog.report.notes_created == 2
    assert "2 notes added" in dialog.status.text() and "broken.md" in dialog.status.text()
    assert dialog.progress.value() == dialog.progress.maximum()
    dialog.close()
    window.reload_lists()
    qtbot.waitUntil(lambda: {r.title for r in window.notes_model.rows} >= {"서울 여행", "Recipes"})
    settle(window)


def test_import_of_a_missing_folder_says_why(qtbot, window, library, tmp_path):
    from desktop.gui.dialogs.dialogs import ImportDialog

    dialog = ImportDialog(library, window.ops, "folder", window)
    qtbot.addWidget(dialog)
    dialog.start(str(tmp_path / "nope"))
    qtbot.waitUntil(lambda: not dialog.running, timeout=10_000)
    assert "nope" in dialog.status.text()
    assert library.stats().notes == 0


def test_devices_dialog_shows_id_and_qr_and_refuses_bad_ids(qtbot, window, library):
    from desktop.gui.dialogs.dialogs import DevicesDialog

    dialog = DevicesDialog(library, window.ops, window)
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitUntil(lambda: bool(dialog.device_id.text()), timeout=20_000)
    assert not dialog.qr.pixmap().isNull()
    dialog.peer_id.setText("not-a-device-id")
    dialog.pair()
    qtbot.waitUntil(lambda: bool(dialog.message.text()), timeout=10_000)
    assert dialog.peers.topLevelItemCount() == 0
    assert "Paired" not in dialog.message.text()
    dialog.close()


def test_models_dialog_lists_tasks_and_what_is_missing(qtbot, window, library):
    from desktop.gui.dialogs.dialogs import ModelsDialog

    dialog = ModelsDialog(library, window.ops, window)
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitUntil(lambda: dialog.tree.topLevelItemCount() >= 6, timeout=20_000)
    tasks = [dialog.tree.topLevelItem(i).text(0) for i in range(dialog.tree.topLevelItemCount())]
    assert {"text-embedding", "ocr", "chat"} <= set(tasks)
    assert dialog.missing.text()
    bad = Path(window.library.root) / "not-a-model.gguf"
    bad.write_bytes(b"not a gguf file")
    dialog.add_files([str(bad)])
    qtbot.waitUntil(
        lambda: dialog.message.text() not in ("", "Checking and adding the model…"), timeout=20_000
    )
    assert dialog.message.text() != "Added."
    dialog.close()
