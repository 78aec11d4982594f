"""Shared CLI plumbing: the library option, the one error presenter, progress bars."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click

from core.errors import USER_ERRORS, user_message

if TYPE_CHECKING:
    from core.library import Library

P = ParamSpec("P")
R = TypeVar("R")

EXIT_ERROR = 1
EXIT_CANCELLED = 130


def open_library(ctx: click.Context, *, create: bool = True) -> Library:
    """The `Library` for this invocation (opened once, closed when the command ends)."""
    from core.library import Library

    obj = ctx.ensure_object(dict)
    if "library" not in obj:
        root = obj.get("library_path")
        obj["library"] = Library(Path(root) if root else None, create=create)
        ctx.call_on_close(obj["library"].close)
    library: Library = obj["library"]
    return library


def present_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Show typed errors as one line on stderr with a non-zero exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except USER_ERRORS as exc:
            click.echo(f"saem: error: {user_message(exc)}", err=True)
            sys.exit(EXIT_ERROR)
        except OSError as exc:
            where = f" {exc.filename}" if exc.filename else ""
            click.echo(f"saem: error:{where} {exc.strerror or exc}", err=True)
            sys.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            click.echo(
                "saem: cancelled; finished work is kept, run the command again to resume.", err=True
            )
            sys.exit(EXIT_CANCELLED)
        except Exception as exc:
            if os.environ.get("SAEM_DEBUG"):
                raise
            click.echo(
                f"saem: internal error: {exc.__class__.__name__}: {exc} "
                "(run with SAEM_DEBUG=1 for details)",
                err=True,
            )
            sys.exit(EXIT_ERROR)

    return wrapper


@contextmanager
def progress_bar(description: str, total: int | None = None) -> Iterator[Callable[..., None]]:
    """A rich progress bar on stderr; yields ``advance(n=1, total=None, note=None)``."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[note]}"),
    )
    with Progress(
        *columns, console=console, transient=False, disable=not console.is_terminal
    ) as progress:
        task = progress.add_task(description, total=total, note="")

        def advance(n: int = 1, total: int | None = None, note: str | None = None) -> None:
            if total is not None:
                progress.update(task, total=total)
            progress.update(task, advance=n, note=(note or "")[:40])

        yield advance
