"""How much of the customer data a map covers: reach per touchpoint and stage.

The first numbers a map shows: for the persona's customers, how many events and
customers each touchpoint has, how many customers reach each stage, and which events
the map does not cover (counted and named, never silently dropped).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis

from journeymap.engine.scope import iso, persona_events
from journeymap.engine.touchpoints import assign_touchpoints
from journeymap.model.document import JourneyMap


@dataclass
class MapCoverage:
    events: int
    customers: int
    first: str | None
    last: str | None
    touchpoints: dict[str, dict[str, int]] = field(default_factory=dict)
    stages: dict[str, int] = field(default_factory=dict)
    unmatched_events: int = 0
    unmatched_examples: list[str] = field(default_factory=list)
    segment_customers: int | None = None
    notice: str | None = None


def map_coverage(con: ibis.BaseBackend, jmap: JourneyMap, *, examples: int = 5) -> MapCoverage:
    rows = con.table("event_names").select("event_id", "event").to_pyarrow().to_pylist()
    names = {r["event_id"]: r["event"] for r in rows}
    events, segment_n, notice = persona_events(con, jmap)
    totals = events.aggregate(
        events=events.count(),
        customers=events.customer_id.nunique(),
        first=events.timestamp.min(),
        last=events.timestamp.max(),
    ).to_pyarrow().to_pylist()[0]
    tagged = assign_touchpoints(events, jmap, names)
    per_tp = (
        tagged.filter(tagged.touchpoint.notnull())
        .group_by("touchpoint")
        .aggregate(events=ibis._.count(), customers=ibis._.customer_id.nunique())
        .to_pyarrow().to_pylist()
    )
    per_stage = (
        tagged.filter(tagged.stage.notnull())
        .group_by("stage")
        .aggregate(customers=ibis._.customer_id.nunique())
        .to_pyarrow().to_pylist()
    )
    unmatched = tagged.filter(tagged.touchpoint.isnull())
    top = (
        unmatched.group_by("event_id").aggregate(n=ibis._.count())
        .order_by(ibis.desc("n"), "event_id").limit(examples).to_pyarrow().to_pylist()
    )
    return MapCoverage(
        events=int(totals["events"] or 0),
        customers=int(totals["customers"] or 0),
        first=iso(totals["first"]),
        last=iso(totals["last"]),
        touchpoints={r["touchpoint"]: {"events": int(r["events"]), "customers": int(r["customers"])}
                     for r in per_tp},
        stages={r["stage"]: int(r["customers"]) for r in per_stage},
        unmatched_events=int(unmatched.count().to_pyarrow().as_py()),
        unmatched_examples=[names.get(r["event_id"], str(r["event_id"])) for r in top],
        segment_customers=segment_n,
        notice=notice,
    )


