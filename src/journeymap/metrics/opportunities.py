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
import ibis.expr.operations as ops
import ibis.expr.types as ir

from journeymap.engine import stats
from journeymap.engine.backend import capabilities
from journeymap.engine.journeys import (
    Scope,
    customer_splits,
    customers_matching,
    duckdb_threads,
    journey_table,
    scope_customers,
    scoped_events,
)
from journeymap.engine.order import event_order
from journeymap.engine.scope import event_names
from journeymap.engine.touchpoints import assign_touchpoint_codes, stage_indexes
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
    out = Behaviour()
    expr = _journey_steps(con, jmap, names, Scope(segment=segment, since=since, until=until,
                                                  persona=False))
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
    # stored narrow: the customer as its code, steps as codes (labelled after aggregation)
    expr = expr.mutate(grp=group).drop("customer_id", *(["_in"] if "_in" in expr.columns else []))
    expr = expr.rename(customer_id="cust")
    with scratch_table(con, expr, "jm_insight") as j:
        _aggregate(con, j, jmap, names, out)
    return out


def behaviour_of_journeys(con: ibis.BaseBackend, jmap: JourneyMap, journeys: ir.Table,
                          names: dict[int, str]) -> Behaviour:
    """:func:`behaviour` read from an analysis's journey table (per customer, stored
    once; :class:`journeymap.engine.analyze.Analysis`) when it holds the steps
    :func:`behaviour` would build: every customer in scope, no persona rule applied —
    so every customer is of the persona.  No second journey table: at 10 M events
    that is 2 s of the whole analysis."""
    j = journeys
    steps = j.select("timestamp", "event_id", customer_id=j.cust, touchpoint=j.tp,
                     stage=j.stage_index, stage_index=j.stage_index.cast("int32"),
                     next_touchpoint=j.next_tp, next_seconds=j.next_seconds,
                     _order=j.seq.cast("int64"), grp=ibis.literal(PERSONA))
    out = Behaviour()
    _aggregate(con, steps, jmap, names, out)
    return out


def _aggregate(con: ibis.BaseBackend, j: ir.Table, jmap: JourneyMap, names: dict[int, str],
               out: Behaviour) -> None:
    """Fill ``out`` from the steps ``j`` (:func:`_journey_steps`' columns, ``grp``, the
    customer as ``customer_id``)."""
    labels = Labels(tuple(t.id for t in jmap.touchpoints), tuple(s.id for s in jmap.stages),
                    tuple(stage_indexes(jmap)))
    goal_ids = [i for i, n in names.items() if n == jmap.goal.event] if jmap.goal.event else []
    _per_touchpoint(con, j, out, labels)
    if goal_ids:
        _drivers(j, goal_ids, out, labels)


def _journey_steps(con: ibis.BaseBackend, jmap: JourneyMap, names: dict[int, str],
                   scope: Scope) -> ir.Table:
    """:func:`_steps` of every customer in ``scope``.  On DuckDB they are the journey
    table's streaming windows over the stored order (no sort of every event by
    customer and time: 4 s → 1 s for the 250k-customer demo), labelled afterwards."""
    unfiltered, info = scoped_events(con, jmap, scope, by_customer=False)
    selected = scope_customers(con, info.rules)
    if not capabilities(con).stored_order:
        events = unfiltered if selected is None else unfiltered.semi_join(selected, "customer_id")
        return _steps(events, jmap, names)
    j = journey_table(unfiltered, jmap, names, presorted=True, customers=selected,
                      splits=customer_splits(con, duckdb_threads(con)))
    return j.select("customer_id", "timestamp", "event_id", cust=j.cust,
                    touchpoint=j.tp, stage=j.stage_index, stage_index=j.stage_index.cast("int32"),
                    next_touchpoint=j.next_tp, next_seconds=j.next_seconds,
                    _order=j.seq.cast("int64"))


def _steps(events: ir.Table, jmap: JourneyMap, names: dict[int, str]) -> ir.Table:
    """Matched events with their touchpoint and stage as codes (positions in the map),
    the next step and the seconds to it (``_order``: the step's position within its
    customer's journey; ``cust``: the customer)."""
    coded = assign_touchpoint_codes(events, jmap, names)
    coded = coded.filter(coded.tp.notnull())
    keys = event_order(coded)
    tagged = coded.select("customer_id", *keys, cust=coded.customer_id, touchpoint=coded.tp,
                          stage=coded.stage_index, stage_index=coded.stage_index.cast("int32"))
    w = ibis.window(group_by="customer_id", order_by=keys)
    nxt = tagged.timestamp.lead().over(w)
    return tagged.mutate(next_touchpoint=tagged.touchpoint.lead().over(w),
                         next_seconds=(nxt.epoch_seconds() - tagged.timestamp.epoch_seconds()).cast("float64"),
                         _order=ibis.row_number().over(w).cast("int64")).drop(
                             *[k for k in keys if k not in ("timestamp", "event_id")])


@dataclass(frozen=True)
class Labels:
    """Touchpoint and stage ids by their codes (positions in the map)."""

    touchpoints: tuple[str, ...]
    stages: tuple[str, ...]
    stage_of: tuple[int | None, ...] = ()  # per touchpoint code, its stage's code

    def tp(self, code: Any) -> str:
        return self.touchpoints[int(code)]

    def stage(self, code: Any) -> str | None:
        return self.stages[int(code)] if code is not None else None

    def stage_of_tp(self, code: Any) -> str | None:
        return self.stage(self.stage_of[int(code)])


#: per customer, the stages visited as bits of one integer: bit ``i`` for the map's
#: stage ``i``, :data:`NO_STAGE_BIT` for touchpoints outside the stages
NO_STAGE_BIT = 62


def _per_touchpoint(con: ibis.BaseBackend, j: ir.Table, out: Behaviour, labels: Labels) -> None:
    """Each customer's row per touchpoint — repeated it in a row, the seconds of their
    first move from it to a different step — in one aggregate over the steps, keyed by
    customer and touchpoint only (the stage is the touchpoint's; the group the
    customer's).  Whether they went on from its stage to the next one comes from the
    stages each customer visited, one bit each in one integer per customer: a join on
    the customer alone, and the per-stage rollup is a sum over customers."""
    moved = j.next_touchpoint.notnull() & (j.next_touchpoint != j.touchpoint)
    per_tp = j.group_by("customer_id", "touchpoint").aggregate(
        grp=j.grp.arbitrary(), stage_index=j.stage_index.arbitrary(),
        repeated=(j.next_touchpoint == j.touchpoint).fill_null(False).any(),
        # the first move: an arg-min aggregate, not a sorted window
        first_move=j.next_seconds.argmin(j._order, where=moved))
    if len(labels.stages) >= NO_STAGE_BIT or not con.has_operation(ops.BitOr):
        # more stages than bits, or no bit_or aggregate (Spark): the pairs of a join
        visited = per_tp.select("customer_id", next_index=per_tp.stage_index - 1).distinct()
        t = per_tp.left_join(visited, [per_tp.customer_id == visited.customer_id,
                                       per_tp.stage_index == visited.next_index])
        t = t.mutate(went_on=t.next_index.notnull()).drop("next_index")
        with scratch_table(con, t, "jm_insight_per_touchpoint") as t:
            _progress_rows(t, out, labels)
            _stage_rows_of_pairs(t, out, labels)
            _first_moves(t, out, labels)
        return
    with scratch_table(con, per_tp, "jm_insight_per_touchpoint") as per_tp:  # read by every rollup
        bit = per_tp.stage_index.cast("int64").fill_null(NO_STAGE_BIT)
        visits = per_tp.group_by("customer_id").aggregate(
            grp=per_tp.grp.arbitrary(), stages=(ibis.literal(1, type="int64") << bit).bit_or())
        t = per_tp.inner_join(visits.select("customer_id", "stages"), "customer_id")
        after = (t.stages >> (t.stage_index.cast("int64") + 1)) & 1
        _progress_rows(t.mutate(went_on=(after == 1).fill_null(False)).drop("stages"), out, labels)
        _stage_rows(visits, out, labels)
        _first_moves(per_tp, out, labels)


def _first_moves(t: ir.Table, out: Behaviour, labels: Labels) -> None:
    moves = t.filter(t.first_move.notnull())
    _gap_rows(moves.select("grp", "customer_id", "touchpoint", next_seconds=moves.first_move), out, labels)


def _progress_rows(t: ir.Table, out: Behaviour, labels: Labels) -> None:
    """Per touchpoint, from each customer's row per touchpoint."""
    for r in _rows(t.group_by("grp", "touchpoint").aggregate(
            customers=t.count(), went_on=t.went_on.cast("int64").sum(),
            repeated=t.repeated.cast("int64").sum())):
        r.update(touchpoint=labels.tp(r["touchpoint"]), stage=labels.stage_of_tp(r["touchpoint"]))
        out.touchpoints.setdefault(r["grp"], {})[r["touchpoint"]] = r


def _stage_rows(visits: ir.Table, out: Behaviour, labels: Labels) -> None:
    """Per stage, the customers who visited it and those who also visited the next:
    sums over each customer's bits of stages visited (one aggregate, no group per stage)."""
    def has(i: int) -> ir.IntegerValue:
        return (visits.stages >> i) & 1
    sums: dict[str, ir.Value] = {"n_none": has(NO_STAGE_BIT).sum()}
    for i in range(len(labels.stages)):
        sums[f"n_{i}"] = has(i).sum()
        sums[f"w_{i}"] = (has(i) & has(i + 1)).sum()
    for r in _rows(visits.group_by("grp").aggregate(**sums)):
        for i, stage in [*enumerate(labels.stages), (None, None)]:
            n = int(r[f"n_{'none' if i is None else i}"] or 0)
            if n:
                went = 0 if i is None else int(r[f"w_{i}"] or 0)
                out.stages.setdefault(r["grp"], {})[stage] = {
                    "grp": r["grp"], "stage": stage, "customers": n, "went_on": went}


def _stage_rows_of_pairs(t: ir.Table, out: Behaviour, labels: Labels) -> None:
    """:func:`_stage_rows` from rows per customer and touchpoint with ``went_on``."""
    per_stage = t.group_by("grp", "customer_id", "stage_index").aggregate(went_on=t.went_on.any())
    for r in _rows(per_stage.group_by("grp", "stage_index").aggregate(
            customers=per_stage.count(), went_on=per_stage.went_on.cast("int64").sum())):
        stage = labels.stage(r.pop("stage_index"))
        out.stages.setdefault(r["grp"], {})[stage] = {**r, "stage": stage}


def _gap_rows(moves: ir.Table, out: Behaviour, labels: Labels) -> None:
    """The typical gap (the persona's median) and each touchpoint's slow movers."""
    typical = _rows(moves.filter(moves.grp == PERSONA).aggregate(m=moves.next_seconds.median()))[0]["m"]
    out.typical_gap = float(typical) if typical is not None else None
    if out.typical_gap is None:
        return
    slow = (moves.next_seconds > out.typical_gap).cast("int64")
    for r in _rows(moves.group_by("grp", "touchpoint").aggregate(
            moves=moves.count(), slow=slow.sum(), median_seconds=moves.next_seconds.median())):
        row = out.touchpoints.setdefault(r["grp"], {}).setdefault(labels.tp(r["touchpoint"]), {})
        row.update(moves=r["moves"], slow=r["slow"], movers=r["moves"], median_gap=r["median_seconds"])


def _drivers(j: ir.Table, goal_ids: list[int], out: Behaviour, labels: Labels) -> None:
    p = j.filter(j.grp == PERSONA)
    goal_at = p.group_by("customer_id").aggregate(goal_at=p.timestamp.min(where=p.event_id.isin(goal_ids)))
    t = p.inner_join(goal_at, "customer_id")
    before = t.filter(t.goal_at.isnull() | (t.timestamp < t.goal_at))
    did = before.group_by("touchpoint", "customer_id").aggregate(conv=before.goal_at.notnull().any())
    for r in _rows(did.group_by("touchpoint").aggregate(did=did.count(), did_goal=did.conv.cast("int64").sum())):
        out.drivers[labels.tp(r["touchpoint"])] = {"did": int(r["did"]), "did_goal": int(r["did_goal"] or 0)}
    totals = _rows(goal_at.aggregate(n=goal_at.count(), x=goal_at.goal_at.notnull().cast("int64").sum()))[0]
    out.customers, out.converted = int(totals["n"]), int(totals["x"] or 0)
    hits = p.filter(p.event_id.isin(goal_ids)).select("touchpoint").distinct()
    out.goal_touchpoints = tuple(sorted(labels.tp(r["touchpoint"]) for r in _rows(hits)))


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
