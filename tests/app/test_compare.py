"""Current state against future state: a future-state map beside the current-state map
it improves — the changes in the map's words, both emotion curves and stage reaches —
through the API, the compare page and the future map's page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from journeymap.model.diff import diff_maps
from journeymap.model.yamlio import parse_map

CURRENT = "enterprise-acquisition"


def _doc(client: TestClient, ref: str):  # noqa: ANN202 - a JourneyMap
    return parse_map(client.get(f"/api/maps/{ref}").json()["text"], f"{ref}.yaml")[0]


def _future(client: TestClient) -> None:
    made = client.post("/api/maps", json={"ref": "enterprise-future", "template": "future-state",
                                          "from_map": CURRENT, "title": "Enterprise, as it should be"})
    assert made.status_code == 201, made.text


def test_a_future_state_is_compared_with_the_current_state_it_improves(client: TestClient) -> None:
    _future(client)
    got = client.get("/api/maps/enterprise-future/compare").json()
    assert (got["current"], got["future"], got["linked"]) == (CURRENT, "enterprise-future", True)
    expected = [c.as_dict() for c in diff_maps(_doc(client, CURRENT), _doc(client, "enterprise-future"))]
    assert got["changes"] == expected
    kinds = {c["kind"] for c in got["changes"]}
    assert {"cell_removed", "emotion_changed", "map_changed"} <= kinds  # pain points cleared, emotions raised
    # from the current state's side the future state is found too, and still shown second
    back = client.get(f"/api/maps/{CURRENT}/compare").json()
    assert (back["current"], back["future"], back["links"]["futures"]) == (CURRENT, "enterprise-future",
                                                                           ["enterprise-future"])
    # an edit of the future state is one more change
    v = client.get("/api/maps/enterprise-future").json()["latest"]["number"]
    stage = _doc(client, "enterprise-future").stages[0].id
    client.post("/api/maps/enterprise-future/edits", json={"base_version": v, "edits": [
        {"op": "add_cell", "stage": stage, "lane": "actions", "text": "Finds the ERP list on the first page"}]})
    again = client.get("/api/maps/enterprise-future/compare").json()["changes"]
    assert len(again) == len(got["changes"]) + 1
    assert any("Finds the ERP list on the first page" in c["text"] for c in again)
    # any two maps side by side, not linked; an unknown map is 404
    other = client.get("/api/maps/enterprise-future/compare", params={"with": "day-in-the-life"}).json()
    assert other["linked"] is False and other["changes"]
    assert client.get("/api/maps/enterprise-future/compare", params={"with": "nope"}).status_code == 404
    assert client.get("/maps/enterprise-future/compare", params={"with": "nope"}).status_code == 404
    lonely = client.get("/maps/day-in-the-life/compare").text
    assert "no linked current or future state" in lonely and 'name="with"' in lonely  # any map can be chosen


@pytest.mark.slow
def test_the_charts_draw_both_states_from_their_analyses(client: TestClient) -> None:
    _future(client)
    first = client.get("/api/maps/enterprise-future/compare")
    jobs = client.app.state.jm.jobs
    for ref in (CURRENT, "enterprise-future"):
        _, job = jobs.analysis_for(ref)
        if job is not None:
            assert jobs.wait(job.id, timeout=120).status == "done"
    assert first.status_code == 202
    done = client.get("/api/maps/enterprise-future/compare")
    assert done.status_code == 200
    charts = {c["id"]: c["svg"] for c in done.json()["charts"]}
    assert "Current: How enterprise accounts come to buy Lumetra" in charts["emotion"]
    assert "Future: Enterprise, as it should be" in charts["compare"]
    page = client.get("/maps/enterprise-future/compare")
    assert page.status_code == 200 and 'id="chart-emotion"' in page.text and "Current state → future state" in page.text
    # the future map's own page draws the current state's curve beside its own
    assert "Current: How enterprise accounts" in client.get("/maps/enterprise-future/page").text
