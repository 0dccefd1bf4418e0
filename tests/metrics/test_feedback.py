"""Feedback KPIs: hand-computed values on a tiny workspace, planted effects on the demo."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeymap.metrics.feedback import feedback_section
from journeymap.metrics.intervals import mean_interval, nps_interval, wilson
from journeymap.workspace import Workspace

from .tiny import tiny_workspace


@pytest.fixture
def tiny(tmp_path: Path):  # noqa: ANN201
    ws = tiny_workspace(tmp_path / "ws")
    yield ws
    ws.close()


def test_kpis_by_hand(tiny: Workspace) -> None:
    s = feedback_section(tiny.store.ibis(), tiny.load_map("tiny"))
    csat = s["touchpoints"]["shop"]["csat"]  # 5, 4 (tied by its event 'buy'), 2
    assert (csat["n"], csat["value"]) == (3, round(2 / 3, 4))
    assert (csat["ci_low"], csat["ci_high"]) == tuple(round(v, 4) for v in wilson(2, 3))
    assert csat["small_sample"] is True
    assert csat["mean"]["value"] == pytest.approx(11 / 3, abs=1e-4)
    ces = s["touchpoints"]["ad"]["ces"]  # 2 (tied by its event), 6
    assert (ces["n"], ces["value"]) == (2, 4.0)
    assert ces["ci_low"] == pytest.approx(mean_interval(2, 8, 40)[1], abs=1e-4)
    assert ces["high_effort_share"]["value"] == 0.5
    nps = s["journey"]["nps"]  # 10, 9 promoters; 7 passive; 3 detractor: (2 - 1) / 4
    assert nps["value"] == 25.0
    assert (nps["ci_low"], nps["ci_high"]) == tuple(round(v, 2) for v in nps_interval(2, 1, 1))
    assert s["stages"]["buy"]["csat"]["n"] == 3
    assert s["journey"]["csat"]["n"] == 4  # includes the answer tied to another map's touchpoint
    assert s["answers"] == {"total": 10, "tied_to_touchpoint": 5, "relationship": 4, "other_touchpoints": 1}


def test_segments_and_periods(tiny: Workspace) -> None:
    s = feedback_section(tiny.store.ibis(), tiny.load_map("tiny"), segment_by="segment")
    assert s["segments"]["SME"]["touchpoints"]["shop"]["csat"]["value"] == 1.0
    assert s["segments"]["Enterprise"]["touchpoints"]["shop"]["csat"]["value"] == 0.0
    assert s["periods"]["2026-01"]["touchpoints"]["shop"]["csat"]["n"] == 2
    assert s["periods"]["2026-02"]["journey"]["nps"]["n"] == 4


def test_breakdown_defaults_to_the_persona_attribute(tiny: Workspace) -> None:
    jmap = tiny.load_map("tiny")
    plain = jmap.model_copy(update={"persona": jmap.persona.model_copy(update={"segment": None})})
    assert feedback_section(tiny.store.ibis(), plain)["segments"] == {}  # no rule, no --by: no breakdown
    persona = jmap.model_copy(update={"persona": jmap.persona.model_copy(update={"segment": "segment == 'SME'"})})
    s = feedback_section(tiny.store.ibis(), persona)
    assert s["segment_by"] == "segment" and set(s["segments"]) == {"SME"}  # the persona is SME only


def test_relationship_nps_split_by_touchpoint_reached_before(tiny: Workspace) -> None:
    s = feedback_section(tiny.store.ibis(), tiny.load_map("tiny"))
    ad = s["after_touchpoint"]["ad"]["nps"]  # A (10) and C (3) saw the ad; B (9), D (7) did not
    assert ad["reached"]["n"] == 2 and ad["reached"]["value"] == 0.0
    assert ad["not_reached"]["n"] == 2 and ad["not_reached"]["value"] == 50.0
    assert ad["difference"] == -50.0


def test_every_kpi_carries_n_and_interval(tiny: Workspace) -> None:
    s = feedback_section(tiny.store.ibis(), tiny.load_map("tiny"))
    for block in [s["journey"], *s["touchpoints"].values(), *s["stages"].values()]:
        for k in block.values():
            assert {"n", "value", "ci_low", "ci_high", "small_sample"} <= set(k)


# --- the demo's planted effects ------------------------------------------------------

def _no_persona(ws: Workspace, map_id: str):  # noqa: ANN202
    jmap = ws.load_map(map_id)
    return jmap.model_copy(update={"persona": jmap.persona.model_copy(update={"segment": None})})


def test_demo_sme_onboarding_csat_is_low(demo: Workspace) -> None:
    s = feedback_section(demo.store.ibis(), _no_persona(demo, "sme-onboarding-churn"), segment_by="segment")
    sme = s["segments"]["SME"]["touchpoints"]["data_import"]["csat"]
    ent = s["segments"]["Enterprise"]["touchpoints"]["data_import"]["csat"]
    assert sme["ci_high"] < ent["ci_low"]
    assert sme["mean"]["value"] < 3.4 < ent["mean"]["value"]


def test_demo_chat_csat_far_below_phone(demo: Workspace) -> None:
    s = feedback_section(demo.store.ibis(), _no_persona(demo, "sme-onboarding-churn"))
    chat, call = s["touchpoints"]["support_chat"]["csat"], s["touchpoints"]["support_call"]["csat"]
    assert chat["ci_high"] < call["ci_low"]
    assert call["value"] - chat["value"] > 0.4


def test_demo_support_tickets_lower_nps(demo: Workspace) -> None:
    s = feedback_section(demo.store.ibis(), _no_persona(demo, "sme-onboarding-churn"))
    ticket = s["after_touchpoint"]["support_ticket"]["nps"]
    assert ticket["difference"] < -15
    assert ticket["reached"]["ci_high"] < ticket["not_reached"]["value"]
