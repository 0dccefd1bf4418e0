"""Decay alerts: a touchpoint's (or the journey's) CSAT, NPS or CES significantly worse
in the latest period than in the one before, a stage's conversion significantly lower in
the latest complete month than in the one before, and a goal off track — with the
evidence.

Read from the analysis's own sections — ``feedback.periods`` (each KPI per month with
n and interval) and ``goal`` — so the alert and the numbers on the page are the same
numbers.  Every pair (where, metric) with at least :data:`MIN_N` answers in both periods
is one test; the family is corrected with Holm (the number of touchpoints watched must
not make noise look like decay), and an alert needs the corrected p below
:data:`ALPHA` *and* a change for the worse:

* CSAT — the share of satisfied answers: two-proportion z test;
* NPS — the difference of the two scores, with each score's variance
  ``((p+ + p−) − (p+ − p−)²) / n`` (×100²);
* CES — the difference of the means, with each mean's standard error read back from its
  95 % interval (higher effort is worse).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from statistics import NormalDist
from typing import Any

from journeymap.engine.stats import holm, two_proportion_z

#: corrected p-value below which a worsening is an alert (family-wise, per analysis)
ALPHA = 0.01
#: answers a period needs for its KPI to be tested (the feedback section's small sample)
MIN_N = 30
#: which way is worse for each KPI
WORSE = {"csat": -1, "nps": -1, "ces": +1}
Z95 = NormalDist().inv_cdf(0.975)


def _p(z: float) -> float:
    return 2 * (1 - NormalDist().cdf(abs(z)))


def _test(metric: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, float, float] | None:
    """(test, statistic, p) comparing ``new`` with ``old``, or None when it cannot run."""
    n1, n2 = int(old.get("n") or 0), int(new.get("n") or 0)
    if metric == "csat" and old.get("satisfied") is not None and new.get("satisfied") is not None:
        r = two_proportion_z(int(new["satisfied"]), n2, int(old["satisfied"]), n1)
        return (r.test, r.statistic, r.p_value) if r.p_value is not None and r.statistic is not None else None
    if metric == "nps" and all(k in d for d in (old, new) for k in ("promoters", "detractors")):
        def var(d: Mapping[str, Any], n: int) -> float:
            pp, pd = d["promoters"] / n, d["detractors"] / n
            return ((pp + pd) - (pp - pd) ** 2) / n * 100 ** 2
        se = math.sqrt(var(old, n1) + var(new, n2))
        if se == 0:
            return None
        z = (float(new["value"]) - float(old["value"])) / se
        return "difference of NPS (z)", z, _p(z)
    lo1, hi1, lo2, hi2 = old.get("ci_low"), old.get("ci_high"), new.get("ci_low"), new.get("ci_high")
    if metric == "ces" and None not in (lo1, hi1, lo2, hi2, old.get("value"), new.get("value")):
        se = math.hypot((hi1 - lo1) / (2 * Z95), (hi2 - lo2) / (2 * Z95))
        if se == 0:
            return None
        z = (float(new["value"]) - float(old["value"])) / se
        return "difference of means (z)", z, _p(z)
    return None


def _kpis(block: Any) -> dict[tuple[str, str], Mapping[str, Any]]:
    """(where, metric) -> KPI of one period's block (journey, then each touchpoint)."""
    out: dict[tuple[str, str], Mapping[str, Any]] = {}
    if not isinstance(block, Mapping):
        return out
    for metric, kpi in (block.get("journey") or {}).items():
        out[("journey", metric)] = kpi
    for tp, metrics in (block.get("touchpoints") or {}).items():
        for metric, kpi in (metrics or {}).items():
            out[(tp, metric)] = kpi
    return out


def _conversion_rows(stage_periods: Any, min_n: int) -> list[tuple[Any, ...]]:
    """One test per stage: its conversion in the latest complete period against the one
    before (two-proportion z), when both have ``min_n`` customers."""
    rows = []
    stages = stage_periods.get("stages") if isinstance(stage_periods, Mapping) else None
    for stage, block in (stages or {}).items():
        periods = block.get("periods") or {}
        names = sorted(periods)
        if len(names) < 2:
            continue
        before, latest = names[-2], names[-1]
        a, b = periods[before], periods[latest]
        if int(a.get("n") or 0) < min_n or int(b.get("n") or 0) < min_n:
            continue
        r = two_proportion_z(int(b["converted"]), int(b["n"]), int(a["converted"]), int(a["n"]))
        if r.p_value is None or r.statistic is None:
            continue
        rows.append((stage, block.get("next"), before, latest, a, b, r.test, r.statistic, r.p_value))
    return rows


def decay_alerts(feedback: Any, goal: Any = None, stage_periods: Any = None, *, alpha: float = ALPHA,
                 min_n: int = MIN_N) -> dict[str, Any]:
    """The ``alerts`` section: ``alerts`` (worse first), ``tests`` (how many ran),
    ``periods`` compared and the rule used.  ``stage_periods``: each stage's conversion
    per complete period (:mod:`journeymap.engine.stage_periods`); a significant drop is a
    ``conversion_drop`` alert, tested in the same corrected family as the KPIs."""
    periods = feedback.get("periods") if isinstance(feedback, Mapping) else None
    names = sorted(periods) if isinstance(periods, Mapping) else []
    out: dict[str, Any] = {"alerts": [], "tests": 0, "periods": None,
                           "rule": f"latest period against the one before; Holm-corrected p < {alpha}, "
                                   f"at least {min_n} answers (or customers) in each; CSAT and stage "
                                   "conversion: two-proportion z, NPS and CES: z of the difference; "
                                   "conversion over complete months only"}
    if len(names) >= 2:
        before, latest = names[-2], names[-1]
        out["periods"] = [before, latest]
        old, new = _kpis(periods[before]), _kpis(periods[latest])
        rows = []
        for key in sorted(set(old) & set(new)):
            where, metric = key
            a, b = old[key], new[key]
            if metric not in WORSE or not isinstance(a, Mapping) or not isinstance(b, Mapping):
                continue
            if int(a.get("n") or 0) < min_n or int(b.get("n") or 0) < min_n:
                continue
            found = _test(metric, a, b)
            if found is None:
                continue
            rows.append((where, metric, a, b, *found))
    else:
        rows = []
    conversions = _conversion_rows(stage_periods, min_n)
    total = len(rows) + len(conversions)
    adjusted = holm([r[6] for r in rows] + [r[8] for r in conversions])
    out["tests"] = total
    if rows:
        for (where, metric, a, b, test, stat, p), p_adj in zip(rows, adjusted[:len(rows)], strict=True):
            change = float(b["value"]) - float(a["value"])
            if p_adj is not None and p_adj < alpha and change * WORSE[metric] > 0:
                out["alerts"].append({
                    "kind": "kpi_decay", "target": where, "level": "journey" if where == "journey" else "touchpoint",
                    "metric": metric, "period": latest, "previous_period": before,
                    "value": b["value"], "n": b.get("n"), "ci_low": b.get("ci_low"), "ci_high": b.get("ci_high"),
                    "previous_value": a["value"], "previous_n": a.get("n"),
                    "previous_ci_low": a.get("ci_low"), "previous_ci_high": a.get("ci_high"),
                    "change": change, "test": test, "statistic": stat, "p_value": p, "p_adjusted": p_adj,
                    "text": f"{metric.upper()} of {where} fell from {_fmt(metric, a['value'])} (n={a.get('n')}) "
                            f"in {before} to {_fmt(metric, b['value'])} (n={b.get('n')}) in {latest}; "
                            f"p = {p_adj:.2g} after correcting for {total} tests"
                            if WORSE[metric] < 0 else
                            f"{metric.upper()} of {where} rose from {_fmt(metric, a['value'])} (n={a.get('n')}) "
                            f"in {before} to {_fmt(metric, b['value'])} (n={b.get('n')}) in {latest}; "
                            f"p = {p_adj:.2g} after correcting for {total} tests"})
    window = stage_periods.get("window_days") if isinstance(stage_periods, Mapping) else None
    for (stage, nxt, before, latest, a, b, test, stat, p), p_adj in zip(conversions, adjusted[len(rows):],
                                                                         strict=True):
        change = float(b["value"]) - float(a["value"])
        if p_adj is not None and p_adj < alpha and change < 0:
            out["alerts"].append({
                "kind": "conversion_drop", "target": stage, "level": "stage", "metric": "conversion",
                "next": nxt, "window_days": window, "period": latest, "previous_period": before,
                "value": b["value"], "n": b["n"], "ci_low": b.get("ci_low"), "ci_high": b.get("ci_high"),
                "previous_value": a["value"], "previous_n": a["n"],
                "previous_ci_low": a.get("ci_low"), "previous_ci_high": a.get("ci_high"),
                "change": change, "test": test, "statistic": stat, "p_value": p, "p_adjusted": p_adj,
                "text": f"conversion from {stage} to a later stage within {window} days fell from "
                        f"{a['value']:.0%} (n={a['n']}) in {before} to {b['value']:.0%} (n={b['n']}) in {latest}; "
                        f"p = {p_adj:.2g} after correcting for {total} tests"})
    out["alerts"].sort(key=lambda x: x.get("p_adjusted", 1.0))
    if isinstance(goal, Mapping) and goal.get("status") == "off_track":
        out["alerts"].append({
            "kind": "goal_off_track", "target": "goal", "level": "map", "metric": goal.get("metric"),
            "value": (goal.get("current") or {}).get("value"), "target_value": goal.get("target"),
            "projected_at_deadline": goal.get("projected_at_deadline"), "deadline": goal.get("deadline"),
            "text": f"the goal '{goal.get('name') or goal.get('metric')}' is off track: projected "
                    f"{goal.get('projected_at_deadline')} at {goal.get('deadline')} against a target of "
                    f"{goal.get('target')}"})
    return out


def _fmt(metric: str, v: Any) -> str:
    if not isinstance(v, (int, float)):
        return str(v)
    return f"{v:.0%}" if metric == "csat" else f"{v:.1f}"
