"""Retention by cohort of first touch: a cohort × period matrix.

A customer's cohort is the period (day, ISO week from Monday, or calendar month, in
UTC) of their first event.  Period *k* of a cohort counts the customers of that cohort
active in the k-th period after it (period 0 is the cohort's own period, so its
retention is 100 %).  "Active" means any event, or one of ``active_events``
(e.g. ``login``).  Cells after the end of the data are ``None``, not zero, so young
cohorts do not look like churn.  Everything up to the matrix cells is computed in the
engine; Python only lays the cells out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

import ibis
import ibis.expr.types as ir

from journeymap.engine.scope import event_names
from journeymap.errors import JourneymapError

Period = Literal["day", "week", "month"]
_MONDAY_1970 = 4 * 86_400  # 1970-01-05 was the first Monday after the epoch
_EPOCH = dt.date(1970, 1, 1)


def period_index(ts: ir.TimestampValue, period: str) -> ir.IntegerValue:
    """The number of the period containing ``ts`` (consecutive periods differ by 1)."""
    if period == "month":
        return (ts.year() * 12 + ts.month() - 1).cast("int64")
    seconds = ts.epoch_seconds().cast("int64")
    if period == "week":
        return ((seconds - _MONDAY_1970) // (7 * 86_400)).cast("int64")
    if period == "day":
        return (seconds // 86_400).cast("int64")
    raise JourneymapError(f"period '{period}': use day, week or month")


def period_start(index: int, period: str) -> dt.date:
    if period == "month":
        return dt.date(index // 12, index % 12 + 1, 1)
    if period == "week":
        return _EPOCH + dt.timedelta(days=4 + 7 * index)
    return _EPOCH + dt.timedelta(days=index)


def period_label(index: int, period: str) -> str:
    start = period_start(index, period)
    if period == "month":
        return f"{start.year}-{start.month:02d}"
    if period == "week":
        iso = start.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    return start.isoformat()


def cohort_retention(
    con: ibis.BaseBackend,
    *,
    period: Period = "month",
    events: ir.Table | None = None,
    active_events: Sequence[str] = (),
    max_periods: int | None = None,
) -> dict[str, object]:
    """``{period, periods, cohorts: [{cohort, start, customers, active, retention}],
    average}``; ``average[k]`` is the retention in period k over the cohorts observed
    that long, weighted by cohort size."""
    events = events if events is not None else con.table("event_log")
    stamped = events.mutate(_p=period_index(events.timestamp, period))
    cohort = stamped.group_by("customer_id").aggregate(cohort=stamped._p.min())
    active = stamped
    if active_events:
        by_name = {n: i for i, n in event_names(con).items()}
        unknown = [e for e in active_events if e not in by_name]
        if unknown:
            raise JourneymapError(f"event '{unknown[0]}' does not occur in the data")
        active = stamped.filter(stamped.event_id.isin([by_name[e] for e in active_events]))
    activity = active.select("customer_id", "_p").distinct()
    joined = activity.inner_join(cohort, "customer_id")
    cells = (joined.mutate(k=joined._p - joined.cohort)
             .group_by(["cohort", "k"]).aggregate(active=ibis._.count())
             .to_pyarrow().to_pylist())
    sizes = cohort.group_by("cohort").aggregate(customers=ibis._.count()).order_by("cohort").to_pyarrow().to_pylist()
    last = stamped._p.max().to_pyarrow().as_py()
    if last is None:
        return {"period": period, "periods": 0, "cohorts": [], "average": []}
    first = min(int(r["cohort"]) for r in sizes)
    periods = int(last) - first + 1
    if max_periods is not None:
        periods = min(periods, max_periods)
    counts = {(int(r["cohort"]), int(r["k"])): int(r["active"]) for r in cells}
    rows = []
    for r in sizes:
        c, n = int(r["cohort"]), int(r["customers"])
        observed = min(periods, int(last) - c + 1)
        act: list[int | None] = [counts.get((c, k), 0) if k < observed else None for k in range(periods)]
        rows.append({
            "cohort": period_label(c, period), "start": period_start(c, period).isoformat(),
            "customers": n, "active": act,
            "retention": [None if a is None else a / n for a in act],
        })
    average: list[float | None] = []
    for k in range(periods):
        seen = [(row["active"][k], row["customers"]) for row in rows if row["active"][k] is not None]  # type: ignore[index]
        total = sum(n for _, n in seen)
        average.append(sum(a for a, _ in seen) / total if total else None)
    return {"period": period, "periods": periods, "cohorts": rows, "average": average}
