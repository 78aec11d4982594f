"""`saem models …`: list, add, remove, verify, use, fetch and convert models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from desktop.cli.support import open_library, present_errors, progress_bar

if TYPE_CHECKING:
    from core.modelstore.manager import ModelManager

DEVICE_CHOICE = click.Choice(["auto", "gpu", "cpu"])


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _manager(ctx: click.Context) -> ModelManager:
    lib = open_library(ctx)
    device = ctx.find_root().obj.get("models_device")
    if device:
        lib.models.device_override = device
    return lib.models


@click.group("models")
@click.option(
    "--device",
    type=DEVICE_CHOICE,
    default=None,
    help="Run models on the CPU, a GPU, or the best available (this run only).",
)
@click.pass_context
def models_group(ctx: click.Context, device: str | None) -> None:
    """Installed models: packaged defaults and the ones you added."""
    ctx.ensure_object(dict)["models_device"] = device


@models_group.command("list")
@click.option("--task", help="Only this task (chat, vision-chat, clip, text-embedding, ocr…).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@click.pass_context
@present_errors
def models_list(ctx: click.Context, task: str | None, as_json: bool) -> None:
    """List models, which one is in use per task (*) and where it runs."""
    manager = _manager(ctx)
    rows = manager.list(task)
    if as_json:
        for m in rows:
            click.echo(json.dumps({
                "id": m.id, "task": m.task, "name": m.name, "runtime": m.runtime,
                "builtin": m.builtin, "active": m.active, "available": m.available,
                "where": m.where, "note": m.note, "size": m.size, "sha256": m.sha256, "dim": m.dim,
                "licence": m.licence, "source": m.source, "files": m.files,
            }, ensure_ascii=False))  # fmt: skip
        return
    click.echo(manager.placement().describe())
    for m in rows:
        mark = "*" if m.active else " "
        state = "" if m.available else "  [not installed]"
        size = f"  {_size(m.size)}" if m.size else ""
        note = f"  [{m.note}]" if m.note else ""
        click.echo(f"{mark} {m.id:<22} {m.task:<15} {m.name}{size}  — {m.where}{state}{note}")


@models_group.command("add")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--task", help="Expected task; the files are checked against it.")
@click.option("--name", help="Display name (default: from the file).")
@click.option("--licence", default="", help="Licence of the weights, for your records.")
@click.option("--source", default="", help="Where the files came from.")
@click.option(
    "--use/--no-use",
    "use",
    default=None,
    help="Make it the model in use for its task (default: only if none is).",
)
@click.pass_context
@present_errors
def models_add(
    ctx: click.Context,
    files: tuple[str, ...],
    task: str | None,
    name: str | None,
    licence: str,
    source: str,
    use: bool | None,
) -> None:
    """Add model files (a GGUF, GGUF + mmproj, ONNX + tokenizer.json, or a CLIP pair)."""
    manager = _manager(ctx)
    with progress_bar("Adding") as advance:
        last = {"done": 0}

        def progress(done: int, total: int, note: str = "") -> None:
            advance(max(0, done - last["done"]), total=total, note=note)
            last["done"] = done

        info = manager.add([Path(f) for f in files], task, name=name, licence=licence,
                           source=source, use=use, progress=progress)  # fmt: skip
    state = "in use" if info.active else f"use it with `saem models use {info.id}`"
    click.echo(f"Added {info.task} model {info.id} ({info.name}); {state}.")


@models_group.command("remove")
@click.argument("model_id")
@click.pass_context
@present_errors
def models_remove(ctx: click.Context, model_id: str) -> None:
    """Unregister a model you added and delete its copy in the library."""
    info = _manager(ctx).remove(model_id)
    click.echo(f"Removed {info.id} ({info.name}).")


@models_group.command("use")
@click.argument("model_id")
@click.pass_context
@present_errors
def models_use(ctx: click.Context, model_id: str) -> None:
    """Use this model for its task from now on."""
    info = _manager(ctx).use(model_id)
    click.echo(f"Using {info.id} ({info.name}) for {info.task}.")


@models_group.command("verify")
@click.argument("model_ids", nargs=-1)
@click.pass_context
@present_errors
def models_verify(ctx: click.Context, model_ids: tuple[str, ...]) -> None:
    """Re-check sha256 and format of models (all available ones when no id is given)."""
    manager = _manager(ctx)
    ids = list(model_ids) or [m.id for m in manager.list() if m.available]
    bad = 0
    for model_id in ids:
        result = manager.verify(model_id)
        click.echo(f"{'ok ' if result.ok else 'BAD'} {result.id}")
        for problem in result.problems:
            click.echo(f"    {problem}")
        bad += not result.ok
    if bad:
        raise SystemExit(1)


@models_group.command("device")
@click.argument("device", type=DEVICE_CHOICE)
@click.pass_context
@present_errors
def models_device(ctx: click.Context, device: str) -> None:
    """Remember where models run: auto (best available), gpu or cpu."""
    manager = _manager(ctx)
    manager.set_device(device)
    click.echo(manager.placement().describe())


@models_group.command("fetch")
@click.argument("key", required=False)
@click.option("--url", "base_url", help="Mirror base URL (files are fetched as URL/NAME).")
@click.option("--use/--no-use", "use", default=None)
@click.pass_context
@present_errors
def models_fetch(
    ctx: click.Context, key: str | None, base_url: str | None, use: bool | None
) -> None:
    """Download a well-known model (needs a network); without KEY, list the catalog."""
    manager = _manager(ctx)
    if not key:
        for entry in manager.catalog():
            click.echo(f"{entry.key:<24} {entry.task:<15} {_size(entry.size):>9}  {entry.name}")
        return
    with progress_bar(f"Fetching {key}") as advance:
        last = {"done": 0}

        def progress(done: int, total: int, note: str = "") -> None:
            advance(max(0, done - last["done"]), total=total, note=note)
            last["done"] = done

        info = manager.fetch(key, base_url=base_url, progress=progress, use=use)
    click.echo(f"Fetched and added {info.task} model {info.id} ({info.name}).")


@models_group.command("convert")
@click.argument("checkpoint", type=click.Path(file_okay=False, exists=True))
@click.argument("output", type=click.Path(file_okay=False))
@click.option(
    "--kind", type=click.Choice(["auto", "text", "clip"]), default="auto", show_default=True
)
@click.option(
    "--int8/--no-int8",
    default=True,
    show_default=True,
    help="Also write int8 dynamically quantized ONNX (used when added).",
)
@click.option("--add", "add", is_flag=True, help="Add the converted model to the library.")
@click.pass_context
@present_errors
def models_convert(
    ctx: click.Context, checkpoint: str, output: str, kind: str, int8: bool, add: bool
) -> None:
    """Convert a Hugging Face checkpoint folder to ONNX (needs the `convert` extra: torch)."""
    manager = _manager(ctx)
    with progress_bar("Converting") as advance:
        files = manager.convert(
            Path(checkpoint),
            Path(output),
            kind=kind,
            int8=int8,
            progress=lambda d, t, n="": advance(1, total=t, note=n),
        )
    for f in files:
        click.echo(str(f))
    if add:
        info = manager.add(files)
        click.echo(f"Added {info.task} model {info.id}.")
