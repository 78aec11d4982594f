"""The indexing pipeline: a durable job queue turning items into searchable chunks and vectors.

Jobs live in the library's ``jobs`` table (queued by the notes/photos services in the same
transaction as the user's change), so they survive restarts and kill -9. A batch of jobs is
claimed, its derived data computed outside any transaction (chunking, photo analysis, one
batched embedder call), then written in ONE writer transaction: each item's chunks, vectors,
OCR lines and machine tags are replaced together and its job marked done. A crash before the
commit leaves the jobs claimed-but-unfinished; they are simply claimed again.

Keywords first: before any embedding, new and changed notes are chunked in large batches
(:func:`core.indexing.work.keyword_pass`), which makes them findable by keyword (FTS5
triggers) within seconds of an import; each such note gets an "embed" job that adds its
vectors afterwards.
Invariant: a chunk without a vector of the serving model (or, during an upgrade, of the
target model) always has a runnable "index", "embed" or "upgrade" job.

Progressive embedding (``saem index --embedder e5``): see :mod:`core.indexing.progressive`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.errors import SaemError
from core.indexing.progressive import (
    ALL_JOB_KINDS,
    BEST_EMBEDDER,
    EMBED_JOB,
    FAST_EMBEDDER,
    INDEX_JOB,
    JOB_KINDS,
    PROGRESSIVE,
    UPGRADE_JOB,
    chosen_embedder,
    maybe_switch,
    prepare_model,
    queue_upgrade,
)
from core.indexing.work import (
    IndexReport,
    IndexStatus,
    embed_text,
    index_status,
    keyword_pass,
    note_chunks,
)
from core.photos.reread import queue_stale_ocr
from core.photos.text import PhotoDerived, analyze, photo_chunks, photo_semantic_vector
from models.errors import ModelError, ModelNotInstalledError
from models.protocols import ImageTagger, OcrEngine, TextEmbedder, Vector
from storage import chunks as chunk_store
from storage import items, jobs, notes, tags
from storage import vectors as vector_store
from storage.chunks import NewChunk
from storage.errors import NotFoundError, StorageError
from storage.items import ItemRow
from storage.vectors import VectorRow

if TYPE_CHECKING:
    from core.library import Library

log = logging.getLogger(__name__)

__all__ = [
    "EMBED_JOB",
    "INDEX_JOB",
    "JOB_KINDS",
    "UPGRADE_JOB",
    "IndexReport",
    "IndexStatus",
    "Indexer",
    "note_chunks",
]

Progress = Callable[[int, int, str], None]


@dataclass
class _Work:
    job: jobs.Job
    embedder: TextEmbedder | None = None  # the model this item's vectors are made with
    delete: bool = False
    chunks: list[NewChunk] | None = None  # None: keep the item's chunks (embed job)
    embed_texts: list[str] = field(default_factory=list)
    embed_chunk_ids: list[int] = field(default_factory=list)  # for embed jobs
    photo: PhotoDerived | None = None
    photo_vector: Vector | None = None  # an upgraded photo's semantic vector (new model)
    vectors: Vector | None = None
    error: str | None = None


class Indexer:
    """Runs the queue. One per library; safe to call :meth:`run` repeatedly (it resumes)."""

    def __init__(
        self,
        library: Library,
        embedder: TextEmbedder | None = None,
        ocr: OcrEngine | None = None,
        tagger: ImageTagger | None = None,
        *,
        auto_models: bool = True,
        batch_size: int = 16,
        max_attempts: int = 5,
    ) -> None:
        self.library = library
        self.db = library.db
        # models given here are the caller's; the library's own come from its model manager,
        # leased for one run() and not kept after it (so idle ones can be released)
        self._embedder = embedder
        self._ocr = ocr
        self._tagger = tagger
        self.auto_models = auto_models
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self._run_models: contextlib.ExitStack | None = None
        self._held: dict[str, Any] = {}

    # -- models -------------------------------------------------------------------------------

    @property
    def embedder(self) -> TextEmbedder:
        """What new and changed content is embedded with (the fast model while a library is
        still on it, the goal model otherwise)."""
        goal = self.goal_embedder()
        fast = self._fast_for(goal)
        if fast is None:
            return goal
        serving = vector_store.serving_model(self.db)
        return fast if serving in (None, fast.model_id) else goal

    def goal_embedder(self) -> TextEmbedder:
        """The embedder the library ends up on: the caller's, the one the library was told
        to stay on (``saem index --embedder``), e5 when told ``e5`` (progressive, from the
        fast model), else the library's own text model."""
        if self._embedder is not None:
            return self._embedder
        if "goal" in self._held:
            model: TextEmbedder = self._held["goal"]
            return model
        chosen = chosen_embedder(self.db)
        if chosen and chosen != PROGRESSIVE:
            model = self._packaged(chosen) or self._library_embedder()
        else:
            model = self._library_embedder()
            if chosen == PROGRESSIVE and model.model_id.startswith(FAST_EMBEDDER):
                model = self._packaged(BEST_EMBEDDER) or model
        if self._run_models is not None:
            self._held["goal"] = model
        return model

    def _fast_for(self, goal: TextEmbedder) -> TextEmbedder | None:
        """The fast model a library is first made meaning-searchable with on its way to
        ``goal``, or None when it goes to ``goal`` directly (a chosen embedder)."""
        if self._embedder is not None or chosen_embedder(self.db) != PROGRESSIVE:
            return None
        fast = self._library_embedder()
        return fast if fast.model_id != goal.model_id else None

    def _library_embedder(self) -> TextEmbedder:
        model: TextEmbedder
        if "text-embedding" not in self._held:
            try:
                model = self._managed("text-embedding")
                return model
            except (SaemError, ModelError, NotFoundError, KeyError, LookupError) as exc:
                log.info("model manager has no text embedder (%s); using the default", exc)
            from models.text_embedders import default_text_embedder

            self._held["text-embedding"] = default_text_embedder()
        model = self._held["text-embedding"]
        return model

    def _packaged(self, name: str) -> TextEmbedder | None:
        """A packaged embedder; during a run the model manager's instance, leased for the run
        (shared with search, released when idle), else the process-wide one (it loads its
        weights only when first used)."""
        from core.indexing.embedders import packaged_embedder

        try:
            model = packaged_embedder(name)
        except ModelError as exc:
            log.info("packaged embedder %s unavailable (%s)", name, exc)
            return None
        if self._run_models is not None:
            with contextlib.suppress(ModelError):
                leased = self._run_models.enter_context(
                    self.library.models.lease_embedder(model.model_id)
                )
                if leased is not None:
                    return leased  # type: ignore[no-any-return]
        return model

    def _managed(self, task: str) -> Any:
        """The library's model for ``task``: leased until the current run ends (outside a
        run, simply the manager's)."""
        if task in self._held:
            return self._held[task]
        manager = self.library.models
        if self._run_models is None:
            return manager.get(task)
        model = self._run_models.enter_context(manager.lease(task))
        self._held[task] = model
        return model

    def _optional(self, task: str) -> Any:
        """A photo model if one is installed; photos still index without it."""
        if not self.auto_models:
            return None
        try:
            return self._managed(task)
        except (SaemError, ModelError, ImportError, OSError) as exc:
            log.info("photo analysis without %s: %s", task, exc)
            self._held[task] = None  # not tried again in this run
            return None

    def _photo_models(self) -> tuple[OcrEngine | None, ImageTagger | None]:
        ocr = self._ocr if self._ocr is not None else self._optional("ocr")
        tagger = self._tagger if self._tagger is not None else self._optional("image-tags")
        return ocr, tagger

    def queue_stale_ocr(self) -> int:
        """Queue photos read by an older OCR engine (core/photos/reread.py); 0 without OCR."""
        ocr = self._ocr if self._ocr is not None else self._optional("ocr")
        return 0 if ocr is None else queue_stale_ocr(self.db, ocr, INDEX_JOB)

    # -- status -------------------------------------------------------------------------------

    def status(self) -> IndexStatus:
        return index_status(self.db)

    # -- model switch -------------------------------------------------------------------------

    def _prepare_model(self) -> None:
        prepare_model(self.db, self.embedder.model_id, self.goal_embedder().model_id)

    def _queue_upgrade(self) -> int:
        return queue_upgrade(self.db, self.goal_embedder().model_id)

    def _maybe_switch(self, report: IndexReport) -> None:
        report.switched_model = maybe_switch(self.db) or report.switched_model

    # -- running ------------------------------------------------------------------------------

    def run(
        self,
        progress: Progress | None = None,
        should_cancel: Callable[[], bool] | None = None,
        limit: int | None = None,
        *,
        upgrade: bool = True,
    ) -> IndexReport:
        """Process runnable jobs until the queue is empty, ``limit`` jobs ran, or cancelled.

        New and changed content first; then (``upgrade``) the background upgrade to the better
        embedder, batch by batch — each batch one transaction, so it can stop anywhere."""
        with contextlib.ExitStack() as models:
            self._run_models = models
            try:
                return self._run(progress, should_cancel, limit, upgrade)
            finally:
                self._run_models = None
                self._held.clear()

    def _run(
        self,
        progress: Progress | None,
        should_cancel: Callable[[], bool] | None,
        limit: int | None,
        upgrade: bool,
    ) -> IndexReport:
        started = time.monotonic()
        report = IndexReport()
        self._prepare_model()
        total = jobs.runnable_count(self.db, ALL_JOB_KINDS if upgrade else JOB_KINDS)
        if limit is not None:
            total = min(total, limit)
        done = 0
        queued_upgrade = not upgrade
        if progress:
            progress(0, total, "starting")
        if limit is None:
            self._keyword_pass(report, progress, should_cancel, total)
        while limit is None or done < limit:
            if should_cancel and should_cancel():
                report.cancelled = True
                break
            size = self.batch_size if limit is None else min(self.batch_size, limit - done)
            batch = jobs.claim(self.db, JOB_KINDS, limit=size)
            if not batch and upgrade:
                batch = jobs.claim(self.db, [UPGRADE_JOB], limit=size)
                if not batch and not queued_upgrade:
                    queued_upgrade = True
                    total += self._queue_upgrade()
                    batch = jobs.claim(self.db, [UPGRADE_JOB], limit=size)
            if not batch:
                break
            self._run_batch(batch, report)
            done += len(batch)
            total = max(total, done)
            if progress:
                note = f"{report.chunks} chunks"
                if report.upgraded:
                    note = f"upgrading meaning search: {report.upgraded} items"
                progress(done, total, note)
        if not report.cancelled:
            self._maybe_switch(report)
            if report.vectors:
                self._refresh_vector_cache()
        report.seconds = time.monotonic() - started
        return report

    def index_keywords(
        self,
        progress: Progress | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> IndexReport:
        """Only the keyword pass: chunk every queued note now, loading no model.

        Import calls it so what was just imported is findable by its words at once; each
        chunked note gets an "embed" job, and photos keep their "index" job, for :meth:`run`.
        """
        started = time.monotonic()
        report = IndexReport()
        total = jobs.runnable_count(self.db, [INDEX_JOB])
        self._keyword_pass(report, progress, should_cancel, total)
        report.seconds = time.monotonic() - started
        return report

    def _keyword_pass(
        self,
        report: IndexReport,
        progress: Progress | None,
        should_cancel: Callable[[], bool] | None,
        total: int,
    ) -> None:
        keyword_pass(self.db, report, progress, should_cancel, total)

    def _refresh_vector_cache(self) -> None:
        """Build/update the persisted HNSW graph now (background work), not at the next query."""
        from core.indexing.vector_index import HNSW_THRESHOLD, VectorCache

        cache = VectorCache(self.db)
        for model in (vector_store.serving_model(self.db), vector_store.target_model(self.db)):
            if model and vector_store.count_vectors(self.db, model) >= HNSW_THRESHOLD:
                cache.index(model, "chunk")

    def _run_batch(self, batch: list[jobs.Job], report: IndexReport) -> None:
        # one kind per batch (see _run): new content gets the content embedder, an upgrade the
        # goal embedder
        upgrading = batch[0].kind == UPGRADE_JOB
        embedder = self._batch_embedder(upgrading)
        work = [self._prepare(job, embedder) for job in batch]
        self._embed(work)
        with self.db.transaction():
            for w in work:
                if w.error is not None:
                    jobs.fail(self.db, w.job, w.error, max_attempts=self.max_attempts)
                    report.failed += 1
                    report.errors.append((w.job.item_id, w.error))
                    continue
                self._write(w, report)
                jobs.complete_if_running(self.db, w.job.id)
                if upgrading:
                    report.upgraded += 1
                else:
                    report.processed += 1

    def _batch_embedder(self, upgrading: bool) -> TextEmbedder | None:
        try:
            if upgrading:
                target = vector_store.target_model(self.db)
                goal = self.goal_embedder()
                # a job left from an upgrade that was given up (another embedder chosen)
                # re-embeds for the goal only if that is the target
                return goal if target in (None, goal.model_id) else self.embedder
            return self.embedder
        except ModelError:
            return None

    # -- per item -----------------------------------------------------------------------------

    def _prepare(self, job: jobs.Job, embedder: TextEmbedder | None) -> _Work:
        work = _Work(job, embedder)
        try:
            item = items.find_item(self.db, job.item_id)
            if item is None or item.deleted:
                work.delete = True
                return work
            if embedder is None and (job.kind != INDEX_JOB or item.kind == "note"):
                raise ModelNotInstalledError("No text embedder could be loaded.")
            if job.kind in (EMBED_JOB, UPGRADE_JOB) and item.kind == "note":
                assert embedder is not None
                self._prepare_embed(work, embedder.model_id)
            elif job.kind == UPGRADE_JOB:
                assert embedder is not None
                self._prepare_photo_upgrade(work, item, embedder)
            elif item.kind == "note":
                row = notes.get_note(self.db, item.id)
                work.chunks = note_chunks(item.title, row.body, tags.tags_of(self.db, item.id))
                work.embed_texts = [embed_text(c, item.title) for c in work.chunks]
            else:
                # a new or changed photo is analysed (OCR, tags, semantic vector)
                ocr, tagger = self._photo_models()
                derived = analyze(self.library, item, ocr=ocr, tagger=tagger,
                                  text_embedder=embedder)  # fmt: skip
                work.photo = derived
                work.chunks = photo_chunks(item.title, derived)
                work.embed_texts = [c.text for c in work.chunks] if embedder else []
        except (SaemError, StorageError, ModelError, OSError, ValueError) as exc:
            work.error = getattr(exc, "user_message", None) or f"{type(exc).__name__}: {exc}"
        return work

    def _prepare_embed(self, work: _Work, model: str) -> None:
        missing = chunk_store.chunks_without_vectors(self.db, work.job.item_id, model)
        item = items.get_item(self.db, work.job.item_id)
        work.embed_chunk_ids = [c.id for c in missing]
        work.embed_texts = [
            embed_text(NewChunk(c.source, c.text, c.start, c.end, c.heading), item.title)
            for c in missing
        ]

    def _prepare_photo_upgrade(self, work: _Work, item: ItemRow, embedder: TextEmbedder) -> None:
        """An upgraded photo keeps its chunks (OCR, caption, tags: no OCR again, the slowest
        step); they get the new model's vectors, embedded as first (the bare chunk text), and
        its semantic vector is rebuilt in the new model's space by the image tagger alone."""
        missing = chunk_store.chunks_without_vectors(self.db, item.id, embedder.model_id)
        work.embed_chunk_ids = [c.id for c in missing]
        work.embed_texts = [c.text for c in missing]
        tagger = self._tagger if self._tagger is not None else self._optional("image-tags")
        if tagger is not None:
            work.photo_vector = photo_semantic_vector(
                self.library, item, tagger=tagger, text_embedder=embedder
            )

    def _embed(self, work: list[_Work]) -> None:
        todo = [w for w in work if w.error is None and w.embed_texts and w.embedder]
        groups: dict[int, list[_Work]] = {}
        for w in todo:
            groups.setdefault(id(w.embedder), []).append(w)
        for group in groups.values():
            self._embed_group(group)

    def _embed_group(self, todo: list[_Work]) -> None:
        embedder = todo[0].embedder
        assert embedder is not None
        texts = [t for w in todo for t in w.embed_texts]
        try:
            matrix = embedder.embed_passages(texts)
        except (ModelError, ValueError, RuntimeError, MemoryError) as exc:
            log.warning("batch embedding failed (%s); retrying item by item", exc)
            for w in todo:
                try:
                    w.vectors = embedder.embed_passages(w.embed_texts)
                except (ModelError, ValueError, RuntimeError, MemoryError) as item_exc:
                    w.error = f"embedding failed: {item_exc}"
            return
        pos = 0
        for w in todo:
            w.vectors = matrix[pos : pos + len(w.embed_texts)]
            pos += len(w.embed_texts)

    def _write(self, w: _Work, report: IndexReport) -> None:
        item_id = w.job.item_id
        if w.delete:
            chunk_store.delete_item_chunks(self.db, item_id)
            return
        if w.chunks is not None:
            ids = chunk_store.replace_item_chunks(self.db, item_id, w.chunks)
            report.chunks += len(ids)
        else:
            ids = w.embed_chunk_ids
        rows = []
        if w.vectors is not None:
            rows = [
                VectorRow("chunk", str(cid), item_id, vec.astype("<f4").tobytes())
                for cid, vec in zip(ids, w.vectors, strict=True)
            ]
        if w.photo is not None:
            w.photo.write(self.db, item_id)
            vector_store.delete_item_vectors(self.db, item_id, "photo")
            if w.photo.semantic_vector is not None:
                rows.append(
                    VectorRow(
                        "photo", item_id, item_id, w.photo.semantic_vector.astype("<f4").tobytes()
                    )
                )
        if w.photo_vector is not None:  # the old model's photo vector stays until the switch
            data = w.photo_vector.astype("<f4").tobytes()
            rows.append(VectorRow("photo", item_id, item_id, data))
        if rows and w.embedder is not None:
            vector_store.put_vectors(self.db, w.embedder.model_id, int(w.embedder.dim), rows)
            report.vectors += len(rows)
