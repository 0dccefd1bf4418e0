"""Attribution of conversions (the map's goal event) to touchpoints and channels.

A customer's journey is the sequence of their touchpoints (by the map's match rules)
before their first conversion — or all of them if they never converted — with
consecutive repeats of the same touchpoint counted once.  Rule-based models share each
conversion among the converter's touches: first touch, last touch, linear, time decay
(weight 2^(−age / half-life), age = time from touch to conversion) and position-based
(40 % first, 40 % last, 20 % spread over the middle; 50/50 with two touches).
The data-driven model is the Markov-chain removal effect (``markov.py``), of order 1 and
higher.  Everything up to the transition counts runs in the engine as window queries.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from journeymap.engine.backend import capabilities
from journeymap.engine.journeys import customer_splits, duckdb_threads, journey_table
from journeymap.engine.order import event_order
from journeymap.engine.scope import event_names, only_persona, persona_customers
from journeymap.engine.scratch import (
    scratch_table as scratch_table,  # opportunities imports it from here
)
from journeymap.engine.touchpoints import assign_touchpoints
from journeymap.metrics import markov
from journeymap.metrics.common import num
from journeymap.model.document import JourneyMap

HEURISTICS = ("first_touch", "last_touch", "linear", "time_decay", "position_based")


def _tagged(con: ibis.BaseBackend, jmap: JourneyMap, goal_ids: list[int]) -> ir.Table:
    """The persona's matched events before their first conversion, with the touchpoint,
    its channel and the conversion time (customer_id, timestamp, [_seq,] event_id,
    touchpoint, channel, conv_at) — shared by the touchpoint and channel levels.

    On DuckDB, with a channel on every touchpoint, they come from the journey table's
    stored-order windows instead (:func:`_journey_tagged`)."""
    persona, _ = persona_customers(con, jmap)
    if capabilities(con).stored_order and all(tp.channel for tp in jmap.touchpoints):
        return _journey_tagged(con, jmap, goal_ids, persona)
    return _events_tagged(con, jmap, goal_ids, persona)


def _events_tagged(con: ibis.BaseBackend, jmap: JourneyMap, goal_ids: list[int],
                   persona: ir.Table | None) -> ir.Table:
    """:func:`_tagged` on any backend: the events tagged one by one (sorted windows
    collapse them in :func:`_touches`)."""
    events = only_persona(con.table("event_log"), persona)
    tagged = assign_touchpoints(events, jmap, event_names(con))
    tagged = tagged.filter(tagged.touchpoint.notnull())
    channel_of = {tp.id: tp.channel for tp in jmap.touchpoints}
    channel = ibis.cases(*[(tagged.touchpoint == k, v) for k, v in channel_of.items()],
                         else_=tagged.channel)
    conv = events.filter(events.event_id.isin(goal_ids)).group_by("customer_id") \
        .aggregate(conv_at=lambda t: t.timestamp.min())
    order = event_order(tagged)
    t = tagged.mutate(channel=channel).left_join(conv, "customer_id").select(
        "customer_id", *order, "touchpoint", "channel", "conv_at")
    return t.filter(t.conv_at.isnull() | (t.timestamp < t.conv_at))


def _journey_tagged(con: ibis.BaseBackend, jmap: JourneyMap, goal_ids: list[int],
                    persona: ir.Table | None) -> ir.Table:
    """:func:`_tagged` from the journey table: each step's previous touchpoint and the
    number of its run of equal touchpoints (``run``) come from streaming windows over
    the stored order, so the touchpoint level needs no sort at all (``_o``: the step's
    position, increasing within a customer)."""
    names = event_names(con)
    events = con.table("event_log")
    j = journey_table(events, jmap, names, presorted=True, customers=persona,
                      splits=customer_splits(con, duckdb_threads(con)))
    tps = ibis.literal([tp.id for tp in jmap.touchpoints], type="array<string>")
    chans = ibis.literal([tp.channel for tp in jmap.touchpoints], type="array<string>")
    conv = events.filter(events.event_id.isin(goal_ids)).group_by("customer_id") \
        .aggregate(conv_at=lambda t: t.timestamp.min())
    t = j.left_join(conv, "customer_id").select(
        "customer_id", "timestamp", "run", "conv_at", _o=j.seq.cast("int64"),
        touchpoint=tps[j.tp], channel=chans[j.tp], prev_touchpoint=tps[j.prev_tp],
        prev_channel=chans[j.prev_tp])
    return t.filter(t.conv_at.isnull() | (t.timestamp < t.conv_at))


def _touches(tagged: ir.Table, level: str) -> ir.Table:
    """Collapsed touches (customer_id, timestamp, unit, pos, n, converted, conv_at)."""
    if "_o" in tagged.columns:  # from the journey table (see _journey_tagged)
        prev = tagged[f"prev_{level}"]
        t = tagged.filter(prev.isnull() | (prev != tagged[level]))
        t = t.select("customer_id", "timestamp", "conv_at", "run", "_o", unit=t[level])
        every = ibis.window(group_by="customer_id")
        if level == "touchpoint":  # a run start: its run's number is its position
            t = t.mutate(pos=t.run.cast("int64"), n=t.run.max().over(every).cast("int64"))
        else:
            t = t.mutate(pos=ibis.row_number().over(group_by="customer_id", order_by="_o") + 1,
                         n=t.count().over(every))
        return t.mutate(converted=t.conv_at.notnull()).drop("run", "_o")
    order = event_order(tagged)
    t = tagged.select("customer_id", *order, "conv_at", unit=tagged[level])
    w = ibis.window(group_by="customer_id", order_by=order)
    t = t.mutate(prev=t.unit.lag().over(w))
    t = t.filter(t.prev.isnull() | (t.prev != t.unit))
    w = ibis.window(group_by="customer_id", order_by=order)
    return t.mutate(pos=ibis.row_number().over(w) + 1, n=t.count().over(ibis.window(group_by="customer_id")),
                    converted=t.conv_at.notnull())


def _heuristics(t: ir.Table, half_life_days: float) -> dict[str, dict[str, float]]:
    c = t.filter(t.converted)
    age_days = (c.conv_at.epoch_seconds() - c.timestamp.epoch_seconds()) / 86400.0
    decay = (ibis.literal(0.5) ** (age_days / half_life_days))
    c = c.mutate(decay=decay)
    c = c.mutate(decay_total=c.decay.sum().over(ibis.window(group_by="customer_id")))
    middle = ibis.ifelse(c.n > 2, 0.2 / (c.n - 2).cast("float64"), 0.0)
    ends = ibis.ifelse(c.n == 1, 1.0, ibis.ifelse(c.n == 2, 0.5, 0.4))
    weights = c.mutate(
        first_touch=(c.pos == 1).cast("float64"),
        last_touch=(c.pos == c.n).cast("float64"),
        linear=1.0 / c.n.cast("float64"),
        time_decay=c.decay / c.decay_total,
        position_based=ibis.ifelse((c.pos == 1) | (c.pos == c.n), ends, middle),
    )
    rows = weights.group_by("unit").aggregate(**{h: weights[h].sum() for h in HEURISTICS}) \
        .to_pyarrow().to_pylist()
    return {r["unit"]: {h: float(r[h] or 0.0) for h in HEURISTICS} for r in rows}


def _transitions(t: ir.Table, orders: tuple[int, ...]) -> dict[int, dict[tuple[str, str], float]]:
    """The Markov chains' transition counts of every order, from one window pass over
    the touches.  A state of order k is the last k units (fewer at a journey's start);
    the next state is the same window one step on: the units after the first, then the
    next unit (``lead``)."""
    if not orders:
        return {}
    w = ibis.window(group_by="customer_id", order_by="pos")
    top = max(orders)
    prefix = {k: t.unit.lag(k).over(w) for k in range(1, top)}
    s = t.mutate(_nxt=t.unit.lead().over(w), **{f"_lag{k}": v for k, v in prefix.items()})

    def joined(parts: list[ir.StringValue]) -> ir.StringValue:
        # the units of a state, oldest first; a missing (null) one leaves no separator
        out = parts[-1]
        for p in reversed(parts[:-1]):
            out = (p + markov.SEP).fill_null("") + out
        return out

    moves = []
    for order in orders:
        lags = [s[f"_lag{k}"] for k in range(order - 1, 0, -1)]
        state = joined([*lags, s.unit])
        nxt = joined([*lags[1:], s.unit, s._nxt]) if order > 1 else s._nxt
        to = ibis.ifelse(s._nxt.notnull(), nxt, ibis.ifelse(s.converted, markov.CONV, markov.NULL))
        moves.append(s.select(order=ibis.literal(order), frm=state, to=to))
        moves.append(s.filter(s.pos == 1).select(order=ibis.literal(order),
                                                 frm=ibis.literal(markov.START), to=s.unit))
    both = ibis.union(*moves, distinct=False)
    rows = both.group_by(["order", "frm", "to"]).aggregate(n=both.count()).to_pyarrow().to_pylist()
    out: dict[int, dict[tuple[str, str], float]] = {o: {} for o in orders}
    for r in rows:
        out[int(r["order"])][(r["frm"], r["to"])] = float(r["n"])
    return out


def attribution_section(con: ibis.BaseBackend, jmap: JourneyMap, *, orders: tuple[int, ...] = (1, 2),
                        half_life_days: float = 7.0) -> dict[str, Any]:
    """The ``attribution`` key of ``analyze --json``: conversions to the map's goal event
    attributed to touchpoints and to channels by every model."""
    goal = jmap.goal.event
    if not goal:
        return {"available": False, "reason": "the map's goal names no event (goal.event)"}
    goal_ids = [i for i, n in event_names(con).items() if n == goal]
    if not goal_ids:
        return {"available": False, "reason": f"no stored event is named '{goal}'"}
    out: dict[str, Any] = {"available": True, "goal_event": goal, "half_life_days": half_life_days,
                           "orders": list(orders)}
    notice = persona_customers(con, jmap)[1]
    if notice:
        out["notice"] = notice
    # the tagged events feed both levels, each level's collapsed touches four queries:
    # hold both once in temporary tables
    with scratch_table(con, _tagged(con, jmap, goal_ids), "jm_tagged") as tagged:
        for level in ("touchpoint", "channel"):
            with scratch_table(con, _touches(tagged, level), "jm_touches") as t:
                _level(out, t, level, orders, half_life_days)
    return out


def _level(out: dict[str, Any], t: ir.Table, level: str, orders: tuple[int, ...], half_life_days: float) -> None:
    """Every model at one level (touchpoint or channel) into ``out``."""
    totals = t.aggregate(customers=t.customer_id.nunique(),
                         conversions=t.customer_id.nunique(where=t.converted)).to_pyarrow().to_pylist()[0]
    conversions = float(totals["conversions"] or 0)
    units: dict[str, dict[str, Any]] = {}
    for unit, values in _heuristics(t, half_life_days).items():
        units.setdefault(unit, {}).update({k: num(v, 3) for k, v in values.items()})
    chains = {}
    every = _transitions(t, orders)
    for order in orders:
        transitions = every[order]
        if not transitions or conversions == 0:
            continue
        result = markov.removal_effects(transitions, order)
        shares = markov.attribute(result.removal_effects, conversions)
        chains[str(order)] = {"conversion_probability": num(result.conversion_probability, 6),
                              "states": result.states}
        for unit, effect in result.removal_effects.items():
            units.setdefault(unit, {})[f"markov_{order}"] = num(shares[unit], 3)
            units[unit][f"removal_effect_{order}"] = num(effect, 6)
    for values in units.values():
        for h in HEURISTICS:
            values.setdefault(h, 0.0)
    key = "touchpoints" if level == "touchpoint" else "channels"
    out[key] = dict(sorted(units.items()))
    if level == "touchpoint":
        out.update(customers=int(totals["customers"] or 0), conversions=int(conversions),
                   conversion_rate=num(conversions / totals["customers"] if totals["customers"] else None),
                   markov=chains)
    else:
        out["channel_markov"] = chains
