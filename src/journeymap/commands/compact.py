"""`journeymap compact`: merge the event log's appended pieces into one sorted piece."""

from __future__ import annotations

from pathlib import Path

import click

from journeymap.commands.common import open_workspace, out, workspace_option


@click.command("compact")
@workspace_option
def compact(workspace: Path) -> None:
    """Merge the events appended since the last merge into one sorted piece.

    An append (a later ingest, the collector's drain) rewrites only the customers it
    touches, as a new piece at the end of the event log; analyses read the pieces as
    they are.  Compacting brings back one sorted piece, which balances the engine's
    parallel work and gives back the space of rewritten rows.  The collector's drain
    compacts by itself when the pieces have grown (docs/adr/0018).
    """
    with open_workspace(workspace) as ws:
        before = ws.store.status()["tables"]["events"]["pieces"]
        how, events = ws.compact()
    if how == "nothing":
        out.print("the event log is one merged piece already: nothing to do")
        return
    out.print(f"merged {before['appends']:,} appended piece{'s' if before['appends'] != 1 else ''} "
              f"into one sorted piece of {events:,} events")
