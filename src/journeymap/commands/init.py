"""`journeymap init DIR`: create a workspace."""

from __future__ import annotations

from pathlib import Path

import click

from journeymap.commands.common import out


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", help="Workspace name (default: the folder's name).")
def init(directory: Path, name: str | None) -> None:
    """Create a workspace in DIRECTORY."""
    from journeymap.workspace import Workspace

    ws = Workspace.create(directory, name=name)
    ws.store  # noqa: B018 - creates the store's tables now
    ws.close()
    out.print(f"Workspace '{ws.config.name}' ready in {ws.root}")
    out.print(f"Next: journeymap ingest events FILE -w {directory}")
