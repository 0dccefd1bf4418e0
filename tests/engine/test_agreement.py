"""Agreement with the field: our transition counts equal pm4py's directly-follows graph
and retentioneering's transition graph on a generated log, and our funnel equals
retentioneering's on its bundled ``ecom`` dataset.  Both peers are test-only (pm4py is
AGPL); a test skips when its peer is not installed."""

from __future__ import annotations

import datetime as dt
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from journeymap.engine.funnels import FunnelSpec, funnel
from journeymap.engine.journeys import JourneyOptions, journey_table, scoped_events
from journeymap.engine.scope import event_names
from journeymap.engine.transitions import transitions
from journeymap.workspace import Workspace

os.environ.setdefault("RETENTIONEERING_NO_TRACK", "1")  # the peer's telemetry stays off

EVENTS = ("home", "search", "product", "cart", "checkout", "purchase", "support")


def _quiet_import(name: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pytest.importorskip(name)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Any]:
    """200 customers, 3-25 events each, strictly increasing times (no ties to break)."""
    import pyarrow as pa

    rng = np.random.default_rng(5)
    rows: dict[str, list[Any]] = {"customer_id": [], "timestamp": [], "event": []}
    start = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    for c in range(200):
        t = start + dt.timedelta(hours=int(rng.integers(0, 500)))
        for _ in range(int(rng.integers(3, 26))):
            t += dt.timedelta(seconds=int(rng.integers(1, 4000)))
            rows["customer_id"].append(f"c{c:03d}")
            rows["timestamp"].append(t.isoformat())
            rows["event"].append(EVENTS[int(rng.choice(7, p=[.25, .2, .25, .12, .08, .05, .05]))])
    root = tmp_path_factory.mktemp("agree")
    csv = root / "events.csv"
    lines = ["customer_id,timestamp,event"] + [
        f"{c},{t},{e}" for c, t, e in zip(rows["customer_id"], rows["timestamp"], rows["event"])]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ws = Workspace.create(root / "ws")
    ws.ingest("events", [csv])
    table = pa.table(rows)
    return ws, table


@pytest.fixture(scope="module")
def tied(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Any]:
    """300 customers, about a third of whose events share their timestamp with the
    event before (second-resolution logs), written customer by customer in source
    order; the tie's order in the file is the only thing that orders them."""
    import pyarrow as pa

    rng = np.random.default_rng(11)
    rows: dict[str, list[Any]] = {"customer_id": [], "timestamp": [], "event": []}
    start = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    for c in range(300):
        t = start + dt.timedelta(hours=int(rng.integers(0, 500)))
        at_t: set[str] = set()
        for i in range(int(rng.integers(3, 26))):
            event = EVENTS[int(rng.choice(7, p=[.25, .2, .25, .12, .08, .05, .05]))]
            # a tie with the event before, unless it would repeat a row exactly (an
            # identical row is a duplicate to ingest: ADR 0001)
            if i == 0 or rng.random() >= 1 / 3 or event in at_t:
                t += dt.timedelta(seconds=int(rng.integers(1, 4000)))
                at_t = set()
            at_t.add(event)
            rows["customer_id"].append(f"c{c:03d}")
            rows["timestamp"].append(t.isoformat())
            rows["event"].append(event)
    ts = rows["timestamp"]
    shared = sum(1 for i in range(1, len(ts)) if ts[i] == ts[i - 1]
                 and rows["customer_id"][i] == rows["customer_id"][i - 1])
    assert shared / len(ts) > 0.2  # the log is as tied as promised
    root = tmp_path_factory.mktemp("tied")
    csv = root / "events.csv"
    lines = ["customer_id,timestamp,event"] + [
        f"{c},{t},{e}" for c, t, e in zip(rows["customer_id"], ts, rows["event"])]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ws = Workspace.create(root / "ws")
    ws.ingest("events", [csv])
    return ws, pa.table(rows)


def _pm4py_dfg(table: Any) -> dict[tuple[str, str], int]:
    pm4py = _quiet_import("pm4py")
    df = table.to_pandas()
    df["timestamp"] = df["timestamp"].astype("datetime64[ns, UTC]")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dfg, _, _ = pm4py.discover_dfg(df, case_id_key="customer_id", activity_key="event",
                                       timestamp_key="timestamp")
    return {k: int(v) for k, v in dfg.items()}


def _retentioneering_graph(table: Any) -> dict[tuple[str, str], int]:
    rete = _quiet_import("retentioneering")
    df = table.to_pandas()
    df["timestamp"] = df["timestamp"].astype("datetime64[ns, UTC]").dt.tz_localize(None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stream = rete.Eventstream(df.rename(columns={"customer_id": "user_id"}),
                                  {"path_cols": ["user_id"]})
        matrix = stream.transition_graph_data(edge_weight="count")
    return {(str(a), str(b)): int(v) for a, row in matrix.iterrows() for b, v in row.items()
            if v and a in EVENTS and b in EVENTS}


def test_same_timestamp_events_keep_source_order_like_pm4py(tied: tuple[Workspace, Any]) -> None:
    ws, table = tied
    assert _our_counts(ws) == _pm4py_dfg(table)


def test_same_timestamp_events_keep_source_order_like_retentioneering(
        tied: tuple[Workspace, Any]) -> None:
    ws, table = tied
    assert _our_counts(ws) == _retentioneering_graph(table)


def test_same_timestamp_order_without_stored_order(tied: tuple[Workspace, Any]) -> None:
    """The portable windows (Spark's path: a sort, not the stored order) break ties the
    same way: by the source order kept in ``_seq``."""
    ws, table = tied
    con = ws.store.ibis()
    names = event_names(con)
    events, _ = scoped_events(con, None)
    j = journey_table(events, None, names, presorted=False)
    got = transitions(j, "event", names=names, markers=False).to_pyarrow().to_pylist()
    assert {(r["from"], r["to"]): r["count"] for r in got} == _pm4py_dfg(table)


def _our_counts(ws: Workspace) -> dict[tuple[str, str], int]:
    con = ws.store.ibis()
    names = event_names(con)
    events, _ = scoped_events(con, None)
    j = journey_table(events, None, names, presorted=True)
    got = transitions(j, "event", names=names, markers=False).to_pyarrow().to_pylist()
    return {(r["from"], r["to"]): r["count"] for r in got}


def test_transitions_equal_pm4py_dfg(generated: tuple[Workspace, Any]) -> None:
    pm4py = _quiet_import("pm4py")
    ws, table = generated
    df = table.to_pandas()
    df["timestamp"] = df["timestamp"].astype("datetime64[ns, UTC]")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dfg, _, _ = pm4py.discover_dfg(df, case_id_key="customer_id", activity_key="event",
                                       timestamp_key="timestamp")
    assert _our_counts(ws) == {k: int(v) for k, v in dfg.items()}


def test_transitions_equal_retentioneering_graph(generated: tuple[Workspace, Any]) -> None:
    rete = _quiet_import("retentioneering")
    ws, table = generated
    df = table.to_pandas()
    df["timestamp"] = df["timestamp"].astype("datetime64[ns, UTC]").dt.tz_localize(None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stream = rete.Eventstream(df.rename(columns={"customer_id": "user_id"}),
                                  {"path_cols": ["user_id"]})
        matrix = stream.transition_graph_data(edge_weight="count")
    theirs = {(str(a), str(b)): int(v) for a, row in matrix.iterrows() for b, v in row.items()
              if v and a in EVENTS and b in EVENTS}
    assert _our_counts(ws) == theirs


def test_funnel_equals_retentioneering_on_ecom(tmp_path: Path) -> None:
    rete = _quiet_import("retentioneering")
    from retentioneering.tools.funnel import Funnel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = rete.datasets.load_ecom(as_dataframe=True)
        stream = rete.datasets.load_ecom()
        theirs = Funnel(stream).fit(["cart", "shipping_details", "purchase"],
                                    path_col="session_id")["steps"]
    csv = tmp_path / "ecom.csv"
    df[["user_id", "session_id", "event", "timestamp"]].rename(
        columns={"user_id": "customer_id"}).to_csv(csv, index=False)
    with Workspace.create(tmp_path / "ws") as ws:
        ws.ingest("events", [csv])
        con = ws.store.ibis()
        names = event_names(con)
        events, _ = scoped_events(con, None)
        j = journey_table(events, None, names,
                          JourneyOptions(unit="session", session_column=True), presorted=True)
        ours = funnel(j, FunnelSpec(("cart", "shipping_details", "purchase"), level="event"),
                      names=names).to_pyarrow().to_pylist()
        sessions = j.select("unit").distinct().count().to_pyarrow().as_py()
    assert sessions == 3605
    assert [r["customers"] for r in ours] == [s["unique_paths"] for s in theirs]
    assert [round(r["share_of_units"], 4) for r in ours] == [0.2835, 0.1420, 0.0480]
    assert [r["share_of_units"] for r in ours] == pytest.approx(
        [s["conversion_rate"] for s in theirs], abs=1e-12)
