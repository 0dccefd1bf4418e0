"""Paths of converted and dropped customers, and the steps around a touchpoint, from
``analyze_map`` (CLI: --paths-to / --paths-from), agree with the funnel and the
journeys they come from."""

from __future__ import annotations

import pytest

from journeymap.engine.analyze import analyze_map
from journeymap.engine.journeys import ScopeError
from journeymap.model import load_map_text
from journeymap.workspace import Workspace

from tests.engine.test_parity import MAP


def test_outcome_paths_add_up_to_the_funnel(parity_workspace: Workspace) -> None:
    jmap = load_map_text(MAP, "parity.yaml")
    out = analyze_map(parity_workspace.store.ibis(), jmap, top_paths=10_000,
                      sections=("funnel", "outcome_paths"))
    steps, outcome = out["funnel"], out["outcome_paths"]
    assert outcome["step"] == steps[-1]["step"] == "leave"
    converted = sum(p["customers"] for p in outcome["converted"])
    dropped = sum(p["customers"] for p in outcome["dropped"])
    assert converted == steps[-1]["customers"] == outcome["converted_customers"] > 0
    assert dropped == steps[0]["customers"] - steps[-1]["customers"] == outcome["dropped_customers"] > 0
    assert sum(p["share"] for p in outcome["dropped"]) == pytest.approx(1.0)
    # a converted customer's path reaches the last stage's touchpoint, unless cut at 6 steps
    assert all("cancel" in p["path"] or len(p["path"]) == 6 for p in outcome["converted"])
    # (a dropped customer may cancel too: without passing the pay stage first)


def test_paths_around_a_touchpoint(parity_workspace: Workspace) -> None:
    jmap = load_map_text(MAP, "parity.yaml")
    out = analyze_map(parity_workspace.store.ibis(), jmap, paths_to="upgrade",
                      paths_from="signup", around_steps=2, top_paths=10_000,
                      sections=("paths_to", "paths_from", "touchpoints"))
    reach = {t["id"]: t["customers"] for t in out["touchpoints"]}
    assert all(p["path"][-1] == "upgrade" and len(p["path"]) <= 3 for p in out["paths_to"])
    assert all(p["path"][0] == "signup" and len(p["path"]) <= 3 for p in out["paths_from"])
    assert sum(p["customers"] for p in out["paths_to"]) == reach["upgrade"]
    assert sum(p["customers"] for p in out["paths_from"]) == reach["signup"]


def test_paths_around_an_unknown_touchpoint(parity_workspace: Workspace) -> None:
    jmap = load_map_text(MAP, "parity.yaml")
    with pytest.raises(ScopeError, match="paths around 'nope': no such touchpoint in map 'parity'"):
        analyze_map(parity_workspace.store.ibis(), jmap, paths_to="nope")
