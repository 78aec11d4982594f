"""Sync through the stock Yjs server (npm @y/websocket-server + LevelDB) on loopback.

1. cold sync: library A holds 1,000 notes + 100 photos; A writes its state into the relay
   (`saem sync relay now`), then an empty library B reads it all. Time of each side, bytes
   the server stores (its LevelDB files) vs the plaintext size (note bodies + photo files).
   Same-run baseline: the same cold sync between two peers directly (mutual TLS, one round).
2. single-edit propagation: A and B connected live (`saem sync relay run`), one note edited
   on A; time until B has persisted and materialized it (p50/p95 over --edits edits).
   Same-run baseline: the same edits over a live direct peer session.
3. server storage after --many single-note edits, each written as its own entry (as a live
   device does), without compaction and with compaction (B reads and acks every 1,000
   edits; A compacts when the room passes 500 entries). Sizes of the server's LevelDB files
   right after the run and after the server restarted and loaded the room again (y-leveldb
   merges a room's stored updates on load).

    .venv/bin/python benchmarks/bench_relay.py [--notes 1000] [--photos 100] [--edits 50]
        [--many 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core.library import Library  # noqa: E402
from core.peers.service import SyncService  # noqa: E402
from sync.client import run_peer  # noqa: E402
from sync.relay.room import RoomClient  # noqa: E402
from sync.server import SyncServer  # noqa: E402
from sync.session import Hub  # noqa: E402
from tests.sync.relay_support import RelayServer, relay_server_available  # noqa: E402

WORDS = ["샘", "노트", "회의", "sync", "사진", "문서", "hello", "world", "데이터", "검색"]


def make_notes(lib: Library, count: int) -> list[str]:
    ids: list[str] = []
    with lib.db.transaction():
        for i in range(count):
            words = " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(150))
            ids.append(lib.notes.create(f"# Note {i}\n\n{words}\n\n#tag{i % 20} #bench\n"))
    return ids


def make_photos(lib: Library, folder: Path, count: int) -> int:
    import numpy as np
    from PIL import Image

    total = 0
    rng = np.random.default_rng(7)
    for i in range(count):
        base = np.linspace(0, 255, 640 * 3).reshape(1, 640 * 3).repeat(480, 0)
        image = (base + rng.normal(0, 12, base.shape)).clip(0, 255).astype("uint8")
        path = folder / f"photo{i}.jpg"
        Image.fromarray(image.reshape(480, 640, 3)).save(path, quality=85)
        lib.photos.add(path)
        total += path.stat().st_size
    return total


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def pair(root: Path, names: list[str]) -> list[tuple[Library, SyncService]]:
    libs = [Library(root / n) for n in names]
    services = [SyncService(lib) for lib in libs]
    for s in services:
        for o in services:
            if s is not o:
                s.pair(o.device_id, "x")
    return list(zip(libs, services, strict=True))


def cold_sync(root: Path, relay: RelayServer, notes: int, photos: int) -> None:
    (a, sa), (b, sb), (c, sc) = pair(root / "cold", ["a", "b", "c"])
    make_notes(a, notes)
    photo_bytes = make_photos(a, root, photos)
    note_bytes = sum(len(r[0].encode()) for r in a.db.query("SELECT body FROM notes"))
    key = sa.relay_add(relay.url)
    sb.adopt_relay_key(key, [relay.url], "bench")
    t0 = time.perf_counter()
    up = sa.relay_sync()[0]
    t1 = time.perf_counter()
    down = sb.relay_sync()[0]
    t2 = time.perf_counter()
    assert len(b.list_items("note", limit=100_000)) == notes
    assert len(b.list_items("photo", limit=100_000)) == photos and down.blobs_in == photos
    relay.settle()
    stored = relay.stored_size()
    plain = note_bytes + photo_bytes
    print(
        f"relay cold sync of {notes:,} notes + {photos} photos: A writes {t1 - t0:.2f} s, "
        f"B reads+applies {t2 - t1:.2f} s (total {t2 - t0:.2f} s); "
        f"{up.entries_out} entries, {up.bytes_out / 1e6:.1f} MB up, "
        f"{down.bytes_in / 1e6:.1f} MB down"
    )
    print(
        f"  server stores {stored / 1e6:.1f} MB (LevelDB) for {plain / 1e6:.1f} MB of plaintext "
        f"({note_bytes / 1e6:.2f} MB notes + {photo_bytes / 1e6:.1f} MB photos) = "
        f"{stored / plain:.2f}×"
    )

    async def direct() -> float:
        server = SyncServer(sa, sa.identity, host="127.0.0.1", port=0)
        await server.start()
        try:
            t = time.perf_counter()
            report = await run_peer(sc, sc.identity, "127.0.0.1", server.port, timeout=600)
            assert report.error is None, report.error
            return time.perf_counter() - t
        finally:
            await server.stop()

    elapsed = asyncio.run(direct())
    assert len(c.list_items("note", limit=100_000)) == notes
    print(f"  baseline, same library direct peer-to-peer (one round, loopback): {elapsed:.2f} s")
    for lib in (a, b, c):
        lib.close()


async def _edit_and_wait(
    a: Library, b: Library, note: str, edits: int, after_edit: object = None
) -> list[float]:
    out: list[float] = []
    for i in range(edits):
        marker = f"edit-{i}-{time.monotonic_ns()}"
        t = time.perf_counter()
        a.notes.edit(note, f"# Live\n\n{marker}\n")
        if callable(after_edit):
            after_edit()
        while True:
            row = b.db.query_one("SELECT body FROM notes WHERE item_id = ?", (note,))
            if row is not None and marker in row[0]:
                break
            await asyncio.sleep(0.001)
        out.append((time.perf_counter() - t) * 1000)
        await asyncio.sleep(0.02)
    return out


def propagation(root: Path, relay: RelayServer, edits: int) -> None:
    (a, sa), (b, sb) = pair(root / "live", ["a", "b"])
    key = sa.relay_add(relay.url)
    sb.adopt_relay_key(key, [relay.url], "bench")
    note = a.notes.create("# Live\n\nstart\n")
    sa.relay_sync()
    sb.relay_sync()

    async def via_relay() -> list[float]:
        stop = asyncio.Event()
        tasks = [asyncio.create_task(s.relay_tasks(stop)) for s in (sa, sb)]
        await asyncio.sleep(1.0)
        try:
            return await _edit_and_wait(a, b, note, edits)
        finally:
            stop.set()
            await asyncio.gather(*tasks)

    async def direct() -> list[float]:
        hub_a = Hub(sa)
        server = SyncServer(sa, sa.identity, host="127.0.0.1", port=0, hub=hub_a)
        await server.start()
        live = asyncio.create_task(
            run_peer(sb, sb.identity, "127.0.0.1", server.port, one_round=False, timeout=None)
        )
        await asyncio.sleep(1.0)
        try:
            return await _edit_and_wait(a, b, note, edits, hub_a.notify)
        finally:
            live.cancel()
            await asyncio.gather(live, return_exceptions=True)
            await server.stop()

    relayed = asyncio.run(via_relay())
    baseline = asyncio.run(direct())
    print(
        f"single-edit propagation A → relay → B persisted: p50 {statistics.median(relayed):.0f} "
        f"ms, p95 {pct(relayed, 0.95):.0f} ms over {edits} edits (goal p95 <= 250 ms)"
    )
    print(
        f"  baseline, direct live peer session: p50 {statistics.median(baseline):.0f} ms, "
        f"p95 {pct(baseline, 0.95):.0f} ms"
    )
    a.close()
    b.close()


async def _many_edits(
    sa: SyncService, sb: SyncService, a: Library, note: str, many: int, compact_above: int
) -> tuple[int, int]:
    engine = sa._engine(sa.relay_urls()[0], compact_above=compact_above)
    room = RoomClient(engine.url)
    engine._new_connection()
    await room.connect(expect_content=True)
    try:
        await engine._read(room, initial=True)
        for i in range(many):
            a.notes.edit(note, f"# Many\n\nedit {i} {'x' * (i % 50)}\n")
            await engine._write(room)
            if (i + 1) % 1000 == 0:
                await asyncio.to_thread(sb.relay_sync, None, compact_above=compact_above)
                await engine._read(room, initial=False)
            await engine._maybe_compact(room)
        await room.flush()
        return len(room.entries), len(room.doc.get_update())
    finally:
        await engine._finish(room)


def storage(root: Path, many: int) -> None:
    for compacting in (False, True):
        relay = RelayServer(root / f"db-{compacting}").start()
        try:
            (a, sa), (b, sb) = pair(root / f"many-{compacting}", ["a", "b"])
            key = sa.relay_add(relay.url)
            sb.adopt_relay_key(key, [relay.url], "bench")
            note = a.notes.create("# Many\n\nstart\n")
            sa.relay_sync()
            sb.relay_sync()
            t = time.perf_counter()
            limit = 500 if compacting else 10**9
            entries, encoded = asyncio.run(_many_edits(sa, sb, a, note, many, limit))
            elapsed = time.perf_counter() - t
            relay.settle()
            after_run = relay.stored_size()
            relay.stop()
            relay.start()
            b2 = sb.relay_sync()[0]  # loads the room on the restarted server
            relay.settle()
            reloaded = relay.stored_size()
            assert b.notes.get(note).body.startswith(f"# Many\n\nedit {many - 1}")
            label = "with compaction" if compacting else "without compaction"
            print(
                f"{many:,} edits {label}: {entries:,} entries left in the room (Yjs state "
                f"{encoded / 1e6:.2f} MB), server files "
                f"{after_run / 1e6:.2f} MB after the run, {reloaded / 1e6:.2f} MB after a "
                f"restart and reload ({elapsed:.0f} s to write; B's next read "
                f"{b2.bytes_in / 1e3:.0f} kB)"
            )
            a.close()
            b.close()
        except BaseException:
            print("relay server said:", "".join(relay.log[-20:]), file=sys.stderr)
            raise
        finally:
            relay.kill9()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--many", type=int, default=10_000, help="0: skip part 3")
    args = parser.parse_args()
    if not relay_server_available():
        sys.exit("The stock Yjs server is not installed: run `make setup` (npm ci).")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        relay = RelayServer(root / "relay-db").start()
        try:
            cold_sync(root, relay, args.notes, args.photos)
            propagation(root, relay, args.edits)
        finally:
            relay.kill9()
        if args.many:
            storage(root, args.many)


if __name__ == "__main__":
    main()
