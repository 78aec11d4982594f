"""What the indexer reports (:class:`IndexReport`, :class:`IndexStatus`), how an item becomes
chunks (:func:`note_chunks`) and embedder input (:func:`embed_text`), and the keyword pass
(:func:`keyword_pass`: every queued note chunked, so findable by its words, before any model)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from core.content.chunking import chunk_markdown
from core.indexing.progressive import (
    EMBED_JOB,
    INDEX_JOB,
    JOB_KINDS,
    UPGRADE_JOB,
    MeaningProgress,
)
from storage import chunks as chunk_store
from storage import items, jobs, notes, tags
from storage import vectors as vector_store
from storage.chunks import NewChunk
from storage.db import Database

KEYWORD_BATCH = 256  # notes chunked per transaction in the keyword pass


@dataclass
class IndexReport:
    processed: int = 0  # index/embed jobs (new and changed content)
    failed: int = 0
    chunks: int = 0
    vectors: int = 0
    seconds: float = 0.0
    cancelled: bool = False
    switched_model: str | None = None
    upgraded: int = 0  # upgrade jobs: items re-embedded with the better model
    errors: list[tuple[str, str]] = field(default_factory=list)  # (item id, message)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class IndexStatus:
    pending: int
    running: int
    done: int
    failed: int
    stage: str  # idle | indexing | upgrading | waiting-retry
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
        ``saem index --status``. Until it is complete, each chunk is searched with the best
        vector it has (:mod:`core.search.meaning`)."""
        if not self.target_model:
            return None
        return (max(0, self.chunks - self.missing_vectors), self.chunks)

    @property
    def meaning(self) -> MeaningProgress:
        done, total = self.upgrade_progress or (self.chunks, self.chunks)
        return MeaningProgress(self.serving_model, self.target_model, done, total)


def embed_text(chunk: NewChunk, title: str) -> str:
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


def keyword_pass(
    db: Database,
    report: IndexReport,
    progress: Callable[[int, int, str], None] | None,
    should_cancel: Callable[[], bool] | None,
    total: int,
) -> None:
    """Chunk every queued note now (keyword-searchable at once); embed them afterwards."""
    chunked = 0
    while not report.cancelled:
        if should_cancel and should_cancel():
            report.cancelled = True
            return
        batch = jobs.claim_note_jobs(db, INDEX_JOB, limit=KEYWORD_BATCH)
        if not batch:
            return
        prepared: list[tuple[jobs.Job, list[NewChunk] | None]] = []
        for job in batch:
            item = items.find_item(db, job.item_id)
            if item is None or item.deleted:
                prepared.append((job, None))
                continue
            body = notes.get_note(db, item.id).body
            prepared.append((job, note_chunks(item.title, body, tags.tags_of(db, item.id))))
        with db.transaction():
            for job, new_chunks in prepared:
                if new_chunks is None:
                    chunk_store.delete_item_chunks(db, job.item_id)
                else:
                    report.chunks += len(
                        chunk_store.replace_item_chunks(db, job.item_id, new_chunks)
                    )
                    jobs.enqueue(db, EMBED_JOB, job.item_id)
                # an edit that re-queued the job meanwhile keeps it pending: chunked again
                jobs.complete_if_running(db, job.id)
        chunked += len(batch)
        if progress:
            progress(0, total, f"keywords: {chunked} notes")


def index_status(db: Database) -> IndexStatus:
    """The queue's counts and stage, and which model serves meaning search / is the target."""
    counts = jobs.counts(db)
    serving = vector_store.serving_model(db)
    target = vector_store.target_model(db)
    # counting chunks without vectors scans the table: only while re-embedding
    missing = vector_store.chunks_missing(db, target) if target else 0
    if jobs.runnable_count(db, JOB_KINDS):
        stage = "indexing" if jobs.ready_count(db) else "waiting-retry"
    elif jobs.runnable_count(db, [UPGRADE_JOB]):
        stage = "upgrading"
    else:
        stage = "idle"
    return IndexStatus(
        counts["pending"],
        counts["running"],
        counts["done"],
        counts["failed"],
        stage,
        chunk_store.count_chunks(db),
        serving,
        target,
        missing,
    )
