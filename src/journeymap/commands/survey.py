"""`journeymap survey link|links`: signed single-use links to a touchpoint's survey, for
email and SMS (the collector serves them at /s/TOKEN and takes the answers)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import click

from journeymap.commands.common import err, open_workspace, out, workspace_option

DEFAULT_BASE = "http://127.0.0.1:8787"
_base_option = click.option(
    "--base-url", default=DEFAULT_BASE, show_default=True,
    help="Where customers reach the collector (journeymap collect, or serve --collect).")
_days_option = click.option("--days", default=14.0, show_default=True, type=click.FloatRange(0.01, 365),
                            help="Days until the link expires.")


@click.group("survey")
def survey() -> None:
    """Surveys at touchpoints: a map's touchpoint with `survey: {metric: csat}` is asked by
    a link (these commands), by the pop-up script /survey.js, or by POST /v1/survey; every
    answer lands in feedback, tied to the customer and the touchpoint."""


@survey.command("link")
@click.argument("map_ref", metavar="MAP")
@click.argument("touchpoint")
@click.argument("customer")
@workspace_option
@_days_option
@_base_option
def link(map_ref: str, touchpoint: str, customer: str, workspace: Path, days: float, base_url: str) -> None:
    """Print a signed single-use link for CUSTOMER to the survey at TOUCHPOINT of MAP."""
    with open_workspace(workspace) as ws:
        [(_, url)] = ws.survey_links(map_ref, touchpoint, [customer], days=days, base_url=base_url)
    click.echo(url)


@survey.command("links")
@click.argument("map_ref", metavar="MAP")
@click.argument("touchpoint")
@workspace_option
@click.option("--segment", metavar="RULE", help="Only these customers (default: the survey's audience, or all).")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write customer_id,link as CSV here (default: standard output).")
@_days_option
@_base_option
def links(map_ref: str, touchpoint: str, workspace: Path, segment: str | None, out_file: Path | None,
          days: float, base_url: str) -> None:
    """One link per customer, as CSV (customer_id,link) for a mail merge or an SMS tool."""
    with open_workspace(workspace) as ws:
        made = ws.survey_links(map_ref, touchpoint, segment=segment, days=days, base_url=base_url)
    fh = out_file.open("w", newline="", encoding="utf-8") if out_file else sys.stdout
    try:
        writer = csv.writer(fh)
        writer.writerow(["customer_id", "link"])
        writer.writerows(made)
    finally:
        if out_file:
            fh.close()
    if out_file:
        out.print(f"{len(made):,} links written to {out_file}")
    elif not made:
        err.print("no customers to ask")
