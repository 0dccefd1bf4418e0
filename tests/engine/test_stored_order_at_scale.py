"""The stored-order windows at a realistic size: several DuckDB row groups, chunks of
customers computed in parallel, stored without insertion order, a persona segment,
JSON and channel match rules, session units — the same journeys as the portable
windows partitioned by unit.

The small fixtures elsewhere fit in one row group, where any plan keeps the stored
order.  At this size a plan that reorders rows before the windows (a shared CTE
materialised in parallel, a semi-join that builds its hash table on the events)
splits customers into several journeys; these tests caught both.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from journeymap.engine.analyze import analyze_map
from journeymap.engine.fetch import rows
from journeymap.engine.journeys import (
    JourneyOptions,
    Scope,
    customer_splits,
    journey_table,
    materialize,
    scope_customers,
    scoped_events,
)
from journeymap.engine.scope import event_names
from journeymap.engine.stages import stage_funnel
from journeymap.engine.transitions import transitions
from journeymap.errors import JourneymapError
from journeymap.model import load_map_text
from journeymap.model.document import JourneyMap
from journeymap.workspace import Workspace
from tests.engine.test_parity import MAP as PARITY_MAP

CUSTOMERS = 12_000
EVENTS = ("visit", "signup", "onboard", "invite", "report", "upgrade", "ticket", "cancel")
#: the parity map, for small firms only: the persona segment is what must be applied
#: after the windows
MAP = PARITY_MAP.replace("persona: {name: Any customer}",
                         "persona: {name: Small firms, segment: \"segment == 'SME'\"}")


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """~420 k events of 12 k customers (≈ 4 DuckDB row groups), two segments."""
    rng = np.random.default_rng(41)
    root = tmp_path_factory.mktemp("scale")
    lens = rng.integers(10, 60, size=CUSTOMERS)
    cust = np.repeat(np.arange(CUSTOMERS), lens)
    n = len(cust)
    start = np.repeat(rng.integers(0, 200 * 86400, size=CUSTOMERS), lens)
    gaps = rng.choice([30, 600, 4000, 90000], size=n) + rng.integers(1, 30, size=n)
    first = np.concatenate([[0], np.cumsum(lens)[:-1]])
    steps = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[first], lens)
    seconds = 1_767_225_600 + start + steps
    ids = pa.array([f"K{c:05d}" for c in range(CUSTOMERS)]).take(pa.array(cust))
    events = pa.table({
        "customer_id": ids,
        "timestamp": pa.array(seconds * 1_000_000, pa.timestamp("us", tz="UTC")),
        "event": pa.array(np.array(EVENTS)[rng.integers(0, len(EVENTS), size=n)]),
        "channel": pa.array(np.array(["web", "app", "email"])[rng.integers(0, 3, size=n)]),
        "session_id": pa.array([f"s{v}" for v in rng.integers(0, 4, size=n)]),
        "properties": pa.array([f'{{"seats": {v}}}' for v in rng.integers(1, 6, size=n)]),
    })
    pq.write_table(events, root / "events.parquet")
    (root / "customers.csv").write_text("customer_id,segment\n" + "".join(
        f"K{c:05d},{'SME' if c % 3 else 'Enterprise'}\n" for c in range(CUSTOMERS)))
    w = Workspace.create(root / "ws")
    w.ingest("customers", [root / "customers.csv"])
    w.ingest("events", [root / "events.parquet"])
    return w


@pytest.fixture(scope="module")
def jmap() -> JourneyMap:
    return load_map_text(MAP, "scale.yaml")


def _shape(j: Any) -> dict[str, Any]:
    """What breaks when rows reach the windows out of stored order."""
    agg = j.aggregate(units=j.is_first.sum(), rows=j.count(), runs=j.run.cast("int64").sum(),
                      ends=j.next_seconds.isnull().sum(), seconds=j.next_seconds.sum())
    return rows(agg)[0]


def _sorted(expr: Any) -> list[dict[str, Any]]:
    return sorted(rows(expr), key=repr)


@pytest.mark.parametrize("unit", ["customer", "session"])
@pytest.mark.parametrize("chunks", [1, 2, 4])
def test_chunked_stored_order_equals_partitioned(ws: Workspace, jmap: JourneyMap, unit: str,
                                                 chunks: int) -> None:
    con = ws.store.ibis()
    names = event_names(con)
    options = JourneyOptions(unit=unit)  # type: ignore[arg-type]
    scope = Scope(channels=("web", "app", "email"))
    events, info = scoped_events(con, jmap, scope, by_customer=False)
    assert info.rules == ["segment == 'SME'"]
    selected = scope_customers(con, info.rules)
    portable = journey_table(events, jmap, names, options, customers=selected)
    fast = journey_table(events, jmap, names, options, presorted=True,
                         splits=customer_splits(con, chunks), customers=selected)
    stored = materialize(con, fast.drop("customer_id"), unordered=True)
    want = _shape(portable)
    assert want["units"] > CUSTOMERS // 2
    assert _shape(stored) == want
    assert _sorted(transitions(stored, jmap=jmap)) == _sorted(transitions(portable, jmap=jmap))
    if unit == "customer":
        got = _sorted(stage_funnel(stored.mutate(unit=stored.cust), jmap))
        assert got == _sorted(stage_funnel(portable, jmap))


def test_analyze_counts_each_customer_once(ws: Workspace, jmap: JourneyMap) -> None:
    """The whole analysis (parallel sections on the shared scratch table): every SME
    customer with a matched event starts exactly one journey."""
    con = ws.store.ibis()
    out = analyze_map(con, jmap, sections=("stages", "transitions", "scope"))
    sme = rows(con.table("customers").filter(lambda t: t.segment == "SME").count().as_table())
    starts = sum(r["count"] for r in out["transitions"] if r["from"] == "START")
    assert out["scope"]["segment_customers"] == list(sme[0].values())[0]
    assert out["stages"][0]["customers"] == starts
    portable = journey_table(scoped_events(con, jmap)[0], jmap, event_names(con))
    assert starts == _shape(portable)["units"]


def test_presorted_refuses_joined_events(ws: Workspace, jmap: JourneyMap) -> None:
    """Events semi-joined to customers may reach the windows out of stored order."""
    con = ws.store.ibis()
    joined, _ = scoped_events(con, jmap)  # the persona rule applied as a semi-join
    with pytest.raises(JourneymapError, match="presorted journeys need events without joins"):
        journey_table(joined, jmap, event_names(con), presorted=True,
                      splits=customer_splits(con, 2))
