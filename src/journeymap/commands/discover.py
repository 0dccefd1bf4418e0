"""`journeymap discover`: a draft journey map from the events alone."""

from __future__ import annotations

from pathlib import Path

import click

from journeymap.cli_progress import rich_progress
from journeymap.commands.common import err, open_workspace, out, workspace_option


@click.command()
@workspace_option
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Map file to write; a relative path is relative to the workspace (maps/discovered.yaml).")
@click.option("--min-share", default=0.01, show_default=True, type=click.FloatRange(0, 1),
              help="Keep events done by at least this share of customers.")
@click.option("--min-customers", default=5, show_default=True, type=click.IntRange(1),
              help="...and by at least this many customers.")
@click.option("--stages", type=click.IntRange(1, 30), default=None,
              help="Number of stages (default: about the square root of the touchpoints, 2-7).")
@click.option("--method", type=click.Choice(["gaps", "quantiles"]), default="gaps", show_default=True,
              help="Cut stages at the largest gaps in typical position, or into equal groups.")
@click.option("--id", "map_id", default=None, help="Map id (default: the file name).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def discover(workspace: Path, out_path: Path, min_share: float, min_customers: int, stages: int | None,
             method: str, map_id: str | None, force: bool) -> None:
    """Draft a journey map from the events: one touchpoint per frequent event, in stages."""
    with open_workspace(workspace) as ws, rich_progress(err) as progress:
        target, found = ws.discover(out_path, overwrite=force, min_share=min_share,
                                    min_customers=min_customers, stages=stages, method=method,
                                    map_id=map_id, progress=progress)
    left = f"; {len(found.dropped)} rarer events left out (listed in the file)" if found.dropped else ""
    out.print(f"wrote {target}: {len(found.kept)} touchpoints in {len(found.stages)} stages "
              f"from {found.events:,} events of {found.customers:,} customers{left}")
