"""The four crash scenarios run by the harness: import, indexing, editing, sync.

Each scenario prepares real data on disk, defines the worker (runs in a forked child, see
``crash_harness``), where kills land, what to check after each kill, and how a round ends:
when a worker happens to finish, the scenario checks the finished state (the resumed work
is complete) and starts a new round of work.
"""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote, unquote

from pycrdt import Doc

from core.documents import DocumentCache
from core.importer import import_markdown_folder
from core.indexer import EMBED_JOB, INDEX_JOB, Indexer
from core.library import Library
from core.places import place_name
from core.sync_service import SyncService
from storage import chunks as chunk_store
from storage import crdt_log, jobs, peers
from storage import notes as notes_repo
from storage import vectors as vector_store
from storage.db import Database
from tests.e2e.crash_harness import (
    CrashReport,
    Emitter,
    KillPlan,
    WorkerRun,
    check_library,
    check_open_library,
    kill_plans,
    run_worker,
    tap_commits,
)
from tests.fixtures.embedders import BigramEmbedder
from tests.fixtures.vault import _photo, build_vault
from tests.sync.conftest import ServeProcess, library_state, wait_until


class Scenario:
    name = ""

    def __init__(self, root: Path, rng: random.Random) -> None:
        self.root = root
        self.rng = rng
        self.library = root / "lib"
        self.full_run: dict[str, int] = {}  # most records per kind of a finished worker

    def work(self, emit: Emitter) -> None:  # in the forked worker
        raise NotImplementedError

    def plan(self) -> KillPlan:
        raise NotImplementedError

    def check(self, run: WorkerRun, report: CrashReport) -> None:
        """After each worker: the library is whole and every acknowledged write is there."""
        raise NotImplementedError

    def new_round(self, report: CrashReport) -> None:
        """A worker finished: check the completed state, then give the next worker work."""
        raise NotImplementedError

    def finish(self, report: CrashReport) -> None:
        """After the last kill: resume in-process to completion and check everything."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop what the scenario started (servers)."""

    def most(self, kind: str, guess: int) -> int:
        """A bit more than the ``kind`` records of a whole run (``guess``, or the most a
        finished worker wrote), so that about one kill plan in ten lets a worker finish and
        most kills land mid-operation."""
        return max(1, int(max(guess, self.full_run.get(kind, 0)) * 1.1))


def run_scenario(scenario: Scenario, kills: int) -> CrashReport:
    report = CrashReport(scenario.name)
    started = time.monotonic()
    for _ in range(kills * 3):
        if report.kills >= kills:
            break
        run = run_worker(scenario.work, scenario.plan())
        report.count(run)
        scenario.check(run, report)
        if run.finished:
            kinds = [r[0] for r in run.records]
            for kind in set(kinds):
                scenario.full_run[kind] = max(scenario.full_run.get(kind, 0), kinds.count(kind))
            scenario.new_round(report)
    scenario.finish(report)
    report.seconds = round(time.monotonic() - started, 2)
    report.publish()
    return report


# -- import ---------------------------------------------------------------------------------


class ImportScenario(Scenario):
    """`import_markdown_folder` of a vault with notes and embedded photos; when a worker
    finishes, a quarter of the files change so the next round runs the update path."""

    name = "import"

    def __init__(self, root: Path, rng: random.Random, notes: int = 300, photos: int = 12):
        super().__init__(root, rng)
        self.vault = build_vault(root / "vault", extra_notes=notes)
        for i in range(photos):
            _photo(root / "vault" / "pics" / f"p{i:03d}.jpg", (i * 7 % 255, 90, 200), (320, 240))
            (self.vault / "Photos" / f"photo-note-{i:03d}.md").parent.mkdir(exist_ok=True)
            (self.vault / "Photos" / f"photo-note-{i:03d}.md").write_text(
                f"# Photo {i}\n\n![[p{i:03d}.jpg]] 사진 설명 {i}\n", encoding="utf-8"
            )
        self.files = {p.name: p for p in self.vault.rglob("*.md")}
        assert len(self.files) == 5 + notes + photos  # names are unique
        self.photos = photos + 2
        self.acked: set[str] = set()  # file names whose import committed in this round
        self.round = 0

    def work(self, emit: Emitter) -> None:
        lib = Library(self.library)
        tap_commits(lib.db, emit)

        def progress(done: int, total: int, name: str) -> None:
            if name:
                emit("p", quote(name))

        import_markdown_folder(lib, self.vault, progress=progress)

    def plan(self) -> KillPlan:
        # about one commit per 100 notes, and one for the links at the end
        return kill_plans(
            self.rng,
            on="p",
            most=self.most("p", len(self.files)),
            delay=0.01,
            transactions=self.most("begin", len(self.files) // 100 + 2),
        )

    def _check_note(self, lib: Library, name: str) -> str:
        path = self.files[name]
        row = notes_repo.find_by_source_path(lib.db, str(path.resolve()))
        assert row is not None, f"acknowledged import of {name} was lost"
        assert row.body == path.read_text("utf-8"), f"{name}: imported body != file"
        return row.item_id

    def check(self, run: WorkerRun, report: CrashReport) -> None:
        new = {unquote(r[0]) for r in run.acked("p")}
        report.acked_checked += len(new - self.acked)
        self.acked |= new
        with Library(self.library) as lib:
            check_open_library(lib)
            ids = {self._check_note(lib, name) for name in self.acked}
            # the note's index job was queued in the note's own transaction
            assert ids <= jobs.runnable_item_ids(lib.db, [INDEX_JOB])
        report.libraries_checked += 1

    def _complete(self, lib: Library, report: CrashReport) -> None:
        for name in self.files:
            self._check_note(lib, name)
        assert lib.stats().notes == len(self.files)
        assert lib.stats().photos == self.photos
        report.resumes_checked += 1

    def new_round(self, report: CrashReport) -> None:
        with Library(self.library) as lib:
            self._complete(lib, report)
        self.round += 1
        for name in self.rng.sample(sorted(self.files), len(self.files) // 4):
            path = self.files[name]
            path.write_text(path.read_text("utf-8") + f"\n수정 {self.round} edit\n", "utf-8")
        self.acked.clear()

    def finish(self, report: CrashReport) -> None:
        with Library(self.library) as lib:
            import_markdown_folder(lib, self.vault)
            check_open_library(lib)
            self._complete(lib, report)


# -- editing --------------------------------------------------------------------------------


class EditScenario(Scenario):
    """A worker that keeps editing notes (append, insert in the middle, create) and
    acknowledges each edit after ``notes.edit``/``create`` returned. Each edit carries a unique
    marker; every acknowledged marker must survive. A worker that finishes its ``ops`` edits
    ends a round: the parent then runs the index queue the edits filled to completion."""

    name = "edit"

    def __init__(self, root: Path, rng: random.Random, notes: int = 12, ops: int = 30):
        super().__init__(root, rng)
        self.ops = ops
        self.notes = notes
        with Library(self.library) as lib, lib.db.transaction():
            for i in range(notes):
                lib.notes.create(f"# 노트 {i}\n\n첫 줄 first line\n")
        self.next = 0  # the next marker number (the forked worker sees the current value)
        self.acked: dict[int, str] = {}  # marker number -> note id
        self.seed = rng.randrange(2**32)

    @staticmethod
    def marker(n: int) -> str:
        return f"⟦{n}⟧"

    def work(self, emit: Emitter) -> None:
        lib = Library(self.library)
        tap_commits(lib.db, emit)
        rng = random.Random(self.seed + self.next)
        ids = [item.id for item in lib.list_items("note", limit=10_000)]
        for n in range(self.next, self.next + self.ops):
            roll = rng.random()
            if roll < 0.05:
                note = lib.notes.create(f"# 새 노트 {n}\n\n{self.marker(n)} new\n")
                ids.append(note)
            else:
                note = rng.choice(ids)
                body = lib.notes.get(note).body
                # append, or insert at a line start (never inside another edit's marker)
                starts = [i + 1 for i, ch in enumerate(body) if ch == "\n"]
                pos = len(body) if roll < 0.7 or not starts else rng.choice(starts)
                text = f"줄 {self.marker(n)} line #t{n % 7}\n"
                lib.notes.edit(note, body[:pos] + text + body[pos:])
            emit("ack", n, note)

    def plan(self) -> KillPlan:
        return kill_plans(
            self.rng,
            on="ack",
            most=self.most("ack", self.ops),
            delay=0.004,
            transactions=self.most("begin", self.ops),
        )

    def check(self, run: WorkerRun, report: CrashReport) -> None:
        acked = run.of("ack")
        report.acked_checked += len(acked)
        self.acked.update({int(n): note for n, note in acked})
        self.next += self.ops  # fresh markers for the next worker
        with Library(self.library) as lib:
            check_open_library(lib)
            bodies = {i.id: lib.notes.get(i.id).body for i in lib.list_items("note", limit=10**5)}
            for n, note in self.acked.items():
                assert self.marker(n) in bodies[note], f"acknowledged edit {n} of {note} lost"
            # every acknowledged edit queued its note for indexing in the same transaction
            waiting = jobs.runnable_item_ids(lib.db, [INDEX_JOB])
            assert {note for _, note in acked} <= waiting
        report.libraries_checked += 1

    def new_round(self, report: CrashReport) -> None:
        self._index_everything(report)
        # bounded work per kill: retire long notes and the extra created ones (all verified)
        with Library(self.library) as lib:
            notes = lib.list_items("note", limit=10**5)
            retire = {i.id for i in notes if lib.notes.get(i.id).body.count("\n") > 150}
            retire |= {i.id for i in self.rng.sample(notes, max(0, len(notes) - self.notes))}
            for note in retire:
                lib.notes.delete(note)
            for _ in range(len(notes) - len(retire), self.notes):
                lib.notes.create(f"# 다음 노트 {self.next}\n\n첫 줄 first line\n")
        self.acked = {n: note for n, note in self.acked.items() if note not in retire}

    def _index_everything(self, report: CrashReport) -> None:
        with Library(self.library) as lib:
            Indexer(lib, BigramEmbedder(), auto_models=False).run()
            counts = jobs.counts(lib.db)
            assert counts["pending"] == counts["running"] == counts["failed"] == 0
            for item in lib.list_items("note", limit=10**5):
                body = lib.notes.get(item.id).body
                texts = [c.text for c in chunk_store.chunks_of(lib.db, item.id)]
                assert texts and all(t in body for t in texts if not t.startswith("#t"))
            assert vector_store.chunks_missing(lib.db, BigramEmbedder.model_id) == 0
        report.resumes_checked += 1

    def finish(self, report: CrashReport) -> None:
        check_library(self.library, report)
        self._index_everything(report)


# -- indexing -------------------------------------------------------------------------------


class IndexScenario(Scenario):
    """The indexer (keyword pass, then chunk + vector batches) over notes and photos. After
    each commit the worker reports which jobs are now done; each such item must keep its
    chunks (and vectors of the round's model). A finished worker ends a round: everything
    must be indexed; then the embedding model changes (a full re-embed with the switch at
    the end) and some notes are edited, created and deleted."""

    name = "index"

    def __init__(self, root: Path, rng: random.Random, notes: int = 120, photos: int = 4):
        super().__init__(root, rng)
        with Library(self.library) as lib:
            with lib.db.transaction():
                for i in range(notes):
                    lib.notes.create(_prose(i, rng))
            for i in range(photos):
                path = root / f"photo{i}.jpg"
                _photo(path, (40 * i, 120, 200 - 30 * i), (96, 64))
                photo, _ = lib.photos.add(path)
                lib.photos.set_caption(photo, f"사진 {i}: receipt from the cafe")
            self.runnable = jobs.runnable_count(lib.db)
        # zygote warm-up: the place table (photos carry GPS) loads once, not in every worker
        place_name(37.5, 127.0)
        self.model = "crash-bigram-0"
        self.round = 0
        self.acked: set[tuple[str, str]] = set()  # (job kind, item id) done in this round

    def embedder(self) -> BigramEmbedder:
        embedder = BigramEmbedder()
        embedder.model_id = self.model
        return embedder

    def work(self, emit: Emitter) -> None:
        lib = Library(self.library)
        seen = _done_jobs(lib)

        def report_done() -> None:
            for kind, item in _done_jobs(lib) - seen:
                seen.add((kind, item))
                emit("ack", kind, item)

        tap_commits(lib.db, emit, after_commit=report_done)
        Indexer(lib, self.embedder(), auto_models=False, batch_size=8).run()

    def plan(self) -> KillPlan:
        # each run resumes the queue: a whole run commits about once per batch still to do
        # (+ claiming, the keyword pass, the model switch), so kills aim within that
        commits = self.runnable // 8 + 4
        return kill_plans(self.rng, on="commit", most=commits, delay=0.01, transactions=commits)

    def check(self, run: WorkerRun, report: CrashReport) -> None:
        acked = {(kind, item) for kind, item in run.of("ack")}
        report.acked_checked += len(acked)
        self.acked |= acked
        with Library(self.library) as lib:
            check_open_library(lib)
            for kind, item_id in self.acked:
                chunks = chunk_store.chunks_of(lib.db, item_id)
                deleted = lib.db.scalar("SELECT deleted FROM items WHERE id = ?", (item_id,))
                assert bool(chunks) != bool(deleted), f"{kind} job of {item_id}: chunks lost"
                photo = kind == INDEX_JOB and not deleted and _is_photo(lib, item_id)
                if kind == EMBED_JOB or photo:  # photos get their vectors in the index job
                    missing = chunk_store.chunks_without_vectors(lib.db, item_id, self.model)
                    assert not missing, f"{kind} job of {item_id}: vectors lost"
            # the indexer's invariant: a chunk without a vector still has a runnable job
            waiting = jobs.runnable_item_ids(lib.db, [INDEX_JOB, EMBED_JOB])
            serving = vector_store.serving_model(lib.db)
            target = vector_store.target_model(lib.db)
            for model in {serving, target} - {None}:
                if model == serving and target:
                    continue  # the old model keeps serving what it had until the switch
                assert vector_store.items_missing_vectors(lib.db, model) <= waiting
            self.runnable = self._runnable(lib)
        report.libraries_checked += 1

    def _runnable(self, lib: Library) -> int:
        """Jobs the next worker has to run (a model switch queues every indexed item)."""
        switching = self.model not in (
            vector_store.serving_model(lib.db),
            vector_store.target_model(lib.db),
        )
        return jobs.runnable_count(lib.db) + switching * len(chunk_store.items_with_chunks(lib.db))

    def _complete(self, lib: Library, report: CrashReport) -> None:
        counts = jobs.counts(lib.db)
        assert counts["pending"] == counts["running"] == counts["failed"] == 0, counts
        assert vector_store.serving_model(lib.db) == self.model
        assert vector_store.target_model(lib.db) is None
        assert vector_store.model_ids(lib.db) == [self.model]
        live = {i.id for i in lib.list_items(limit=10**5)}
        assert set(chunk_store.items_with_chunks(lib.db)) == live
        assert vector_store.chunks_missing(lib.db, self.model) == 0
        report.resumes_checked += 1

    def new_round(self, report: CrashReport) -> None:
        self.round += 1
        with Library(self.library) as lib:
            self._complete(lib, report)
            notes = [i.id for i in lib.list_items("note", limit=10**5)]
            for note in self.rng.sample(notes, len(notes) // 10):
                lib.notes.edit(note, lib.notes.get(note).body + f"\n고침 {self.round} edited\n")
            lib.notes.delete(self.rng.choice(notes))
            lib.notes.create(_prose(1000 + self.round, self.rng))
            self.model = f"crash-bigram-{self.round % 2}"
            self.runnable = self._runnable(lib)
        self.acked.clear()

    def finish(self, report: CrashReport) -> None:
        with Library(self.library) as lib:
            Indexer(lib, self.embedder(), auto_models=False, batch_size=8).run()
            check_open_library(lib)
            self._complete(lib, report)


def _done_jobs(lib: Library) -> set[tuple[str, str]]:
    rows = lib.db.query("SELECT kind, item_id FROM jobs WHERE state = 'done'")
    return {(r[0], r[1]) for r in rows}


def _is_photo(lib: Library, item_id: str) -> bool:
    return lib.db.scalar("SELECT kind FROM items WHERE id = ?", (item_id,)) == "photo"


def _prose(i: int, rng: random.Random) -> str:
    words = ["커피", "coffee", "서울", "train", "기차", "notes", "tea", "차", "book", "책"]
    paragraphs = [
        " ".join(rng.choice(words) for _ in range(rng.randint(20, 80)))
        for _ in range(rng.randint(1, 6))
    ]
    return f"# Note {i}\n\n" + "\n\n".join(paragraphs) + f"\n\n#topic{i % 5}\n"


# -- sync -----------------------------------------------------------------------------------


class SyncScenario(Scenario):
    """A worker runs ``SyncService.sync_now`` (one round over loopback mutual TLS) from a
    replica B to `saem sync serve` on replica A (a real subprocess), and is killed mid-sync.
    Before each worker B gets a local note. Checked after each kill: B is whole; everything
    A's log holds up to what B acknowledged (A's ``acked_upto`` for B) is in B, and
    everything B's log holds up to what A acknowledged is in A. A finished worker ends a
    round: A and B must be identical; then A gets new notes and a fresh replica B."""

    name = "sync"

    def __init__(self, root: Path, rng: random.Random, notes: int = 300):
        super().__init__(root, rng)
        self.a = root / "a"
        with Library(self.a) as lib, lib.db.transaction():
            for i in range(notes):
                body = "가나다라 마바사 hello world " * 20
                lib.notes.create(f"# 노트 {i}\n\n{body}\n#t{i % 9}\n")
        self.round = 0
        self.local = 0
        self.verified: set[tuple[str, int]] = set()  # (receiver, sender's log id) checked
        self.missing = 1.0  # share of A's notes the replica B lacks
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
        SyncService(lib).sync_now(self.address, timeout=60)

    def plan(self) -> KillPlan:
        # a worker resumes what B lacks: aim the kills within the commits that takes
        # (a whole sync of a fresh B: ~10), plus the local note and the final bookkeeping
        commits = 2 + round(self.most("commit", 10) * self.missing)
        if self.rng.random() < 0.25:  # the last phase: right after B recorded A's ack
            return KillPlan("acked", 1, self.rng.uniform(0.0, 0.003))
        return kill_plans(self.rng, on="commit", most=commits, delay=0.02, transactions=commits)

    def _acked_by_a(self, lib: Library) -> int:
        peer = peers.find_peer(lib.db, self.a_id)
        return int(peer.state.get("acked_upto", 0)) if peer else 0

    def check(self, run: WorkerRun, report: CrashReport) -> None:
        with Library(self.library) as b, _readonly(self.a) as a:
            check_open_library(b)
            pulled = self._acked_present(a, b, self.b_id, "a")
            pushed = self._acked_present(b, a, self.a_id, "b")
            titles = {i.title for i in b.list_items("note", limit=10**6)}
            local = run.of("local")
            for (n,) in local:
                assert f"B 로컬 {n}" in titles, f"acknowledged local note {n} lost"
            report.acked_checked += pulled + pushed + len(local)
            for key, value in (("pulled", pulled), ("pushed", pushed), ("local", len(local))):
                report.notes[key] = report.notes.get(key, 0) + value
            self._measure_missing(a, b)
        self.local += 1
        report.libraries_checked += 1

    def _measure_missing(self, a: Any, b: Library) -> None:
        """The share of A's notes B does not have yet."""
        ours = {i.id for i in b.list_items("note", limit=10**6)}
        theirs = {r[0] for r in a.db.query("SELECT id FROM items WHERE kind = 'note'")}
        self.missing = len(theirs - ours) / max(1, len(theirs))

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
        report.resumes_checked += 1
        self.server.stop()
        with Library(self.a) as lib:
            check_open_library(lib)
            for i in range(20):
                lib.notes.create(f"# A round {self.round} {i}\n\nmore text {i} 추가\n")
        shutil.rmtree(self.library)
        self.round += 1
        self.missing = 1.0
        self._new_replica()
        self.server = ServeProcess(self.a).start(port=self.server.port)

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
