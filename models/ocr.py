"""OCR runtimes: rapidocr (PP-OCRv6 ONNX, Latin/CJK), Tesseract ``kor+eng``, and "auto".

Every engine returns :class:`OcrLine` objects in reading order, grouped into blocks and lines,
with boxes in the pixels of the image it was given (after EXIF orientation when it was given a
path or a PIL image). A photo lying on its side or upside down is read in the rotated frame and
its boxes are mapped back.

"auto" runs rapidocr first. PP-OCRv6's recognizer has no Hangul: it returns empty or
low-confidence text for Korean regions its detector found. Those regions (or the whole photo
when the caller says it may hold Korean) are read by Tesseract and the better line of each
overlapping pair is kept by confidence, preferring Tesseract's reading when it holds Hangul.
"""

from __future__ import annotations

import abc
import itertools
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from models.errors import (
    InferenceError,
    ModelConfigError,
    ModelError,
    ModelFileCorruptError,
    ModelFileMissingError,
    ModelNotInstalledError,
    WrongModelKindError,
)
from models.ocr_layout import (  # noqa: F401 - re-exported
    _WORDY,
    CJK,
    DET_MAX_SIDE,
    DET_MIN_SIDE,
    HANGUL,
    MAX_PIXELS,
    Box,
    _Item,
    _near,
    _overlap_small,
    _quad_box,
    _quality,
    _rotate_back,
    _same_row,
    _scaled,
    _too_short,
    _union,
    box_iou,
    has_hangul,
    layout,
    load_rgb,
    round_box,
)
from models.protocols import OcrEngine, OcrLine, OcrWord

log = logging.getLogger("saem.models.ocr")
COARSE_SIDE, COARSE_UNCLIP = 640, 1.8
TEXT_HEIGHT = 0  # px of letter height in Tesseract crops (0: scale by box height)


def _area(b: Box) -> float:
    return max(1e-6, (b[2] - b[0]) * (b[3] - b[1]))


def _ink_height(crop: np.ndarray) -> float:
    """How tall the letters in a line crop are: the rows holding the minority (ink) colour.

    A detected box holds the line plus a margin (a plate, the detector's unclip), so its height
    says little about the letter size Tesseract sees; clamped to 35–100 % of the crop."""
    grey = crop.astype(np.float32).mean(axis=2) if crop.ndim == 3 else crop.astype(np.float32)
    lo, hi = np.percentile(grey, (5, 95))
    rows = grey.shape[0]
    if hi - lo < 16:
        return float(rows)
    dark = grey < (lo + hi) / 2
    border = np.concatenate([dark[0], dark[-1], dark[:, 0], dark[:, -1]])
    ink = ~dark if border.mean() > 0.5 else dark
    share = ink.mean(axis=1)
    inked = np.flatnonzero(share > 0.08)
    height = float(inked[-1] - inked[0] + 1) if inked.size else float(rows)
    return float(min(float(rows), max(0.35 * rows, height)))


def _read_boxes(items: list[_Item]) -> list[Box]:
    """Where text was actually read: word boxes when the engine gives them, else line boxes."""
    return [w.box for it in items for w in it.words] + [it.box for it in items if not it.words]


def _unread_parts(box: Box, read: list[Box]) -> list[Box]:
    """The stretches of a (coarse) line box that no read fragment on its row covers, when they
    are at least 0.8 line heights wide: PP-OCR reads "TOTAL 16,000" and silently drops "합계"."""
    h = box[3] - box[1]
    spans = sorted(
        (max(box[0], r[0]), min(box[2], r[2]))
        for r in read
        if min(box[3], r[3]) - max(box[1], r[1]) > 0.4 * min(h, r[3] - r[1])
        and r[2] > box[0]
        and r[0] < box[2]
    )
    parts, x = [], box[0]
    for a, b in spans:
        if a - x >= 0.8 * h:
            parts.append((x, box[1], a, box[3]))
        x = max(x, b)
    if box[2] - x >= 0.8 * h:
        parts.append((x, box[1], box[2], box[3]))
    return parts


class _BaseEngine(abc.ABC):
    model_id = "ocr"

    def __init__(self) -> None:
        self._lock = threading.Lock()

    @abc.abstractmethod
    def _items(self, rgb: np.ndarray) -> tuple[list[_Item], list[Box], int]:
        """Fragments, unread text regions and how many crops looked upside down."""

    def _read_upright(self, rgb: np.ndarray) -> tuple[list[_Item], int]:
        """Read, and read again rotated when the text runs vertically or upside down.

        Returns the fragments in the frame of ``np.rot90(rgb, k)`` and ``k``.
        """
        items, unread, flipped = self._items(rgb)
        boxes = [it.box for it in items] + unread
        tall = sum(1 for b in boxes if (b[3] - b[1]) > 1.5 * (b[2] - b[0]))
        candidates: list[tuple[float, list[_Item], int]] = [(_quality(items), items, 0)]
        turns: list[int] = []
        if boxes and tall > len(boxes) / 2:
            turns = [1, 3]
        elif boxes and flipped > len(boxes) / 2:
            turns = [2]
        for k in turns:
            rotated, _, _ = self._items(np.ascontiguousarray(np.rot90(rgb, k)))
            candidates.append((_quality(rotated) * (1.05 if k == 2 else 1.0), rotated, k))
        _, best, k = max(candidates, key=lambda c: c[0])
        return best, k

    def read(self, image: Any) -> list[OcrLine]:
        rgb = load_rgb(image)
        with self._lock:
            items, k = self._read_upright(rgb)
        lines = layout(items)  # reading order in the upright (rotated) frame
        if k == 0:
            return lines
        h, w = rgb.shape[:2]

        def back(b: Box) -> Box:
            return round_box(_rotate_back(b, k, w, h))

        return [
            OcrLine(
                ln.text,
                ln.confidence,
                back(ln.box),
                ln.block,
                ln.line,
                ln.engine,
                tuple(OcrWord(wd.text, wd.confidence, back(wd.box)) for wd in ln.words),
            )
            for ln in lines
        ]

    def close(self) -> None:  # engines without native handles have nothing to free
        return None


class RapidOcrEngine(_BaseEngine):
    """PP-OCRv6 small (det + rec) with the PP-OCR direction classifier, bundled in rapidocr."""

    def __init__(self, files: list[Path] | None = None, meta: dict[str, Any] | None = None) -> None:
        super().__init__()
        meta = meta or {}
        self.min_score = float(meta.get("min_score", 0.5))
        # second, coarse detection pass (0 = off); measured on korean_scene: see bench_ocr.py
        self.coarse_side = int(meta.get("coarse_side", COARSE_SIDE))
        self.coarse_unclip = float(meta.get("coarse_unclip", COARSE_UNCLIP))
        # any kana/hanzi reading may be misread Hangul: Tesseract reads it again
        self.hanzi_suspect = bool(meta.get("hanzi_suspect", True))
        self._files: dict[str, Path | None] = {"det": None, "rec": None, "cls": None, "keys": None}
        for f in files or []:
            p = Path(f)
            key = (
                "keys"
                if p.suffix == ".txt"
                else next((k for k in ("det", "rec", "cls") if k in p.name.lower()), None)
            )
            if key is None:
                raise WrongModelKindError(
                    f"{p}: cannot tell whether this is a det, rec or cls model."
                )
            self._files[key] = p
        names = "+".join(p.stem for p in self._files.values() if p is not None)
        self.model_id = f"rapidocr-{names}" if names else "rapidocr-ppocrv6-small"
        self._engine: Any = None

    def _load(self) -> Any:
        if self._engine is not None:
            return self._engine
        try:
            import rapidocr
            from rapidocr import RapidOCR
        except ImportError as exc:
            raise ModelNotInstalledError(
                "rapidocr is not installed (pip install rapidocr==3.10.0)."
            ) from exc
        root = Path(rapidocr.__file__).parent / "models"
        paths = {
            "det": self._files["det"] or root / "PP-OCRv6_det_small.onnx",
            "rec": self._files["rec"] or root / "PP-OCRv6_rec_small.onnx",
            "cls": self._files["cls"] or root / "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
        }
        for p in paths.values():
            if not Path(p).is_file():
                raise ModelFileMissingError(f"{p}: the OCR model file is missing.")
        params: dict[str, Any] = {
            "Global.log_level": "error",
            "Global.text_score": 0.0,
            "Global.return_word_box": True,
            "Det.limit_type": "max",  # we upscale small images ourselves (see _items)
            "Det.limit_side_len": DET_MAX_SIDE,
            "Det.model_path": str(paths["det"]),
            "Rec.model_path": str(paths["rec"]),
            "Cls.model_path": str(paths["cls"]),
        }
        if self._files["keys"]:
            params["Rec.rec_keys_path"] = str(self._files["keys"])
        capture: dict[str, Any] = {}

        class _Capturing(RapidOCR):  # keeps the regions whose text came back empty
            def build_final_output(
                self,
                ori_img: np.ndarray,
                det_res: Any,
                cls_res: Any,
                rec_res: Any,
                crops: Any,
                op_record: Any,
            ) -> Any:
                from rapidocr.utils.process_img import map_boxes_to_original

                capture.clear()
                if det_res.boxes is not None and rec_res.txts is not None:
                    h, w = ori_img.shape[:2]
                    boxes = map_boxes_to_original(
                        np.array(det_res.boxes, dtype=np.float64), dict(op_record), h, w
                    )
                    capture["all"] = list(zip(boxes, rec_res.txts, rec_res.scores, strict=False))
                    capture["cls"] = list(cls_res.cls_res or [])
                return super().build_final_output(
                    ori_img, det_res, cls_res, rec_res, crops, op_record
                )

        try:
            engine = _Capturing(params=params)
            engine(np.full((40, 40, 3), 255, dtype=np.uint8))  # load the three sessions now
        except Exception as exc:
            raise ModelFileCorruptError(
                f"The rapidocr models could not be loaded ({exc})."
            ) from exc
        self._engine, self._capture = engine, capture
        return engine

    def _items(self, rgb: np.ndarray) -> tuple[list[_Item], list[Box], int]:
        engine = self._load()
        rgb_orig = rgb
        h, w = rgb.shape[:2]
        # small images: short side up to 736 px (as PP-OCR's "min" rule) but never past
        # DET_MAX_SIDE, so a 1000×160 strip is not blown up to 4600×736
        up = min(DET_MIN_SIDE / min(h, w), DET_MAX_SIDE / max(h, w))
        if up > 1.001:
            from PIL import Image

            size = (round(w * up), round(h * up))
            rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BICUBIC))
        else:
            up = 1.0
        try:
            out = engine(rgb[:, :, ::-1].copy())  # rapidocr takes OpenCV-style BGR arrays
        except Exception as exc:
            raise InferenceError(f"rapidocr failed on this image ({exc}).") from exc
        items: list[_Item] = []
        if out.txts:
            words_by_line = list(out.word_results or [])
            for i, (quad, text, score) in enumerate(
                zip(out.boxes, out.txts, out.scores, strict=False)
            ):
                if score < self.min_score or not text.strip():
                    continue
                words: tuple[OcrWord, ...] = ()
                if i < len(words_by_line) and words_by_line[i]:
                    words = tuple(
                        OcrWord(str(t), float(s), _scaled(_quad_box(b), up))
                        for t, s, b in words_by_line[i]
                        if b is not None
                    )
                box = _scaled(_quad_box(quad), up)
                items.append(_Item(text, float(score), box, "rapidocr", words))
        unread = [
            _scaled(_quad_box(b), up)
            for b, t, s in self._capture.get("all", [])
            if not t.strip()
            or s < self.min_score
            or _too_short(t, _quad_box(b))
            # PP-OCRv6 reads Hangul as kana/hanzi garbage, often with confidence > 0.9
            or (CJK.search(t) and (self.hanzi_suspect or s < 0.9))
        ]
        flipped = sum(
            1 for label, conf in self._capture.get("cls", []) if "180" in str(label) and conf > 0.9
        )
        for it in items:  # stretches of a read line with no word in them (dropped Hangul)
            if it.words and all(_overlap_small(it.box, u) < 0.9 for u in unread):
                unread += _unread_parts(it.box, [w.box for w in it.words])
        if self.coarse_side and max(h, w) > 1.25 * self.coarse_side:
            unread = self._coarse_regions(engine, rgb_orig, items, unread)
        return items, unread, flipped

    def _coarse_regions(
        self, engine: Any, rgb: np.ndarray, items: list[_Item], unread: list[Box]
    ) -> list[Box]:
        """A second detection pass on the photo shrunk to ``coarse_side``: large text (titles,
        signs, Hangul over a photo) that the full-size pass splits into pieces or misses.

        A coarse region that the fine pass already READ (Latin/digits) is dropped; otherwise it
        replaces the fine pass's unread pieces inside it, so a Korean line is read whole.
        """
        det = engine.text_det
        if det is None:
            return unread
        saved = (det.limit_side_len, det.limit_type, det.postprocess_op.unclip_ratio)
        det.limit_side_len, det.limit_type = self.coarse_side, "max"
        det.postprocess_op.unclip_ratio = self.coarse_unclip
        try:
            out = det(rgb[:, :, ::-1].copy())
        except Exception as exc:
            raise InferenceError(f"rapidocr failed on this image ({exc}).") from exc
        finally:
            det.limit_side_len, det.limit_type, det.postprocess_op.unclip_ratio = saved
        if out.boxes is None:
            return unread
        read = _read_boxes(
            [it for it in items if all(_overlap_small(it.box, u) < 0.9 for u in unread)]
        )
        regions = list(unread)
        for quad in out.boxes:
            for c in _unread_parts(_quad_box(quad), read):
                rivals = [u for u in regions if _overlap_small(u, c) > 0.5]
                if any(_area(u) >= _area(c) for u in rivals):
                    continue  # a fine region already holds this line whole
                regions = [u for u in regions if u not in rivals] + [c]
        return regions

    def close(self) -> None:
        self._engine = None


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


class AutoOcrEngine(_BaseEngine):
    """rapidocr everywhere, Tesseract ``kor+eng`` where rapidocr could not read (Hangul)."""

    def __init__(self, files: list[Path] | None = None, meta: dict[str, Any] | None = None) -> None:
        super().__init__()
        meta = meta or {}
        self.rapid = RapidOcrEngine(
            [f for f in files or [] if str(f).endswith((".onnx", ".txt"))], meta.get("rapidocr")
        )
        self.tess = TesseractEngine(
            [f for f in files or [] if str(f).endswith(".traineddata")], meta.get("tesseract")
        )
        langs = meta.get("languages") or []
        self.korean_expected = "ko" in langs
        self.max_regions = int(meta.get("max_regions", 24))
        self.model_id = f"auto({self.rapid.model_id}+{self.tess.model_id})"
        # Why Korean is not read (Tesseract or its `kor` data missing), once it is known:
        # the photos still get rapidocr's Latin text and digits instead of failing.
        self.tesseract_problem: str | None = None

    def _items(self, rgb: np.ndarray) -> tuple[list[_Item], list[Box], int]:
        items, unread, flipped = self.rapid._items(rgb)
        extra: list[_Item] = []
        if self.tesseract_problem is None and (self.korean_expected or unread):
            try:
                if self.korean_expected:  # the caller says Korean: read the whole photo
                    extra = self.tess._items(rgb)[0]
                else:
                    largest = sorted(unread, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))
                    extra = self.tess.read_regions(rgb, largest[: self.max_regions])
            except ModelError as exc:
                self.tesseract_problem = exc.user_message
                log.warning("OCR: Korean text is not read: %s", exc.user_message)
        return merge(items, extra, self.rapid.hanzi_suspect), unread, flipped

    def close(self) -> None:
        self.rapid.close()


def merge(primary: list[_Item], extra: list[_Item], hanzi_suspect: bool = True) -> list[_Item]:
    """Keep the better reading of each region: higher confidence, Hangul readings preferred."""
    kept = list(primary)
    for it in extra:
        rivals = [p for p in kept if _overlap_small(p.box, it.box) > 0.5]
        hangul = has_hangul(it.text)

        def beats(p: _Item, it: _Item = it, hangul: bool = hangul) -> bool:
            # a Hangul reading wins over a Latin one (PP-OCRv6 keeps only the digits/Latin of
            # a Korean line) and over an unsure kana/hanzi one (its misreading of Hangul)
            sure_cjk = bool(CJK.search(p.text)) and p.confidence >= 0.9 and not hanzi_suspect
            hangul_wins = hangul and not has_hangul(p.text) and not sure_cjk
            return (hangul_wins and it.confidence >= 0.5) or (it.confidence > p.confidence + 0.05)

        if all(beats(p) for p in rivals):
            kept = [p for p in kept if p not in rivals] + [it]
    return kept


RUNTIMES: dict[str, type[RapidOcrEngine | TesseractEngine | AutoOcrEngine]] = {
    "rapidocr": RapidOcrEngine,
    "tesseract": TesseractEngine,
    "auto": AutoOcrEngine,
}


def load_ocr(
    runtime: str, files: list[Path] | None = None, meta: dict[str, Any] | None = None
) -> OcrEngine:
    """An :class:`~models.protocols.OcrEngine` for ``runtime`` (loads lazily on first read)."""
    cls = RUNTIMES.get(runtime)
    if cls is None:
        raise ModelConfigError(
            f"Unknown OCR runtime {runtime!r}; use one of {', '.join(RUNTIMES)}."
        )
    return cls([Path(f) for f in files or []], dict(meta or {}))


def default_ocr() -> OcrEngine:
    """The packaged default: rapidocr with Tesseract ``kor+eng`` for Korean regions."""
    return load_ocr("auto", [], {})
