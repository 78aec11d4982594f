"""`saem sync …`: device identity, pairing, serving and syncing with the user's other devices."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import click

from desktop.cli.support import open_library, present_errors, progress_bar
from desktop.cli.sync_relay import relay_group

if TYPE_CHECKING:
    from core.peers.service import SyncService


def _service(ctx: click.Context) -> SyncService:
    return open_library(ctx).sync


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "never"


class _Serving(Protocol):
    """What `saem sync serve` prints of the started server (``sync.server.SyncServer``)."""

    port: int
    local_port: int | None


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


@click.group("sync")
def sync_group() -> None:
    """Sync this library with your other devices (paired by device ID, mutual TLS)."""


@sync_group.command("id")
@click.pass_context
@present_errors
def sync_id(ctx: click.Context) -> None:
    """Show this device's ID (give it to `saem sync pair` on the other device)."""
    click.echo(_service(ctx).device_id)


@sync_group.command("pair")
@click.argument("device_id")
@click.option("--name", default="", help="A name for the device, e.g. 'laptop'.")
@click.option("--address", default=None, help="host:port where it runs `saem sync serve`.")
@click.pass_context
@present_errors
def sync_pair(ctx: click.Context, device_id: str, name: str, address: str | None) -> None:
    """Trust a device by its ID (pair on both devices)."""
    peer = _service(ctx).pair(device_id, name, address)
    click.echo(f"Paired {peer.name or 'device'} {peer.device_id}")


@sync_group.command("unpair")
@click.argument("device")
@click.pass_context
@present_errors
def sync_unpair(ctx: click.Context, device: str) -> None:
    """Stop trusting a device (by name or ID prefix)."""
    peer = _service(ctx).unpair(device)
    click.echo(f"Unpaired {peer.name or 'device'} {peer.device_id}")


@sync_group.command("devices")
@click.pass_context
@present_errors
def sync_devices(ctx: click.Context) -> None:
    """List paired devices."""
    rows = _service(ctx).devices()
    if not rows:
        click.echo("No paired devices. Pair one with: saem sync pair <ID> --name NAME")
    for p in rows:
        click.echo(f"{p.device_id}  {p.name or '-':12}  {p.address or '-'}")


@sync_group.command("status")
@click.pass_context
@present_errors
def sync_status(ctx: click.Context) -> None:
    """Per paired device: last seen, updates it has not confirmed yet, bytes in/out; relays;
    which path synced last."""
    from core.peers.relay import format_status

    service = _service(ctx)
    click.echo(f"This device: {service.device_id}")
    for s in service.status():
        click.echo(
            f"{s.device_id[:15]}  {s.name or '-':12}  last seen {_when(s.last_seen)}"
            f"  pending {s.pending}  in {_size(s.bytes_in)}  out {_size(s.bytes_out)}"
        )
    for relay in service.relay_status():
        click.echo("relay " + format_status(relay))
    last = service.last_synced()
    if last:
        path = "relay" if last.get("path") == "relay" else "direct"
        click.echo(f"Last sync ({path}, {_when(last.get('at'))}): {last.get('what')}")


@sync_group.command("log")
@click.option("--limit", default=50, show_default=True, help="How many records, newest first.")
@click.pass_context
@present_errors
def sync_log(ctx: click.Context, limit: int) -> None:
    """Refused connections and sessions (security log), newest first."""
    rows = _service(ctx).security_log(limit)
    if not rows:
        click.echo("No refused connections recorded.")
    for r in rows:
        who = r.device_id[:15] if r.device_id else "-"
        click.echo(f"{_when(r.ts)}  {r.kind:14}  {who:15}  {r.address or '-':21}  {r.reason}")


@sync_group.command("serve")
@click.option("--port", default=22070, show_default=True, help="Port of the mutual-TLS listener.")
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option(
    "--local-port",
    type=int,
    default=None,
    help="Also serve y-websocket rooms on ws://127.0.0.1:PORT (token-gated).",
)
@click.option("--no-discovery", is_flag=True, help="Do not announce/browse with mDNS.")
@click.pass_context
@present_errors
def sync_serve(
    ctx: click.Context, port: int, host: str, local_port: int | None, no_discovery: bool
) -> None:
    """Run as a sync peer until Ctrl+C (serves paired devices, dials known ones)."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    service = _service(ctx)

    def ready(server: _Serving) -> None:
        click.echo(f"Serving {service.device_id} on {host}:{server.port}", err=True)
        if local_port is not None:
            click.echo(
                f"Local Yjs rooms: ws://127.0.0.1:{server.local_port}/note:<id>"
                f"?token={service.local_token()}",
                err=True,
            )

    try:
        service.serve(
            host=host, port=port, local_port=local_port, discover=not no_discovery, on_ready=ready
        )
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)


@sync_group.command("now")
@click.argument("target")
@click.option("--timeout", default=300.0, show_default=True)
@click.pass_context
@present_errors
def sync_now(ctx: click.Context, target: str, timeout: float) -> None:
    """One sync round with a paired device (name, ID prefix or host:port)."""
    with progress_bar("Syncing documents") as advance:
        seen = [0]

        def progress(done: int, total: int, note: str) -> None:
            advance(done - seen[0], total=total, note=note)
            seen[0] = done

        report = _service(ctx).sync_now(target, timeout=timeout, progress=progress)
    click.echo(f"Synced with {report.device_id[:7]}: {report.transferred()}")
    if report.note:
        click.echo(f"Note: {report.note}.")


@sync_group.command("compact")
@click.pass_context
@present_errors
def sync_compact(ctx: click.Context) -> None:
    """Merge the CRDT update log into snapshots (keeps everything peers may still need)."""
    r = _service(ctx).compact()
    click.echo(
        f"Compacted {r.documents} documents: {r.updates_removed} updates, "
        f"{_size(r.bytes_before)} → {_size(r.bytes_after)}"
    )


sync_group.add_command(relay_group)
