"""GUI benchmark: cold start, palette keystroke latency, idle memory.

    .venv/bin/python benchmarks/bench_gui.py [--notes 10000] [--photos 5000] [--chunks 100000]

* builds (once, cached in benchmarks/out/gui-library) a library of 10k notes + 5k photos
  through the core services, plus 100k body chunks (what the indexer would write);
* cold start: a fresh process imports the app, opens the window on that library and reports
  first paint and "usable" (every list loaded) — baseline: the same process showing an empty
  QMainWindow;
* palette: one keystroke at a time (Korean and English queries), time from the key event to
  the results list repainted with that keystroke's results; p50/p95;
* idle RSS of the opened window after 2 s idle (no model loaded) vs the empty-window baseline.

Runs offscreen (QT_QPA_PLATFORM=offscreen). Goals: ≤ 1 s to usable, ≤ 30 ms palette p95,
≤ 250 MB idle RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

WORDS_KO = [
    "커피",
    "라떼",
    "서울",
    "부산",
    "여행",
    "회의",
    "메모",
    "프로젝트",
    "사진",
    "영수증",
    "지하철",
    "경복궁",
    "김치",
    "요리",
    "책",
    "운동",
    "날씨",
    "가족",
    "친구",
    "음악",
]
WORDS_EN = [
    "coffee",
    "latte",
    "meeting",
    "project",
    "photo",
    "receipt",
    "station",
    "recipe",
    "book",
    "running",
    "weather",
    "family",
    "friend",
    "music",
    "garden",
    "budget",
    "travel",
    "notes",
    "idea",
    "plan",
    "review",
    "design",
    "search",
    "sync",
]
QUERIES = [
    "커피 라떼",
    "서울 여행",
    "meeting notes",
    "project plan",
    "경복궁",
    "recipe 김치",
    "budget review",
    "garden idea",
]


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- the library -----------------------------------------------------------------------------


def zipf_vocabulary(rng: random.Random, size: int = 8000) -> list[str]:
    """Made-up Korean and English words; rank order = frequency order (Zipf)."""
    syllables_ko = list("가나다라마바사아자차카타파하고노도로모보소오조초코토포호구누두루무부")
    syllables_en = [
        "ka",
        "lo",
        "mi",
        "ten",
        "ra",
        "vo",
        "sel",
        "dan",
        "pre",
        "mo",
        "tri",
        "ne",
        "for",
        "gal",
        "ux",
        "pin",
        "sto",
        "re",
        "ber",
        "qua",
    ]
    words: list[str] = [*WORDS_KO, *WORDS_EN]
    seen = set(words)
    while len(words) < size:
        if rng.random() < 0.5:
            word = "".join(rng.choice(syllables_ko) for _ in range(rng.randint(2, 3)))
        else:
            word = "".join(rng.choice(syllables_en) for _ in range(rng.randint(2, 3)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    rng.shuffle(words)
    return words


def zipf_text(rng: random.Random, vocab: list[str], weights: list[float], n: int) -> str:
    return " ".join(rng.choices(vocab, weights=weights, k=n))


def build_library(root: Path, n_notes: int, n_photos: int, n_chunks: int) -> None:
    from PIL import Image

    from core.library import Library
    from storage.chunks import NewChunk, replace_item_chunks

    marker = root / "bench-built.json"
    items_wanted = {"notes": n_notes, "photos": n_photos}
    chunks_wanted = {"chunks": n_chunks, "corpus": "zipf-8000-v1"}
    built = json.loads(marker.read_text()) if marker.is_file() else {}
    rng = random.Random(7)
    vocab = zipf_vocabulary(rng)
    weights = [1 / (rank + 1) ** 1.05 for rank in range(len(vocab))]
    if built.get("items") != items_wanted:
        if root.exists():
            import shutil

            shutil.rmtree(root)
        started = time.perf_counter()
        with Library(root) as library:
            for i in range(n_notes):
                title = f"{zipf_text(rng, vocab, weights, 2)} {i}"
                library.notes.create(f"# {title}\n\n" + zipf_text(rng, vocab, weights, 60))
            print(f"  {n_notes} notes in {time.perf_counter() - started:.1f} s", flush=True)
            tmp = root / "bench-photos"
            tmp.mkdir()
            t = time.perf_counter()
            for i in range(n_photos):
                path = tmp / f"IMG_{i:05d}.jpg"
                color = (i % 256, (i // 256) % 256, (i * 7) % 256)
                image = Image.new("RGB", (160, 120), color)
                exif = Image.Exif()
                exif[0x0132] = f"2024:{1 + i % 12:02d}:{1 + i % 28:02d} 12:00:00"
                image.save(path, quality=70, exif=exif)
                library.photos.add(path)
                path.unlink()
            print(f"  {n_photos} photos in {time.perf_counter() - t:.1f} s", flush=True)
        built = {"items": items_wanted}
        marker.write_text(json.dumps(built))
    if built.get("chunks") != chunks_wanted:
        t = time.perf_counter()
        with Library(root) as library:
            note_ids = [r.id for r in library.list_items("note", limit=n_notes)]
            per_note = max(1, n_chunks // max(1, len(note_ids)))
            with library.db.transaction():
                for note_id in note_ids:
                    chunks = [
                        NewChunk("body", zipf_text(rng, vocab, weights, 40))
                        for _ in range(per_note)
                    ]
                    replace_item_chunks(library.db, note_id, chunks)
        print(f"  {per_note * len(note_ids)} chunks in {time.perf_counter() - t:.1f} s", flush=True)
        built["chunks"] = chunks_wanted
        marker.write_text(json.dumps(built))


def palette_queries() -> list[str]:
    """Words a user would type: mid-frequency words of the corpus and the fixed ones."""
    rng = random.Random(7)
    vocab = zipf_vocabulary(rng)
    picks = [vocab[r] for r in (30, 120, 400, 900, 2500)]
    return [*QUERIES, *picks, f"{vocab[60]} {vocab[700]}"]


# -- child: cold start -----------------------------------------------------------------------


def child_start(library_path: str | None, t0: float) -> None:
    """Runs in a fresh process; prints JSON with times relative to the parent's Popen."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    marks: dict[str, float] = {"python_ready": time.time() - t0}

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):  # type: ignore[no-untyped-def]
            if event.type() == QEvent.Type.Paint and "first_paint" not in marks:
                marks["first_paint"] = time.time() - t0
            return False

    if library_path is None:  # baseline: an empty main window
        from PySide6.QtWidgets import QApplication, QMainWindow

        app = QApplication([])
        window = QMainWindow()
        spy = FirstPaint()
        window.installEventFilter(spy)
        window.show()
        QTimer.singleShot(0, lambda: marks.setdefault("usable", time.time() - t0))
    else:
        from PySide6.QtCore import QSettings

        from core.library import Library
        from desktop.gui.app import make_app, open_window

        app = make_app([])
        library = Library(Path(library_path))
        settings = QSettings(str(Path(library_path) / "bench-gui.ini"), QSettings.Format.IniFormat)
        window = open_window(library, settings=settings, auto_index=False)
        spy = FirstPaint()
        window.installEventFilter(spy)
        window.ready.connect(lambda: marks.setdefault("usable", time.time() - t0))
        window.show()
    deadline = time.time() + 30

    def check() -> None:
        if ("usable" in marks and "first_paint" in marks) or time.time() > deadline:
            QTimer.singleShot(2000, finish)  # then 2 s idle before reading RSS
        else:
            QTimer.singleShot(5, check)

    def finish() -> None:
        marks["idle_rss_mb"] = _rss_mb()
        print(json.dumps(marks), flush=True)
        window.close()
        app.quit()

    check()
    app.exec()


def cold_start(library_path: Path | None) -> dict[str, float]:
    t0 = time.time()
    args = [sys.executable, __file__, "--child-start", str(t0)]
    if library_path is not None:
        args += ["--library", str(library_path)]
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- palette ---------------------------------------------------------------------------------


def palette_latency(library_path: Path) -> tuple[list[float], list[float], int]:
    """Per keystroke, ms from the key event to (a) the first results of that keystroke
    painted (title matches) and (b) the search index's hits painted."""
    from PySide6.QtCore import QEvent, QObject, QSettings
    from PySide6.QtGui import QInputMethodEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from core.library import Library
    from desktop.gui.app import make_app, open_window

    app = make_app([])
    library = Library(library_path)
    settings = QSettings(str(library_path / "bench-gui.ini"), QSettings.Format.IniFormat)
    window = open_window(library, settings=settings, auto_index=False)
    window.show()
    _spin(app, lambda: window._pending_loads == 0)
    palette = window.palette_widget
    shown: list[int] = []
    indexed: list[int] = []
    painted: list[float] = []
    palette.results_shown.connect(shown.append)
    palette.index_results_shown.connect(indexed.append)

    class PaintSpy(QObject):
        def eventFilter(self, obj, event):  # type: ignore[no-untyped-def]
            if event.type() == QEvent.Type.Paint:
                painted.append(time.perf_counter())
            return False

    spy = PaintSpy()
    palette.list.viewport().installEventFilter(spy)
    window.open_palette()
    QTest.keyClicks(palette.input, "warm")  # builds the title cache and the searcher
    _spin(app, lambda: bool(indexed) and indexed[-1] == palette._generation)

    def painted_after(mark: int, start: float) -> float:
        _spin(app, lambda: len(painted) > mark, timeout=1.0)
        end = painted[-1] if len(painted) > mark else time.perf_counter()
        return (end - start) * 1000

    first: list[float] = []
    full: list[float] = []
    for query in palette_queries() * 2:
        palette.input.clear()
        _spin(app, lambda: window.ops.in_flight == 0)
        for ch in query:
            before_shown, before_indexed = len(shown), len(indexed)
            start = time.perf_counter()
            if ch.isascii():
                QTest.keyClicks(palette.input, ch)
            else:
                event = QInputMethodEvent("", [])
                event.setCommitString(ch)
                QApplication.sendEvent(palette.input, event)
            gen = palette._generation
            if ch == " ":
                continue  # a trailing space changes no results worth timing
            _spin(app, lambda g=gen, b=before_shown: len(shown) > b and shown[-1] == g)
            # results are in the model; the paint follows in this event-loop turn
            first.append(painted_after(len(painted), start))
            mark = len(painted)
            _spin(app, lambda g=gen, b=before_indexed: len(indexed) > b and indexed[-1] == g)
            full.append(painted_after(mark, start) if len(indexed) > before_indexed else 0.0)
    rows = palette.model.rowCount()
    window.close()
    library.close()
    return first, full, rows


def grid_scroll(library_path: Path, n: int = 20_000) -> tuple[float, list[float]]:
    """The photo grid with ``n`` photos (the library's photos repeated under new ids): time to
    set + lay out the model, and the time of each repaint while scrolling page by page
    (thumbnails load in the background as rows come into view)."""
    from PySide6.QtCore import QEvent, QObject

    from core.library import Library
    from desktop.gui.app import make_app
    from desktop.gui.photos.grid_layout import GridEntry, group_by_day
    from desktop.gui.photos.photo_grid import PhotoGrid

    app = make_app([])
    with Library(library_path) as library:
        tiles = library.photos.grid_tiles()
    many = [
        (f"{t.photo_id}-{k}", t.title, t.taken_at, t.thumb_path, t.aspect)
        for k in range(n // len(tiles) + 1)
        for t in tiles
    ][:n]
    entries: list[GridEntry] = group_by_day(many)
    grid = PhotoGrid()
    grid.resize(900, 700)
    grid.show()
    app.processEvents()
    start = time.perf_counter()
    grid.grid_model.set_entries(entries)
    _spin(app, lambda: grid.verticalScrollBar().maximum() > 0)
    layout_ms = (time.perf_counter() - start) * 1000
    frames: list[float] = []
    painted: list[float] = []

    class PaintSpy(QObject):
        def eventFilter(self, obj, event):  # type: ignore[no-untyped-def]
            if event.type() == QEvent.Type.Paint:
                painted.append(time.perf_counter())
            return False

    spy = PaintSpy()
    grid.viewport().installEventFilter(spy)
    bar = grid.verticalScrollBar()
    for step in range(120):
        mark = len(painted)
        t = time.perf_counter()
        bar.setValue(min(bar.maximum(), step * bar.pageStep()))
        _spin(app, lambda m=mark: len(painted) > m, timeout=2.0)
        frames.append((time.perf_counter() - t) * 1000)
    grid.grid_model.wait_for_thumbnails(10_000)
    grid.close()
    grid.deleteLater()
    app.processEvents()
    return layout_ms, frames


def _spin(app, condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    end = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > end:
            return
        app.processEvents()
        time.sleep(0.0005)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--photos", type=int, default=5_000)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--library", type=Path, default=None)
    parser.add_argument("--child-start", type=float, default=None)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.child_start is not None:
        child_start(str(args.library) if args.library else None, args.child_start)
        return
    root = args.library or REPO / "benchmarks" / "out" / "gui-library"
    print(f"library: {root}")
    build_library(root, args.notes, args.photos, args.chunks)

    base = [cold_start(None) for _ in range(args.runs)]
    full = [cold_start(root) for _ in range(args.runs)]

    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r.get(key, float("nan")) for r in rows)

    print(f"\ncold start (median of {args.runs} fresh processes, s since launch)")
    print(f"{'':24}{'empty window':>14}{'Saem':>10}{'ratio':>8}")
    for key in ("python_ready", "first_paint", "usable"):
        b, f = med(base, key), med(full, key)
        print(f"{key:24}{b:14.3f}{f:10.3f}{f / b:8.1f}")
    b, f = med(base, "idle_rss_mb"), med(full, "idle_rss_mb")
    print(f"{'idle RSS (MB)':24}{b:14.1f}{f:10.1f}{f / b:8.1f}")

    layout_ms, frames = grid_scroll(root)
    frames.sort()
    print(
        f"\nphoto grid, 20,000 photos: model + layout {layout_ms:.0f} ms; scrolling a page: "
        f"p50 {statistics.median(frames):.1f} ms, p95 "
        f"{frames[int(len(frames) * 0.95)]:.1f} ms per repaint"
    )

    first, full, _rows = palette_latency(root)
    print(
        f"\npalette, one keystroke → results painted ({len(first)} keystrokes, "
        f"{args.chunks:,} chunks, {args.notes + args.photos:,} items)"
    )
    for name, samples in (("first results (titles)", first), ("with index hits", full)):
        samples.sort()
        p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
        print(
            f"  {name:24} p50 {statistics.median(samples):7.1f} ms   p95 {p95:7.1f} ms"
            f"   max {samples[-1]:7.1f} ms"
        )


if __name__ == "__main__":
    main()
