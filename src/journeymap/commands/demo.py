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
@click.option("--live", is_flag=True, help="Send a stream of new customers and survey answers to the running "
              "demo app (start it first with `journeymap demo`), with a planted decay.")
@click.option("--url", help="With --live: the app's address (default http://127.0.0.1:PORT).")
@click.option("--seconds", default=60.0, show_default=True, type=click.FloatRange(0),
              help="With --live: spread the stream over this many seconds.")
@click.option("--live-customers", default=400, show_default=True, type=click.IntRange(min=2),
              help="With --live: new customers in the stream (half last month, half this month).")
def demo(directory: Path, customers: int, seed: int, no_serve: bool, port: int, live: bool, url: str | None,
         seconds: float, live_customers: int) -> None:
    """Generate a realistic demo company, load it, and show its journey maps.

    With --live: while `journeymap demo` runs, send it the company's next customers and
    their survey answers, and watch the numbers move and a decay alert fire."""
    if live:
        _live(directory, url or f"http://127.0.0.1:{port}", seconds, live_customers, seed)
        return
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

        out.print(f"Watch the maps move: journeymap demo --live {directory} (in another terminal)")
        # serve prints its own markup (the address in bold) and no user text
        serve(Path(directory), port=port, console=Console(highlight=False, soft_wrap=True), collect=True)


def _live(directory: Path, url: str, seconds: float, customers: int, seed: int) -> None:
    """``demo --live``: a write key of its own, then the stream (journeymap.demo.live)."""
    from journeymap.collector import FOLDER, WriteKeys
    from journeymap.config import CONFIG_NAME
    from journeymap.demo.live import MAP_ID, SATISFIED, plan, send
    from journeymap.errors import JourneymapError

    if not (directory / CONFIG_NAME).is_file():
        raise JourneymapError(f"{directory}: no demo workspace here (make one: journeymap demo {directory})")
    key = WriteKeys(directory / FOLDER).add("demo-live")  # the running app reads new keys at once
    calls = plan(customers, seed=seed)
    first, last = calls[0].at.strftime("%Y-%m"), calls[-1].at.strftime("%Y-%m")
    out.print(Text.assemble(f"Sending {len(calls):,} calls for {customers:,} new SME customers ({first} and "
                            f"{last}) to {url} over {seconds:g} s.\nPlanted: the onboarding call's CSAT falls "
                            f"from about {SATISFIED[0]:.0%} satisfied in {first} to {SATISFIED[1]:.0%} in {last}."))
    with rich_progress(err) as progress:
        sent = send(calls, url, key, seconds=seconds, progress=progress)
    out.print(f"sent {sent.events:,} events and {sent.answers:,} survey answers"
              + (f"; {sent.refused:,} refused" if sent.refused else ""))
    out.print(Text.assemble("Open ", (f"{url}/maps/{MAP_ID}", "bold"), ": its reach grows as the app drains the "
                            "calls (every 2 s); after its next refresh the decay alert is in the map's feed."))
