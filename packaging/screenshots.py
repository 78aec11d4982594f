"""Screenshots of the app on the demo library, under Xvfb (a real X server, the xcb plugin).

    .venv/bin/python packaging/screenshots.py [--out screenshots] [--library PATH]

Saves welcome.png (the first-run welcome), main.png (notes), related.png (a linked note with
its Related panel filled), palette.png (Ctrl+K with a Korean query), viewer.png (a photo with
its OCR boxes and related items), photos.png (the justified grid), chat.png (a real answer from
the packaged local model, with its source cards) and empty.png (an empty state: no paired
devices); then the same views in the dark theme (*-dark.png). Re-executes itself under
``xvfb-run -a`` when no display is set. The demo library is indexed first (OCR included) so
the boxes exist. ``--no-chat`` skips the model answer (it takes a minute on a small CPU).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _wait(app, condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.02)


def _pause(app, seconds: float) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


CHAT_QUESTION = "카페에서 뭘 마셨어?"


def shoot(out: Path, library_path: Path, *, chat: bool = True) -> list[Path]:
    from PySide6.QtCore import QSettings

    from core.demo import ensure_demo_library
    from core.indexing.indexer import Indexer
    from core.library import Library
    from desktop.gui.app import make_app, open_window

    out.mkdir(parents=True, exist_ok=True)
    library = Library(library_path)
    ensure_demo_library(library)
    print("indexing the demo library (OCR, tags, embeddings)…", flush=True)
    report = Indexer(library).run()
    print(f"  {report.processed} items, {report.chunks} chunks, {report.seconds:.1f} s")
    _ensure_ocr_lines(library)
    app = make_app(appearance="light")
    ini = out / "screenshots.ini"
    ini.unlink(missing_ok=True)  # a first run: the welcome shows
    settings = QSettings(str(ini), QSettings.Format.IniFormat)
    window = open_window(library, settings=settings, auto_index=False)
    window.resize(1360, 860)
    window.show()
    _wait(app, lambda: window._pending_loads == 0)
    saved: list[Path] = []
    state: dict[str, str] = {}
    for suffix in ("", "-dark"):
        window.set_appearance("dark" if suffix else "light")
        _shots(app, window, library, out, suffix, saved, state, chat=chat)
    window.set_appearance("light")
    window.close()
    library.close()
    return saved


def _shots(app, window, library, out, suffix, saved, state, *, chat) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QInputMethodEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    def save(name: str) -> None:
        _pause(app, 0.6)
        path = out / name.replace(".png", f"{suffix}.png")
        window.grab().save(str(path))
        saved.append(path)
        print(f"saved {path}")

    def settle() -> None:
        _wait(app, lambda: window.ops.in_flight == 0)

    window.splitter.setSizes([210, 360, 790])
    window.show_section(0)
    # 0. the first-run welcome (the demo library, "Import my notes/photos")
    window.detail.setCurrentWidget(window.welcome)
    _wait(app, lambda: window.status.state is not None)
    save("welcome.png")

    # 1. notes: open the first Korean note
    rows = window.notes_model.rows
    korean = next((r for r in rows if any("\uac00" <= ch <= "\ud7a3" for ch in r.title)), rows[0])
    window.open_item("note", korean.id)
    _wait(app, lambda: window.editor.note_id == korean.id)
    settle()
    save("main.png")

    # 2. the Related panel beside the note with the most linked neighbours
    linked = _most_linked_note(library)
    window.open_item("note", linked)
    _wait(app, lambda: window.editor.note_id == linked and bool(window.related.model.rows))
    settle()  # the refined (full blend) list
    save("related.png")

    # 3. palette with a Korean query, typed as the input method commits it
    window.open_palette()
    for ch in "커피":
        event = QInputMethodEvent("", [])
        event.setCommitString(ch)
        QApplication.sendEvent(window.palette_widget.input, event)
    _wait(app, lambda: window.ops.in_flight == 0 and window.palette_widget.model.rowCount() > 2)
    _pause(app, 0.5)  # the deeper (meaning) search after the typing pause
    settle()
    save("palette.png")
    QTest.keyClick(window.palette_widget.input, Qt.Key.Key_Escape)

    # 4. the photo with the most OCR lines, in the viewer
    photos = library.photos.grid_rows()
    best = max(photos, key=lambda p: len(library.photos.ocr_lines(p[0])))
    window.splitter.setSizes([210, 300, 850])
    window.open_item("photo", best[0])
    _wait(app, lambda: window.viewer.photo_id == best[0])
    settle()
    if window.viewer.boxes:
        box = window.viewer.boxes[0]
        box.hoverEnterEvent(None)  # type: ignore[arg-type]  # show the hover state
    save("viewer.png")

    # 5. the grid
    window.splitter.setSizes([210, 800, 350])
    window.show_section(1)
    window.photo_grid.viewport().update()
    _pause(app, 0.3)
    window.photo_grid.grid_model.wait_for_thumbnails()
    save("photos.png")
    if window.viewer.boxes:
        window.viewer.boxes[0].hoverLeaveEvent(None)  # type: ignore[arg-type]

    # 6. an empty state: no paired devices (and nothing open)
    window.splitter.setSizes([210, 420, 730])
    window.show_section(4)
    window.detail.setCurrentWidget(window.empty)
    settle()
    save("empty.png")

    # 7. a real answer from the packaged local model, with its sources as cards
    if chat:
        window.splitter.setSizes([210, 300, 850])
        if "chat" not in state:
            window.start_new_chat()
            window.chat.prefill(CHAT_QUESTION)
            answered: list[str] = []
            window.chat.answered.connect(answered.append)
            print("asking the local model (this takes a while on a small CPU)…", flush=True)
            window.chat.ask()
            _wait(app, lambda: bool(answered), timeout=900)
            state["chat"] = window.chat.chat_id or ""
        else:
            window.show_section(2)
            window.chat.chat_id = None
            window.chat.open_chat(state["chat"])
        settle()
        window.detail.setCurrentWidget(window.chat)
        save("chat.png")


def _most_linked_note(library) -> str:  # type: ignore[no-untyped-def]
    """The note whose recommendations include the most linked items (else the first note)."""
    from core.related.recommender import Recommender

    rec = Recommender(library, use_events=False)
    best, best_count = None, -1
    for row in library.list_items("note", limit=500):
        recs = rec.related(row.id, limit=8, session_items=[])
        count = sum("linked" in r.reasons for r in recs) * 10 + len(recs)
        if count > best_count:
            best, best_count = row.id, count
    assert best is not None, "the demo library has no notes"
    return best


def _ensure_ocr_lines(library) -> None:  # type: ignore[no-untyped-def]
    """If the indexer stored no OCR lines (photo analysis not installed), read the demo photos
    with the packaged OCR engine directly so the viewer has real boxes to draw."""
    photos = library.photos.grid_rows()
    if any(library.photos.ocr_lines(p[0]) for p in photos):
        return
    from models.ocr import default_ocr
    from storage.chunks import OcrLineRow, replace_ocr_lines

    print("the indexer stored no OCR lines; reading the photos with the OCR engine…")
    engine = default_ocr()
    for photo_id, title, _taken, _thumb in photos:
        if not any(word in title for word in ("sign", "receipt", "letter", "text", "page")):
            continue
        lines = engine.read(str(library.photos.get(photo_id).blob_path))
        rows = [
            OcrLineRow(ln.block, ln.line, ln.text, ln.confidence, tuple(ln.box), ln.engine)
            for ln in lines
            if ln.text.strip()
        ]
        with library.db.transaction():
            replace_ocr_lines(library.db, photo_id, rows)
        print(f"  {title}: {len(rows)} lines")
    engine.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "screenshots")
    parser.add_argument(
        "--library",
        type=Path,
        default=None,
        help="library folder (default: a fresh temporary demo library)",
    )
    parser.add_argument("--no-chat", action="store_true", help="skip the model answer")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY") and os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        if shutil.which("xvfb-run") is None:
            print("xvfb-run is not installed (apt-get install xvfb)", file=sys.stderr)
            return 1
        command = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, *sys.argv]
        return subprocess.call(command)
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    if args.library is not None:
        shoot(args.out, args.library, chat=not args.no_chat)
        return 0
    with tempfile.TemporaryDirectory(prefix="saem-shots-") as tmp:
        shoot(args.out, Path(tmp) / "library", chat=not args.no_chat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
