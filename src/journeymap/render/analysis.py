"""The numbers a map page shows, as one analysis dict.

The page renders from the dict of ``analyze --json`` (DESIGN §3.3), made by
:func:`journeymap.analysis.full_analysis` — the one composer of the engine, metrics and
text sections, so the page, the CLI and the Python API show the same numbers.  Without
any data the page falls back to reach per touchpoint and stage from
:func:`journeymap.engine.coverage.map_coverage` (:func:`coverage_sections`).
"""

from __future__ import annotations

from typing import Any

import ibis

from journeymap.engine.coverage import MapCoverage
from journeymap.model.document import JourneyMap

# what a page does not show and takes longest to compute
PAGE_SKIPS = ("clv", "clusters", "cohorts")


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


def map_analysis(con: ibis.BaseBackend, jmap: JourneyMap, *, store: Any = None) -> dict[str, Any]:
    """The analysis dict the page renders: :func:`journeymap.analysis.full_analysis`
    without the sections a page does not show (:data:`PAGE_SKIPS`).

    ``store`` (the workspace's) lets the text sections cache their sentiment scores.
    """
    from journeymap.analysis import full_analysis, section_names  # the composer, one layer up

    wanted = [s for s in section_names() if s not in PAGE_SKIPS]
    return full_analysis(con, jmap, store=store, sections=wanted)
