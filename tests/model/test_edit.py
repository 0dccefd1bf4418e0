"""Structured edits of a map's text: only the touched lines change, comments stay."""

from __future__ import annotations

import difflib

import pytest

from journeymap.errors import MapValidationError
from journeymap.model.diff import diff_maps
from journeymap.model.edit import EditError, apply_edits
from journeymap.model.templates import template_text
from journeymap.model.yamlio import load_map_text

TEXT = """\
# Trial to paid -- owned by Growth (keep this comment)
id: trial
title: Trial to paid
goal:
  statement: More trials become paying customers
  kpi: {metric: conversion, target: 0.2, baseline: 0.12}
persona:
  name: Sam  # the persona of the 2026 research
scenario: Sam tries the product
stages:
  - id: discover
    name: Discover
    touchpoints:
      - {id: ad, name: Ad, channel: social, match: ad_click}
      - id: blog
        name: Blog post
        channel: web
        match: blog_view
    lanes:
      pain_points:
        - Too many tools look alike
        - {text: Pricing is hidden, evidence: {kind: research, note: 7 of 12 interviews}}
      emotion: 0.5
  - id: try
    name: Try
    # sign-up is where most trials start
    touchpoints:
      - id: signup
        name: Sign-up
        channel: web
        match: signup
        kpis: [{metric: csat, target: 0.7}]
  - id: buy
    name: Buy
    touchpoints:
      - {id: checkout, name: Checkout, channel: web, match: order_placed}
"""


def _changed(a: str, b: str) -> list[str]:
    return [line for line in difflib.unified_diff(a.splitlines(), b.splitlines(), n=0, lineterm="")
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_no_edit_writes_the_text_back_unchanged() -> None:
    assert apply_edits(TEXT, []) == TEXT
    for name in ("b2b-saas-churn", "support-case", "day-in-the-life"):
        text = template_text(name, "x")
        assert apply_edits(text, []) == text


def test_a_cell_edit_changes_one_line_and_keeps_the_comments() -> None:
    out = apply_edits(TEXT, [{"op": "set_cell", "stage": "discover", "lane": "pain_points", "index": 0,
                              "text": "Too many tools look the same"}])
    assert _changed(TEXT, out) == ["-        - Too many tools look alike", "+        - Too many tools look the same"]
    assert "# Trial to paid -- owned by Growth (keep this comment)" in out and "# the persona" in out
    # a cell with evidence keeps it
    out = apply_edits(TEXT, [{"op": "set_cell", "stage": "discover", "lane": "pain_points", "index": 1,
                              "text": "Prices are hidden"}])
    cell = load_map_text(out).stages[0].lanes.pain_points[1]
    assert cell.text == "Prices are hidden" and cell.evidence and cell.evidence.note == "7 of 12 interviews"


def test_structure_edits_read_back_as_the_diff_says() -> None:
    edits = [
        {"op": "set_stage", "stage": "try", "field": "name", "value": "Try it"},
        {"op": "move_stage", "stage": "buy", "to": 1},
        {"op": "move_touchpoint", "touchpoint": "blog", "stage": "try", "to": 0},
        {"op": "add_stage", "id": "renew", "name": "Renew"},
        {"op": "add_touchpoint", "stage": "renew", "id": "renewal", "name": "Renewal", "channel": "email",
         "match": "subscription_renewed"},
        {"op": "add_cell", "stage": "buy", "lane": "opportunities", "text": "Remind 30 days ahead"},
        {"op": "set_match", "touchpoint": "signup", "match": {"event": "signup", "channel": "web"}},
        {"op": "set_kpi", "where": "touchpoint", "touchpoint": "signup", "field": "target", "value": 0.8},
        {"op": "set_kpi", "field": "target", "value": 0.25},
        {"op": "set_field", "field": "persona.quote", "value": "I need numbers by Monday"},
        {"op": "set_emotion", "stage": "discover", "emotion": -1},
        {"op": "delete_cell", "stage": "discover", "lane": "pain_points", "index": 0},
    ]
    out = apply_edits(TEXT, edits)
    old, new = load_map_text(TEXT), load_map_text(out)
    assert [s.id for s in new.stages] == ["discover", "buy", "try", "renew"]
    assert [t.id for t in new.stages[2].touchpoints] == ["blog", "signup"]
    kinds = {c.kind for c in diff_maps(old, new)}
    assert {"stage_renamed", "stage_moved", "touchpoint_moved", "stage_added", "touchpoint_added",
            "cell_added", "cell_removed", "rule_changed", "kpi_target_changed", "persona_changed",
            "emotion_changed"} <= kinds
    assert "# sign-up is where most trials start" in out and "# the persona of the 2026 research" in out


def test_bad_edits_name_the_edit_and_leave_nothing_half_done() -> None:
    with pytest.raises(EditError, match=r"edit 2 \(move_stage\): no stage 'nope'"):
        apply_edits(TEXT, [{"op": "set_emotion", "stage": "try", "emotion": 1},
                           {"op": "move_stage", "stage": "nope", "to": 0}])
    with pytest.raises(EditError, match="position 9 is outside"):
        apply_edits(TEXT, [{"op": "set_cell", "stage": "discover", "lane": "pain_points", "index": 9, "text": "x"}])
    with pytest.raises(EditError, match="unknown op 'explode'"):
        apply_edits(TEXT, [{"op": "explode"}])
    with pytest.raises(EditError, match="has touchpoints"):
        apply_edits(TEXT, [{"op": "delete_stage", "stage": "buy"}])
    with pytest.raises(EditError, match="a touchpoint 'ad' exists"):
        apply_edits(TEXT, [{"op": "add_touchpoint", "stage": "buy", "id": "ad", "name": "Ad"}])
    # the result is validated as journeymap validate does
    with pytest.raises(MapValidationError, match="match.where"):
        apply_edits(TEXT, [{"op": "set_match", "touchpoint": "ad", "match": {"where": "channel =="}}])
    assert "delete_stage" in str(pytest.raises(EditError, apply_edits, TEXT,
                                               [{"op": "delete_stage", "stage": "buy"}]).value)
