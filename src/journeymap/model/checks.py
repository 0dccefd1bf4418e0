"""Reference checks inside one map, beyond what pydantic validates field by field.

Stage and touchpoint ids are unique, every ``stage``/``touchpoint`` reference names
one that exists, and custom lanes are declared.  Checks across maps (``improves``,
``submap``) live in :mod:`journeymap.model.validate`.
"""

from __future__ import annotations

from collections.abc import Iterator

from journeymap.errors import MapIssue
from journeymap.model.document import Cell, JourneyMap, Kpi
from journeymap.model.locate import Loc, Source, format_path

CELL_LANES = ("actions", "goals", "thoughts", "pain_points", "opportunities", "owners", "backstage")


def issue(source: Source, loc: Loc, message: str) -> MapIssue:
    return MapIssue(source.file, source.line(loc), format_path(loc), message)


def check_map(jm: JourneyMap, source: Source | None = None) -> list[MapIssue]:
    """Problems with the references inside ``jm``; lines come from ``source`` if given."""
    src = source or Source("<map>")
    issues: list[MapIssue] = []
    issues += _unique_ids(src, jm)
    stage_ids = set(jm.stage_ids())
    tp_ids = {tp.id for stage in jm.stages for tp in stage.touchpoints}
    lane_ids = {lane.id for lane in jm.custom_lanes}
    for i, stage in enumerate(jm.stages):
        for j, tp in enumerate(stage.touchpoints):
            if tp.stage is not None and tp.stage not in stage_ids:
                issues.append(issue(src, ("stages", i, "touchpoints", j, "stage"),
                                    f"unknown stage {tp.stage!r}"))
        for key in stage.lanes.custom:
            if key not in lane_ids:
                issues.append(issue(src, ("stages", i, "lanes", "custom", key),
                                    f"custom lane {key!r} is not declared in custom_lanes"))
    for loc, ref in _touchpoint_refs(jm):
        if ref not in tp_ids:
            issues.append(issue(src, loc, f"unknown touchpoint {ref!r}"))
    return issues


def _unique_ids(src: Source, jm: JourneyMap) -> list[MapIssue]:
    issues: list[MapIssue] = []
    seen: dict[str, Loc] = {}
    for i, stage in enumerate(jm.stages):
        loc: Loc = ("stages", i, "id")
        if stage.id in seen:
            issues.append(issue(src, loc, f"duplicate stage id {stage.id!r} "
                                          f"(first at {format_path(seen[stage.id][:-1])})"))
        seen.setdefault(stage.id, loc)
    seen = {}
    for i, stage in enumerate(jm.stages):
        for j, tp in enumerate(stage.touchpoints):
            loc = ("stages", i, "touchpoints", j, "id")
            if tp.id in seen:
                issues.append(issue(src, loc, f"duplicate touchpoint id {tp.id!r} "
                                              f"(first at {format_path(seen[tp.id][:-1])})"))
            seen.setdefault(tp.id, loc)
    seen = {}
    for i, lane in enumerate(jm.custom_lanes):
        loc = ("custom_lanes", i, "id")
        if lane.id in seen:
            issues.append(issue(src, loc, f"duplicate custom lane id {lane.id!r}"))
        seen.setdefault(lane.id, loc)
    return issues


def _touchpoint_refs(jm: JourneyMap) -> Iterator[tuple[Loc, str]]:
    """Every ``touchpoint:`` reference in cells and KPIs, with its location."""
    if jm.goal.kpi is not None and jm.goal.kpi.touchpoint:
        yield ("goal", "kpi", "touchpoint"), jm.goal.kpi.touchpoint
    for i, stage in enumerate(jm.stages):
        lanes = stage.lanes
        base: Loc = ("stages", i, "lanes")
        for lane in CELL_LANES:
            yield from _cell_refs((*base, lane), getattr(lanes, lane))
        for key, cells in lanes.custom.items():
            yield from _cell_refs((*base, "custom", key), cells)
        yield from _kpi_refs((*base, "kpis"), lanes.kpis)
        for j, tp in enumerate(stage.touchpoints):
            yield from _kpi_refs(("stages", i, "touchpoints", j, "kpis"), tp.kpis)


def _cell_refs(loc: Loc, cells: list[Cell]) -> Iterator[tuple[Loc, str]]:
    for k, cell in enumerate(cells):
        if cell.touchpoint:
            yield (*loc, k, "touchpoint"), cell.touchpoint


def _kpi_refs(loc: Loc, kpis: list[Kpi]) -> Iterator[tuple[Loc, str]]:
    for k, kpi in enumerate(kpis):
        if kpi.touchpoint:
            yield (*loc, k, "touchpoint"), kpi.touchpoint
