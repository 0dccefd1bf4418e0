"""The numbers a map page shows, as one analysis dict.

The page renders from the dict of ``analyze --json`` (DESIGN §3.3), made by
``journeymap.engine.analyze.analyze_map``, plus the sections other parts add when
they are installed (``feedback``, ``emotion``, ``themes``).  Without the engine's
analysis the page falls back to reach per touchpoint and stage from
:func:`journeymap.engine.coverage.map_coverage`, so it is never empty.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

import ibis

from journeymap.engine.coverage import MapCoverage, map_coverage
from journeymap.model.document import JourneyMap


def engine_analysis(con: ibis.BaseBackend, jmap: JourneyMap) -> dict[str, Any] | None:
    """The engine's analysis of ``jmap``, or None while that module is not installed."""
    try:
        module = importlib.import_module("journeymap.engine.analyze")
    except ModuleNotFoundError as exc:
        if exc.name != "journeymap.engine.analyze":
            raise
        return None
    analyze = getattr(module, "analyze_map", None)
    if analyze is None:
        return None
    result = analyze(con, jmap)
    if hasattr(result, "to_dict"):
        result = result.to_dict()
    return dict(result) if isinstance(result, dict) else None


def coverage_sections(jmap: JourneyMap, cov: MapCoverage) -> dict[str, Any]:
    """Reach per stage and touchpoint, the funnel by stage reach, unmatched events."""
    stages = []
    for i, stage in enumerate(jmap.stages):
        reach = cov.stages.get(stage.id, 0)
        nxt = cov.stages.get(jmap.stages[i + 1].id, 0) if i + 1 < len(jmap.stages) else None
        stages.append({
            "id": stage.id, "name": stage.name, "customers": reach,
            "share": reach / cov.customers if cov.customers else None,
            "conversion_to_next": (nxt / reach) if reach and nxt is not None else None,
        })
    touchpoints = [
        {"id": tp.id, "stage": tp.stage, "channel": tp.channel,
         **cov.touchpoints.get(tp.id, {"events": 0, "customers": 0})}
        for tp in jmap.touchpoints
    ]
    first = stages[0]["customers"] if stages else 0
    funnel = [{"step": s["id"], "customers": s["customers"],
               "conversion": s["customers"] / first if first else None} for s in stages]
    return {
        "map": {"id": jmap.id, "title": jmap.title, "type": jmap.type.value},
        "customers": cov.customers, "events": cov.events, "first": cov.first, "last": cov.last,
        "segment_customers": cov.segment_customers, "notice": cov.notice,
        "stages": stages, "touchpoints": touchpoints, "funnel": funnel,
        "funnel_basis": "stage reach",
        "unmatched": {"events": cov.unmatched_events, "examples": cov.unmatched_examples},
    }


OPTIONAL_SECTIONS = (
    ("feedback", "journeymap.metrics.feedback", "feedback_section"),
    ("emotion", "journeymap.text.emotion", "emotion_section"),
    ("themes", "journeymap.text.themes", "themes_section"),
)


def _section(module: str, fn: str) -> Callable[..., Any] | None:
    """A section function of another part of journeymap, or None while it is not installed."""
    try:
        found = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return None
    return getattr(found, fn, None)


def map_analysis(con: ibis.BaseBackend, jmap: JourneyMap, *, store: Any = None) -> dict[str, Any]:
    """The analysis dict the page renders: the engine's, completed from the store.

    ``store`` (the workspace's) lets the text sections cache their sentiment scores.
    """
    analysis = engine_analysis(con, jmap)
    if analysis is None:
        analysis = coverage_sections(jmap, map_coverage(con, jmap))
    for name, module, fn in OPTIONAL_SECTIONS:
        if analysis.get(name):
            continue
        section = _section(module, fn)
        if section is None:
            continue
        takes_store = "store" in inspect.signature(section).parameters
        analysis[name] = section(con, jmap, store=store) if takes_store else section(con, jmap)
    return analysis
