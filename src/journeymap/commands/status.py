"""`journeymap status`: tables, rows, quarantine and time range of a workspace."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from journeymap.commands.common import open_workspace, out, workspace_option


@click.command("status")
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(workspace: Path, as_json: bool) -> None:
    """Tables, row counts, quarantine counts and the time range of the data."""
    with open_workspace(workspace) as ws:
        info = ws.status()
    if as_json:
        click.echo(json.dumps(info, indent=2, default=str))
        return
    out.print(Text.assemble((info["name"], "bold"), f" — {info['workspace']}"))
    table = Table("table", "rows", "customers", "from", "to")
    for name, t in info.get("tables", {}).items():
        first, last = t.get("time_range") or (None, None)
        table.add_row(name, f"{t.get('rows', 0):,}", _fmt(t.get("customers")), _fmt(first), _fmt(last))
    out.print(table)
    pieces = info.get("tables", {}).get("events", {}).get("pieces") or {}
    if pieces.get("appends"):
        n = pieces["appends"]
        out.print(f"event log: {n:,} appended piece{'s' if n != 1 else ''} since the last merge "
                  f"({pieces['appended_rows']:,} events written; `journeymap compact` merges them)")
    quarantine = info.get("quarantine", {})
    total = quarantine.get("rows", 0)
    out.print(f"quarantine: {total:,} rows")
    for kind, reasons in quarantine.get("by_kind", {}).items():
        for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
            out.print(f"  {kind}: {reason}: {count:,}")
    out.print(f"maps: {', '.join(info['maps']) or 'none'}")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    text = str(value)
    if len(text) >= 16 and text[4] == "-" and text[10] == "T":  # ISO timestamp: minutes are enough
        return text[:16].replace("T", " ")
    return text
