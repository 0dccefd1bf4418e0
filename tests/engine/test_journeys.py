"""The journey table: the streaming windows over the stored order (DuckDB) give the
same results as the portable windows partitioned by unit (every backend), and
sessions split at the inactivity gap or at a change of session_id."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from journeymap.engine.funnels import FunnelSpec, funnel, funnel_dropoffs
from journeymap.engine.journeys import (
    JourneyOptions,
    Scope,
    ScopeError,
    customer_splits,
    journey_table,
    materialize,
    scope_customers,
    scoped_events,
)
from journeymap.engine.paths import loops, path_variants, paths_around
from journeymap.engine.scope import event_names
from journeymap.engine.transitions import transitions
from journeymap.workspace import Workspace

EVENTS = ("visit", "search", "view", "cart", "buy")


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    rng = np.random.default_rng(3)
    root = tmp_path_factory.mktemp("journeys")
    lines = ["customer_id,timestamp,event,session_id"]
    start = dt.datetime(2026, 4, 1)
    for c in range(80):
        t = start + dt.timedelta(minutes=int(rng.integers(0, 5000)))
        for k in range(int(rng.integers(2, 30))):
            t += dt.timedelta(minutes=int(rng.choice([0, 1, 5, 20, 45, 600])))  # ties too
            lines.append(f"u{c:02d},{t.isoformat()}Z,{EVENTS[int(rng.integers(0, 5))]},s{k // 6}")
    (root / "e.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "c.csv").write_text("customer_id,tier\n" + "\n".join(
        f"u{c:02d},{'gold' if c % 3 else 'basic'}" for c in range(80)) + "\n", encoding="utf-8")
    w = Workspace.create(root / "ws")
    w.ingest("events", [root / "e.csv"])
    w.ingest("customers", [root / "c.csv"])
    return w


def _all(ws: Workspace, presorted: bool, options: JourneyOptions, scope: Scope,
         chunks: int = 1) -> dict[str, Any]:
    con = ws.store.ibis()
    names = event_names(con)
    events, info = scoped_events(con, None, scope, by_customer=False)
    splits = customer_splits(con, chunks)
    assert len(splits) == chunks - 1
    j = journey_table(events, None, names, options, presorted=presorted, splits=splits,
                      customers=scope_customers(con, info.rules))
    if chunks > 1:  # stored as analyze stores it: the branches run in parallel, unordered
        j = materialize(con, j, unordered=True)
    spec = FunnelSpec(("visit", "view", "buy"), window=dt.timedelta(hours=2))
    strict = FunnelSpec(("view", "cart"), order="strict")
    # a repeated step: each join of the strict chain reads the same rows on both sides
    again = FunnelSpec(("view", "cart", "view", "cart"), order="strict",
                       window=dt.timedelta(days=2), exclude=("buy",))

    def rows(expr: Any) -> list[dict[str, Any]]:
        return sorted(expr.to_pyarrow().to_pylist(), key=repr)

    return {
        "transitions": rows(transitions(j, names=names)),
        "paths": rows(path_variants(j, top=50, names=names)),
        "around": rows(paths_around(j, "buy", before=2, names=names)),
        "loops": rows(loops(j, names=names)),
        "funnel": rows(funnel(j, spec, names=names)),
        "strict": rows(funnel(j, strict, names=names)),
        "again": rows(funnel(j, again, names=names)),
        "again_dropoffs": rows(funnel_dropoffs(j, again, names=names, top=50)),
        "units": j.select("unit").distinct().count().to_pyarrow().as_py(),
    }


@pytest.mark.slow
@pytest.mark.parametrize(("options", "segment"), [
    (JourneyOptions(), "tier == 'gold'"),
    (JourneyOptions(unit="session"), None),
    (JourneyOptions(unit="session", session_column=True), None),
], ids=["customer-segment", "session-gap", "session-column"])
def test_stored_order_windows_equal_partitioned_windows(
        ws: Workspace, options: JourneyOptions, segment: str | None) -> None:
    scope = Scope(segment=segment)
    fast, portable = _all(ws, True, options, scope), _all(ws, False, options, scope)
    chunked = _all(ws, True, options, scope, chunks=3)
    assert fast["units"] == portable["units"] == chunked["units"]
    assert chunked == fast
    for key in ("transitions", "paths", "around", "loops", "funnel", "strict", "again",
                "again_dropoffs"):
        assert fast[key] == portable[key], key


def test_sessions_split_at_the_gap(ws: Workspace) -> None:
    con = ws.store.ibis()
    names = event_names(con)
    events, _ = scoped_events(con, None)
    e = events.to_pyarrow().sort_by([("customer_id", "ascending"), ("timestamp", "ascending")])
    expected = 0
    prev: tuple[str, dt.datetime] | None = None
    for cid, ts in zip(e["customer_id"].to_pylist(), e["timestamp"].to_pylist()):
        if prev is None or prev[0] != cid or (ts - prev[1]) > dt.timedelta(minutes=30):
            expected += 1
        prev = (cid, ts)
    j = journey_table(events, None, names, JourneyOptions(unit="session"))
    assert j.select("unit").distinct().count().to_pyarrow().as_py() == expected


def test_scope_dates_and_unknown_attribute(ws: Workspace) -> None:
    con = ws.store.ibis()
    events, _ = scoped_events(con, None, Scope(since=dt.date(2026, 4, 3), until=dt.date(2026, 4, 5)))
    ts = events.timestamp.to_pyarrow()
    assert len(ts) > 0
    assert min(ts.to_pylist()) >= dt.datetime(2026, 4, 3)
    assert max(ts.to_pylist()) < dt.datetime(2026, 4, 5)
    with pytest.raises(ScopeError, match="shoe_size"):
        scoped_events(con, None, Scope(segment="shoe_size > 3"))
    with pytest.raises(ScopeError, match="not before"):
        scoped_events(con, None, Scope(since=dt.date(2026, 5, 1), until=dt.date(2026, 4, 1)))


def test_analyze_by_unknown_attribute(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(
        "id: m\ntitle: M\ngoal: {statement: buy}\npersona: {name: all}\nscenario: s\n"
        "stages:\n  - {id: a, name: A, touchpoints: [{id: v, name: V, channel: web, match: visit}]}\n",
        encoding="utf-8")
    with pytest.raises(ScopeError, match="no such customer attribute"):
        ws.analyze(tmp_path / "m.yaml", by="shoe_size")
    got = ws.analyze(tmp_path / "m.yaml", by="tier")
    assert set(got["by"]["groups"]) == {"gold", "basic"}


def test_analyze_drops_its_temporary_tables(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(
        "id: m\ntitle: M\ngoal: {statement: buy}\npersona: {name: all}\nscenario: s\n"
        "stages:\n  - {id: a, name: A, touchpoints: [{id: v, name: V, channel: web, match: visit},"
        " {id: b, name: B, channel: web, match: buy}]}\n", encoding="utf-8")

    def temporary() -> int:
        found = ws.store.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchall()
        return int(found[0][0])

    before = temporary()
    got = ws.analyze(tmp_path / "m.yaml", by="tier")
    assert got["funnel"] and got["transitions"]
    assert temporary() == before
