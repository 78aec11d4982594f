"""The durable job queue (indexing work). Rows survive restarts and kill -9.

A job that was ``running`` when its process died is simply claimed again: every job is
idempotent (it recomputes derived data for one item and replaces it in one transaction).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    item_id: str
    state: str
    attempts: int
    error: str | None


def enqueue(db: Database, kind: str, item_id: str) -> None:
    """Queue (or re-queue) a job for an item; an already pending job is left as is."""
    now = time.time()
    db.execute(
        "INSERT INTO jobs(kind, item_id, state, attempts, not_before, created_at, updated_at)"
        " VALUES (?, ?, 'pending', 0, 0, ?, ?)"
        " ON CONFLICT(kind, item_id) DO UPDATE SET state = 'pending', attempts = 0,"
        " not_before = 0, error = NULL, updated_at = excluded.updated_at",
        (kind, item_id, now, now),
    )


def claim(db: Database, kinds: list[str] | None = None, limit: int = 32) -> list[Job]:
    """Mark up to ``limit`` runnable jobs as running and return them (one transaction)."""
    now = time.time()
    sql = (
        "SELECT id, kind, item_id, state, attempts, error FROM jobs"
        " WHERE state IN ('pending', 'running') AND not_before <= ?"
    )
    params: list[object] = [now]
    if kinds:
        sql += f" AND kind IN ({', '.join('?' for _ in kinds)})"
        params += kinds
    sql += " ORDER BY id LIMIT ?"
    params.append(limit)
    with db.transaction():
        rows = db.query(sql, params)
        db.executemany(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, updated_at = ?"
            " WHERE id = ?",
            [(now, r[0]) for r in rows],
        )
    return [Job(r[0], r[1], r[2], "running", r[4] + 1, r[5]) for r in rows]


def complete(db: Database, job_id: int) -> None:
    db.execute(
        "UPDATE jobs SET state = 'done', error = NULL, updated_at = ? WHERE id = ?",
        (time.time(), job_id),
    )


def fail(db: Database, job: Job, error: str, *, max_attempts: int = 5) -> None:
    """Record an error; retry later with exponential back-off until ``max_attempts``."""
    now = time.time()
    if job.attempts >= max_attempts:
        db.execute(
            "UPDATE jobs SET state = 'failed', error = ?, updated_at = ? WHERE id = ?",
            (error, now, job.id),
        )
    else:
        delay = min(3600.0, 2.0**job.attempts)
        db.execute(
            "UPDATE jobs SET state = 'pending', error = ?, not_before = ?, updated_at = ?"
            " WHERE id = ?",
            (error, now + delay, now, job.id),
        )


def counts(db: Database) -> dict[str, int]:
    rows = db.query("SELECT state, COUNT(*) FROM jobs GROUP BY state")
    result = {"pending": 0, "running": 0, "done": 0, "failed": 0}
    result.update({r[0]: int(r[1]) for r in rows})
    return result


def failed_jobs(db: Database, limit: int = 50) -> list[Job]:
    rows = db.query(
        "SELECT id, kind, item_id, state, attempts, error FROM jobs WHERE state = 'failed'"
        " ORDER BY updated_at DESC LIMIT ?",
        (limit,),
    )
    return [Job(*r) for r in rows]


def drop_runnable(db: Database, kind: str) -> int:
    """Remove the pending (or interrupted) jobs of ``kind`` (work that is no longer wanted)."""
    return int(
        db.execute(
            "DELETE FROM jobs WHERE kind = ? AND state IN ('pending', 'running')", (kind,)
        ).rowcount
    )


def failed_item_ids(db: Database, kind: str) -> set[str]:
    """Items whose ``kind`` job failed for good (no retries left)."""
    rows = db.query("SELECT item_id FROM jobs WHERE kind = ? AND state = 'failed'", (kind,))
    return {r[0] for r in rows}


def complete_if_running(db: Database, job_id: int) -> bool:
    """Mark a claimed job done unless it was re-queued meanwhile (an edit during indexing).

    Returns False when the job went back to ``pending``: it will run again with the new data.
    """
    cur = db.execute(
        "UPDATE jobs SET state = 'done', error = NULL, updated_at = ? WHERE id = ?"
        " AND state = 'running'",
        (time.time(), job_id),
    )
    return cur.rowcount > 0


def enqueue_many(db: Database, kind: str, item_ids: list[str]) -> None:
    """Queue one job per item (used when the embedding model changes)."""
    for item_id in item_ids:
        enqueue(db, kind, item_id)


def runnable_count(db: Database, kinds: list[str] | None = None) -> int:
    """Jobs that are pending or were left running (by a process that died)."""
    sql = "SELECT COUNT(*) FROM jobs WHERE state IN ('pending', 'running')"
    params: list[object] = []
    if kinds:
        sql += f" AND kind IN ({', '.join('?' for _ in kinds)})"
        params += kinds
    return int(db.scalar(sql, params))


def ready_count(db: Database) -> int:
    """Runnable jobs whose back-off delay is over."""
    return int(
        db.scalar(
            "SELECT COUNT(*) FROM jobs WHERE state IN ('pending', 'running') AND not_before <= ?",
            (time.time(),),
        )
    )


def claim_note_jobs(db: Database, kind: str, limit: int = 256) -> list[Job]:
    """Like :func:`claim`, but only jobs whose item is a note (the fast keyword pass)."""
    now = time.time()
    with db.transaction():
        rows = db.query(
            "SELECT j.id, j.kind, j.item_id, j.state, j.attempts, j.error FROM jobs j"
            " JOIN items i ON i.id = j.item_id WHERE i.kind = 'note' AND j.kind = ?"
            " AND j.state IN ('pending', 'running') AND j.not_before <= ? ORDER BY j.id LIMIT ?",
            (kind, now, limit),
        )
        db.executemany(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, updated_at = ?"
            " WHERE id = ?",
            [(now, r[0]) for r in rows],
        )
    return [Job(r[0], r[1], r[2], "running", r[4] + 1, r[5]) for r in rows]


def runnable_item_ids(db: Database, kinds: list[str]) -> set[str]:
    """Items that still have a pending (or interrupted) job of one of ``kinds``."""
    marks = ", ".join("?" for _ in kinds)
    rows = db.query(
        f"SELECT DISTINCT item_id FROM jobs WHERE state IN ('pending', 'running')"
        f" AND kind IN ({marks})",
        kinds,
    )
    return {r[0] for r in rows}
