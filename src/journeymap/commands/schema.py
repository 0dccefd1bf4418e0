"""`journeymap schema`: the JSON Schema of the map document."""

from __future__ import annotations

import json

import click


@click.command("schema")
def schema() -> None:
    """Print the JSON Schema of the journey map document."""
    from journeymap.model import map_json_schema

    click.echo(json.dumps(map_json_schema(), indent=2))
