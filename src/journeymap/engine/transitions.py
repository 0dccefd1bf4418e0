"""Transitions (directly-follows): how often each step is followed by each other step.

Read from the journey table (:func:`journeymap.engine.journeys.journey_table`): every
row already carries its next step and the seconds to it, so a transition count is one
``group_by`` — no self-join, no second sort.  Each unit (customer or session) adds a
``START → first step`` and a ``last step → END`` transition, so journey starts and
ends show in the same graph.  Self-loops (``A → A``) are kept: repeating a step is a
fact worth seeing; ``collapse=True`` drops them (at stage level this gives the moves
between stages).

Steps are integer codes in the journey table (a touchpoint's or stage's position in
the map, or the event id); :func:`label` turns codes into names after aggregation,
on the few rows left, and :func:`codes_of` turns names asked for into codes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import ibis
import ibis.expr.types as ir

from journeymap.engine.distinct import distinct_customers
from journeymap.engine.touchpoints import stage_indexes
from journeymap.errors import JourneymapError
from journeymap.model.document import JourneyMap

Level = Literal["touchpoint", "event", "stage"]
START, END = "START", "END"
START_CODE, END_CODE = -1, -2


def _dictionary(journeys: ir.Table, level: Level, jmap: JourneyMap | None,
                names: Mapping[int, str] | None) -> dict[int, str]:
    """Code → label of the steps at ``level`` (START and END included)."""
    if level == "touchpoint" and "tp" in journeys.columns:
        if jmap is None:
            raise JourneymapError("touchpoint-level steps of a map's journey table need the map")
        found = dict(enumerate(t.id for t in jmap.touchpoints))
    elif level in ("touchpoint", "event"):
        if names is None:
            raise JourneymapError("event-level steps need the event-name dictionary")
        found = dict(names)
    elif level == "stage":
        if jmap is None:
            raise JourneymapError("stage-level steps need a map")
        found = dict(enumerate(s.id for s in jmap.stages))
    else:
        raise JourneymapError(f"unknown level '{level}' (expected touchpoint, event or stage)")
    return {START_CODE: START, END_CODE: END, **found}


def label(code: ir.IntegerValue, journeys: ir.Table, level: Level, *,
          jmap: JourneyMap | None = None,
          names: Mapping[int, str] | None = None) -> ir.StringValue:
    """The name of step ``code`` (apply after aggregation: a switch per row)."""
    pairs = sorted(_dictionary(journeys, level, jmap, names).items())
    return code.cases(*pairs, else_=code.cast("string"))


def codes_of(steps: Sequence[str], journeys: ir.Table, level: Level, *,
             jmap: JourneyMap | None = None,
             names: Mapping[int, str] | None = None) -> dict[str, list[int]]:
    """The codes of the steps named ``steps`` (a name no step has gets no code)."""
    found: dict[str, list[int]] = {s: [] for s in steps}
    for code, name in sorted(_dictionary(journeys, level, jmap, names).items()):
        if name in found and code >= 0:
            found[name].append(code)
    return found


def _tp_stage(col: ir.IntegerValue, jmap: JourneyMap | None) -> ir.IntegerValue:
    if jmap is None:
        raise JourneymapError("stage-level steps need a map")
    pairs = [(i, s) for i, s in enumerate(stage_indexes(jmap)) if s is not None]
    return (col.cases(*pairs, else_=None) if pairs else ibis.null()).cast("int32")


def step_codes(journeys: ir.Table, level: Level, *, jmap: JourneyMap | None = None
               ) -> tuple[ir.IntegerValue, ir.IntegerValue, ir.IntegerValue]:
    """The (step, next step, previous step) codes of each row at ``level``."""
    if level == "touchpoint" and "tp" in journeys.columns:
        return journeys.tp, journeys.next_tp, journeys.prev_tp
    if level in ("touchpoint", "event"):
        # the previous event is rarely asked for: a window here rather than a column
        # in every journey table
        prev = journeys.event_id.lag().over(ibis.window(group_by="unit", order_by="seq"))
        return journeys.event_id, journeys.next_event_id, prev
    if level == "stage":
        if "tp" not in journeys.columns:
            raise JourneymapError("stage-level steps need a map")
        return (journeys.stage_index, _tp_stage(journeys.next_tp, jmap),
                _tp_stage(journeys.prev_tp, jmap))
    raise JourneymapError(f"unknown level '{level}' (expected touchpoint, event or stage)")


def step_labels(journeys: ir.Table, level: Level, *, jmap: JourneyMap | None = None,
                names: Mapping[int, str] | None = None) -> tuple[ir.StringValue, ir.StringValue]:
    """The (step, next step) of each row at ``level`` as strings (next is null at the end).
    A switch per row: prefer :func:`step_codes` and :func:`label` after aggregating."""
    src, dst, _ = step_codes(journeys, level, jmap=jmap)
    return (label(src, journeys, level, jmap=jmap, names=names),
            ibis.ifelse(dst.isnull(), ibis.null("string"),
                        label(dst, journeys, level, jmap=jmap, names=names)))


def transitions(journeys: ir.Table, level: Level = "touchpoint", *,
                jmap: JourneyMap | None = None, names: Mapping[int, str] | None = None,
                markers: bool = True, collapse: bool = False) -> ir.Table:
    """Columns ``from, to, count, customers, median_seconds, p90_seconds, share``.

    ``share`` is the transition's part of all transitions out of ``from``;
    ``customers`` counts distinct customers (not sessions) who made it.
    """
    src, dst, _ = step_codes(journeys, level, jmap=jmap)
    edges = journeys.select(
        cust=journeys.cust,
        from_=src,
        to=dst.fill_null(END_CODE) if markers else dst,
        seconds=journeys.next_seconds,
    )
    if not markers:
        edges = edges.filter(edges.to.notnull())
    if markers:
        first = journeys.filter(journeys.is_first)
        starts = first.select(
            cust=first.cust, from_=ibis.literal(START_CODE, type="int32"),
            to=step_codes(first, level, jmap=jmap)[0].cast("int32"),
            seconds=ibis.null().cast("float64"),
        )
        edges = edges.select("cust", from_=edges.from_.cast("int32"),
                             to=edges.to.cast("int32"), seconds=edges.seconds).union(starts)
    if collapse:
        edges = edges.filter(edges.from_ != edges.to)
    agg = edges.group_by("from_", "to").aggregate(
        count=edges.count(),
        # one sort of each group's seconds for both quantiles (exact, interpolated)
        quantiles=edges.seconds.quantile([0.5, 0.9]),
    )
    steps = len(_dictionary(journeys, level, jmap, names)) + 1  # + a null step
    seen = distinct_customers(edges, ["from_", "to"], groups_bound=steps * steps)
    agg = agg.join(seen, [agg.from_.identical_to(seen.from_), agg.to.identical_to(seen.to)])
    agg = agg.select("from_", "to", "count", "customers", "quantiles")
    agg = agg.mutate(median_seconds=agg.quantiles[0], p90_seconds=agg.quantiles[1])
    total_out = agg["count"].sum().over(ibis.window(group_by="from_"))
    agg = agg.mutate(share=agg["count"].cast("float64") / total_out)
    agg = agg.select(label(agg.from_, journeys, level, jmap=jmap, names=names).name("from"),
                     label(agg.to, journeys, level, jmap=jmap, names=names).name("to"),
                     "count", "customers", "median_seconds", "p90_seconds", "share")
    return agg.order_by(ibis.desc("count"), "from", "to")
