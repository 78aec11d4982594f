"""Crash scenarios on one library: import, editing, indexing (see ``crash_harness``)."""

from __future__ import annotations

import random
from pathlib import Path
from urllib.parse import quote, unquote

from core.indexing.indexer import EMBED_JOB, INDEX_JOB, UPGRADE_JOB, Indexer
from core.library import Library
from core.photos.places import place_name
from core.search.searcher import Searcher
from core.transfer.importer import import_markdown_folder
from storage import chunks as chunk_store
from storage import jobs, maintenance
from storage import notes as notes_repo
from storage import vectors as vector_store
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
from tests.fixtures.embedders import BigramEmbedder
from tests.fixtures.vault import _photo, build_vault

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
            assert ids <= jobs.runnable_item_ids(lib.db, [INDEX_JOB]), "imported, not queued"
        report.libraries_checked += 1

    def _complete(self, lib: Library, report: CrashReport) -> None:
        for name in self.files:
            self._check_note(lib, name)
        assert lib.stats().notes == len(self.files), "the resumed import is incomplete"
        assert lib.stats().photos == self.photos, "the resumed import lacks photos"
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
            # a kill between a photo's blob copy and its commit leaves an unreferenced blob;
            # the resumed import adopts it (same sha256), so none is left over
            orphans = set(lib.store.blobs.iter_hashes()) - set(maintenance.photo_hashes(lib.db))
            assert not orphans, f"blobs no photo refers to: {len(orphans)}"


# -- editing --------------------------------------------------------------------------------


class EditScenario(Scenario):
    """A worker that keeps editing notes (append, insert in the middle, create) and
    acknowledges each edit after ``notes.edit``/``create`` returned. Each edit carries a unique
    marker; every acknowledged marker must survive and its note must be queued for indexing.
    A worker that finishes its ``ops`` edits ends a round: the parent runs the index queue the
    edits filled to completion, then retires long notes so the work per kill stays bounded."""

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
            assert {note for _, note in acked} <= waiting, "an edited note is not queued"
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
            assert counts["pending"] == counts["running"] == counts["failed"] == 0, counts
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
                if kind in (EMBED_JOB, UPGRADE_JOB) or photo:  # photos: vectors in the index job
                    missing = chunk_store.chunks_without_vectors(lib.db, item_id, self.model)
                    assert not missing, f"{kind} job of {item_id}: vectors lost"
            # the indexer's invariant: a chunk without a vector still has a runnable job
            waiting = jobs.runnable_item_ids(lib.db, [INDEX_JOB, EMBED_JOB, UPGRADE_JOB])
            serving = vector_store.serving_model(lib.db)
            target = vector_store.target_model(lib.db)
            for model in {serving, target} - {None}:
                if model == serving and target:
                    continue  # the old model keeps serving what it had until the switch
                lacking = vector_store.items_missing_vectors(lib.db, model) - waiting
                assert not lacking, f"chunks without {model} vectors and without a job: {lacking}"
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
        models = (vector_store.serving_model(lib.db), vector_store.target_model(lib.db))
        assert models == (self.model, None), f"after the model switch: {models}"
        stale = set(vector_store.model_ids(lib.db)) - {self.model}
        assert not stale, f"vectors of replaced models left behind: {stale}"
        live = {i.id for i in lib.list_items(limit=10**5)}
        unindexed = live ^ set(chunk_store.items_with_chunks(lib.db))
        assert not unindexed, f"items not (or wrongly) indexed after the resume: {unindexed}"
        assert vector_store.chunks_missing(lib.db, self.model) == 0, "chunks without vectors"
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
            for method in ("bm25", "dense"):  # the resumed index serves both kinds of search
                assert Searcher(lib, self.embedder()).search("coffee 커피", method=method).hits


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
