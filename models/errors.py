"""Typed model errors, each with a sentence a user can read."""

from __future__ import annotations


class ModelError(Exception):
    """Base class of every error raised by the model layer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.user_message = message
