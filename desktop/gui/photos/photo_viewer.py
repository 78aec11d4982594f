"""The photo viewer: zoom/pan photo with the OCR boxes drawn over it, a zoom bar, the EXIF
and place panel, tags as chips.

Hovering a box shows its text; clicking copies it. The image is decoded off the GUI thread.
Keyboard: + / - / 0 zoom and fit, arrow keys pan, Tab reaches the tags field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QGuiApplication,
    QImage,
    QImageReader,
    QKeySequence,
    QPainter,
    QPen,
    QPixmap,
    QShortcut,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFormLayout,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.library import PhotoId
from desktop.gui.operations import Operations
from desktop.gui.theme import icons
from desktop.gui.theme.paint import color
from desktop.gui.theme.tokens import SPACE_M, SPACE_S, SPACE_XS

if TYPE_CHECKING:
    from core.library import Library


class OcrBox(QGraphicsRectItem):
    """One OCR line: hover shows the text, click copies it."""

    def __init__(self, rect: QRectF, text: str, viewer: PhotoViewer) -> None:
        super().__init__(rect)
        self.text = text
        self.viewer = viewer
        self.setAcceptHoverEvents(True)
        self.setToolTip(text)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._idle()

    def _idle(self) -> None:
        self._paint(color("overlay"), 2.0, 38)

    def _paint(self, base: QColor, width: float, alpha: int) -> None:
        pen = QPen(base, width)
        pen.setCosmetic(True)
        self.setPen(pen)
        fill = QColor(base)
        fill.setAlpha(alpha)
        self.setBrush(QBrush(fill))

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._paint(QColor("#f5a524"), 3.0, 70)  # amber reads on light and dark photos
        self.viewer.hovered_text.setText(self.text)

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._idle()

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self.viewer.copy_text(self.text)
        event.accept()


class PhotoView(QGraphicsView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Photo")
        self.setRenderHints(
            QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform
        )
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.fitted = True

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.zoom(1.25 if event.angleDelta().y() > 0 else 0.8)

    def zoom(self, factor: float) -> None:
        self.fitted = False
        self.scale(factor, factor)

    def fit(self) -> None:
        self.fitted = True
        if self.scene() is not None:
            self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self.fitted:
            self.fit()


class PhotoViewer(QWidget):
    tags_changed = Signal(str)
    copied = Signal(str)

    def __init__(self, library: Library, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.ops = ops
        self.photo_id: str | None = None
        self.boxes: list[OcrBox] = []
        self.scene = QGraphicsScene(self)
        self.view = PhotoView(self)
        self.view.setScene(self.scene)
        self.pixmap_item = QGraphicsPixmapItem()
        self.pixmap_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene.addItem(self.pixmap_item)

        self.title = QLabel(self)
        self.title.setAccessibleName("Photo title")
        self.title.setProperty("role", "title")
        self.title.setWordWrap(True)
        self.taken = QLabel(self)
        self.place = QLabel(self)
        self.camera = QLabel(self)
        self.size_label = QLabel(self)
        self._meta_icons: list[tuple[QLabel, str]] = []
        for label, name in (
            (self.taken, "Taken"),
            (self.place, "Place"),
            (self.camera, "Camera"),
            (self.size_label, "Size"),
        ):
            label.setAccessibleName(name)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
        self.chips = QWidget(self)
        self.chips.setAccessibleName("Tags")
        self._chip_row = QHBoxLayout(self.chips)
        self._chip_row.setContentsMargins(0, 0, 0, 0)
        self._chip_row.setSpacing(SPACE_XS)
        self.tags = QLineEdit(self)
        self.tags.setAccessibleName("Photo tags")
        self.tags.setPlaceholderText("Add tags, separated by spaces or commas")
        self.tags.editingFinished.connect(self._save_tags)
        self.hovered_text = QLabel(self)
        self.hovered_text.setAccessibleName("Text under the pointer")
        self.hovered_text.setProperty("role", "muted")
        self.hovered_text.setWordWrap(True)
        self.hovered_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.ocr_text = QPlainTextEdit(self)
        self.ocr_text.setAccessibleName("Text in the photo")
        self.ocr_text.setReadOnly(True)
        self.ocr_text.setMaximumHeight(self.fontMetrics().lineSpacing() * 5 + 12)

        # zoom bar over the photo
        self.zoom_buttons: list[tuple[QToolButton, str]] = []
        bar = QHBoxLayout()
        bar.setContentsMargins(SPACE_S, SPACE_XS, SPACE_S, SPACE_XS)
        bar.setSpacing(SPACE_XS)
        bar.addWidget(self.hovered_text, 1)
        for name, tip, slot in (
            ("zoom-out", "Zoom out (-)", lambda: self.view.zoom(0.8)),
            ("zoom-in", "Zoom in (+)", lambda: self.view.zoom(1.25)),
            ("maximize", "Fit to the window (0)", lambda: self.view.fit()),
            ("scan-text", "Show or hide the text boxes", self.toggle_boxes),
        ):
            button = QToolButton(self)
            button.setProperty("variant", "ghost")
            button.setToolTip(tip)
            button.setAccessibleName(tip)
            button.clicked.connect(slot)
            bar.addWidget(button)
            self.zoom_buttons.append((button, name))

        info = QWidget(self)
        form = QFormLayout(info)
        form.setContentsMargins(SPACE_M, SPACE_S, SPACE_M, SPACE_M)
        form.setHorizontalSpacing(SPACE_M)
        form.setVerticalSpacing(SPACE_S)
        form.addRow(self.title)
        meta_rows = [
            (self.taken, "Taken", "calendar"),
            (self.place, "Place", "map-pin"),
            (self.camera, "Camera", "camera"),
            (self.size_label, "Size", "image"),
        ]
        for label, name, glyph in meta_rows:
            icon_label = QLabel(info)
            icon_label.setToolTip(name)
            self._meta_icons.append((icon_label, glyph))
            form.addRow(icon_label, label)
        form.addRow("Tags", self.chips)
        form.addRow("", self.tags)
        form.addRow("Text", self.ocr_text)
        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.setSpacing(0)
        top_layout.addWidget(self.view, 1)
        top_layout.addLayout(bar)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(top)
        split.addWidget(info)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 0)
        split.setCollapsible(0, False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self.refresh_theme()
        zoom_in = QShortcut(QKeySequence.StandardKey.ZoomIn, self)
        zoom_in.activated.connect(lambda: self.view.zoom(1.25))
        QShortcut(QKeySequence("="), self.view).activated.connect(lambda: self.view.zoom(1.25))
        zoom_out = QShortcut(QKeySequence.StandardKey.ZoomOut, self)
        zoom_out.activated.connect(lambda: self.view.zoom(0.8))
        QShortcut(QKeySequence("0"), self.view).activated.connect(self.view.fit)
        self.setTabOrder(self.view, self.tags)

    # -- loading -------------------------------------------------------------------------------

    def load(self, photo_id: str) -> None:
        library = self.library

        def work() -> dict[str, Any]:
            photo = library.photos.get(PhotoId(photo_id))
            lines = library.photos.ocr_lines(PhotoId(photo_id))
            reader = QImageReader(str(photo.blob_path))
            reader.setAutoTransform(True)
            image = reader.read()
            if image.isNull():
                thumb = QImageReader(str(photo.thumb_path))
                thumb.setAutoTransform(True)
                image = thumb.read()
            return {
                "photo": photo,
                "lines": lines,
                "image": image,
                "place": _place(photo.meta.gps_lat, photo.meta.gps_lon),
            }

        self.ops.query(work, self._show)

    def _show(self, loaded: dict[str, Any]) -> None:
        photo, image = loaded["photo"], loaded["image"]
        self.photo_id = photo.id
        meta = photo.meta
        self.pixmap_item.setPixmap(
            QPixmap.fromImage(image) if isinstance(image, QImage) else QPixmap()
        )
        for box in self.boxes:
            self.scene.removeItem(box)
        self.boxes = []
        for line in loaded["lines"]:
            x0, y0, x1, y1 = line.box
            box = OcrBox(QRectF(x0, y0, x1 - x0, y1 - y0), line.text, self)
            self.scene.addItem(box)
            self.boxes.append(box)
        self.scene.setSceneRect(self.pixmap_item.boundingRect())
        self.view.fit()
        self.title.setText(f"<b>{_escape(photo.title)}</b>")
        self.taken.setText(_format_time(meta.taken_at))
        place = loaded["place"]
        if meta.gps_lat is not None and meta.gps_lon is not None:
            coords = f"{meta.gps_lat:.4f}, {meta.gps_lon:.4f}"
            self.place.setText(f"{place} ({coords})" if place else coords)
        else:
            self.place.setText("Unknown")
        camera = " ".join(x for x in (meta.camera_make, meta.camera_model) if x)
        self.camera.setText(camera or "Unknown")
        self.size_label.setText(
            f"{meta.width or '?'} × {meta.height or '?'} px, {_file_size(meta.size)}"
        )
        self.tags.setText(" ".join(photo.tags))
        self._show_chips(photo.tags)
        texts = [line.text for line in loaded["lines"]]
        self.ocr_text.setPlainText("\n".join(texts) if texts else "No text found (yet).")
        self.hovered_text.setText("Hover a box to read it; click to copy.")

    def _show_chips(self, tags: list[str]) -> None:
        while self._chip_row.count():
            item = self._chip_row.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for tag in tags:
            chip = QLabel(f"#{_escape(tag)}", self.chips)
            chip.setProperty("variant", "chip")
            self._chip_row.addWidget(chip)
        if not tags:
            none = QLabel("No tags yet", self.chips)
            none.setProperty("role", "muted")
            self._chip_row.addWidget(none)
        self._chip_row.addStretch(1)

    def toggle_boxes(self) -> None:
        show = not (self.boxes and self.boxes[0].isVisible())
        for box in self.boxes:
            box.setVisible(show)

    def refresh_theme(self) -> None:
        """Icons and box colours after a light/dark switch; the photo sits on a dark mat."""
        for button, name in self.zoom_buttons:
            button.setIcon(icons.icon(name, "muted"))
        for label, name in self._meta_icons:
            label.setPixmap(icons.pixmap(name, 16, "muted"))
        self.view.setBackgroundBrush(QBrush(QColor("#141414")))
        for box in self.boxes:
            box._idle()

    def copy_text(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self.hovered_text.setText(f"Copied: {text}")
        self.copied.emit(text)

    def _save_tags(self) -> None:
        if self.photo_id is None:
            return
        photo_id = self.photo_id
        tags = [t for t in self.tags.text().replace(",", " ").split() if t]
        photos = self.library.photos

        def saved(_result: object) -> None:
            self._show_chips(tags)
            self.tags_changed.emit(photo_id)

        self.ops.query(lambda: photos.set_tags(PhotoId(photo_id), tags), saved)


def _place(lat: float | None, lon: float | None) -> str | None:
    from core.photos.places import place_name

    if lat is None or lon is None:
        return None
    return place_name(lat, lon)


def _format_time(taken_at: str | None) -> str:
    """EXIF "2024:07:14 09:55:00" or ISO "2024-07-14T09:55:00" → "2024-07-14 09:55"."""
    if not taken_at:
        return "Unknown"
    date, clock = taken_at[:10], taken_at[11:16]
    return f"{date.replace(':', '-')} {clock}".strip()


def _file_size(size: int) -> str:
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    return f"{max(1, round(size / 1000))} KB"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
