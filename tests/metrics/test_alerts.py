"""Decay alerts (issue 13, point 6): a planted decay fires, noise does not — the
correction for the number of touchpoints watched is what keeps noise quiet."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from journeymap.metrics.alerts import ALPHA, decay_alerts

TOUCHPOINTS = [f"tp{i}" for i in range(15)]


def _csat(rng: np.random.Generator, n: int, p: float) -> dict[str, float]:
    k = int(rng.binomial(n, p))
    v = k / n
    h = 1.96 * math.sqrt(v * (1 - v) / n)
    return {"n": n, "kind": "share", "value": v, "satisfied": k, "ci_low": v - h, "ci_high": v + h}


def _nps(rng: np.random.Generator, n: int, pp: float, pd: float) -> dict[str, float]:
    prom, det, _ = rng.multinomial(n, [pp, pd, 1 - pp - pd])
    v = (prom - det) / n * 100
    se = math.sqrt(((prom + det) / n - ((prom - det) / n) ** 2) / n) * 100
    return {"n": n, "value": v, "promoters": int(prom), "detractors": int(det), "ci_low": v - 1.96 * se,
            "ci_high": v + 1.96 * se}


def _ces(rng: np.random.Generator, n: int, mean: float) -> dict[str, float]:
    x = np.clip(rng.normal(mean, 1.4, n).round(), 1, 7)
    se = x.std(ddof=1) / math.sqrt(n)
    return {"n": n, "kind": "mean", "value": float(x.mean()), "ci_low": float(x.mean() - 1.96 * se),
            "ci_high": float(x.mean() + 1.96 * se)}


def _period(rng: np.random.Generator, csat_of: dict[str, float] | None = None) -> dict[str, object]:
    csat_of = csat_of or {}
    return {"journey": {"nps": _nps(rng, 400, 0.45, 0.2)},
            "touchpoints": {tp: {"csat": _csat(rng, 120, csat_of.get(tp, 0.8)), "nps": _nps(rng, 80, 0.4, 0.2),
                                 "ces": _ces(rng, 60, 3.0)} for tp in TOUCHPOINTS}}


def test_a_planted_decay_fires_with_its_evidence() -> None:
    rng = np.random.default_rng(1)
    feedback = {"periods": {"2026-09": _period(rng), "2026-10": _period(rng, {"tp7": 0.45})}}
    out = decay_alerts(feedback)
    assert out["tests"] == 1 + 3 * len(TOUCHPOINTS)
    [alert] = out["alerts"]
    assert (alert["kind"], alert["target"], alert["metric"]) == ("kpi_decay", "tp7", "csat")
    assert alert["p_adjusted"] < ALPHA and alert["change"] < 0
    assert alert["n"] == 120 and alert["previous_n"] == 120 and alert["ci_low"] < alert["value"] < alert["ci_high"]
    assert "fell from" in alert["text"] and "correcting for 46 tests" in alert["text"]


def test_an_improvement_is_not_an_alert() -> None:
    rng = np.random.default_rng(2)
    feedback = {"periods": {"2026-09": _period(rng, {"tp3": 0.5}), "2026-10": _period(rng, {"tp3": 0.9})}}
    assert decay_alerts(feedback)["alerts"] == []


def test_twenty_periods_of_noise_raise_no_alert() -> None:
    rng = np.random.default_rng(3)
    periods = [_period(rng) for _ in range(21)]
    fired = [a for i in range(20)
             for a in decay_alerts({"periods": {"a": periods[i], "b": periods[i + 1]}})["alerts"]]
    assert fired == []


def test_the_correction_holds_the_false_alarm_rate() -> None:
    """Over 300 pairs of noise periods the share with any alert stays near ALPHA (the
    family-wise rate Holm guarantees); uncorrected, 46 tests a period would alarm in
    about a third of them."""
    rng = np.random.default_rng(4)
    alarms = sum(bool(decay_alerts({"periods": {"a": _period(rng), "b": _period(rng)}})["alerts"])
                 for _ in range(300))
    assert alarms / 300 <= 2 * ALPHA
    loose = sum(bool(decay_alerts({"periods": {"a": _period(rng), "b": _period(rng)}}, alpha=0.05 * 46)["alerts"])
                for _ in range(60))
    assert loose / 60 > 0.1  # the same tests without the correction do alarm on noise


def test_too_few_answers_are_not_tested() -> None:
    rng = np.random.default_rng(5)
    small = {"touchpoints": {"tp0": {"csat": _csat(rng, 12, 0.9)}}}
    worse = {"touchpoints": {"tp0": {"csat": _csat(rng, 12, 0.1)}}}
    out = decay_alerts({"periods": {"a": small, "b": worse}})
    assert out["tests"] == 0 and out["alerts"] == []


def test_a_goal_off_track_is_an_alert() -> None:
    goal = {"status": "off_track", "metric": "churn_rate", "name": "SME churn", "target": 0.3,
            "projected_at_deadline": 0.42, "deadline": "2027-04-30", "current": {"value": 0.4}}
    [alert] = decay_alerts({}, goal)["alerts"]
    assert alert["kind"] == "goal_off_track" and "off track" in alert["text"]


@pytest.mark.slow
def test_a_decay_in_the_data_shows_in_the_analysis(tmp_path: Path) -> None:
    """End to end: the demo company with a good month of support-chat answers, then a bad
    one, loaded as survey exports would be: ``analyze`` reports the alert."""
    from journeymap.demo.generate import generate_demo
    from journeymap.workspace import Workspace

    with Workspace.create(tmp_path / "ws") as ws:
        files = generate_demo(ws.root, customers=400, seed=5)
        for kind in ("customers", "events", "feedback"):
            ws.ingest(kind, [getattr(files, kind)])
        quiet = ws.analyze("sme-onboarding-churn", sections=["alerts"])["alerts"]
        before, last = quiet["periods"]

        def month(period: str, score: int) -> Path:
            rows = ["customer_id,timestamp,metric,score,touchpoint"]
            rows += [f"C{i + 1:06d},{period}-1{i % 9}T10:{i % 60:02d}:00Z,csat,{score},support_chat"
                     for i in range(120)]
            path = tmp_path / f"{period}.csv"
            path.write_text("\n".join(rows) + "\n")
            return path

        ws.ingest("feedback", [month(before, 5)])  # a good month ...
        steady = ws.analyze("sme-onboarding-churn", sections=["alerts"])["alerts"]
        ws.ingest("feedback", [month(last, 1)])    # ... then a bad one
        found = ws.analyze("sme-onboarding-churn", sections=["alerts"])["alerts"]
        found = ws.analyze("sme-onboarding-churn", sections=["alerts"])["alerts"]
    assert not any(a["target"] == "support_chat" for a in quiet["alerts"] + steady["alerts"])
    chat = [a for a in found["alerts"] if a["target"] == "support_chat" and a["metric"] == "csat"]
    assert chat and chat[0]["p_adjusted"] < ALPHA and chat[0]["period"] == last


STAGES = [f"s{i}" for i in range(6)]


def _conversions(rng: np.random.Generator, months: int, p_of: dict[tuple[str, int], float] | None = None,
                 n: int = 300) -> dict[str, object]:
    """``stage_periods`` of ``months`` complete months: binomial noise around 0.5, or p_of."""
    p_of = p_of or {}
    out: dict[str, object] = {"window_days": 30, "period": "month", "stages": {}}
    for i, stage in enumerate(STAGES[:-1]):
        periods = {}
        for m in range(months):
            k = int(rng.binomial(n, p_of.get((stage, m), 0.5)))
            periods[f"{2026 + m // 12}-{m % 12 + 1:02d}"] = {"n": n, "converted": k, "value": k / n}
        out["stages"][stage] = {"next": STAGES[i + 1], "periods": periods}  # type: ignore[index]
    return out


def test_a_planted_conversion_drop_fires_in_one_family_with_the_kpis() -> None:
    rng = np.random.default_rng(5)
    feedback = {"periods": {"2026-09": _period(rng), "2026-10": _period(rng)}}
    stages = _conversions(rng, 3, {("s2", 2): 0.3})
    out = decay_alerts(feedback, stage_periods=stages)
    assert out["tests"] == 1 + 3 * len(TOUCHPOINTS) + len(STAGES) - 1
    [alert] = out["alerts"]
    assert (alert["kind"], alert["target"], alert["next"], alert["level"]) == ("conversion_drop", "s2", "s3", "stage")
    assert (alert["previous_period"], alert["period"]) == ("2026-02", "2026-03")
    assert alert["p_adjusted"] < ALPHA and alert["n"] == 300 and "within 30 days fell from" in alert["text"]
    # a rise is no alert; nor is a drop measured on too few customers
    assert decay_alerts(None, stage_periods=_conversions(rng, 3, {("s2", 2): 0.7}))["alerts"] == []
    assert decay_alerts(None, stage_periods=_conversions(rng, 3, {("s2", 2): 0.05}, n=20))["alerts"] == []


def test_twenty_months_of_conversion_noise_raise_no_alert() -> None:
    rng = np.random.default_rng(6)
    stages = _conversions(rng, 21)
    fired = []
    for m in range(20):
        window = {"window_days": 30, "stages": {s: {"next": b["next"], "periods": dict(
            sorted(b["periods"].items())[m:m + 2])} for s, b in stages["stages"].items()}}  # type: ignore[union-attr]
        fired += decay_alerts(None, stage_periods=window)["alerts"]
    assert fired == []
