"""``journeymap clv``: fit BG/NBD, Pareto/NBD and Gamma-Gamma on transactions and print
the parameters, log-likelihoods and the CLV summary (per persona, and per ``--by`` attribute)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from journeymap.cli_progress import rich_progress
from journeymap.commands.common import err, open_workspace, out, workspace_option, write_json
from journeymap.errors import JourneymapError


@click.command("clv")
@workspace_option
@click.option("--transactions", "transactions_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Read transactions from this file (customer_id, timestamp, amount) instead of the workspace.")
@click.option("--observation-end", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Last day of observation (default: the last transaction's day).")
@click.option("--time-unit", type=click.Choice(["day", "week", "month"]), default="week", show_default=True)
@click.option("--model", type=click.Choice(["bgnbd", "pareto_nbd"]), default="bgnbd", show_default=True,
              help="Count model used for the CLV (both are fitted and shown).")
@click.option("--horizon", "horizon_months", type=click.IntRange(1, 600), default=12, show_default=True,
              help="CLV horizon in months.")
@click.option("--discount-rate", type=click.FloatRange(0, 10), default=0.10, show_default=True,
              help="Annual discount rate.")
@click.option("--by", "by", metavar="ATTR", help="Also summarise per value of this customer attribute.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the full result as JSON to this file ('-' for stdout).")
def clv(workspace: Path, transactions_file: Path | None, observation_end: dt.datetime | None, time_unit: str,
        model: str, horizon_months: int, discount_rate: float, by: str | None, json_out: Path | None) -> None:
    """Customer lifetime value: fitted models, log-likelihood and CLV summary."""
    from journeymap.metrics.clv import ClvOptions
    from journeymap.reports import clv_of_file

    options = ClvOptions(time_unit=time_unit,  # type: ignore[arg-type]
                         observation_end=observation_end.date() if observation_end else None,
                         horizon_months=horizon_months, discount_rate_annual=discount_rate,
                         model=model)  # type: ignore[arg-type]
    with rich_progress(err) as progress:
        if transactions_file is not None:
            if by:
                raise JourneymapError("--by needs a workspace's customers, not --transactions")
            data = clv_of_file(transactions_file, options, progress=progress)
        else:
            with open_workspace(workspace) as ws:
                data = ws.clv(options, by=by, progress=progress)
    if json_out is not None and write_json(data, json_out):
        return
    _print(data)
    if json_out is not None:
        out.print(f"wrote {json_out}")


def _print(data: dict[str, Any]) -> None:
    out.print(Text.assemble(("CLV", "bold"), f" — time unit {data['time_unit']}, observation end "
                            f"{data['observation_end']}, horizon {data['horizon_months']} months, "
                            f"discount {data['discount_rate_annual']:.0%} a year"))
    fits = Table("model", "parameters", "log-likelihood", "customers", "converged")
    for name, f in data["models"].items():
        params = ", ".join(f"{k} = {v:.4g}" for k, v in f["params"].items())
        fits.add_row(name, params, f"{f['log_likelihood']:,.2f}", f"{f['customers']:,}",
                     "yes" if f["converged"] else "no")
    out.print(fits)
    rows = Table("group", "customers", "repeat", "CLV total", "CLV mean", "CLV median", "purchases/12m", "P(alive)")

    def add(name: str, s: dict[str, Any]) -> None:
        rows.add_row(name, f"{s['customers']:,}", f"{s['repeat_customers']:,}", _money(s["clv_total"]),
                     _money(s["clv_mean"]), _money(s["clv_median"]), _fmt(s["expected_purchases_12m_mean"]),
                     _fmt(s["p_alive_mean"]))
    add("all customers", data["summary"])
    for seg, s in data.get("segments", {}).items():
        add(f"{data.get('segment_by')} = {seg}", s)
    for map_id, s in data.get("personas", {}).items():
        add(f"persona of {map_id}", s)
    out.print(rows)
    for note in data.get("notes", []):
        err.print(f"note: {note}")


def _money(v: float | None) -> str:
    return "-" if v is None else f"{v:,.2f}"


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"
