"""The map page: one persona's story through the stages, with its data.

Standalone HTML: the stylesheet, icons and charts are inlined and nothing is fetched
from elsewhere, so the file works offline and can be mailed or attached to a wiki.
It renders from the analysis dict (``analyze --json``, DESIGN §3.3); a key that is
missing simply leaves its cells without numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup, escape

from journeymap.version import __version__
from journeymap.model.document import JourneyMap, StageKind
from journeymap.render.chartset import Chart, map_charts
from journeymap.render.icons import channel_color, icon, time_icon
from journeymap.render.metrics import Metric, fmt_duration, fmt_number
from journeymap.render.view import MapView, StageView, build_view

LANES: tuple[dict[str, Any], ...] = (
    {"id": "actions", "name": "Customer actions", "cls": ""},
    {"id": "goals", "name": "Goals", "cls": ""},
    {"id": "touchpoints", "name": "Touchpoints", "cls": ""},
    {"id": "thoughts", "name": "Thoughts", "cls": "thought"},
    {"id": "emotion", "name": "Emotion", "cls": ""},
    {"id": "pain_points", "name": "Pain points", "cls": "pain"},
    {"id": "opportunities", "name": "Opportunities", "cls": "opportunity"},
    {"id": "kpis", "name": "KPIs vs target", "cls": ""},
    {"id": "owners", "name": "Owners", "cls": ""},
    {"id": "visibility", "name": "line of visibility", "cls": ""},
    {"id": "backstage_touchpoints", "name": "Backstage touchpoints", "cls": ""},
    {"id": "backstage", "name": "Backstage processes", "cls": "backstage"},
)
LAYOUT_WORD = {StageKind.funnel: "Step", StageKind.support_case: "Step", StageKind.location: "Place",
               StageKind.time_of_day: "", StageKind.custom: "Stage"}


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def _metric_html(name: str, m: Metric, unit: str | None = None) -> Markup:
    """``CSAT 3.2 (3.0–3.3) n=381`` with the parts marked up for tests and tooltips."""
    interval = m.interval_text()
    parts = [f'<span class="mname">{escape(name.upper())}</span> <b data-value="{m.value:.6g}">{escape(m.text(unit))}</b>']
    if interval:
        parts.append(f'<span class="ci" title="95 % interval">({escape(interval)})</span>')
    if m.n is not None:
        parts.append(f'<span class="n" title="answers">n={m.n:,}</span>')
    return Markup(" ".join(parts))


def _emotion_row(view: MapView) -> Markup:
    """The emotion curve across the stage columns (x in % so it follows the columns)."""
    n, top, scale = len(view.stages), 64, 24
    pts = []
    for s in view.stages:
        e = s.emotion
        x = (s.index + 0.5) * 100 / n
        pts.append((x, None if e.value is None else top - e.value * scale, s))
    body = [f'<line x1="0" x2="100%" y1="{top}" y2="{top}" stroke="#d9e2ec" stroke-dasharray="4 4"/>']
    valued = [(x, y, s) for x, y, s in pts if y is not None]
    for (x0, y0, s0), (x1, y1, s1) in zip(valued, valued[1:], strict=False):
        dash = "" if s0.emotion.measured and s1.emotion.measured else ' stroke-dasharray="6 5"'
        body.append(f'<line x1="{x0:.2f}%" x2="{x1:.2f}%" y1="{y0:.1f}" y2="{y1:.1f}" stroke="#2f5d8a" stroke-width="2.5"{dash}/>')
    for x, y, s in pts:
        e = s.emotion
        if y is None or e.value is None:
            body.append(f'<text class="emotion-label" x="{x:.2f}%" y="{top + 4}" text-anchor="middle">'
                        f'{escape(e.note or e.label)}</text>')
            continue
        color = "#c53030" if e.value <= -0.5 else "#2f855a" if e.value >= 0.5 else "#b7791f"
        if e.low is not None and e.high is not None:
            body.append(f'<line x1="{x:.2f}%" x2="{x:.2f}%" y1="{top - min(2, e.high) * scale:.1f}" '
                        f'y2="{top - max(-2, e.low) * scale:.1f}" stroke="{color}" stroke-width="1.5"/>')
        fill = color if e.measured else "#fff"
        source = f"measured, n={e.n:,}" if e.measured and e.n else e.kind
        title = f"{s.stage.name}: {e.value:+.2g} {e.label} ({source}){' — ' + e.note if e.note else ''}"
        body.append(f'<circle cx="{x:.2f}%" cy="{y:.1f}" r="8" fill="{fill}" stroke="{color}" stroke-width="2.5" '
                    f'data-emotion="{e.value:.4g}" data-kind="{e.kind}"><title>{escape(title)}</title></circle>')
        caption = f"{e.value:+.2g} {e.label}".strip() + (f" · n={e.n:,}" if e.measured and e.n else
                                                          "" if e.measured else " · assumed")
        ty = y + 24 if e.value >= 0 else y - 14
        body.append(f'<text class="emotion-label" x="{x:.2f}%" y="{ty:.1f}" text-anchor="middle">{escape(caption)}</text>')
    return Markup(f'<svg class="emotion-svg" role="img" aria-label="emotion curve">{"".join(body)}</svg>')


def _lane_has_content(lane: str, view: MapView) -> bool:
    stages = view.stages
    if lane == "touchpoints":
        return True
    if lane == "emotion":
        return any(s.stage.lanes.emotion is not None or s.emotion.value is not None for s in stages)
    if lane == "backstage_touchpoints":
        return any(s.backstage for s in stages)
    if lane == "visibility":
        return any(s.backstage or s.stage.lanes.backstage for s in stages)
    if lane == "kpis":
        return any(s.kpis for s in stages)
    if lane == "pain_points":
        return any(s.stage.lanes.pain_points or s.data_pains for s in stages)
    return any(getattr(s.stage.lanes, lane) for s in stages)


def _stage_icon(view: MapView, s: StageView) -> Markup:
    kind = view.jmap.stage_kind
    if kind == StageKind.time_of_day:
        return icon(time_icon(s.stage.time, s.index, len(view.stages)), 18)
    if kind == StageKind.location:
        return icon("pin", 18)
    return Markup("")


def _environment() -> jinja2.Environment:
    loader = jinja2.PackageLoader("journeymap.render", "templates")
    return jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True)


def render_map_html(jmap: JourneyMap, analysis: Mapping[str, Any] | None = None, *,
                    source: str | None = None, compare: MapView | None = None,
                    current: MapView | None = None, charts: list[Chart] | None = None) -> str:
    """The standalone HTML page of ``jmap`` with the numbers of ``analysis`` (if any).

    ``compare`` adds a side-by-side chart against another map's view (e.g. enterprise vs
    SME); ``current`` draws a future-state map against the current state it improves.
    """
    view = build_view(jmap, analysis)
    if charts is None:
        charts = map_charts(view, compare=compare, current=current)
    lanes = [dict(lane) for lane in LANES if _lane_has_content(lane["id"], view)]
    lanes += [{"id": c.id, "name": c.name, "cls": "", "custom": True} for c in jmap.custom_lanes]
    css = resources.files("journeymap.render").joinpath("templates/map.css").read_text(encoding="utf-8")
    a = view.analysis
    unmatched = dict(a["unmatched"]) if isinstance(a.get("unmatched"), Mapping) else {}
    unmatched["names"] = [str(e.get("event")) if isinstance(e, Mapping) else str(e)
                          for e in unmatched.get("examples") or []]
    return _environment().get_template("map.html.j2").render(
        m=jmap, v=view, a=a, lanes=lanes, css=Markup(css), source=source, charts=charts,
        unmatched=unmatched, emotion_row=_emotion_row(view), layout=jmap.stage_kind.value,
        word=LAYOUT_WORD.get(jmap.stage_kind, "Stage"), stage_icon=_stage_icon, icon=icon,
        channel_color=channel_color, metric_html=_metric_html, pct=_pct, fmt=fmt_number,
        duration=fmt_duration, version=__version__, svg=Markup,
    )

