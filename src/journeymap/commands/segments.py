"""`journeymap segments`: metrics side by side per segment, with significance tests;
optionally churn by segment, by stage exit and last touchpoint, and cohort retention."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from journeymap.commands.common import open_workspace, out, workspace_option, write_json

SECONDS_METRICS = ("time_to_convert",)


def _value(metric: str, kind: str, value: Any) -> str:
    if value is None:
        return "—"
    if kind == "proportion":
        return f"{value:.1%}"
    if metric in SECONDS_METRICS:
        return f"{value / 86_400:.1f} d"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _p(value: Any) -> str:
    if value is None:
        return "—"
    return "<0.0001" if value < 1e-4 else f"{value:.4f}"


def comparison_table(rows: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for name in ("metric", "segment", "customers", "value", "rest", "lift", "test", "p", "p BH", "p Holm", ""):
        table.add_column(name, justify="left" if name in ("metric", "segment", "test") else "right")
    for r in rows:
        lift = f"{r['lift']:.2f}×" if r.get("lift") is not None else "—"
        table.add_row(r["metric"], str(r["segment"]), f"{r['customers']:,}",
                      _value(r["metric"], r["kind"], r["value"]), _value(r["metric"], r["kind"], r["rest_value"]),
                      lift, r["test"], _p(r["p_value"]), _p(r["p_bh"]), _p(r["p_holm"]),
                      "*" if r["significant"] else "")
    return table


def churn_table(rows: list[dict[str, Any]], title: str, keys: list[str]) -> Table:
    table = Table(title=title, title_justify="left")
    for name in (*keys, "customers", "churned", "churn rate", "rest", "p BH", ""):
        table.add_column(name, justify="left" if name in keys else "right")
    for r in rows:
        table.add_row(*(str(r[k]) for k in keys), f"{r['customers']:,}", f"{r['churned']:,}",
                      _value("", "proportion", r["churn_rate"]), _value("", "proportion", r["rest_churn_rate"]),
                      _p(r["p_bh"]), "*" if r["significant"] else "")
    return table


def retention_table(result: dict[str, Any], periods: int = 12) -> Table:
    table = Table(title=f"Retention by {result['period']} of first touch", title_justify="left")
    table.add_column("cohort")
    table.add_column("customers", justify="right")
    shown = min(periods, int(result["periods"]))
    for k in range(shown):
        table.add_column(str(k), justify="right")
    for c in result["cohorts"]:
        cells = ["" if v is None else f"{v:.0%}" for v in c["retention"][:shown]]
        table.add_row(c["cohort"], f"{c['customers']:,}", *cells)
    return table


@click.command()
@click.argument("map_ref", metavar="MAP")
@workspace_option
@click.option("--by", "by_column", default=None,
              help="Customer attribute or profile column to segment by (segment, plan, nps_band, ...).")
@click.option("--rule", "rules", multiple=True, metavar="NAME=RULE",
              help="A rule segment, e.g. --rule \"webinar=n_webinar_attended >= 1\" (repeatable).")
@click.option("--clusters", "cluster_k", default=None, type=int, is_flag=False, flag_value=0,
              help="Segment by k-means clusters of journeys (0 or no value: choose k).")
@click.option("--metric", "metrics", multiple=True,
              help="conversion, time_to_convert, churn, events, journey_days, did:<event>, "
                   "reached:<stage>, csat, nps, ... (repeatable; default: all that apply).")
@click.option("--churn-event", default=None, help="Churn is this event (e.g. subscription_cancelled).")
@click.option("--inactivity-days", default=None, type=float, help="Churn is this many days without events.")
@click.option("--eligible-event", "eligible", multiple=True,
              help="Only customers who did one of these events are at risk of churn (repeatable).")
@click.option("--exclude-event", "exclude", multiple=True,
              help="Events ignored when finding the last touchpoint before churn (repeatable).")
@click.option("--retention", type=click.Choice(["day", "week", "month"]), default=None,
              help="Also show retention by cohort of first touch.")
@click.option("--all-customers", is_flag=True, help="Ignore the persona's segment rule.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write everything as JSON to this file.")
def segments(map_ref: str, workspace: Path, by_column: str | None, rules: tuple[str, ...],
             cluster_k: int | None, metrics: tuple[str, ...], churn_event: str | None,
             inactivity_days: float | None, eligible: tuple[str, ...], exclude: tuple[str, ...],
             retention: str | None, all_customers: bool, json_path: Path | None) -> None:
    """Compare metrics across segments of MAP's customers, with p-values (BH and Holm)."""
    with open_workspace(workspace) as ws:
        report = ws.segments(map_ref, by=by_column, rules=rules, clusters=cluster_k, metrics=metrics,
                             churn_event=churn_event, inactivity_days=inactivity_days,
                             eligible=eligible, exclude=exclude, retention=retention,
                             all_customers=all_customers)
    print_report(report)
    if json_path is not None:
        if not write_json(report, json_path):
            out.print(f"wrote {json_path}")


def print_report(report: dict[str, Any]) -> None:
    """The segments report as terminal tables: clusters, comparison, churn, retention."""
    for c in report.get("clusters") or []:
        out.print(Text.assemble((str(c["cluster"]), "bold"),
                                f" ({c['customers']:,} customers, {c['share']:.0%}): {c['description']}"))
    title = report["map"]["title"]
    out.print(comparison_table(report["segments"],
                               f"{title} — segments (* = significant after Benjamini–Hochberg, 5 %)"))
    section = report.get("churn")
    if section is not None:
        out.print(f"\n{section['definition']['text']}: {section['churned']:,} of "
                  f"{section['customers']:,} customers ({_value('', 'proportion', section['churn_rate'])})")
        out.print(churn_table(section["by_stage_exit"], "Churn by the last touchpoint in each stage",
                              ["stage", "touchpoint"]))
        out.print(churn_table(section["by_last_touchpoint"], "Churn by last touchpoint before churning",
                              ["touchpoint"]))
    if report.get("retention"):
        out.print(retention_table(report["retention"]))
