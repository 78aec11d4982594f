"""OCR speed and word recall/precision on ../shared/eval/icdar2015 (250 scene-text photos).

A recognized word is right when its box overlaps a ground-truth word with IoU ≥ 0.5 and the
texts match case-insensitively (one-to-one, greedy by IoU). Ground-truth "###" words are
"don't care": they count in neither recall nor precision, and predictions on them are dropped.
"lenient" also strips leading/trailing punctuation ("areas." = "areas").

    .venv/bin/python benchmarks/bench_ocr.py [--limit N] [--runtimes rapidocr,auto-today,auto]
    .venv/bin/python benchmarks/bench_ocr.py --korean-scene 150     # korean_scene tables only

Then the same runtimes on rendered Korean lines (ICDAR has no Korean), by character accuracy,
and on ../shared/eval/korean_scene: detection recall per detector configuration and
recognition ("auto-today" = the pipeline before the Korean work, the same-run baseline).
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
# "auto" as it was before the Korean-in-photos work: no coarse detection pass, hanzi/kana
# readings kept when PP-OCR is sure of them — the same-run baseline of every table
VARIANTS: dict[str, tuple[str, dict]] = {
    "auto-today": (
        "auto",
        {
            "rapidocr": {"coarse_side": 0, "hanzi_suspect": False, "enlarge": "always"},
            "tesseract": {"crops": "plain"},
            "phantom": {},  # no phantom filter then
        },
    ),
    # "auto" before the speed work: every photo under 736 px enlarged before detection, the
    # coarse pass on every photo over 800 px (the same-run baseline of the speed rows)
    "auto-before-speed": ("auto", {"rapidocr": {"enlarge": "always", "coarse": "always"}}),
    "auto": ("auto", {}),
    "rapidocr": ("rapidocr", {}),
    "tesseract": ("tesseract", {}),
}


def engine_for(name: str):
    from models.ocr import load_ocr

    runtime, meta = VARIANTS.get(name, (name, {}))
    return load_ocr(runtime, [], meta)


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


KOREAN_LINES = [
    "서울에서 커피를 마셨다",
    "내일 오후 세 시에 회의가 있습니다",
    "영수증 합계 12,000원",
    "부산 해운대 해수욕장",
    "주차 금지 구역입니다",
    "오늘의 메뉴: 김치찌개 8,000원",
    "도서관 운영 시간 안내",
    "비상구는 왼쪽에 있습니다",
    "Cafe 라떼 4,500원",
    "제주도 여행 일정표",
    "택배 보관함 이용 안내",
    "출입문을 닫아 주세요",
]


def korean_set(tmp: Path) -> list[tuple[Path, str]]:
    """Rendered Korean (and mixed) lines on noisy grey paper in the Nanum fonts."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    fonts = sorted(Path("/usr/share/fonts/truetype/nanum").glob("Nanum*.ttf"))
    rng = np.random.default_rng(7)
    out = []
    for i, text in enumerate(KOREAN_LINES):
        font = ImageFont.truetype(str(fonts[i % len(fonts)]), int(rng.integers(26, 48)))
        img = Image.new("RGB", (1000, 160), tuple(int(v) for v in rng.integers(200, 255, 3)))
        ImageDraw.Draw(img).text((40, 50), text, font=font, fill=(30, 30, 30))
        arr = np.asarray(img.filter(ImageFilter.GaussianBlur(0.6)), np.float32)
        arr = np.clip(arr + rng.normal(0, 8, arr.shape), 0, 255).astype(np.uint8)
        path = tmp / f"ko_{i}.png"
        Image.fromarray(arr).save(path)
        out.append((path, text))
    return out


def char_accuracy(got: str, want: str) -> float:
    """1 − character error rate (Levenshtein over characters, spaces ignored)."""
    a, b = got.replace(" ", ""), want.replace(" ", "")
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return max(0.0, 1 - prev[-1] / max(1, len(b)))


def korean(runtimes: list[str]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        samples = korean_set(Path(tmp))
        print(f"\nRendered Korean/mixed lines ({len(samples)}, Nanum fonts, blur + noise)")
        print("| runtime | s/line | exact lines | char accuracy |\n|---|---|---|---|")
        for runtime in runtimes:
            engine = engine_for(runtime)
            exact, acc, elapsed = 0, 0.0, 0.0
            for path, want in samples:
                start = time.perf_counter()
                got = " ".join(ln.text for ln in engine.read(path))
                elapsed += time.perf_counter() - start
                exact += got.replace(" ", "") == want.replace(" ", "")
                acc += char_accuracy(got, want)
            print(
                f"| {runtime} | {elapsed / len(samples):.2f} | {exact}/{len(samples)} | "
                f"{acc / len(samples):.3f} |",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=None, help="photos (default all 250)")
    parser.add_argument("--runtimes", default="rapidocr,auto-today,auto")
    parser.add_argument("--korean-only", action="store_true", help="skip ICDAR")
    parser.add_argument(
        "--korean-scene", type=int, default=None, metavar="N", help="only korean_scene, N photos"
    )
    parser.add_argument("--no-tesseract-layout", action="store_true")
    parser.add_argument(
        "--phantom", type=int, default=None, metavar="N", help="phantom-text table, N ICDAR photos"
    )
    parser.add_argument(
        "--offset", type=int, default=0, help="korean_scene subset: 0 = where variants were chosen"
    )
    parser.add_argument("--no-baseline", action="store_true", help="--phantom without a baseline")
    parser.add_argument(
        "--baseline",
        default="auto-today",
        help="same-run baseline of --phantom and --parts pipeline (auto-before-speed: the "
        "pipeline before the speed work)",
    )
    parser.add_argument("--speed", type=int, default=None, metavar="N", help="stage timings")
    parser.add_argument("--flickr", type=int, default=100, help="Flickr8k photos for --phantom")
    parser.add_argument(
        "--parts", default="oracle,detection,pipeline", help="korean_scene tables to print"
    )
    args = parser.parse_args()
    if args.speed:
        from ocr_speed import speed_table

        speed_table(args.speed)
        return
    if args.phantom:
        from ocr_phantom import phantom_table

        phantom_table(args.phantom, args.flickr, not args.no_baseline, args.baseline)
        return
    if args.korean_scene is not None:
        import ocr_korean_scene

        ocr_korean_scene.OFFSET = args.offset
        scene(args.korean_scene or None, not args.no_tesseract_layout, args.parts, args.baseline)
        return
    if args.korean_only:
        korean(["rapidocr", "tesseract", "auto-today", "auto"])
        return

    images = sorted((DATA / "images").glob("*.jpg"), key=lambda p: int(p.stem.split("_")[1]))
    images = images[: args.limit] if args.limit else images
    print(f"ICDAR 2015 incidental text, {len(images)} photos (1280×720)")
    print(
        "| runtime | s/photo | recall | precision | F1 | recall (lenient) | "
        "precision (lenient) |\n|---|---|---|---|---|---|---|"
    )
    base = None
    for runtime in args.runtimes.split(","):
        engine = engine_for(runtime)
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
    korean(["rapidocr", "tesseract", "auto-today", "auto"])
    scene(args.limit, not args.no_tesseract_layout)


ORACLE_VARIANTS: dict[str, dict] = {
    "as they are, 48 px high, kor+eng (before)": {"crops": "plain"},
    "prepared (prep.py), kor+eng": {"crops": "clean"},
    "prepared (prep.py), kor": {"crops": "clean", "lang": "kor"},
    "prepared (prep.py), kor+eng, margin 0.1 × height": {"crops": "clean", "pad": 0.1},
}


def scene(
    limit: int | None,
    with_tesseract: bool,
    parts: str = "oracle,detection,pipeline",
    baseline: str = "auto-today",
) -> None:
    from ocr_korean_scene import detection_table, oracle_table, recognition_table

    if "oracle" in parts:
        oracle_table(limit, ORACLE_VARIANTS)
    if "detection" in parts:
        detection_table(limit, with_tesseract)
    if "pipeline" in parts:
        variants = {name: VARIANTS[name][1] for name in (baseline, "auto")}
        if "nofilter" in parts:
            variants["auto, phantom filter off"] = {"phantom": {}}
        if "coarse" in parts:
            variants["auto, coarse pass unclip 2.4"] = {"rapidocr": {"coarse_unclip": 2.4}}
        recognition_table(limit, variants)


if __name__ == "__main__":
    main()
