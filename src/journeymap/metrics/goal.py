"""Goal tracking: the map's goal KPI measured month by month — baseline, current value,
target, trend, and whether the deadline is on track.

Measured metrics (on the persona's customers):

* ``conversion`` — share of customers with a touch on the map who reach the goal event;
  months are cohorts by first touch, and cohorts younger than ``maturity_days`` are left
  out (they have not had time to convert).
* ``renewal_rate`` / ``churn_rate`` — among customers who reach the *decision*
  touchpoint (the one whose rule names the goal event), the share with (without) the
  goal event; months by first decision.
* ``csat`` / ``nps`` / ``ces`` — the journey-level feedback KPI by month of answer.

The current value is the last ``window_months`` months pooled; the trend is the
n-weighted least-squares slope of the monthly values (per month), and the projection
extends it from the current value to the deadline.  Any other metric is reported as not
measured, with the reason — never guessed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import numpy as np

from journeymap.engine.scope import event_names, only_persona, persona_customers
from journeymap.engine.touchpoints import assign_touchpoints, event_ids_matching
from journeymap.metrics.common import num
from journeymap.metrics.feedback import STATS, Scales, _Acc, _stats_columns, kpi
from journeymap.metrics.intervals import wilson
from journeymap.model.document import JourneyMap

SHARE_METRICS = ("conversion", "renewal_rate", "churn_rate")
FEEDBACK_METRICS = ("csat", "nps", "ces")


def _share_monthly(con: ibis.BaseBackend, jmap: JourneyMap, metric: str, maturity_days: int) -> list[dict[str, Any]] | str:
    """Monthly (period, n, successes) of a share metric, or the reason it cannot be measured."""
    goal = jmap.goal.event
    if not goal:
        return f"'{metric}' needs the map's goal event (goal.event)"
    names = event_names(con)
    goal_ids = [i for i, n in names.items() if n == goal]
    if not goal_ids:
        return f"no stored event is named '{goal}'"
    persona, _ = persona_customers(con, jmap)
    events = only_persona(con.table("event_log"), persona)
    reached = events.filter(events.event_id.isin(goal_ids)).select("customer_id").distinct()
    tagged = assign_touchpoints(events, jmap, names)
    if metric == "conversion":
        base = tagged.filter(tagged.touchpoint.notnull())
        end = events.timestamp.max().to_pyarrow().as_py()
        if end is None:
            return "no events"
        base = base.filter(base.timestamp <= ibis.timestamp(end - dt.timedelta(days=maturity_days)))
    else:
        decision = [tp.id for tp in jmap.touchpoints if tp.match is not None
                    and set(goal_ids) & set(event_ids_matching(tp.match, names) or ())]
        if not decision:
            return f"no touchpoint's rule names the goal event '{goal}' (the renewal decision)"
        base = tagged.filter(tagged.touchpoint.isin(decision))
    first = base.group_by("customer_id").aggregate(at=lambda t: t.timestamp.min())
    hit = reached.mutate(hit=ibis.literal(1))
    per = first.left_join(hit, "customer_id").select("at", success=lambda t: t.hit.notnull().cast("int64"))
    per = per.mutate(period=per.at.truncate("M"))
    rows = per.group_by("period").aggregate(n=per.count(), k=per.success.sum()).order_by("period") \
        .to_pyarrow().to_pylist()
    churn = metric == "churn_rate"
    return [{"period": r["period"].strftime("%Y-%m"), "n": int(r["n"]),
             "k": int(r["n"] - r["k"]) if churn else int(r["k"])} for r in rows]


def _feedback_monthly(con: ibis.BaseBackend, jmap: JourneyMap, metric: str) -> list[dict[str, Any]]:
    persona, _ = persona_customers(con, jmap)
    fb = only_persona(con.table("feedback"), persona)
    fb = fb.filter(fb.metric == metric)
    fb = fb.mutate(period=fb.timestamp.truncate("M"))
    rows = fb.group_by("period").aggregate(**_stats_columns(fb, Scales())).order_by("period").to_pyarrow().to_pylist()
    return [{"period": r["period"].strftime("%Y-%m"), **{k: r[k] for k in STATS}} for r in rows]


def _slope(months: list[float], values: list[float], weights: list[float]) -> float | None:
    if len(months) < 3:
        return None
    return float(np.polyfit(np.asarray(months), np.asarray(values), 1, w=np.sqrt(np.asarray(weights)))[0])


def goal_section(con: ibis.BaseBackend, jmap: JourneyMap, *, window_months: int = 3, maturity_days: int = 90,
                 today: dt.date | None = None) -> dict[str, Any]:
    """The ``goal`` key of ``analyze --json``."""
    k = jmap.goal.kpi
    out: dict[str, Any] = {"statement": jmap.goal.statement}
    notice = persona_customers(con, jmap)[1]
    if notice:
        out["notice"] = notice
    if k is None:
        return {**out, "status": "no_kpi", "reason": "the map's goal has no kpi"}
    out.update(metric=k.metric, name=k.name, baseline=k.baseline, target=k.target, direction=k.direction,
               unit=k.unit, deadline=k.deadline.isoformat() if k.deadline else None)
    metric = k.metric.lower()
    monthly: list[dict[str, Any]]
    if metric in SHARE_METRICS:
        got = _share_monthly(con, jmap, metric, maturity_days)
        if isinstance(got, str):
            return {**out, "status": "not_measured", "reason": got}
        for r in got:
            lo, hi = wilson(r["k"], r["n"])
            r.update(value=num(r["k"] / r["n"]), ci_low=num(lo), ci_high=num(hi))
        monthly = got
        recent = got[-window_months:]
        n, kk = sum(r["n"] for r in recent), sum(r["k"] for r in recent)
        lo, hi = wilson(kk, n)
        current = {"value": num(kk / n) if n else None, "n": n, "ci_low": num(lo), "ci_high": num(hi)}
    elif metric in FEEDBACK_METRICS:
        raw = _feedback_monthly(con, jmap, metric)
        monthly = []
        total = _Acc()
        for i, r in enumerate(raw):
            acc = _Acc(**{s: r[s] for s in STATS})
            if i >= len(raw) - window_months:
                total.add(r)
            monthly.append({"period": r["period"], **kpi(metric, acc)})
        current = kpi(metric, total)
    else:
        return {**out, "status": "not_measured",
                "reason": f"journeymap has no measure for metric '{k.metric}' "
                          f"(measured: {', '.join(SHARE_METRICS + FEEDBACK_METRICS)})"}
    points = [(i, r["value"], r["n"]) for i, r in enumerate(monthly) if r["value"] is not None and r["n"]]
    slope = _slope([p[0] for p in points], [p[1] for p in points], [p[2] for p in points])
    out.update(monthly=monthly, current=current, trend_per_month=num(slope, 6))
    value = current.get("value")
    if value is None:
        return {**out, "status": "no_data"}
    better = (lambda a, b: a >= b) if k.direction == "increase" else (lambda a, b: a <= b)
    if better(value, k.target):
        return {**out, "status": "achieved", "on_track": True}
    if k.deadline is None or slope is None:
        return {**out, "status": "off_target", "on_track": None}
    last = dt.date.fromisoformat(monthly[-1]["period"] + "-01")
    months_left = (k.deadline.year - last.year) * 12 + k.deadline.month - last.month
    projected = value + slope * max(months_left, 0)
    if metric in SHARE_METRICS or metric == "csat":
        projected = min(1.0, max(0.0, projected))  # a straight line must not leave [0, 1]
    on_track = better(projected, k.target)
    out.update(projected_at_deadline=num(projected), months_to_deadline=months_left)
    return {**out, "status": "on_track" if on_track else "off_track", "on_track": on_track}
