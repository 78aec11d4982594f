"""`saem open`: the desktop window on the library."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from desktop.cli.support import present_errors


@click.command("open")
@click.option(
    "--no-demo", is_flag=True, help="Do not add the demo notes and photos to an empty library."
)
@click.option("--no-index", is_flag=True, help="Do not index in the background while open.")
@click.pass_context
@present_errors
def open_command(ctx: click.Context, no_demo: bool, no_index: bool) -> None:
    """Open the Saem window (the demo library when the library is empty)."""
    from desktop.gui.app import run

    root = ctx.ensure_object(dict).get("library_path")
    code = run(Path(root) if root else None, demo=not no_demo, auto_index=not no_index)
    if code:
        sys.exit(code)
