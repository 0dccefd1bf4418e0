"""`journeymap demo`: generate, load and render the demo company, then open the app on it."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from journeymap.cli_progress import rich_progress
from journeymap.commands.common import err, out
from journeymap.commands.ingest import print_ingest


DEMO_OWNER = "owner@demo.example"


@click.command("demo")
@click.argument("directory", required=False, default="demo-workspace",
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--customers", default=50_000, show_default=True, type=click.IntRange(min=50),
              help="Number of customers to generate.")
@click.option("--seed", default=7, show_default=True, type=int, help="Random seed (same seed, same data).")
@click.option("--no-serve", is_flag=True, help="Only write the report; do not start the app.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port of the app.")
def demo(directory: Path, customers: int, seed: int, no_serve: bool, port: int) -> None:
    """Generate a realistic demo company, load it, and show its journey maps."""
    from journeymap.demo.run import run_demo

    with rich_progress(err) as progress:
        result = run_demo(directory, customers=customers, seed=seed, progress=progress)
    for report in result.ingests:
        print_ingest(report)
    out.print(Text.assemble("\n", ("Journey maps", "bold"), f" ({len(result.maps)}): all valid"))
    for page in result.pages:
        out.print(f"  {page}")
    out.print(Text.assemble("\nOpen the report: ", (str(result.index), "bold")))
    if not no_serve:
        import secrets

        from journeymap.app.accounts import open_accounts
        from journeymap.app.server import serve

        # the served demo is a team's app: its owner signs in (a new password each run)
        password = secrets.token_urlsafe(12)
        open_accounts(str(directory)).add(DEMO_OWNER, "owner", name="Demo owner", password=password)
        out.print(Text.assemble("\nSign in as ", (DEMO_OWNER, "bold"), " with the password ", (password, "bold"),
                                f" (journeymap users add EMAIL -w {directory} invites others)."))

        # serve prints its own markup (the address in bold) and no user text
        serve(Path(directory), port=port, console=Console(highlight=False, soft_wrap=True))
