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
    "AnswerFailedError",
    "AssistantError",
    "AssistantModelError",
    "BadInputError",
    "CancelledError",
    "ContextTooSmallError",
    "FrontMatterError",
    "ModelError",
    "NotFoundError",
    "SaemError",
    "StorageError",
    "SyncError",
    "VectorDimensionError",
    "user_message",
]
