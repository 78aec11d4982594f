"""CLI commands that move data in and out, and check the library: import, export, doctor."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from desktop.cli.support import open_library, present_errors, progress_bar

if TYPE_CHECKING:
    from core.transfer.importer import ImportReport


def _print_report(report: ImportReport) -> None:
    for path, reason in report.skipped:
        click.echo(f"skipped: {path}: {reason}", err=True)
    click.echo(report.summary)


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--photos",
    "force_photos",
    is_flag=True,
    help="Treat the paths as photos / photo folders even if they contain Markdown.",
)
@click.pass_context
@present_errors
def import_cmd(ctx: click.Context, paths: tuple[Path, ...], force_photos: bool) -> None:
    """Import Markdown notes (.md files, folders, Obsidian vaults) and photos (files, folders).

    Any mix works: `saem import note.md IMG_1.jpg ~/Vault ~/Pictures/Trip`. Imported notes are
    searchable by their words at once; meaning search and photo text/tags follow with
    `saem index` (or the app, in the background). Re-running the same import is safe:
    unchanged notes and known photos are skipped and changed notes are updated. Ctrl+C stops
    cleanly; run it again to continue.
    """
    from core.transfer.importer import import_paths

    lib = open_library(ctx)
    with progress_bar("Importing") as advance:
        report = import_paths(
            lib,
            list(paths),
            photos_only=force_photos,
            progress=lambda d, t, n="": advance(0 if d == 0 else 1, t, n),
        )
    _print_report(report)
    if report.chunked:
        click.echo("The imported notes are searchable by their words now.")
    waiting = lib.stats().jobs.get("pending", 0)
    if waiting:
        click.echo(
            f"Meaning search and photo text/tags: {waiting:,} item(s) wait for `saem index` "
            "(the app does it in the background)."
        )


@click.command("export")
@click.argument("folder", type=click.Path(path_type=Path))
@click.pass_context
@present_errors
def export_cmd(ctx: click.Context, folder: Path) -> None:
    """Export every note and photo to FOLDER as Markdown + attachments (opens in Obsidian)."""
    from core.transfer.exporter import export_markdown_folder

    lib = open_library(ctx)
    with progress_bar("Exporting") as advance:
        report = export_markdown_folder(lib, folder, progress=lambda d, t, n="": advance(1, t, n))
    for path, reason in report.problems:
        click.echo(f"problem: {path}: {reason}", err=True)
    click.echo(f"Exported {report.notes} notes and {report.photos} photos to {report.folder}")


@click.command("doctor")
@click.option("--fix", is_flag=True, help="Rebuild missing thumbnails, remove orphan blobs.")
@click.pass_context
@present_errors
def doctor_cmd(ctx: click.Context, fix: bool) -> None:
    """Check the library: integrity, missing or orphan photo files, CRDT log, job queue."""
    from core.doctor import run_doctor

    lib = open_library(ctx, create=False)
    report = run_doctor(lib, fix=fix)
    click.echo(f"library        {lib.root}")
    click.echo(f"schema         version {report.schema_version}")
    click.echo(f"integrity      {'ok' if report.integrity == ['ok'] else report.integrity[:5]}")
    click.echo(f"foreign keys   {'ok' if not report.foreign_keys else report.foreign_keys[:5]}")
    click.echo(f"items          {'ok' if not report.incomplete_items else report.incomplete_items}")
    click.echo(
        f"photo files    {len(report.missing_blobs)} missing, "
        f"{len(report.orphan_blobs)} orphan, {len(report.missing_thumbs)} without thumbnail"
    )
    click.echo(f"notes vs CRDT  {'ok' if not report.crdt_mismatch else report.crdt_mismatch[:5]}")
    j = report.jobs
    click.echo(
        f"index queue    {j.get('pending', 0)} pending, {j.get('running', 0)} running, "
        f"{j.get('done', 0)} done, {j.get('failed', 0)} failed"
    )
    for line in report.fixed:
        click.echo(f"fixed: {line}")
    if not report.ok:
        raise SystemExit(1)


@click.command("info")
@click.pass_context
@present_errors
def info_cmd(ctx: click.Context) -> None:
    """Where the library is and what it holds."""
    lib = open_library(ctx)
    stats = lib.stats()
    click.echo(f"library  {lib.root}")
    click.echo(f"notes    {stats.notes}")
    click.echo(f"photos   {stats.photos}")
    click.echo(f"tags     {stats.tags}")
    click.echo(f"queue    {stats.jobs}")


@click.command("demo")
@click.pass_context
@present_errors
def demo_cmd(ctx: click.Context) -> None:
    """Fill an empty library with the built-in demo notes and photos."""
    from core.demo import ensure_demo_library

    lib = open_library(ctx)
    with progress_bar("Creating the demo library") as advance:
        created = ensure_demo_library(lib, progress=lambda d, t, n="": advance(1, t, n))
    click.echo("Demo library created." if created else "The library is not empty; left as is.")


def register(cli: click.Group) -> None:
    for command in (import_cmd, export_cmd, doctor_cmd, info_cmd, demo_cmd):
        cli.add_command(command)
