"""The stock Yjs server from npm (``@y/websocket-server`` with its LevelDB persistence,
installed by ``npm ci`` in tests/sync/js) as a subprocess on 127.0.0.1, for relay tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.sync.conftest import JS_DIR

SERVER_JS = JS_DIR / "node_modules" / "@y" / "websocket-server" / "src" / "server.js"


def relay_server_available() -> bool:
    return SERVER_JS.is_file() and (JS_DIR / "node_modules" / "y-leveldb").is_dir()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RelayServer:
    """`y-websocket` server (npm @y/websocket-server) persisting rooms in ``db`` (LevelDB)."""

    db: Path
    port: int = 0
    proc: subprocess.Popen[str] | None = None
    log: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/saem"

    def start(self) -> RelayServer:
        self.port = self.port or free_port()
        env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(self.port)}
        env["YPERSISTENCE"] = str(self.db)
        self.proc = subprocess.Popen(
            ["node", str(SERVER_JS)],
            cwd=JS_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log.append(line)
            if "running at" in line:
                break
        else:
            raise AssertionError(f"relay server did not start: {self.log}")
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log.append(line)

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def settle(self, quiet: float = 0.5, timeout: float = 20.0) -> None:
        """Wait until the server's files stop changing: the stock server writes an update to
        LevelDB a moment after it applied it (and says nothing when it is done)."""
        deadline = time.monotonic() + timeout
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            size = self.stored_size()
            if size != last:
                last, since = size, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop after the server's writes settled (SIGTERM: the stock server has no
        graceful shutdown, so this is as abrupt as kill -9 for what is not yet written)."""
        self.settle()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def stored_bytes(self) -> bytes:
        """Every byte the server keeps on disk."""
        return b"".join(p.read_bytes() for p in sorted(self.db.rglob("*")) if p.is_file())

    def stored_size(self) -> int:
        return sum(p.stat().st_size for p in self.db.rglob("*") if p.is_file())
