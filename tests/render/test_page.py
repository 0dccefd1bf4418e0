"""The map page: structure, numbers from the analysis, layouts, charts, offline."""

from __future__ import annotations

import re

import pytest

from journeymap.render.page import render_map_html
from journeymap.render.view import build_view
from tests.render.conftest import all_maps, demo_map, sme_analysis

MAPS = all_maps()


@pytest.mark.parametrize("name", sorted(MAPS))
def test_every_stage_lane_and_touchpoint_is_on_the_page(name: str) -> None:
    jmap = MAPS[name]
    page = render_map_html(jmap)
    for stage in jmap.stages:
        assert f'id="stage-{stage.id}"' in page and stage.name in page.replace("&#39;", "'")
    for tp in jmap.touchpoints:
        assert f'id="tp-{tp.id}"' in page
    for lane in ("actions", "touchpoints", "emotion"):
        if lane != "actions" or any(s.lanes.actions for s in jmap.stages):
            assert f'data-lane="{lane}"' in page
    for custom in jmap.custom_lanes:
        assert f'data-lane="{custom.id}"' in page
    assert not re.search(r'(src|href)="(https?:)?//', page), "the page must not fetch anything"
    assert "<script src" not in page and "@import" not in page


def test_numbers_on_the_page_equal_the_analysis() -> None:
    analysis = sme_analysis()
    page = render_map_html(demo_map("sme-onboarding-churn"), analysis)
    for s in analysis["stages"]:
        head = page.split(f'id="stage-{s["id"]}"', 1)[1][:1500]
        assert f'data-metric="stage-customers">{s["customers"]:,}<' in head
    for t in analysis["touchpoints"]:
        card = page.split(f'id="tp-{t["id"]}"', 1)[1][:2500]
        assert f'data-metric="customers">{t["customers"]:,}<' in card
        assert f'data-metric="events">{t["events"]:,}<' in card
    chat = page.split('id="tp-support_chat"', 1)[1][:2500]
    assert 'data-value="0.22"' in chat and "17–29 %" in chat and "n=187" in chat
    assert 'data-metric="customers-total">1,606<' in page


def test_kpi_badges_compare_with_the_target_on_its_scale() -> None:
    view = build_view(demo_map("sme-onboarding-churn"), sme_analysis())
    kpis = {k.name: k for s in view.stages for k in s.kpis}
    chat = kpis["Chat CSAT"]  # target 3.8 points: compared with the mean score 2.38, worse than 2.5
    assert chat.actual is not None and chat.actual.value == pytest.approx(2.38) and chat.actual.n == 187
    assert chat.status == "bad"
    nps = kpis["Relationship NPS"]  # 26.3 between baseline 20 and target 35
    assert nps.actual is not None and nps.actual.value == pytest.approx(26.3) and nps.status == "mid"
    assert kpis["Renewal rate"].status == "none"
    page = render_map_html(view.jmap, sme_analysis())
    assert re.search(r'class="kpi bad" data-kpi="csat"[^>]*>Chat CSAT <b data-value="2.38"', page)


def test_emotion_measured_points_differ_from_assumptions() -> None:
    view = build_view(demo_map("sme-onboarding-churn"), sme_analysis())
    kinds = [s.emotion.kind for s in view.stages]
    assert kinds == ["assumption", "data", "assumption", "data", "assumption"]
    assert view.stages[1].emotion.n == 921 and view.stages[1].emotion.low == pytest.approx(-0.7)
    page = render_map_html(view.jmap, sme_analysis())
    assert page.count('data-kind="data"') == 2 and page.count('data-kind="assumption"') == 3
    assert "n=921" in page and "assumed" in page


def test_data_found_pain_points_quotes_and_paths_show() -> None:
    page = render_map_html(demo_map("sme-onboarding-churn"), sme_analysis())
    assert "381 customers (36 % of the stage) left after Free trial" in page
    assert "The import rejects my dates" in page.split('id="tp-data_import"', 1)[1][:4000]
    assert "Free trial → END" in page


def test_charts_render_from_the_analysis() -> None:
    page = render_map_html(demo_map("sme-onboarding-churn"), sme_analysis())
    for chart in ("emotion", "funnel", "sankey", "trend"):
        assert f'id="chart-{chart}"' in page
    funnel = page.split('id="chart-funnel"', 1)[1].split("</figure>", 1)[0]
    assert "went to: End of journey 381" in funnel
    sankey = page.split('id="chart-sankey"', 1)[1].split("</figure>", 1)[0]
    assert "200 moves back or within a stage are not drawn" in sankey
    outcome = page.split('id="chart-outcome"', 1)[1].split("</figure>", 1)[0]
    assert "Reached First renewal — 469 customers" in outcome
    assert "Started, never reached First renewal — 589 customers" in outcome
    assert "End of journey" in outcome and "64 %" in outcome  # 381 of 589 ended after the trial


def test_missing_sections_render_gracefully() -> None:
    jmap = demo_map("sme-onboarding-churn")
    for partial in ({}, {"stages": [{"id": "signup", "customers": 5}]}, {"feedback": []}, {"emotion": None}):
        page = render_map_html(jmap, partial)
        assert 'id="stage-renewal"' in page


def test_layouts() -> None:
    day = render_map_html(demo_map("day-in-the-life"))
    assert 'class="layout-time_of_day' in day and "06:00-12:00" in day
    store = render_map_html(MAPS["template-retail-store-visit"])
    assert 'class="layout-location' in store and "Place 1" in store
    blueprint = render_map_html(MAPS["template-service-blueprint"])
    assert "line of visibility" in blueprint and 'data-lane="backstage_touchpoints"' in blueprint


def test_future_state_is_drawn_against_the_current_state() -> None:
    current = build_view(demo_map("sme-onboarding-churn"), sme_analysis())
    page = render_map_html(MAPS["template-future-state"], current=current)
    emotion = page.split('id="chart-emotion"', 1)[1].split("</figure>", 1)[0]
    assert "Current: SME journey" in emotion and "Future: " in emotion


def test_two_segments_side_by_side_highlight_differences() -> None:
    jmap = demo_map("sme-onboarding-churn")
    other = build_view(jmap, {"scope": {"customers": 100}, "stages": [{"id": "signup", "customers": 90},
                                                                     {"id": "onboarding", "customers": 80}]})
    page = render_map_html(jmap, {"scope": {"customers": 100}, "stages": [
        {"id": "signup", "customers": 66}, {"id": "onboarding", "customers": 79}]}, compare=other)
    chart = page.split('id="chart-compare"', 1)[1].split("</figure>", 1)[0]
    assert 'font-weight="bold" class="diff">−24 pp' in chart.replace("-24", "−24")
    assert ">-1 pp<" in chart or ">−1 pp<" in chart


def test_by_groups_draw_the_segments_chart_and_a_comparison_table_does_not() -> None:
    jmap = demo_map("sme-onboarding-churn")
    by = {"attribute": "segment", "groups": {
        "SME": {"customers": 100, "stages": [{"id": "signup", "customers": 100}, {"id": "onboarding", "customers": 60}]},
        "Enterprise": {"customers": 50, "stages": [{"id": "signup", "customers": 50}, {"id": "onboarding", "customers": 45}]},
    }}
    page = render_map_html(jmap, {"scope": {"customers": 150}, "by": by})
    chart = page.split('id="chart-segments"', 1)[1].split("</figure>", 1)[0]
    assert "SME" in chart and "Enterprise" in chart and ">+30 pp<" in chart  # 90 % vs 60 % at onboarding
    comparison_only = render_map_html(jmap, {"segments": [{"metric": "conversion", "segment": "SME"},
                                                          {"metric": "conversion", "segment": "Enterprise"}]})
    assert 'id="chart-segments"' not in comparison_only
