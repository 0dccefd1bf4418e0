"""The emotion curve: survey scores and sentiment on one −2..+2 scale, per stage and
touchpoint, with n and a 95 % interval (see docs/adr/0005-text-sentiment-themes.md).

Each observation becomes one value on −2 (very negative) .. +2 (very positive):

* CSAT 1–5:        e = score − 3
* NPS 0–10:        e = (score − 5) × 0.4
* CES 1–7:         e = (4 − score) × 2/3   (7 = most effort, so high is bad)
* a comment:       e = 2 × compound          (VADER compound, −1..+1)
* a conversation:  e = 2 × mean compound of the customer's turns

A stage or touchpoint's value is the mean of its observations (survey and text pooled,
each answer, comment or conversation counting once); the interval is Student's t
interval of that mean, clipped to the scale.  Where no observation exists the map's
own value stays, marked ``assumed: true``.
"""

from __future__ import annotations

import datetime as dt
import math
from contextlib import ExitStack
from typing import Any

import ibis
import ibis.expr.types as ir

from journeymap.data.store import Store
from journeymap.engine.scope import has_table, persona_selection
from journeymap.engine.scratch import scratch_table
from journeymap.model.document import JourneyMap
from journeymap.progress import Progress
from journeymap.text.corpus import (
    event_touchpoints,
    restrict,
    text_units,
    tie,
    with_sentiment,
)
from journeymap.text.sentiment import Scorer

NEGATIVE = -0.05  # VADER's conventional threshold for a negative text
SMALL_SAMPLE = 30


def survey_emotion(metric: ir.StringValue, score: ir.FloatingValue) -> ir.FloatingValue:
    """A survey answer on the −2..+2 scale (null for metrics without a known scale)."""
    return ibis.cases(
        (metric == "csat", score - 3.0),
        (metric == "nps", (score - 5.0) * 0.4),
        (metric == "ces", (4.0 - score) * (2.0 / 3.0)),
        else_=ibis.null().cast("float64"),
    )


def sentiment_emotion(compound: ir.FloatingValue) -> ir.FloatingValue:
    """A sentiment compound score (−1..+1) on the −2..+2 scale."""
    return compound * 2.0


def observations(con: ibis.BaseBackend, jmap: JourneyMap, *, customers: ir.Table | None,
                 since: dt.datetime | None, until: dt.datetime | None,
                 store: Store | None, scorer: Scorer | None,
                 progress: Progress | None,
                 scored: ir.Table | None = None) -> tuple[ir.Table | None, ir.Table | None]:
    """(observations: touchpoint, stage, source, e) and the scored text units
    (``scored``: those units already scored, e.g. held in a scratch table)."""
    parts: list[ir.Table] = []
    if has_table(con, "feedback"):
        f = restrict(con.table("feedback"), customers, since, until)
        f = tie(f.filter(f.metric.isin(["csat", "nps", "ces"])), jmap,
                event_touchpoints(con, jmap))
        parts.append(f.select("touchpoint", "stage", source=ibis.literal("survey"),
                              e=survey_emotion(f.metric, f.score)))
    units = text_units(con, jmap, customers=customers, since=since, until=until) \
        if scored is None else scored
    if units is not None:
        if scored is None:
            scored = with_sentiment(con, units, store=store, scorer=scorer, progress=progress)
        mine = scored.filter(scored.customer_turn)
        conv = mine.group_by(["source", "unit", "touchpoint", "stage"]).aggregate(
            compound=mine.compound.mean())
        parts.append(conv.select("touchpoint", "stage", source=ibis.literal("text"),
                                 e=sentiment_emotion(conv.compound)))
    if not parts:
        return None, scored
    obs = parts[0] if len(parts) == 1 else parts[0].union(parts[1])
    return obs.filter(obs.e.notnull()), scored


def _moments(obs: ir.Table, level: str) -> dict[str, dict[str, tuple[int, float, float]]]:
    rows = (obs.filter(obs[level].notnull()).group_by([level, "source"])
            .aggregate(n=obs.e.count(), s1=obs.e.sum(), s2=(obs.e * obs.e).sum())
            .to_pyarrow().to_pylist())
    out: dict[str, dict[str, tuple[int, float, float]]] = {}
    for r in rows:
        out.setdefault(r[level], {})[r["source"]] = (int(r["n"]), float(r["s1"]), float(r["s2"]))
    return out


def summarise(n: int, s1: float, s2: float) -> dict[str, Any]:
    """Mean, n and the 95 % t interval of a mean from its moments."""
    if n == 0:
        return {"value": None, "n": 0, "interval": None}
    mean = s1 / n
    interval = None
    if n >= 2:
        var = max((s2 - n * mean * mean) / (n - 1), 0.0)
        from scipy import stats  # only when there is an interval to compute

        half = float(stats.t.ppf(0.975, n - 1)) * math.sqrt(var / n)
        interval = [round(max(mean - half, -2.0), 4), round(min(mean + half, 2.0), 4)]
    return {"value": round(mean, 4), "n": n, "interval": interval}


def _entry(moments: dict[str, tuple[int, float, float]] | None) -> dict[str, Any]:
    moments = moments or {}
    total = [sum(m[i] for m in moments.values()) for i in range(3)]
    entry = summarise(int(total[0]), total[1], total[2])
    entry["sources"] = {src: summarise(*moments[src]) if src in moments else
                        {"value": None, "n": 0, "interval": None} for src in ("survey", "text")}
    entry["small_sample"] = 0 < entry["n"] < SMALL_SAMPLE
    entry["assumed"] = False
    return entry


def _sentiment_by(scored: ir.Table | None, level: str) -> dict[str, dict[str, Any]]:
    """Per touchpoint/stage: mean compound of the customers' texts and the negative share."""
    if scored is None:
        return {}
    mine = scored.filter(scored.customer_turn & scored[level].notnull())
    conv = mine.group_by(["source", "unit", level]).aggregate(c=mine.compound.mean())
    rows = conv.group_by(level).aggregate(
        n=conv.c.count(), mean=conv.c.mean(), negative=(conv.c <= NEGATIVE).cast("int64").sum(),
    ).to_pyarrow().to_pylist()
    return {r[level]: {"mean": round(float(r["mean"]), 4), "n": int(r["n"]),
                       "negative_share": round(int(r["negative"]) / int(r["n"]), 4)}
            for r in rows if r["n"]}


def emotion_section(con: ibis.BaseBackend, jmap: JourneyMap, *, customers: ir.Table | None = None,
                    since: dt.datetime | None = None, until: dt.datetime | None = None,
                    store: Store | None = None, scorer: Scorer | None = None,
                    progress: Progress | None = None) -> dict[str, Any]:
    """``analyze --json``'s ``emotion``: the curve per stage and touchpoint.

    ``customers`` (a table with ``customer_id``) defaults to the persona's segment.
    Pass the workspace's ``store`` to persist sentiment scores in ``text_sentiment``.
    """
    persona = persona_selection(con, jmap)  # the notice, when its rule cannot apply yet
    if customers is None:
        customers = persona.customers
    obs, scored = observations(con, jmap, customers=customers, since=since, until=until,
                               store=store, scorer=scorer, progress=progress)
    with ExitStack() as held:
        # each feeds two aggregates (per touchpoint, per stage): compute them once —
        # the customers' scored turns (the join with the sentiment cache and the
        # conversation keys) and the observations built on them
        if scored is not None:
            mine = scored.filter(scored.customer_turn)
            scored = held.enter_context(scratch_table(
                con, mine.select("source", "unit", "touchpoint", "stage", "compound",
                                 customer_turn=ibis.literal(True)), "jm_emotion_text"))
            obs, _ = observations(con, jmap, customers=customers, since=since, until=until,
                                  store=None, scorer=scorer, progress=None, scored=scored)
        if obs is not None:
            obs = held.enter_context(scratch_table(con, obs, "jm_emotion_obs"))
        by_tp = _moments(obs, "touchpoint") if obs is not None else {}
        by_stage = _moments(obs, "stage") if obs is not None else {}
        sent_tp, sent_stage = _sentiment_by(scored, "touchpoint"), _sentiment_by(scored, "stage")
    stages, touchpoints = [], []
    for stage in jmap.stages:
        manual = stage.lanes.emotion
        entry = {"stage": stage.id, "name": stage.name, **_entry(by_stage.get(stage.id)),
                 "sentiment": sent_stage.get(stage.id),
                 "label": manual.label if manual else None,
                 "map_value": manual.value if manual else None}
        if entry["n"] == 0 and manual is not None and manual.value is not None:
            entry.update(value=manual.value, assumed=True,
                         evidence=manual.evidence.kind.value if manual.evidence else "assumption")
        stages.append(entry)
        for tp in jmap.touchpoints_of(stage.id):
            t_entry = {"touchpoint": tp.id, "stage": stage.id, "channel": tp.channel,
                       **_entry(by_tp.get(tp.id)), "sentiment": sent_tp.get(tp.id)}
            if t_entry["n"] == 0 and manual is not None and manual.value is not None:
                t_entry.update(value=manual.value, assumed=True, evidence="stage value from the map")
            touchpoints.append(t_entry)
    out = {"scale": [-2, 2], "model": (scorer.name if scorer else "vader-3.3.2"),
           "method": "mean of survey answers (CSAT−3, (NPS−5)×0.4, (4−CES)×2/3) and "
                     "2×sentiment of comments and conversations; 95% t interval",
           "stages": stages, "touchpoints": touchpoints}
    if persona.notice:
        out["notice"] = persona.notice
    return out
