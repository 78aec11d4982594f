"""Well-known models the user may download — only when online and only when asked.

Downloads go to a folder as ``NAME.part`` files and resume with an HTTP ``Range`` request
after an interruption or a cancel. A finished file must pass its checksum (the sha256 pinned
here, or the sha256 the server states for a Git-LFS file in its ``X-Linked-Etag``/``ETag``
header) and a format check (GGUF header and tensor table, ONNX graph, JSON tokenizer) before
it is renamed into place. Without a network the error says plainly that Saem is offline.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.errors import (
    ChecksumMismatchError,
    DownloadCancelled,
    DownloadError,
    ModelConfigError,
    ModelError,
    ModelFileCorruptError,
    OfflineError,
)

Progress = Callable[[int, int, str], None]
CancelCheck = Callable[[], bool]
CHUNK = 1 << 20
TIMEOUT = 30
_SHA_RE = re.compile(r'^(?:W/)?"?([0-9a-f]{64})"?$')
HF = "https://huggingface.co"


@dataclass(frozen=True)
class CatalogFile:
    name: str  # file name on disk
    url: str
    sha256: str | None = None  # None: use the server's LFS sha256 (and record it)


@dataclass(frozen=True)
class CatalogEntry:
    key: str
    task: str
    name: str
    files: tuple[CatalogFile, ...]
    licence: str
    size: int  # approximate total bytes, for display
    meta: dict[str, Any] = field(default_factory=dict)


def _hf(repo: str, path: str, name: str | None = None) -> CatalogFile:
    return CatalogFile(name or path.rsplit("/", 1)[-1], f"{HF}/{repo}/resolve/main/{path}")


CATALOG: dict[str, CatalogEntry] = {
    e.key: e
    for e in (
        CatalogEntry(
            "multilingual-e5-small", "text-embedding", "multilingual-e5-small (ONNX int8)",
            (_hf("Xenova/multilingual-e5-small", "onnx/model_quantized.onnx", "e5-small.onnx"),
             _hf("Xenova/multilingual-e5-small", "tokenizer.json")),
            "MIT", 130_000_000,
            {"pooling": "mean", "query_prefix": "query: ", "passage_prefix": "passage: "},
        ),
        CatalogEntry(
            "clip-vit-b32", "clip", "CLIP ViT-B/32 (ONNX int8)",
            (_hf("Xenova/clip-vit-base-patch32", "onnx/vision_model_quantized.onnx",
                 "clip-image.onnx"),
             _hf("Xenova/clip-vit-base-patch32", "onnx/text_model_quantized.onnx",
                 "clip-text.onnx"),
             _hf("Xenova/clip-vit-base-patch32", "tokenizer.json")),
            "MIT", 155_000_000, {"image_size": 224},
        ),
        CatalogEntry(
            "smolvlm-256m", "vision-chat", "SmolVLM 256M Instruct (GGUF Q8_0 + mmproj)",
            (_hf("ggml-org/SmolVLM-256M-Instruct-GGUF", "SmolVLM-256M-Instruct-Q8_0.gguf"),
             _hf("ggml-org/SmolVLM-256M-Instruct-GGUF",
                 "mmproj-SmolVLM-256M-Instruct-Q8_0.gguf")),
            "Apache-2.0", 280_000_000,
        ),
        CatalogEntry(
            "qwen2.5-1.5b", "chat", "Qwen2.5 1.5B Instruct (GGUF Q4_K_M)",
            (_hf("Qwen/Qwen2.5-1.5B-Instruct-GGUF", "qwen2.5-1.5b-instruct-q4_k_m.gguf"),),
            "Apache-2.0", 1_120_000_000,
        ),
        CatalogEntry(
            "qwen2.5-3b", "chat", "Qwen2.5 3B Instruct (GGUF Q4_K_M)",
            (_hf("Qwen/Qwen2.5-3B-Instruct-GGUF", "qwen2.5-3b-instruct-q4_k_m.gguf"),),
            "Qwen Research licence", 2_100_000_000,
        ),
    )
}  # fmt: skip


def get_entry(key: str) -> CatalogEntry:
    entry = CATALOG.get(key)
    if entry is None:
        raise ModelConfigError(f"No catalog model named {key!r}; known: {', '.join(CATALOG)}.")
    return entry


def _url_for(file: CatalogFile, base_url: str | None) -> str:
    url = f"{base_url.rstrip('/')}/{file.name}" if base_url else file.url
    if urllib.parse.urlparse(url).scheme not in ("http", "https"):
        raise DownloadError(f"Refusing to fetch {url}: only http(s) URLs are allowed.")
    return url


def _offline(url: str, exc: BaseException) -> OfflineError:
    host = urllib.parse.urlparse(url).netloc
    return OfflineError(
        f"Saem is offline: cannot reach {host} ({getattr(exc, 'reason', exc)}). Fetching models "
        "needs a network connection; nothing was changed and a partial download resumes later."
    )


def _server_sha(headers: Any) -> str | None:
    for name in ("X-Linked-Etag", "ETag"):
        value = headers.get(name)
        if value and (m := _SHA_RE.match(value.strip())):
            return m.group(1)
    return None


def _download(
    url: str, part: Path, progress: Progress | None, should_cancel: CancelCheck | None,
    done_before: int, total_before: int,
) -> tuple[str | None, int]:  # fmt: skip
    """Append the rest of ``url`` to ``part``; returns (server sha256, total size)."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "saem"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # already complete
            return _server_sha(exc.headers), have
        raise DownloadError(f"Download of {url} failed: HTTP {exc.code} {exc.reason}.") from exc
    except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
        raise _offline(url, exc) from exc
    with response:
        sha = _server_sha(response.headers)
        if response.status == 206:
            mode = "ab"
            rng = response.headers.get("Content-Range", "")
            total = int(rng.rsplit("/", 1)[-1]) if "/" in rng and not rng.endswith("*") else 0
        else:  # the server ignored the range: start over
            mode, have = "wb", 0
            total = int(response.headers.get("Content-Length") or 0)
        done = have
        try:
            with part.open(mode) as out:
                while True:
                    if should_cancel is not None and should_cancel():
                        raise DownloadCancelled(
                            f"Download of {part.name.removesuffix('.part')} cancelled; "
                            "fetch again to resume."
                        )
                    chunk = response.read(CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done_before + done, total_before + total, part.name[:-5])
        except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
            raise _offline(url, exc) from exc
    if total and done < total:
        raise DownloadError(
            f"Download of {url} stopped at {done:,} of {total:,} bytes; fetch again to resume."
        )
    return sha, done


def verify_format(path: Path, name: str | None = None) -> None:
    """Refuse a downloaded file that is not what its name (default: its own) says."""
    from models.validate import check_onnx, read_gguf

    suffix = Path(name or path.name).suffix.lower()
    if suffix == ".gguf":
        read_gguf(path)
    elif suffix == ".onnx":
        check_onnx(path)
    elif suffix == ".json":
        try:
            json.loads(path.read_text("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ModelFileCorruptError(f"{path} is not valid JSON ({exc}).") from exc


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_entry(
    entry: CatalogEntry,
    folder: Path,
    *,
    base_url: str | None = None,
    progress: Progress | None = None,
    should_cancel: CancelCheck | None = None,
) -> list[Path]:
    """Download (or resume) every file of ``entry`` into ``folder``; returns the verified files."""
    if os.environ.get("SAEM_OFFLINE"):
        raise OfflineError("Saem is offline (SAEM_OFFLINE is set); fetching models needs a "
                           "network connection.")  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []
    done_total = 0
    for file in entry.files:
        target = folder / file.name
        url = _url_for(file, base_url)
        if target.is_file():  # verified on an earlier run
            out.append(target)
            done_total += target.stat().st_size
            continue
        part = folder / (file.name + ".part")
        server_sha, size = _download(url, part, progress, should_cancel, done_total, 0)
        done_total += size
        expected = file.sha256 or server_sha
        if expected is None:
            with contextlib.suppress(OSError):
                part.unlink()
            raise DownloadError(
                f"{url} has no checksum to verify against (none pinned, none from the server); "
                "download it yourself and add it with `saem models add`."
            )
        actual = _sha256(part)
        if actual != expected:
            part.unlink()
            raise ChecksumMismatchError(
                f"{file.name} failed its checksum: sha256 {actual[:16]}… is not the expected "
                f"{expected[:16]}…; the download was discarded."
            )
        try:
            verify_format(part, file.name)
        except ModelError:
            part.unlink()
            raise
        os.replace(part, target)
        out.append(target)
    return out
