"""`saem sync relay …`: sync through any stock Yjs WebSocket server that only sees ciphertext."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from desktop.cli.support import open_library, present_errors

if TYPE_CHECKING:
    from core.peers.service import SyncService


def _service(ctx: click.Context) -> SyncService:
    return open_library(ctx).sync


@click.group("relay")
def relay_group() -> None:
    """Sync through a y-websocket server (e.g. npm @y/websocket-server) used as a mailbox.

    The server stores only encrypted entries in a room named by an HMAC of this library's
    key; devices need not be online at the same time nor share a network."""


@relay_group.command("add")
@click.argument("url")
@click.pass_context
@present_errors
def relay_add(ctx: click.Context, url: str) -> None:
    """Sync through the server at URL (ws:// or wss://, with any path prefix)."""
    service = _service(ctx)
    key = service.relay_add(url)
    click.echo(f"Relay added: {url.rstrip('/')} (library key {key.fingerprint}).")
    click.echo(
        "Paired devices receive the key at their next direct sync; a device that never "
        "shares a network with this one: `saem sync relay invite`, then "
        "`saem sync relay join CODE` there."
    )


@relay_group.command("remove")
@click.argument("url")
@click.pass_context
@present_errors
def relay_remove(ctx: click.Context, url: str) -> None:
    """Stop syncing through URL (the room on the server is left as it is)."""
    if _service(ctx).relay_remove(url):
        click.echo(f"Relay removed: {url}")
    else:
        raise click.ClickException(f"No relay {url} is configured.")


@relay_group.command("status")
@click.pass_context
@present_errors
def relay_status(ctx: click.Context) -> None:
    """Per relay: last sync, entries read/written, local updates not written yet, errors."""
    from core.peers.relay import format_status

    service = _service(ctx)
    rows = service.relay_status()
    if not rows:
        click.echo("No relay configured. Add one with: saem sync relay add wss://host/prefix")
    for row in rows:
        click.echo(format_status(row))
    last = service.last_synced()
    if last:
        click.echo(f"Last sync: {last.get('path')} — {last.get('what')}")


@relay_group.command("now")
@click.argument("url", required=False)
@click.pass_context
@present_errors
def relay_now(ctx: click.Context, url: str | None) -> None:
    """One round with each relay (or URL): read and apply, write what the room lacks."""
    from core.peers.relay import describe

    for report in _service(ctx).relay_sync(url):
        click.echo(describe(report))


@relay_group.command("run")
@click.pass_context
@present_errors
def relay_run(ctx: click.Context) -> None:
    """Stay connected to every relay until Ctrl+C (`saem sync serve` does this too)."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    service = _service(ctx)
    click.echo(f"Relaying {service.device_id} through {', '.join(service.relay_urls())}", err=True)
    try:
        service.relay_run()
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)


@relay_group.command("compact")
@click.argument("url", required=False)
@click.pass_context
@present_errors
def relay_compact(ctx: click.Context, url: str | None) -> None:
    """Write an encrypted snapshot and delete the entries every device has read."""
    removed = _service(ctx).relay_compact(url)
    click.echo(f"Compacted the relay room: {removed} entries deleted.")


@relay_group.command("invite")
@click.pass_context
@present_errors
def relay_invite(ctx: click.Context) -> None:
    """Print a one-time code that lets a new device join this library through the relay."""
    code = _service(ctx).relay_invite()
    click.echo(code)
    click.echo(
        "On the new device: saem sync relay join '<code>'. The code works once, for 7 days; "
        "this device pairs the new one at its next relay sync.",
        err=True,
    )


@relay_group.command("join")
@click.argument("code")
@click.option("--name", default="", help="A name for the inviting device, e.g. 'desktop'.")
@click.pass_context
@present_errors
def relay_join(ctx: click.Context, code: str, name: str) -> None:
    """Use a code from `saem sync relay invite`: take the library key and pair that device."""
    peer = _service(ctx).relay_join(code, name)
    click.echo(
        f"Joined: paired {peer.name or 'device'} {peer.device_id}; "
        "run `saem sync relay now` to sync."
    )
