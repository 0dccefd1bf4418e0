"""Pain points and opportunities: the rules by hand on small counts, and the demo's
planted problems ranked first (2,000-customer demo, checked against ground_truth.json)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from journeymap.analysis import section_names
from journeymap.engine import stats
from journeymap.metrics.insight import InsightOptions, feedback_candidates, find_insight
from journeymap.metrics.opportunities import PERSONA, REST, Behaviour, driver_candidates
from journeymap.model.document import JourneyMap
from journeymap.workspace import Workspace

MAP = {
    "id": "m", "title": "M", "scenario": "Buys.", "goal": {"statement": "Sell", "event": "buy"},
    "persona": {"name": "P", "segment": "segment == 'SME'"},
    "stages": [
        {"id": "s1", "name": "S1", "touchpoints": [
            {"id": "a", "name": "A", "channel": "web", "match": {"event": "a"}},
            {"id": "b", "name": "B", "channel": "web", "match": {"event": "b"}}]},
        {"id": "s2", "name": "S2", "touchpoints": [
            {"id": "c", "name": "C", "channel": "web", "match": {"event": "buy"}}]},
    ],
}


def _map() -> JourneyMap:
    return JourneyMap.model_validate(MAP)


def _kpi(n: int, satisfied: int) -> dict[str, Any]:
    return {"n": n, "satisfied": satisfied, "value": satisfied / n, "ci_low": None, "ci_high": None}


def test_low_csat_against_the_rest_of_the_journey_by_hand() -> None:
    feedback = {"journey": {"csat": _kpi(300, 200)},
                "touchpoints": {"a": {"csat": _kpi(100, 40)}, "b": {"csat": _kpi(200, 160)}}}
    got = {c["target"]: c for c in feedback_candidates(feedback, {"a": 500, "b": 800})}
    a = got["a"]
    # not satisfied: a 60/100, the rest of the journey 40/200
    assert a["evidence"]["value"] == pytest.approx(0.6)
    assert a["evidence"]["baseline"] == pytest.approx(0.2)
    assert a["evidence"]["p_value"] == pytest.approx(stats.two_proportion_z(60, 100, 40, 200).p_value)
    assert a["effect"] == pytest.approx(0.4) and a["customers"] == 500
    assert got["b"]["direction"] < 0  # b is better than its baseline: never a pain point


def test_negative_sentiment_and_ranking_by_impact() -> None:
    emotion = {"touchpoints": [
        {"touchpoint": "a", "sentiment": {"n": 200, "negative_share": 0.5}},
        {"touchpoint": "b", "sentiment": {"n": 400, "negative_share": 0.1}}]}
    feedback = {"journey": {"csat": _kpi(300, 200)},
                "touchpoints": {"a": {"csat": _kpi(100, 40)}, "b": {"csat": _kpi(200, 160)}}}
    analysis = {"feedback": feedback, "emotion": emotion,
                "touchpoints": [{"id": "a", "customers": 500}, {"id": "b", "customers": 800}]}
    pains, _ = find_insight(analysis, _map(), None)
    assert [p["target"] for p in pains] == ["a"]
    a = pains[0]
    # impact = customers × effect: low CSAT 500 × 0.4 = 200 beats sentiment 500 × (0.5 − 0.1) = 200? equal:
    # the first found is kept, the other one is listed under related
    assert a["score"] == pytest.approx(200.0)
    assert {a["kind"], *(r["kind"] for r in a["related"])} == {"low_csat", "negative_sentiment"}
    assert a["evidence"]["p_adjusted"] < 0.05 and a["evidence"]["test"] == "two-proportion z"


def test_minimum_n_and_multiple_testing() -> None:
    feedback = {"journey": {"csat": _kpi(40, 30)},
                "touchpoints": {"a": {"csat": _kpi(10, 2)}, "b": {"csat": _kpi(30, 28)}}}
    analysis = {"feedback": feedback, "touchpoints": []}
    pains, _ = find_insight(analysis, _map(), None, InsightOptions(min_n=30))
    assert pains == []  # a is worse, but on 10 answers


def test_conversion_driver_gain_and_gates() -> None:
    b = Behaviour(customers=1000, converted=200, goal_touchpoints=("c",))
    b.drivers = {"a": {"did": 200, "did_goal": 100},   # 50 % vs 100/800 = 12.5 %
                 "b": {"did": 900, "did_goal": 190},   # 95 % of converters had it: a gate
                 "c": {"did": 200, "did_goal": 200}}   # the goal itself
    got = driver_candidates(b, _map(), min_n=30)
    assert [d["target"] for d in got] == ["a"]
    assert got[0]["gain"]["customers"] == round(800 * (0.5 - 0.125))


def test_drop_off_against_the_other_segment() -> None:
    b = Behaviour(typical_gap=None, rest_label="not segment == 'SME'")
    b.touchpoints = {PERSONA: {"a": {"stage": "s1", "customers": 400, "went_on": 200, "repeated": 0}},
                     REST: {"a": {"stage": "s1", "customers": 300, "went_on": 270, "repeated": 0}}}
    b.stages = {PERSONA: {"s1": {"customers": 400, "went_on": 200}}}
    pains, opps = find_insight({"touchpoints": [{"id": "a", "customers": 400}]}, _map(), b)
    p = pains[0]
    assert (p["target"], p["kind"]) == ("a", "drop_off")
    assert p["evidence"]["value"] == pytest.approx(0.5) and p["evidence"]["baseline"] == pytest.approx(0.1)
    assert p["score"] == pytest.approx(400 * 0.4)
    assert opps[0]["estimated_gain"]["customers"] == 160 and opps[0]["estimated_gain"]["moves_goal"]


@pytest.fixture(scope="module")
def demo(demo_2k) -> Iterator[tuple[Workspace, dict[str, Any]]]:  # noqa: ANN001 - DemoData
    with Workspace.open(demo_2k.root) as ws:
        yield ws, {e["id"]: e for e in demo_2k.truth["effects"]}


@pytest.fixture(scope="module")
def sme(demo: tuple[Workspace, dict[str, Any]]) -> dict[str, Any]:
    # every section a page shows (quotes come from themes), without CLV and clusters
    wanted = [s for s in section_names() if s not in ("clv", "clusters", "cohorts")]
    return demo[0].analyze("sme-onboarding-churn", sections=wanted)


@pytest.fixture(scope="module")
def enterprise(demo: tuple[Workspace, dict[str, Any]]) -> dict[str, Any]:
    return demo[0].analyze("enterprise-acquisition", fast=True)


@pytest.mark.slow
def test_sme_top_three_has_the_import_stall_and_chat_support(
        demo: tuple[Workspace, dict[str, Any]], sme: dict[str, Any]) -> None:
    effects = demo[1]
    top = [p["target"] for p in sme["pain_points"][:3]]
    assert effects["sme_onboarding_stall"]["touchpoint"] in top
    assert effects["chat_support_negative"]["touchpoint"] in top
    stall = next(p for p in sme["pain_points"] if p["target"] == "data_import")
    e = stall["evidence"]
    assert e["p_adjusted"] < 0.05 and e["n"] >= 30 and e["value"] > e["baseline"]
    assert e["ci"][0] <= e["value"] <= e["ci"][1]
    chat = next(p for p in sme["pain_points"] if p["target"] == "support_chat")
    assert chat["evidence"]["quotes"]  # what customers said there


@pytest.mark.slow
def test_sme_slow_support_lowers_nps(demo: tuple[Workspace, dict[str, Any]], sme: dict[str, Any]) -> None:
    target = demo[1]["slow_support_lowers_nps"]["touchpoint"]
    ranked = [p["target"] for p in sme["pain_points"]]
    assert target in ranked[:5]
    found = sme["pain_points"][ranked.index(target)]
    kinds = {found["kind"], *(r["kind"] for r in found["related"])}
    assert "low_nps_after" in kinds


@pytest.mark.slow
def test_enterprise_proposal_decay_and_webinar_opportunity(
        demo: tuple[Workspace, dict[str, Any]], enterprise: dict[str, Any]) -> None:
    effects = demo[1]
    assert effects["enterprise_proposal_decay"]["touchpoint"] in [p["target"] for p in enterprise["pain_points"][:3]]
    decay = next(p for p in enterprise["pain_points"] if p["target"] == "proposal")
    assert decay["evidence"]["median_seconds"] > 4 * decay["evidence"]["typical_seconds"]
    top = enterprise["opportunities"][0]
    driver = effects["webinar_drives_enterprise_conversion"]
    assert (top["target"], top["kind"]) == (driver["touchpoint"], "conversion_driver")
    e = top["evidence"]
    assert e["value"] / e["baseline"] == pytest.approx(driver["expected"]["lift"], abs=3 * driver["tolerance"]["lift"])
    assert top["estimated_gain"]["customers"] > 0


@pytest.mark.slow
def test_every_pain_point_carries_its_evidence(sme: dict[str, Any], enterprise: dict[str, Any]) -> None:
    for result in (sme, enterprise):
        scores = [p["score"] for p in result["pain_points"]]
        assert scores and all(s > 0 for s in scores)
        for p in result["pain_points"]:
            e = p["evidence"]
            for key in ("metric", "value", "baseline", "n", "ci", "test", "p_value", "p_adjusted", "quotes", "paths"):
                assert key in e, key
            assert e["p_adjusted"] < 0.05 and e["p_adjusted"] >= e["p_value"]
            assert e["p_value"] > 0 or e["statistic"] is None or abs(e["statistic"]) > 30  # not rounded away
        json.dumps(result, allow_nan=False, default=str)


@pytest.mark.slow
def test_sections_side_by_side_equal_one_by_one(demo: tuple[Workspace, dict[str, Any]]) -> None:
    """The metrics and text sections run side by side on DuckDB's threads; with one
    thread they run one after the other, and every number is the same."""
    ws = demo[0]
    side_by_side = ws.analyze("sme-onboarding-churn")
    threads = ws.store.con.execute("SELECT current_setting('threads')").fetchone()[0]
    ws.store.con.execute("SET threads = 1")
    try:
        one_by_one = ws.analyze("sme-onboarding-churn")
    finally:
        ws.store.con.execute(f"SET threads = {int(threads)}")
    assert side_by_side == one_by_one
    assert {"churn", "attribution", "feedback", "emotion", "themes", "clv"} <= side_by_side.keys()


#: DESIGN §3.3: the keys every row carries ("these keys at least").
CONTRACT_ROWS = {
    "stages": {"id", "name", "customers", "conversion_to_next", "median_seconds_in_stage"},
    "touchpoints": {"id", "stage", "channel", "events", "customers", "csat", "nps", "ces", "sentiment"},
    "transitions": {"from", "to", "count", "customers", "median_seconds"},
    "paths": {"path", "customers", "share"},
    "funnel": {"step", "customers", "conversion"},
    "pain_points": {"target", "kind", "score", "evidence"},
}


@pytest.mark.parametrize("which", ["sme", "enterprise"])
def test_analysis_follows_the_design_contract(which: str, request: pytest.FixtureRequest) -> None:
    """analyze's output has the keys of DESIGN §3.3 with the types the page reads by name
    (journeymap.model.analysis_output), and a touchpoint carries its feedback KPIs."""
    from journeymap.model.analysis_output import AnalysisError, parse_analysis

    result = request.getfixturevalue(which)
    assert parse_analysis(result) is not None
    assert {"map", "unmatched", "segments", *CONTRACT_ROWS} <= result.keys()
    assert {"id", "title", "type"} <= result["map"].keys()
    assert {"events", "examples"} <= result["unmatched"].keys()
    for key, fields in CONTRACT_ROWS.items():
        assert result[key], key
        for row in result[key]:
            assert fields <= row.keys(), (key, fields - row.keys())
    answered = [t for t in result["touchpoints"] if t["csat"] is not None]
    assert answered and all(t["csat"]["n"] > 0 and t["csat"]["ci_low"] <= t["csat"]["value"]
                            for t in answered)
    for t in answered:
        assert t["csat"] == result["feedback"]["touchpoints"][t["id"]]["csat"]
    broken = json.loads(json.dumps(result))
    broken["transitions"][0]["from"] = 7
    with pytest.raises(AnalysisError, match=r"transitions\[0\]\.from"):
        parse_analysis(broken)
