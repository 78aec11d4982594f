"""Catalog downloads against a real HTTP server on 127.0.0.1 serving tiny model files."""

from __future__ import annotations

import contextlib
import hashlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from models import catalog
from models.catalog import CatalogEntry, CatalogFile, fetch_entry
from models.errors import (
    ChecksumMismatchError,
    DownloadError,
    ModelConfigError,
    WrongModelKindError,
)
from tests.fixtures.tiny_models import tiny_llama_gguf


@dataclass
class Served:
    files: dict[str, bytes] = field(default_factory=dict)
    cut_after: int | None = None  # drop the connection after this many bytes, once
    lfs_sha: bool = True  # send the sha256 as X-Linked-Etag like a Git-LFS host
    ranges: list[str] = field(default_factory=list)


def _handler(state: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            data = state.files.get(self.path.lstrip("/"))
            if data is None:
                self.send_error(404)
                return
            start = 0
            rng = self.headers.get("Range")
            if rng:
                state.ranges.append(rng)
                start = int(rng.split("=")[1].split("-")[0])
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(data) - start))
            if state.lfs_sha:
                self.send_header("X-Linked-Etag", f'"{hashlib.sha256(data).hexdigest()}"')
            self.end_headers()
            body = data[start:]
            if state.cut_after is not None:
                self.wfile.write(body[: state.cut_after])
                state.cut_after = None
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            # a client that gives up mid-body (size or hash refused) resets the connection
            with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                self.wfile.write(body)

    return Handler


@pytest.fixture
def server() -> Iterator[tuple[str, Served]]:
    state = Served()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def gguf_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return tiny_llama_gguf(tmp_path_factory.mktemp("cat") / "tiny.gguf").read_bytes()


def _entry(sha: str | None = None, name: str = "tiny.gguf") -> CatalogEntry:
    return CatalogEntry("tiny", "chat", "tiny", (CatalogFile(name, f"http://unused/{name}", sha),),
                        "test", 0)  # fmt: skip


def test_fetch_verifies_and_reports_progress(server, gguf_bytes, tmp_path: Path) -> None:
    url, state = server
    state.files["tiny.gguf"] = gguf_bytes
    seen: list[tuple[int, int]] = []
    sha = hashlib.sha256(gguf_bytes).hexdigest()
    files = fetch_entry(_entry(sha), tmp_path / "dl", base_url=url,
                        progress=lambda d, t, n: seen.append((d, t)))  # fmt: skip
    assert files[0].read_bytes() == gguf_bytes
    assert seen[-1] == (len(gguf_bytes), len(gguf_bytes))
    assert not list((tmp_path / "dl").glob("*.part"))


def test_interrupted_download_resumes_with_range(server, gguf_bytes, tmp_path: Path) -> None:
    url, state = server
    state.files["tiny.gguf"] = gguf_bytes
    state.cut_after = 50_000
    with pytest.raises(DownloadError):
        fetch_entry(_entry(), tmp_path / "dl", base_url=url)
    part = tmp_path / "dl" / "tiny.gguf.part"
    assert part.stat().st_size == 50_000
    files = fetch_entry(_entry(), tmp_path / "dl", base_url=url)  # server's LFS sha256
    assert state.ranges == ["bytes=50000-"]
    assert hashlib.sha256(files[0].read_bytes()).digest() == hashlib.sha256(gguf_bytes).digest()


def test_cancel_keeps_the_part_for_later(server, gguf_bytes, tmp_path: Path) -> None:
    url, state = server
    state.files["tiny.gguf"] = gguf_bytes * 20  # > 1 chunk
    state.lfs_sha = False
    with pytest.raises(catalog.DownloadCancelled):
        fetch_entry(_entry("0" * 64), tmp_path / "dl", base_url=url, should_cancel=lambda: True)
    assert (tmp_path / "dl" / "tiny.gguf.part").exists()


def test_checksum_mismatch_discards(server, gguf_bytes, tmp_path: Path) -> None:
    url, state = server
    state.files["tiny.gguf"] = gguf_bytes
    with pytest.raises(ChecksumMismatchError):
        fetch_entry(_entry("ab" * 32), tmp_path / "dl", base_url=url)
    assert list((tmp_path / "dl").iterdir()) == []


def test_wrong_format_is_refused_even_with_right_checksum(server, tmp_path: Path) -> None:
    url, state = server
    state.files["tiny.gguf"] = b"<html>not found</html>" * 10
    with pytest.raises(WrongModelKindError):
        fetch_entry(_entry(), tmp_path / "dl", base_url=url)
    assert list((tmp_path / "dl").iterdir()) == []


def test_no_checksum_anywhere_is_refused(server, gguf_bytes, tmp_path: Path) -> None:
    url, state = server
    state.files["tiny.gguf"] = gguf_bytes
    state.lfs_sha = False
    with pytest.raises(DownloadError):
        fetch_entry(_entry(), tmp_path / "dl", base_url=url)


def test_offline_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:  # a loopback port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(catalog.OfflineError, match=r"Saem is offline"):
        fetch_entry(_entry(), tmp_path / "dl", base_url=f"http://127.0.0.1:{port}")
    monkeypatch.setenv("SAEM_OFFLINE", "1")
    with pytest.raises(catalog.OfflineError, match=r"offline"):
        fetch_entry(catalog.get_entry("qwen2.5-1.5b"), tmp_path / "dl2")


def test_catalog_lists_well_known_models() -> None:
    assert {"multilingual-e5-small", "clip-vit-b32", "smolvlm-256m", "qwen2.5-1.5b",
            "qwen2.5-3b"} <= set(catalog.CATALOG)  # fmt: skip
    assert catalog.get_entry("smolvlm-256m").task == "vision-chat"
    with pytest.raises(ModelConfigError):
        catalog.get_entry("gpt-17")


def test_manager_fetch_registers(server, gguf_bytes, tmp_path: Path, monkeypatch) -> None:
    from core.library import Library

    url, state = server
    state.files["tiny.gguf"] = gguf_bytes
    monkeypatch.setitem(catalog.CATALOG, "tiny", _entry())
    with Library(tmp_path / "lib") as lib:
        info = lib.models.fetch("tiny", base_url=url)
        assert info.task == "chat" and info.source == "catalog:tiny"
        lib.models.use(info.id)
        assert lib.models.get("chat").count_tokens("hello") > 0
        assert not (lib.store.paths.models / "downloads" / "tiny").exists()
