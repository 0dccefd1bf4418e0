"""`journeymap render MAP --out FILE`: the map as a page, picture, document, table or slides."""

from __future__ import annotations

from pathlib import Path

import click

from journeymap.commands.common import err, open_workspace, out, workspace_option


@click.command("render")
@click.argument("map_ref", metavar="MAP")
@workspace_option
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output file; the format comes from its extension: "
                   ".html .png .pdf .svg .md .csv .xlsx .pptx .mmd .json.")
@click.option("--compare", metavar="MAP", help="Another map to show side by side (e.g. another segment).")
def render(map_ref: str, workspace: Path, out_path: Path, compare: str | None) -> None:
    """Render MAP with its data as a page, picture, document, table or slides."""
    with open_workspace(workspace) as ws, err.status(f"rendering {out_path.name}"):
        written = ws.render(map_ref, out_path, compare=compare)
    out.print(f"wrote {written}")
