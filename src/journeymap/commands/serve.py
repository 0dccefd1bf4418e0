"""`journeymap serve`: the browser app on this workspace."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console


@click.command("serve")
@click.option("-w", "--workspace", "root", default=".", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Workspace folder.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (127.0.0.1: this computer only).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port.")
def serve(root: Path, host: str, port: int) -> None:
    """Serve the maps in the browser: list, map view, YAML editor, history and diff, JSON API.

    Analyses run in the background and are cached per map version and data version;
    Ctrl-C stops the app."""
    from journeymap.app.server import serve as run

    # the address is printed in bold markup; no user text goes through markup
    run(root, host=host, port=port, console=Console(highlight=False, soft_wrap=True))
