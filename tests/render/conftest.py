"""Shared fixtures: the demo maps and templates, a hand-made analysis with known
numbers, one Chromium per session, and one small workspace with real data."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from journeymap.model import load_map, load_map_text
from journeymap.model.document import JourneyMap
from journeymap.model.templates import FUTURE_STATE, future_state, list_templates, template_text

DEMO_MAPS = resources.files("journeymap.demo").joinpath("maps")


def demo_map(name: str) -> JourneyMap:
    return load_map(Path(str(DEMO_MAPS.joinpath(f"{name}.yaml"))))


def all_maps() -> dict[str, JourneyMap]:
    maps = {p.name.removesuffix(".yaml"): load_map(Path(str(p))) for p in DEMO_MAPS.iterdir()
            if p.name.endswith(".yaml")}
    for t in list_templates():
        if t.name != FUTURE_STATE:
            maps[f"template-{t.name}"] = load_map_text(template_text(t.name, f"t-{t.name}"))
    maps["template-future-state"] = load_map_text(future_state(maps["enterprise-acquisition"], "enterprise-future"))
    return maps


def sme_analysis() -> dict[str, Any]:
    """An analysis of the SME demo map in the shapes the engine and sections produce."""
    return {
        "scope": {"events": 56004, "customers": 1606, "segment_customers": 1606, "notices": []},
        "stages": [
            {"id": "signup", "customers": 1058, "conversion_to_next": 0.64, "median_seconds_in_stage": 600677.5},
            {"id": "onboarding", "customers": 677, "conversion_to_next": 0.98},
            {"id": "adoption", "customers": 662, "conversion_to_next": 0.74},
            {"id": "renewal", "customers": 469},
        ],
        "touchpoints": [
            {"id": "trial", "events": 1058, "customers": 1058},
            {"id": "data_import", "events": 1708, "customers": 625},
            {"id": "support_chat", "events": 495, "customers": 334},
        ],
        "feedback": {
            "journey": {"nps": {"metric": "nps", "n": 247, "value": 26.3, "ci_low": 14.1, "ci_high": 38.0,
                                "unit": "points", "mean": {"value": 7.8}}},
            "touchpoints": {
                "data_import": {"csat": {"metric": "csat", "n": 381, "value": 0.48, "ci_low": 0.43,
                                         "ci_high": 0.53, "unit": "share",
                                         "mean": {"value": 3.17, "ci_low": 3.03, "ci_high": 3.32}}},
                "support_chat": {"csat": {"metric": "csat", "n": 187, "value": 0.22, "ci_low": 0.17,
                                          "ci_high": 0.29, "unit": "share",
                                          "mean": {"value": 2.38, "ci_low": 2.2, "ci_high": 2.57}}},
            },
            "stages": {},
            "periods": {"2026-01": {"journey": {"nps": {"value": 20.0, "n": 40}}},
                        "2026-02": {"journey": {"nps": {"value": 30.0, "n": 45}}}},
        },
        "emotion": {"stages": [
            {"stage": "signup", "value": 1, "n": 0, "assumed": True},
            {"stage": "onboarding", "value": -0.62, "n": 921, "interval": [-0.7, -0.54], "assumed": False},
            {"stage": "adoption", "value": 0.25, "n": 1365, "interval": [0.2, 0.3], "assumed": False},
        ]},
        "stage_transitions": [
            {"from": "START", "to": "signup", "customers": 1058},
            {"from": "signup", "to": "onboarding", "customers": 677},
            {"from": "signup", "to": "END", "customers": 381},
            {"from": "onboarding", "to": "adoption", "customers": 662},
            {"from": "adoption", "to": "renewal", "customers": 469},
            {"from": "renewal", "to": "adoption", "customers": 200},
        ],
        "funnel": [
            {"step": "signup", "customers": 1058, "dropped_next": [{"to": "END", "customers": 381}]},
            {"step": "onboarding", "customers": 645, "dropped_next": []},
            {"step": "adoption", "customers": 634, "dropped_next": []},
            {"step": "renewal", "customers": 469, "dropped_next": []},
        ],
        "paths": [{"path": ["trial", "END"], "customers": 381, "share": 0.36}],
        "outcome_paths": {
            "step": "renewal", "converted_customers": 469, "dropped_customers": 589,
            "converted": [{"path": ["trial", "checkout", "data_import", "first_value"],
                           "customers": 300, "share": 300 / 469}],
            "dropped": [{"path": ["trial", "END"], "customers": 381, "share": 381 / 589}],
        },
        "decay_points": [{"stage": "signup", "touchpoint": "trial", "customers": 381, "share_of_stage": 0.36}],
        "themes": {"themes": [{"label": "import · date · column", "quotes": ["The import rejects my dates"],
                               "concentrated_on": ["data_import"]}]},
        "unmatched": {"events": 9654, "examples": [{"event": "pricing_page_view", "events": 2961}]},
    }


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session."""
    from journeymap.render.browser import chromium

    with chromium() as b:
        yield b


@pytest.fixture(scope="session")
def small_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A workspace with 300 demo customers and the three demo maps."""
    from journeymap.demo.generate import generate_demo
    from journeymap.workspace import Workspace

    ws = Workspace.create(tmp_path_factory.mktemp("render") / "ws")
    files = generate_demo(ws.root, customers=300, seed=11)
    for kind in ("customers", "events", "feedback", "transactions", "transcripts"):
        ws.ingest(kind, [getattr(files, kind)])
    for p in DEMO_MAPS.iterdir():
        if p.name.endswith(".yaml"):
            shutil.copy(Path(str(p)), ws.maps_dir / p.name)
    with ws:
        yield ws
