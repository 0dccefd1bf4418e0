"""Funnels: ordered steps, how many units reach each, how fast, and where the rest went.

Semantics (the same as retentioneering's sequential funnel, plus windows and
exclusions as in Amplitude and PostHog):

* **loose** order (default): a unit reaches step *k* if it did steps 1..k in that order,
  anything in between; each step is matched at its earliest occurrence after the
  previous step's match.
* **strict** order: step *k* must be the unit's very next step after step *k-1*; any
  attempt that starts at an occurrence of step 1 counts.
* **window**: every step must happen within ``window`` of the unit's step 1.
* **exclude**: a unit that does an excluded step between its step 1 and the last step
  it reached leaves the funnel entirely.

:func:`funnel_reached` finds, step by step, the units that reached each step (one join
of the previous step's units with the step's rows) and the code of the step each did
next; :func:`funnel` and :func:`funnel_dropoffs` are small aggregates on it, so a
caller that needs both computes it once (``reached=``).

A step is a touchpoint id or an event name (``level``).  Units are customers, or
sessions when the journey table is per session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import ibis
import ibis.expr.types as ir

from journeymap.engine.journeys import seconds_between
from journeymap.engine.labels import labelled_positions
from journeymap.engine.transitions import END_CODE, Level, codes_of, label, step_codes
from journeymap.errors import JourneymapError
from journeymap.model.document import JourneyMap


@dataclass(frozen=True)
class FunnelSpec:
    """What a funnel counts: ``steps`` in order, how strictly, within which window."""

    steps: tuple[str, ...]
    level: Level = "touchpoint"
    order: Literal["loose", "strict"] = "loose"
    window: dt.timedelta | None = None
    exclude: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.steps) < 1:
            raise JourneymapError("a funnel needs at least one step")
        if self.order not in ("loose", "strict"):
            raise JourneymapError(f"unknown funnel order '{self.order}' (expected loose or strict)")


def _rows(journeys: ir.Table, spec: FunnelSpec, jmap: JourneyMap | None,
          names: Mapping[int, str] | None) -> tuple[ir.Table, dict[str, list[int]]]:
    """The rows of the funnel's and exclusions' steps (``code`` = the step's code,
    ``nxt`` = the code of the unit's next step, ``END`` at the end), and each step
    name's codes."""
    step, nxt, _ = step_codes(journeys, spec.level, jmap=jmap)
    wanted = list(dict.fromkeys(spec.steps + spec.exclude))
    codes = codes_of(wanted, journeys, spec.level, jmap=jmap, names=names)
    every = sorted({c for found in codes.values() for c in found}) or [END_CODE]
    rows = journeys.select("cust", "unit", "seq", "timestamp", code=step,
                           nxt=nxt.fill_null(END_CODE).cast("int32"))
    return rows.filter(rows.code.isin(every)), codes


def _is(rows: ir.Table, codes: Sequence[int]) -> ir.BooleanValue:
    return rows.code.isin(list(codes) or [END_CODE])


def funnel_frontiers(journeys: ir.Table, spec: FunnelSpec, *, jmap: JourneyMap | None = None,
                     names: Mapping[int, str] | None = None) -> list[ir.Table]:
    """Per step, the units that reached it: ``unit, cust, at, t, next, start, prev_t``
    (``start`` = time of step 1, ``at``/``t`` = position and time of this step's match,
    ``next`` = the code of the step after the match; one row per unit in a loose
    funnel, one per attempt in a strict one)."""
    rows, codes = _rows(journeys, spec, jmap, names)
    first = rows.filter(_is(rows, codes[spec.steps[0]]))
    if spec.order == "loose":
        frontier = first.group_by("unit").aggregate(
            cust=first.cust.min(), at=first.seq.min(), t=first.timestamp.min(),
            next=first.nxt.argmin(first.seq))
    else:
        frontier = first.select("unit", "cust", at=first.seq, t=first.timestamp, next=first.nxt)
    frontier = frontier.mutate(start=frontier.t, prev_t=frontier.t)
    out = [frontier]
    for step in spec.steps[1:]:
        cand = rows.filter(_is(rows, codes[step])).select("unit", "seq", "timestamp", "nxt")
        prev = out[-1]
        cond = [prev.unit == cand.unit]
        cond.append(cand.seq == prev.at + 1 if spec.order == "strict" else cand.seq > prev.at)
        if spec.window is not None:
            cond.append(seconds_between(prev.start, cand.timestamp) <= spec.window.total_seconds())
        j = prev.join(cand, cond)
        if spec.order == "loose":
            # the earliest match after the previous step's: seq follows time in a unit
            nxt = j.group_by(prev.unit).aggregate(
                cust=j.cust.min(), at=j.seq.min(), t=j.timestamp.min(),
                next=j.nxt.argmin(j.seq), start=j.start.min(), prev_t=j.t.min())
        else:
            nxt = j.select(prev.unit, prev.cust, prev.start, prev.t, at=j.seq, t2=j.timestamp,
                           next_=j.nxt).rename(prev_t="t", t="t2", next="next_")
        out.append(nxt)
    if spec.exclude:
        out = _apply_exclusions(rows, out, [c for x in spec.exclude for c in codes[x]])
    return out


def _apply_exclusions(rows: ir.Table, frontiers: list[ir.Table],
                      exclude: Sequence[int]) -> list[ir.Table]:
    def part(f: ir.Table) -> ir.Table:  # same nullable types on both sides of the union
        return f.select(unit=f.unit.cast(f.unit.type().copy(nullable=True)), first_at=f.at.cast("int64"),
                        last_at=f.at.cast("int64"))

    reached = part(frontiers[0])
    for f in frontiers[1:]:
        reached = reached.union(part(f))
    span = reached.group_by("unit").aggregate(lo=reached.first_at.min(), hi=reached.last_at.max())
    bad = rows.filter(_is(rows, exclude))
    hit = span.join(bad, [span.unit == bad.unit, bad.seq > span.lo, bad.seq < span.hi])
    excluded = hit.select(unit=span.unit).distinct()
    return [f.anti_join(excluded, "unit") for f in frontiers]


def funnel_reached(journeys: ir.Table, spec: FunnelSpec, *, jmap: JourneyMap | None = None,
                   names: Mapping[int, str] | None = None) -> ir.Table:
    """:func:`funnel_frontiers` as one table with the step's ``index``: the input of
    :func:`funnel` and :func:`funnel_dropoffs` (store it once to compute both)."""
    out = None
    for i, f in enumerate(funnel_frontiers(journeys, spec, jmap=jmap, names=names)):
        part = f.select(index=ibis.literal(i, type="int64"),
                        unit=f.unit.cast(f.unit.type().copy(nullable=True)),
                        at=f.at.cast("int64"), t=f.t.cast("timestamp"),
                        start=f.start.cast("timestamp"), prev_t=f.prev_t.cast("timestamp"),
                        next=f.next.cast("int32"))
        out = part if out is None else out.union(part)
    assert out is not None
    return out


def _steps(spec: FunnelSpec) -> ir.Table:
    return labelled_positions(spec.steps, label="step")


def funnel(journeys: ir.Table, spec: FunnelSpec, *, jmap: JourneyMap | None = None,
           names: Mapping[int, str] | None = None, reached: ir.Table | None = None) -> ir.Table:
    """One row per step: ``index, step, customers, conversion`` (of step 1),
    ``conversion_from_previous``, ``share_of_units`` (of all units in the journey table),
    ``drop_off`` (lost since the previous step), ``median_seconds_from_previous``,
    ``median_seconds_from_start``.  ``reached``: :func:`funnel_reached`, if computed."""
    r = reached if reached is not None else funnel_reached(journeys, spec, jmap=jmap, names=names)
    if spec.order == "loose":  # one row per unit and step already
        per_unit = r.select("index", "unit", from_prev=seconds_between(r.prev_t, r.t),
                            from_start=seconds_between(r.start, r.t))
    else:  # the best attempt of each unit
        per_unit = r.group_by("index", "unit").aggregate(
            from_prev=seconds_between(r.prev_t, r.t).min(),
            from_start=seconds_between(r.start, r.t).min())
    stats = per_unit.group_by("index").aggregate(
        customers=per_unit.count(),
        median_seconds_from_previous=per_unit.from_prev.median(),
        median_seconds_from_start=per_unit.from_start.median(),
    )
    steps = _steps(spec)
    table = steps.left_join(stats, "index").select(
        steps["index"], steps.step, customers=stats.customers.fill_null(0).cast("int64"),
        median_seconds_from_previous=stats.median_seconds_from_previous,
        median_seconds_from_start=stats.median_seconds_from_start)
    units = journeys.filter(journeys.is_first).count()  # one first step per unit
    table = table.order_by("index")
    w = ibis.window(order_by="index")
    top = table.customers.first().over(w)
    prev = table.customers.lag().over(w)
    return table.mutate(
        conversion=table.customers.cast("float64") / top.nullif(0),
        conversion_from_previous=table.customers.cast("float64") / prev.fill_null(table.customers).nullif(0),
        drop_off=(prev.fill_null(table.customers) - table.customers).cast("int64"),
        share_of_units=table.customers.cast("float64") / units.nullif(0),  # no units: null
    ).select("index", "step", "customers", "conversion", "conversion_from_previous",
             "share_of_units", "drop_off", "median_seconds_from_previous",
             "median_seconds_from_start").order_by("index")


def funnel_dropoffs(journeys: ir.Table, spec: FunnelSpec, *, jmap: JourneyMap | None = None,
                    names: Mapping[int, str] | None = None, top: int = 5,
                    reached: ir.Table | None = None) -> ir.Table:
    """Where units that stopped after step ``index`` went next: ``index, next, customers``
    (``END`` when the journey ended there), the ``top`` destinations per step.
    ``reached``: :func:`funnel_reached`, if computed."""
    r = reached if reached is not None else funnel_reached(journeys, spec, jmap=jmap, names=names)
    later = r.select(unit_=r.unit, index_=r["index"] - 1)
    left = r.filter(r["index"] < len(spec.steps) - 1)
    left = left.anti_join(later, [left.unit == later.unit_, left["index"] == later.index_])
    if spec.order == "strict":  # the step after the unit's earliest attempt
        left = left.group_by("index", "unit").aggregate(next=left.next.argmin(left.at))
    table = left.select("index", "next")
    agg = table.group_by("index", "next").aggregate(customers=table.count())
    agg = agg.mutate(next=label(agg.next, journeys, spec.level, jmap=jmap, names=names))
    rank = ibis.row_number().over(ibis.window(group_by="index",
                                              order_by=[ibis.desc("customers"), "next"]))
    agg = agg.mutate(rank=rank)
    return agg.filter(agg["rank"] < top).drop("rank").order_by("index", ibis.desc("customers"), "next")
