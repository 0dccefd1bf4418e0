"""Spark parity: every analysis gives the same result on every backend.

Each test runs on the ``backend`` fixture (duckdb, spark — tests/engine/conftest.py)
and compares with the same analysis on the DuckDB store, the reference.  Numbers must
be identical (floats to 1e-9 relative: engines sum in different orders).  On DuckDB the
test also shows the analysis is deterministic.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import ibis
import pytest

from journeymap.engine.analyze import analyze_map
from journeymap.engine.churn import churn_section
from journeymap.engine.cohorts import cohort_retention
from journeymap.engine.funnels import FunnelSpec, funnel, funnel_dropoffs
from journeymap.engine.journeys import JourneyOptions, journey_table
from journeymap.engine.paths import loops, path_variants, paths_around
from journeymap.engine.scope import event_names
from journeymap.engine.segments import Segment, segment_comparison
from journeymap.engine.touchpoints import assign_touchpoints
from journeymap.engine.transitions import transitions
from journeymap.model import load_map_text
from journeymap.model.document import JourneyMap
from journeymap.workspace import Workspace

MAP = """id: parity
title: Parity
goal: {statement: see the same numbers everywhere}
persona: {name: Any customer}
scenario: trial to paid
stages:
  - id: discover
    name: Discover
    touchpoints:
      - {id: visit, name: Visit, channel: web, match: visit}
      - {id: signup, name: Sign-up, channel: web, match: signup}
  - id: adopt
    name: Adopt
    touchpoints:
      - {id: onboard, name: Onboard, channel: app, match: {event_in: [onboard, invite]}}
      - {id: report, name: Report, channel: app, match: {event_regex: "^rep"}}
  - id: pay
    name: Pay
    touchpoints:
      - {id: upgrade, name: Upgrade, channel: web, match: {event: upgrade, where: "properties.seats >= 5"}}
      - {id: help, name: Help, channel: email, match: {event: ticket, channel: email}}
  - id: leave
    name: Leave
    touchpoints:
      - {id: cancel, name: Cancel, channel: web, match: cancel}
"""

#: One map per kind of match rule (name, list, regex, channel, JSON lookups, calls).
RULES: dict[str, str] = {
    "event": "{event: signup}",
    "event_in": "{event_in: [onboard, invite, nope]}",
    "event_regex": "{event_regex: 'e$|^v'}",
    "channel": "{channel: email}",
    "json_text": "{where: \"properties.plan == 'pro'\"}",
    "json_number": "{where: 'properties.seats > 20'}",
    "json_number_as_text": "{where: \"startswith(properties.seats, '1')\"}",
    "json_bool": "{where: 'properties.trial == True'}",
    "json_calls": "{where: \"startswith(properties.plan, 'te') or contains(properties.plan, 'ro')\"}",
    "json_null_and_in": "{where: \"is_null(properties.trial) or properties.plan in ('free',)\"}",
    "column_regex": "{where: \"matches(session_id, '-s1$') and not channel == 'app'\"}",
    "combined": "{event_in: [report, ticket], channel: app, where: 'properties.seats <= 10'}",
}


def _rule_map(match: str) -> JourneyMap:
    text = ("id: rules\ntitle: Rules\ngoal: {statement: match}\npersona: {name: Anyone}\n"
            "scenario: s\nstages:\n  - id: only\n    name: Only\n    touchpoints:\n"
            f"      - {{id: probe, name: Probe, channel: any, match: {match}}}\n")
    return load_map_text(text, "rules.yaml")


@pytest.fixture(scope="module")
def jmap() -> JourneyMap:
    return load_map_text(MAP, "parity.yaml")


@pytest.fixture
def reference(parity_workspace: Workspace) -> ibis.BaseBackend:
    """The reference engine: DuckDB over the store."""
    return parity_workspace.store.ibis()


def _plain(dtype: Any) -> str:
    """A type without nullability (Parquet readers make every column nullable) or
    precision of timestamps (Spark's are microseconds, unlabelled)."""
    text = str(dtype.copy(nullable=True)).removeprefix("!")
    return "timestamp" if dtype.is_timestamp() and dtype.timezone is None else text


def assert_same(got: Any, want: Any, where: str = "result") -> None:
    """Equal, with floats compared to 1e-9 relative (summation order differs)."""
    if isinstance(want, float) and isinstance(got, (int, float)):
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12) or (
            math.isnan(got) and math.isnan(want)), f"{where}: {got} != {want}"
    elif isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), f"{where}: keys {got} != {want}"
        for key in want:
            assert_same(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(want), \
            f"{where}: {len(got)} rows != {len(want)}: {got} != {want}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, f"{where}[{i}]")
    else:
        assert got == want, f"{where}: {got!r} != {want!r}"


def rows(expr: ibis.Table, *order: str) -> list[dict[str, Any]]:
    """Rows as dicts, sorted by ``order`` (or every column) so ties cannot differ."""
    keys = list(order) or list(expr.columns)
    return expr.order_by(keys).to_pyarrow().to_pylist()  # type: ignore[no-any-return]


def assert_informative(want: Any, *, may_be_empty: tuple[str, ...] = ()) -> None:
    """The reference result holds data, and so does each of its parts (the lists and
    dicts directly in it, but ``may_be_empty``): two empty results agree and prove
    nothing."""
    assert want not in (None, [], {}), "the reference result is empty: the parity proves nothing"
    if isinstance(want, dict):
        for key, value in want.items():
            if isinstance(value, (list, dict)) and key not in may_be_empty:
                assert value, f"the reference's '{key}' is empty: its parity proves nothing"


def both(backend: ibis.BaseBackend, reference: ibis.BaseBackend,
         run: Callable[[ibis.BaseBackend], Any]) -> None:
    want = run(reference)
    assert_informative(want)
    assert_same(run(backend), want)


def test_backends_see_the_same_tables(backend: ibis.BaseBackend,
                                      reference: ibis.BaseBackend) -> None:
    for name in ("event_log", "event_names", "events", "customers", "feedback"):
        got, want = backend.table(name).schema(), reference.table(name).schema()
        assert [n for n in got.names if n != "_key"] == [n for n in want.names if n != "_key"]
        for col in got.names:  # JSON travels as text; everything else keeps its type
            expected = want[col]
            if col == "_key":
                continue
            allowed = (_plain(expected), "string") if expected.is_json() else (_plain(expected),)
            assert _plain(got[col]) in allowed, col
    both(backend, reference, lambda c: rows(c.table("events").drop("properties")))


def test_touchpoint_assignment_by_rule(backend: ibis.BaseBackend,
                                       reference: ibis.BaseBackend) -> None:
    """Every kind of match rule assigns the same events (one query: a union per kind)."""
    def run(con: ibis.BaseBackend) -> list[dict[str, Any]]:
        names, events = event_names(con), con.table("event_log")
        parts = [assign_touchpoints(events, _rule_map(rule), names)
                 .select("customer_id", "timestamp", "event_id", "touchpoint",
                         kind=ibis.literal(kind))
                 for kind, rule in sorted(RULES.items())]
        union = parts[0].union(*parts[1:], distinct=False)
        return rows(union.filter(union.touchpoint.notnull()),
                    "kind", "customer_id", "timestamp", "event_id")

    want = run(reference)
    for kind in RULES:
        assert any(r["kind"] == kind for r in want), f"rule {kind} matches nothing"
    assert_same(run(backend), want)


def test_analyze_map(backend: ibis.BaseBackend, reference: ibis.BaseBackend,
                     jmap: JourneyMap) -> None:
    def run(con: ibis.BaseBackend) -> dict[str, Any]:
        return analyze_map(con, jmap, by="segment", top_paths=50, paths_to="upgrade",
                           paths_from="signup")

    want = run(reference)
    # pain points and segments are the analysis layer's (journeymap.analysis), not the engine's
    assert_informative(want, may_be_empty=("pain_points", "segments"))
    assert want["outcome_paths"]["converted"] and want["by"]["groups"]
    assert_same(run(backend), want)


def test_analyze_sessions_in_scope(backend: ibis.BaseBackend, reference: ibis.BaseBackend,
                                   jmap: JourneyMap) -> None:
    spec = FunnelSpec(("signup", "onboard", "upgrade"), order="strict",
                      window=dt.timedelta(days=20))

    def run(con: ibis.BaseBackend) -> dict[str, Any]:
        return analyze_map(con, jmap, segment="company_size > 50", since=dt.date(2026, 1, 20),
                           channels=("web", "app"), options=JourneyOptions(unit="session"),
                           funnel_spec=spec, top_paths=50,
                           sections=("stages", "transitions", "paths", "funnel", "loops"))

    both(backend, reference, run)


def test_event_level_journeys(backend: ibis.BaseBackend, reference: ibis.BaseBackend) -> None:
    """Without a map: event-level transitions, variants, paths around a step, loops,
    a strict funnel with its drop-offs."""
    spec = FunnelSpec(("visit", "signup", "report"), level="event", order="loose",
                      window=dt.timedelta(days=30))
    excluding = FunnelSpec(("signup", "report", "upgrade"), level="event", exclude=("ticket",))

    def run(con: ibis.BaseBackend) -> dict[str, Any]:
        names = event_names(con)
        j = journey_table(con.table("event_log"), None, names)
        return {
            "transitions": rows(transitions(j, "event", names=names), "from", "to"),
            "variants": rows(path_variants(j, "event", names=names, top=1000, max_steps=4)),
            "before_cancel": rows(paths_around(j, "cancel", "event", before=2, top=1000,
                                               names=names)),
            "loops": rows(loops(j, "event", names=names)),
            "funnel": rows(funnel(j, spec, names=names), "index"),
            "dropoffs": rows(funnel_dropoffs(j, spec, names=names, top=100)),
            "excluding": rows(funnel(j, excluding, names=names), "index"),
        }

    both(backend, reference, run)


def test_segments(backend: ibis.BaseBackend, reference: ibis.BaseBackend,
                  jmap: JourneyMap) -> None:
    by = [Segment("big", "company_size >= 250"), Segment("sme", "segment == 'SME'")]
    both(backend, reference, lambda c: segment_comparison(c, jmap, by))


def test_churn(backend: ibis.BaseBackend, reference: ibis.BaseBackend,
               jmap: JourneyMap) -> None:
    def run(con: ibis.BaseBackend) -> dict[str, Any]:
        return {"event": churn_section(con, jmap, churn_event="cancel", by="segment"),
                "inactive": churn_section(con, jmap, inactivity_days=14,
                                          as_of=dt.datetime(2026, 4, 1))}

    both(backend, reference, run)


def test_cohorts(backend: ibis.BaseBackend, reference: ibis.BaseBackend) -> None:
    def run(con: ibis.BaseBackend) -> dict[str, Any]:
        return {"week": cohort_retention(con, period="week"),
                "month": cohort_retention(con, period="month", active_events=("report",))}

    both(backend, reference, run)
