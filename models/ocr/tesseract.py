"""Tesseract 5 LSTM through pytesseract (``kor+eng``): whole pages, or many regions in one call."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.errors import InferenceError, ModelNotInstalledError
from models.ocr.base import _BaseEngine
from models.ocr.layout import _WORDY, Box, _Item, _union, has_hangul
from models.ocr.prep import MARGIN, prepare_line
from models.protocols import OcrWord


@dataclass(frozen=True)
class Slot:
    """Where a crop on the stacked page came from: page pixel → photo pixel is
    ``x + (page_x - pad - margin) * sx`` (and the same for y from the crop's top)."""

    region: int
    x: float
    y: float
    sx: float
    sy: float
    margin: int


class TesseractEngine(_BaseEngine):
    """Tesseract 5 LSTM through pytesseract; ``kor+eng`` reads printed Korean and English."""

    def __init__(self, files: list[Path] | None = None, meta: dict[str, Any] | None = None) -> None:
        super().__init__(meta)
        meta = meta or {}
        self.lang = str(meta.get("lang", "kor+eng"))
        self.min_score = float(meta.get("min_score", 0.45))
        dirs = {Path(f).parent for f in files or [] if str(f).endswith(".traineddata")}
        self._tessdata = next(iter(dirs), None)
        self.model_id = f"tesseract-{self.lang}"
        self.crop_height = int(meta.get("crop_height", 48))
        # "clean": regions binarized, cut to their ink and straightened (prep.py);
        # "plain": scaled to crop_height as they are (the pipeline before; a benchmark baseline)
        self.crops = str(meta.get("crops", "clean"))
        self.pad = float(meta.get("pad", 0.0))  # margin added around a region, × its height
        self._checked = False

    def _config(self, psm: int) -> str:
        cfg = f"--psm {psm}"
        if self._tessdata:
            cfg += f' --tessdata-dir "{self._tessdata}"'
        return cfg

    def _check(self) -> Any:
        try:
            import pytesseract
        except ImportError as exc:
            raise ModelNotInstalledError("pytesseract is not installed.") from exc
        if not self._checked:
            try:
                pytesseract.get_tesseract_version()
                have = set(pytesseract.get_languages(config=self._config(3)))
            except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError, OSError) as exc:
                raise ModelNotInstalledError(
                    "Tesseract is not installed (apt install tesseract-ocr tesseract-ocr-kor)."
                ) from exc
            missing = [lang for lang in self.lang.split("+") if lang not in have]
            if missing:
                raise ModelNotInstalledError(
                    f"Tesseract has no data for {', '.join(missing)} "
                    f"(apt install tesseract-ocr-{missing[0]})."
                )
            self._checked = True
        return pytesseract

    def data(self, rgb: np.ndarray, psm: int = 3) -> dict[str, list[Any]]:
        pytesseract = self._check()
        from PIL import Image

        try:
            words: dict[str, list[Any]] = pytesseract.image_to_data(
                Image.fromarray(rgb),
                lang=self.lang,
                config=self._config(psm),
                output_type=pytesseract.Output.DICT,
            )
        except (pytesseract.TesseractError, OSError, RuntimeError) as exc:
            raise InferenceError(f"Tesseract failed on this image ({exc}).") from exc
        return words

    def lines_from_data(self, data: dict[str, list[Any]], key_fn: Any = None) -> list[_Item]:
        """Tesseract words → line fragments; Korean words are re-joined where the gap is tight."""
        lines: dict[tuple[Any, ...], list[OcrWord]] = {}
        for i, text in enumerate(data["text"]):
            conf = float(data["conf"][i])
            if conf < 0 or not str(text).strip():
                continue
            box = (
                float(data["left"][i]),
                float(data["top"][i]),
                float(data["left"][i] + data["width"][i]),
                float(data["top"][i] + data["height"][i]),
            )
            key = (
                key_fn(box)
                if key_fn
                else (data["block_num"][i], data["par_num"][i], data["line_num"][i])
            )
            lines.setdefault(key, []).append(OcrWord(str(text).strip(), conf / 100.0, box))
        items = []
        for words in lines.values():
            words.sort(key=lambda w: w.box[0])
            height = float(np.median([w.box[3] - w.box[1] for w in words]))
            text = words[0].text
            for prev, word in itertools.pairwise(words):
                gap = word.box[0] - prev.box[2]
                tight = has_hangul(prev.text[-1:]) and has_hangul(word.text[:1])
                text += ("" if tight and gap < 0.45 * height else " ") + word.text
            weights = [len(w.text) for w in words]
            conf = float(np.average([w.confidence for w in words], weights=weights))
            if conf >= self.min_score and _WORDY.search(text):
                items.append(
                    _Item(text, conf, _union([w.box for w in words]), "tesseract", tuple(words))
                )
        return items

    def _items(self, rgb: np.ndarray) -> tuple[list[_Item], list[Box], int]:
        return self.lines_from_data(self.data(rgb)), [], 0

    def _page_plain(self, rgb: np.ndarray, regions: list[Box]) -> tuple[list[Any], list[Slot]]:
        """The crops as they are, scaled to ``crop_height`` px (the pipeline before prep.py)."""
        from PIL import Image

        h, w = rgb.shape[:2]
        crops, slots = [], []
        for r, box in enumerate(regions):
            x0, y0 = max(0, int(box[0]) - 3), max(0, int(box[1]) - 3)
            x1, y1 = min(w, int(box[2]) + 3), min(h, int(box[3]) + 3)
            if x1 - x0 < 4 or y1 - y0 < 6:
                continue
            scale = self.crop_height / (y1 - y0)
            ch = max(8, min(400, round((y1 - y0) * scale)))
            cw = min(2000, max(1, round((x1 - x0) * scale)))
            image = np.asarray(
                Image.fromarray(rgb[y0:y1, x0:x1]).resize((cw, ch), Image.Resampling.BILINEAR)
            )
            crops.append(image)
            slots.append(Slot(r, x0, y0, (x1 - x0) / cw, (y1 - y0) / ch, 0))
        return crops, slots

    def _page_clean(self, rgb: np.ndarray, regions: list[Box]) -> tuple[list[Any], list[Slot]]:
        """Each region prepared by :func:`prepare_line` in both polarities (see prep.py)."""
        h, w = rgb.shape[:2]
        crops, slots = [], []
        for r, box in enumerate(regions):
            bh = box[3] - box[1]
            # room around the box: letters touching the crop's edge are dropped as clutter
            pad = max(3, round(self.pad * bh))
            x0, y0 = max(0, int(box[0]) - pad), max(0, int(box[1]) - pad)
            x1, y1 = min(w, int(box[2]) + pad), min(h, int(box[3]) + pad)
            if x1 - x0 < 4 or y1 - y0 < 6:
                continue
            for flip in (False, True):
                line = prepare_line(rgb[y0:y1, x0:x1], flip=flip)
                if line is None or line.image.shape[1] > 2400:
                    continue
                ink = line.ink
                body_w = max(1, line.image.shape[1] - 2 * MARGIN)
                body_h = max(1, line.image.shape[0] - 2 * MARGIN)
                crops.append(np.repeat(line.image[:, :, None], 3, axis=2))
                slots.append(
                    Slot(
                        r,
                        x0 + ink[0],
                        y0 + ink[1],
                        (ink[2] - ink[0]) / body_w,
                        (ink[3] - ink[1]) / body_h,
                        MARGIN,
                    )
                )
        return crops, slots

    def data_many(self, images: list[np.ndarray], psm: int) -> list[dict[str, list[Any]]]:
        """Tesseract on several images in ONE process (its image-list input: the language data
        loads once), each image read alone with ``psm``; one image_to_data-style dict each."""
        import subprocess
        import tempfile

        pytesseract = self._check()
        from PIL import Image

        pages: list[dict[str, list[Any]]] = [
            {
                k: []
                for k in (
                    "text",
                    "conf",
                    "left",
                    "top",
                    "width",
                    "height",
                    "block_num",
                    "par_num",
                    "line_num",
                )
            }
            for _ in images
        ]
        if not images:
            return pages
        with tempfile.TemporaryDirectory(prefix="saem-ocr-") as tmp:
            names = []
            for i, image in enumerate(images):
                name = str(Path(tmp) / f"{i:04d}.png")
                Image.fromarray(image).save(name)
                names.append(name)
            listing = Path(tmp) / "list.txt"
            listing.write_text("\n".join(names) + "\n", encoding="utf-8")
            cmd = [pytesseract.pytesseract.tesseract_cmd, str(listing), "stdout", "-l", self.lang]
            cmd += ["--psm", str(psm)]
            if self._tessdata:
                cmd += ["--tessdata-dir", str(self._tessdata)]
            try:
                out = subprocess.run(
                    [*cmd, "tsv"], capture_output=True, check=True, timeout=120
                ).stdout.decode("utf-8", "replace")
            except (subprocess.SubprocessError, OSError) as exc:
                raise InferenceError(f"Tesseract failed on these regions ({exc}).") from exc
        for row in out.splitlines()[1:]:
            cols = row.split("\t")
            if len(cols) < 12 or cols[0] != "5":
                continue
            page = pages[int(cols[1]) - 1] if 0 < int(cols[1]) <= len(pages) else None
            if page is None:
                continue
            for key, col in (("block_num", 2), ("par_num", 3), ("line_num", 4)):
                page[key].append(int(cols[col]))
            for key, col in (("left", 6), ("top", 7), ("width", 8), ("height", 9)):
                page[key].append(int(cols[col]))
            page["conf"].append(float(cols[10]))
            page["text"].append(cols[11])
        return pages

    def _read_clean(self, rgb: np.ndarray, regions: list[Box]) -> list[_Item]:
        """Each region prepared in both polarities (prep.py), each read as one line (psm 7),
        all in one Tesseract process; per region the more confident reading is kept."""
        crops, slots = self._page_clean(rgb, regions)
        best: dict[int, _Item] = {}
        for data, s in zip(self.data_many(crops, psm=7), slots, strict=True):
            for it in self.lines_from_data(data, key_fn=lambda _b: 0):

                def back(b: Box, s: Slot = s) -> Box:
                    return (
                        s.x + (b[0] - s.margin) * s.sx,
                        s.y + (b[1] - s.margin) * s.sy,
                        s.x + (b[2] - s.margin) * s.sx,
                        s.y + (b[3] - s.margin) * s.sy,
                    )

                words = tuple(OcrWord(wd.text, wd.confidence, back(wd.box)) for wd in it.words)
                item = _Item(it.text, it.confidence, back(it.box), it.engine, words)
                if s.region not in best or item.confidence > best[s.region].confidence:
                    best[s.region] = item
        return list(best.values())

    def read_regions(self, rgb: np.ndarray, regions: list[Box]) -> list[_Item]:
        """Read several text regions with ONE Tesseract call: crops stacked on a white page.

        With prepared crops (the default) each region is stacked twice, once per polarity, and
        the more confident reading of the two is kept."""
        if self.crops != "plain":
            return self._read_clean(rgb, regions)
        crops, slots = self._page_plain(rgb, regions)
        if not crops:
            return []
        gap, pad = 24, 16
        page = np.full(
            (
                gap + sum(c.shape[0] + gap for c in crops),
                max(c.shape[1] for c in crops) + 2 * pad,
                3,
            ),
            255,
            dtype=np.uint8,
        )
        tops, y = [], gap
        for crop in crops:
            page[y : y + crop.shape[0], pad : pad + crop.shape[1]] = crop
            tops.append((y, y + crop.shape[0]))
            y += crop.shape[0] + gap

        def slot_of(box: Box) -> int:
            cy = (box[1] + box[3]) / 2
            return min(range(len(tops)), key=lambda i: abs((tops[i][0] + tops[i][1]) / 2 - cy))

        best: dict[int, tuple[float, _Item]] = {}
        for it in self.lines_from_data(self.data(page, psm=6), key_fn=slot_of):
            k = slot_of(it.box)
            s, top = slots[k], tops[k][0]

            def back(b: Box, s: Slot = s, top: int = top) -> Box:
                return (
                    s.x + (b[0] - pad - s.margin) * s.sx,
                    s.y + (b[1] - top - s.margin) * s.sy,
                    s.x + (b[2] - pad - s.margin) * s.sx,
                    s.y + (b[3] - top - s.margin) * s.sy,
                )

            words = tuple(OcrWord(wd.text, wd.confidence, back(wd.box)) for wd in it.words)
            item = _Item(it.text, it.confidence, back(it.box), it.engine, words)
            key = k if self.crops == "plain" else s.region
            if key not in best or item.confidence > best[key][0]:
                best[key] = (item.confidence, item)
        return [item for _, item in best.values()]
