"""The map page: one persona's story through the stages, with its data.

Standalone HTML: the stylesheet is inlined and nothing is fetched from elsewhere, so
the file works offline and can be mailed or attached to a wiki.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from journeymap import __version__
from journeymap.errors import JourneymapError
from journeymap.model.document import JourneyMap

if TYPE_CHECKING:
    from journeymap.engine.coverage import MapCoverage
    from journeymap.workspace import Workspace

CHANNEL_COLORS = {
    "web": "#3b82c4", "email": "#805ad5", "app": "#2f855a", "sales": "#b7791f",
    "support": "#c05621", "social": "#d53f8c", "in_person": "#2c7a7b", "store": "#2c7a7b",
    "webinar": "#5a67d8", "phone": "#9c4221", "chat": "#c05621", "partner": "#4a5568",
    "sms": "#718096", "ads": "#dd6b20",
}
FALLBACK_COLORS = ("#4a5568", "#2b6cb0", "#276749", "#975a16", "#702459", "#285e61")

LANES: tuple[dict[str, Any], ...] = (
    {"id": "actions", "name": "Customer actions", "cls": ""},
    {"id": "goals", "name": "Goals", "cls": ""},
    {"id": "thoughts", "name": "Thoughts", "cls": "thought"},
    {"id": "pain_points", "name": "Pain points", "cls": "pain"},
    {"id": "opportunities", "name": "Opportunities", "cls": "opportunity"},
    {"id": "owners", "name": "Owners", "cls": ""},
    {"id": "kpis", "name": "KPIs", "cls": ""},
    {"id": "backstage", "name": "Backstage", "cls": ""},
)
EMOTION_TOP, EMOTION_SCALE = 60, 22  # y of neutral, pixels per emotion unit


def channel_color(channel: str) -> str:
    known = CHANNEL_COLORS.get(channel.lower())
    if known:
        return known
    digest = int(hashlib.sha1(channel.encode()).hexdigest(), 16)
    return FALLBACK_COLORS[digest % len(FALLBACK_COLORS)]


def _emotion_color(value: float) -> str:
    if value <= -0.5:
        return "#c53030"
    if value >= 0.5:
        return "#2f855a"
    return "#b7791f"


def _pct(value: float) -> str:
    return f"{value * 100:.0f} %"


def _fmt(value: float | None, unit: str | None = None) -> str:
    if value is None:
        return "-"
    text = f"{value:,.0f}" if float(value).is_integer() and abs(value) >= 1 else f"{value:,.3g}"
    if unit == "%":
        return f"{text} %"
    return f"{text} {unit}" if unit else text


@dataclass
class _Point:
    x: float
    y: float
    value: float | None
    assumed: bool
    color: str
    caption: str
    title: str


def _emotion_points(jmap: JourneyMap) -> list[_Point]:
    n = len(jmap.stages)
    points = []
    for i, stage in enumerate(jmap.stages):
        x = (i + 0.5) * 100 / n
        emo = stage.lanes.emotion
        if emo is None or emo.value is None:
            caption = "measured from data (no data yet)" if emo and emo.from_data else "not set"
            points.append(_Point(x, EMOTION_TOP, None, True, "#a0aec0", caption, caption))
            continue
        assumed = emo.evidence is None or emo.evidence.kind.value == "assumption"
        label = emo.label or ""
        caption = f"{emo.value:+g} {label}".strip()
        source = "assumption" if assumed else emo.evidence.kind.value  # type: ignore[union-attr]
        points.append(_Point(
            x, EMOTION_TOP - emo.value * EMOTION_SCALE, emo.value, assumed,
            _emotion_color(emo.value), caption, f"{stage.name}: {caption} ({source})",
        ))
    return points


def _environment() -> jinja2.Environment:
    loader = jinja2.PackageLoader("journeymap.render", "templates")
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    return env


def render_map_html(jmap: JourneyMap, coverage: MapCoverage | None = None,
                    *, source: str | None = None) -> str:
    """The standalone HTML page of ``jmap`` (with its data when ``coverage`` is given)."""
    stages = []
    for stage in jmap.stages:
        tps = []
        for tp in jmap.touchpoints_of(stage.id):
            numbers = coverage.touchpoints.get(tp.id, {"events": 0, "customers": 0}) if coverage else None
            customers = numbers["customers"] if numbers else None
            share = customers / coverage.customers if coverage and coverage.customers and customers else None
            tps.append({"tp": tp, "color": channel_color(tp.channel), "customers": customers,
                        "events": numbers["events"] if numbers else None, "share": share})
        reach = coverage.stages.get(stage.id, 0) if coverage else None
        reach_share = reach / coverage.customers if coverage and coverage.customers else None
        stages.append({"stage": stage, "touchpoints": tps, "reach": reach, "reach_share": reach_share})
    points = _emotion_points(jmap)
    valued = [p for p in points if p.value is not None]
    lanes = list(LANES) + [
        {"id": lane.id, "name": lane.name, "cls": "", "custom": True} for lane in jmap.custom_lanes
    ]
    for lane in lanes:
        lane.setdefault("custom", False)
    css = resources.files("journeymap.render").joinpath("templates/map.css").read_text(encoding="utf-8")
    return _environment().get_template("map.html.j2").render(
        m=jmap, stages=stages, lanes=lanes, css=css, data=coverage, source=source,
        emotion_points=points, emotion_segments=list(zip(valued, valued[1:], strict=False)),
        version=__version__, pct=_pct, fmt=_fmt,
    )


def render_map_file(ws: Workspace, ref: str | os.PathLike[str], out: Path) -> Path:
    """Render a workspace map with its data coverage to ``out`` (.html)."""
    from journeymap.engine.coverage import map_coverage

    if out.suffix.lower() not in (".html", ".htm"):
        raise JourneymapError(f"{out}: unsupported output format '{out.suffix}' (supported: .html)")
    path = ws.resolve_map(ref)
    jmap = ws.load_map(path)
    coverage = map_coverage(ws.store.ibis(), jmap)
    try:
        source = str(path.relative_to(ws.root))
    except ValueError:
        source = str(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_map_html(jmap, coverage, source=source), encoding="utf-8")
    return out
