"""Stage conversion per month (what conversion-drop alerts compare), on a log whose
answer is known by construction: windows, skipped stages, stages out of order, and
months too young to have had the whole window."""

from __future__ import annotations

from pathlib import Path

from journeymap.workspace import Workspace

MAP = """\
journeymap: 1
id: three
title: Three steps
scope: a, then b, then c
goal: {statement: Customers reach c}
persona: {name: Anyone}
scenario: Someone walks a, b, c.
stages:
  - {id: a, name: A, touchpoints: [{id: ta, name: TA, channel: web, match: a}]}
  - {id: b, name: B, touchpoints: [{id: tb, name: TB, channel: web, match: b}]}
  - {id: c, name: C, touchpoints: [{id: tc, name: TC, channel: web, match: c}]}
"""

EVENTS = """customer_id,timestamp,event
u1,2026-01-10T09:00:00Z,a
u1,2026-01-20T09:00:00Z,b
u2,2026-01-15T09:00:00Z,a
u2,2026-03-01T09:00:00Z,b
u3,2026-01-20T09:00:00Z,a
u3,2026-02-05T09:00:00Z,c
u4,2026-02-03T09:00:00Z,a
u5,2026-03-28T09:00:00Z,a
u5,2026-04-15T09:00:00Z,b
u6,2026-04-02T09:00:00Z,a
u6,2026-04-03T09:00:00Z,b
u7,2026-01-25T09:00:00Z,b
u7,2026-02-10T09:00:00Z,a
u8,2026-05-20T09:00:00Z,a
"""


def test_conversion_within_the_window_per_complete_month(tmp_path: Path) -> None:
    with Workspace.create(tmp_path / "ws") as ws:
        (ws.maps_dir / "three.yaml").write_text(MAP, encoding="utf-8")
        events = tmp_path / "e.csv"
        events.write_text(EVENTS)
        ws.ingest("events", [events])
        got = ws.analyze("three", sections=["stage_periods"])["stage_periods"]
    assert (got["window_days"], got["period"], got["data_end"]) == (30, "month", "2026-05-20T09:00:00Z")
    # data end minus 30 days is 2026-04-20: March is the last month whose customers all had 30 days
    counts = {stage: {m: (p["n"], p["converted"]) for m, p in block["periods"].items()}
              for stage, block in got["stages"].items()}
    assert counts == {
        # Jan: u1 (b after 10 days), u2 (b after 45: too late), u3 (skips b, c after 16 days)
        # Feb: u4 (nothing after), u7 (its b came before its a); Mar: u5 (b after 18 days)
        "a": {"2026-01": (3, 2), "2026-02": (2, 0), "2026-03": (1, 1)},
        "b": {"2026-01": (2, 0), "2026-03": (1, 0)},
    }
    assert got["stages"]["a"]["next"] == "b"
    jan = got["stages"]["a"]["periods"]["2026-01"]
    assert jan["ci_low"] < jan["value"] < jan["ci_high"] and abs(jan["value"] - 2 / 3) < 1e-9
