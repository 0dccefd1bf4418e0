"""`journeymap new NAME --template T`: start a map from a template."""

from __future__ import annotations

from pathlib import Path

import click
from rich.text import Text

from journeymap.commands.common import open_workspace, out, workspace_option
from journeymap.errors import JourneymapError


@click.command("new")
@click.argument("name", required=False)
@click.option("--template", "-t", "template", help="Template to start from (see --list).")
@click.option("--from", "from_map", metavar="MAP", help="future-state: the current-state map it improves.")
@click.option("--title", help="The map's title (default: from NAME).")
@click.option("--list", "list_only", is_flag=True, help="List the templates and exit.")
@click.option("--force", is_flag=True, help="Overwrite an existing map file.")
@workspace_option
def new(name: str | None, template: str | None, from_map: str | None, title: str | None,
        list_only: bool, force: bool, workspace: Path) -> None:
    """Create maps/NAME.yaml from a template (comments explain each lane and rule)."""
    from journeymap.model.templates import list_templates, slug

    if list_only:
        for t in list_templates():
            out.print(Text.assemble((f"{t.name:<20}", "bold"), f" {t.title}"))
        return
    if not name or not template:
        raise JourneymapError("give a NAME and --template T (journeymap new --list shows the templates)")
    with open_workspace(workspace) as ws:
        path = ws.new_map(name, template, from_map=from_map, title=title, overwrite=force)
    out.print(f"wrote {path}")
    out.print(f"Next: edit it, then journeymap validate {path.name} -w {workspace} && "
              f"journeymap render {slug(name)} -w {workspace} --out {slug(name)}.html")
