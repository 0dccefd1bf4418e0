"""The −2..+2 emotion scale, its intervals, and the curve on a small store and the demo."""

from __future__ import annotations

import math
from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from journeymap.data.ingest import ingest
from journeymap.data.store import Store
from journeymap.model import load_map_text
from journeymap.text.emotion import emotion_section, sentiment_emotion, summarise, survey_emotion


@pytest.mark.parametrize(("metric", "score", "expected"), [
    ("csat", 1, -2.0), ("csat", 3, 0.0), ("csat", 4, 1.0), ("csat", 5, 2.0),
    ("nps", 0, -2.0), ("nps", 5, 0.0), ("nps", 9, 1.6), ("nps", 10, 2.0),
    ("ces", 1, 2.0), ("ces", 4, 0.0), ("ces", 7, -2.0), ("ces", 5.5, -1.0),
    ("effort_index", 3, None),
])
def test_survey_scores_map_linearly_onto_the_scale(metric: str, score: float,
                                                   expected: float | None) -> None:
    t = ibis.memtable(pa.table({"metric": [metric], "score": [float(score)]}))
    got = t.select(e=survey_emotion(t.metric, t.score)).to_pyarrow()["e"][0].as_py()
    assert got == (pytest.approx(expected) if expected is not None else None)


def test_sentiment_maps_compound_to_twice_its_value() -> None:
    t = ibis.memtable(pa.table({"c": [-1.0, -0.25, 0.0, 0.5, 1.0]}))
    assert t.select(e=sentiment_emotion(t.c)).to_pyarrow()["e"].to_pylist() == [-2, -0.5, 0, 1, 2]


def test_interval_is_the_t_interval_of_the_mean_clipped_to_the_scale() -> None:
    values = [1.0, 1.0, 2.0, 0.0]
    got = summarise(len(values), sum(values), sum(v * v for v in values))
    half = 3.182446305284263 * math.sqrt(2 / 3) / 2  # t(0.975, 3) · s / √n, by hand
    assert got["value"] == 1.0 and got["n"] == 4
    assert got["interval"] == [pytest.approx(1 - half, abs=1e-4), 2.0]
    assert summarise(1, 0.5, 0.25) == {"value": 0.5, "n": 1, "interval": None}
    assert summarise(0, 0, 0)["value"] is None


MAP = """
id: m
title: Test
goal: {statement: Keep customers}
persona: {name: Pat}
scenario: Buys and asks for help.
stages:
  - id: buy
    name: Buy
    touchpoints:
      - {id: checkout, name: Checkout, channel: web, match: {event: checkout_completed}}
    lanes:
      emotion: {value: 1.5, label: excited}
  - id: help
    name: Help
    touchpoints:
      - {id: chat, name: Chat, channel: support, match: {event: chat_started}}
      - {id: call, name: Call, channel: support, match: {event: call_held}}
    lanes:
      emotion: {value: -1, label: annoyed}
"""


def test_curve_pools_surveys_and_text_and_keeps_the_map_value_where_no_data(tmp_path: Path) -> None:
    fb = tmp_path / "feedback.csv"
    fb.write_text("customer_id,timestamp,metric,score,touchpoint,event,comment\n"
                  "C1,2026-01-01T10:00:00Z,csat,5,chat,,\n"
                  "C2,2026-01-01T10:00:00Z,csat,2,,chat_started,\n"
                  "C3,2026-01-01T10:00:00Z,nps,10,call,,The book was good.\n", encoding="utf-8")
    tr = tmp_path / "transcripts.jsonl"
    tr.write_text(
        '{"customer_id":"C4","timestamp":"2026-01-02T10:00:00Z","text":"A really bad, horrible book.",'
        '"touchpoint":"chat","speaker":"customer","conversation_id":"X"}\n'
        '{"customer_id":"C4","timestamp":"2026-01-02T10:01:00Z","text":"VADER is smart, handsome, and funny.",'
        '"touchpoint":"chat","speaker":"agent","conversation_id":"X"}\n', encoding="utf-8")
    store = Store.memory()
    ingest(store, "feedback", [fb])
    ingest(store, "transcripts", [tr])
    jmap = load_map_text(MAP, "m.yaml")
    got = emotion_section(store.ibis(), jmap, store=store)
    tps = {t["touchpoint"]: t for t in got["touchpoints"]}
    # chat: CSAT 5 → +2, CSAT 2 via its event → −1, the customer's turn → 2 × −0.8211
    chat = tps["chat"]
    assert chat["n"] == 3 and chat["value"] == pytest.approx((2 - 1 - 1.6422) / 3, abs=1e-4)
    assert chat["sources"]["survey"]["n"] == 2 and chat["sources"]["text"]["n"] == 1
    assert chat["sentiment"] == {"mean": -0.8211, "n": 1, "negative_share": 1.0}
    # call: NPS 10 → +2 and its comment → 2 × 0.4404
    assert tps["call"]["value"] == pytest.approx((2 + 0.8808) / 2, abs=1e-4)
    assert tps["checkout"] == {**tps["checkout"], "value": 1.5, "n": 0, "assumed": True}
    stages = {s["stage"]: s for s in got["stages"]}
    assert stages["buy"]["assumed"] is True and stages["buy"]["value"] == 1.5
    assert stages["help"]["assumed"] is False and stages["help"]["n"] == 5
    assert stages["help"]["map_value"] == -1
    assert stages["help"]["interval"][0] < stages["help"]["value"] < stages["help"]["interval"][1]
    store.close()


def test_demo_chat_conversations_are_far_more_negative_than_phone_ones(demo) -> None:  # noqa: ANN001
    got = emotion_section(demo.store.ibis(), demo.maps["sme-onboarding-churn"], store=demo.store)
    tps = {t["touchpoint"]: t for t in got["touchpoints"]}
    chat, call = tps["support_chat"], tps["support_call"]
    assert chat["n"] >= 100 and call["n"] >= 50
    assert chat["sentiment"]["negative_share"] >= 2.5 * call["sentiment"]["negative_share"]
    assert chat["value"] < 0 < call["value"]
    assert chat["interval"][1] < call["interval"][0]  # the intervals do not overlap
    stages = {s["stage"]: s for s in got["stages"]}
    assert stages["signup"]["assumed"] and stages["renewal"]["assumed"]  # no feedback there
    assert not stages["onboarding"]["assumed"] and stages["onboarding"]["n"] > 100
