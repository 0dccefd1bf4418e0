"""Pain points and opportunities found in the data, each with its evidence.

Every rule compares a touchpoint or stage with a baseline and yields a *candidate*:
a share of customers (or answers, or moves) with a bad outcome beside the same share in
the baseline, with a two-proportion z test:

| kind | bad outcome | baselines |
|---|---|---|
| ``low_csat`` / ``low_nps`` / ``high_effort`` | CSAT < top box, NPS detractor, CES high effort | rest of the journey; previous period |
| ``low_nps_after`` | relationship-NPS detractor after reaching the touchpoint | customers who had not reached it |
| ``drop_off`` | reached the touchpoint or stage, never a later stage | the other segment; the stage without the touchpoint |
| ``slow_next_step`` | next step later than the journey's typical (median) gap | rest of the journey; the other segment |
| ``repeated_step`` | repeated the touchpoint in a row | the other segment |
| ``negative_sentiment`` | negative comment or conversation | rest of the journey |
| ``churn_after`` | churned after this was their last touchpoint (of the stage); only on maps about retention (:func:`about_retention`) | the rest of the stage (journey) |

All tests of one analysis form one family (Benjamini–Hochberg).  A candidate becomes a
pain point when it is worse than its baseline, its adjusted p-value is below ``alpha``
and it has at least ``min_n`` observations.  **Impact** = customers affected × effect
size, where the effect size is the difference in the share with the bad outcome — the
number of customers who have the bad outcome *because* the point is worse than its
baseline.  Pain points are ranked losses first (dissatisfied, detractors, negative
texts, drop-off, churn), then costs (slow next step, repeated step: a wait or a retry is
not by itself a lost customer, and waits built into a journey — a 14-day trial, a
monthly invoice — show as costs too), each by impact; one per target (the other
findings on the same target are listed under ``related``).

Opportunities: each pain point read as a gain ("if it reached the baseline, this many
customers would not have the bad outcome") and each conversion driver
(:mod:`journeymap.metrics.opportunities`).  Gains that move the map's goal rank first —
conversions to the goal event (drivers, drop-off on the way) and, on maps whose goal
KPI is churn or renewal, churn — then the others, each by customers gained.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from journeymap.engine import stats
from journeymap.metrics.opportunities import PERSONA, REST, Behaviour, driver_candidates
from journeymap.model.document import JourneyMap, MapType

Candidate = dict[str, Any]
BAD_SHARE = {  # feedback metric → (kind, what counts as bad, how to count it from a KPI)
    "csat": ("low_csat", "share not satisfied (CSAT below the top box)"),
    "nps": ("low_nps", "share of detractors (NPS 0–6)"),
    "ces": ("high_effort", "share reporting high effort (CES 5–7)"),
}
GOAL_KINDS = {"drop_off", "conversion_driver"}  # losses on the way to the goal event
CHURN_GOALS = {"churn_rate", "renewal_rate", "retention_rate"}  # maps whose goal is not churning
PROCESS_KINDS = {"slow_next_step", "repeated_step"}  # costs, ranked after losses


@dataclass(frozen=True)
class InsightOptions:
    """``alpha``: the false discovery rate; ``min_n``: observations a candidate needs."""

    alpha: float = 0.05
    min_n: int = 30
    quotes: int = 3
    top: int = 25


def _bad(metric: str, kpi: Mapping[str, Any] | None) -> tuple[int, int] | None:
    """(bad, n) of a feedback KPI dict, or None when it has no answers."""
    if not kpi or not kpi.get("n"):
        return None
    n = int(kpi["n"])
    if metric == "csat":
        return n - int(kpi.get("satisfied") or 0), n
    if metric == "nps":
        return int(kpi.get("detractors") or 0), n
    if metric == "ces":
        high = kpi.get("high_effort_share") or {}
        return (round(float(high["value"]) * n), n) if high.get("value") is not None else None
    return None


def _candidate(target: str, level: str, kind: str, metric: str, bad: tuple[int, int],
               base: tuple[int, int], customers: int, compared_with: str,
               ci: list[float] | None = None, **extra: Any) -> Candidate | None:
    (x, n), (bx, bn) = bad, base
    if n <= 0 or bn <= 0:
        return None
    test = stats.two_proportion_z(x, n, bx, bn)
    rate, base_rate = x / n, bx / bn
    interval = stats.wilson_interval(x, n)
    return {
        "target": target, "level": level, "kind": kind, "customers": customers,
        "effect": rate - base_rate, "direction": rate - base_rate,
        "evidence": {"metric": metric, "value": rate, "baseline": base_rate, "compared_with": compared_with,
                     "n": n, "baseline_n": bn, "ci": ci or (list(interval) if interval else None),
                     "test": test.test, "statistic": test.statistic, "p_value": test.p_value, **extra},
    }


def _reach(analysis: Mapping[str, Any]) -> tuple[dict[str, int], dict[str, int]]:
    tps = {t["id"]: int(t.get("customers") or 0) for t in analysis.get("touchpoints") or []}
    stages = {s["id"]: int(s.get("visited", s.get("customers")) or 0) for s in analysis.get("stages") or []}
    return tps, stages


def feedback_candidates(feedback: Mapping[str, Any] | None, reach: Mapping[str, int]) -> list[Candidate]:
    """Low CSAT / NPS / high CES at a touchpoint against the rest of the journey and
    against the previous period; relationship NPS after reaching a touchpoint."""
    if not feedback:
        return []
    out: list[Candidate] = []
    journey = feedback.get("journey") or {}
    periods = sorted((feedback.get("periods") or {}).items())
    recent, before = periods[-3:], periods[-6:-3]
    for tp, kpis in (feedback.get("touchpoints") or {}).items():
        for metric, kpi in kpis.items():
            if metric not in BAD_SHARE or (bad := _bad(metric, kpi)) is None:
                continue
            kind, label = BAD_SHARE[metric]
            total = _bad(metric, journey.get(metric))
            extra = {"kpi": {k: kpi.get(k) for k in ("value", "ci_low", "ci_high", "n")}}
            if total is not None:
                rest = (total[0] - bad[0], total[1] - bad[1])
                out.append(_candidate(tp, "touchpoint", kind, label, bad, rest, reach.get(tp, bad[1]),
                                      "rest of the journey", **extra))
            now = _pool(recent, tp, metric)
            then = _pool(before, tp, metric)
            if now and then:
                out.append(_candidate(tp, "touchpoint", kind, label, now, then, reach.get(tp, now[1]),
                                      f"previous period ({before[0][0]}–{before[-1][0]})",
                                      period=f"{recent[0][0]}–{recent[-1][0]}"))
    for tp, by_metric in (feedback.get("after_touchpoint") or {}).items():
        split = by_metric.get("nps") or {}
        reached, not_reached = _bad("nps", split.get("reached")), _bad("nps", split.get("not_reached"))
        if reached and not_reached:
            out.append(_candidate(tp, "touchpoint", "low_nps_after", "share of detractors (relationship NPS)",
                                  reached, not_reached, reach.get(tp, reached[1]),
                                  "customers who had not reached it",
                                  nps=split["reached"].get("value"), baseline_nps=split["not_reached"].get("value")))
    return [c for c in out if c is not None]


def _pool(periods: Iterable[tuple[str, Any]], tp: str, metric: str) -> tuple[int, int] | None:
    x = n = 0
    for _, block in periods:
        got = _bad(metric, ((block or {}).get("touchpoints") or {}).get(tp, {}).get(metric))
        if got:
            x, n = x + got[0], n + got[1]
    return (x, n) if n else None


def sentiment_candidates(emotion: Mapping[str, Any] | None, reach: Mapping[str, int]) -> list[Candidate]:
    """Touchpoints whose comments and conversations are more often negative."""
    rows = [t for t in (emotion or {}).get("touchpoints") or [] if t.get("sentiment")]
    counts = {t["touchpoint"]: (round(float(t["sentiment"]["negative_share"] or 0) * int(t["sentiment"]["n"])),
                                int(t["sentiment"]["n"])) for t in rows}
    tx, tn = sum(c[0] for c in counts.values()), sum(c[1] for c in counts.values())
    out = []
    for tp, (x, n) in counts.items():
        out.append(_candidate(tp, "touchpoint", "negative_sentiment", "share of negative texts", (x, n),
                              (tx - x, tn - n), reach.get(tp, n), "rest of the journey"))
    return [c for c in out if c is not None]


def churn_candidates(churn: Mapping[str, Any] | None) -> list[Candidate]:
    """Higher churn among customers whose last touchpoint (of a stage) was this one."""
    out = []
    for table, where in (("by_stage_exit", "stage"), ("by_last_touchpoint", None)):
        for r in (churn or {}).get(table) or []:
            n, x = int(r.get("customers") or 0), int(r.get("churned") or 0)
            rest = r.get("rest_churn_rate")
            if rest is None or r.get("p_value") is None:
                continue
            compared = f"rest of stage {r[where]}" if where else "customers who left elsewhere"
            c = {"target": r["touchpoint"], "level": "touchpoint", "kind": "churn_after", "customers": n,
                 "effect": (x / n if n else 0) - rest, "direction": (x / n if n else 0) - rest,
                 "evidence": {"metric": "churn rate after it was the last touchpoint"
                              + (f" of stage {r[where]}" if where else ""),
                              "value": r.get("churn_rate"), "baseline": rest, "compared_with": compared,
                              "n": n, "ci": list(stats.wilson_interval(x, n) or ()) or None,
                              "test": r.get("test"), "statistic": r.get("statistic"), "p_value": r.get("p_value"),
                              "definition": ((churn or {}).get("definition") or {}).get("text")}}
            out.append(c)
    return out


def behaviour_candidates(b: Behaviour, jmap: JourneyMap) -> list[Candidate]:
    """Drop-off, slow next step and repeated steps, against the other segment and the journey."""
    out: list[Candidate | None] = []
    last_stage = jmap.stage_ids()[-1] if jmap.stages else None
    mine, other = b.touchpoints.get(PERSONA, {}), b.touchpoints.get(REST, {})
    seg = b.rest_label or "the other customers"
    stage_rows = b.stages.get(PERSONA, {})
    for tp, r in mine.items():
        n = int(r.get("customers") or 0)
        if r.get("stage") != last_stage and n:
            lost = (n - int(r["went_on"] or 0), n)
            if (o := other.get(tp)) and o.get("customers"):
                out.append(_candidate(tp, "touchpoint", "drop_off", "share who never reached the next stage",
                                      lost, (o["customers"] - int(o["went_on"] or 0), o["customers"]), n,
                                      f"customers {seg}"))
            st = stage_rows.get(r["stage"])
            if st and st["customers"] > n:
                sn, sx = st["customers"] - n, st["customers"] - int(st["went_on"] or 0) - lost[0]
                out.append(_candidate(tp, "touchpoint", "drop_off", "share who never reached the next stage",
                                      lost, (max(sx, 0), sn), n, f"rest of stage {r['stage']}"))
        if (o := other.get(tp)) and o.get("customers") and n:
            out.append(_candidate(tp, "touchpoint", "repeated_step", "share who repeated it in a row",
                                  (int(r["repeated"] or 0), n), (int(o["repeated"] or 0), int(o["customers"])),
                                  n, f"customers {seg}"))
        if r.get("moves") and b.typical_gap is not None:
            slow = (int(r["slow"] or 0), int(r["moves"]))
            extra = {"median_seconds": r.get("median_gap"), "typical_seconds": b.typical_gap}
            tm = sum(int(v.get("moves") or 0) for v in mine.values())
            ts = sum(int(v.get("slow") or 0) for v in mine.values())
            out.append(_candidate(tp, "touchpoint", "slow_next_step", "share of next steps slower than the "
                                  "journey's typical gap", slow, (ts - slow[0], tm - slow[1]),
                                  int(r.get("movers") or 0), "rest of the journey", **extra))
            if (o := other.get(tp)) and o.get("moves"):
                out.append(_candidate(tp, "touchpoint", "slow_next_step", "share of next steps slower than the "
                                      "journey's typical gap", slow, (int(o["slow"] or 0), int(o["moves"])),
                                      int(r.get("movers") or 0), f"customers {seg}",
                                      baseline_median_seconds=o.get("median_gap"), **extra))
    return [c for c in out if c is not None]


def _quotes(target: str, themes: Mapping[str, Any] | None, limit: int) -> list[str]:
    """Quotes of the themes said mostly at ``target`` (lift ≥ 1.5), the most negative
    and most specific to it first (negative share × lift)."""
    found = []
    for th in (themes or {}).get("themes") or []:
        places = {p.get("touchpoint") or p.get("stage"): p
                  for p in (th.get("touchpoints") or []) + (th.get("stages") or [])}
        lift = float((places.get(target) or {}).get("lift") or 0)
        if lift >= 1.5:
            found.append((float(th.get("negative_share") or 0) * lift, th.get("quotes") or []))
    found.sort(key=lambda f: -f[0])
    return [q for _, quotes in found for q in quotes][:limit]


def _paths(target: str, level: str, analysis: Mapping[str, Any], limit: int = 3) -> list[dict[str, Any]]:
    """The most common moves out of ``target`` (or paths through it, for a stage)."""
    if level == "stage":
        return [{"path": p["path"], "customers": p["customers"]} for p in analysis.get("paths") or []
                if target in p["path"]][:limit]
    moves = [t for t in analysis.get("transitions") or [] if t["from"] == target and t["to"] != target]
    moves.sort(key=lambda t: -int(t.get("customers") or 0))
    return [{"path": [t["from"], t["to"]], "customers": t.get("customers"), "median_seconds": t.get("median_seconds")}
            for t in moves[:limit]]


def about_retention(jmap: JourneyMap) -> bool:
    """Whether leaving (churn) is a loss this map is about.  On a map whose goal is a
    conversion event (an acquisition journey) a prospect who never converted has not
    churned: that loss is measured as drop-off on the way to the goal instead."""
    kpi = jmap.goal.kpi
    if kpi is not None and kpi.metric in CHURN_GOALS:
        return True
    if jmap.type in (MapType.churn, MapType.service_recovery):
        return True
    return jmap.goal.event is None


def find_insight(analysis: Mapping[str, Any], jmap: JourneyMap, behaviour: Behaviour | None,
                 options: InsightOptions = InsightOptions()) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(pain_points, opportunities)`` from a full analysis dict and the behaviour pass."""
    tp_reach, stage_reach = _reach(analysis)
    cands = feedback_candidates(analysis.get("feedback"), tp_reach)
    cands += sentiment_candidates(analysis.get("emotion"), tp_reach)
    if about_retention(jmap):
        cands += churn_candidates(analysis.get("churn"))
    drivers: list[Candidate] = []
    if behaviour is not None:
        cands += behaviour_candidates(behaviour, jmap)
        drivers = driver_candidates(behaviour, jmap, min_n=options.min_n)
    family = cands + drivers
    for c, p in zip(family, stats.benjamini_hochberg([c["evidence"]["p_value"] for c in family]), strict=True):
        c["evidence"]["p_adjusted"] = p
        c["score"] = round(c["customers"] * max(c["effect"], 0.0), 1)

    def kept(c: Candidate) -> bool:
        e = c["evidence"]
        return (c["direction"] > 0 and e["p_adjusted"] is not None and e["p_adjusted"] < options.alpha
                and e["n"] >= options.min_n)

    found = sorted((c for c in cands if kept(c)), key=lambda c: (c["kind"] in PROCESS_KINDS, -c["score"]))
    pains: dict[tuple[str, str], dict[str, Any]] = {}
    for c in found:
        key = (c["level"], c["target"])
        if key in pains:
            pains[key]["related"].append(_brief(c))
            continue
        e = c["evidence"]
        e["quotes"] = _quotes(c["target"], analysis.get("themes"), options.quotes)
        e["paths"] = _paths(c["target"], c["level"], analysis)
        e["customers"] = stage_reach.get(c["target"]) if c["level"] == "stage" else tp_reach.get(c["target"])
        pains[key] = {"target": c["target"], "level": c["level"], "kind": c["kind"], "score": c["score"],
                      "customers_affected": c["customers"], "effect_size": round(c["effect"], 4),
                      "evidence": _clean(e), "related": []}
    pain_points = list(pains.values())[:options.top]
    for rank, p in enumerate(pain_points, 1):
        p["rank"] = rank
    return pain_points, _opportunities(pain_points, [d for d in drivers if kept(d)], jmap, options)


def _brief(c: Candidate) -> dict[str, Any]:
    e = c["evidence"]
    return {"kind": c["kind"], "score": c["score"], "metric": e["metric"], "value": _r(e["value"]),
            "baseline": _r(e["baseline"]), "compared_with": e["compared_with"], "n": e["n"],
            "p_adjusted": _p(e["p_adjusted"])}


def _r(v: Any) -> Any:
    return round(v, 4) if isinstance(v, float) else v


def _p(v: Any) -> Any:
    """p-values keep three significant digits (rounding to places would make them 0)."""
    return float(f"{v:.3g}") if isinstance(v, float) else v


def _clean(e: dict[str, Any]) -> dict[str, Any]:
    out = {k: _p(v) if k.startswith("p_") else _r(v) for k, v in e.items()}
    if out.get("ci"):
        out["ci"] = [_r(v) for v in out["ci"]]
    return out


def _opportunities(pains: list[dict[str, Any]], drivers: list[Candidate], jmap: JourneyMap,
                   options: InsightOptions) -> list[dict[str, Any]]:
    kpi = jmap.goal.kpi
    goal_kinds = GOAL_KINDS | ({"churn_after"} if kpi is not None and kpi.metric in CHURN_GOALS else set())
    out = []
    for p in pains:
        e = p["evidence"]
        gain = round(p["score"])
        if gain <= 0:
            continue
        out.append({"target": p["target"], "level": p["level"], "kind": f"fix_{p['kind']}",
                    "estimated_gain": {"customers": gain, "metric": f"fewer customers with a worse {e['metric']}",
                                       "if": f"{p['target']} matched its baseline ({e['compared_with']})",
                                       "moves_goal": p["kind"] in goal_kinds},
                    "evidence": e, "pain_point": p["rank"]})
    for d in sorted(drivers, key=lambda d: -d["gain"]["customers"]):
        d["gain"]["moves_goal"] = True
        out.append({"target": d["target"], "level": d["level"], "kind": "conversion_driver",
                    "estimated_gain": d["gain"], "evidence": _clean(d["evidence"]), "pain_point": None})
    out.sort(key=lambda o: (not o["estimated_gain"]["moves_goal"], -o["estimated_gain"]["customers"]))
    for rank, o in enumerate(out[:options.top], 1):
        o["rank"] = rank
    return out[:options.top]
