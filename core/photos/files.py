"""Reading photo files safely: format check, pixel limit, EXIF, thumbnails."""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import InputTooLargeError, UnreadableFileError

MAX_PIXELS = 120_000_000  # ~ a 12,000 × 10,000 image; larger is refused as a possible bomb
THUMB_SIZE = 512
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"}
_MIME = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "HEIF": "image/heif",
    "MPO": "image/jpeg",
}

_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        _heif_registered = True


@dataclass(frozen=True)
class PhotoInfo:
    mime: str
    width: int
    height: int
    orientation: int | None
    taken_at: str | None
    gps_lat: float | None
    gps_lon: float | None
    camera_make: str | None
    camera_model: str | None


def _ratio(value: Any) -> float:  # EXIF: an IFDRational or a (num, den) pair
    try:
        return float(value)  # IFDRational
    except (TypeError, ValueError, ZeroDivisionError):
        num, den = value
        return float(num) / float(den) if den else 0.0


def _degrees(dms: Any) -> float:
    return _ratio(dms[0]) + _ratio(dms[1]) / 60 + _ratio(dms[2]) / 3600


def _gps(gps: Mapping[int, Any]) -> tuple[float | None, float | None]:
    try:
        lat_ref, lat, lon_ref, lon = gps.get(1), gps.get(2), gps.get(3), gps.get(4)
        if not lat or not lon:
            return None, None
        la, lo = _degrees(lat), _degrees(lon)
        if str(lat_ref).upper().startswith("S"):
            la = -la
        if str(lon_ref).upper().startswith("W"):
            lo = -lo
        if not (-90 <= la <= 90 and -180 <= lo <= 180):
            return None, None
        return round(la, 7), round(lo, 7)
    except (TypeError, ValueError, IndexError, ZeroDivisionError):
        return None, None


def _taken_at(raw: object) -> str | None:
    if not raw:
        return None
    text = str(raw).strip().replace("\x00", "")
    for fmt in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y:%m:%d %H:%M"):
        try:
            return datetime.strptime(text[:19], fmt).isoformat()
        except ValueError:
            continue
    return None


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).replace("\x00", "").strip()
    return text or None


def open_checked(path: Path) -> Image.Image:
    """Open an image lazily, refusing unknown formats and images over the pixel limit."""
    _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputTooLargeError(
            f"{path}: not a readable image ({exc.__class__.__name__})."
        ) from exc
    except UnidentifiedImageError as exc:
        raise UnreadableFileError(
            f"{path}: not a readable image ({exc.__class__.__name__})."
        ) from exc
    except OSError as exc:
        raise UnreadableFileError(f"{path}: cannot read the image ({exc}).") from exc
    if image.width * image.height > MAX_PIXELS:
        image.close()
        raise InputTooLargeError(
            f"{path}: the image is too large ({image.width}×{image.height} pixels; the limit is "
            f"{MAX_PIXELS:,} pixels)."
        )
    return image


def read_photo(path: Path, thumbnail_to: Path | None = None) -> PhotoInfo:
    """Validate a photo (decode all pixels), read its EXIF, optionally write its thumbnail
    from the same decoded pixels (one decode instead of two)."""
    image = open_checked(path)
    try:
        fmt = image.format or ""
        mime = _MIME.get(fmt)
        if mime is None:
            raise UnreadableFileError(f"{path}: unsupported image format {fmt or 'unknown'}.")
        exif = image.getexif()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image.load()  # full decode: truncated or corrupt data fails here
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
            raise UnreadableFileError(
                f"{path}: the image data is corrupt or truncated ({exc})."
            ) from exc
        if thumbnail_to is not None and not thumbnail_to.exists():
            _save_thumbnail(image, thumbnail_to)
        sub = exif.get_ifd(0x8769) if exif else {}
        gps = exif.get_ifd(0x8825) if exif else {}
        lat, lon = _gps(dict(gps))
        orientation = exif.get(274) if exif else None
        return PhotoInfo(
            mime=mime,
            width=image.width,
            height=image.height,
            orientation=int(orientation) if isinstance(orientation, int) else None,
            taken_at=_taken_at(
                sub.get(36867) or sub.get(36868) or (exif.get(306) if exif else None)
            ),
            gps_lat=lat,
            gps_lon=lon,
            camera_make=_clean(exif.get(271)) if exif else None,
            camera_model=_clean(exif.get(272)) if exif else None,
        )
    finally:
        image.close()


def make_thumbnail(source: Path, target: Path, size: int = THUMB_SIZE) -> None:
    """Write a JPEG thumbnail with EXIF orientation applied (atomic rename)."""
    image = open_checked(source)
    try:
        if image.format == "JPEG":
            image.draft("RGB", (size, size))  # decode at a reduced scale: much faster
        _save_thumbnail(image, target, size)
    finally:
        image.close()


def _save_thumbnail(image: Image.Image, target: Path, size: int = THUMB_SIZE) -> None:
    """Thumbnail of an opened image, orientation applied, written atomically as JPEG."""
    image = ImageOps.exif_transpose(image)
    image.thumbnail((size, size))
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.split()[-1])
        image = background
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".jpg")
    try:
        with os.fdopen(fd, "wb") as out:
            image.save(out, "JPEG", quality=85)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
