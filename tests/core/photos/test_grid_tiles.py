"""Grid tiles carry the aspect ratio a justified grid needs, EXIF rotation applied."""

from __future__ import annotations

from PIL import Image


def test_tiles_have_displayed_aspect(library, tmp_path):
    wide = tmp_path / "wide.jpg"
    Image.new("RGB", (400, 200), (200, 50, 50)).save(wide)
    rotated = tmp_path / "rotated.jpg"
    image = Image.new("RGB", (400, 200), (50, 50, 200))
    exif = image.getexif()
    exif[274] = 6  # EXIF orientation: rotate 90° when shown
    image.save(rotated, exif=exif.tobytes())
    wide_id, _ = library.photos.add(wide)
    rotated_id, _ = library.photos.add(rotated)
    tiles = {t.photo_id: t for t in library.photos.grid_tiles()}
    assert tiles[wide_id].aspect == 2.0
    assert tiles[rotated_id].aspect == 0.5
    assert tiles[wide_id].thumb_path.exists()
