"""Churn: who left, when, and where they were in the journey when they did.

A customer churns either by an explicit event (``churn_event="subscription_cancelled"``:
the first such event is the moment of churn) or by inactivity (no event in the last
``inactivity_days`` before ``as_of``, the end of the data by default: the moment of
churn is the last event).  With inactivity, customers first seen less than
``inactivity_days`` before ``as_of`` are not yet judged and left out.
``eligible_events`` narrows who is at risk to customers who did one of them or the
churn event (e.g. ``subscription_renewed``: with ``subscription_cancelled`` as the
churn event, those who reached the renewal decision).  Events after ``as_of`` are
ignored.

:func:`churn_section` gives the churn rate, churn by segment (a segment comparison of
the churn metric) and two tables of *where* customers were when they left, each row
tested against the rest with a two-proportion z test and BH/Holm corrections:

* ``by_last_touchpoint`` — the last touchpoint (or event, without a map) before churn;
* ``by_stage_exit`` — per stage of the map, the last touchpoint the customer had in
  that stage.  This shows a stall in an early stage even when customers kept using
  the product afterwards (the last touchpoint overall is then routine usage).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict

import ibis
import ibis.expr.types as ir

from journeymap.engine import stats
from journeymap.engine.churn_flags import ChurnDefinition, churn_flags, event_ids
from journeymap.engine.order import event_order
from journeymap.engine.scope import event_names, persona_events
from journeymap.engine.scratch import scratch_table
from journeymap.engine.segments import By, segment_comparison
from journeymap.engine.touchpoints import assign_touchpoints
from journeymap.model.document import JourneyMap

__all__ = ["ChurnDefinition", "churn_flags", "churn_section"]  # the definition and flags live in churn_flags


def _tagged(con: ibis.BaseBackend, events: ir.Table, jmap: JourneyMap | None) -> ir.Table:
    """Events with ``touchpoint`` and ``stage`` (event names and no stage without a map)."""
    names = event_names(con)
    if jmap is not None:
        tagged = assign_touchpoints(events, jmap, names)
        return tagged.filter(tagged.touchpoint.notnull())
    dictionary = con.table("event_names").select("event_id", touchpoint="event")
    tagged = events.left_join(dictionary, "event_id").drop("event_id_right")
    return tagged.mutate(stage=ibis.null().cast("string"))


def steps_before_churn(con: ibis.BaseBackend, events: ir.Table, flags: ir.Table,
                       jmap: JourneyMap | None, *, exclude: Sequence[str] = ()) -> ir.Table:
    """customer_id, stage, touchpoint, the event order keys and churned: each step of
    a customer at risk before they churned (any time, for those who did not)."""
    tagged = _tagged(con, events, jmap)
    if exclude:
        tagged = tagged.filter(~tagged.event_id.isin(event_ids(event_names(con), exclude)))
    joined = tagged.inner_join(flags, "customer_id")
    before = joined.filter(joined.churn_time.isnull() | (joined.timestamp < joined.churn_time))
    return before.select("customer_id", "stage", "touchpoint", *event_order(before), "churned")


def latest_per_stage(before: ir.Table) -> ir.Table:
    """customer_id, stage, touchpoint, at, churned: the latest of ``before``'s steps per
    customer and stage (stage null: touchpoints outside the stages), ``at`` its order
    key.  One arg-max aggregate over the steps (one row kept per group, no sorted
    window); the latest per customer is then the latest of these few rows."""
    latest = ibis.struct({c: before[c] for c in event_order(before)})
    return before.group_by(["customer_id", "stage"]).aggregate(
        touchpoint=before.touchpoint.argmax(latest), at=latest.max(), churned=before.churned.max())


def latest_touchpoints(per_stage_latest: ir.Table, *, per_stage: bool) -> ir.Table:
    """customer_id, [stage,] touchpoint, churned: the latest step per customer (and
    stage), from :func:`latest_per_stage`."""
    t = per_stage_latest
    if per_stage:
        return t.filter(t.stage.notnull()).select("customer_id", "stage", "touchpoint", "churned")
    return t.group_by("customer_id").aggregate(touchpoint=t.touchpoint.argmax(t.at),
                                               churned=t.churned.max())


def last_touchpoints(con: ibis.BaseBackend, events: ir.Table, flags: ir.Table, jmap: JourneyMap | None,
                     *, per_stage: bool, exclude: Sequence[str] = ()) -> ir.Table:
    """customer_id, [stage,] touchpoint, churned: the last touchpoint each customer at
    risk had before churning (any time, for those who did not), overall or per stage."""
    steps = steps_before_churn(con, events, flags, jmap, exclude=exclude)
    return latest_touchpoints(latest_per_stage(steps), per_stage=per_stage)


def _rate_rows(table: ir.Table, keys: list[str]) -> list[dict[str, object]]:
    grouped = table.group_by(keys).aggregate(
        customers=ibis._.count(), churned=ibis._.churned.cast("int64").sum())
    rows = grouped.order_by(*keys).to_pyarrow().to_pylist()
    group_key = keys[:-1]
    totals: dict[tuple[object, ...], tuple[int, int]] = {}
    for r in rows:
        k = tuple(r[g] for g in group_key)
        n, x = totals.get(k, (0, 0))
        totals[k] = (n + int(r["customers"]), x + int(r["churned"] or 0))
    out = []
    for r in rows:
        n, x = int(r["customers"]), int(r["churned"] or 0)
        tn, tx = totals[tuple(r[g] for g in group_key)]
        test = stats.two_proportion_z(x, n, tx - x, tn - n)
        rate, rest = (x / n if n else None), ((tx - x) / (tn - n) if tn > n else None)
        out.append({**{k: r[k] for k in keys}, "customers": n, "churned": x, "churn_rate": rate,
                    "rest_churn_rate": rest, "lift": rate / rest if rate is not None and rest else None,
                    "share_of_churners": x / tx if tx else None,
                    "test": test.test, "statistic": test.statistic, "p_value": test.p_value})
    stats.add_corrections(out)  # type: ignore[arg-type]
    return sorted(out, key=lambda r: (*(str(r[g]) for g in group_key), -float(r["churned"])))  # type: ignore[arg-type]


def churn_section(
    con: ibis.BaseBackend,
    jmap: JourneyMap | None = None,
    *,
    inactivity_days: float | None = None,
    churn_event: str | None = None,
    eligible_events: Sequence[str] = (),
    as_of: dt.datetime | None = None,
    by: By | None = None,
    events: ir.Table | None = None,
    exclude_events: Sequence[str] = (),
) -> dict[str, object]:
    """Churn rate, churn by segment, by last touchpoint and by stage exit.

    ``events`` defaults to the map persona's events (all events without a map).
    ``exclude_events`` are left out when looking for the last touchpoint (e.g.
    ``renewal_reminder_sent``, which every customer at risk receives)."""
    definition = ChurnDefinition(churn_event, inactivity_days, tuple(eligible_events), as_of)
    if events is None:
        events = persona_events(con, jmap)[0] if jmap is not None else con.table("event_log")
    with scratch_table(con, churn_flags(con, events, definition), "jm_churn_flags") as flags:
        return _churn_section(con, jmap, definition, events, flags, by, exclude_events, as_of)


def _churn_section(con: ibis.BaseBackend, jmap: JourneyMap | None, definition: ChurnDefinition,
                   events: ir.Table, flags: ir.Table, by: By | None, exclude_events: Sequence[str],
                   as_of: dt.datetime | None) -> dict[str, object]:
    """:func:`churn_section` on the customers' flags, computed once."""
    eligible_events = definition.eligible_events
    total = flags.aggregate(n=flags.count(), x=flags.churned.cast("int64").sum()).to_pyarrow().to_pylist()[0]
    n, x = int(total["n"] or 0), int(total["x"] or 0)
    ci = stats.wilson_interval(x, n)
    section: dict[str, object] = {
        "definition": {**asdict(definition), "as_of": as_of.isoformat() if as_of else None,
                       "eligible_events": list(eligible_events), "text": definition.describe()},
        "customers": n, "churned": x, "churn_rate": x / n if n else None,
        "ci_low": ci[0] if ci else None, "ci_high": ci[1] if ci else None,
    }
    # the steps before churn feed both tables: tag, join and reduce the events once,
    # to the latest step per customer and stage
    steps = steps_before_churn(con, events, flags, jmap, exclude=exclude_events)
    with scratch_table(con, latest_per_stage(steps), "jm_churn_latest") as before:
        last = latest_touchpoints(before, per_stage=False)
        section["by_last_touchpoint"] = _rate_rows(last, ["touchpoint"])
        if jmap is not None:
            exits = latest_touchpoints(before, per_stage=True)
            order = {s: i for i, s in enumerate(jmap.stage_ids())}
            rows = _rate_rows(exits, ["stage", "touchpoint"])
            section["by_stage_exit"] = sorted(rows, key=lambda r: order.get(str(r["stage"]), len(order)))
        else:
            section["by_stage_exit"] = []
    if by is not None:
        section["by_segment"] = segment_comparison(con, jmap, by, ["churn"], churn=definition, events=events)
    return section
