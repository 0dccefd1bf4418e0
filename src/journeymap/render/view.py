"""The view of a map: its document and its analysis joined per stage and touchpoint.

Every renderer (HTML, slides, tables, Markdown, Mermaid) reads this one view, so a
number shown anywhere is the same number, taken from the same key of the analysis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from journeymap.model.analysis_output import Analysis, PainPoint, parse_analysis
from journeymap.model.document import Emotion, JourneyMap, Kpi, Stage, Touchpoint
from journeymap.render.icons import channel_color, icon_key
from journeymap.render.metrics import Metric, by_id, kpi_status, metric, progress_share, rows

FEEDBACK_METRICS = ("csat", "nps", "ces", "sentiment")


@dataclass
class KpiView:
    kpi: Kpi
    actual: Metric | None
    status: str  # good | mid | bad | none

    @property
    def name(self) -> str:
        return self.kpi.name or self.kpi.metric


@dataclass
class EmotionPoint:
    value: float | None
    kind: str  # data | research | assumption | none
    label: str
    n: int | None = None
    low: float | None = None
    high: float | None = None
    note: str = ""

    @property
    def measured(self) -> bool:
        return self.kind in ("data", "research") and self.value is not None


@dataclass
class TouchpointView:
    tp: Touchpoint
    color: str
    icon: str
    customers: int | None = None
    events: int | None = None
    share: float | None = None
    metrics: list[tuple[str, Metric]] = field(default_factory=list)
    kpis: list[KpiView] = field(default_factory=list)
    paths: list[tuple[str, int | None, float | None]] = field(default_factory=list)
    next_steps: list[tuple[str, int]] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)


@dataclass
class StageView:
    stage: Stage
    index: int
    customers: int | None = None
    share: float | None = None
    conversion_to_next: float | None = None
    median_seconds: float | None = None
    touchpoints: list[TouchpointView] = field(default_factory=list)
    kpis: list[KpiView] = field(default_factory=list)
    emotion: EmotionPoint = field(default_factory=lambda: EmotionPoint(None, "none", "not set"))
    data_pains: list[str] = field(default_factory=list)

    @property
    def frontstage(self) -> list[TouchpointView]:
        return [t for t in self.touchpoints if t.tp.visibility == "frontstage"]

    @property
    def backstage(self) -> list[TouchpointView]:
        return [t for t in self.touchpoints if t.tp.visibility == "backstage"]


@dataclass
class MapView:
    jmap: JourneyMap
    analysis: dict[str, Any]
    stages: list[StageView]
    goal_actual: Metric | None
    goal_progress: float | None
    goal_status: str

    @property
    def has_data(self) -> bool:
        return bool(self.analysis.get("stages") or self.analysis.get("touchpoints"))

    def stage_name(self, ref: str) -> str:
        for s in self.stages:
            if s.stage.id == ref:
                return s.stage.name
            for t in s.touchpoints:
                if t.tp.id == ref:
                    return t.tp.name
        return ref


def _block_rows(block: Any, **where: Any) -> list[dict[str, Any]]:
    """``{metric: kpi}`` as rows ``{metric, **where, **kpi}``."""
    if not isinstance(block, Mapping):
        return []
    return [{**kpi, "metric": m, **where} for m, kpi in block.items() if isinstance(kpi, Mapping)]


def feedback_rows(section: Any) -> list[dict[str, Any]]:
    """Feedback KPIs as rows ``{metric, touchpoint, stage, value, n, ci_low, ci_high, ...}``
    from a list of rows or from ``{journey: {m: kpi}, touchpoints: {tp: {...}}, stages: {...}}``."""
    if isinstance(section, Mapping) and any(k in section for k in ("journey", "touchpoints", "stages")):
        out = _block_rows(section.get("journey"), touchpoint=None, stage=None)
        for tp, block in (section.get("touchpoints") or {}).items():
            out += _block_rows(block, touchpoint=tp, stage=None)
        for stage, block in (section.get("stages") or {}).items():
            out += _block_rows(block, touchpoint=None, stage=stage, stage_level=True)
        return out
    if isinstance(section, Mapping) and "kpis" in section:
        return [dict(r) for r in rows(section["kpis"])]
    return [dict(r) for r in rows(section)]


def on_target_scale(row: Mapping[str, Any], kpi: Kpi | None) -> Metric | None:
    """A KPI's value on the scale of its target: a CSAT target of 4.0 points is compared
    with the mean score, a target of 0.8 with the share of satisfied answers."""
    m = metric(row)
    mean = row.get("mean")
    if (m is not None and kpi is not None and kpi.target is not None and m.unit == "share"
            and abs(kpi.target) > 1 and isinstance(mean, Mapping) and metric(mean) is not None):
        mm = metric(mean)
        assert mm is not None
        return Metric(mm.value, m.n, mm.low, mm.high, "points")
    return m


def _lookup(kpi_metric: str, touchpoint: str | None, stage: str | None,
            fb: list[Mapping[str, Any]], tp_rows: Mapping[str, Mapping[str, Any]],
            stage_rows: Mapping[str, Mapping[str, Any]], kpi: Kpi | None = None) -> Metric | None:
    """The measured value of a KPI: feedback section, then the touchpoint's or stage's row."""
    for r in fb:
        if r.get("metric") != kpi_metric or r.get("stage_level"):
            continue
        if touchpoint is not None and r.get("touchpoint") == touchpoint:
            return on_target_scale(r, kpi)
        if touchpoint is None and r.get("touchpoint") is None and r.get("stage") in (None, stage):
            return on_target_scale(r, kpi)
    if touchpoint is not None and kpi_metric in tp_rows.get(touchpoint, {}):
        return metric(tp_rows[touchpoint][kpi_metric])
    if stage is not None and kpi_metric in stage_rows.get(stage, {}):
        return metric(stage_rows[stage][kpi_metric])
    return None


def _kpi_view(kpi: Kpi, actual: Metric | None) -> KpiView:
    value = actual.value if actual else None
    return KpiView(kpi, actual, kpi_status(value, kpi.target, kpi.baseline, kpi.direction))


def _emotion(emo: Emotion | None, measured: Mapping[str, Any] | None) -> EmotionPoint:
    label = (emo.label if emo else None) or ""
    assumed = isinstance(measured, Mapping) and (measured.get("assumed") or not measured.get("n", 1))
    m = metric(measured) if measured is not None and not assumed else None
    if m is not None:
        note = str(measured.get("source") or measured.get("method") or "measured from feedback and text") \
            if isinstance(measured, Mapping) else "measured"
        return EmotionPoint(max(-2.0, min(2.0, m.value)), "data", label, m.n, m.low, m.high, note)
    if emo is None:
        return EmotionPoint(None, "none", "not set")
    if emo.value is None:
        return EmotionPoint(None, "none", label or "from data", note="to be measured from data (no data yet)")
    kind = emo.evidence.kind.value if emo.evidence else "assumption"
    note = (emo.evidence.note or emo.evidence.source or "") if emo.evidence else "no evidence given"
    return EmotionPoint(emo.value, kind, label, note=note)


def _quotes(row: Mapping[str, Any], themes: list[Mapping[str, Any]], tp_id: str) -> list[str]:
    found: list[str] = []
    sources: list[Any] = [row.get(k) for k in ("quotes", "comments", "examples")]
    sources += [t.get("quotes") or t.get("examples") for t in themes
                if t.get("touchpoint") == tp_id or tp_id in (t.get("concentrated_on") or [])]
    for src in sources:
        for q in src or []:
            text = q.get("text") or q.get("comment") if isinstance(q, Mapping) else q
            if isinstance(text, str) and text.strip() and text not in found:
                found.append(text.strip())
    return found[:3]


def pain_text(p: PainPoint, names: Mapping[str, str]) -> str:
    """One line a person reads: rank, kind, where, the number against its baseline, n."""
    kind = p["kind"].replace("_", " ")
    target = p["target"].split(":", 1)[-1]
    rank = f"#{p['rank']} " if p.get("rank") else ""
    text = f"{rank}{kind.capitalize()}: {names.get(target, target)}"
    e = p.get("evidence", {})
    value, baseline = _float(e.get("value")), _float(e.get("baseline"))
    if value is not None and baseline is not None and value <= 1 and baseline <= 1:
        text += f" — {value * 100:.0f} % vs {baseline * 100:.0f} %"
        if e.get("compared_with"):
            text += f" ({e['compared_with']})"
    if _int(e.get("n")):
        text += f", n={_int(e.get('n')):,}"
    return text


MIN_DECAY_SHARE = 0.05  # a decay point is shown when at least this share of the stage left there
MAX_DECAYS_PER_STAGE = 2


def build_view(jmap: JourneyMap, analysis: Mapping[str, Any] | None = None) -> MapView:
    """Join ``jmap`` with ``analysis`` (any subset of the analyze dict's keys; the keys of
    DESIGN §3.3 are checked first and read by name, :mod:`journeymap.model.analysis_output`)."""
    typed: Analysis = parse_analysis(analysis)
    a: dict[str, Any] = dict(typed)
    stage_rows: dict[str, Mapping[str, Any]] = {r["id"]: r for r in typed.get("stages", [])}
    tp_rows: dict[str, Mapping[str, Any]] = {r["id"]: r for r in typed.get("touchpoints", [])}
    fb = feedback_rows(a.get("feedback"))
    scope = a.get("scope") if isinstance(a.get("scope"), Mapping) else {}
    for key in ("customers", "events", "segment_customers"):
        if a.get(key) is None and scope.get(key) is not None:
            a[key] = scope[key]
    if not a.get("notice") and scope.get("notices"):
        a["notice"] = "; ".join(str(n) for n in scope["notices"])
    emotions = by_id(a.get("emotion") if not isinstance(a.get("emotion"), Mapping)
                     or "stages" not in a["emotion"] else a["emotion"]["stages"], "stage", "id")
    themes = rows(a.get("themes"))
    paths = typed.get("paths", [])
    transitions = typed.get("transitions", [])
    total = a.get("segment_customers") or a.get("customers")
    names = {t.id: t.name for t in jmap.touchpoints} | {s.id: s.name for s in jmap.stages}
    stage_of_tp = {t.id: t.stage for t in jmap.touchpoints}
    pains: dict[str, list[str]] = {}
    flagged: dict[str, list[str]] = {}  # touchpoint id -> its ranked pain points
    for p in typed.get("pain_points", []):
        target = p["target"].split(":", 1)[-1]
        stage_id = target if target in stage_rows or target in jmap.stage_ids() else stage_of_tp.get(target)
        if stage_id:
            pains.setdefault(stage_id, []).append(pain_text(p, names))
            if target in stage_of_tp:
                flagged.setdefault(target, []).append(pains[stage_id][-1])
    shown: dict[str, int] = {}
    for d in typed.get("decay_points", []):
        share = _float(d.get("share_of_stage"))
        stage_key = d["stage"]
        if not stage_key or not d.get("customers") or share is None or share < MIN_DECAY_SHARE:
            continue
        if shown.get(stage_key, 0) >= MAX_DECAYS_PER_STAGE:
            continue
        shown[stage_key] = shown.get(stage_key, 0) + 1
        where = names.get(str(d.get("touchpoint")), str(d.get("touchpoint") or d["stage"]))
        pains.setdefault(stage_key, []).append(
            f"{int(d['customers']):,} customers ({share * 100:.0f} % of the stage) left after {where}")
    views = []
    for i, stage in enumerate(jmap.stages):
        srow = stage_rows.get(stage.id, {})
        sv = StageView(stage, i, customers=_int(srow.get("customers")),
                       share=_float(srow.get("share")),
                       conversion_to_next=_float(srow.get("conversion_to_next")),
                       median_seconds=_float(srow.get("median_seconds_in_stage")))
        if sv.share is None and sv.customers is not None and total:
            sv.share = sv.customers / total
        for tp in jmap.touchpoints_of(stage.id):
            row = tp_rows.get(tp.id, {})
            tv = TouchpointView(tp, channel_color(tp.channel), icon_key(tp.channel),
                                customers=_int(row.get("customers")), events=_int(row.get("events")))
            if tv.customers is not None and total:
                tv.share = tv.customers / total
            # the feedback section's KPIs (every metric, in its order); the touchpoint row's
            # csat/nps/ces/sentiment only for an analysis without that section
            tv.metrics = [(r["metric"], m) for r in fb if r.get("touchpoint") == tp.id
                          and (m := metric(r)) is not None] if "feedback" in a else \
                         [(k, m) for k in FEEDBACK_METRICS if (m := metric(row.get(k))) is not None]
            tv.kpis = [_kpi_view(k, _lookup(k.metric, tp.id, stage.id, fb, tp_rows, stage_rows, k)) for k in tp.kpis]
            tv.paths = [(" → ".join(names.get(x, x) for x in p["path"]),
                         _int(p.get("customers")), _float(p.get("share")))
                        for p in paths if tp.id in p["path"] or stage.id in p["path"]][:3]
            tv.next_steps = sorted(((names.get(t["to"], t["to"]),
                                     _int(t.get("customers")) or _int(t.get("count")) or 0)
                                    for t in transitions if t["from"] == tp.id),
                                   key=lambda x: -x[1])[:3]
            tv.quotes = _quotes(row, themes, tp.id)
            tv.flagged = flagged.get(tp.id, [])
            sv.touchpoints.append(tv)
        sv.kpis = [_kpi_view(k, _lookup(k.metric, k.touchpoint, stage.id, fb, tp_rows, stage_rows, k))
                   for k in stage.lanes.kpis]
        sv.emotion = _emotion(stage.lanes.emotion, emotions.get(stage.id))
        sv.data_pains = pains.get(stage.id, [])
        views.append(sv)
    goal_actual, progress, status = _goal(jmap, a, fb)
    return MapView(jmap, a, views, goal_actual, progress, status)


def _goal(jmap: JourneyMap, a: Mapping[str, Any], fb: list[Mapping[str, Any]]) -> tuple[Metric | None, float | None, str]:
    kpi = jmap.goal.kpi
    if kpi is None:
        return None, None, "none"
    section = a.get("goal")
    actual = None
    if isinstance(section, Mapping):
        actual = metric(section) or metric(section.get("current"))
    if actual is None:
        actual = _lookup(kpi.metric, None, None, fb, {}, {}, kpi)
    value = actual.value if actual else None
    return actual, progress_share(value, kpi.baseline, kpi.target), kpi_status(
        value, kpi.target, kpi.baseline, kpi.direction)


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
