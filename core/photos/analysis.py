"""Everything Saem reads from one photo: OCR lines, tags, people, a semantic vector, a place.

The photo is checked (format, pixel limit, full decode) and turned upright by its EXIF
orientation first; OCR boxes are in the pixels of that upright image. Models run on a copy no
larger than ``MODEL_MAX_SIDE`` (boxes are scaled back). Each model is optional.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import UnreadableFileError
from core.photos.files import _gps, open_checked
from core.photos.places import place_name
from models.protocols import ImageTagger, OcrEngine, OcrLine, OcrWord, TagScore, TextEmbedder

MODEL_MAX_SIDE = 2560


@dataclass
class PhotoAnalysis:
    width: int  # upright image, pixels
    height: int
    ocr_lines: list[OcrLine] = field(default_factory=list)
    tags: list[TagScore] = field(default_factory=list)
    people: int = 0
    semantic_vector: np.ndarray | None = None
    place: str | None = None
    gps: tuple[float, float] | None = None
    colors: list[str] = field(default_factory=list)
    raw_labels: list[tuple[str, float]] = field(default_factory=list)
    models: dict[str, str] = field(default_factory=dict)  # kind → model_id that produced it

    @property
    def ocr_text(self) -> str:
        """OCR text in reading order: lines joined by newlines, blocks by blank lines."""
        out: list[str] = []
        last_block: int | None = None
        for line in self.ocr_lines:
            if last_block is not None and line.block != last_block:
                out.append("")
            out.append(line.text)
            last_block = line.block
        return "\n".join(out)

    @property
    def tag_names(self) -> list[str]:
        return [t.tag for t in self.tags]


def load_upright(path: Path) -> tuple[np.ndarray, tuple[float, float] | None]:
    """Decode a photo fully, apply its EXIF orientation → (RGB array, GPS lat/lon or None)."""
    from PIL import Image, ImageOps

    image = open_checked(path)
    try:
        exif = image.getexif()
        lat, lon = _gps(dict(exif.get_ifd(0x8825))) if exif else (None, None)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image.load()
                upright = ImageOps.exif_transpose(image)
                rgb = np.asarray(upright.convert("RGB"))
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
            raise UnreadableFileError(
                f"{path}: the image data is corrupt or truncated ({exc})."
            ) from exc
    finally:
        image.close()
    gps = (lat, lon) if lat is not None and lon is not None else None
    return rgb, gps


def _shrink(rgb: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    h, w = rgb.shape[:2]
    scale = max(h, w) / max_side
    if scale <= 1:
        return rgb, 1.0
    from PIL import Image

    size = (max(1, round(w / scale)), max(1, round(h / scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS)), scale


def _scale_line(line: OcrLine, s: float) -> OcrLine:
    def box(b: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        return (round(b[0] * s, 1), round(b[1] * s, 1), round(b[2] * s, 1), round(b[3] * s, 1))

    words = tuple(OcrWord(w.text, w.confidence, box(w.box)) for w in line.words)
    return OcrLine(
        line.text, line.confidence, box(line.box), line.block, line.line, line.engine, words
    )


def analyze_photo(
    path: Path,
    *,
    ocr: OcrEngine | None,
    tagger: ImageTagger | None,
    text_embedder: TextEmbedder | None = None,
    gps: tuple[float, float] | None = None,
) -> PhotoAnalysis:
    """Analyze one photo file. Raises BadInputError for unreadable, corrupt or huge images;
    model failures raise the model's ModelError.

    ``gps`` overrides the coordinates read from EXIF (e.g. a place the user set by hand).
    """
    rgb, exif_gps = load_upright(Path(path))
    height, width = rgb.shape[:2]
    result = PhotoAnalysis(width=width, height=height, gps=gps or exif_gps)
    small, scale = _shrink(rgb, MODEL_MAX_SIDE)
    del rgb
    lines: list[OcrLine] = []
    if ocr is not None:
        lines = ocr.read(small)
        result.ocr_lines = [_scale_line(ln, scale) for ln in lines] if scale != 1 else lines
        result.models["ocr"] = ocr.model_id
    if tagger is not None:
        tags = tagger.tag(small, ocr_lines=lines)
        result.tags, result.people = list(tags.tags), int(tags.people)
        result.raw_labels = list(tags.raw_labels)
        result.colors = list(tags.colors)
        result.models["image-tags"] = tagger.model_id
        if text_embedder is not None:
            from models.semantic_vectors import semantic_vector

            result.semantic_vector = semantic_vector(tags, text_embedder)
            result.models["semantic-vector"] = text_embedder.model_id
    if result.gps is not None:
        result.place = place_name(*result.gps)
    return result
