"""Segments, and any metric compared across them side by side with significance tests.

A segment is either a value of a column of the customer profile (``by="segment"``,
``by="nps_band"``: one segment per value, the largest ``max_segments`` kept and the
rest pooled as ``other``), a list of named rules in the map's rule language over the
profile (``Segment("webinar", "n_webinar_attended >= 1")``, see
:mod:`journeymap.engine.features` for the columns), or a table of
``(customer_id, segment)`` such as :func:`journeymap.engine.clusters.cluster_table`.
Rule segments may overlap.

Each segment is compared with *the rest of the population* (everyone in the
comparison who is not in the segment); with exactly two segments that partition the
population the two rows share one test.  Proportions use the pooled two-proportion z
test, with a chi-square test across all segments of a column; times, counts and
scores use Mann–Whitney U, with Kruskal–Wallis across all segments.  All tests of one
call form one family, corrected with Benjamini–Hochberg and Holm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeymap.engine import stats
from journeymap.engine.churn_flags import ChurnDefinition, churn_flags
from journeymap.engine.features import customer_profile, seconds_between
from journeymap.engine.rules_ibis import UnknownFieldError, compile_rule, table_resolver
from journeymap.engine.scope import event_names, optional_table, persona_events
from journeymap.engine.touchpoints import assign_touchpoints
from journeymap.errors import JourneymapError
from journeymap.model.document import JourneyMap
from journeymap.model.rules import parse_rule

OTHER = "other"
MISSING = "(none)"
PROPORTIONS = ("conversion", "churn")
DISTRIBUTIONS = ("time_to_convert", "events", "journey_days", "event_types")


@dataclass(frozen=True)
class Segment:
    """A named rule selecting customers, e.g. ``Segment("stalled", "n_data_import_started >= 1
    and n_data_import_completed == 0")``."""

    name: str
    rule: str


def parse_segment(text: str) -> Segment:
    """``"name = rule"`` (as given on the command line) → :class:`Segment`."""
    name, sep, rule = text.partition("=")
    if not sep or not name.strip() or not rule.strip() or rule.startswith("="):
        raise JourneymapError(f"segment '{text}': write it as NAME=RULE, e.g. sme=segment == 'SME'")
    return Segment(name.strip(), rule.strip())


By = str | Sequence[Segment] | ir.Table


def membership(con: ibis.BaseBackend, events: ir.Table, by: By, *,
               max_segments: int = 12) -> tuple[pa.Table, list[str], bool]:
    """(customer_id, segment) of the customers in ``events``, the segment names in
    order, and whether the segments partition the population."""
    if isinstance(by, ir.Table):
        table = by.select("customer_id", segment=by.segment.cast("string")).semi_join(
            events.select("customer_id").distinct(), "customer_id")
        arrow = table.to_pyarrow()
        names = sorted({str(v) for v in arrow.column("segment").to_pylist()})
        return arrow, names, _is_partition(arrow)
    if isinstance(by, str):
        profile = _profile(con, events, [by])
        value = profile[by].cast("string").fill_null(MISSING)
        sizes = (profile.mutate(segment=value).group_by("segment").aggregate(n=ibis._.count())
                 .order_by(ibis.desc("n"), "segment").to_pyarrow().to_pylist())
        keep = [str(r["segment"]) for r in sizes[:max_segments]]
        if len(sizes) > max_segments:
            value = ibis.cases((value.isin(keep), value), else_=ibis.literal(OTHER))
            keep.append(OTHER)
        arrow = profile.select("customer_id", segment=value).to_pyarrow()
        return arrow, keep, True
    segments = list(by)
    if not segments:
        raise JourneymapError("no segments given")
    rules = {s.name: parse_rule(s.rule) for s in segments}
    fields = sorted({".".join(f) for r in rules.values() for f in r.fields()})
    profile = _profile(con, events, fields)
    parts = []
    for s in segments:
        try:
            predicate = compile_rule(rules[s.name], table_resolver(profile, json_column=None))
        except UnknownFieldError as exc:
            raise JourneymapError(f"segment '{s.name}': {exc}") from None
        parts.append(profile.filter(predicate).select("customer_id", segment=ibis.literal(s.name)))
    union = parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)
    arrow = union.to_pyarrow()
    return arrow, [s.name for s in segments], False


def _profile(con: ibis.BaseBackend, events: ir.Table, fields: Sequence[str]) -> ir.Table:
    profile = customer_profile(con, events, fields=fields)
    missing = [f for f in fields if f not in profile.columns]
    if missing:
        raise JourneymapError(
            f"unknown field '{missing[0]}': use a customer attribute, events, event_types, "
            "journey_days, n_<event>, share_<channel>, a feedback metric (csat, nps, ...) or nps_band"
        )
    return profile


def _is_partition(arrow: pa.Table) -> bool:
    ids = arrow.column("customer_id")
    return len(ids) == len(pc.unique(ids))


def metric_table(con: ibis.BaseBackend, events: ir.Table, jmap: JourneyMap | None,
                 metrics: Sequence[str], *, churn: ChurnDefinition | None = None) -> tuple[ir.Table, dict[str, str]]:
    """One row per customer in ``events`` with one column per metric, and each
    metric's kind (``proportion`` or ``distribution``)."""
    names = event_names(con)
    ids_of = {n: i for i, n in names.items()}
    base = events.group_by("customer_id").aggregate(
        events=events.count(), event_types=events.event_id.nunique(),
        first_seen=events.timestamp.min(), last_seen=events.timestamp.max(),
    )
    cols: dict[str, ir.Value] = {}
    kinds: dict[str, str] = {}
    joins: list[ir.Table] = []
    feedback = _feedback_metrics(con)
    for m in metrics:
        if m in ("conversion", "time_to_convert"):
            goal = jmap.goal.event if jmap is not None else None
            if not goal:
                raise JourneymapError(f"metric '{m}' needs the map's goal.event")
            joins.append(_first_time(events, ids_of, goal, f"_goal_{m}"))
            at = ibis._[f"_goal_{m}"]
            if m == "conversion":
                cols[m], kinds[m] = at.notnull(), "proportion"
            else:
                cols[m], kinds[m] = seconds_between(ibis._.first_seen, at), "distribution"
        elif m.startswith("did:"):
            joins.append(_first_time(events, ids_of, m[4:], f"_did_{len(joins)}"))
            cols[m], kinds[m] = ibis._[joins[-1].columns[1]].notnull(), "proportion"
        elif m.startswith("reached:"):
            joins.append(_reached(events, jmap, names, m[8:], f"_reached_{len(joins)}"))
            cols[m], kinds[m] = ibis._[joins[-1].columns[1]].notnull(), "proportion"
        elif m == "churn":
            flags = churn_flags(con, events, churn or ChurnDefinition())
            joins.append(flags.select("customer_id", _churned=flags.churned))
            cols[m], kinds[m] = ibis._._churned, "proportion"
        elif m == "journey_days":
            cols[m], kinds[m] = seconds_between(ibis._.first_seen, ibis._.last_seen) / 86_400.0, "distribution"
        elif m in ("events", "event_types"):
            cols[m], kinds[m] = ibis._[m].cast("float64"), "distribution"
        elif m in feedback:
            fb = con.table("feedback")
            joins.append(fb.filter(fb.metric == m).group_by("customer_id")
                         .aggregate(**{f"_fb_{m}": fb.score.mean()}))
            cols[m], kinds[m] = ibis._[f"_fb_{m}"], "distribution"
        else:
            raise JourneymapError(
                f"unknown metric '{m}': use conversion, time_to_convert, churn, events, event_types, "
                "journey_days, did:<event>, reached:<stage> or a feedback metric"
                + (f" ({', '.join(feedback)})" if feedback else "")
            )
    table = base
    for extra in joins:
        table = table.left_join(extra, "customer_id").drop("customer_id_right")
    return table.select("customer_id", **cols), kinds


def _feedback_metrics(con: ibis.BaseBackend) -> list[str]:
    fb = optional_table(con, "feedback")
    if fb is None:
        return []
    return [str(m) for m in fb.select("metric").distinct().order_by("metric")
            .to_pyarrow().column("metric").to_pylist() if m is not None]


def _first_time(events: ir.Table, ids_of: dict[str, int], event: str, name: str) -> ir.Table:
    if event not in ids_of:
        raise JourneymapError(f"event '{event}' does not occur in the data")
    hits = events.filter(events.event_id == ids_of[event])
    return hits.group_by("customer_id").aggregate(**{name: hits.timestamp.min()})


def _reached(events: ir.Table, jmap: JourneyMap | None, names: dict[int, str], stage: str, name: str) -> ir.Table:
    if jmap is None or stage not in jmap.stage_ids():
        known = ", ".join(jmap.stage_ids()) if jmap is not None else "no map given"
        raise JourneymapError(f"metric 'reached:{stage}': unknown stage (known: {known})")
    tagged = assign_touchpoints(events, jmap, names)
    hits = tagged.filter(tagged.stage == stage)
    return hits.group_by("customer_id").aggregate(**{name: hits.timestamp.min()})


def default_metrics(con: ibis.BaseBackend, jmap: JourneyMap | None) -> list[str]:
    goal = ["conversion", "time_to_convert"] if jmap is not None and jmap.goal.event else []
    return goal + ["events", "journey_days"] + _feedback_metrics(con)


def segment_comparison(
    con: ibis.BaseBackend,
    jmap: JourneyMap | None,
    by: By,
    metrics: Sequence[str] | None = None,
    *,
    churn: ChurnDefinition | None = None,
    events: ir.Table | None = None,
    persona: bool = True,
    alpha: float = 0.05,
    max_segments: int = 12,
) -> list[dict[str, object]]:
    """Every metric for every segment beside the rest of the population, with a test,
    its p-value, Benjamini–Hochberg and Holm adjusted p-values and ``significant``
    (BH-adjusted p < alpha).  ``events`` defaults to the map persona's events."""
    if events is None:
        events = persona_events(con, jmap)[0] if jmap is not None and persona else con.table("event_log")
    metrics = list(metrics) if metrics else default_metrics(con, jmap)
    members, names, partition = membership(con, events, by, max_segments=max_segments)
    table, kinds = metric_table(con, events, jmap, metrics, churn=churn)
    values = table.to_pyarrow()
    position = pc.index_in(members.column("customer_id"), value_set=values.column("customer_id"))
    pos = position.to_numpy(zero_copy_only=False)
    seg = np.asarray(members.column("segment").to_pylist(), dtype=object)
    masks = {}
    for name in names:
        mask = np.zeros(values.num_rows, dtype=bool)
        sel = pos[(seg == name) & ~np.isnan(pos.astype(float))]
        mask[sel.astype(np.int64)] = True
        masks[name] = mask
    rows: list[dict[str, object]] = []
    tests: list[dict[str, object]] = []
    for m in metrics:
        column = values.column(m)
        if kinds[m] == "proportion":
            rows += _proportion_rows(m, column, names, masks, partition, tests)
        else:
            rows += _distribution_rows(m, column, names, masks, partition, tests)
    stats.add_corrections(tests, alpha=alpha)
    for row in rows:
        test = tests[int(row.pop("_test"))]  # type: ignore[call-overload]
        row.update(p_value=test["p_value"], p_bh=test["p_bh"], p_holm=test["p_holm"],
                   significant=test["significant"])
    return rows


def _share(mask: np.ndarray, valid: np.ndarray, hits: np.ndarray) -> tuple[int, int]:
    return int((mask & valid).sum()), int((mask & valid & hits).sum())


def _proportion_rows(metric: str, column: pa.ChunkedArray, names: list[str], masks: dict[str, np.ndarray],
                     partition: bool, tests: list[dict[str, object]]) -> list[dict[str, object]]:
    valid = ~np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    hits = np.asarray(column.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    total_n, total_x = int(valid.sum()), int((valid & hits).sum())
    counts = {name: _share(masks[name], valid, hits) for name in names}
    omnibus = stats.chi_square([counts[n][1] for n in names], [counts[n][0] for n in names]) \
        if partition and len(names) > 2 else None
    pair = partition and len(names) == 2  # A vs B: one test, shared by both rows
    out = []
    for i, name in enumerate(names):
        n, x = counts[name]
        rest_n, rest_x = total_n - n, total_x - x
        result = stats.two_proportion_z(x, n, rest_x, rest_n)
        if not (pair and i == 1):
            tests.append({"p_value": result.p_value})
        rate = x / n if n else None
        rest_rate = rest_x / rest_n if rest_n else None
        ci = stats.wilson_interval(x, n)
        out.append({
            "metric": metric, "kind": "proportion", "segment": name,
            "customers": n, "count": x, "value": rate, "ci_low": ci[0] if ci else None,
            "ci_high": ci[1] if ci else None, "rest_customers": rest_n, "rest_value": rest_rate,
            "difference": None if rate is None or rest_rate is None else rate - rest_rate,
            "lift": rate / rest_rate if rate is not None and rest_rate else None,
            "test": result.test, "statistic": result.statistic,
            "omnibus_test": omnibus.test if omnibus else None,
            "omnibus_p": omnibus.p_value if omnibus else None, "_test": len(tests) - 1,
        })
    return out


def _distribution_rows(metric: str, column: pa.ChunkedArray, names: list[str], masks: dict[str, np.ndarray],
                       partition: bool, tests: list[dict[str, object]]) -> list[dict[str, object]]:
    data = np.asarray(column.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False), dtype=float)
    valid = ~np.isnan(data)
    groups = {name: data[masks[name] & valid] for name in names}
    omnibus = stats.kruskal([groups[n] for n in names]) if partition and len(names) > 2 else None
    out = []
    pair = partition and len(names) == 2  # A vs B: one test, shared by both rows
    for i, name in enumerate(names):
        inside, rest = groups[name], data[~masks[name] & valid]
        result = stats.mann_whitney(inside, rest)
        if not (pair and i == 1):
            tests.append({"p_value": result.p_value})
        test_id = len(tests) - 1
        median = float(np.median(inside)) if len(inside) else None
        rest_median = float(np.median(rest)) if len(rest) else None
        out.append({
            "metric": metric, "kind": "distribution", "segment": name,
            "customers": int(len(inside)), "value": median,
            "mean": float(inside.mean()) if len(inside) else None,
            "rest_customers": int(len(rest)), "rest_value": rest_median,
            "rest_mean": float(rest.mean()) if len(rest) else None,
            "difference": None if median is None or rest_median is None else median - rest_median,
            "lift": median / rest_median if median is not None and rest_median else None,
            "test": result.test, "statistic": result.statistic,
            "omnibus_test": omnibus.test if omnibus else None,
            "omnibus_p": omnibus.p_value if omnibus else None, "_test": test_id,
        })
    return out
