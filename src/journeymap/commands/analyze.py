"""``journeymap analyze MAP``: the full analysis of one map (engine, metrics, voice of the
customer, pain points and opportunities), as a compact terminal summary and optionally
as JSON (DESIGN.md §3.3) — the dict of :func:`journeymap.analysis.full_analysis`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from journeymap.cli_progress import rich_progress
from journeymap.commands.common import err, open_workspace, out, workspace_option, write_json
from journeymap.errors import ConfigError

BAR = 24


def parse_when(value: str | dt.date | None, option: str) -> dt.datetime | None:
    """``--since``/``--until``: a date or ISO timestamp (text, or a date/datetime)."""
    if value is None or isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{option} {value}: expected a date (YYYY-MM-DD) or ISO timestamp") from None


def parse_window(value: str | dt.timedelta | None, option: str = "--funnel-window") -> dt.timedelta | None:
    """A duration as ``30m``, ``12h``, ``7d`` or ``2w`` (or a timedelta)."""
    if value is None or isinstance(value, dt.timedelta):
        return value
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    number, unit = value[:-1], value[-1:]
    if unit not in units or not number.isdigit():
        raise ConfigError(f"{option} {value}: expected a number and a unit (30m, 12h, 7d, 2w)")
    return dt.timedelta(seconds=int(number) * units[unit])


def _names(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """Comma-separated text or a sequence of names, stripped, empties dropped."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(s.strip() for s in items if s.strip())


def analyze_options(*, segment: str | None = None, since: str | dt.date | None = None,
                    until: str | dt.date | None = None, by: str | None = None,
                    all_customers: bool = False, per_session: bool = False,
                    funnel: str | Sequence[str] | None = None, funnel_level: str | None = None,
                    funnel_order: str = "loose", funnel_window: str | dt.timedelta | None = None,
                    exclude: str | Sequence[str] | None = None, paths_to: str | None = None,
                    paths_from: str | None = None, around_steps: int = 3,
                    sections: str | Sequence[str] | None = None, fast: bool = False,
                    prefix: str = "--") -> dict[str, Any]:
    """The keyword arguments of :meth:`Workspace.analyze` from the options of ``analyze``
    (the command's and the Python API's; ``prefix`` names them in errors: ``--`` or '')."""
    from journeymap.engine.funnels import FunnelSpec
    from journeymap.engine.journeys import JourneyOptions

    def name(option: str) -> str:
        return prefix + (option.replace("_", "-") if prefix else option)

    if funnel_order not in ("loose", "strict"):
        raise ConfigError(f"{name('funnel_order')} {funnel_order}: expected loose or strict")
    if funnel_level not in (None, "touchpoint", "event", "stage"):
        raise ConfigError(f"{name('funnel_level')} {funnel_level}: expected touchpoint, event or stage")
    if not 1 <= int(around_steps) <= 20:
        raise ConfigError(f"{name('around_steps')} {around_steps}: expected 1 to 20")
    spec = None
    if _names(funnel):
        spec = FunnelSpec(_names(funnel), level=funnel_level or "touchpoint",  # type: ignore[arg-type]
                          order=funnel_order,  # type: ignore[arg-type]
                          window=parse_window(funnel_window, name("funnel_window")),
                          exclude=_names(exclude))
    return {"segment": segment, "since": parse_when(since, name("since")),
            "until": parse_when(until, name("until")), "persona": not all_customers, "by": by,
            "funnel_spec": spec, "options": JourneyOptions(unit="session" if per_session else "customer"),
            "paths_to": paths_to, "paths_from": paths_from, "around_steps": int(around_steps),
            "sections": list(_names(sections)) or None, "fast": fast}


@click.command()
@click.argument("map_ref", metavar="MAP")
@workspace_option
@click.option("--segment", help="Only customers matching this rule, e.g. \"segment == 'SME'\".")
@click.option("--since", help="First day (inclusive), YYYY-MM-DD.")
@click.option("--until", help="Last day (exclusive), YYYY-MM-DD.")
@click.option("--by", "by", help="Split the stage funnel by this customer attribute, e.g. segment.")
@click.option("--all-customers", is_flag=True, help="Ignore the map's persona segment.")
@click.option("--per-session", is_flag=True, help="Analyse sessions (30 min inactivity) instead of customers.")
@click.option("--funnel", "funnel_steps", help="Funnel steps, comma-separated (default: the map's stages).")
@click.option("--funnel-level", type=click.Choice(["touchpoint", "event", "stage"]), default=None,
              help="What the funnel steps name (default: touchpoint, or stage for the default funnel).")
@click.option("--funnel-order", type=click.Choice(["loose", "strict"]), default="loose", show_default=True)
@click.option("--funnel-window", help="Conversion window from step 1, e.g. 7d, 12h.")
@click.option("--exclude", "exclude", help="Exclusion steps, comma-separated.")
@click.option("--paths-to", metavar="TOUCHPOINT",
              help="Also show the steps that lead to this touchpoint (e.g. churn).")
@click.option("--paths-from", metavar="TOUCHPOINT",
              help="Also show the steps that follow this touchpoint.")
@click.option("--around-steps", type=click.IntRange(1, 20), default=3, show_default=True,
              help="How many steps --paths-to / --paths-from show.")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True,
              help="Analytics engine (spark: [engine] spark_url or $JOURNEYMAP_SPARK_URL, "
                   "default local[2]; docs/spark.md).")
@click.option("--sections", help="Only these sections, comma-separated (e.g. stages,feedback,pain_points).")
@click.option("--fast", is_flag=True, help="Skip the slow sections: clv, themes, clusters.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the full result as JSON ('-' for stdout).")
def analyze(map_ref: str, workspace: Path, segment: str | None, since: str | None,
            until: str | None, by: str | None, all_customers: bool, per_session: bool,
            funnel_steps: str | None, funnel_level: str | None, funnel_order: str,
            funnel_window: str | None, exclude: str | None, paths_to: str | None,
            paths_from: str | None, around_steps: int, engine: str,
            sections: str | None, fast: bool, json_out: Path | None) -> None:
    """Analyse MAP on the workspace's data: stage funnel, transitions, paths, funnel,
    feedback, attribution, CLV, goal, emotion, themes, pain points and opportunities."""
    options = analyze_options(
        segment=segment, since=since, until=until, by=by, all_customers=all_customers,
        per_session=per_session, funnel=funnel_steps, funnel_level=funnel_level, funnel_order=funnel_order,
        funnel_window=funnel_window, exclude=exclude, paths_to=paths_to, paths_from=paths_from,
        around_steps=around_steps, sections=sections, fast=fast)
    with open_workspace(workspace) as ws:
        jmap = ws.load_map(map_ref)
        with rich_progress(err) as progress:
            result = ws.analyze(jmap, engine=engine, progress=progress, **options)
    if json_out is not None and write_json(result, json_out):
        return
    print_summary(result)
    if json_out is not None:
        out.print(f"\nwrote {json_out}")


def _bar(share: float | None) -> str:
    share = max(0.0, min(1.0, share or 0.0))
    full = round(share * BAR)
    return "█" * full + "·" * (BAR - full)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _dur(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def _stage_table(title: str, stages: list[dict[str, Any]]) -> Table:
    top = max((s["customers"] for s in stages), default=0) or 1
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    for col in ("stage", "reach", "", "→ next", "exit", "time in stage"):
        table.add_column(col, justify="left" if col in ("stage", "") else "right")
    for s in stages:
        table.add_row(s.get("name") or s["id"], f"{s['customers']:,}", _bar(s["customers"] / top),
                      _pct(s["conversion_to_next"]), _pct(s["exit_rate"]),
                      _dur(s["median_seconds_in_stage"]))
    return table


def print_summary(result: dict[str, Any]) -> None:
    """The compact terminal view: stage funnel, funnel, top transitions, paths, decay."""
    m, scope = result["map"], result.get("scope", {})
    if "stages" not in result:  # --sections without the stage funnel: JSON only
        _print_insight(result)
        return
    out.print(Text.assemble((str(m["title"]), "bold"), f" ({m['id']}) — "
                            f"{scope.get('customers', 0):,} customers, {scope.get('events', 0):,} events"))
    for notice in scope.get("notices", []):
        out.print(Text.assemble(("note:", "yellow"), f" {notice}"))
    out.print(_stage_table("Stage funnel", result["stages"]))
    by = result.get("by")
    if by:
        for name, group in sorted(by["groups"].items()):
            out.print(_stage_table(f"Stage funnel — {by['attribute']} = {name}", group["stages"]))
    if result.get("funnel"):
        t = Table(title="Funnel", title_justify="left", box=None, pad_edge=False)
        for col in ("step", "customers", "conversion", "median time", "dropped → next"):
            t.add_column(col)
        for s in result["funnel"]:
            went = ", ".join(f"{d['to']} {d['customers']:,}" for d in s.get("dropped_next", [])[:3])
            t.add_row(s["step"], f"{s['customers']:,}", _pct(s["conversion"]),
                      _dur(s["median_seconds_from_start"]), went)
        out.print(t)
        if by:
            for name, group in sorted(by["groups"].items()):
                steps = " → ".join(f"{s['step']} {_pct(s['conversion'])}" for s in group["funnel"])
                out.print(f"  {by['attribute']} = {name}: {steps}")
    t = Table(title="Top transitions", title_justify="left", box=None, pad_edge=False)
    for col in ("from", "to", "count", "customers", "share of from", "median gap"):
        t.add_column(col)
    for r in [r for r in result.get("transitions", []) if r["from"] != r["to"]][:8]:
        t.add_row(r["from"], r["to"], f"{r['count']:,}", f"{r['customers']:,}", _pct(r["share"]),
                  _dur(r["median_seconds"]))
    out.print(t)
    out.print("Top paths", style="bold")
    for p in result.get("paths", [])[:5]:
        out.print(f"  {p['share']:6.1%}  {' → '.join(p['path'])}")
    outcome = result.get("outcome_paths") or {}
    for key, label in (("converted", "reached"), ("dropped", "started the funnel, never reached")):
        if outcome.get(key):
            out.print(f"Paths of customers who {label} {outcome['step']}", style="bold")
            for p in outcome[key][:3]:
                out.print(f"  {p['share']:6.1%}  {' → '.join(p['path'])}")
    for key, label in (("paths_to", "leading to"), ("paths_from", "after")):
        if result.get(key):
            out.print(f"Steps {label} {result[key][0]['path'][-1 if key == 'paths_to' else 0]}", style="bold")
            for p in result[key][:5]:
                out.print(f"  {p['share']:6.1%}  {' → '.join(p['path'])}")
    if result.get("decay_points"):
        out.print(Text.assemble(("Decay points", "bold"), " (where journeys stop before the last stage)"))
        for d in result["decay_points"][:5]:
            out.print(f"  {d['stage']} / {d['touchpoint']}: {d['customers']:,} customers "
                      f"({_pct(d['share_of_stage'])} of those who reached the stage)")
    _print_insight(result)
    un = result.get("unmatched") or {"events": 0}
    if un["events"]:
        names = ", ".join(e["event"] for e in un["examples"])
        out.print(f"{un['events']:,} events ({_pct(un['share'])}) match no touchpoint; "
                  f"most frequent: {names}", style="dim")


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1%}" if 0 <= abs(value) <= 1 else f"{value:,.1f}"


def _p(value: float) -> str:
    return "p adj < 0.0001" if value < 1e-4 else f"p adj {value:.2g}"


def _pain_line(p: dict[str, Any]) -> str:
    e = p["evidence"]
    return (f"{p['target']} ({p['kind'].replace('_', ' ')}): {e['metric']} {_num(e['value'])} vs "
            f"{_num(e['baseline'])} ({e['compared_with']}), n={e['n']:,}, {_p(e['p_adjusted'])}, "
            f"impact {p['score']:,.0f}")


def _print_insight(result: dict[str, Any]) -> None:
    """The "Pain points" block (top 5, one line of evidence each) and the "Goal" line."""
    pains = result.get("pain_points")
    if pains:
        out.print(Text.assemble(("Pain points", "bold"), " (worse than their baseline, BH-adjusted "
                                "p < 0.05; impact = customers affected × effect size)"))
        for p in pains[:5]:
            out.print(f"  {p['rank']}. {_pain_line(p)}", highlight=False)
    elif pains is not None:
        out.print(Text.assemble(("Pain points", "bold"), ": none significant"))
    opps = result.get("opportunities") or []
    if opps:
        o = opps[0]
        g = o["estimated_gain"]
        out.print(Text.assemble(("Top opportunity", "bold"), f": {o['target']} — about "
                                f"{g['customers']:,} customers ({g['metric']}) if {g['if']}"))
    goal = result.get("goal")
    if goal and goal.get("metric"):
        cur = (goal.get("current") or {}).get("value")
        out.print(Text.assemble(("Goal", "bold"), f": {goal.get('name') or goal['metric']} — baseline "
                                f"{_num(goal.get('baseline'))}, current {_num(cur)}, target "
                                f"{_num(goal.get('target'))}"
                                f"{', deadline ' + str(goal['deadline']) if goal.get('deadline') else ''}: "
                                f"{str(goal.get('status', 'no_data')).replace('_', ' ')}"))
    elif goal:
        out.print(Text.assemble(("Goal", "bold"), f": {str(goal.get('status')).replace('_', ' ')} — "
                                f"{goal.get('reason', '')}"))
    alerts = result.get("alerts")
    decays = [a for a in (alerts or {}).get("alerts", []) if a.get("kind") in ("kpi_decay", "conversion_drop")]
    if decays:
        out.print(Text.assemble(("Alerts", "bold"), f" (latest period against the one before, {alerts['tests']} "
                                "KPIs and stage conversions tested, Holm-corrected)"))
        for a in decays:
            out.print(Text.assemble(("  ! ", "red"), a["text"]), highlight=False)
