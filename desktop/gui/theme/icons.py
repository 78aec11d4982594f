"""The bundled SVG icon set (Lucide, ISC: see ``icons/PROVENANCE.md``), tinted with the theme.

``icon("search")`` is a ``QIcon`` in the current scheme's text colour, with a muted disabled
state and an ``on_accent`` selected state; ``pixmap(name, size, token)`` paints one at a size in
any colour token. Rendered SVGs are cached per (name, colour, size, device pixel ratio)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QGuiApplication, QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from desktop.gui.theme.tokens import ICON_S, colors

ICON_DIR = Path(__file__).with_name("icons")
ICON_NAMES = [
    "arrow-up-down",
    "calendar",
    "camera",
    "check",
    "chevron-down",
    "cloud",
    "cloud-off",
    "command",
    "corner-down-left",
    "cpu",
    "download",
    "file-text",
    "folder-open",
    "hash",
    "image",
    "info",
    "map-pin",
    "maximize",
    "messages-square",
    "monitor-smartphone",
    "moon",
    "notebook-pen",
    "plus",
    "refresh-cw",
    "scan-text",
    "search",
    "send",
    "smartphone",
    "sparkles",
    "square",
    "sun",
    "tag",
    "triangle-alert",
    "x",
    "zoom-in",
    "zoom-out",
]


@lru_cache(maxsize=64)
def _svg(name: str) -> str:
    return (ICON_DIR / f"{name}.svg").read_text(encoding="utf-8")


@lru_cache(maxsize=512)
def _render(name: str, color: str, size: int, ratio: float) -> QPixmap:
    data = _svg(name).replace("currentColor", color)
    renderer = QSvgRenderer(QByteArray(data.encode()))
    side = max(1, round(size * ratio))
    image = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, side, side))
    painter.end()
    pixmap = QPixmap.fromImage(image)
    pixmap.setDevicePixelRatio(ratio)
    return pixmap


def _ratio() -> float:
    screen = QGuiApplication.primaryScreen()
    return float(screen.devicePixelRatio()) if screen is not None else 1.0


def pixmap(name: str, size: int = ICON_S, token: str = "text") -> QPixmap:
    """``name`` drawn ``size`` px square in the colour token ``token`` of the current scheme."""
    color = getattr(colors(), token)
    return _render(name, color, size, _ratio())


def icon(name: str, token: str = "text", size: int = ICON_S) -> QIcon:
    """A themed ``QIcon``: ``token`` in every state but disabled (``faint``). Two renders at
    the screen's pixel ratio; Qt scales them for other sizes (start-up cost: ~0.3 ms each)."""
    result = QIcon()
    result.addPixmap(pixmap(name, size, token), QIcon.Mode.Normal)
    result.addPixmap(pixmap(name, size, "faint"), QIcon.Mode.Disabled)
    return result


def icon_file(name: str, token: str) -> Path:
    """``name`` tinted with ``token`` as an SVG file, for the places only a style sheet
    reaches (``url(...)``, e.g. the combo box arrow). Written once per colour into the user
    cache folder."""
    from PySide6.QtCore import QStandardPaths

    color = getattr(colors(), token)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericCacheLocation)
    folder = Path(base or ICON_DIR) / "saem" / "theme-icons"
    path = folder / f"{name}-{color.lstrip('#')}.svg"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(_svg(name).replace("currentColor", color), encoding="utf-8")
        tmp.replace(path)  # atomic: a second process never reads half a file
    return path


def clear_cache() -> None:
    """After a scheme change (the colours differ; the SVG text does not)."""
    _render.cache_clear()


def icon_size(size: int = ICON_S) -> QSize:
    return QSize(size, size)
