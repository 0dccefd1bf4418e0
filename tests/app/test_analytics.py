"""The analytics views through the API and their pages: every view from the cached
analysis, the filters of ``analyze`` (segment rule, period, by) each cached on their
own, the same numbers as the service layer's analysis, and a clear error on the field
a wrong filter concerns."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from journeymap.analysis import Filters
from journeymap.render.analytics import VIEWS

SME = "sme-onboarding-churn"


def _ready(client: TestClient, url: str) -> dict[str, Any]:
    """The view at ``url`` once its analysis is computed (waiting for the job)."""
    first = client.get(url)
    assert first.status_code in (200, 202), first.text
    if first.status_code == 202:
        job = first.json()["job"]
        done = client.app.state.jm.jobs.wait(job["id"], timeout=120)
        assert done.status == "done", done.error
    again = client.get(url)
    assert again.status_code == 200 and again.json()["fresh"] and again.json()["job"] is None
    return again.json()


def _column(table: dict[str, Any], name: str) -> list[str]:
    i = table["columns"].index(name)
    return [row[i]["text"] for row in table["rows"]]


@pytest.mark.slow
def test_every_view_shows_the_cached_analysis(client: TestClient) -> None:
    views = {v: _ready(client, f"/api/maps/{SME}/analytics/{v}")["view"] for v in VIEWS if v != "stages"}
    ws = client.app.state.jm.ws
    analysis = ws.analyze_page(ws.load_map(SME))
    # paths: the Sankey and the most common paths, as many as the analysis has (top 15)
    paths = views["paths"]
    assert {c["id"] for c in paths["charts"]} >= {"sankey"} and "<svg" in paths["charts"][0]["svg"]
    top = next(t for t in paths["tables"] if t["id"] == "top-paths")
    assert len(top["rows"]) == min(15, len(analysis["paths"]))
    assert _column(top, "Customers")[0] == f"{analysis['paths'][0]['customers']:,}"
    # funnel: one row per step with its customers, and where the leavers went
    steps = next(t for t in views["funnel"]["tables"] if t["id"] == "funnel-steps")
    assert _column(steps, "Customers") == [f"{s['customers']:,}" for s in analysis["funnel"]]
    assert any(went != "–" for went in _column(steps, "Leavers went to"))
    assert views["funnel"]["charts"][0]["id"] == "funnel"
    # segment comparison: every test of the analysis, significant ones first
    tests = views["segments"]["tables"][0]
    assert len(tests["rows"]) == len(analysis["segments"])
    flags = _column(tests, "")
    assert flags == sorted(flags, key=lambda f: f != "significant")
    assert flags.count("significant") == sum(bool(r["significant"]) for r in analysis["segments"])
    # pain points: one card per pain point, each with its evidence and test
    pains = views["pain-points"]
    assert len(pains["cards"]) == len(analysis["pain_points"]) > 0
    first = pains["cards"][0]
    assert dict(first["facts"])["Test"].startswith(analysis["pain_points"][0]["evidence"]["test"])
    assert first["badge"] == f"{analysis['pain_points'][0]['customers_affected']:,} customers"
    # themes with their quotes
    themes = views["themes"]
    assert len(themes["cards"]) == len(analysis["themes"]["themes"])
    assert any(card["quotes"] for card in themes["cards"])
    # KPI trends: the goal's monthly series and the feedback KPIs, with the goal's target
    trends = views["trends"]
    assert trends["charts"] and "target" in trends["charts"][0]["svg"]
    assert _column(trends["tables"][0], "KPI")[0] == analysis["goal"]["name"]


@pytest.mark.slow
def test_stages_by_segment_split_every_customer_once(client: TestClient) -> None:
    view = _ready(client, f"/api/maps/{SME}/analytics/stages?by=plan")
    assert view["filters"]["by"] == "plan"
    table = view["view"]["tables"][0]
    ws = client.app.state.jm.ws
    analysis = ws.analyze_page(ws.load_map(SME), filters=Filters(by="plan"))
    groups = analysis["by"]["groups"]
    assert sorted(_column(table, "plan")) == sorted(groups)
    # each customer is in exactly one plan: per stage, the groups add up to the whole
    for stage in analysis["stages"]:
        assert sum(next((r["customers"] for r in g["stages"] if r["id"] == stage["id"]), 0)
                   for g in groups.values()) == stage["customers"]
    sizes = {name: int(n.replace(",", "")) for name, n in zip(_column(table, "plan"), _column(table, "Customers"))}
    assert sizes == {name: g["customers"] for name, g in groups.items()}
    assert max(s["customers"] for s in analysis["stages"]) <= sum(sizes.values()) <= \
        analysis["scope"]["segment_customers"]
    first = analysis["stages"][0]
    shares = dict(zip(_column(table, "plan"), _column(table, first["name"])))
    for name, g in groups.items():
        reached = next((r["customers"] for r in g["stages"] if r["id"] == first["id"]), 0)
        assert shares[name] == f"{reached / g['customers'] * 100:.0f} %"
    # without ``by`` the view takes an attribute the persona does not fix
    default = client.get(f"/api/maps/{SME}/analytics/stages").json()["filters"]["by"]
    assert default and default != "segment"


@pytest.mark.slow
def test_filters_narrow_the_analysis_and_are_cached_on_their_own(client: TestClient) -> None:
    ws = client.app.state.jm.ws
    jmap = ws.load_map(SME)
    whole = _ready(client, f"/api/maps/{SME}/analysis")["analysis"]
    pro = _ready(client, f"/api/maps/{SME}/analysis?segment=plan == 'pro'")
    assert pro["filters"]["segment"] == "plan == 'pro'"
    expected = ws.analyze_page(jmap, filters=Filters(segment="plan == 'pro'"))
    assert pro["analysis"]["stages"] == expected["stages"] and pro["analysis"]["scope"] == expected["scope"]
    assert 0 < pro["analysis"]["scope"]["segment_customers"] < whole["scope"]["segment_customers"]
    period = Filters(since=dt.date(2026, 1, 1), until=dt.date(2026, 7, 1))
    half = _ready(client, f"/api/maps/{SME}/analysis?since=2026-01-01&until=2026-07-01")["analysis"]
    assert half["scope"]["since"].startswith("2026-01-01") and half["scope"]["until"].startswith("2026-07-01")
    assert half["stages"] == ws.analyze_page(jmap, filters=period)["stages"]
    assert half["scope"]["events"] < whole["scope"]["events"]
    # each filter set has its own cache entry: asking again starts nothing
    for url in (f"/api/maps/{SME}/analysis", f"/api/maps/{SME}/analysis?segment=plan == 'pro'",
                f"/api/maps/{SME}/analysis?since=2026-01-01&until=2026-07-01"):
        again = client.get(url)
        assert again.status_code == 200 and again.json()["job"] is None
    # the page with the same filters reads that cached analysis
    page = client.get(f"/maps/{SME}/analytics/funnel", params={"segment": "plan == 'pro'"})
    assert page.status_code == 200 and "segment <code>plan == &#39;pro&#39;</code>" in page.text
    assert 'id="chart-funnel"' in page.text


@pytest.mark.parametrize(("query", "field", "words"), [
    ({"segment": "plan =="}, "segment", "something is missing"),
    ({"segment": "colour == 'red'"}, "segment", "unknown field 'colour'"),
    ({"by": "colour"}, "by", "'colour' is not a customer attribute"),
    ({"since": "last tuesday"}, "since", "is not a date"),
    ({"since": "2026-05-01", "until": "2026-01-01"}, "until", "must be after since"),
])
def test_a_wrong_filter_is_named_on_its_field(client: TestClient, query: dict[str, str], field: str,
                                              words: str) -> None:
    api = client.get(f"/api/maps/{SME}/analytics/funnel", params=query)
    assert api.status_code == 400 and api.json()["field"] == field and words in api.json()["error"]
    assert client.get(f"/api/maps/{SME}/analysis", params=query).status_code == 400
    page = client.get(f"/maps/{SME}/analytics/funnel", params=query)
    assert page.status_code == 400 and 'id="filter-error"' in page.text
    control = re.search(rf'<(?:input|select)[^>]*id="f-{field}"[^>]*>', page.text)
    assert control and 'aria-invalid="true"' in control.group(0)
    assert page.text.count('aria-invalid="true"') == 1
    assert client.app.state.jm.jobs._running == {}  # nothing was started on a wrong filter


def test_an_unknown_view_is_404(client: TestClient) -> None:
    assert client.get(f"/api/maps/{SME}/analytics/nope").status_code == 404
    page = client.get(f"/maps/{SME}/analytics/nope")
    assert page.status_code == 404 and "no analytics view" in page.text
    assert client.get(f"/maps/{SME}/analytics", follow_redirects=False).headers["location"] == \
        f"/maps/{SME}/analytics/paths"
