"""The reports of `segments` and `clv` as plain dicts, for every front end.

:class:`journeymap.workspace.Workspace` calls these; the CLI prints what they return,
the app and the Python API read the same dicts.  Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journeymap.errors import JourneymapError

if TYPE_CHECKING:
    import ibis
    import pyarrow as pa

    from journeymap.metrics.clv import ClvOptions
    from journeymap.model.document import JourneyMap
    from journeymap.progress import Progress


def segments_report(con: ibis.BaseBackend, jmap: JourneyMap, *, by: str | None = None,
                    rules: Sequence[str] = (), clusters: int | None = None,
                    metrics: Sequence[str] = (), churn_event: str | None = None,
                    inactivity_days: float | None = None, eligible: Sequence[str] = (),
                    exclude: Sequence[str] = (), retention: str | None = None,
                    all_customers: bool = False) -> dict[str, Any]:
    """Metrics per segment with tests; segments are one of ``by`` (a customer attribute),
    ``rules`` (``NAME=RULE`` each) or ``clusters`` (k-means of journeys, 0: choose k).

    Keys: ``map``, ``segments`` (comparison rows), ``clusters`` (with ``clusters``),
    ``churn`` (with a churn definition), ``retention`` (with ``retention``).
    """
    from journeymap.engine.churn import ChurnDefinition, churn_section
    from journeymap.engine.clusters import cluster_table, fit_clusters
    from journeymap.engine.cohorts import cohort_retention
    from journeymap.engine.scope import persona_events
    from journeymap.engine.segments import (
        By,
        default_metrics,
        parse_segment,
        segment_comparison,
    )

    chosen = [x for x in (by, tuple(rules), clusters is not None) if x]
    if len(chosen) != 1:
        raise JourneymapError("give one of --by COLUMN, --rule NAME=RULE (repeatable) or --clusters [K]")
    events = con.table("event_log") if all_customers else persona_events(con, jmap)[0]
    report: dict[str, Any] = {"map": {"id": jmap.id, "title": jmap.title}}
    segments: By
    if clusters is not None:
        fitted = fit_clusters(con, clusters or None, jmap=jmap, events=events)
        report["clusters"] = fitted.summaries
        segments = cluster_table(fitted)
    else:
        segments = by if by else [parse_segment(r) for r in rules]
    churning = churn_event is not None or inactivity_days is not None
    definition = ChurnDefinition(churn_event, inactivity_days, tuple(eligible)) if churning else None
    wanted = list(metrics) or default_metrics(con, jmap) + (["churn"] if churning else [])
    report["segments"] = segment_comparison(con, jmap, segments, wanted, churn=definition, events=events)
    if definition is not None:
        report["churn"] = churn_section(con, jmap, inactivity_days=inactivity_days, churn_event=churn_event,
                                        eligible_events=tuple(eligible), events=events,
                                        exclude_events=tuple(exclude))
    if retention:
        report["retention"] = cohort_retention(con, period=retention, events=events)  # type: ignore[arg-type]
    return report


def clv_report(con: ibis.BaseBackend, options: ClvOptions, *, by: str | None = None,
               maps: Sequence[JourneyMap] = (), progress: Progress | None = None) -> dict[str, Any]:
    """Fitted CLV models and the CLV summary (``metrics.clv.result_json``), per value of
    the customer attribute ``by`` and per persona of ``maps`` too."""
    return clv_tables(con, options, by=by, maps=maps, progress=progress)[0]


def clv_tables(con: ibis.BaseBackend, options: ClvOptions, *, by: str | None = None,
               maps: Sequence[JourneyMap] = (), progress: Progress | None = None,
               by_option: str = "--by") -> tuple[dict[str, Any], pa.Table]:
    """:func:`clv_report` and the per-customer table it summarises (customer_id, x, t_x,
    T, monetary, expected_purchases, p_alive, spend, clv)."""
    from journeymap.engine.scope import customer_attributes
    from journeymap.metrics.clv import customer_clv, result_json

    if by and by not in (customer_attributes(con) or ()):
        known = ", ".join(customer_attributes(con) or ()) or "none"
        raise JourneymapError(f"{by_option} {by}: no such customer attribute (known: {known})")
    result = customer_clv(con, options, progress=progress)
    return result_json(con, result, segment_by=by, maps=list(maps)), result.customers


def clv_of_file(path: Path, options: ClvOptions, *, progress: Progress | None = None) -> dict[str, Any]:
    """:func:`clv_report` of a transactions file alone (no workspace), in a store in memory."""
    from journeymap.data.ingest import ingest
    from journeymap.data.store import Store

    if not path.is_file():
        raise JourneymapError(f"{path}: no such file")
    with Store.memory() as store:
        ingest(store, "transactions", [path], progress=progress)
        return clv_report(store.ibis(), options, progress=progress)


# -- map reviews: has the data moved since a map was last reviewed? --------------------------
def stage_snapshot(analysis: dict[str, Any]) -> list[dict[str, Any]]:
    """What a review records of each stage: customers reaching it, of how many in scope,
    and how many of them went on to the next (the counts the drift test needs)."""
    scope = analysis.get("scope") or {}
    total = int(scope.get("segment_customers") or scope.get("customers") or 0)
    out = []
    for s in analysis.get("stages") or []:
        customers = int(s.get("customers") or 0)
        conv = s.get("conversion_to_next")
        out.append({"id": s.get("id"), "name": s.get("name") or s.get("id"), "customers": customers,
                    "total": total, "onward": round(conv * customers) if isinstance(conv, (int, float)) else None})
    return out


def review_drift(snapshot: list[dict[str, Any]], analysis: dict[str, Any], level: float = 0.95) -> list[str]:
    """Why a map's data changed markedly since its review: each stage whose reach (share of
    the customers in scope) or conversion to the next stage now lies outside the 95 %
    Wilson interval of its value at the review."""
    from journeymap.metrics.intervals import wilson

    now = {s["id"]: s for s in stage_snapshot(analysis)}
    reasons = []
    for old in snapshot:
        new = now.get(old.get("id"))
        if new is None:
            continue
        pairs = [("reach", old["customers"], old["total"], new["customers"], new["total"])]
        if old.get("onward") is not None and new.get("onward") is not None:
            pairs.append(("conversion to the next stage", old["onward"], old["customers"], new["onward"],
                          new["customers"]))
        for what, k0, n0, k1, n1 in pairs:
            if not n0 or not n1:
                continue
            low, high = wilson(min(k0, n0), n0, level)
            value = k1 / n1
            if low is not None and high is not None and not low <= value <= high:
                reasons.append(f"{what} of {old['name']} moved from {k0 / n0:.0%} to {value:.0%} "
                               f"(outside {low:.0%}–{high:.0%} at the review)")
    return reasons
