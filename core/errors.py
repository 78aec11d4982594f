"""Errors the user sees. Every layer raises its own typed errors with a readable sentence;
the GUI and the CLI each have one place that shows any of :data:`USER_ERRORS`.
"""

from __future__ import annotations

from models.errors import ModelError
from storage.errors import NotFoundError, StorageError
from sync.errors import SyncError


class SaemError(Exception):
    """Base class of errors raised by core services."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.user_message = message


class BadInputError(SaemError):
    """A file, query or value the user gave cannot be used (nothing was changed)."""


class EmptyInputError(BadInputError):
    """A question, query, file or dataset that is empty."""


class InputTooLargeError(BadInputError):
    """A note, file, image, question, message or query over its size limit."""


class UnreadableFileError(BadInputError):
    """A file that cannot be read or decoded (not an image, corrupt, truncated, not UTF-8)."""


class MalformedInputError(BadInputError):
    """Text whose content is malformed: a bad date, a line without tabs, NUL bytes, ..."""


class UnknownNameError(BadInputError):
    """A name that is not one of the known ones: a search method, filter, place, role,
    device, task or model id."""


class BadPathError(BadInputError):
    """A path that does not exist, is not a folder, or a target folder that is not empty or
    cannot be created."""


class AlreadyExistsError(BadInputError):
    """The thing to add is already there (a model file registered before)."""


class CancelledError(SaemError):
    """Long work stopped because the user asked; what finished is kept."""


class FrontMatterError(BadInputError, ValueError):
    """A note's YAML front matter cannot be parsed (raised by ``parse_note(strict=True)``)."""


class AssistantError(SaemError):
    """The assistant could not answer; the chat is exactly as before."""


class AssistantModelError(AssistantError):
    """No chat (or vision) model can be loaded for the assistant."""


class ContextTooSmallError(AssistantError):
    """The question and the facts it needs do not fit in the model's context."""


class AnswerFailedError(AssistantError):
    """The model failed while answering."""


class VectorDimensionError(SaemError):
    """Vectors of a different length than the index holds (the embedder changed)."""


USER_ERRORS: tuple[type[Exception], ...] = (SaemError, StorageError, ModelError, SyncError)


def user_message(exc: BaseException) -> str:
    """The one sentence shown for an error."""
    message = getattr(exc, "user_message", None)
    return str(message) if message else f"Unexpected error: {exc.__class__.__name__}: {exc}"


__all__ = [
    "USER_ERRORS",
    "AlreadyExistsError",
    "AnswerFailedError",
    "AssistantError",
    "AssistantModelError",
    "BadInputError",
    "BadPathError",
    "CancelledError",
    "ContextTooSmallError",
    "EmptyInputError",
    "FrontMatterError",
    "InputTooLargeError",
    "MalformedInputError",
    "ModelError",
    "NotFoundError",
    "SaemError",
    "StorageError",
    "SyncError",
    "UnknownNameError",
    "UnreadableFileError",
    "VectorDimensionError",
    "user_message",
]
