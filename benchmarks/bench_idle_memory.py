"""Memory of the desktop window after the demo's first indexing pass, and after it idles.

The window (offscreen Qt) opens a fresh demo library and indexes it in the background as a
new user's would (OCR, image tagger, text embedder), then searches by meaning once. The
resident set size (RSS, from /proc) is printed at each step; the same-run baselines are the
window before any model loaded and the window holding its models. The status poll then
releases models idle for ``--idle`` seconds (the app's default is
``desktop.gui.status_bar.MODEL_IDLE_S``); a second search loads the embedder again.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_idle_memory.py [--idle 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def rss_split_mb() -> tuple[float, float]:
    """(file-backed: code and data of loaded libraries, anonymous: heaps) resident MB."""
    files = anon = 0
    current_is_file = False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        parts = line.split()
        if parts and "-" in parts[0] and len(parts) >= 5:
            current_is_file = len(parts) > 5 and parts[5].startswith("/")
        elif line.startswith("Rss:"):
            if current_is_file:
                files += int(parts[1])
            else:
                anon += int(parts[1])
    return files / 1024, anon / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle", type=float, default=5.0, help="idle seconds before release")
    parser.add_argument("--timeout", type=float, default=900.0, help="give up after (s)")
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    import desktop.gui.status_bar as status_bar
    from core.demo import ensure_demo_library
    from core.library import Library
    from desktop.gui.app import make_app, open_window

    status_bar.MODEL_IDLE_S = args.idle
    app = make_app()

    def wait(cond: Callable[[], bool], what: str) -> float:
        start = time.monotonic()
        while not cond():
            app.processEvents()
            time.sleep(0.05)
            if time.monotonic() - start > args.timeout:
                raise SystemExit(f"timed out waiting for {what}")
        return time.monotonic() - start

    rows: list[tuple[str, float, str]] = []
    splits: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="saem-idle-") as tmp:
        library = Library(Path(tmp) / "library")
        ensure_demo_library(library)
        window = open_window(library, auto_index=False)
        window.show()
        wait(lambda: window._pending_loads == 0, "the window to load")
        QApplication.processEvents()
        rows.append(("window open, no model loaded (baseline)", rss_mb(), ""))
        splits["baseline"] = rss_split_mb()

        finished: list[object] = []
        window.status.index_finished.connect(finished.append)
        window.status.auto_index = True
        window.status.start()
        took = wait(lambda: bool(finished), "the first indexing pass")
        report = finished[0]
        hits = library.search.search("커피 한 잔").hits
        loaded = ", ".join(sorted(library.models.loaded()))
        rows.append((
            f"after the first indexing pass ({getattr(report, 'processed', '?')} items, "
            f"{took:.0f} s) and one meaning search",
            rss_mb(),
            loaded,
        ))  # fmt: skip
        idle = wait(lambda: not library.models.loaded(), "the idle release")
        for _ in range(10):
            app.processEvents()
            time.sleep(0.05)
        rows.append((f"idle, models released by the status poll after {idle:.0f} s", rss_mb(), ""))
        splits["idle"] = rss_split_mb()
        again = library.search.search("커피 한 잔").hits
        rows.append((
            "one more meaning search (embedder loaded again)",
            rss_mb(),
            ", ".join(sorted(library.models.loaded())),
        ))  # fmt: skip
        wait(lambda: not library.models.loaded(), "the second idle release")
        rows.append(("idle again", rss_mb(), ""))
        assert hits and again and hits[0].item_id == again[0].item_id
        window.close()
        library.close()

    print(f"Window RSS (offscreen Qt, demo library, idle release after {args.idle:.0f} s):")
    print("| step | RSS MB | models loaded |\n|---|---|---|")
    for label, mb, models in rows:
        print(f"| {label} | {mb:.0f} | {models or '-'} |")
    for name, (files, anon) in splits.items():
        print(f"{name}: {files:.0f} MB libraries (file-backed), {anon:.0f} MB heaps (anonymous)")


if __name__ == "__main__":
    main()
