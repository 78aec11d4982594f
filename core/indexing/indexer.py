"""The indexing pipeline: a durable job queue turning items into searchable chunks and vectors.

Jobs live in the library's ``jobs`` table (queued by the notes/photos services in the same
transaction as the user's change), so they survive restarts and kill -9. A batch of jobs is
claimed, its derived data computed outside any transaction (chunking, photo analysis, one
batched embedder call), then written in ONE writer transaction: each item's chunks, vectors,
OCR lines and machine tags are replaced together and its job marked done. A crash before the
commit leaves the jobs claimed-but-unfinished; they are simply claimed again.

Keywords first: before any embedding, new and changed notes are chunked in large batches
(:meth:`Indexer._keyword_pass`), which makes them findable by keyword (FTS5 triggers) within
seconds of an import; each such note gets an "embed" job that adds its vectors afterwards.
Invariant: a chunk without a vector always has a runnable "index" or "embed" job.

Changing the embedder: the new model becomes the *target*; "embed" jobs add its vectors next
to the old ones, and only when every chunk has one does the new model start serving queries
(the old vectors are then dropped in the same transaction).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.content.chunking import chunk_markdown
from core.errors import SaemError
from core.photos.reread import queue_stale_ocr
from core.photos.text import PhotoDerived, analyze, photo_chunks
from models.errors import ModelError
from models.protocols import ImageTagger, OcrEngine, TextEmbedder, Vector
from storage import chunks as chunk_store
from storage import items, jobs, notes, tags
from storage import vectors as vector_store
from storage.chunks import NewChunk
from storage.errors import NotFoundError, StorageError
from storage.vectors import VectorRow

if TYPE_CHECKING:
    from core.library import Library

log = logging.getLogger(__name__)

INDEX_JOB = "index"
EMBED_JOB = "embed"
JOB_KINDS = [INDEX_JOB, EMBED_JOB]
KEYWORD_BATCH = 256  # notes chunked per transaction in the keyword pass
Progress = Callable[[int, int, str], None]


@dataclass
class IndexReport:
    processed: int = 0
    failed: int = 0
    chunks: int = 0
    vectors: int = 0
    seconds: float = 0.0
    cancelled: bool = False
    switched_model: str | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)  # (item id, message)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class IndexStatus:
    pending: int
    running: int
    done: int
    failed: int
    stage: str  # idle | indexing | re-embedding | waiting-retry
    chunks: int
    serving_model: str | None
    target_model: str | None
    missing_vectors: int

    @property
    def busy(self) -> bool:
        return self.pending + self.running > 0

    @property
    def upgrade_progress(self) -> tuple[int, int] | None:
        """While the text embedder is being switched (``target_model`` set): (chunks that
        already have the new model's vector, all chunks) — for the status bar and
        ``saem index --status``. The old vectors keep serving until it is complete."""
        if not self.target_model:
            return None
        return (max(0, self.chunks - self.missing_vectors), self.chunks)


@dataclass
class _Work:
    job: jobs.Job
    delete: bool = False
    chunks: list[NewChunk] | None = None  # None: keep the item's chunks (embed job)
    embed_texts: list[str] = field(default_factory=list)
    embed_chunk_ids: list[int] = field(default_factory=list)  # for embed jobs
    photo: PhotoDerived | None = None
    vectors: Vector | None = None
    error: str | None = None


def _embed_text(chunk: NewChunk, title: str) -> str:
    """What the embedder sees: the chunk plus its section heading (or the item title)."""
    context = chunk.heading or title
    first = chunk.text.lstrip("#").strip()[: len(context) + 5]
    if context and context not in first:
        return f"{context}\n{chunk.text}"
    return chunk.text


def note_chunks(title: str, body: str, tag_list: list[str]) -> list[NewChunk]:
    out: list[NewChunk] = []
    body_chunks = chunk_markdown(body)
    first = body_chunks[0].text if body_chunks else ""
    if title and title not in first[: len(title) + 10]:
        out.append(NewChunk("title", title, 0, 0, ""))
    if tag_list:
        out.append(NewChunk("tags", " ".join(f"#{t}" for t in tag_list), 0, 0, ""))
    out += [NewChunk("body", c.text, c.start, c.end, c.heading) for c in body_chunks]
    return out


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
        if self._embedder is not None:
            return self._embedder
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
        counts = jobs.counts(self.db)
        serving = vector_store.serving_model(self.db)
        target = vector_store.target_model(self.db)
        # counting chunks without vectors scans the table: only while re-embedding
        missing = vector_store.chunks_missing(self.db, target) if target else 0
        runnable = jobs.runnable_count(self.db)
        if not runnable:
            stage = "idle"
        elif target:
            stage = "re-embedding"
        elif not jobs.ready_count(self.db):
            stage = "waiting-retry"
        else:
            stage = "indexing"
        return IndexStatus(
            counts["pending"],
            counts["running"],
            counts["done"],
            counts["failed"],
            stage,
            chunk_store.count_chunks(self.db),
            serving,
            target,
            missing,
        )

    # -- model switch -------------------------------------------------------------------------

    def _prepare_model(self) -> None:
        """Make the embedder's model the serving one, or start re-embedding for it."""
        model_id = self.embedder.model_id
        serving = vector_store.serving_model(self.db)
        target = vector_store.target_model(self.db)
        if serving == model_id:
            if target:
                with self.db.transaction():
                    vector_store.set_target_model(self.db, None)
            return
        if serving is None or vector_store.count_vectors(self.db, serving) == 0:
            with self.db.transaction():
                vector_store.set_serving_model(self.db, model_id)
                vector_store.set_target_model(self.db, None)
            return
        if target != model_id:
            with self.db.transaction():
                vector_store.set_target_model(self.db, model_id)
                jobs.enqueue_many(self.db, EMBED_JOB, chunk_store.items_with_chunks(self.db))

    def _maybe_switch(self, report: IndexReport) -> None:
        target = vector_store.target_model(self.db)
        if not target or jobs.runnable_count(self.db, [EMBED_JOB]):
            return
        if vector_store.chunks_missing(self.db, target):
            return
        with self.db.transaction():
            old = vector_store.serving_model(self.db)
            vector_store.set_serving_model(self.db, target)
            vector_store.set_target_model(self.db, None)
            for model in vector_store.model_ids(self.db):
                if model != target:
                    vector_store.delete_model(self.db, model)
        report.switched_model = target
        log.info("search now uses %s (was %s)", target, old)

    # -- running ------------------------------------------------------------------------------

    def run(
        self,
        progress: Progress | None = None,
        should_cancel: Callable[[], bool] | None = None,
        limit: int | None = None,
    ) -> IndexReport:
        """Process runnable jobs until the queue is empty, ``limit`` jobs ran, or cancelled."""
        with contextlib.ExitStack() as models:
            self._run_models = models
            try:
                return self._run(progress, should_cancel, limit)
            finally:
                self._run_models = None
                self._held.clear()

    def _run(
        self,
        progress: Progress | None,
        should_cancel: Callable[[], bool] | None,
        limit: int | None,
    ) -> IndexReport:
        started = time.monotonic()
        report = IndexReport()
        self._prepare_model()
        total = jobs.runnable_count(self.db, JOB_KINDS)
        if limit is not None:
            total = min(total, limit)
        done = 0
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
            if not batch:
                break
            self._run_batch(batch, report)
            done += len(batch)
            total = max(total, done)
            if progress:
                progress(done, total, f"{report.chunks} chunks")
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
        """Chunk every queued note now (keyword-searchable at once); embed them afterwards."""
        chunked = 0
        while not report.cancelled:
            if should_cancel and should_cancel():
                report.cancelled = True
                return
            batch = jobs.claim_note_jobs(self.db, INDEX_JOB, limit=KEYWORD_BATCH)
            if not batch:
                return
            prepared: list[tuple[jobs.Job, list[NewChunk] | None]] = []
            for job in batch:
                item = items.find_item(self.db, job.item_id)
                if item is None or item.deleted:
                    prepared.append((job, None))
                    continue
                body = notes.get_note(self.db, item.id).body
                prepared.append(
                    (job, note_chunks(item.title, body, tags.tags_of(self.db, item.id)))
                )
            with self.db.transaction():
                for job, new_chunks in prepared:
                    if new_chunks is None:
                        chunk_store.delete_item_chunks(self.db, job.item_id)
                    else:
                        report.chunks += len(
                            chunk_store.replace_item_chunks(self.db, job.item_id, new_chunks)
                        )
                        jobs.enqueue(self.db, EMBED_JOB, job.item_id)
                    # an edit that re-queued the job meanwhile keeps it pending: chunked again
                    jobs.complete_if_running(self.db, job.id)
            chunked += len(batch)
            if progress:
                progress(0, total, f"keywords: {chunked} notes")

    def _refresh_vector_cache(self) -> None:
        """Build/update the persisted HNSW graph now (background work), not at the next query."""
        from core.indexing.vector_index import HNSW_THRESHOLD, VectorCache

        model = vector_store.serving_model(self.db)
        if model and vector_store.count_vectors(self.db, model) >= HNSW_THRESHOLD:
            VectorCache(self.db).index(model, "chunk")

    def _run_batch(self, batch: list[jobs.Job], report: IndexReport) -> None:
        work = [self._prepare(job) for job in batch]
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
                report.processed += 1

    # -- per item -----------------------------------------------------------------------------

    def _prepare(self, job: jobs.Job) -> _Work:
        work = _Work(job)
        try:
            item = items.find_item(self.db, job.item_id)
            if item is None or item.deleted:
                work.delete = True
                return work
            if job.kind == EMBED_JOB and item.kind == "note":
                self._prepare_embed(work)
            elif item.kind == "note":
                row = notes.get_note(self.db, item.id)
                work.chunks = note_chunks(item.title, row.body, tags.tags_of(self.db, item.id))
                work.embed_texts = [_embed_text(c, item.title) for c in work.chunks]
            else:
                ocr, tagger = self._photo_models()
                derived = analyze(
                    self.library,
                    item,
                    ocr=ocr,
                    tagger=tagger,
                    text_embedder=self._embedder_or_none(),
                )
                work.photo = derived
                work.chunks = photo_chunks(item.title, derived)
                work.embed_texts = [c.text for c in work.chunks]
        except (SaemError, StorageError, ModelError, OSError, ValueError) as exc:
            work.error = getattr(exc, "user_message", None) or f"{type(exc).__name__}: {exc}"
        return work

    def _prepare_embed(self, work: _Work) -> None:
        model = vector_store.target_model(self.db) or self.embedder.model_id
        missing = chunk_store.chunks_without_vectors(self.db, work.job.item_id, model)
        item = items.get_item(self.db, work.job.item_id)
        work.embed_chunk_ids = [c.id for c in missing]
        work.embed_texts = [
            _embed_text(NewChunk(c.source, c.text, c.start, c.end, c.heading), item.title)
            for c in missing
        ]

    def _embedder_or_none(self) -> TextEmbedder | None:
        try:
            return self.embedder
        except ModelError:
            return None

    def _embed(self, work: list[_Work]) -> None:
        todo = [w for w in work if w.error is None and w.embed_texts]
        if not todo:
            return
        texts = [t for w in todo for t in w.embed_texts]
        try:
            matrix = self.embedder.embed_passages(texts)
        except (ModelError, ValueError, RuntimeError, MemoryError) as exc:
            log.warning("batch embedding failed (%s); retrying item by item", exc)
            for w in todo:
                try:
                    w.vectors = self.embedder.embed_passages(w.embed_texts)
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
        model = self.embedder.model_id
        dim = int(self.embedder.dim)
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
        vector_store.put_vectors(self.db, model, dim, rows)
        report.vectors += len(rows)
