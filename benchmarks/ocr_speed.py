"""Seconds per photo for each OCR stage (rapidocr detection, direction, recognition, the coarse
detection pass, Tesseract), for photos with text (ICDAR 2015, 1280×720) and everyday photos
without text (Flickr8k as they are, ~200×150, and enlarged to 1280×960: the issue's photo size,
textless), "auto-today" (the pipeline before the Korean work) and "auto-before-speed" (before
the speed work) as same-run baselines. Wall-clock: run it on an idle machine for the figures
that matter.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from bench_ocr import DATA

FLICKR = DATA.parent / "flickr8k" / "images"


def speed_table(limit: int) -> None:
    from bench_ocr import engine_for

    from models.ocr import load_rgb

    icdar = sorted((DATA / "images").glob("img_*.jpg"), key=lambda p: int(p.stem.split("_")[1]))
    sets: dict[str, list[Path]] = {
        "ICDAR 2015 (text)": icdar[:: max(1, len(icdar) // limit)][:limit],
        "Flickr8k (no text)": sorted(FLICKR.glob("*.jpg"))[::7][:limit],
    }
    from PIL import Image

    stages = ["detection", "direction", "recognition", "coarse detection", "tesseract"]
    print(
        f"\nOCR seconds a photo by stage ({limit} photos a set; wall-clock, machine load matters)"
    )
    print(
        "| pipeline | photos | "
        + " | ".join(stages)
        + " | whole read |\n|---|---|"
        + "---|" * (len(stages) + 1)
    )
    big = {
        p: np.asarray(Image.open(p).convert("RGB").resize((1280, 960)))
        for p in sets["Flickr8k (no text)"]
    }
    sets["Flickr8k at 1280×960 (no text)"] = list(big)
    for name in ("auto-today", "auto-before-speed", "auto"):
        engine = engine_for(name)
        engine.read(sets["ICDAR 2015 (text)"][0])  # load the models outside the timing
        for label, files in sets.items():
            totals = dict.fromkeys(stages, 0.0)
            whole = 0.0
            for path in files:
                rgb = big[path] if "1280" in label else load_rgb(path)
                start = time.perf_counter()
                engine.read(rgb)
                whole += time.perf_counter() - start
                for stage, seconds in engine.stage_seconds.items():
                    totals[stage] = totals.get(stage, 0.0) + seconds
            n = len(files)
            print(
                f"| {name} | {label} | "
                + " | ".join(f"{totals[s] / n:.2f}" for s in stages)
                + f" | {whole / n:.2f} |",
                flush=True,
            )
        engine.close()
