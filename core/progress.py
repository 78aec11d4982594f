"""Progress and cancellation callbacks shared by long-running core services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class ProgressCallback(Protocol):
    def __call__(self, done: int, total: int, note: str = "") -> None: ...


CancelCheck = Callable[[], bool]


def no_progress(done: int, total: int, note: str = "") -> None:
    """The default progress callback: report nothing."""


def never_cancel() -> bool:
    return False
