"""Retention by cohort of first touch on hand-made data."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeymap.engine.cohorts import cohort_retention, period_label
from journeymap.errors import JourneymapError
from journeymap.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path):  # noqa: ANN201
    rows = [
        # January cohort: A active Jan, Feb, Apr; B active Jan, Feb; C only Jan
        "A,2026-01-05T10:00:00Z,login", "A,2026-02-10T10:00:00Z,login", "A,2026-04-01T10:00:00Z,view",
        "B,2026-01-20T10:00:00Z,login", "B,2026-02-01T10:00:00Z,view",
        "C,2026-01-31T23:59:00Z,login",
        # March cohort: D active Mar and Apr
        "D,2026-03-01T00:00:00Z,login", "D,2026-04-30T00:00:00Z,login",
    ]
    (tmp_path / "events.csv").write_text("customer_id,timestamp,event\n" + "\n".join(rows) + "\n")
    w = Workspace.create(tmp_path / "ws")
    w.ingest("events", [tmp_path / "events.csv"])
    yield w
    w.close()


def test_monthly_matrix(ws: Workspace) -> None:
    result = cohort_retention(ws.store.ibis(), period="month")
    assert result["periods"] == 4
    jan, mar = result["cohorts"]  # type: ignore[misc]
    assert (jan["cohort"], jan["customers"], jan["active"]) == ("2026-01", 3, [3, 2, 0, 1])
    assert jan["retention"] == pytest.approx([1.0, 2 / 3, 0.0, 1 / 3])
    assert (mar["cohort"], mar["active"]) == ("2026-03", [1, 1, None, None])  # not observed yet: None
    assert result["average"] == pytest.approx([1.0, 3 / 4, 0.0, 1 / 3])


def test_active_events_narrow_activity(ws: Workspace) -> None:
    result = cohort_retention(ws.store.ibis(), period="month", active_events=["login"])
    jan = result["cohorts"][0]  # type: ignore[index]
    assert jan["active"] == [3, 1, 0, 0]  # B's February event is a view; A's April one too


def test_weekly_and_daily_periods(ws: Workspace) -> None:
    weekly = cohort_retention(ws.store.ibis(), period="week")
    first = weekly["cohorts"][0]  # type: ignore[index]
    assert first["cohort"] == "2026-W02" and first["start"] == "2026-01-05"  # a Monday
    daily = cohort_retention(ws.store.ibis(), period="day", max_periods=3)
    assert daily["periods"] == 3
    assert daily["cohorts"][0]["cohort"] == "2026-01-05"  # type: ignore[index]
    assert period_label(2026 * 12, "month") == "2026-01"


def test_unknown_period_or_event(ws: Workspace) -> None:
    with pytest.raises(JourneymapError, match="period 'year'"):
        cohort_retention(ws.store.ibis(), period="year")  # type: ignore[arg-type]
    with pytest.raises(JourneymapError, match="event 'buy' does not occur"):
        cohort_retention(ws.store.ibis(), active_events=["buy"])
