"""kill -9 of real `saem` subprocesses during sync: restart resumes, converges, loses nothing
that was acknowledged."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core.library import Library
from core.peers.service import SyncService
from storage import crdt_log
from sync.client import run_peer
from sync.errors import SyncError
from tests.sync.conftest import REPO, ServeProcess, library_state, paired_libraries, wait_until


def _fill(lib: Library, count: int) -> None:
    with lib.db.transaction():  # one commit for the whole fixture
        for i in range(count):
            lib.notes.create(
                f"# 노트 {i}\n\n" + "가나다라 마바사 hello world " * 40 + f"\n#t{i % 9}\n"
            )


def _logged(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path / 'library.db'}?mode=ro", uri=True, timeout=10)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM crdt_updates").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def _sync_now_cmd(library: Path, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "desktop",
        "--library",
        str(library),
        "sync",
        "now",
        f"127.0.0.1:{port}",
    ]


def _kill_receiver_mid_sync(tmp_path: Path, notes: int, serve_processes: list) -> None:
    a, b = paired_libraries(tmp_path, ["a", "b"])
    _fill(a, notes)
    total = crdt_log.update_count(a.db)
    b.close()
    server = ServeProcess(tmp_path / "a").start()
    serve_processes.append(server)

    killed_at = None
    for _attempt in range(5):
        proc = subprocess.Popen(
            _sync_now_cmd(tmp_path / "b", server.port),
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_until(
            lambda p=proc: _logged(tmp_path / "b") > 0 or p.poll() is not None,
            timeout=60,
            every=0.002,
        )
        proc.kill()  # SIGKILL
        proc.wait(10)
        killed_at = _logged(tmp_path / "b")
        if 0 < killed_at < total:
            break  # killed in the middle of the transfer, as intended
    assert killed_at is not None and killed_at < total, "sync finished before the kill"

    # the receiver's library is intact, and the next round resumes and completes
    done = subprocess.run(
        _sync_now_cmd(tmp_path / "b", server.port),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    server.stop()
    with Library(tmp_path / "b") as b2:
        assert b2.db.integrity_check() == ["ok"]
        assert library_state(b2) == library_state(a)
        assert len(b2.list_items("note", limit=100_000)) == notes
    a.close()


def test_kill9_receiver_during_large_sync_then_resume(tmp_path, serve_processes):
    _kill_receiver_mid_sync(tmp_path, 800, serve_processes)


@pytest.mark.slow
def test_kill9_receiver_during_very_large_sync_then_resume(tmp_path, serve_processes):
    _kill_receiver_mid_sync(tmp_path, 2500, serve_processes)


def _round(service: SyncService, port: int) -> bool:
    try:
        report = asyncio.run(run_peer(service, service.identity, "127.0.0.1", port, timeout=20))
    except SyncError:
        return False
    return report.error is None


def _acked_updates_present(sender: SyncService, receiver_path: Path, receiver_id: str) -> None:
    """Every update the receiver acknowledged (FLUSHED) is in its log after kill -9 + restart."""
    peer = next(p for p in sender.devices() if p.device_id == receiver_id)
    acked = int(peer.state.get("acked_upto", 0))
    assert acked > 0
    with Library(receiver_path) as lib:
        for change in crdt_log.updates_since(sender.db, 0, 1_000_000):
            if change.id > acked or change.origin == f"peer:{receiver_id}":
                continue
            doc = lib.docs.get(change.doc_id).doc
            before = doc.get_update()
            doc.apply_update(change.data)
            assert doc.get_update() == before, f"acknowledged update {change.id} was lost"


def test_kill9_serving_peer_during_concurrent_edits(tmp_path, serve_processes):
    a, b, c = paired_libraries(tmp_path, ["a", "b", "c"])
    shared = a.notes.create("# 공유 노트\n\nstart\n")
    sa_id = SyncService(a).device_id
    a.close()
    sb, sc = SyncService(b), SyncService(c)
    server = ServeProcess(tmp_path / "a").start()
    serve_processes.append(server)
    port = server.port
    rng = random.Random(5)
    kills = 0
    for step in range(14):
        for lib in (b, c):
            if lib.list_items("note", limit=1000):
                body = lib.notes.get(shared).body
                pos = rng.randint(0, len(body))
                lib.notes.edit(
                    shared, body[:pos] + rng.choice(["가", "나", "x", "y "]) + body[pos:]
                )
            lib.notes.create(f"# step {step} {lib.root.name}\n\n#k{step % 3}\n")
        if step % 4 == 3:  # kill -9 the server in the middle of the next rounds
            timer = threading.Timer(rng.uniform(0.0, 0.05), server.kill9)
            timer.start()
            _round(sb, port)
            _round(sc, port)
            timer.join()
            kills += 1
            server = ServeProcess(tmp_path / "a").start(port=port)
            serve_processes.append(server)
        else:
            _round(sb, port)
            _round(sc, port)
    assert kills >= 3
    for _ in range(2):
        assert _round(sb, port) and _round(sc, port)
    server.stop()
    _acked_updates_present(sb, tmp_path / "a", sa_id)
    _acked_updates_present(sc, tmp_path / "a", sa_id)
    with Library(tmp_path / "a") as a2:
        assert a2.db.integrity_check() == ["ok"]
        assert library_state(a2) == library_state(b) == library_state(c)
    titles = {i.title for i in b.list_items("note", limit=1000)}
    assert {f"step {s} {n}" for s in range(14) for n in ("b", "c")} <= titles
