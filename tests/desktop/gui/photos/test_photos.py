"""Photo grid (grouped by day, lazy thumbnails) and the viewer's OCR boxes."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication

pytestmark = pytest.mark.gui


@pytest.fixture
def photo_with_text(library, tmp_path: Path) -> str:
    """A real photo (scikit-image's astronaut) with two OCR lines stored for it."""
    from PIL import Image
    from skimage import data

    from storage.chunks import OcrLineRow, replace_ocr_lines

    path = tmp_path / "astronaut.jpg"
    Image.fromarray(data.astronaut()).save(path, quality=90)
    photo_id, _ = library.photos.add(path)
    with library.db.transaction():
        replace_ocr_lines(
            library.db,
            photo_id,
            [
                OcrLineRow(0, 0, "NASA 우주인", 0.93, (40.0, 30.0, 240.0, 70.0), "test"),
                OcrLineRow(0, 1, "Expedition 1", 0.88, (40.0, 80.0, 260.0, 112.0), "test"),
            ],
        )
    return photo_id


def test_grid_groups_by_day_and_loads_thumbnails(qtbot, window, library, photo_with_text, settle):
    window.reload_lists()
    settle(window)
    window.show_section(1)
    model = window.photo_grid.grid_model
    qtbot.waitUntil(lambda: model.photo_count == 1)
    assert model.entries[0].photo_id is None  # a day header comes first
    row = model.row_of(photo_with_text)
    pixmap = model.data(model.index(row, 0), Qt.ItemDataRole.DecorationRole)
    assert pixmap is model._loading_pixmap  # not loaded yet: the loading tile, load queued
    qtbot.waitUntil(lambda: photo_with_text in model._cache, timeout=10_000)
    loaded = model.data(model.index(row, 0), Qt.ItemDataRole.DecorationRole)
    assert loaded.width() > 0 and loaded is not model._loading_pixmap


def test_viewer_draws_ocr_boxes_hover_and_click_copy(qtbot, window, library, photo_with_text):
    window.open_item("photo", photo_with_text)
    viewer = window.viewer
    qtbot.waitUntil(lambda: len(viewer.boxes) == 2, timeout=10_000)
    assert [b.text for b in viewer.boxes] == ["NASA 우주인", "Expedition 1"]
    first = viewer.boxes[0]
    assert first.rect().x() == 40 and first.rect().width() == 200
    assert first.toolTip() == "NASA 우주인"
    assert viewer.pixmap_item.pixmap().width() == 512  # the full photo, not the thumbnail
    assert viewer.camera.text() == "Unknown"  # no EXIF in this file
    # Hover then click the box, through the real view at the box's on-screen position.
    center = viewer.view.mapFromScene(first.sceneBoundingRect().center())
    qtbot.mouseMove(viewer.view.viewport(), center)
    qtbot.waitUntil(lambda: viewer.hovered_text.text() == "NASA 우주인")
    qtbot.mouseClick(viewer.view.viewport(), Qt.MouseButton.LeftButton, pos=center)
    assert QGuiApplication.clipboard().text() == "NASA 우주인"
    assert viewer.hovered_text.text() == "Copied: NASA 우주인"
    # Zoom keeps the boxes on the photo (they are scene items in image pixels).
    # (The anchor is under the mouse, so the hovered box's centre may stay put: compare sizes.)
    before = viewer.view.mapFromScene(first.sceneBoundingRect()).boundingRect().width()
    viewer.view.zoom(2.0)
    after = viewer.view.mapFromScene(first.sceneBoundingRect()).boundingRect().width()
    assert 1.8 * before <= after <= 2.2 * before
    assert viewer.view.mapFromScene(first.sceneBoundingRect().center()) != QPoint(0, 0)


def test_viewer_edits_tags(qtbot, window, library, photo_with_text):
    window.open_item("photo", photo_with_text)
    viewer = window.viewer
    qtbot.waitUntil(lambda: viewer.photo_id == photo_with_text)
    viewer.tags.setFocus()
    viewer.tags.setText("space, 우주")
    qtbot.keyClick(viewer.tags, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: library.photos.get(photo_with_text).tags == ["space", "우주"], timeout=10_000
    )
