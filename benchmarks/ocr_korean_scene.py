"""korean_scene measurements for bench_ocr.py: per-line detection recall and character accuracy.

Detection recall: a ground-truth line box is found when a detected box overlaps it with
IoU ≥ 0.5 or covers ≥ 70 % of it; detected boxes on one row with a small gap are first joined
into lines (what the layout step does). Character accuracy follows the set's score.py:
1 − edit distance / length per line (spaces ignored), against the best recognized line or 2–3
consecutive lines joined; also exact lines and seconds a photo.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from models.ocr import COARSE_UNCLIP

KS = Path(__file__).resolve().parents[2] / "shared" / "eval" / "korean_scene"
Box = tuple[float, float, float, float]


# which even spread of photos (every 5th for 30): 0 = ks_0, ks_5, …; the crop preparation was
# chosen on ks_1, ks_6, … with ground-truth boxes; 2 = ks_2, ks_7, … is held out from both
OFFSET = 0


def photos(limit: int | None) -> list[Path]:
    files = sorted((KS / "images").glob("ks_*.jpg"), key=lambda p: int(p.stem.split("_")[1]))
    if limit and limit < len(files):  # an even spread, not the first N
        step = len(files) // limit
        files = files[OFFSET % step :: step][:limit]
    return files


def truth(image: Path) -> list[tuple[str, Box]]:
    rows = json.loads((KS / "gt" / f"{image.stem}.json").read_text(encoding="utf-8"))
    out = []
    for r in rows:
        xs = [float(p[0]) for p in r["box"]]
        ys = [float(p[1]) for p in r["box"]]
        out.append((r["text"], (min(xs), min(ys), max(xs), max(ys))))
    return out


def _inter(a: Box, b: Box) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def _area(a: Box) -> float:
    return max(1e-6, (a[2] - a[0]) * (a[3] - a[1]))


def found(g: Box, dets: list[Box]) -> bool:
    for d in dets:
        i = _inter(g, d)
        if i / (_area(g) + _area(d) - i) >= 0.5 or i / _area(g) >= 0.7:
            return True
    return False


def join_rows(boxes: list[Box]) -> list[Box]:
    """Join boxes on one row (vertical overlap > 60 %, similar height, gap < 1.2 heights)."""
    out = sorted(boxes, key=lambda b: b[0])
    changed = True
    while changed:
        changed, merged = False, []
        for b in out:
            for k, o in enumerate(merged):
                hb, ho = b[3] - b[1], o[3] - o[1]
                overlap = min(b[3], o[3]) - max(b[1], o[1])
                gap = max(b[0], o[0]) - min(b[2], o[2])
                if (
                    overlap > 0.6 * min(hb, ho)
                    and gap < 1.2 * max(hb, ho)
                    and max(hb, ho) < 1.6 * min(hb, ho)
                ):
                    merged[k] = (min(b[0], o[0]), min(b[1], o[1]), max(b[2], o[2]), max(b[3], o[3]))
                    changed = True
                    break
            else:
                merged.append(b)
        out = merged
    return out


class _Detector:
    """PP-OCRv6 detection (rapidocr's model and DB post-processing) at a chosen scale."""

    def __init__(self) -> None:
        from rapidocr import RapidOCR

        self.ocr = RapidOCR(params={"Global.log_level": "error"})
        self.ocr(np.full((40, 40, 3), 255, dtype=np.uint8))
        self.det = self.ocr.text_det

    def boxes(self, bgr: np.ndarray, side: int, unclip: float, box_thresh: float) -> list[Box]:
        det = self.det
        det.limit_side_len, det.limit_type = side, "max"
        det.postprocess_op.unclip_ratio, det.postprocess_op.box_thresh = unclip, box_thresh
        out = det(bgr)
        if out.boxes is None:
            return []
        return [
            (float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max()))
            for q in np.asarray(out.boxes)
        ]


def _tesseract_lines(rgb: np.ndarray) -> list[Box]:
    """Tesseract's own page layout (psm 11, sparse text): its text-line boxes."""
    import pytesseract
    from PIL import Image

    data = pytesseract.image_to_data(
        Image.fromarray(rgb), lang="kor+eng", config="--psm 11", output_type=pytesseract.Output.DICT
    )
    lines: dict[tuple, list[Box]] = {}
    for i, text in enumerate(data["text"]):
        if str(text).strip() and float(data["conf"][i]) >= 0:
            key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
            x, y, w, h = (data[k][i] for k in ("left", "top", "width", "height"))
            lines.setdefault(key, []).append((x, y, x + w, y + h))
    return [
        (min(b[0] for b in bs), min(b[1] for b in bs), max(b[2] for b in bs), max(b[3] for b in bs))
        for bs in lines.values()
    ]


def detection_table(limit: int | None, with_tesseract: bool = True) -> None:
    from PIL import Image

    files = photos(limit)
    det = _Detector()
    configs: list[tuple[str, Any]] = [
        ("PP-OCR native ≤1600, unclip 1.6 (today)", ("native", 1.6, 0.5)),
        ("PP-OCR native ≤1600, unclip 2.0", ("native", 2.0, 0.5)),
        ("PP-OCR native ≤1600, unclip 2.4", ("native", 2.4, 0.5)),
        ("PP-OCR ≤960, unclip 2.0", (960, 2.0, 0.5)),
        ("PP-OCR ≤640, unclip 1.6", (640, 1.6, 0.5)),
        ("PP-OCR ≤640, unclip 2.0", (640, 2.0, 0.5)),
        ("PP-OCR ≤640, unclip 2.4", (640, 2.4, 0.5)),
        ("PP-OCR ≤640, unclip 2.4, box threshold 0.3", (640, 2.4, 0.3)),
    ]
    hits = {name: 0 for name, _ in configs}
    hits["native 1.6 + ≤640 2.4 where not covered"] = 0
    hits[f"native 1.6 + ≤640 {COARSE_UNCLIP} where not covered (shipped)"] = 0
    if with_tesseract:
        hits["native 1.6 + Tesseract layout where not covered"] = 0
    seconds = {"native": 0.0, 640: 0.0, 960: 0.0, "tesseract": 0.0}
    by_size = {"<60 px": [0, 0, 0], "60–99 px": [0, 0, 0], "≥100 px": [0, 0, 0]}
    n = 0
    for path in files:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        bgr = rgb[:, :, ::-1].copy()
        native = min(1600, max(rgb.shape[:2]))
        gts = [b for _, b in truth(path)]
        n += len(gts)
        got: dict[str, list[Box]] = {}
        for name, (side, unclip, thresh) in configs:
            start = time.perf_counter()
            got[name] = det.boxes(bgr, native if side == "native" else side, unclip, thresh)
            if unclip == 1.6 and thresh == 0.5:
                seconds["native" if side == "native" else side] += time.perf_counter() - start
            hits[name] += sum(found(g, join_rows(got[name])) for g in gts)
        fine = got["PP-OCR native ≤1600, unclip 1.6 (today)"]
        for unclip in sorted({2.4, COARSE_UNCLIP}):
            coarse = det.boxes(bgr, 640, unclip, 0.5)
            shipped = list(fine)
            for c in coarse:
                if sum(_inter(c, f) for f in fine) / _area(c) < 0.8:
                    shipped = [f for f in shipped if _inter(c, f) / _area(f) <= 0.5] + [c]
            label = f"native 1.6 + ≤640 {unclip} where not covered"
            if unclip == COARSE_UNCLIP:
                label += " (shipped)"
                shipped_boxes = shipped
            hits[label] += sum(found(g, join_rows(shipped)) for g in gts)
        if with_tesseract:
            start = time.perf_counter()
            tess = _tesseract_lines(rgb)
            seconds["tesseract"] += time.perf_counter() - start
            both = fine + [t for t in tess if sum(_inter(t, f) for f in fine) / _area(t) < 0.5]
            hits["native 1.6 + Tesseract layout where not covered"] += sum(
                found(g, join_rows(both)) for g in gts
            )
            hits.setdefault("Tesseract layout alone (psm 11)", 0)
            hits["Tesseract layout alone (psm 11)"] += sum(found(g, join_rows(tess)) for g in gts)
        for g in gts:
            h = g[3] - g[1]
            key = "<60 px" if h < 60 else "60–99 px" if h < 100 else "≥100 px"
            by_size[key][0] += 1
            by_size[key][1] += found(g, join_rows(fine))
            by_size[key][2] += found(g, join_rows(shipped_boxes))
    print(f"\nkorean_scene detection recall, {len(files)} photos, {n} lines")
    print("| detector | recall |\n|---|---|")
    for name, v in hits.items():
        print(f"| {name} | {v / max(1, n):.3f} |")
    print(
        "\ndetection seconds a photo: "
        + ", ".join(f"{k}: {v / len(files):.2f}" for k, v in seconds.items() if v)
    )
    print("| line box height | lines | today | shipped |\n|---|---|---|---|")
    for key, (total, today, shipped_hits) in by_size.items():
        print(f"| {key} | {total} | {today}/{total} | {shipped_hits}/{total} |")


def _lev(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def recognition_row(label: str, engine: Any, limit: int | None) -> None:
    files = photos(limit)
    acc, exact, hangul_got, hangul_all, elapsed = [], 0, 0, 0, 0.0
    squash = lambda s: re.sub(r"\s+", "", s)  # noqa: E731
    engine.read(files[0])  # load models outside the timing
    for path in files:
        start = time.perf_counter()
        lines = [squash(ln.text) for ln in engine.read(path) if squash(ln.text)]
        elapsed += time.perf_counter() - start
        cands = set(lines)
        for k in (2, 3):
            cands.update("".join(lines[i : i + k]) for i in range(len(lines) - k + 1))
        read = "".join(lines)
        for text, _ in truth(path):
            t = squash(text)
            best = max([1 - _lev(t, c) / max(1, len(t)) for c in cands] or [0.0])
            acc.append(max(0.0, best))
            exact += best >= 0.999
            want = [ch for ch in t if "가" <= ch <= "힣"]
            hangul_all += len(want)
            pool = list(read)
            for ch in want:
                if ch in pool:
                    pool.remove(ch)
                    hangul_got += 1
    print(
        f"| {label} | {elapsed / len(files):.2f} | {np.mean(acc):.3f} | "
        f"{exact / max(1, len(acc)):.3f} | {hangul_got / max(1, hangul_all):.3f} |",
        flush=True,
    )


def recognition_table(limit: int | None, variants: dict[str, dict]) -> None:
    from models.ocr import load_ocr

    files = photos(limit)
    print(f"\nkorean_scene recognition, {len(files)} photos ({files[0].stem}, {files[1].stem}, …)")
    print(
        "| pipeline | s/photo | char accuracy | exact lines | Hangul recall |\n"
        "|---|---|---|---|---|"
    )
    for label, meta in variants.items():
        engine = load_ocr("auto", [], meta)
        recognition_row(label, engine, limit)
        engine.close()


def oracle_table(limit: int | None, variants: dict[str, dict]) -> None:
    """Recognition alone: Tesseract reads the ground-truth boxes (an oracle detector) through
    the product's region reader; each line is scored against what was read inside its box."""
    from PIL import Image

    from models.ocr import TesseractEngine

    files = photos(limit)
    print(f"\nkorean_scene recognition on ground-truth boxes, {len(files)} photos")
    print("| Tesseract crops | s/photo | char accuracy | exact lines |\n|---|---|---|---|")
    squash = lambda s: re.sub(r"\s+", "", s)  # noqa: E731
    for label, meta in variants.items():
        tess = TesseractEngine([], meta)
        acc, exact, elapsed = [], 0, 0.0
        for path in files:
            rgb = np.asarray(Image.open(path).convert("RGB"))
            gts = truth(path)
            start = time.perf_counter()
            items = tess.read_regions(rgb, [b for _, b in gts])
            elapsed += time.perf_counter() - start
            for text, box in gts:
                inside = sorted(
                    (it for it in items if _inter(box, it.box) / _area(it.box) > 0.5),
                    key=lambda it: it.box[0],
                )
                got, want = squash("".join(it.text for it in inside)), squash(text)
                score = max(0.0, 1 - _lev(want, got) / max(1, len(want)))
                acc.append(score)
                exact += score >= 0.999
        print(
            f"| {label} | {elapsed / len(files):.2f} | {np.mean(acc):.3f} | "
            f"{exact / max(1, len(acc)):.3f} |",
            flush=True,
        )
