"""Tesseract 5 LSTM through pytesseract (``kor+eng``): whole pages, or many regions in one call."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np

from models.errors import InferenceError, ModelNotInstalledError
from models.ocr.base import _BaseEngine, _ink_height
from models.ocr.layout import _WORDY, Box, _Item, _union, has_hangul
from models.protocols import OcrWord

TEXT_HEIGHT = 0  # px of letter height in Tesseract crops (0: scale by box height)


class TesseractEngine(_BaseEngine):
    """Tesseract 5 LSTM through pytesseract; ``kor+eng`` reads printed Korean and English."""

    def __init__(self, files: list[Path] | None = None, meta: dict[str, Any] | None = None) -> None:
        super().__init__()
        meta = meta or {}
        self.lang = str(meta.get("lang", "kor+eng"))
        self.min_score = float(meta.get("min_score", 0.45))
        dirs = {Path(f).parent for f in files or [] if str(f).endswith(".traineddata")}
        self._tessdata = next(iter(dirs), None)
        self.model_id = f"tesseract-{self.lang}"
        self.crop_height = int(meta.get("crop_height", 48))
        # scale each crop so its letters (not its box) are this tall; 0 = by box height
        self.text_height = int(meta.get("text_height", TEXT_HEIGHT))
        self.prepare_crops = bool(meta.get("prepare_crops", False))
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

    def _prepare(self, crop: np.ndarray) -> np.ndarray:
        """Grey, dark text on light: a plate with light text (white on blue) is inverted, since
        Tesseract's LSTM was trained on dark-on-light lines and the crop sits on a white page."""
        if not self.prepare_crops:
            return crop
        grey = crop.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
        if np.median(border) < np.median(grey[grey.shape[0] // 4 : -grey.shape[0] // 4 or None]):
            grey = 255.0 - grey  # the edge is darker than the middle: light text
        lo, hi = np.percentile(grey, (2, 98))
        if hi - lo > 8:
            grey = (grey - lo) * (255.0 / (hi - lo))
        return np.repeat(np.clip(grey, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)

    def read_regions(self, rgb: np.ndarray, regions: list[Box]) -> list[_Item]:
        """Read several text regions with ONE Tesseract call: crops stacked on a white page."""
        gap, pad = 24, 16
        crops, slots, y = [], [], gap
        h, w = rgb.shape[:2]
        for box in regions:
            x0, y0, x1, y1 = (
                max(0, int(box[0]) - 3),
                max(0, int(box[1]) - 3),
                min(w, int(box[2]) + 3),
                min(h, int(box[3]) + 3),
            )
            if x1 - x0 < 4 or y1 - y0 < 6:
                continue
            crop = rgb[y0:y1, x0:x1]
            if self.text_height:  # scale the letters, not the box, to a set height
                scale = self.text_height / _ink_height(crop)
            else:
                scale = self.crop_height / (y1 - y0)
            ch = max(8, min(400, round((y1 - y0) * scale)))
            cw = min(2000, max(1, round((x1 - x0) * scale)))
            crops.append((self._prepare(crop), cw, ch, y))
            slots.append((y, y + ch, x0, y0, (x1 - x0) / cw, (y1 - y0) / ch))
            y += ch + gap
        if not crops:
            return []
        from PIL import Image

        page = np.full((y, max(c[1] for c in crops) + 2 * pad, 3), 255, dtype=np.uint8)
        for crop, cw, ch, top in crops:
            page[top : top + ch, pad : pad + cw] = np.asarray(
                Image.fromarray(crop).resize((cw, ch), Image.Resampling.BILINEAR)
            )

        def slot_of(box: Box) -> int:
            cy = (box[1] + box[3]) / 2
            return min(range(len(slots)), key=lambda i: abs((slots[i][0] + slots[i][1]) / 2 - cy))

        items = []
        for it in self.lines_from_data(self.data(page, psm=6), key_fn=slot_of):
            s = slots[slot_of(it.box)]

            def back(b: Box, s: tuple[float, ...] = s) -> Box:
                return (
                    s[2] + (b[0] - pad) * s[4],
                    s[3] + (b[1] - s[0]) * s[5],
                    s[2] + (b[2] - pad) * s[4],
                    s[3] + (b[3] - s[0]) * s[5],
                )

            words = tuple(OcrWord(wd.text, wd.confidence, back(wd.box)) for wd in it.words)
            items.append(_Item(it.text, it.confidence, back(it.box), it.engine, words))
        return items
