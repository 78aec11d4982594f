"""Two peers on loopback (mutual TLS WebSockets): cold sync of 1,000 notes, edit latency.

Peer A is a real `saem sync serve` subprocess; peer B runs in this process.

1. cold sync: A holds 1,000 notes (Markdown with Korean text, tags, wikilinks); B is empty
   and runs one round (`run_peer`, as `saem sync now` does). Time until B has persisted and
   materialized everything; bytes on the wire (WebSocket payloads both ways).
2. latency, editor in B's process: from B's committed edit (NotesService.edit, then
   hub.notify as the GUI would) until A persisted and materialized it (A's SQLite row is
   polled every 1 ms).
3. latency, editor in another process: from the commit of an edit to A's library made by
   this benchmark process (like `saem notes edit` while `saem sync serve` runs; A's pump
   polls its log every 50 ms) until B persisted and materialized it.

    .venv/bin/python benchmarks/bench_sync.py [--notes 1000] [--edits 100]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core.library import Library  # noqa: E402
from core.peers.service import SyncService  # noqa: E402
from sync.client import run_peer  # noqa: E402
from sync.session import Hub  # noqa: E402

WORDS = [
    "샘",
    "노트",
    "회의",
    "sync",
    "사진",
    "문서",
    "hello",
    "world",
    "데이터",
    "검색",
    "offline",
    "기록",
]


def make_notes(lib: Library, count: int) -> list[str]:
    ids: list[str] = []
    with lib.db.transaction():
        for i in range(count):
            words = " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(150))
            link = f" [[Note {i - 1}]]" if i else ""
            ids.append(lib.notes.create(f"# Note {i}\n\n{words}{link}\n\n#tag{i % 20} #bench\n"))
    return ids


def start_server(path: Path) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "desktop",
            "--library",
            str(path),
            "sync",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-discovery",
        ],
        cwd=REPO,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if m := re.search(r"Serving \S+ on [\d.]+:(\d+)", line):
            return proc, int(m.group(1))
    raise RuntimeError("server did not start")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def latencies(
    a_path: Path, b: Library, sb: SyncService, port: int, note: str, edits: int
) -> tuple[list[float], list[float]]:
    hub = Hub(sb)
    live = asyncio.create_task(
        run_peer(sb, sb.identity, "127.0.0.1", port, one_round=False, timeout=None, hub=hub)
    )
    a_rows = sqlite3.connect(f"file:{a_path / 'library.db'}?mode=ro", uri=True)
    a_lib = Library(a_path)

    def a_body() -> str:
        return a_rows.execute("SELECT body FROM notes WHERE item_id = ?", (note,)).fetchone()[0]

    def b_body() -> str:
        return b.db.scalar("SELECT body FROM notes WHERE item_id = ?", (note,))

    async def wait_for(check, marker: str) -> None:  # type: ignore[no-untyped-def]
        deadline = time.perf_counter() + 10
        while marker not in check():
            if time.perf_counter() > deadline:
                raise TimeoutError(marker)
            await asyncio.sleep(0.001)

    await asyncio.sleep(1.0)  # initial exchange of the live session
    same_process: list[float] = []
    other_process: list[float] = []
    for i in range(edits):
        marker = f"B{i}."
        b.notes.edit(note, b_body() + marker)  # committed here (the user's save)
        t0 = time.perf_counter()
        hub.notify()
        await wait_for(a_body, marker)
        same_process.append((time.perf_counter() - t0) * 1000)
    await asyncio.sleep(0.2)
    for i in range(edits):
        marker = f"A{i}."
        a_lib.docs.forget()  # another process: fresh view of A's log
        a_lib.notes.edit(note, a_lib.notes.get(note).body + marker)  # committed
        t0 = time.perf_counter()
        await wait_for(b_body, marker)
        other_process.append((time.perf_counter() - t0) * 1000)
    live.cancel()
    await asyncio.gather(live, return_exceptions=True)
    a_lib.close()
    a_rows.close()
    return same_process, other_process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        a, b = Library(root / "a"), Library(root / "b")
        sa, sb = SyncService(a), SyncService(b)
        sa.pair(sb.device_id, "b")
        sb.pair(sa.device_id, "a")
        ids = make_notes(a, args.notes)
        a.close()
        server, port = start_server(root / "a")
        try:
            t0 = time.perf_counter()
            report = asyncio.run(run_peer(sb, sb.identity, "127.0.0.1", port, timeout=120))
            cold = time.perf_counter() - t0
            assert report.error is None, report.error
            got = len(b.list_items("note", limit=100_000))
            assert got == args.notes, got
            wire = report.bytes_in + report.bytes_out
            print(
                f"cold sync of {args.notes:,} notes: {cold:.2f} s (goal <= 5 s), "
                f"{wire / 1e6:.2f} MB on the wire ({report.bytes_in / 1e6:.2f} MB in, "
                f"{report.bytes_out / 1e3:.1f} kB out), {report.updates_in:,} updates applied"
            )
            same, other = asyncio.run(latencies(root / "a", b, sb, port, ids[0], args.edits))
            for label, values in (
                ("editor in B's process → A persisted", same),
                ("editor in another process → B persisted", other),
            ):
                print(
                    f"edit latency, {label}: p50 {statistics.median(values):.1f} ms, "
                    f"p95 {percentile(values, 0.95):.1f} ms (goal p95 <= 100 ms)"
                )
        finally:
            server.terminate()
            server.wait(10)
            b.close()


if __name__ == "__main__":
    main()
