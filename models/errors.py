"""Typed model errors, each with a sentence a user can read.

Callers (the model manager, the presenters, the tests) tell failures apart by class, never by
the text: a missing file is :class:`ModelFileMissingError`, a damaged one
:class:`ModelFileCorruptError`, a file of another kind :class:`WrongModelKindError`, and so on.
Every class keeps the readable sentence in ``user_message``.
"""

from __future__ import annotations


class ModelError(Exception):
    """Base class of every error raised by the model layer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.user_message = message


class ModelFileMissingError(ModelError):
    """A model file (or a folder of one) that was named does not exist."""


class ModelFileCorruptError(ModelError):
    """A model file exists but is truncated, damaged or cannot be loaded by its runtime."""


class ChecksumMismatchError(ModelFileCorruptError):
    """A file's sha256 (or assembled size) does not match the pinned value."""


class WrongModelKindError(ModelError):
    """A readable model file is of another kind than the one asked for (e.g. a projector
    given as a chat model, an encoder given as an LLM), or the files do not form one model."""


class UnsupportedModelError(ModelError):
    """A model of a kind or format version Saem does not run (yet)."""


class ModelNotInstalledError(ModelError):
    """A packaged model, an optional runtime package or a system tool is not installed, or no
    model is installed for a task."""


class ModelConfigError(ModelError):
    """A setting names something that does not exist: a runtime, task, device, catalog key or
    layer count."""


class ContextOverflowError(ModelError):
    """The prompt does not fit in the model's context window."""


class ModelOutOfMemoryError(ModelError):
    """The model does not fit in the memory available now."""


class ModelInputError(ModelError):
    """The input given to a model cannot be used (an unreadable image, no messages, ...)."""


class InferenceError(ModelError):
    """A loaded model failed while running on valid input."""


class ModelClosedError(InferenceError):
    """A model was used after it was closed."""


class ModelWriteError(ModelError):
    """A model file could not be written (disk full, permissions)."""


class ConversionError(ModelError):
    """Converting or quantizing a checkpoint failed."""


class DownloadError(ModelError):
    """A model download failed (HTTP error, incomplete, nothing to verify against)."""


class OfflineError(DownloadError):
    """The download source cannot be reached (no network or the host is down)."""


class DownloadCancelled(ModelError):
    """The user cancelled a download; the partial file is kept to resume."""
