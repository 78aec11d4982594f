"""CLI: `saem related ITEM`, `saem stats related`, `saem stats prune`."""

from __future__ import annotations

import json
import re
import time

import click

from core.errors import BadInputError
from desktop.cli.support import open_library, present_errors

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400, "y": 365 * 86_400}


def parse_age(text: str) -> float:
    """'90d', '12h', '2w', '30m', '1y' or a plain number of days → seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdwy]?)\s*", text.lower())
    if not match:
        raise BadInputError(f"Cannot read the age {text!r}; write it like 90d, 12h, 2w or 1y.")
    return float(match.group(1)) * _UNITS[match.group(2) or "d"]


@click.command("related")
@click.argument("item")
@click.option("--limit", default=10, show_default=True, help="How many recommendations.")
@click.option("--exclude", multiple=True, help="Item ids (or prefixes) to leave out.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@click.pass_context
@present_errors
def related(
    ctx: click.Context, item: str, limit: int, exclude: tuple[str, ...], as_json: bool
) -> None:
    """What to open next after ITEM (id or unique id prefix), with the reason for each."""

    if limit < 1 or limit > 200:
        raise BadInputError("--limit must be between 1 and 200.")
    lib = open_library(ctx)
    row = lib.resolve(item)
    excluded = [lib.resolve(e).id for e in exclude]
    recs = lib.related.related(row.id, limit=limit, exclude=excluded)
    if not recs and not as_json:
        click.echo("Nothing related yet: add, index or open more items.", err=True)
    for rank, rec in enumerate(recs, 1):
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "rank": rank,
                        "id": rec.item_id,
                        "kind": rec.kind,
                        "title": rec.title,
                        "score": rec.score,
                        "reasons": rec.reasons,
                        "sources": list(rec.sources),
                    },
                    ensure_ascii=False,
                )
            )
        else:
            click.echo(
                f"{rank:>2}. {rec.item_id[:8]}  {rec.kind:<5}  {rec.title or '(untitled)'}"
                f"  — {', '.join(rec.reasons)}"
            )


@click.group("stats")
def stats() -> None:
    """Activity statistics kept in this library (never synced unless you turn it on)."""


@stats.command("related")
@click.option("--since", "since", default=None, help="Only the last AGE (e.g. 30d).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@present_errors
def stats_related(ctx: click.Context, since: str | None, as_json: bool) -> None:
    """How the Related panel does: impressions, clicks and click-through rate."""
    lib = open_library(ctx)
    start = time.time() - parse_age(since) if since else None
    log = lib.events
    s = log.panel_stats(since=start)
    counts = log.counts(since=start)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "impressions": s.impressions,
                    "items_shown": s.items_shown,
                    "clicks": s.clicks,
                    "ctr": s.ctr,
                    "item_ctr": s.item_ctr,
                    "mean_click_rank": s.mean_click_rank,
                    "by_source": {k: list(v) for k, v in s.by_reason.items()},
                    "events": counts,
                    "sync": log.sync_enabled,
                }
            )
        )
        return
    click.echo(f"panel shown      {s.impressions}")
    click.echo(f"items shown      {s.items_shown}")
    click.echo(f"clicks           {s.clicks}")
    click.echo(f"CTR (per panel)  {s.ctr:.1%}")
    click.echo(f"CTR (per item)   {s.item_ctr:.1%}")
    if s.mean_click_rank is not None:
        click.echo(f"mean click rank  {s.mean_click_rank:.1f}")
    for source, (shown, clicked) in s.by_reason.items():
        rate = clicked / shown if shown else 0.0
        click.echo(f"  top source {source:<9} shown {shown:>5}  clicked {clicked:>4}  {rate:.1%}")
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
    click.echo(f"events: {kinds}; syncing events: {'on' if log.sync_enabled else 'off'}")


@stats.command("prune")
@click.option("--older-than", "older_than", required=True, help="Age, e.g. 90d, 12h, 2w.")
@click.pass_context
@present_errors
def stats_prune(ctx: click.Context, older_than: str) -> None:
    """Delete activity events older than the given age."""
    seconds = parse_age(older_than)
    removed = open_library(ctx).events.prune(seconds)
    click.echo(f"Deleted {removed} event{'s' if removed != 1 else ''} older than {older_than}.")


@stats.command("sync")
@click.argument("state", type=click.Choice(["on", "off", "show"]), default="show")
@click.pass_context
@present_errors
def stats_sync(ctx: click.Context, state: str) -> None:
    """Show or set whether activity events may be synced to your other devices."""
    log = open_library(ctx).events
    if state != "show":
        log.set_sync_enabled(state == "on")
    click.echo(f"Syncing activity events: {'on' if log.sync_enabled else 'off'}.")


def register(cli: click.Group) -> None:
    cli.add_command(related)
    cli.add_command(stats)
