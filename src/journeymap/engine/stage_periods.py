"""Stage conversion per period: of the customers who first reached a stage in a month,
the share that reached a later stage within a window — the numbers a conversion-drop
alert compares (:mod:`journeymap.metrics.alerts`).

A unit *enters* stage *k* at its first event there, and *converts* when its first
event in any later stage falls within ``window_days`` after that (``visited``
reach: a stage counts where the unit has a touchpoint).  A period counts only once every
unit in it has had the whole window to convert — a month is *complete* when its last
day plus the window lies within the data — so a young month never looks like a drop
only because its customers have not had the time.  One aggregation over the journey
table (each unit's first time per stage), one small one per stage over those rows;
Python only lays out the rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import ibis.expr.types as ir

from journeymap.engine.cohorts import period_index, period_label
from journeymap.engine.fetch import scalar
from journeymap.engine.stats import wilson_interval
from journeymap.model.document import JourneyMap

WINDOW_DAYS = 30


def stage_conversion_by_period(journeys: ir.Table, jmap: JourneyMap, *, window_days: int = WINDOW_DAYS,
                               period: str = "month", until: dt.datetime | None = None,
                               empty: bool = False) -> dict[str, Any]:
    """``{window_days, period, data_end, stages: {stage: {next, periods: {label: {n,
    converted, value, ci_low, ci_high}}}}}`` (complete periods only, oldest first);
    ``empty``: there are no events (nothing to compute)."""
    stages = jmap.stage_ids()
    out: dict[str, Any] = {"window_days": window_days, "period": period, "data_end": None, "stages": {}}
    if len(stages) < 2 or empty or (until is None and not scalar(journeys.count())):
        return out
    end = until or scalar(journeys.timestamp.max())
    if not isinstance(end, dt.datetime):
        return out
    if end.tzinfo is not None:
        end = end.astimezone(dt.UTC).replace(tzinfo=None)
    out["data_end"] = end.strftime("%Y-%m-%dT%H:%M:%SZ")
    window = ibis.interval(days=window_days)
    # one row per unit with its first time in each stage (a filtered minimum each):
    # whether it converted from stage i is a comparison within that row, no join
    j = journeys
    wide = j.group_by("unit").aggregate(**{f"f{k}": j.timestamp.min(where=j.stage_index == k)
                                           for k in range(len(stages))})
    last_whole = _last_complete(end, window_days, period)
    parts = []
    for i in range(len(stages) - 1):
        start = wide[f"f{i}"]
        went = ibis.or_(*[(wide[f"f{k}"] >= start) & (wide[f"f{k}"] <= start + window)
                          for k in range(i + 1, len(stages))])
        rows = wide.filter(start.notnull()).select(
            pidx=period_index(start, period), converted=went.fill_null(False).cast("int64"))
        rows = rows.filter(rows.pidx <= last_whole)
        parts.append(rows.group_by("pidx").aggregate(n=rows.count(), converted=rows.converted.sum())
                     .mutate(stage=ibis.literal(i)))
    table = parts[0]
    for p in parts[1:]:
        table = table.union(p)
    got = table.order_by(["stage", "pidx"]).to_pyarrow().to_pylist()
    for r in got:
        i, n, k = int(r["stage"]), int(r["n"]), int(r["converted"] or 0)
        lo, hi = wilson_interval(k, n) or (None, None)
        block = out["stages"].setdefault(stages[i], {"next": stages[i + 1], "periods": {}})
        block["periods"][period_label(int(r["pidx"]), period)] = {
            "n": n, "converted": k, "value": k / n if n else None, "ci_low": lo, "ci_high": hi}
    return out


def _last_complete(end: dt.datetime, window_days: int, period: str) -> int:
    """The index of the latest period whose units all had ``window_days`` to convert:
    period P is complete when the start of P + 1 plus the window is within the data,
    i.e. P + 1 <= the period of ``end - window``."""
    t = end - dt.timedelta(days=window_days)
    if period == "month":
        return t.year * 12 + t.month - 1 - 1
    seconds = int((t - dt.datetime(1970, 1, 1)).total_seconds())
    if period == "week":
        return (seconds - 4 * 86_400) // (7 * 86_400) - 1
    return seconds // 86_400 - 1
