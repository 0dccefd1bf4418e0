"""The semantic diff of two map versions: changes named in the map's words."""

from __future__ import annotations

from journeymap.model.diff import KINDS, diff_maps
from journeymap.model.templates import template_text
from journeymap.model.yamlio import load_map_text

BASE = """\
id: trial
title: Trial to paid
goal:
  statement: More trials become paying customers
  kpi: {metric: conversion, target: 0.2, baseline: 0.12}
persona: {name: Sam}
scenario: Sam tries the product
stages:
  - id: discover
    name: Discover
    touchpoints:
      - {id: ad, name: Ad, channel: social, match: ad_click}
      - {id: blog, name: Blog post, channel: web, match: blog_view}
    lanes:
      pain_points: [Too many tools look alike]
      emotion: 0.5
  - id: try
    name: Try
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


def _diff(new_text: str) -> list[tuple[str, str]]:
    return [(c.kind, c.text) for c in diff_maps(load_map_text(BASE), load_map_text(new_text))]


def test_the_same_map_has_no_changes() -> None:
    assert _diff(BASE) == []
    assert _diff("# a comment only\n" + BASE) == []


def test_stages_added_removed_renamed_and_moved() -> None:
    new = BASE.replace("name: Discover", "name: Find out").replace(
        "  - id: buy\n    name: Buy\n", "  - id: buy\n    name: Buy\n").replace(
        "  - id: try\n", "  - id: onboard\n    name: Onboard\n  - id: try\n")
    got = _diff(new)
    assert ("stage_added", 'Stage "Onboard" added at position 2') in got
    assert ("stage_renamed", 'Stage "Discover" renamed to "Find out"') in got
    # Buy moved before Try: one move explains it, not two
    stages = BASE.split("  - id: try\n")
    head, rest = stages[0], "  - id: try\n" + stages[1]
    try_part, buy_part = rest.split("  - id: buy\n")
    moved = head + "  - id: buy\n" + buy_part + try_part
    kinds = _diff(moved)
    assert [k for k, _ in kinds] == ["stage_moved"]
    assert kinds[0][1] in ('Stage "Try" moved from position 2 to 3', 'Stage "Buy" moved from position 3 to 2')
    removed = BASE.split("  - id: buy\n")[0]
    assert ("stage_removed", 'Stage "Buy" removed') in _diff(removed)
    assert ("touchpoint_removed", 'Touchpoint "Checkout" removed from "Buy"') in _diff(removed)


def test_touchpoints_moved_renamed_and_rules_changed() -> None:
    moved = BASE.replace("      - {id: blog, name: Blog post, channel: web, match: blog_view}\n", "").replace(
        "      - {id: checkout,", "      - {id: blog, name: Blog article, channel: web, match: {event: blog_view,"
        " channel: web}}\n      - {id: checkout,")
    got = _diff(moved)
    assert ("touchpoint_moved", 'Touchpoint "Blog article" moved from "Discover" to "Buy"') in got
    assert ("touchpoint_renamed", 'Touchpoint "Blog post" renamed to "Blog article"') in got
    rule = [t for k, t in got if k == "rule_changed"]
    assert rule == ["Match rule of \"Blog article\": event 'blog_view' → event 'blog_view'; channel 'web'"]


def test_cells_emotion_and_kpi_targets() -> None:
    new = (BASE.replace("pain_points: [Too many tools look alike]",
                        "pain_points: [Too many tools look the same, Pricing is hidden]")
           .replace("emotion: 0.5", "emotion: -1")
           .replace("kpis: [{metric: csat, target: 0.7}]", "kpis: [{metric: csat, target: 0.8}]")
           .replace("target: 0.2, baseline", "target: 0.25, baseline"))
    got = _diff(new)
    assert ("cell_changed", 'Pain point in "Discover" changed: “Too many tools look alike” → '
            '“Too many tools look the same”') in got
    assert ("cell_added", 'Pain point in "Discover" added: “Pricing is hidden”') in got
    assert ("emotion_changed", 'Emotion in "Discover": +0.5 → -1') in got
    assert ("kpi_target_changed", 'CSAT target at "Sign-up": 0.7 → 0.8') in got
    assert ("kpi_target_changed", "CONVERSION target at Goal: 0.2 → 0.25") in got


def test_every_change_has_a_known_kind_and_a_json_form() -> None:
    a = load_map_text(template_text("b2b-saas-churn", "a"))
    b = load_map_text(template_text("support-case", "a"))
    changes = diff_maps(a, b)
    assert changes and all(c.kind in KINDS for c in changes)
    import json

    json.dumps([c.as_dict() for c in changes])
