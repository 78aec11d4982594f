"""Keyboard-only flows: every part of the window is reachable without a mouse, and the main
tasks (switch section, search and open, open a photo, leave the welcome) work by keys alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.gui


def _focused():
    return QApplication.focusWidget()


def test_tab_walks_title_bar_sidebar_list_and_editor(qtbot, window, library, settle):
    library.notes.create("# 첫 메모\n\n본문")
    window.reload_lists()
    settle(window)
    bar = window.title_bar
    bar.search_field.setFocus()
    qtbot.waitUntil(lambda: _focused() is bar.search_field)
    seen = []
    for _ in range(8):
        qtbot.keyClick(_focused(), Qt.Key.Key_Tab)
        seen.append(_focused())
    for widget in (
        bar.new_button,
        bar.import_button,
        bar.ask_button,
        window.sidebar,
        window.notes_sort,
        window.notes_view,
    ):
        assert widget in seen, widget.accessibleName()
    # Space on the focused search field opens the palette with the cursor in its input.
    bar.search_field.setFocus()
    qtbot.keyClick(bar.search_field, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.palette_widget.isVisible())
    assert _focused() is window.palette_widget.input
    qtbot.keyClick(window.palette_widget.input, Qt.Key.Key_Escape)
    assert not window.palette_widget.isVisible()


def test_section_shortcuts_and_f6_pane_cycling(qtbot, window):
    from desktop.gui.main_window import DEVICES, PHOTOS

    for i, key in enumerate((Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_4, Qt.Key.Key_5)):
        qtbot.keyClick(window, key, Qt.KeyboardModifier.ControlModifier)
        assert window.sidebar.currentRow() == i
    assert window.middle.currentIndex() == DEVICES
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.middle.currentIndex() == PHOTOS
    window.sidebar.setFocus()
    qtbot.waitUntil(lambda: _focused() is window.sidebar)
    visited = []
    for _ in range(4):
        qtbot.keyClick(_focused(), Qt.Key.Key_F6)
        visited.append(_focused())
    assert visited[-1] is window.sidebar  # sidebar → list → detail → title bar → sidebar
    assert window.title_bar.search_field in visited


def test_palette_korean_query_enter_opens_the_note(qtbot, window, library, settle, type_text):
    note = library.notes.create("# 경복궁 산책\n\n광화문에서 시작")
    window.reload_lists()
    settle(window)
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    palette = window.palette_widget
    qtbot.waitUntil(palette.isVisible)
    type_text(palette.input, "경복궁")
    qtbot.waitUntil(lambda: any(r.item_id == note for r in palette.model.rows), timeout=10_000)
    row = next(i for i, r in enumerate(palette.model.rows) if r.item_id == note)
    for _ in range(row):
        qtbot.keyClick(palette.input, Qt.Key.Key_Down)
    qtbot.keyClick(palette.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.editor.note_id == note, timeout=10_000)
    assert not palette.isVisible()


@pytest.fixture
def two_photos(library, tmp_path: Path) -> list[str]:
    from PIL import Image
    from skimage import data

    ids = []
    for name, array in (("astronaut", data.astronaut()), ("coffee", data.coffee())):
        path = tmp_path / f"{name}.jpg"
        Image.fromarray(array).save(path, quality=85)
        ids.append(library.photos.add(path)[0])
    return ids


def test_photo_grid_arrows_and_enter_open_the_viewer(qtbot, window, two_photos, settle):
    window.reload_lists()
    settle(window)
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    grid = window.photo_grid
    qtbot.waitUntil(lambda: grid.grid_model.photo_count == 2)
    assert not window.photos_page.pane.is_empty
    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_Home)
    first = grid.grid_model.entries[grid.current].photo_id
    qtbot.keyClick(grid, Qt.Key.Key_Right)
    second = grid.grid_model.entries[grid.current].photo_id
    assert {first, second} == set(two_photos)
    qtbot.keyClick(grid, Qt.Key.Key_Left)
    assert grid.grid_model.entries[grid.current].photo_id == first
    qtbot.keyClick(grid, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.viewer.photo_id == first, timeout=10_000)
    assert _focused() is window.viewer.view
    # + and 0 zoom and fit from the keyboard; Tab reaches the tags field.
    view = window.viewer.view
    before = view.transform().m11()
    qtbot.keyClick(view, Qt.Key.Key_Equal)
    assert view.transform().m11() == pytest.approx(before * 1.25)
    qtbot.keyClick(view, Qt.Key.Key_0)
    assert view.fitted


def test_welcome_is_keyboard_operable_and_remembered(qtbot, window):
    welcome = window.welcome
    assert window.detail.currentWidget() is welcome  # a first run (fresh settings)
    welcome.explore_button.setFocus()
    qtbot.keyClick(welcome.explore_button, Qt.Key.Key_Space)
    assert window.detail.currentWidget() is window.empty
    assert window.settings.value("welcome/done", False, type=bool)


def test_model_chip_opens_the_models_dialog(qtbot, window):
    from desktop.gui.dialogs.models import ModelsDialog

    chip = window.status.models_label
    chip.setFocus()
    qtbot.keyClick(chip, Qt.Key.Key_Space)
    qtbot.waitUntil(
        lambda: any(
            isinstance(w, ModelsDialog) and w.isVisible() for w in QApplication.topLevelWidgets()
        )
    )
    for w in QApplication.topLevelWidgets():
        if isinstance(w, ModelsDialog):
            w.close()
