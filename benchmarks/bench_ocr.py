"""OCR speed and word recall/precision on ../shared/eval/icdar2015 (250 scene-text photos).

A recognized word is right when its box overlaps a ground-truth word with IoU ≥ 0.5 and the
texts match case-insensitively (one-to-one, greedy by IoU). Ground-truth "###" words are
"don't care": they count in neither recall nor precision, and predictions on them are dropped.
"lenient" also strips leading/trailing punctuation ("areas." = "areas").

    .venv/bin/python benchmarks/bench_ocr.py [--limit N] [--runtimes rapidocr,auto,tesseract]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "eval" / "icdar2015"
_EDGE = re.compile(r"^[^\w]+|[^\w]+$")

Box = tuple[float, float, float, float]


def read_gt(image: Path) -> list[tuple[Box, str]]:
    out = []
    gt = DATA / "gt" / f"gt_{image.stem}.txt"
    for raw in gt.read_text(encoding="utf-8-sig").splitlines():
        parts = raw.strip().split(",", 8)
        if len(parts) < 9:
            continue
        xs = [float(v) for v in parts[0:8:2]]
        ys = [float(v) for v in parts[1:8:2]]
        out.append(((min(xs), min(ys), max(xs), max(ys)), parts[8]))
    return out


def words_of(lines) -> list[tuple[Box, str]]:
    """Word boxes when the engine gives them, else the line split by the line box."""
    out = []
    for ln in lines:
        if ln.words:
            out.extend((w.box, w.text) for w in ln.words if w.text.strip())
        else:
            out.append((ln.box, ln.text))
    return out


def score(preds: list[tuple[Box, str]], gt: list[tuple[Box, str]], lenient: bool):
    from models.ocr import box_iou

    def norm(t: str) -> str:
        t = t.strip().lower()
        return _EDGE.sub("", t) if lenient else t

    care = [(b, norm(t)) for b, t in gt if t != "###"]
    dont = [b for b, t in gt if t == "###"]
    kept = [
        (b, norm(t)) for b, t in preds if not any(box_iou(b, d) >= 0.5 for d in dont) and norm(t)
    ]
    pairs = sorted(
        (
            (box_iou(pb, gb), i, j)
            for i, (pb, _) in enumerate(kept)
            for j, (gb, _) in enumerate(care)
        ),
        reverse=True,
    )
    used_p, used_g, tp = set(), set(), 0
    for iou, i, j in pairs:
        if iou < 0.5:
            break
        if i in used_p or j in used_g or kept[i][1] != care[j][1]:
            continue
        used_p.add(i)
        used_g.add(j)
        tp += 1
    return tp, len(kept), len(care)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=None, help="photos (default all 250)")
    parser.add_argument("--runtimes", default="rapidocr,auto")
    args = parser.parse_args()
    from models.ocr import load_ocr

    images = sorted((DATA / "images").glob("*.jpg"), key=lambda p: int(p.stem.split("_")[1]))
    images = images[: args.limit] if args.limit else images
    print(f"ICDAR 2015 incidental text, {len(images)} photos (1280×720)")
    print(
        "| runtime | s/photo | recall | precision | F1 | recall (lenient) | "
        "precision (lenient) |\n|---|---|---|---|---|---|---|"
    )
    base = None
    for runtime in args.runtimes.split(","):
        engine = load_ocr(runtime)
        engine.read(images[0])  # load the models outside the timing
        totals = {False: [0, 0, 0], True: [0, 0, 0]}
        elapsed = 0.0
        for path in images:
            start = time.perf_counter()
            lines = engine.read(path)
            elapsed += time.perf_counter() - start
            preds, gt = words_of(lines), read_gt(path)
            for lenient in (False, True):
                for k, v in enumerate(score(preds, gt, lenient)):
                    totals[lenient][k] += v
        engine.close()
        row = []
        for lenient in (False, True):
            tp, n_pred, n_gt = totals[lenient]
            r, p = tp / max(1, n_gt), tp / max(1, n_pred)
            row.append((r, p, 2 * r * p / max(1e-9, r + p)))
        sec = elapsed / len(images)
        base = base or sec
        (r, p, f), (rl, pl, _) = row
        print(
            f"| {runtime} | {sec:.2f} ({sec / base:.2f}×) | {r:.3f} | {p:.3f} | {f:.3f} | "
            f"{rl:.3f} | {pl:.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
