"""Who churned and when: the churn definition and the customer flags it gives.

Below :mod:`journeymap.engine.churn` (where customers were when they left) and
:mod:`journeymap.engine.segments` (the churn metric by segment), which both read it.
A customer churns either by an explicit event (the first such event is the moment of
churn) or by inactivity (no event in the last ``inactivity_days`` before ``as_of``; the
moment of churn is the last event; customers first seen less than ``inactivity_days``
before ``as_of`` are not yet judged).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir

from journeymap.engine.scope import event_names
from journeymap.errors import JourneymapError

DEFAULT_INACTIVITY_DAYS = 90.0


@dataclass(frozen=True)
class ChurnDefinition:
    """When a customer counts as churned (see the module docstring)."""

    churn_event: str | None = None
    inactivity_days: float | None = None
    eligible_events: tuple[str, ...] = field(default_factory=tuple)
    as_of: dt.datetime | None = None

    @property
    def days(self) -> float:
        return self.inactivity_days if self.inactivity_days is not None else DEFAULT_INACTIVITY_DAYS

    def describe(self) -> str:
        who = f" among customers who did {' or '.join(self.eligible_events)}" if self.eligible_events else ""
        if self.churn_event:
            return f"churned = did {self.churn_event}{who}"
        return f"churned = no event in the last {self.days:g} days of the data{who}"


def event_ids(names: dict[int, str], wanted: Sequence[str]) -> list[int]:
    by_name = {n: i for i, n in names.items()}
    for name in wanted:
        if name not in by_name:
            raise JourneymapError(f"event '{name}' does not occur in the data")
    return [by_name[n] for n in wanted]


def churn_flags(con: ibis.BaseBackend, events: ir.Table, definition: ChurnDefinition) -> ir.Table:
    """customer_id, churned (bool), churn_time (null when not churned) for every
    customer at risk under ``definition``."""
    names = event_names(con)
    if definition.as_of is not None:
        events = events.filter(events.timestamp <= ibis.literal(definition.as_of))
    # first and last event only: the profile's other columns (a distinct count of
    # event types above all) cost 0.9 s of 1 s at 10 M events and are not read here
    base = events.group_by("customer_id").aggregate(first_seen=events.timestamp.min(),
                                                    last_seen=events.timestamp.max())
    if definition.eligible_events:
        ids = event_ids(names, definition.eligible_events)
        if definition.churn_event:
            ids += event_ids(names, [definition.churn_event])
        at_risk = events.filter(events.event_id.isin(ids)).select("customer_id").distinct()
        base = base.semi_join(at_risk, "customer_id")
    if definition.churn_event:
        churn_id = event_ids(names, [definition.churn_event])[0]
        hits = events.filter(events.event_id == churn_id)
        first = hits.group_by("customer_id").aggregate(churn_time=hits.timestamp.min())
        t = base.left_join(first, "customer_id").drop("customer_id_right")
        return t.select("customer_id", churned=t.churn_time.notnull(), churn_time=t.churn_time)
    as_of = ibis.literal(definition.as_of) if definition.as_of is not None else events.timestamp.max().as_scalar()
    cutoff = as_of - ibis.interval(seconds=int(definition.days * 86_400))
    judged = base.filter(base.first_seen <= cutoff)
    churned = judged.last_seen < cutoff
    return judged.select("customer_id", churned=churned,
                         churn_time=ibis.cases((churned, judged.last_seen), else_=ibis.null().cast("timestamp")))
