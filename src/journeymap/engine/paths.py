"""Paths: the most common journeys, what leads to a step, what follows it, and loops.

A path is the sequence of steps of one unit (customer or session).  Repeats of the
same step in a row are collapsed (``login, login, report`` is ``login → report``) so
variants group journeys that differ only in how often a step was repeated; loops
measures the repeats separately.  Every function returns an Ibis table.
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import ibis.expr.types as ir

from journeymap.engine.transitions import END, Level, step_labels
from journeymap.model.document import JourneyMap


def _labelled(journeys: ir.Table, level: Level, jmap: JourneyMap | None,
              names: Mapping[int, str] | None) -> ir.Table:
    step, _ = step_labels(journeys, level, jmap=jmap, names=names)
    if level == "event":
        prev = journeys.prev_event_id.cases(*sorted((names or {}).items()),
                                            else_=journeys.prev_event_id.cast("string"))
    elif level == "stage":
        pairs = [(t.id, t.stage or "") for t in (jmap.touchpoints if jmap else [])]
        prev = journeys.prev_touchpoint.cases(*pairs, else_=None) if pairs else ibis.null()
    else:
        prev = journeys.prev_touchpoint
    return journeys.select("customer_id", "unit", "seq", step=step, prev=prev.cast("string"))


def _collapsed(journeys: ir.Table, level: Level, jmap: JourneyMap | None,
               names: Mapping[int, str] | None) -> ir.Table:
    """One row per run of equal steps, numbered ``n`` = 1, 2, ... within the unit."""
    rows = _labelled(journeys, level, jmap, names)
    changes = rows.filter(rows.prev.isnull() | (rows.prev != rows.step))
    w = ibis.window(group_by="unit", order_by="seq")
    return changes.mutate(n=(ibis.row_number().over(w) + 1).cast("int64"))


def _variants(steps: ir.Table, units_total: ir.IntegerScalar | int, top: int) -> ir.Table:
    per_unit = steps.group_by("unit").aggregate(path=steps.step.collect(order_by=steps.n))
    out = per_unit.group_by("path").aggregate(customers=per_unit.count())
    out = out.mutate(share=out.customers.cast("float64") / units_total)
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
    steps = _collapsed(journeys, level, jmap, names)
    if units is not None:
        steps = steps.semi_join(units.select("unit"), "unit")
    lengths = steps.group_by("unit").aggregate(length=steps.n.max())
    ended = lengths.filter(lengths.length < max_steps + 1).select(
        "unit", step=ibis.literal(END), n=(lengths.length + 1).cast("int64"))
    head = steps.filter(steps.n <= max_steps).select("unit", "step", "n")
    return _variants(head.union(ended), lengths.count(), top)


def first_reach(journeys: ir.Table, step: str, level: Level = "touchpoint", *,
                jmap: JourneyMap | None = None,
                names: Mapping[int, str] | None = None) -> ir.Table:
    """Per unit, the position ``seq`` of its first ``step`` (units that never did it are absent)."""
    rows = _labelled(journeys, level, jmap, names)
    hit = rows.filter(rows.step == step)
    return hit.group_by("unit").aggregate(at=hit.seq.min())


def paths_around(journeys: ir.Table, step: str, level: Level = "touchpoint", *,
                 before: int = 0, after: int = 0, top: int = 10,
                 jmap: JourneyMap | None = None,
                 names: Mapping[int, str] | None = None) -> ir.Table:
    """The ``before`` steps leading to the first ``step`` of each unit (what leads to
    conversion or churn), or the ``after`` steps following it; ``step`` itself is
    included.  Raw steps, not collapsed: this is a close-up."""
    rows = _labelled(journeys, level, jmap, names)
    anchor = first_reach(journeys, step, level, jmap=jmap, names=names)
    joined = rows.join(anchor, "unit")
    near = joined.filter((joined.seq >= joined.at - before) & (joined.seq <= joined.at + after))
    steps = near.select("unit", "step", n=near.seq)
    return _variants(steps, anchor.count(), top)


def loops(journeys: ir.Table, level: Level = "touchpoint", *,
          jmap: JourneyMap | None = None, names: Mapping[int, str] | None = None) -> ir.Table:
    """Repeated steps: per step, units that did it, units that did it twice or more in a
    row (``stuck``), their share, and the median run length of those stuck."""
    rows = _labelled(journeys, level, jmap, names)
    runs = _collapsed(journeys, level, jmap, names)
    w = ibis.window(group_by="unit", order_by="n")
    runs = runs.mutate(next_seq=runs.seq.lead().over(w))
    ends = rows.group_by("unit").aggregate(last=rows.seq.max())
    runs = runs.join(ends, "unit")
    runs = runs.mutate(length=runs.next_seq.fill_null(runs["last"] + 1) - runs.seq)
    per_unit = runs.group_by("unit", "step").aggregate(longest=runs.length.max())
    out = per_unit.group_by("step").aggregate(
        customers=per_unit.count(),
        stuck=(per_unit.longest >= 2).sum(),
        median_run=per_unit.longest.median(where=per_unit.longest >= 2),
    )
    out = out.mutate(stuck_share=out.stuck.cast("float64") / out.customers)
    return out.order_by(ibis.desc("stuck_share"), "step")
