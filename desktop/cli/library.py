"""CLI commands for browsing and editing: notes, photos, tags."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from core.errors import BadInputError
from core.library import NoteId, PhotoId
from desktop.cli.support import open_library, present_errors


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def _read_text_arg(body: str | None, file: str | None) -> str | None:
    if body is not None:
        return body
    if file is None:
        return None
    try:
        raw = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        raise BadInputError(f"{file}: cannot read the file ({exc.strerror or exc}).") from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from exc


def _echo_rows(rows: Iterable[tuple[dict[str, Any], str]], as_json: bool) -> None:
    """The list commands' output: one JSON object or one text line per row, as it comes."""
    for data, line in rows:
        click.echo(json.dumps(data, ensure_ascii=False) if as_json else line)


@click.group()
def notes() -> None:
    """List, show, create, edit and delete notes."""


@notes.command("list")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@click.pass_context
@present_errors
def notes_list(ctx: click.Context, limit: int, as_json: bool) -> None:
    """List notes, most recently changed first."""
    lib = open_library(ctx)
    rows = (
        (
            {"id": item.id, "title": item.title, "updated_at": item.updated_at},
            f"{item.id[:8]}  {_when(item.updated_at)}  {item.title}",
        )
        for item in lib.list_items("note", limit=limit)
    )
    _echo_rows(rows, as_json)


@notes.command("show")
@click.argument("note_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@present_errors
def notes_show(ctx: click.Context, note_id: str, as_json: bool) -> None:
    """Print a note (id or unique id prefix)."""
    lib = open_library(ctx)
    note = lib.notes.get(lib.resolve_note(note_id))
    if as_json:
        click.echo(
            json.dumps(
                {
                    "id": note.id,
                    "title": note.title,
                    "body": note.body,
                    "tags": note.tags,
                    "links": [ln.target for ln in note.links],
                    "backlinks": note.backlinks,
                },
                ensure_ascii=False,
            )
        )
        return
    click.echo(note.body, nl=not note.body.endswith("\n"))
    if note.tags:
        click.echo(f"\n-- tags: {', '.join(note.tags)}", err=True)


@notes.command("new")
@click.option("--title", help="Title (default: front matter, first heading or first line).")
@click.option("--body", help="Markdown text.")
@click.option("--file", "file", help="Read the Markdown from a file ('-' for stdin).")
@click.pass_context
@present_errors
def notes_new(ctx: click.Context, title: str | None, body: str | None, file: str | None) -> None:
    """Create a note; prints its id."""
    text = _read_text_arg(body, file)
    if text is None:
        text = click.edit("", extension=".md") or ""
    if not text.strip() and not title:
        raise BadInputError("The note is empty; nothing was created.")
    lib = open_library(ctx)
    click.echo(lib.notes.create(text, title=title))


@notes.command("edit")
@click.argument("note_id")
@click.option("--body", help="The new Markdown text.")
@click.option("--file", "file", help="Read the new text from a file ('-' for stdin).")
@click.pass_context
@present_errors
def notes_edit(ctx: click.Context, note_id: str, body: str | None, file: str | None) -> None:
    """Edit a note in $EDITOR (or replace it with --body/--file); saved as minimal edits."""
    lib = open_library(ctx)
    note = lib.notes.get(lib.resolve_note(note_id))
    text = _read_text_arg(body, file)
    if text is None:
        text = click.edit(note.body, extension=".md")
        if text is None:
            click.echo("No change.", err=True)
            return
    changed = lib.notes.edit(note.id, text)
    click.echo("Saved." if changed else "No change.", err=True)


@notes.command("delete")
@click.argument("note_id")
@click.pass_context
@present_errors
def notes_delete(ctx: click.Context, note_id: str) -> None:
    """Delete a note (the deletion syncs to your other devices)."""
    lib = open_library(ctx)
    item = lib.resolve(note_id, "note")
    lib.notes.delete(NoteId(item.id))
    click.echo(f"Deleted {item.title!r}.", err=True)


@click.group()
def photos() -> None:
    """List and show photos."""


@photos.command("list")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@present_errors
def photos_list(ctx: click.Context, limit: int, as_json: bool) -> None:
    """List photos, most recently added first."""
    lib = open_library(ctx)

    def row(item_id: str, title: str) -> tuple[dict[str, Any], str]:  # JSON and text line
        m = lib.photos.get(PhotoId(item_id)).meta
        data = {"id": item_id, "title": title, "sha256": m.sha256,
                "taken_at": m.taken_at, "width": m.width, "height": m.height}  # fmt: skip
        return data, f"{item_id[:8]}  {m.taken_at or '-':19}  {m.width}×{m.height}  {title}"

    items = lib.list_items("photo", limit=limit)
    _echo_rows((row(item.id, item.title) for item in items), as_json)


@photos.command("show")
@click.argument("photo_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@present_errors
def photos_show(ctx: click.Context, photo_id: str, as_json: bool) -> None:
    """Show a photo's metadata, tags, where its file is and the text Saem read in it (OCR)."""
    lib = open_library(ctx)
    photo = lib.photos.get(lib.resolve_photo(photo_id))
    lines = lib.photos.ocr_lines(photo.id)
    m = photo.meta
    data = {
        "id": photo.id,
        "title": photo.title,
        "file": str(photo.blob_path),
        "thumbnail": str(photo.thumb_path),
        "sha256": m.sha256,
        "size": m.size,
        "mime": m.mime,
        "width": m.width,
        "height": m.height,
        "orientation": m.orientation,
        "taken_at": m.taken_at,
        "gps": [m.gps_lat, m.gps_lon] if m.gps_lat is not None else None,
        "camera": " ".join(x for x in (m.camera_make, m.camera_model) if x) or None,
        "caption": m.caption,
        "tags": photo.tags,
        "ocr_lines": [
            {
                "text": ln.text,
                "confidence": round(ln.confidence, 3),
                "box": list(ln.box),
                "block": ln.block,
                "line": ln.line,
            }
            for ln in lines
        ],
    }
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    for key, value in data.items():
        if key != "ocr_lines" and value not in (None, "", []):
            click.echo(f"{key:10} {value}")
    if lines:
        click.echo(f"text       {len(lines)} line(s) read in the photo:")
        block = lines[0].block
        for ln in lines:
            if ln.block != block:
                click.echo("")
                block = ln.block
            click.echo(f"  {ln.text}")
    elif lib.photos.waiting_for_analysis(photo.id):
        click.echo("text       not read yet: `saem index` reads the text in photos")


@click.command("tags")
@click.argument("tag", required=False)
@click.pass_context
@present_errors
def tags_cmd(ctx: click.Context, tag: str | None) -> None:
    """List tags with counts, or the items that carry TAG."""
    lib = open_library(ctx)
    if tag:
        for item in lib.items_with_tag(tag.lstrip("#")):
            click.echo(f"{item.id[:8]}  {item.kind:5}  {item.title}")
        return
    for name, count in lib.tag_counts():
        click.echo(f"{count:6}  #{name}")


def register(cli: click.Group) -> None:
    cli.add_command(notes)
    cli.add_command(photos)
    cli.add_command(tags_cmd)
