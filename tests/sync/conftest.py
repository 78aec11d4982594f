"""Sync test helpers: libraries paired with each other, `saem sync serve` as a real subprocess."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
JS_DIR = Path(__file__).resolve().parent / "js"


def wait_until(check: Callable[[], object], timeout: float = 20.0, every: float = 0.05) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(every)


@dataclass
class ServeProcess:
    """`saem --library PATH sync serve` on 127.0.0.1 (ports chosen by the OS)."""

    library: Path
    local: bool = False
    proc: subprocess.Popen[str] | None = None
    port: int = 0
    local_port: int = 0
    log: list[str] = field(default_factory=list)

    def start(self, port: int = 0) -> ServeProcess:
        cmd = [
            sys.executable,
            "-m",
            "desktop",
            "--library",
            str(self.library),
            "sync",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-discovery",
        ]
        if self.local:
            cmd += ["--local-port", "0"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True, stdout=subprocess.DEVNULL
        )
        assert self.proc.stderr is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                raise AssertionError(f"serve exited: {self.log}")
            self.log.append(line)
            if m := re.search(r"Serving \S+ on [\d.]+:(\d+)", line):
                self.port = int(m.group(1))
                if not self.local:
                    break
            if m := re.search(r"ws://127\.0\.0\.1:(\d+)/", line):
                self.local_port = int(m.group(1))
                break
        assert self.port, self.log
        # keep draining stderr so a chatty server never blocks on a full pipe
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill9()


@pytest.fixture
def serve_processes() -> Iterator[list[ServeProcess]]:
    started: list[ServeProcess] = []
    yield started
    for proc in started:
        proc.kill9()


def paired_libraries(root: Path, names: list[str]) -> list[object]:
    """Open one library per name and pair every library with every other one."""
    from core.library import Library
    from core.peers.service import SyncService

    libs = [Library(root / n) for n in names]
    services = [SyncService(lib) for lib in libs]
    for i, service in enumerate(services):
        for j, other in enumerate(services):
            if i != j:
                service.pair(other.device_id, name=names[j])
    return libs


def library_state(lib: object) -> dict[str, object]:
    """What must be identical on every replica (no timestamps, no derived data)."""
    db = lib.db  # type: ignore[attr-defined]
    return {
        "items": [
            tuple(r)
            for r in db.query("SELECT id, kind, title, deleted, created_at FROM items ORDER BY id")
        ],
        "notes": [tuple(r) for r in db.query("SELECT item_id, body FROM notes ORDER BY item_id")],
        "tags": [
            tuple(r)
            for r in db.query("SELECT item_id, tag, source FROM tags ORDER BY item_id, tag")
        ],
        "links": [
            tuple(r)
            for r in db.query(
                "SELECT src_item_id, ord, kind, target, dst_item_id FROM links"
                " ORDER BY src_item_id, ord"
            )
        ],
        "photos": [
            tuple(r)
            for r in db.query("SELECT item_id, sha256, size, caption FROM photos ORDER BY item_id")
        ],
    }


def node_available() -> bool:
    return (JS_DIR / "node_modules" / "y-websocket").is_dir() and bool(
        subprocess.run(["node", "--version"], capture_output=True).returncode == 0
    )


async def until(check: Callable[[], object], timeout: float = 20.0) -> None:
    """Await (on the running event loop) until ``check()`` is true; fail after ``timeout``."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def expect_unpaired_refusal(stranger: object, port: int) -> object:
    """``stranger`` (a SyncService the server never paired) dials 127.0.0.1:``port`` twice:
    through ``run_peer`` (a typed error) and raw (HTTP 403 instead of the WebSocket
    upgrade, so no frame is ever sent). Returns the raw 403 response."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    from sync.client import run_peer
    from sync.errors import UnpairedDeviceError
    from sync.tls import client_context

    identity = stranger.identity  # type: ignore[attr-defined]
    with pytest.raises(UnpairedDeviceError):
        await run_peer(stranger, identity, "127.0.0.1", port, timeout=10)  # type: ignore[arg-type]
    with pytest.raises(InvalidStatus) as refused:
        await connect(f"wss://127.0.0.1:{port}/peer", ssl=client_context(identity), proxy=None)
    assert refused.value.response.status_code == 403
    return refused.value.response
