"""Behaviour per touchpoint and stage for the insight rules, and conversion drivers.

One pass over the journeys of *all* customers in scope (the map's persona and the rest,
so that the persona can be compared with another segment) gives, per group and
touchpoint, aggregates only — nothing per customer leaves the engine:

* ``progress``: customers who reached the touchpoint (stage) and those who also visited
  the map's next stage (the rest dropped off there);
* ``loops``: customers who repeated the touchpoint in a row;
* ``gaps``: each customer's first move from the touchpoint to a different step, and
  how many took longer than the journey's typical gap (the median of all such first
  moves of the persona);
* ``drivers``: persona customers who had the touchpoint before reaching the map's goal
  event (or at all, when they never did), and how many of them reached it.

:func:`driver_candidates` turns ``drivers`` into tests: a touchpoint whose customers
reach the goal significantly more often than the others is an opportunity ("if the
others converted like them"), unless it is the goal itself or a step nearly every
converter passes through (a gate of the path, whose problem is its reach).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir

from journeymap.engine import stats
from journeymap.engine.journeys import Scope, customers_matching, event_names, scoped_events
from journeymap.engine.order import event_order
from journeymap.engine.touchpoints import assign_touchpoints
from journeymap.errors import JourneymapError
from journeymap.metrics.attribution import scratch_table
from journeymap.model.document import JourneyMap

PERSONA, REST = "persona", "rest"
GATE_SHARE = 0.9  # a touchpoint this share of converters had is a step of the path, not a driver


@dataclass
class Behaviour:
    """Aggregates per group (``persona``/``rest``) of one map's journeys."""

    touchpoints: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # group → tp → row
    stages: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # group → stage → row
    typical_gap: float | None = None  # median seconds to a different next step (persona)
    drivers: dict[str, dict[str, Any]] = field(default_factory=dict)  # tp → did, did_goal
    customers: int = 0  # persona customers with a matched step
    converted: int = 0  # of them, those who reached the goal event
    goal_touchpoints: tuple[str, ...] = ()
    rest_label: str | None = None  # how the rest of the customers differ ("not segment == 'SME'")


def _rows(expr: ir.Table) -> list[dict[str, Any]]:
    return list(expr.to_pyarrow().to_pylist())


def behaviour(con: ibis.BaseBackend, jmap: JourneyMap, *, segment: str | None = None,
              since: dt.date | dt.datetime | None = None,
              until: dt.date | dt.datetime | None = None) -> Behaviour:
    """The aggregates the insight rules read (see the module docstring)."""
    names = event_names(con)
    events, _ = scoped_events(con, jmap, Scope(segment=segment, since=since, until=until, persona=False))
    out = Behaviour()
    expr = _steps(events, jmap, names)
    group: ir.Value = ibis.literal(PERSONA)
    if jmap.persona.segment:
        try:
            members = customers_matching(con, jmap.persona.segment).mutate(_in=ibis.literal(True))
        except JourneymapError:
            members = None
        if members is not None:
            expr = expr.left_join(members, "customer_id").drop("customer_id_right")
            group = ibis.ifelse(expr._in.fill_null(False), PERSONA, REST)
            out.rest_label = f"not {jmap.persona.segment}"
    expr = expr.mutate(grp=group)
    goal_ids = [i for i, n in names.items() if n == jmap.goal.event] if jmap.goal.event else []
    with scratch_table(con, expr, "jm_insight") as j:
        _progress(j, out)
        _gaps(j, out)
        if goal_ids:
            _drivers(j, goal_ids, out)
    return out


def _steps(events: ir.Table, jmap: JourneyMap, names: dict[int, str]) -> ir.Table:
    """Matched events with the stage's position, the next step and the seconds to it."""
    tagged = assign_touchpoints(events, jmap, names)
    tagged = tagged.filter(tagged.touchpoint.notnull())
    order = [(s.id, i) for i, s in enumerate(jmap.stages)]
    null = ibis.null().cast("int32")
    keys = event_order(tagged)
    tagged = tagged.select("customer_id", *keys, "touchpoint", "stage",
                           stage_index=tagged.stage.cases(*order, else_=null).cast("int32") if order else null)
    w = ibis.window(group_by="customer_id", order_by=keys)
    nxt = tagged.timestamp.lead().over(w)
    return tagged.mutate(next_touchpoint=tagged.touchpoint.lead().over(w),
                         next_seconds=(nxt.epoch_seconds() - tagged.timestamp.epoch_seconds()).cast("float64"))


def _progress(j: ir.Table, out: Behaviour) -> None:
    per_tp = j.group_by("grp", "customer_id", "touchpoint", "stage", "stage_index").aggregate(
        repeated=(j.next_touchpoint == j.touchpoint).fill_null(False).any())
    visited = j.select("customer_id", next_index=j.stage_index - 1).distinct()
    t = per_tp.left_join(visited, [per_tp.customer_id == visited.customer_id,
                                   per_tp.stage_index == visited.next_index])
    t = t.mutate(went_on=t.next_index.notnull())
    for r in _rows(t.group_by("grp", "touchpoint", "stage").aggregate(
            customers=t.count(), went_on=t.went_on.cast("int64").sum(),
            repeated=t.repeated.cast("int64").sum())):
        out.touchpoints.setdefault(r["grp"], {})[r["touchpoint"]] = r
    per_stage = t.group_by("grp", "customer_id", "stage").aggregate(went_on=t.went_on.any())
    for r in _rows(per_stage.group_by("grp", "stage").aggregate(
            customers=per_stage.count(), went_on=per_stage.went_on.cast("int64").sum())):
        out.stages.setdefault(r["grp"], {})[r["stage"]] = r


def _gaps(j: ir.Table, out: Behaviour) -> None:
    """Each customer's first move from a touchpoint to a different step."""
    moves = j.filter(j.next_touchpoint.notnull() & (j.next_touchpoint != j.touchpoint))
    w = ibis.window(group_by=["customer_id", "touchpoint"], order_by=event_order(moves))
    moves = moves.mutate(_k=ibis.row_number().over(w))
    moves = moves.filter(moves._k == 0)
    typical = _rows(moves.filter(moves.grp == PERSONA).aggregate(m=moves.next_seconds.median()))[0]["m"]
    out.typical_gap = float(typical) if typical is not None else None
    if out.typical_gap is None:
        return
    slow = (moves.next_seconds > out.typical_gap).cast("int64")
    for r in _rows(moves.group_by("grp", "touchpoint").aggregate(
            moves=moves.count(), slow=slow.sum(), median_seconds=moves.next_seconds.median())):
        row = out.touchpoints.setdefault(r["grp"], {}).setdefault(r["touchpoint"], {})
        row.update(moves=r["moves"], slow=r["slow"], movers=r["moves"], median_gap=r["median_seconds"])


def _drivers(j: ir.Table, goal_ids: list[int], out: Behaviour) -> None:
    p = j.filter(j.grp == PERSONA)
    goal_at = p.group_by("customer_id").aggregate(goal_at=p.timestamp.min(where=p.event_id.isin(goal_ids)))
    t = p.inner_join(goal_at, "customer_id")
    before = t.filter(t.goal_at.isnull() | (t.timestamp < t.goal_at))
    did = before.group_by("touchpoint", "customer_id").aggregate(conv=before.goal_at.notnull().any())
    for r in _rows(did.group_by("touchpoint").aggregate(did=did.count(), did_goal=did.conv.cast("int64").sum())):
        out.drivers[r["touchpoint"]] = {"did": int(r["did"]), "did_goal": int(r["did_goal"] or 0)}
    totals = _rows(goal_at.aggregate(n=goal_at.count(), x=goal_at.goal_at.notnull().cast("int64").sum()))[0]
    out.customers, out.converted = int(totals["n"]), int(totals["x"] or 0)
    hits = p.filter(p.event_id.isin(goal_ids)).select("touchpoint").distinct()
    out.goal_touchpoints = tuple(sorted(str(r["touchpoint"]) for r in _rows(hits)))


def driver_candidates(b: Behaviour, jmap: JourneyMap, *, min_n: int) -> list[dict[str, Any]]:
    """One test per touchpoint: do its customers reach the goal more often than the rest?

    Each candidate carries the gain if the others reached the goal at its customers'
    rate: ``others × (rate − others' rate)`` — an upper bound, since those who choose a
    touchpoint may differ from those who do not."""
    out = []
    goal = jmap.goal.event
    for tp in jmap.touchpoints:
        d = b.drivers.get(tp.id)
        if d is None or tp.id in b.goal_touchpoints or not b.converted:
            continue
        did, did_goal = d["did"], d["did_goal"]
        others, others_goal = b.customers - did, b.converted - did_goal
        if did < min_n or others < min_n or did_goal / b.converted >= GATE_SHARE:
            continue
        test = stats.two_proportion_z(did_goal, did, others_goal, others)
        rate, base = did_goal / did, others_goal / others
        ci = stats.wilson_interval(did_goal, did)
        out.append({
            "target": tp.id, "level": "touchpoint", "kind": "conversion_driver", "direction": rate - base,
            "customers": others, "effect": rate - base,
            "gain": {"customers": round(others * (rate - base)), "metric": f"reached {goal}",
                     "if": f"customers without {tp.id} reached {goal} at the rate of those with it"},
            "evidence": {"metric": f"share reaching {goal}", "value": rate, "baseline": base,
                         "compared_with": f"customers without {tp.id}", "n": did, "baseline_n": others,
                         "ci": list(ci) if ci else None, "test": test.test, "statistic": test.statistic,
                         "p_value": test.p_value, "share_of_converters": did_goal / b.converted},
        })
    return out
