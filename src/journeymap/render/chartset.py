"""Which charts a map gets, built from its view: each only when its data is there."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from journeymap.render.charts import (
    GREY,
    EmotionSeries,
    FunnelStep,
    PathGroup,
    TrendPoint,
    compare_chart,
    emotion_chart,
    funnel_chart,
    paths_chart,
    sankey_chart,
    trend_chart,
)
from journeymap.render.metrics import rows
from journeymap.model.document import Kpi
from journeymap.render.view import MapView, on_target_scale


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    caption: str
    svg: str


def _emotion_series(view: MapView, name: str, color: str | None = None,
                    align: list[str] | None = None) -> EmotionSeries:
    stages = {s.stage.id: s for s in view.stages}
    order = align or [s.stage.id for s in view.stages]
    pts = [stages[i].emotion if i in stages else None for i in order]
    series = EmotionSeries(
        name, [p.value if p else None for p in pts], [bool(p and p.measured) for p in pts],
        [p.n if p else None for p in pts], [p.low if p else None for p in pts],
        [p.high if p else None for p in pts], [p.label if p else "" for p in pts],
    )
    if color:
        series.color = color
    return series


def _aligned(view: MapView, other: MapView) -> list[str]:
    """``other``'s stage ids in ``view``'s order: same id, else same position."""
    ids = {s.stage.id for s in other.stages}
    out = []
    for i, s in enumerate(view.stages):
        if s.stage.id in ids:
            out.append(s.stage.id)
        else:
            out.append(other.stages[i].stage.id if i < len(other.stages) else "")
    return out


def emotion(view: MapView, current: MapView | None = None) -> Chart | None:
    if not any(s.emotion.value is not None for s in view.stages):
        return None
    names = [s.stage.name for s in view.stages]
    series = [_emotion_series(view, view.jmap.title)]
    caption = ("Filled points are measured (whisker: 95 % interval, n: answers); hollow points on "
               "dashed lines are assumptions.")
    if current is not None:
        series = [_emotion_series(current, f"Current: {current.jmap.title}", GREY, _aligned(view, current)),
                  _emotion_series(view, f"Future: {view.jmap.title}")]
        caption = "Current state (grey) against the future state this map aims for. " + caption
    return Chart("emotion", "Emotion curve", caption, emotion_chart(names, series))


def funnel(view: MapView) -> Chart | None:
    steps = rows(view.analysis.get("funnel"))
    if not steps:
        return None
    names = {s.stage.id: s.stage.name for s in view.stages}
    order = [str(r.get("step")) for r in steps]
    transitions = rows(view.analysis.get("transitions"))
    out = []
    for i, r in enumerate(steps):
        step = str(r.get("step"))
        nxt = order[i + 1] if i + 1 < len(order) else None
        dropped = rows(r.get("dropped_next")) or [t for t in transitions if str(t.get("from")) == step]
        went = sorted(((_node_name(view, str(t.get("to"))), int(t.get("customers") or t.get("count") or 0))
                       for t in dropped if str(t.get("to")) not in (nxt, step)),
                      key=lambda x: -x[1])
        out.append(FunnelStep(names.get(step, view.stage_name(step)), int(r.get("customers") or 0), went))
    basis = str(view.analysis.get("funnel_basis") or "customers completing each step")
    return Chart("funnel", "Funnel and drop-off", f"Customers at each step ({basis}); between "
                 "steps: the share that continues, how many left and where they went.",
                 funnel_chart(out, basis=basis))


def _node_name(view: MapView, ref: str) -> str:
    return {"START": "Start", "END": "End of journey"}.get(ref, view.stage_name(ref))


def sankey(view: MapView) -> Chart | None:
    """Stage to stage (with START and END) when the analysis has it, else touchpoints."""
    source = rows(view.analysis.get("stage_transitions")) or rows(view.analysis.get("transitions"))
    transitions = [t for t in source if t.get("from") and t.get("to")]
    if not transitions:
        return None
    col: dict[str, int] = {}
    for s in view.stages:
        col[s.stage.id] = s.index + 1
        for t in s.touchpoints:
            col[t.tp.id] = s.index + 1
    col["START"] = 0
    last = len(view.stages) + 1
    links = [(str(t["from"]), str(t["to"]), int(t.get("customers") or t.get("count") or 0)) for t in transitions]
    ids = {x for s, t, _ in links for x in (s, t)}
    columns: list[list[str]] = [[] for _ in range(last + 1)]
    order = {x: i for i, x in enumerate(
        [s.stage.id for s in view.stages] + [t.tp.id for s in view.stages for t in s.touchpoints])}
    for x in sorted(ids, key=lambda x: (order.get(x, 10**6), x)):
        columns[col.get(x, last)].append(x)
    labels = {x: _node_name(view, x) for x in ids}
    stage_ids = {s.stage.id for s in view.stages}
    kind = "touchpoints" if any(x in col and x not in stage_ids | {"START"} for x in ids) else "stages"
    return Chart("sankey", f"Paths between {kind}", "Each band is customers moving forward from one "
                 f"{kind[:-1]} to the next; nodes sit in their stage's column.",
                 sankey_chart([c for c in columns if c], labels, links, title=kind))


def outcome_paths(view: MapView) -> Chart | None:
    """The paths of customers who completed the funnel beside those who dropped out."""
    outcome = view.analysis.get("outcome_paths")
    if not isinstance(outcome, Mapping) or not (outcome.get("converted") or outcome.get("dropped")):
        return None
    last = _node_name(view, str(outcome.get("step")))
    groups = []
    for key, title in (("converted", f"Reached {last}"), ("dropped", f"Started, never reached {last}")):
        paths = rows(outcome.get(key))
        groups.append(PathGroup(title, int(outcome.get(f"{key}_customers") or 0), [
            ([_node_name(view, str(x)) for x in p.get("path", [])], float(p.get("share") or 0),
             int(p.get("customers") or 0)) for p in paths]))
    return Chart("outcome", "Paths of those who made it and those who did not",
                 "The most common first steps (repeats in a row collapsed) of customers who reached "
                 "the funnel's last step, and of those who started it and did not; bar: share of "
                 "the group.", paths_chart(groups))


def trend_series(view: MapView) -> tuple[dict[str, list[TrendPoint]], dict[str, float]]:
    """Each feedback KPI's monthly values (on its target's scale) and the map's targets."""
    fb = view.analysis.get("feedback")
    raw = rows(fb.get("trend")) if isinstance(fb, Mapping) else []
    if isinstance(fb, Mapping) and isinstance(fb.get("periods"), Mapping):
        raw += [{**k, "metric": m, "period": period}
                for period, block in fb["periods"].items() if period != "(none)" and isinstance(block, Mapping)
                for m, k in (block.get("journey") or {}).items() if isinstance(k, Mapping)]
    raw = raw or rows(view.analysis.get("kpi_trend"))
    targets: dict[str, Kpi] = {}
    for k in [k for st in view.jmap.stages for k in st.lanes.kpis if k.touchpoint is None] + \
             [k for st in view.jmap.stages for k in st.lanes.kpis]:
        if k.target is not None:
            targets.setdefault(k.metric, k)
    series: dict[str, list[TrendPoint]] = {}
    for r in raw:
        m = on_target_scale(r, targets.get(str(r.get("metric"))))
        if m is None or r.get("period") is None:
            continue
        series.setdefault(str(r.get("metric")), []).append(TrendPoint(str(r["period"]), m.value, m.n, m.low, m.high))
    series = {k: sorted(v, key=lambda p: p.period) for k, v in series.items() if len(v) > 1}
    return series, {m: k.target for m, k in targets.items() if k.target is not None}


def trend(view: MapView) -> Chart | None:
    series, targets = trend_series(view)
    if not series:
        return None
    return Chart("trend", "KPI trend", "Monthly value of each feedback KPI of this persona with its 95 % band; "
                 "dashed green: the map's target.", trend_chart(series, targets))


def segments(view: MapView, compare: MapView | None = None,
             labels: tuple[str, str] | None = None) -> Chart | None:
    """``view``'s stage reach beside ``compare``'s (labelled by persona, or ``labels``:
    compare's, then view's), or the groups of ``analyze --by``."""
    names = [s.stage.name for s in view.stages]
    if compare is not None:
        ids = _aligned(view, compare)
        theirs = {s.stage.id: s.share for s in compare.stages}
        left, right = labels or (compare.jmap.persona.name, view.jmap.persona.name)
        return Chart("compare", "Side by side", f"Stage by stage against “{compare.jmap.title}” (stages aligned "
                     "by id, else by position); differences of 5 points or more highlighted.",
                     compare_chart(names, (left, [theirs.get(i) for i in ids]),
                                   (right, [s.share for s in view.stages])))
    # groups of ``analyze --by ATTR``: each with its own stage funnel
    by = view.analysis.get("by")
    groups = by.get("groups") if isinstance(by, dict) else None
    if not isinstance(groups, dict) or len(groups) < 2:
        return None
    series = []
    for name, group in list(groups.items())[:2]:
        stage_rows = {str(r.get("id") or r.get("stage")): r for r in rows(group.get("stages"))}
        counts = [stage_rows.get(s.stage.id, {}).get("customers") for s in view.stages]
        total = group.get("customers") or max((c for c in counts if isinstance(c, (int, float))), default=0)
        series.append((str(name), [float(c) / total if isinstance(c, (int, float)) and total else None
                                   for c in counts]))
    return Chart("segments", "Segments side by side", "Share of each segment's customers reaching each stage; "
                 "differences of 5 points or more highlighted.", compare_chart(names, series[0], series[1]))


def map_charts(view: MapView, *, compare: MapView | None = None, current: MapView | None = None) -> list[Chart]:
    """Every chart the data supports, in reading order."""
    found = [emotion(view, current), funnel(view), outcome_paths(view), sankey(view), trend(view),
             segments(view, compare)]
    return [c for c in found if c is not None]
