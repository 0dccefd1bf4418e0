"""The four ways the stage funnel counts a customer (map field ``stage_reach``), on five
hand-written journeys whose furthest, first, last and visited stages all differ."""

from __future__ import annotations

import pytest

from journeymap.engine.analyze import analyze_map
from journeymap.model import load_map_text
from journeymap.workspace import Workspace

MAP = """id: reach
title: Reach
goal: {statement: count customers per stage four ways}
persona: {name: Anyone}
scenario: s
stages:
  - {id: sa, name: A, touchpoints: [{id: a, name: a, channel: web, match: a}]}
  - {id: sb, name: B, touchpoints: [{id: b, name: b, channel: web, match: b}]}
  - {id: sc, name: C, touchpoints: [{id: c, name: c, channel: web, match: c}]}
"""
#: furthest / first / last stage index: u1 2/0/2, u2 2/0/1, u3 1/1/1, u4 2/2/0, u5 0/0/0
JOURNEYS = {"u1": "abc", "u2": "acb", "u3": "b", "u4": "ca", "u5": "a"}

#: reach: (customers per stage, lost per stage, conversion to the next stage)
EXPECTED = {
    "furthest": ([5, 4, 3], [1, 1, 0], [4 / 5, 3 / 4, None]),
    "first": ([5, 2, 1], [3, 1, 0], [2 / 5, 1 / 2, None]),
    "last": ([5, 3, 1], [2, 2, 0], [3 / 5, 1 / 3, None]),
    # visited: A has u1 u2 u4 u5, B u1 u2 u3, C u1 u2 u4; moved on = also visits the next
    "visited": ([4, 3, 3], [2, 1, 0], [2 / 4, 2 / 3, None]),
}


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("reach")
    lines = ["customer_id,timestamp,event"]
    for c, (cid, steps) in enumerate(JOURNEYS.items()):
        lines += [f"{cid},2026-03-0{c + 1}T1{i}:00:00Z,{e}" for i, e in enumerate(steps)]
    (root / "e.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    w = Workspace.create(root / "ws")
    w.ingest("events", [root / "e.csv"])
    return w


@pytest.mark.parametrize("reach", list(EXPECTED))
def test_stage_reach(ws: Workspace, reach: str) -> None:
    jmap = load_map_text(MAP + f"stage_reach: {reach}\n", "reach.yaml")
    stages = analyze_map(ws.store.ibis(), jmap, sections=("stages",))["stages"]
    customers, lost, conversion = EXPECTED[reach]
    assert [s["customers"] for s in stages] == customers
    assert [s["lost"] for s in stages] == lost
    assert [s["conversion_to_next"] for s in stages] == pytest.approx(conversion)
    assert [s["visited"] for s in stages] == [4, 3, 3]  # the same whatever the reach
