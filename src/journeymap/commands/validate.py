"""`journeymap validate [MAP...]`: check maps, one `file:line: field: message` per problem."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from journeymap.commands.common import err, open_workspace, out, workspace_option
from journeymap.errors import JourneymapError


@click.command("validate")
@click.argument("maps", nargs=-1, type=click.Path(path_type=Path))
@workspace_option
def validate(maps: tuple[Path, ...], workspace: Path) -> None:
    """Check MAPS (default: every map in the workspace): schema and references."""
    from journeymap.model import validate_paths

    if maps:
        paths = list(maps)
        missing = [p for p in paths if not p.is_file()]
        if missing:
            raise JourneymapError(f"{missing[0]}: no such file")
    else:
        paths = sorted((open_workspace(workspace).maps_dir).glob("*.y*ml"))
        if not paths:
            raise JourneymapError(f"{workspace}: no maps to validate (maps/*.yaml)")
    issues = validate_paths(paths)
    for issue in issues:
        click.echo(str(issue), err=True)
    if issues:
        err.print(f"{len(issues)} problem{'s' if len(issues) != 1 else ''} in {len(paths)} map(s)")
        sys.exit(1)
    out.print(f"{len(paths)} map{'s' if len(paths) != 1 else ''} valid")
