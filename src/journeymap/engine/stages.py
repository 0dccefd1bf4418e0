"""The map's stage funnel: reach, conversion to the next stage, time in stage, exits,
and decay points — where customers leave the journey — optionally per group.

A unit *reaches* stage *k* when the furthest stage it has a matched touchpoint in is
*k* or later (``reach="furthest"``, a funnel: reaching renewal implies passing through
onboarding); ``reach="first"`` or ``"last"`` use the stage of the unit's first (where
it entered) or last (where it is now) matched touchpoint instead of the furthest, the
same funnel otherwise; ``reach="visited"`` counts a unit only at the stages it has a
touchpoint in (conversion to the next stage is then the share of the stage's units that
also visit the next stage, and ``lost`` counts those that do not).
Time in stage is the span from the unit's first to its last event in the stage
(stages of a real journey overlap — an invoice in the renewal stage may be paid at
purchase — so "until the next stage starts" would be negative for many units).  A unit
*exits* at a stage when its journey's last step is there.  A decay point is a
(stage, last touchpoint) where units whose journey stops before the final stage left.
"""

from __future__ import annotations

from typing import Literal

import ibis
import ibis.expr.types as ir

from journeymap.engine.journeys import seconds_between
from journeymap.engine.labels import labelled_positions
from journeymap.engine.transitions import label
from journeymap.model.document import JourneyMap

Reach = Literal["furthest", "visited", "first", "last"]


def _with_group(table: ir.Table, groups: ir.Table | None, journeys: ir.Table) -> ir.Table:
    """``table`` (one row per ``unit``) with the unit's ``group`` (``groups`` has
    ``unit, group``, or ``customer_id, group`` when ``journeys`` has customer ids)."""
    if groups is None:
        return table.mutate(group=ibis.literal("all"))
    if "unit" in groups.columns:
        return table.join(groups.select("unit", "group"), "unit")
    first = journeys.filter(journeys.is_first)
    owner = first.select("unit", "customer_id").join(groups.select("customer_id", "group"),
                                                     "customer_id")
    return table.join(owner.select("unit", "group"), "unit")


def stage_funnel(journeys: ir.Table, jmap: JourneyMap, *, groups: ir.Table | None = None,
                 reach: Reach = "furthest") -> ir.Table:
    """One row per (group, stage): ``group, index, stage, customers, visited,
    conversion_to_next, exit_rate, median_seconds_in_stage, lost``.

    ``groups`` (``unit, group`` or ``customer_id, group``) splits the units, e.g.
    Enterprise vs SME; without it every unit is in group ``all``.  ``customers`` is the reach,
    ``lost`` the units whose furthest stage is this one (not counted at the last stage).
    """
    per = journeys.group_by("unit", "stage_index").aggregate(
        first=journeys.timestamp.min(), last=journeys.timestamp.max())
    per = per.mutate(seconds=seconds_between(per["first"], per["last"]))
    ends = journeys.filter(journeys.next_seconds.isnull()).select(
        "unit", end_index=journeys.stage_index)
    units = per.group_by("unit").aggregate(furthest=per.stage_index.max())
    units = units.join(ends, "unit")
    if reach == "first":
        first = journeys.filter(journeys.is_first).select("unit", start_index=journeys.stage_index)
        units = units.join(first, "unit")
    units = _with_group(units, groups, journeys)
    per = per.join(units.select("unit", "group", "furthest", "end_index"), "unit")
    stages = labelled_positions([s.id for s in jmap.stages], label="stage", index_type="int32")
    grid = stages.cross_join(units.select("group").distinct())
    visited = per.group_by("group", index=per.stage_index).aggregate(
        visited=per.count(),
        exits=(per.end_index == per.stage_index).sum(),
        median_seconds_in_stage=per.seconds.median(),
    )
    if reach != "visited":
        # the unit's stage: furthest, first or last; reaching k = that stage is k or later
        if reach == "furthest":
            at = units.furthest
        elif reach == "last":
            at = units.end_index
        elif reach == "first":
            at = units.start_index
        else:
            raise ValueError(f"unknown stage reach '{reach}' (furthest, first, last, visited)")
        at_units = units.select("group", at=at)
        hit = grid.join(at_units, [grid.group == at_units.group, at_units.at >= grid["index"]])
        hit = hit.select(group=grid.group, index=grid["index"], at=at_units.at)
        reached = hit.group_by("group", "index").aggregate(
            customers=hit.count(), lost=(hit.at == hit["index"]).sum())
    else:
        # visited: units with a touchpoint in the stage; conversion to the next stage is
        # the share of them that also visit the next one (never above 100 %).
        nxt_visit = per.select(nunit=per.unit, nindex=per.stage_index - 1)
        both = per.left_join(nxt_visit, [per.unit == nxt_visit.nunit,
                                         per.stage_index == nxt_visit.nindex])
        reached = both.group_by("group", index=both.stage_index).aggregate(
            customers=both.count(), moved_on=both.nunit.notnull().sum())
        reached = reached.mutate(lost=reached.customers - reached.moved_on).drop("moved_on")
    out = grid.left_join(reached, ["group", "index"]).select(grid, "customers", "lost")
    out = out.left_join(visited, ["group", "index"]).select(
        out, "visited", "exits", "median_seconds_in_stage")
    out = out.mutate(customers=out.customers.fill_null(0), lost=out.lost.fill_null(0),
                     visited=out.visited.fill_null(0), exits=out.exits.fill_null(0))
    w = ibis.window(group_by="group", order_by="index")
    if reach != "visited":
        converted = out.customers.lead().over(w).cast("float64")
    else:
        converted = (out.customers - out.lost).cast("float64")
    last_index = len(jmap.stages) - 1
    return out.mutate(
        conversion_to_next=ibis.ifelse(out["index"] == last_index, ibis.null(),
                                       converted / out.customers.nullif(0)),
        exit_rate=out.exits.cast("float64") / out.visited.nullif(0),
        lost=ibis.ifelse(out["index"] == last_index, 0, out.lost).cast("int64"),
    ).select("group", "index", "stage", "customers", "visited", "conversion_to_next",
             "exit_rate", "median_seconds_in_stage", "lost").order_by("group", "index")


def decay_points(journeys: ir.Table, jmap: JourneyMap, *, groups: ir.Table | None = None,
                 top: int = 10) -> ir.Table:
    """Where units whose journey stops before the last stage left: ``group, stage,
    touchpoint, customers, share_of_lost`` (of the group's units that left early),
    ``share_of_stage`` (of the units that reached that stage), the top ``top`` per group."""
    last_index = len(jmap.stages) - 1
    ends = journeys.filter(journeys.next_seconds.isnull()).select("unit", tp=journeys.tp)
    units = journeys.group_by("unit").aggregate(furthest=journeys.stage_index.max())
    units = _with_group(units.join(ends, "unit"), groups, journeys)
    reached = units.group_by("group").aggregate(n=units.count())
    early = units.filter(units.furthest < last_index)
    stage_ids = [(i, s.id) for i, s in enumerate(jmap.stages)]
    agg = early.group_by("group", "furthest", "tp").aggregate(customers=early.count())
    agg = agg.mutate(touchpoint=label(agg.tp, journeys, "touchpoint", jmap=jmap)).drop("tp")
    lost_total = agg.customers.sum().over(ibis.window(group_by="group"))
    per_stage = units.group_by("group", reach_at=units.furthest).aggregate(k=units.count())
    w = ibis.window(group_by="group", order_by=ibis.desc("reach_at"), rows=(None, 0))
    per_stage = per_stage.mutate(reach=per_stage.k.sum().over(w))
    agg = agg.join(per_stage, [agg.group == per_stage.group, agg.furthest == per_stage.reach_at])
    agg = agg.join(reached, "group")
    agg = agg.mutate(
        stage=agg.furthest.cases(*stage_ids, else_=None),
        share_of_lost=agg.customers.cast("float64") / lost_total,
        share_of_stage=agg.customers.cast("float64") / agg.reach,
    )
    rank = ibis.row_number().over(ibis.window(group_by="group",
                                              order_by=[ibis.desc("customers"), "touchpoint"]))
    agg = agg.mutate(rank=rank)
    return agg.filter(agg["rank"] < top).select(
        "group", "stage", "touchpoint", "customers", "share_of_lost", "share_of_stage",
    ).order_by("group", ibis.desc("customers"), "touchpoint")
