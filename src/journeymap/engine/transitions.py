"""Transitions (directly-follows): how often each step is followed by each other step.

Read from the journey table (:func:`journeymap.engine.journeys.journey_table`): every
row already carries its next step and the seconds to it, so a transition count is one
``group_by`` — no self-join, no second sort.  Each unit (customer or session) adds a
``START → first step`` and a ``last step → END`` transition, so journey starts and
ends show in the same graph.  Self-loops (``A → A``) are kept: repeating a step is a
fact worth seeing; ``collapse=True`` drops them (at stage level this gives the moves
between stages).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import ibis
import ibis.expr.types as ir

from journeymap.errors import JourneymapError
from journeymap.model.document import JourneyMap

Level = Literal["touchpoint", "event", "stage"]
START, END = "START", "END"


def step_labels(journeys: ir.Table, level: Level, *, jmap: JourneyMap | None = None,
                names: Mapping[int, str] | None = None) -> tuple[ir.StringValue, ir.StringValue]:
    """The (step, next step) of each row at ``level`` as strings (next is null at the end)."""
    if level == "touchpoint":
        return journeys.touchpoint, journeys.next_touchpoint
    if level == "event":
        if names is None:
            raise JourneymapError("event-level steps need the event-name dictionary")
        pairs = sorted(names.items())

        def label(col: ir.IntegerValue) -> ir.StringValue:
            return col.cases(*pairs, else_=col.cast("string"))

        return label(journeys.event_id), label(journeys.next_event_id)
    if level == "stage":
        if jmap is None:
            raise JourneymapError("stage-level steps need a map")
        pairs_tp = [(t.id, t.stage or "") for t in jmap.touchpoints]
        nxt = journeys.next_touchpoint.cases(*pairs_tp, else_=None) if pairs_tp else ibis.null()
        return journeys.stage, nxt.cast("string")
    raise JourneymapError(f"unknown level '{level}' (expected touchpoint, event or stage)")


def transitions(journeys: ir.Table, level: Level = "touchpoint", *,
                jmap: JourneyMap | None = None, names: Mapping[int, str] | None = None,
                markers: bool = True, collapse: bool = False) -> ir.Table:
    """Columns ``from, to, count, customers, median_seconds, p90_seconds, share``.

    ``share`` is the transition's part of all transitions out of ``from``;
    ``customers`` counts distinct customers (not sessions) who made it.
    """
    src, dst = step_labels(journeys, level, jmap=jmap, names=names)
    edges = journeys.select(
        customer_id=journeys.customer_id,
        from_=src,
        to=dst.fill_null(END) if markers else dst,
        seconds=journeys.next_seconds,
    )
    if not markers:
        edges = edges.filter(edges.to.notnull())
    if markers:
        first = journeys.filter(journeys.is_first)
        starts = first.select(
            customer_id=first.customer_id, from_=ibis.literal(START),
            to=step_labels(first, level, jmap=jmap, names=names)[0],
            seconds=ibis.null().cast("float64"),
        )
        edges = edges.union(starts)
    if collapse:
        edges = edges.filter(edges.from_ != edges.to)
    agg = edges.group_by("from_", "to").aggregate(
        count=edges.count(),
        customers=edges.customer_id.nunique(),
        median_seconds=edges.seconds.median(),
        p90_seconds=edges.seconds.quantile(0.9),
    )
    total_out = agg["count"].sum().over(ibis.window(group_by="from_"))
    agg = agg.mutate(share=agg["count"].cast("float64") / total_out)
    return agg.rename({"from": "from_"}).order_by(
        ibis.desc("count"), "from", "to")
