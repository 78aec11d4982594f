"""The sync crash scenario: a replica killed while it syncs over loopback mutual TLS."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from PIL import Image
from pycrdt import Doc

from core.content.documents import DocumentCache
from core.library import Library
from core.peers.service import SyncService
from storage import crdt_log, peers
from storage.db import Database
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
from tests.sync.conftest import ServeProcess, library_state, wait_until


class SyncScenario(Scenario):
    """A worker on replica B writes a local note, then runs ``SyncService.sync_now`` (one
    round over loopback mutual TLS) against `saem sync serve` on replica A (a real
    subprocess, never killed here: tests/sync/test_crash.py kills the server), and is killed
    mid-sync: while pulling notes, receiving photo blobs, or right after recording A's ack.
    Checked after each kill: B is whole (photo blobs may still be missing, never corrupt);
    its acknowledged local note is there; everything in A's log up to what B acknowledged
    (A's ``acked_upto`` for B) is in B's documents, and everything in B's log up to what A
    acknowledged is in A's. A finished worker ends a round: A and B must be identical with
    every blob; then, while A keeps serving, A gets new notes and pairs a fresh replica B."""

    name = "sync"

    def __init__(self, root: Path, rng: random.Random, notes: int = 200, photos: int = 3):
        super().__init__(root, rng)
        self.a = root / "a"
        with Library(self.a) as lib:
            with lib.db.transaction():
                for i in range(notes):
                    body = "가나다라 마바사 hello world " * 20
                    lib.notes.create(f"# 노트 {i}\n\n{body}\n#t{i % 9}\n")
            for i in range(photos):  # blobs of several 256 KiB chunks: resumable transfers
                noise = np.random.default_rng(i).integers(0, 255, (700, 900, 3), np.uint8)
                Image.fromarray(noise).save(root / f"photo{i}.jpg", quality=95)
                lib.photos.add(root / f"photo{i}.jpg")
        self.round = 0
        self.local = 0
        self.verified: set[tuple[str, int]] = set()  # (receiver, sender's log id) checked
        self.documents = notes + 1  # documents a sync round goes through
        self._new_replica()
        self.server = ServeProcess(self.a).start()
        self.address = f"127.0.0.1:{self.server.port}"

    def _new_replica(self) -> None:
        self.library = self.root / f"b{self.round}"
        with Library(self.a) as a, Library(self.library) as b:
            sa, sb = SyncService(a), SyncService(b)
            sa.pair(sb.device_id, name=f"b{self.round}")
            sb.pair(sa.device_id, name="a")
            self.a_id, self.b_id = sa.device_id, sb.device_id

    def work(self, emit: Emitter) -> None:
        lib = Library(self.library)
        acked = [self._acked_by_a(lib)]

        def report_ack() -> None:  # A's acknowledgement of B's push was just recorded
            if self._acked_by_a(lib) != acked[-1]:
                acked.append(self._acked_by_a(lib))
                emit("acked", acked[-1])

        tap_commits(lib.db, emit, after_commit=report_ack)
        n = self.local  # a local write first: B has something of its own to send
        lib.notes.create(f"# B 로컬 {n}\n\nlocal note {n}\n")
        emit("local", n)
        SyncService(lib).sync_now(
            self.address, timeout=60, progress=lambda done, total, _: emit("p", done)
        )

    def plan(self) -> KillPlan:
        # a worker resumes what B lacks: aim the kills within the commits that takes
        # (a whole sync of a fresh B: ~10), plus the local note and the final bookkeeping
        roll = self.rng.random()
        if roll < 0.2:  # the last phase: right after B recorded A's acknowledgement
            return KillPlan("acked", 1, self.rng.uniform(0.0, 0.0005))
        if roll < 0.45:  # very early, or inside one of the first transactions
            return kill_plans(self.rng, on="begin", most=1, delay=0.0, transactions=10)
        # B receives every document of the union once per round (those it has: empty
        # diffs, first); its progress counts them after each commit
        target = self.rng.randint(1, int(self.documents * 1.05) + 1)
        return KillPlan("p", 0, self.rng.uniform(0.0, 0.03), value=target)

    def _acked_by_a(self, lib: Library) -> int:
        peer = peers.find_peer(lib.db, self.a_id)
        return int(peer.state.get("acked_upto", 0)) if peer else 0

    def check(self, run: WorkerRun, report: CrashReport) -> None:
        with Library(self.library) as b, _readonly(self.a) as a:
            check_open_library(b, blobs_may_lag=not run.finished)
            pulled = self._acked_present(a, b, self.b_id, "a")
            pushed = self._acked_present(b, a, self.a_id, "b")
            titles = {i.title for i in b.list_items("note", limit=10**6)}
            local = run.of("local")
            for (n,) in local:
                assert f"B 로컬 {n}" in titles, f"acknowledged local note {n} lost"
            report.acked_checked += pulled + pushed + len(local)
            # a half-received photo after the kill (a later worker resumes it)
            partial = len(list(b.store.paths.tmp.glob("sync-*.part")))
            counts = {"pulled": pulled, "pushed": pushed, "local": len(local)}
            counts["checks_with_partial_blob"] = int(partial > 0)
            for key, value in counts.items():
                report.notes[key] = report.notes.get(key, 0) + value
            self._count_documents(a, b)
        self.local += 1
        report.libraries_checked += 1

    def _count_documents(self, a: Any, b: Library) -> None:
        """How many documents the next sync round goes through (A's and B's notes, library)."""
        ours = {i.id for i in b.list_items("note", limit=10**6)}
        theirs = {r[0] for r in a.db.query("SELECT id FROM items WHERE kind = 'note'")}
        self.documents = len(ours | theirs) + 1

    def _acked_present(self, sender: Any, receiver: Any, receiver_id: str, side: str) -> int:
        """Everything in the sender's log up to the receiver's acknowledgement is in the
        receiver's documents; returns how many logged updates that covered (new ones)."""
        peer = peers.find_peer(sender.db, receiver_id)
        acked = int(peer.state.get("acked_upto", 0)) if peer else 0
        by_doc: dict[str, list[bytes]] = {}
        fresh = 0
        for update in crdt_log.updates_since(sender.db, 0, 10**9):
            # what the receiver sent itself is not what this acknowledgement is about
            if update.id <= acked and update.origin != f"peer:{receiver_id}":
                by_doc.setdefault(update.doc_id, []).append(update.data)
                fresh += (receiver_id, update.id) not in self.verified
                self.verified.add((receiver_id, update.id))
        for doc_id, updates in by_doc.items():
            # serve compacts every 10 minutes, not within this test: the log is complete
            assert crdt_log.snapshot_of_upto(sender.db, doc_id) == 0
            held = Doc()
            held.apply_update(receiver.docs.get(doc_id).encode_state())
            before = held.get_update()
            for update in updates:
                held.apply_update(update)
            assert held.get_update() == before, f"{side}→: acknowledged updates of {doc_id} lost"
        return fresh

    def new_round(self, report: CrashReport) -> None:
        with Library(self.library) as b, _readonly(self.a) as a:
            wait_until(lambda: library_state(a) == library_state(b), timeout=10)
            assert not SyncService(b).wanted_blobs(), "a finished sync left photos without blobs"
        report.resumes_checked += 1
        # while A keeps serving, as `saem notes add` / `saem sync pair` in another terminal
        with Library(self.a) as lib:
            check_open_library(lib)
            for i in range(20):
                lib.notes.create(f"# A round {self.round} {i}\n\nmore text {i} 추가\n")
        shutil.rmtree(self.library)
        self.round += 1
        self._new_replica()

    def finish(self, report: CrashReport) -> None:
        try:
            with Library(self.library) as b:
                SyncService(b).sync_now(self.address, timeout=120)
                check_open_library(b)
                with _readonly(self.a) as a:
                    wait_until(lambda: library_state(a) == library_state(b), timeout=10)
            report.resumes_checked += 1
        finally:
            self.server.stop()
        check_library(self.a, report)

    def close(self) -> None:
        self.server.kill9()


@contextmanager
def _readonly(root: Path) -> Iterator[SimpleNamespace]:
    """A library that another process serves, opened read-only (no clean-up side effects)."""
    db = Database(root / "library.db", readonly=True)
    try:
        yield SimpleNamespace(db=db, docs=DocumentCache(db))
    finally:
        db.close()
