"""What every command module shares: consoles, the -w option, opening a workspace."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

if TYPE_CHECKING:
    from journeymap.workspace import Workspace

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

workspace_option = click.option(
    "-w", "--workspace", "workspace", default=".", show_default=True,
    type=click.Path(file_okay=False, path_type=Path), help="Workspace folder.",
)


def open_workspace(workspace: Path) -> Workspace:
    from journeymap.workspace import Workspace

    return Workspace.open(workspace)
