"""Feedback KPIs — NPS, CSAT, CES and custom score metrics — per touchpoint, stage,
segment and period, each with its n, a confidence interval and a small-sample flag.

An answer belongs to a touchpoint when its ``touchpoint`` column names a touchpoint of
the map, or else when its ``event`` (the event the survey followed) matches the name
part of a touchpoint's rule (first touchpoint in map order wins, as for events).
Answers tied to no touchpoint (relationship surveys such as a quarterly NPS) count for
the journey as a whole, and are also split by whether the customer had reached each
touchpoint before answering (``after_touchpoint``) — which shows, for instance, that
customers who went through support give a lower NPS.

The engine computes additive sufficient statistics (n, Σscore, Σscore², category
counts) once per (touchpoint, segment, period, metric); every roll-up is a sum of
those, so no answer is read twice and no Python loop touches a row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir

from journeymap.engine.scope import (
    event_names,
    only_persona,
    persona_attribute,
    persona_customers,
)
from journeymap.engine.touchpoints import assign_touchpoints, event_ids_matching
from journeymap.metrics.common import num
from journeymap.metrics.intervals import (
    SMALL_SAMPLE,
    mean_interval,
    nps_interval,
    wilson,
)
from journeymap.model.document import JourneyMap

PERIODS = {"week": "W", "month": "M", "quarter": "Q"}
STATS = ("n", "total", "total_sq", "top", "high", "promoters", "detractors")


@dataclass(frozen=True)
class Scales:
    """Where the shares of each metric start (scores are stored on their own scale)."""

    csat_top: float = 4.0  # CSAT = share of answers >= this (4–5 on 1–5)
    ces_high: float = 5.0  # high effort = share of answers >= this (5–7 on 1–7)
    nps_promoter: float = 9.0  # promoters: >= 9
    nps_detractor: float = 6.0  # detractors: <= 6
    small_sample: int = SMALL_SAMPLE
    level: float = 0.95


@dataclass
class _Acc:
    n: int = 0
    total: float = 0.0
    total_sq: float = 0.0
    top: int = 0
    high: int = 0
    promoters: int = 0
    detractors: int = 0

    def add(self, row: dict[str, Any]) -> None:
        for name in STATS:
            setattr(self, name, getattr(self, name) + (row[name] or 0))

    def minus(self, other: _Acc) -> _Acc:
        return _Acc(**{k: getattr(self, k) - getattr(other, k) for k in STATS})


def kpi(metric: str, acc: _Acc, scales: Scales = Scales()) -> dict[str, Any]:
    """One KPI as JSON: ``n``, ``value``, ``ci_low``, ``ci_high``, ``small_sample`` and,
    for every metric, the ``mean`` score with its t interval."""
    n = int(acc.n)
    mean, mlo, mhi = mean_interval(n, acc.total, acc.total_sq, scales.level)
    out: dict[str, Any] = {"metric": metric, "n": n}
    if metric == "nps":
        passives = n - acc.promoters - acc.detractors
        lo, hi = nps_interval(acc.promoters, passives, acc.detractors, scales.level)
        value = 100 * (acc.promoters - acc.detractors) / n if n else None
        out.update(kind="nps", unit="points", value=num(value, 2), ci_low=num(lo, 2), ci_high=num(hi, 2),
                   promoters=int(acc.promoters), passives=int(passives), detractors=int(acc.detractors))
    elif metric == "csat":
        lo, hi = wilson(int(acc.top), n, scales.level)
        out.update(kind="share", unit="share", value=num(acc.top / n if n else None), ci_low=num(lo),
                   ci_high=num(hi), satisfied=int(acc.top))
    else:
        out.update(kind="mean", unit="points", value=num(mean), ci_low=num(mlo), ci_high=num(mhi))
        if metric == "ces":
            lo, hi = wilson(int(acc.high), n, scales.level)
            out["high_effort_share"] = {"value": num(acc.high / n if n else None), "ci_low": num(lo),
                                        "ci_high": num(hi), "n": n}
    out["small_sample"] = n < scales.small_sample
    out["mean"] = {"value": num(mean), "ci_low": num(mlo), "ci_high": num(mhi)}
    return out


def _tie_touchpoint(fb: ir.Table, jmap: JourneyMap, names: Iterable[str]) -> ir.Value:
    """The touchpoint each answer belongs to: its own column, else by its event's name."""
    tp_ids = [tp.id for tp in jmap.touchpoints]
    dictionary = dict(enumerate(sorted(set(names))))
    by_event: dict[str, str] = {}
    for tp in jmap.touchpoints:
        if tp.match is None:
            continue
        ids = event_ids_matching(tp.match, dictionary)
        for i in sorted(ids or ()):
            by_event.setdefault(dictionary[i], tp.id)
    null = ibis.null().cast("string")
    direct = ibis.cases((fb.touchpoint.isin(tp_ids), fb.touchpoint), else_=null) if tp_ids else null
    cases: list[tuple[ir.BooleanValue, str]] = [(fb.event == name, tp) for name, tp in by_event.items()]
    via_event = ibis.cases(*cases, else_=null) if cases else null
    return direct.coalesce(via_event)


def _stats_columns(fb: ir.Table, scales: Scales) -> dict[str, ir.Value]:
    s = fb.score
    m = fb.metric
    return {
        "n": fb.count(),
        "total": s.sum(),
        "total_sq": (s * s).sum(),
        "top": ((m == "csat") & (s >= scales.csat_top)).cast("int64").sum(),
        "high": ((m == "ces") & (s >= scales.ces_high)).cast("int64").sum(),
        "promoters": ((m == "nps") & (s >= scales.nps_promoter)).cast("int64").sum(),
        "detractors": ((m == "nps") & (s <= scales.nps_detractor)).cast("int64").sum(),
    }


@dataclass
class _Rollup:
    journey: dict[str, _Acc] = field(default_factory=lambda: defaultdict(_Acc))
    touchpoints: dict[str, dict[str, _Acc]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(_Acc)))
    stages: dict[str, dict[str, _Acc]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(_Acc)))

    def add(self, row: dict[str, Any], stage: str | None) -> None:
        metric = row["metric"]
        self.journey[metric].add(row)
        if row["tp"] is not None:
            self.touchpoints[row["tp"]][metric].add(row)
        if stage:
            self.stages[stage][metric].add(row)

    def as_json(self, scales: Scales) -> dict[str, Any]:
        def block(d: dict[str, _Acc]) -> dict[str, Any]:
            return {m: kpi(m, a, scales) for m, a in sorted(d.items())}
        return {
            "journey": block(self.journey),
            "touchpoints": {k: block(v) for k, v in self.touchpoints.items()},
            "stages": {k: block(v) for k, v in self.stages.items()},
        }


def feedback_section(con: ibis.BaseBackend, jmap: JourneyMap, *, segment_by: str | None = None,
                     period: str = "month", scales: Scales = Scales(),
                     since: str | None = None, until: str | None = None) -> dict[str, Any]:
    """Feedback KPIs of the map's persona, JSON-ready (the ``feedback`` key of ``analyze``).

    ``segments`` breaks them down by the customer attribute ``segment_by`` (``--by``),
    by default the one the persona's rule reads (``tier == 'gold'``: by ``tier``); none
    when the persona reads no single attribute or it is not loaded."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    segment_by = segment_by or persona_attribute(jmap)
    persona, notice = persona_customers(con, jmap)
    fb = only_persona(con.table("feedback"), persona)
    if since:
        fb = fb.filter(fb.timestamp >= ibis.timestamp(since))
    if until:
        fb = fb.filter(fb.timestamp < ibis.timestamp(until))
    fb_names = fb.select("event").distinct().to_pyarrow().column("event").to_pylist()
    fb = fb.mutate(tp=_tie_touchpoint(fb, jmap, [n for n in fb_names if n is not None]),
                   period=fb.timestamp.truncate(PERIODS[period]))
    seg_ok = bool(segment_by) and segment_by in con.table("customers").columns
    if seg_ok:
        customers = con.table("customers").select("customer_id", seg=con.table("customers")[segment_by].cast("string"))
        fb = fb.left_join(customers, "customer_id").select(*fb.columns, "seg")
    else:
        fb = fb.mutate(seg=ibis.null().cast("string"))
    rows = fb.group_by(["tp", "seg", "period", "metric"]).aggregate(**_stats_columns(fb, scales)) \
        .to_pyarrow().to_pylist()
    rows.sort(key=lambda r: (_map_order(jmap, r["tp"]), str(r["seg"]), str(r["period"]), r["metric"]))

    stage_of = {tp.id: tp.stage for tp in jmap.touchpoints}
    overall, by_seg, by_period = _Rollup(), defaultdict(_Rollup), defaultdict(_Rollup)
    for row in rows:  # aggregated groups, not answers
        stage = stage_of.get(row["tp"]) if row["tp"] else None
        overall.add(row, stage)
        if seg_ok:
            by_seg["(none)" if row["seg"] is None else row["seg"]].add(row, stage)
        by_period[_period_label(row["period"], period)].add(row, stage)

    total = sum(r["n"] for r in rows)
    tied = sum(r["n"] for r in rows if r["tp"] is not None)
    relationship = int(fb.filter(fb.touchpoint.isnull() & fb.event.isnull()).count().to_pyarrow().as_py())
    out: dict[str, Any] = {
        **overall.as_json(scales),
        "segment_by": segment_by if seg_ok else None,
        "segments": {k: v.as_json(scales) for k, v in sorted(by_seg.items())},
        "period": period,
        "periods": {k: v.as_json(scales) for k, v in sorted(by_period.items())},
        "after_touchpoint": _after_touchpoint(con, jmap, fb, persona, overall, scales) if relationship else {},
        "answers": {"total": int(total), "tied_to_touchpoint": int(tied), "relationship": relationship,
                    "other_touchpoints": int(total - tied - relationship)},
        "scales": asdict(scales),
        "intervals": "Wilson for shares; NPS by the variance formula with one pseudo-answer per category; "
                     "Student t for means",
    }
    if notice:
        out["notice"] = notice
    return out


def _after_touchpoint(con: ibis.BaseBackend, jmap: JourneyMap, fb: ir.Table, persona: ir.Table | None,
                      overall: _Rollup, scales: Scales) -> dict[str, Any]:
    """Relationship answers (tied to no touchpoint and no event) split by whether the
    customer had reached each touchpoint before answering: reached vs not reached, and the difference of the values."""
    untied = fb.filter(fb.touchpoint.isnull() & fb.event.isnull())
    untied = untied.select("customer_id", "timestamp", "metric", "score", rid=ibis.row_number())
    # only the events of customers who gave a relationship answer
    answering = untied.select("customer_id").distinct()
    events = con.table("event_log").semi_join(answering, "customer_id")
    events = assign_touchpoints(only_persona(events, persona), jmap, event_names(con))
    events = events.filter(events.touchpoint.notnull())
    first = events.group_by(["customer_id", "touchpoint"]).aggregate(first_at=events.timestamp.min())
    joined = untied.join(first, "customer_id").filter(lambda t: t.first_at < t.timestamp)
    reached = joined.select("rid", "touchpoint", "metric", "score").distinct()
    rows = reached.group_by(["touchpoint", "metric"]).aggregate(**_stats_columns(reached, scales)) \
        .to_pyarrow().to_pylist()
    rows.sort(key=lambda r: (_map_order(jmap, r["touchpoint"]), r["metric"]))
    whole = defaultdict(_Acc)
    untied_rows = untied.group_by("metric").aggregate(**_stats_columns(untied, scales)).to_pyarrow().to_pylist()
    for r in untied_rows:
        whole[r["metric"]].add(r)
    out: dict[str, Any] = defaultdict(dict)
    for r in rows:
        acc = _Acc()
        acc.add(r)
        rest = whole[r["metric"]].minus(acc)
        yes, no = kpi(r["metric"], acc, scales), kpi(r["metric"], rest, scales)
        diff = None if yes["value"] is None or no["value"] is None else yes["value"] - no["value"]
        out[r["touchpoint"]][r["metric"]] = {"reached": yes, "not_reached": no, "difference": num(diff, 2)}
    return dict(out)


def _map_order(jmap: JourneyMap, touchpoint: str | None) -> int:
    """A touchpoint's place in the map (the output lists them in map order, whatever
    order the engine's threads return the groups in); untied answers first."""
    if touchpoint is None:
        return -1
    ids = [tp.id for tp in jmap.touchpoints]
    return ids.index(touchpoint) if touchpoint in ids else len(ids)


def _period_label(value: Any, period: str) -> str:
    if value is None:
        return "(none)"
    if period == "month":
        return value.strftime("%Y-%m")
    if period == "quarter":
        return f"{value.year}-Q{(value.month - 1) // 3 + 1}"
    return value.strftime("%Y-%m-%d")
