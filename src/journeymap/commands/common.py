"""What every command module shares: consoles, the -w option, opening a workspace.

The consoles never read markup or emoji codes in what they print: file names, event
names and map titles are the user's text (``[/]`` or ``:x:`` in them stays as typed).
Style goes in explicitly: ``out.print(Text.assemble(("Title", "bold"), " rest"))`` or
``out.print(text, style="bold")``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

if TYPE_CHECKING:
    from journeymap.workspace import Workspace

out = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)

workspace_option = click.option(
    "-w", "--workspace", "workspace", default=".", show_default=True,
    type=click.Path(file_okay=False, path_type=Path), help="Workspace folder.",
)


def open_workspace(workspace: Path) -> Workspace:
    from journeymap.workspace import Workspace

    return Workspace.open(workspace)


def write_json(data: Any, target: Path) -> bool:
    """Write ``data`` as JSON to ``target`` (``-``: standard output); True when it went to
    standard output, so the caller prints nothing else there."""
    text = json.dumps(data, indent=2, default=str, allow_nan=False)
    if str(target) == "-":
        click.echo(text)
        return True
    target.write_text(text + "\n", encoding="utf-8")
    return False


def parse_mappings(values: tuple[str, ...], option: str = "--map-column",
                    expected: str = "THEIR_NAME=OUR_NAME", *, last: bool = False) -> dict[str, str]:
    """``A=B`` pairs; ``last``: split at the last ``=`` (a question's text may hold one)."""
    mapping: dict[str, str] = {}
    for value in values:
        their, sep, ours = value.rpartition("=") if last else value.partition("=")
        if not sep or not their.strip() or not ours.strip():
            raise click.BadParameter(f"'{value}': expected {expected}", param_hint=option)
        mapping[their.strip()] = ours.strip()
    return mapping
