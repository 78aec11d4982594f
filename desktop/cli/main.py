"""`saem`: the command line. Every command calls a `core` service; errors show as one line."""

from __future__ import annotations

import click

from desktop.cli.chat import register as register_chat_commands
from desktop.cli.io import register as register_io_commands
from desktop.cli.library import register as register_library_commands
from desktop.cli.models import models_group
from desktop.cli.open import open_command
from desktop.cli.related import register as register_related_commands
from desktop.cli.search import register as register_search_commands
from desktop.cli.sync import sync_group


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--library",
    "library_path",
    type=click.Path(file_okay=False),
    envvar="SAEM_LIBRARY",
    help="Library folder (default: $SAEM_LIBRARY or the platform's data folder).",
)
@click.version_option(package_name="saem")
@click.pass_context
def cli(ctx: click.Context, library_path: str | None) -> None:
    """Saem (샘): your notes, photos and the text in them, searchable offline."""
    ctx.ensure_object(dict)["library_path"] = library_path


register_library_commands(cli)
cli.add_command(sync_group)
cli.add_command(open_command)
register_io_commands(cli)
cli.add_command(models_group)
register_related_commands(cli)
register_search_commands(cli)
register_chat_commands(cli)


def main() -> None:
    cli(prog_name="saem")


if __name__ == "__main__":
    main()
