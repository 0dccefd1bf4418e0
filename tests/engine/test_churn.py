"""Churn by event and by inactivity on hand-made data; the demo's planted SME stall
shows in the stage-exit table and in churn by segment."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from journeymap.engine.churn import ChurnDefinition, churn_flags, churn_section
from journeymap.engine.segments import Segment
from journeymap.errors import JourneymapError
from journeymap.model import load_map_text
from journeymap.workspace import Workspace

MAP = """id: t
title: T
goal: {statement: keep them}
persona: {name: P}
scenario: s
stages:
  - id: start
    name: Start
    touchpoints:
      - {id: signup, name: Sign-up, channel: web, match: signup}
      - {id: setup, name: Set-up, channel: app, match: setup}
  - id: use
    name: Use
    touchpoints:
      - {id: usage, name: Usage, channel: app, match: use}
      - {id: cancel, name: Cancel, channel: web, match: cancel}
"""


@pytest.fixture
def tiny(tmp_path: Path):  # noqa: ANN201
    """C1 signs up, never sets up, cancels; C2 sets up and keeps using; C3 signs up,
    sets up, cancels; C4 is new (last week)."""
    rows = [
        "C1,2026-01-01T00:00:00Z,signup", "C1,2026-01-05T00:00:00Z,use", "C1,2026-02-01T00:00:00Z,cancel",
        "C2,2026-01-01T00:00:00Z,signup", "C2,2026-01-02T00:00:00Z,setup", "C2,2026-05-30T00:00:00Z,use",
        "C3,2026-01-01T00:00:00Z,signup", "C3,2026-01-03T00:00:00Z,setup", "C3,2026-03-01T00:00:00Z,cancel",
        "C3,2026-03-01T00:00:00Z,use",
        "C4,2026-05-25T00:00:00Z,signup",
    ]
    (tmp_path / "events.csv").write_text("customer_id,timestamp,event\n" + "\n".join(rows) + "\n")
    ws = Workspace.create(tmp_path / "ws")
    ws.ingest("events", [tmp_path / "events.csv"])
    yield ws, load_map_text(MAP)
    ws.close()


def _flags(ws: Workspace, definition: ChurnDefinition) -> dict[str, bool]:
    con = ws.store.ibis()
    rows = churn_flags(con, con.table("event_log"), definition).to_pyarrow().to_pylist()
    return {r["customer_id"]: r["churned"] for r in rows}


def test_churn_by_event(tiny) -> None:  # noqa: ANN001
    ws, _ = tiny
    assert _flags(ws, ChurnDefinition(churn_event="cancel")) == {"C1": True, "C2": False, "C3": True, "C4": False}
    # at risk: did setup, or the churn event itself
    assert _flags(ws, ChurnDefinition(churn_event="cancel", eligible_events=("setup",))) == {
        "C1": True, "C2": False, "C3": True}


def test_churn_by_inactivity_leaves_out_the_too_new(tiny) -> None:  # noqa: ANN001
    ws, _ = tiny
    # data ends 2026-05-30; 30 days before is 2026-04-30: C4 is too new to judge
    assert _flags(ws, ChurnDefinition(inactivity_days=30)) == {"C1": True, "C2": False, "C3": True}
    as_of = dt.datetime(2026, 2, 15)
    # as of Feb 15 (events after it ignored): cutoff Jan 16; C1 was active on Feb 1
    assert _flags(ws, ChurnDefinition(inactivity_days=30, as_of=as_of)) == {"C1": False, "C2": True, "C3": True}


def test_last_touchpoint_is_strictly_before_churn(tiny) -> None:  # noqa: ANN001
    ws, jmap = tiny
    section = churn_section(ws.store.ibis(), jmap, churn_event="cancel")
    assert (section["customers"], section["churned"]) == (4, 2)
    last = {r["touchpoint"]: (r["customers"], r["churned"]) for r in section["by_last_touchpoint"]}
    # C1: use (Jan 5) before cancel; C3: setup (use at the same moment as cancel is not before);
    # C2: use; C4: signup
    assert last == {"usage": (2, 1), "setup": (1, 1), "signup": (1, 0)}
    exits = {(r["stage"], r["touchpoint"]): (r["customers"], r["churned"]) for r in section["by_stage_exit"]}
    assert exits[("start", "signup")] == (2, 1)  # C1 never set up and churned; C4 did not
    assert exits[("start", "setup")] == (2, 1)
    assert [r["stage"] for r in section["by_stage_exit"]][0] == "start"
    assert all("p_bh" in r for r in section["by_stage_exit"])


def test_unknown_churn_event_is_a_one_line_error(tiny) -> None:  # noqa: ANN001
    ws, jmap = tiny
    with pytest.raises(JourneymapError, match="event 'cancelled' does not occur"):
        churn_section(ws.store.ibis(), jmap, churn_event="cancelled")


def test_planted_sme_stall_shows_in_churn_tables(engine_demo_root: Path) -> None:
    with Workspace.open(engine_demo_root) as ws:
        jmap = ws.load_map("sme-onboarding-churn")
        section = churn_section(
            ws.store.ibis(), jmap, churn_event="subscription_cancelled",
            eligible_events=["subscription_renewed"], exclude_events=["renewal_reminder_sent"],
            by=[Segment("stalled", "n_data_import_started >= 1 and n_data_import_completed == 0"),
                Segment("completed", "n_data_import_completed >= 1")],
        )
    # The demo map gives activation (first report) its own stage, so the stall is the
    # step from onboarding to activation: customers who stopped there churn far more.
    exits = {(r["stage"], r["touchpoint"]): r for r in section["by_stage_exit"]}  # type: ignore[union-attr]
    assert ("onboarding", "data_import") in exits
    segments = {r["segment"]: r for r in section["by_segment"]}  # type: ignore[union-attr]
    assert segments["stalled"]["significant"] and segments["stalled"]["value"] > 0.45
    assert segments["completed"]["value"] < 0.3
