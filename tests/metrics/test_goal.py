"""Goal tracking: hand-computed values on a tiny workspace, and the demo's goals."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeymap.metrics.goal import goal_section
from journeymap.metrics.intervals import wilson
from journeymap.model.document import GoalKpi
from journeymap.workspace import Workspace

from .tiny import tiny_workspace


@pytest.fixture
def tiny(tmp_path: Path):  # noqa: ANN201
    ws = tiny_workspace(tmp_path / "ws")
    yield ws
    ws.close()


def _with_kpi(ws: Workspace, **kpi: object):  # noqa: ANN202
    jmap = ws.load_map("tiny")
    return jmap.model_copy(update={"goal": jmap.goal.model_copy(update={"kpi": GoalKpi(**kpi)})})


def test_conversion_by_hand(tiny: Workspace) -> None:
    # four customers touch the map in January 2026; A and B buy
    s = goal_section(tiny.store.ibis(), tiny.load_map("tiny"), maturity_days=0)
    assert s["current"]["n"] == 4 and s["current"]["value"] == 0.5
    assert (s["current"]["ci_low"], s["current"]["ci_high"]) == tuple(round(v, 4) for v in wilson(2, 4))
    assert s["status"] == "achieved" and s["on_track"] is True
    assert [m["period"] for m in s["monthly"]] == ["2026-01"]


def test_immature_cohorts_are_left_out(tiny: Workspace) -> None:
    s = goal_section(tiny.store.ibis(), tiny.load_map("tiny"), maturity_days=90)
    assert s["status"] == "no_data"


def test_churn_rate_among_customers_at_the_decision_touchpoint(tiny: Workspace) -> None:
    # 'shop' is the touchpoint whose rule names the goal event 'buy': A, B, C reach it; C does not buy
    jmap = _with_kpi(tiny, metric="churn_rate", baseline=0.5, target=0.2, direction="decrease")
    s = goal_section(tiny.store.ibis(), jmap)
    assert (s["current"]["n"], s["current"]["value"]) == (3, round(1 / 3, 4))
    assert s["status"] == "off_target"  # one month: no trend to project


def test_feedback_goal(tiny: Workspace) -> None:
    jmap = _with_kpi(tiny, metric="nps", baseline=0, target=30)
    s = goal_section(tiny.store.ibis(), jmap)
    assert s["current"]["value"] == 25.0 and s["current"]["n"] == 4


def test_unknown_metric_is_not_measured_and_says_why(tiny: Workspace) -> None:
    s = goal_section(tiny.store.ibis(), _with_kpi(tiny, metric="daily_active_share", target=0.6))
    assert s["status"] == "not_measured" and "daily_active_share" in s["reason"]


def test_demo_goals(demo: Workspace) -> None:
    con = demo.store.ibis()
    churn = goal_section(con, demo.load_map("sme-onboarding-churn"))
    assert churn["metric"] == "churn_rate" and churn["current"]["n"] > 50
    assert 0.1 < churn["current"]["value"] < 0.6
    assert churn["status"] in {"on_track", "off_track", "achieved"}
    if churn["status"] != "achieved":
        projected = churn["current"]["value"] + churn["trend_per_month"] * churn["months_to_deadline"]
        assert churn["projected_at_deadline"] == pytest.approx(min(1, max(0, projected)), abs=1e-3)
    conversion = goal_section(con, demo.load_map("enterprise-acquisition"))
    assert conversion["metric"] == "conversion" and len(conversion["monthly"]) >= 6
    assert goal_section(con, demo.load_map("day-in-the-life"))["status"] == "not_measured"
