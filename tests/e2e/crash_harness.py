"""A kill -9 crash harness: fork a real worker, SIGKILL it at a random point, check the library.

Volume needs cheap workers: the test process (a *zygote*) has imported everything once, and
each cycle ``os.fork()``s a child that opens its OWN :class:`Library` (no SQLite connection
is open in the parent at fork time) and does real work on real files: import a vault, run
the indexer, edit notes, or sync with a peer over loopback TLS. The child reports records on
a pipe, each written only after the thing it reports happened:

- ``begin`` / ``commit``: an outermost SQLite transaction started / its COMMIT returned
  (:func:`tap_commits`), so the parent knows whether the kill landed inside a transaction;
- scenario records (``ack …``): writes the child saw committed — they must survive;
- ``done``: the worker finished before the kill (the kill did not land mid-operation).

The parent waits for a random number of records of a chosen kind, sleeps a random delay,
SIGKILLs the child, reaps it, drains the pipe (what the child wrote before dying is still
there), and the scenario checks the library. :class:`CrashReport` counts what happened.

A :class:`Scenario` (``crash_scenarios``, ``crash_sync``) prepares real data on disk and
defines the worker, where kills land, what to check after each kill, and how a round ends:
when a worker happens to finish, the scenario checks the finished state (the resumed work
is complete) and starts a new round of work.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.library import Library
from storage import maintenance

WORKER_TIMEOUT = 120.0


class Emitter:
    """Line records to the parent over a pipe (unbuffered ``os.write``: nothing is lost)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __call__(self, *parts: object) -> None:
        data = (" ".join(str(p) for p in parts) + "\n").encode()
        while data:
            data = data[os.write(self.fd, data) :]


def tap_commits(db: Any, emit: Emitter, after_commit: Callable[[], None] | None = None) -> None:
    """Make ``db.transaction()`` report ``begin``/``commit`` for outermost transactions.

    Instrumentation in the worker only (an instance attribute shadows the method): the
    statements, savepoints and commit are still the library's own. ``after_commit`` runs
    after COMMIT returned (before the ``commit`` record), e.g. to report what it made durable.
    """
    original = db.transaction

    @contextmanager
    def transaction() -> Iterator[Any]:
        outer = not db.in_transaction
        with original() as conn:
            if outer:
                emit("begin")
            yield conn
        if outer:
            if after_commit is not None:
                after_commit()
            emit("commit")

    db.transaction = transaction


@dataclass
class WorkerRun:
    """What one forked worker reported before it finished or was killed."""

    records: list[list[str]]
    finished: bool  # wrote "done": the work was complete before the kill
    killed: bool  # SIGKILL reached a live worker
    in_transaction: bool  # the last transaction marker was "begin" (no "commit" after it)
    commits: int

    def of(self, kind: str) -> list[list[str]]:
        return [r[1:] for r in self.records if r and r[0] == kind]

    def acked(self, kind: str) -> list[list[str]]:
        """``kind`` records followed by a commit marker (their transaction has committed)."""
        out: list[list[str]] = []
        pending: list[list[str]] = []
        for record in self.records:
            if record[0] == kind:
                pending.append(record[1:])
            elif record[0] == "commit":
                out += pending
                pending = []
        return out


@dataclass
class KillPlan:
    """Where the kill lands: after ``after`` records of kind ``on`` (or, with ``value``, once a
    record of kind ``on`` carries a number >= ``value``), plus ``delay`` seconds."""

    on: str
    after: int
    delay: float
    value: int = 0

    def reached(self, records: list[list[str]]) -> bool:
        if self.value:
            return any(r[0] == self.on and int(r[1]) >= self.value for r in records)
        return sum(r[0] == self.on for r in records) >= self.after


def run_worker(work: Callable[[Emitter], None], plan: KillPlan) -> WorkerRun:
    """Fork a worker running ``work(emit)``; SIGKILL it as ``plan`` says; return its records."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: never returns into pytest
        os.close(read_fd)
        emit = Emitter(write_fd)
        code = 0
        try:
            work(emit)
            emit("done")
        except BaseException:  # noqa: BLE001 - reported to the parent, which fails the test
            for line in traceback.format_exc().splitlines():
                emit("error", line)
            code = 1
        os._exit(code)
    os.close(write_fd)
    buffer = b""
    records: list[list[str]] = []
    eof = False

    def pump(timeout: float) -> None:
        nonlocal buffer, eof
        ready, _, _ = select.select([read_fd], [], [], max(0.0, timeout))
        if not ready:
            return
        chunk = os.read(read_fd, 65536)
        if not chunk:
            eof = True
            return
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        records.extend(line.decode().split(" ") for line in lines)

    deadline = time.monotonic() + WORKER_TIMEOUT
    try:
        while not eof and not plan.reached(records):
            if time.monotonic() > deadline:
                raise AssertionError(f"worker stuck: {records[-5:]}")
            pump(deadline - time.monotonic())
        until = time.monotonic() + plan.delay
        while not eof and time.monotonic() < until:
            pump(until - time.monotonic())
        killed = False
        if not eof:
            try:
                os.kill(pid, signal.SIGKILL)
                killed = True
            except ProcessLookupError:
                pass
        _, status = os.waitpid(pid, 0)
        while not eof:
            pump(5.0)
    except BaseException:
        with _suppress_lookup():
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        raise
    finally:
        os.close(read_fd)
    errors = [" ".join(r[1:]) for r in records if r[0] == "error"]
    if errors:
        raise AssertionError("the worker failed:\n" + "\n".join(errors))
    killed = killed and os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    markers = [r[0] for r in records if r[0] in ("begin", "commit")]
    return WorkerRun(
        records,
        finished=any(r[0] == "done" for r in records),
        killed=killed,
        in_transaction=bool(markers) and markers[-1] == "begin",
        commits=markers.count("commit"),
    )


@contextmanager
def _suppress_lookup() -> Iterator[None]:
    try:
        yield
    except (ProcessLookupError, ChildProcessError):
        pass


@dataclass
class CrashReport:
    """Counts for one scenario (printed, and appended to ``$SAEM_CRASH_REPORT`` as JSON)."""

    scenario: str
    runs: int = 0  # workers started
    kills: int = 0  # SIGKILLs that reached a live worker
    mid_operation: int = 0  # ... before the worker had finished its work
    in_transaction: int = 0  # ... between BEGIN and the return of COMMIT
    before_first_commit: int = 0  # ... before the worker committed anything
    finished_first: int = 0  # workers that finished before the kill (complete runs)
    acked_checked: int = 0  # acknowledged writes verified present after a kill
    libraries_checked: int = 0  # integrity + foreign keys + rows == CRDT log + blobs
    resumes_checked: int = 0  # interrupted work verified complete after a resume
    seconds: float = 0.0
    notes: dict[str, int] = field(default_factory=dict)

    def count(self, run: WorkerRun) -> None:
        self.runs += 1
        if run.killed:
            self.kills += 1
            self.mid_operation += not run.finished
            self.in_transaction += run.in_transaction
            self.before_first_commit += run.commits == 0
        if run.finished:
            self.finished_first += 1

    @property
    def mid_fraction(self) -> float:
        """Of all workers started, the share that a kill interrupted mid-operation (the
        others finished their work first: they end a round and check the resumed result)."""
        return self.mid_operation / self.runs if self.runs else 0.0

    @property
    def kills_mid_fraction(self) -> float:
        """Of the kills, the share that landed before the worker had finished."""
        return self.mid_operation / self.kills if self.kills else 0.0

    def publish(self) -> None:
        line = json.dumps(
            {
                **asdict(self),
                "mid_fraction": round(self.mid_fraction, 3),
                "kills_mid_fraction": round(self.kills_mid_fraction, 3),
            }
        )
        print(f"crash report: {line}")
        target = os.environ.get("SAEM_CRASH_REPORT")
        if target:
            with open(target, "a", encoding="utf-8") as out:
                out.write(line + "\n")


def check_library(path: Path, report: CrashReport) -> None:
    """The library opens and is whole: integrity, foreign keys, every item has its row, every
    live note's row equals the replay of its CRDT log, every photo blob matches its hash."""
    with Library(path) as lib:
        check_open_library(lib)
    report.libraries_checked += 1


def check_open_library(lib: Library, *, blobs_may_lag: bool = False) -> None:
    """See :func:`check_library`. ``blobs_may_lag``: a replica mid-sync has photo rows whose
    blob has not arrived yet; the blobs it has must still be whole."""
    integrity = lib.db.integrity_check()
    assert integrity == ["ok"], f"integrity_check: {integrity[:5]}"
    broken = maintenance.foreign_key_problems(lib.db)
    assert not broken, f"foreign keys: {broken[:5]}"
    partial = maintenance.items_without_rows(lib.db)
    assert not partial, f"items without their note/photo row: {partial[:5]}"
    for note_id, body in maintenance.live_note_bodies(lib.db):
        assert lib.docs.note(note_id).text == body, f"note {note_id}: row != CRDT log"
    for sha in maintenance.photo_hashes(lib.db):
        if blobs_may_lag and not lib.store.blobs.has(sha):
            continue
        assert lib.store.blobs.verify(sha), f"photo blob {sha[:12]} missing or corrupt"


def kill_plans(
    rng: random.Random, *, on: str, most: int, delay: float, transactions: int
) -> KillPlan:
    """A random kill point: 10% very early (maybe before the library is open), 20% right
    after the k-th of about ``transactions`` transactions began (inside it), else after a
    random number (1..``most``) of ``on`` records plus up to ``delay`` seconds."""
    roll = rng.random()
    if roll < 0.10:
        return KillPlan("begin", 0, rng.uniform(0.0, 0.03))
    if roll < 0.30:
        return KillPlan("begin", rng.randint(1, transactions), rng.uniform(0.0, 0.002))
    return KillPlan(on, rng.randint(1, most), rng.uniform(0.0, delay))


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
        finished worker wrote), so that a few kill plans let a worker finish (ending a
        round of work) and most kills land mid-operation."""
        return max(1, int(max(guess, self.full_run.get(kind, 0)) * 1.05) + 1)


def run_scenario(scenario: Scenario, kills: int) -> CrashReport:
    report = CrashReport(scenario.name)
    # forking copies only this thread: other threads (left by earlier tests) must not hold
    # locks the worker needs; the count is reported so a hang can be traced to them
    report.notes["other_threads_at_fork"] = threading.active_count() - 1
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
