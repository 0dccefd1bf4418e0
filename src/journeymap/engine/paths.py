"""Paths: the most common journeys, what leads to a step, what follows it, and loops.

A path is the sequence of steps of one unit (customer or session).  Repeats of the
same step in a row are collapsed (``login, login, report`` is ``login → report``) so
variants group journeys that differ only in how often a step was repeated; loops
measures the repeats separately.  Every function returns an Ibis table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import ibis
import ibis.expr.types as ir

from journeymap.engine.transitions import END_CODE, Level, codes_of, label, step_codes
from journeymap.model.document import JourneyMap


def _coded(journeys: ir.Table, level: Level, jmap: JourneyMap | None) -> ir.Table:
    step, _, prev = step_codes(journeys, level, jmap=jmap)
    return journeys.select("unit", "seq", step=step.cast("int32"),
                           prev=prev.cast("int32"))


def _collapsed(journeys: ir.Table, level: Level, jmap: JourneyMap | None) -> ir.Table:
    """One row per run of equal steps, numbered ``n`` = 1, 2, ... within the unit."""
    rows = _coded(journeys, level, jmap)
    changes = rows.filter(rows.prev.isnull() | (rows.prev != rows.step))
    w = ibis.window(group_by="unit", order_by="seq")
    return changes.mutate(n=(ibis.row_number().over(w) + 1).cast("int64"))


def _variants(steps: ir.Table, units_total: ir.IntegerScalar | int, top: int,
              named: Callable[[ir.IntegerValue], ir.StringValue]) -> ir.Table:
    # Sort (n, step) pairs rather than collect(order_by=...): Spark has no ordered
    # aggregate, and array sort + transform run the same on every engine.
    pairs = ibis.struct({"n": steps.n, "step": steps.step})
    per_unit = steps.group_by("unit").aggregate(path=pairs.collect().sort().map(lambda p: p.step))
    out = per_unit.group_by("path").aggregate(customers=per_unit.count())
    out = out.mutate(share=out.customers.cast("float64") / units_total)
    out = out.select(path=out.path.map(named), customers=out.customers, share=out.share)
    return out.order_by(ibis.desc("customers"), "path").limit(top)


def path_variants(journeys: ir.Table, level: Level = "touchpoint", *, max_steps: int = 6,
                  top: int = 20, jmap: JourneyMap | None = None,
                  names: Mapping[int, str] | None = None,
                  units: ir.Table | None = None) -> ir.Table:
    """Top ``top`` variants of the first ``max_steps`` steps: ``path, customers, share``.

    A path that ends within ``max_steps`` ends with ``END``; ``customers`` counts units
    (sessions when the journey table is per session).  ``units`` (a table with a
    ``unit`` column) restricts the variants to those units, e.g. converted customers.
    """
    if level == "touchpoint" and "run" in journeys.columns:
        # the journey table numbers the collapsed steps already (``run``): no sort here
        kept = journeys if units is None else journeys.semi_join(units.select("unit"), "unit")
        start = (kept.prev_tp.isnull() | (kept.prev_tp != kept.tp)).fill_null(False)
        steps = kept.filter(start & (kept.run <= max_steps)).select(
            "unit", step=kept.tp.cast("int32"), n=kept.run.cast("int64"))
        ends = kept.filter(kept.next_seconds.isnull())
        lengths = ends.select("unit", length=ends.run.cast("int64"))
    else:
        steps = _collapsed(journeys, level, jmap)
        if units is not None:
            steps = steps.semi_join(units.select("unit"), "unit")
        lengths = steps.group_by("unit").aggregate(length=steps.n.max())
    ended = lengths.filter(lengths.length < max_steps + 1).select(
        "unit", step=ibis.literal(END_CODE, type="int32"), n=(lengths.length + 1).cast("int64"))
    head = steps.filter(steps.n <= max_steps).select("unit", "step", "n")
    return _variants(head.union(ended), lengths.count(), top, _namer(journeys, level, jmap, names))


def _namer(journeys: ir.Table, level: Level, jmap: JourneyMap | None,
           names: Mapping[int, str] | None) -> Callable[[ir.IntegerValue], ir.StringValue]:
    def named(code: ir.IntegerValue) -> ir.StringValue:
        return label(code, journeys, level, jmap=jmap, names=names)
    return named


def _anchor_codes(journeys: ir.Table, step: str, level: Level, jmap: JourneyMap | None,
                  names: Mapping[int, str] | None) -> list[int]:
    return codes_of([step], journeys, level, jmap=jmap, names=names)[step] or [END_CODE]


def first_reach(journeys: ir.Table, step: str, level: Level = "touchpoint", *,
                jmap: JourneyMap | None = None,
                names: Mapping[int, str] | None = None) -> ir.Table:
    """Per unit, the position ``seq`` of its first ``step`` (units that never did it are absent)."""
    rows = _coded(journeys, level, jmap)
    hit = rows.filter(rows.step.isin(_anchor_codes(journeys, step, level, jmap, names)))
    return hit.group_by("unit").aggregate(at=hit.seq.min())


def paths_around(journeys: ir.Table, step: str, level: Level = "touchpoint", *,
                 before: int = 0, after: int = 0, top: int = 10,
                 jmap: JourneyMap | None = None,
                 names: Mapping[int, str] | None = None) -> ir.Table:
    """The ``before`` steps leading to the first ``step`` of each unit (what leads to
    conversion or churn), or the ``after`` steps following it; ``step`` itself is
    included.  Raw steps, not collapsed: this is a close-up."""
    rows = _coded(journeys, level, jmap)
    anchor = first_reach(journeys, step, level, jmap=jmap, names=names)
    joined = rows.join(anchor, "unit")
    near = joined.filter((joined.seq >= joined.at - before) & (joined.seq <= joined.at + after))
    steps = near.select("unit", "step", n=near.seq)
    return _variants(steps, anchor.count(), top, _namer(journeys, level, jmap, names))


def _longest_runs(j: ir.Table) -> ir.Table:
    """``unit, step, longest``: each unit's longest run of each touchpoint, from the
    journey table's run numbers.  Only the steps of a repeat (the same touchpoint
    before or after) are grouped by run — a run of one is every other step's."""
    pairs = j.group_by("unit", step=j.tp.cast("int32")).aggregate()
    repeated = (j.prev_tp == j.tp).fill_null(False) | (j.next_tp == j.tp).fill_null(False)
    r = j.filter(repeated)
    runs = r.group_by("unit", "run").aggregate(step=r.tp.cast("int32").min(), length=r.count())
    longest = runs.group_by("unit", "step").aggregate(longest=runs.length.max())
    t = pairs.left_join(longest, ["unit", "step"])
    return t.select(pairs.unit, pairs.step, longest=t.longest.fill_null(1))


def loops(journeys: ir.Table, level: Level = "touchpoint", *,
          jmap: JourneyMap | None = None, names: Mapping[int, str] | None = None) -> ir.Table:
    """Repeated steps: per step, units that did it, units that did it twice or more in a
    row (``stuck``), their share, and the median run length of those stuck."""
    if level == "touchpoint" and "run" in journeys.columns:
        per_unit = _longest_runs(journeys)
    else:
        rows = _coded(journeys, level, jmap)
        runs = _collapsed(journeys, level, jmap)
        w = ibis.window(group_by="unit", order_by="n")
        runs = runs.mutate(next_seq=runs.seq.lead().over(w))
        ends = rows.group_by("unit").aggregate(last=rows.seq.max())
        runs = runs.join(ends, "unit")
        runs = runs.mutate(length=runs.next_seq.fill_null(runs["last"] + 1) - runs.seq)
        per_unit = runs.group_by("unit", "step").aggregate(longest=runs.length.max())
    out = per_unit.group_by("step").aggregate(
        customers=per_unit.count(),
        stuck=(per_unit.longest >= 2).sum(),
        # median(where=...) compiles to a non-constant percentile on Spark: filter by value
        median_run=ibis.ifelse(per_unit.longest >= 2, per_unit.longest, None).median(),
    )
    out = out.mutate(stuck_share=out.stuck.cast("float64") / out.customers)
    out = out.select(step=label(out.step, journeys, level, jmap=jmap, names=names),
                     customers=out.customers, stuck=out.stuck, median_run=out.median_run,
                     stuck_share=out.stuck_share)
    return out.order_by(ibis.desc("stuck_share"), "step")
