"""rapidocr: PP-OCRv6 small detection + recognition (ONNX, bundled in the wheel).

Its recognizer has no Hangul; the engine also returns the regions it could not read (empty,
low-confidence, kana/hanzi guesses, stretches of a line with no word, a coarse second detection
pass) so the "auto" engine can have Tesseract read them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from models.errors import (
    InferenceError,
    ModelFileCorruptError,
    ModelFileMissingError,
    ModelNotInstalledError,
    WrongModelKindError,
)
from models.ocr.base import _area, _BaseEngine, _read_boxes, _unread_parts
from models.ocr.layout import (
    CJK,
    DET_MAX_SIDE,
    DET_MIN_SIDE,
    Box,
    _Item,
    _overlap_small,
    _quad_box,
    _scaled,
    _too_short,
)
from models.protocols import OcrWord

COARSE_SIDE, COARSE_UNCLIP = 640, 1.8
# A photo that enlarging to a DET_MIN_SIDE short side would enlarge ENLARGE_MIN times or more
# is read at its own size first, and again enlarged only when that pass found a region under
# SMALL_TEXT_PX high (small text, more may be missed). Before, it was always enlarged: a
# 200×150 thumbnail was detected at 981×736. Photos closer to DET_MIN_SIDE are enlarged as before.
ENLARGE_MIN, SMALL_TEXT_PX = 1.5, 16


class RapidOcrEngine(_BaseEngine):
    """PP-OCRv6 small (det + rec) with the PP-OCR direction classifier, bundled in rapidocr."""

    def __init__(self, files: list[Path] | None = None, meta: dict[str, Any] | None = None) -> None:
        super().__init__(meta)
        meta = meta or {}
        self.min_score = float(meta.get("min_score", 0.5))
        # second, coarse detection pass (0 = off); measured on korean_scene: see bench_ocr.py
        self.coarse_side = int(meta.get("coarse_side", COARSE_SIDE))
        self.coarse_unclip = float(meta.get("coarse_unclip", COARSE_UNCLIP))
        # any kana/hanzi reading may be misread Hangul: Tesseract reads it again
        self.hanzi_suspect = bool(meta.get("hanzi_suspect", True))
        # "when-small-text" (see ENLARGE_MIN) or "always" (the pipeline before, for benchmarks)
        self.enlarge = str(meta.get("enlarge", "when-small-text"))
        # "when-text": the coarse pass only when the first pass found any region; "always"
        self.coarse = str(meta.get("coarse", "when-text"))
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
                out = super().build_final_output(
                    ori_img, det_res, cls_res, rec_res, crops, op_record
                )
                # after the parent dropped empty readings: aligned with out.txts
                capture["det"] = list(det_res.scores or [])
                capture["elapse"] = (det_res.elapse, cls_res.elapse, rec_res.elapse)
                return out

        try:
            engine = _Capturing(params=params)
            engine(np.full((40, 40, 3), 255, dtype=np.uint8))  # load the three sessions now
        except Exception as exc:
            raise ModelFileCorruptError(
                f"The rapidocr models could not be loaded ({exc})."
            ) from exc
        self._engine, self._capture = engine, capture
        return engine

    def _detect_read(self, engine: Any, rgb: np.ndarray, up: float) -> Any:
        """rapidocr on ``rgb`` enlarged ``up`` times (1.0: as it is)."""
        if up > 1.0:
            from PIL import Image

            h, w = rgb.shape[:2]
            size = (round(w * up), round(h * up))
            rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BICUBIC))
        try:
            out = engine(rgb[:, :, ::-1].copy())  # rapidocr takes OpenCV-style BGR arrays
        except Exception as exc:
            raise InferenceError(f"rapidocr failed on this image ({exc}).") from exc
        for stage, seconds in zip(
            ("detection", "direction", "recognition"), self._capture.get("elapse", ()), strict=False
        ):
            self._spent(stage, float(seconds or 0.0))
        return out

    def _small_text(self) -> bool:
        """The last pass found a region under SMALL_TEXT_PX high."""
        return any(
            _quad_box(b)[3] - _quad_box(b)[1] < SMALL_TEXT_PX
            for b, _, _ in self._capture.get("all", [])
        )

    def _items(self, rgb: np.ndarray) -> tuple[list[_Item], list[Box], int]:
        engine = self._load()
        h, w = rgb.shape[:2]
        # small images: short side up to 736 px (as PP-OCR's "min" rule) but never past
        # DET_MAX_SIDE, so a 1000×160 strip is not blown up to 4600×736
        up = max(1.0, min(DET_MIN_SIDE / min(h, w), DET_MAX_SIDE / max(h, w)))
        if up <= 1.001:
            up = 1.0
        if self.enlarge == "always" or up < ENLARGE_MIN:
            out = self._detect_read(engine, rgb, up)
        else:
            out = self._detect_read(engine, rgb, 1.0)
            if self._small_text():
                out = self._detect_read(engine, rgb, up)
            else:
                up = 1.0
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
                det = self._capture.get("det", [])
                det_score = float(det[i]) if i < len(det) else 1.0
                items.append(_Item(text, float(score), box, "rapidocr", words, det_score))
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
        found = bool(self._capture.get("all"))
        if (
            self.coarse_side
            and max(h, w) > 1.25 * self.coarse_side
            and (found or self.coarse == "always")
        ):
            start = time.perf_counter()
            unread = self._coarse_regions(engine, rgb, items, unread)
            self._spent("coarse detection", time.perf_counter() - start)
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
