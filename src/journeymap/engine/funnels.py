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
    """The rows of the funnel's and exclusions' steps (``code`` = the step's code), and
    each step name's codes."""
    step, _, _ = step_codes(journeys, spec.level, jmap=jmap)
    wanted = list(dict.fromkeys(spec.steps + spec.exclude))
    codes = codes_of(wanted, journeys, spec.level, jmap=jmap, names=names)
    every = sorted({c for found in codes.values() for c in found}) or [END_CODE]
    rows = journeys.select("cust", "unit", "seq", "timestamp", code=step)
    return rows.filter(rows.code.isin(every)), codes


def _is(rows: ir.Table, codes: Sequence[int]) -> ir.BooleanValue:
    return rows.code.isin(list(codes) or [END_CODE])


def funnel_frontiers(journeys: ir.Table, spec: FunnelSpec, *, jmap: JourneyMap | None = None,
                     names: Mapping[int, str] | None = None) -> list[ir.Table]:
    """Per step, the units that reached it: ``unit, cust, start, at, t, prev_t``
    (``start`` = time of step 1, ``at``/``t`` = position and time of this step's match)."""
    rows, codes = _rows(journeys, spec, jmap, names)
    first = rows.filter(_is(rows, codes[spec.steps[0]]))
    if spec.order == "loose":
        frontier = first.group_by("unit", "cust").aggregate(
            at=first.seq.min(), t=first.timestamp.min())
    else:
        frontier = first.select("unit", "cust", at=first.seq, t=first.timestamp)
    frontier = frontier.mutate(start=frontier.t, prev_t=frontier.t)
    out = [frontier]
    for step in spec.steps[1:]:
        cand = rows.filter(_is(rows, codes[step])).select("unit", "seq", "timestamp")
        prev = out[-1]
        cond = [prev.unit == cand.unit]
        cond.append(cand.seq == prev.at + 1 if spec.order == "strict" else cand.seq > prev.at)
        if spec.window is not None:
            cond.append(seconds_between(prev.start, cand.timestamp) <= spec.window.total_seconds())
        j = prev.join(cand, cond)
        if spec.order == "loose":
            nxt = j.group_by(prev.unit, prev.cust, prev.start, prev.t).aggregate(
                at=j.seq.min(), t2=j.timestamp.min())
        else:
            nxt = j.select(prev.unit, prev.cust, prev.start, prev.t, at=j.seq, t2=j.timestamp)
        out.append(nxt.rename(prev_t="t", t="t2"))
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


def funnel(journeys: ir.Table, spec: FunnelSpec, *, jmap: JourneyMap | None = None,
           names: Mapping[int, str] | None = None) -> ir.Table:
    """One row per step: ``index, step, customers, conversion`` (of step 1),
    ``conversion_from_previous``, ``share_of_units`` (of all units in the journey table),
    ``drop_off`` (lost since the previous step), ``median_seconds_from_previous``,
    ``median_seconds_from_start``."""
    frontiers = funnel_frontiers(journeys, spec, jmap=jmap, names=names)
    parts = []
    for i, f in enumerate(frontiers):
        per_unit = f.group_by("unit").aggregate(
            from_prev=seconds_between(f.prev_t, f.t).min(),
            from_start=seconds_between(f.start, f.t).min(),
        )
        parts.append(per_unit.aggregate(
            customers=per_unit.count(),
            median_seconds_from_previous=per_unit.from_prev.median(),
            median_seconds_from_start=per_unit.from_start.median(),
        ).mutate(index=ibis.literal(i, type="int64"), step=ibis.literal(spec.steps[i])))
    table = parts[0]
    for p in parts[1:]:
        table = table.union(p)
    units = journeys.select("unit").distinct().count()
    table = table.order_by("index")
    w = ibis.window(order_by="index")
    top = table.customers.first().over(w)
    prev = table.customers.lag().over(w)
    return table.mutate(
        conversion=table.customers.cast("float64") / top.nullif(0),
        conversion_from_previous=table.customers.cast("float64") / prev.fill_null(table.customers).nullif(0),
        drop_off=(prev.fill_null(table.customers) - table.customers).cast("int64"),
        share_of_units=table.customers.cast("float64") / units,
    ).select("index", "step", "customers", "conversion", "conversion_from_previous",
             "share_of_units", "drop_off", "median_seconds_from_previous",
             "median_seconds_from_start").order_by("index")


def funnel_dropoffs(journeys: ir.Table, spec: FunnelSpec, *, jmap: JourneyMap | None = None,
                    names: Mapping[int, str] | None = None, top: int = 5) -> ir.Table:
    """Where units that stopped after step ``index`` went next: ``index, next, customers``
    (``END`` when the journey ended there), the ``top`` destinations per step."""
    frontiers = funnel_frontiers(journeys, spec, jmap=jmap, names=names)
    step, _, _ = step_codes(journeys, spec.level, jmap=jmap)
    all_rows = journeys.select("unit", "seq", code=step)
    parts = []
    for i, (f, g) in enumerate(zip(frontiers, frontiers[1:])):
        left = f.anti_join(g, "unit")
        stopped = left.group_by("unit").aggregate(at=left.at.min())
        nxt = stopped.left_join(all_rows, [stopped.unit == all_rows.unit,
                                           all_rows.seq == stopped.at + 1])
        parts.append(nxt.select(index=ibis.literal(i, type="int64"),
                                next=nxt.code.fill_null(END_CODE).cast("int32")))
    if not parts:
        return ibis.memtable({"index": [], "next": [], "customers": []},
                             schema={"index": "int64", "next": "string", "customers": "int64"})
    table = parts[0]
    for p in parts[1:]:
        table = table.union(p)
    agg = table.group_by("index", "next").aggregate(customers=table.count())
    agg = agg.mutate(next=label(agg.next, journeys, spec.level, jmap=jmap, names=names))
    rank = ibis.row_number().over(ibis.window(group_by="index",
                                              order_by=[ibis.desc("customers"), "next"]))
    agg = agg.mutate(rank=rank)
    return agg.filter(agg["rank"] < top).drop("rank").order_by("index", ibis.desc("customers"), "next")
