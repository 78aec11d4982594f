"""The relay crash scenario: a replica killed while it syncs through the stock Yjs server,
and the server itself killed (kill -9) mid-sync."""

from __future__ import annotations

import asyncio
import random
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from pycrdt import Doc

from core.library import Library
from core.peers.service import SyncService
from sync.errors import RelayUnreachableError
from sync.relay import payload as P
from sync.relay.crypto import Sealer
from sync.relay.room import RoomClient
from tests.e2e.crash_harness import (
    CrashReport,
    Emitter,
    KillPlan,
    Scenario,
    WorkerRun,
    check_library,
    check_open_library,
    kill_plans,
    tap_commits,
)
from tests.sync.conftest import library_state
from tests.sync.relay_support import RelayServer

RETRY_SECONDS = 60.0


class RelayScenario(Scenario):
    """A writes notes and photos into the relay room (in this process, in several rounds:
    many entries); a worker on replica B writes a local note, then runs one relay round
    (`saem sync relay now`: read and apply A's entries, write its own), retrying while the
    server is down, and is killed at a random commit. In about a third of the runs the relay
    server is also killed (SIGKILL, then restarted on the same LevelDB) at a random moment of
    the worker's round — it loses what it had not written to disk yet.

    Checked after each kill: B is whole; its acknowledged local notes are there; B's read
    cursor never runs ahead of its data (every entry of A at or below B's cursor for A is
    contained in B's documents). A finished worker ends a round: A syncs, B syncs again, and
    both must be identical (B's notes reached A through the room even when the server lost
    B's entries: B notices and writes its state again); then A writes more."""

    name = "relay"

    def __init__(self, root: Path, rng: random.Random, notes: int = 120, photos: int = 2):
        super().__init__(root, rng)
        self.relay = RelayServer(root / "relay-db").start()
        self.a = root / "a"
        self.round = 0
        self.local = 0
        self.notes, self.photos = notes, photos
        self.bounce: threading.Timer | None = None
        self.server_kills = 0
        self.last_commits = 0  # commits of the last worker that finished
        with Library(self.a) as lib:
            self.key = SyncService(lib).relay_add(self.relay.url)
        self._new_replica()
        self._write_from_a(notes, photos)

    def _write_from_a(self, notes: int, photos: int, *, settle: bool = True) -> None:
        """A's new content, written into the room in several relay rounds (many entries)."""
        with Library(self.a) as lib:
            sa = SyncService(lib)
            for start in range(0, notes, 15):
                with lib.db.transaction():
                    for i in range(start, min(notes, start + 15)):
                        body = "가나다라 마바사 hello world " * 12
                        lib.notes.create(f"# A {self.round}.{self.local}.{i}\n\n{body}\n")
                sa.relay_sync()
            for i in range(photos):  # several 256 KiB chunks each
                seed = self.round * 100 + i
                noise = np.random.default_rng(seed).integers(0, 255, (500, 700, 3), np.uint8)
                path = self.root / f"photo{seed}.jpg"
                Image.fromarray(noise).save(path, quality=95)
                lib.photos.add(path)
            sa.relay_sync()
        if settle:
            self.relay.settle()

    def _new_replica(self) -> None:
        self.library = self.root / f"b{self.round}"
        with Library(self.a) as a, Library(self.library) as b:
            sa, sb = SyncService(a), SyncService(b)
            sa.pair(sb.device_id, name=f"b{self.round}")
            sb.pair(sa.device_id, name="a")
            sb.adopt_relay_key(self.key, [self.relay.url], "test")
            self.a_id, self.b_id = sa.device_id, sb.device_id

    # -- the worker -------------------------------------------------------------------------

    def work(self, emit: Emitter) -> None:
        lib = Library(self.library)
        tap_commits(lib.db, emit)
        n = self.local
        lib.notes.create(f"# B 로컬 {n}\n\nlocal note {n}\n")
        emit("local", n)
        service = SyncService(lib)
        deadline = time.monotonic() + RETRY_SECONDS
        while True:
            try:
                service.relay_sync()
                return
            except RelayUnreachableError:  # the server was killed: it comes back
                emit("relay-down")
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def plan(self) -> KillPlan:
        if self.rng.random() < 0.35:
            self.bounce = threading.Timer(self.rng.uniform(0.02, 0.5), self._bounce_server)
            self.bounce.start()
        # aim within the commits the last complete worker made (a resumed worker has less
        # left to do than a fresh one; A writes a little before each worker, see check)
        most = max(2, int(self.last_commits * 1.05) + 1) if self.last_commits else 14
        if self.rng.random() < 0.3:
            return kill_plans(self.rng, on="begin", most=1, delay=0.0, transactions=most)
        return KillPlan("commit", self.rng.randint(1, most), self.rng.uniform(0.0, 0.02))

    def _bounce_server(self) -> None:
        self.relay.kill9()
        self.server_kills += 1
        self.relay.proc = None
        self.relay.start()

    def _settle_server(self) -> None:
        if self.bounce is not None:
            self.bounce.cancel()
            self.bounce.join()
            self.bounce = None
        if self.relay.proc is None or self.relay.proc.poll() is not None:
            self.relay.start()

    # -- checks -----------------------------------------------------------------------------

    def check(self, run: WorkerRun, report: CrashReport) -> None:
        self._settle_server()
        with Library(self.library) as b:
            check_open_library(b, blobs_may_lag=not run.finished)
            titles = {i.title for i in b.list_items("note", limit=10**6)}
            local = run.of("local")
            for (n,) in local:
                assert f"B 로컬 {n}" in titles, f"acknowledged local note {n} lost"
            covered = self._cursor_covered(b)
            report.acked_checked += covered + len(local)
            report.notes["cursor_entries_checked"] = (
                report.notes.get("cursor_entries_checked", 0) + covered
            )
            report.notes["server_kills"] = self.server_kills
            report.notes["worker_saw_server_down"] = report.notes.get(
                "worker_saw_server_down", 0
            ) + int(bool(run.of("relay-down")))
        self.local += 1
        report.libraries_checked += 1
        if run.finished:
            self.last_commits = run.commits
        self._write_from_a(5, 0, settle=False)  # A keeps writing while B is away

    def _cursor_covered(self, b: Library) -> int:
        """Every update entry of A at or below B's cursor for A is in B's documents."""
        service = SyncService(b)
        state = service.relay_state(self.key.room)
        a_tag = self.key.device_tag(self.a_id)
        cursor = state.cursors.get(a_tag, 0)
        if not cursor:
            return 0
        sealer = Sealer(self.key, service.identity)
        checked = 0
        for value in asyncio.run(_room_elements(f"{self.relay.url}/{self.key.room}")):
            try:
                entry = sealer.open(value)
            except Exception:  # noqa: BLE001 - not ours to judge here
                continue
            if entry.tag != a_tag or entry.kind != "updates" or entry.seq > cursor:
                continue
            for doc_id, update in P.decode("updates", entry.payload):  # type: ignore[misc]
                held = Doc()
                held.apply_update(b.docs.get(doc_id).encode_state())
                before = held.get_update()
                held.apply_update(update)
                assert held.get_update() == before, (
                    f"B's cursor passed A's entry #{entry.seq} but {doc_id} lacks it"
                )
            checked += 1
        return checked

    def new_round(self, report: CrashReport) -> None:
        self._settle_server()
        self._converge()
        report.resumes_checked += 1
        shutil.rmtree(self.library)
        self.round += 1
        self._new_replica()
        self._write_from_a(20, 1)

    def _converge(self) -> None:
        with Library(self.a) as a, Library(self.library) as b:
            sa, sb = SyncService(a), SyncService(b)
            for _ in range(3):
                sb.relay_sync()
                sa.relay_sync()
            sb.relay_sync()
            assert library_state(a) == library_state(b), "A and B differ after relay rounds"
            assert not sb.wanted_blobs(), "a finished relay sync left photos without blobs"
            check_open_library(a)
            check_open_library(b)

    def finish(self, report: CrashReport) -> None:
        self._settle_server()
        try:
            self._converge()
            report.resumes_checked += 1
        finally:
            self.relay.stop()
        check_library(self.a, report)
        check_library(self.library, report)

    def close(self) -> None:
        if self.bounce is not None:
            self.bounce.cancel()
        self.relay.kill9()


async def _room_elements(url: str) -> list[Any]:
    room = RoomClient(url)
    await room.connect(expect_content=True)
    try:
        return room.snapshot()
    finally:
        await room.close()
