"""The analytics views of a map: paths, funnel, stages by segment, segment comparison,
pain points, themes and KPI trends — each a pure function of the map and its analysis
(the dict of ``analyze --json``), returning charts, tables and cards a page lays out.

Every view reads the same keys the map page reads (DESIGN §3.3); a view whose data is
absent says why instead of drawing an empty chart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from journeymap.model.document import JourneyMap
from journeymap.render.charts import SegmentSeries, TrendPoint, segment_funnel_chart, trend_chart
from journeymap.render.chartset import Chart, funnel, outcome_paths, sankey, trend_series
from journeymap.render.metrics import fmt_duration, rows
from journeymap.render.view import MapView, build_view


@dataclass(frozen=True)
class Cell:
    text: str
    cls: str = ""  # good | bad | warn | num | muted


@dataclass
class Table:
    id: str
    title: str
    caption: str
    columns: list[str]
    rows: list[list[Cell]]


@dataclass
class Card:
    title: str
    badge: str = ""
    badge_cls: str = ""
    facts: list[tuple[str, str]] = field(default_factory=list)  # (label, value)
    lines: list[str] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)


@dataclass
class AnalyticsView:
    id: str
    title: str
    intro: str
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    card_title: str = ""
    empty: str | None = None  # why there is nothing to show


def _pct(v: Any, digits: int = 0) -> str:
    return "–" if not isinstance(v, (int, float)) else f"{v * 100:.{digits}f} %"


def _n(v: Any) -> str:
    return "–" if not isinstance(v, (int, float)) else f"{int(v):,}"


def _num(v: Any) -> str:
    if not isinstance(v, (int, float)):
        return "–"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def _p(v: Any) -> str:
    if not isinstance(v, (int, float)):
        return "–"
    return "< 0.001" if v < 0.001 else f"{v:.3f}"


ACRONYMS = {"csat": "CSAT", "nps": "NPS", "ces": "CES", "clv": "CLV", "kpi": "KPI"}


def label(code: Any) -> str:
    """``low_csat`` → ``Low CSAT``: a code of the analysis as words."""
    words = [ACRONYMS.get(w, w) for w in str(code or "").replace("_", " ").split()]
    if words and words[0] == words[0].lower():
        words[0] = words[0].capitalize()
    return " ".join(words)


def _value(v: Any, row: Mapping[str, Any]) -> str:
    if row.get("kind") == "proportion":
        return _pct(v, 1)
    if row.get("metric") == "time_to_convert":
        return fmt_duration(v) if isinstance(v, (int, float)) else "–"
    if row.get("metric") == "journey_days" and isinstance(v, (int, float)):
        return f"{v:.1f} d"
    return _num(v)


def _name(view: MapView, ref: Any) -> str:
    ref = str(ref)
    return {"START": "Start", "END": "End of journey"}.get(ref, view.stage_name(ref))


# -- paths -------------------------------------------------------------------------------
def paths_view(view: MapView) -> AnalyticsView:
    out = AnalyticsView("paths", "Paths", "How customers move through the map: the flows between its "
                        "stages, the paths of those who reached the end and of those who did not, and "
                        "the most common sequences of touchpoints.")
    out.charts = [c for c in (sankey(view), outcome_paths(view)) if c is not None]
    paths = rows(view.analysis.get("paths"))
    if paths:
        out.tables.append(Table("top-paths", "Most common paths", "Each customer's first steps (repeats in a row "
                                "collapsed); share of the customers in scope.", ["Path", "Customers", "Share"],
                                [[Cell(" → ".join(_name(view, x) for x in p.get("path") or [])),
                                  Cell(_n(p.get("customers")), "num"), Cell(_pct(p.get("share"), 1), "num")]
                                 for p in paths[:15]]))
    loops = rows(view.analysis.get("loops"))
    if loops:
        out.tables.append(Table("loops", "Where customers go round in circles", "Customers who repeat a "
                                "touchpoint several times in a row (stuck: a run of three or more).",
                                ["Touchpoint", "Customers", "Stuck", "Stuck share", "Median run"],
                                [[Cell(_name(view, r.get("step"))), Cell(_n(r.get("customers")), "num"),
                                  Cell(_n(r.get("stuck")), "num"),
                                  Cell(_pct(r.get("stuck_share")), "num bad" if (r.get("stuck_share") or 0) >= 0.5
                                       else "num"),
                                  Cell(_num(r.get("median_run")), "num")] for r in loops[:10]]))
    if not out.charts and not out.tables:
        out.empty = "No paths yet: no events of this map's touchpoints in scope."
    return out


# -- funnel ------------------------------------------------------------------------------
def funnel_view(view: MapView) -> AnalyticsView:
    out = AnalyticsView("funnel", "Funnel", "Customers at each step of the map's funnel, how many "
                        "continued, and where those who did not continue went next.")
    chart = funnel(view)
    if chart is None:
        out.empty = "No funnel yet: no customer reached the map's first stage in scope."
        return out
    out.charts.append(chart)
    steps = rows(view.analysis.get("funnel"))
    out.tables.append(Table("funnel-steps", "Steps", "Conversion from the first step and from the step "
                            "before; leavers: where the customers who did not continue went next.",
                            ["Step", "Customers", "From first", "From previous", "Left", "Median time",
                             "Leavers went to"],
                            [[Cell(_name(view, r.get("step"))), Cell(_n(r.get("customers")), "num"),
                              Cell(_pct(r.get("conversion"), 1), "num"),
                              Cell(_pct(r.get("conversion_from_previous"), 1),
                                   "num bad" if (r.get("conversion_from_previous") or 1) < 0.5 else "num"),
                              Cell(_n(r.get("drop_off")), "num"),
                              Cell(fmt_duration(r.get("median_seconds_from_previous")) if i else "–", "num"),
                              Cell(", ".join(f"{_name(view, d.get('to'))} {_n(d.get('customers'))}"
                                             for d in rows(r.get("dropped_next"))[:4]) or "–")]
                             for i, r in enumerate(steps)]))
    decays = rows(view.analysis.get("decay_points"))
    if decays:
        out.tables.append(Table("decay-points", "Decay points", "The last touchpoint of customers who left "
                                "a stage without reaching the next.",
                                ["Stage", "Last touchpoint", "Customers", "Share of those lost",
                                 "Share of the stage"],
                                [[Cell(_name(view, d.get("stage"))), Cell(_name(view, d.get("touchpoint"))),
                                  Cell(_n(d.get("customers")), "num"), Cell(_pct(d.get("share_of_lost")), "num"),
                                  Cell(_pct(d.get("share_of_stage"), 1), "num")] for d in decays[:12]]))
    return out


# -- stages by segment ---------------------------------------------------------------------
def stages_by_segment_view(view: MapView) -> AnalyticsView:
    by = view.analysis.get("by")
    attribute = str(by.get("attribute")) if isinstance(by, Mapping) and by.get("attribute") else "segment"
    out = AnalyticsView("stages", "Stages by segment", f"The stage funnel of each value of {attribute}: "
                        "the share of its customers on the journey (with an event of one of the map's "
                        "touchpoints) reaching each stage, side by side.")
    groups = by.get("groups") if isinstance(by, Mapping) else None
    if not isinstance(groups, Mapping) or not groups:
        out.empty = "Choose an attribute to break the stage funnel down by (By, above)."
        return out
    names = [s.stage.name for s in view.stages]
    series = []
    for name, group in groups.items():
        counts = {str(r.get("id") or r.get("stage")): r.get("customers") for r in rows(group.get("stages"))}
        values = [counts.get(s.stage.id) for s in view.stages]
        total = group.get("customers") or max((c for c in values if isinstance(c, (int, float))), default=0)
        series.append(SegmentSeries(str(name), int(total or 0), [
            c / total if isinstance(c, (int, float)) and total else None for c in values]))
    series.sort(key=lambda s: -s.customers)
    out.charts.append(Chart("segment-funnel", f"Stage funnel by {attribute}",
                            "One line per value (the largest five); every value in the table below.",
                            segment_funnel_chart(names, series, attribute=attribute)))
    # all customers on the same basis: the groups together (each customer is in one)
    everyone = sum(s.customers for s in series)
    overall = {st.stage.id: (st.customers / everyone if st.customers is not None and everyone else None)
               for st in view.stages}
    table_rows = []
    for s in series:
        cells = [Cell(s.name), Cell(_n(s.customers), "num")]
        for st, share in zip(view.stages, s.shares, strict=True):
            base = overall.get(st.stage.id)
            cls = "num"
            if share is not None and base is not None and abs(share - base) >= 0.05:
                cls += " good" if share > base else " bad"
            cells.append(Cell(_pct(share), cls))
        table_rows.append(cells)
    out.tables.append(Table("segment-stages", f"Reach of each stage by {attribute}",
                            "Share of the value's customers on the journey reaching the stage; green or "
                            "red: 5 points or more above or below all of them together.",
                            [attribute, "Customers", *names], table_rows))
    return out


# -- segment comparison ---------------------------------------------------------------------
def segments_view(view: MapView) -> AnalyticsView:
    out = AnalyticsView("segments", "Segment comparison", "Each segment against the rest of the customers "
                        "in scope, metric by metric, with the test used and its p-value adjusted for the "
                        "number of comparisons (Benjamini–Hochberg); significant at 5 %.")
    found = rows(view.analysis.get("segments"))
    if not found:
        out.empty = ("No segments to compare: the persona names no customer attribute, or none is loaded; "
                     "choose one with By, above.")
        return out
    ordered = sorted(found, key=lambda r: (not r.get("significant"), r.get("p_bh") if isinstance(
        r.get("p_bh"), (int, float)) else 2.0, str(r.get("metric")), str(r.get("segment"))))
    out.tables.append(Table("segment-tests", "Segments against the rest", "Value: the segment's (a share, "
                            "or a median for distributions); lift: segment ÷ rest.",
                            ["Metric", "Segment", "Customers", "Value", "Rest", "Difference", "Lift", "Test",
                             "p", "p (BH)", ""],
                            [[Cell(label(r.get("metric"))), Cell(str(r.get("segment"))),
                              Cell(_n(r.get("customers")), "num"), Cell(_value(r.get("value"), r), "num"),
                              Cell(_value(r.get("rest_value"), r), "num"),
                              Cell(_diff(r), "num"), Cell(_num(r.get("lift")), "num"),
                              Cell(str(r.get("test") or "–"), "muted"), Cell(_p(r.get("p_value")), "num"),
                              Cell(_p(r.get("p_bh")), "num"),
                              Cell("significant", "good" if (r.get("difference") or 0) > 0 else "bad")
                              if r.get("significant") else Cell("")] for r in ordered]))
    return out


def _diff(r: Mapping[str, Any]) -> str:
    d = r.get("difference")
    if not isinstance(d, (int, float)):
        return "–"
    if r.get("kind") == "proportion":
        return f"{d * 100:+.1f} pp"
    if r.get("metric") == "time_to_convert":
        return ("+" if d >= 0 else "−") + fmt_duration(abs(d))
    return ("+" if d >= 0 else "") + _value(d, {**r, "kind": None})


# -- pain points --------------------------------------------------------------------------
def pain_points_view(view: MapView) -> AnalyticsView:
    out = AnalyticsView("pain-points", "Pain points", "Where the data says customers struggle, ranked by "
                        "customers affected and effect size, each with its evidence: the number against "
                        "its baseline, the test, what customers said and the paths they took next.",
                        card_title="Pain points")
    pains = rows(view.analysis.get("pain_points"))
    for p in pains:
        e = p.get("evidence") if isinstance(p.get("evidence"), Mapping) else {}
        target = str(p.get("target") or "").split(":", 1)[-1]
        card = Card(f"#{p.get('rank', '')} {label(p.get('kind'))}: "
                    f"{_name(view, target)}", badge=f"{_n(p.get('customers_affected'))} customers", badge_cls="bad")
        value, baseline = e.get("value"), e.get("baseline")
        ci = e.get("ci") if isinstance(e.get("ci"), list) and len(e.get("ci")) == 2 else None
        share = all(isinstance(x, (int, float)) and x <= 1 for x in (value, baseline))
        show = _pct if share else (lambda v, d=0: _num(v))  # noqa: E731
        if e.get("metric"):
            card.facts.append(("Measure", str(e["metric"])))
        card.facts.append(("Here", f"{show(value, 1)}" + (f" (95 % CI {show(ci[0], 1)}–{show(ci[1], 1)})" if ci else "")
                           + (f", n={_n(e.get('n'))}" if e.get("n") else "")))
        card.facts.append(("Baseline", f"{show(baseline, 1)}" + (f" — {e['compared_with']}" if e.get("compared_with")
                                                                  else "")
                           + (f", n={_n(e.get('baseline_n'))}" if e.get("baseline_n") else "")))
        if e.get("test"):
            card.facts.append(("Test", f"{e['test']}: p {_p(e.get('p_value'))}, adjusted {_p(e.get('p_adjusted'))}"))
        if e.get("median_seconds") is not None:
            card.facts.append(("Time", f"median {fmt_duration(e.get('median_seconds'))} (typical "
                               f"{fmt_duration(e.get('typical_seconds'))})"))
        card.lines = [f"{' → '.join(_name(view, x) for x in q.get('path') or [])}: {_n(q.get('customers'))} customers"
                      for q in rows(e.get("paths"))[:3]]
        card.quotes = [str(q) for q in (e.get("quotes") or [])[:3] if isinstance(q, str)]
        out.cards.append(card)
    opportunities = rows(view.analysis.get("opportunities"))
    if opportunities:
        out.tables.append(Table("opportunities", "Opportunities", "What fixing a pain point could gain, if the "
                                "touchpoint matched its baseline.", ["Where", "Idea", "Estimated gain", "If"],
                                [[Cell(_name(view, str(o.get("target") or "").split(":", 1)[-1])),
                                  Cell(label(o.get("kind"))),
                                  Cell(_gain(o.get("estimated_gain"))),
                                  Cell(str((o.get("estimated_gain") or {}).get("if") or ""), "muted")]
                                 for o in opportunities]))
    if not pains:
        out.empty = "No pain points found in the data in scope: no touchpoint is worse than its baseline " \
                    "beyond chance."
    return out


def _gain(g: Any) -> str:
    if not isinstance(g, Mapping):
        return "–"
    return f"{_n(g.get('customers'))} {g.get('metric') or 'customers'}"


# -- themes -------------------------------------------------------------------------------
def themes_view(view: MapView) -> AnalyticsView:
    out = AnalyticsView("themes", "Themes", "What customers write in surveys, tickets and calls, grouped into "
                        "themes, with their sentiment, where they concentrate and what customers said.",
                        card_title="Themes")
    section = view.analysis.get("themes")
    themes = rows(section.get("themes")) if isinstance(section, Mapping) else rows(section)
    for t in themes:
        negative = t.get("negative_share")
        card = Card(str(t.get("label") or t.get("id")), badge=f"{_n(t.get('count'))} comments",
                    badge_cls="bad" if isinstance(negative, (int, float)) and negative >= 0.5 else "")
        card.facts = [("Customers", _n(t.get("customers"))), ("Sentiment", _num(t.get("sentiment"))),
                      ("Negative", _pct(negative))]
        where = [f"{_name(view, w.get('touchpoint'))} ({_pct(w.get('share'))})" for w in rows(t.get("touchpoints"))[:3]]
        if where:
            card.facts.append(("Where", ", ".join(where)))
        if t.get("concentrated_on"):
            card.lines.append("Concentrated on " + ", ".join(_name(view, x) for x in t["concentrated_on"]))
        card.quotes = [str(q) for q in (t.get("quotes") or [])[:3] if isinstance(q, str)]
        out.cards.append(card)
    if not themes:
        out.empty = "No themes: no comments, tickets or transcripts of this map's customers in scope."
    elif isinstance(section, Mapping) and section.get("texts"):
        out.intro += f" From {_n(section.get('texts'))} texts ({section.get('method') or 'tf-idf'})."
    return out


# -- KPI trends ---------------------------------------------------------------------------
def history_series(history: Sequence[Mapping[str, Any]], view: MapView) -> tuple[dict[str, list[TrendPoint]],
                                                                                 dict[str, float]]:
    """The goal's value and each stage's conversion to the next, refresh by refresh (one
    point per snapshot day: :mod:`journeymap.snapshots`)."""
    series: dict[str, list[TrendPoint]] = {}
    targets: dict[str, float] = {}
    for snap in history:
        day = str(snap.get("day") or "")
        for r in snap.get("numbers") or []:
            if not isinstance(r, Mapping) or not isinstance(r.get("value"), (int, float)):
                continue
            if r.get("kind") == "goal":
                name = f"Goal: {label(str(r.get('metric') or 'goal'))}"
                if isinstance(r.get("target_value"), (int, float)):
                    targets[name] = float(r["target_value"])
            elif r.get("kind") == "stage" and r.get("metric") == "conversion_to_next":
                name = f"{view.stage_name(str(r.get('target')))}: conversion to next"
            else:
                continue
            series.setdefault(name, []).append(TrendPoint(day, float(r["value"]), r.get("n"), r.get("ci_low"),
                                                          r.get("ci_high")))
    return {k: v for k, v in series.items() if len(v) > 1}, targets


def trends_view(view: MapView, history: Sequence[Mapping[str, Any]] = ()) -> AnalyticsView:
    out = AnalyticsView("trends", "KPI trends", "Each KPI month by month with its 95 % interval, against the "
                        "map's target: the goal's metric and every feedback KPI of the map's customers.")
    kept, kept_targets = history_series(history, view)
    if kept:
        out.charts.append(Chart("refresh-history", "Refresh by refresh",
                                f"The goal and each stage's conversion as the map's refreshes found them, one point "
                                f"per day ({len(history)} days kept in snapshots/); dashed green: the target.",
                                trend_chart(kept, kept_targets)))
    series, targets = trend_series(view)
    goal = view.analysis.get("goal")
    if isinstance(goal, Mapping) and rows(goal.get("monthly")):
        name = str(goal.get("name") or goal.get("metric") or "goal")
        series = {name: [TrendPoint(str(r.get("period")), float(r["value"]), r.get("n"), r.get("ci_low"),
                                    r.get("ci_high"))
                         for r in rows(goal.get("monthly")) if isinstance(r.get("value"), (int, float))],
                  **series}
        if isinstance(goal.get("target"), (int, float)):
            targets = {name: float(goal["target"]), **targets}
        out.intro += f" Goal: {goal.get('statement') or name}" + (
            f" — {str(goal.get('status')).replace('_', ' ')}." if goal.get("status") else ".")
    series = {k: v for k, v in series.items() if len(v) > 1}
    if not series:
        if not kept:
            out.empty = "No trend yet: fewer than two months of the goal's metric or of survey answers in scope."
        return out
    out.charts.append(Chart("kpi-trend", "KPI trends", "Solid: the monthly value; band: its 95 % interval; "
                            "dashed green: the target.", trend_chart(series, targets)))
    periods = sorted({p.period for pts in series.values() for p in pts})[-12:]
    at = {k: {p.period: p for p in pts} for k, pts in series.items()}
    out.tables.append(Table("trend-values", "Month by month", "The last twelve months; n: answers or "
                            "customers behind each value.", ["KPI", *periods],
                            [[Cell(label(k) if k.islower() else k), *[Cell(f"{_num(at[k][m].value)}" + (f" (n={at[k][m].n})" if at[k][m].n
                                                                            else "") if m in at[k] else "–", "num")
                                         for m in periods]] for k in series]))
    return out


#: the views in the order of their tabs: id -> (title, builder)
VIEWS: dict[str, tuple[str, Callable[[MapView], AnalyticsView]]] = {
    "paths": ("Paths", paths_view),
    "funnel": ("Funnel", funnel_view),
    "stages": ("Stages by segment", stages_by_segment_view),
    "segments": ("Segment comparison", segments_view),
    "pain-points": ("Pain points", pain_points_view),
    "themes": ("Themes", themes_view),
    "trends": ("KPI trends", trends_view),
}


def analytics_view(jmap: JourneyMap, analysis: Mapping[str, Any], view_id: str,
                   history: Sequence[Mapping[str, Any]] = ()) -> AnalyticsView:
    """One analytics view of ``jmap`` from its analysis (``view_id``: a key of :data:`VIEWS`);
    ``history``: the map's snapshots, which the trends view draws refresh by refresh."""
    if view_id not in VIEWS:
        raise KeyError(view_id)
    if view_id == "trends":
        return trends_view(build_view(jmap, analysis), history)
    return VIEWS[view_id][1](build_view(jmap, analysis))
