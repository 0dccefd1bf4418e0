"""Who fixes what: an owner, a status and a link on each pain point and opportunity, kept
by what the item is and where (not its rank), in the feed, and in the backlog export."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from journeymap.app.ownership import found_items
from journeymap.app.tables import WorkItemRow

SME = "sme-onboarding-churn"


def test_an_item_is_known_by_what_and_where_not_by_its_rank() -> None:
    a = {"pain_points": [{"target": "signup", "level": "touchpoint", "kind": "drop_off"},
                         {"target": "billing", "level": "stage", "kind": "low_csat"}],
         "opportunities": [{"target": "signup", "level": "touchpoint", "kind": "fix_drop_off"}]}
    b = {"pain_points": list(reversed(a["pain_points"])), "opportunities": a["opportunities"]}
    names = {"signup": "Sign-up form", "billing": "Billing"}
    first, second = found_items(a, names), found_items(b, names)
    assert [i.key for i in first] == ["pain:touchpoint:signup", "pain:stage:billing",
                                      "opportunity:fix_drop_off:touchpoint:signup"]
    assert sorted(i.key for i in first) == sorted(i.key for i in second)
    assert first[0].title == "Drop off: Sign-up form" and first[2].kind == "opportunity"


@pytest.fixture
def analysed(client: TestClient) -> TestClient:
    jobs = client.app.state.jm.jobs
    _, job = jobs.analysis_for(SME)
    jobs.wait(job.id, timeout=120)
    return client


@pytest.mark.slow
def test_owner_status_and_link_stay_with_the_item_and_reach_feed_and_backlog(analysed: TestClient) -> None:
    c = analysed
    items = c.get(f"/api/maps/{SME}/items").json()
    assert items and all(i["status"] == "open" and i["owner"] is None and i["found"] for i in items)
    opp = next(i for i in items if i["kind"] == "opportunity")
    jira_before = list(csv.reader(io.StringIO(c.get(f"/maps/{SME}/backlog-jira.csv").text)))

    changed = c.put(f"/api/maps/{SME}/items/{opp['key']}", json={"owner": "ana@example.com", "status": "Planned"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["status"] == "planned" and changed.json()["changed_by"] == "ana"
    linear = list(csv.reader(io.StringIO(c.get(f"/maps/{SME}/backlog-linear.csv").text)))
    row = next(r for r in linear[1:] if r[0] == opp["title"])
    assert row[4] == "Todo" and row[5] == "ana@example.com"

    linked = c.put(f"/api/maps/{SME}/items/{opp['key']}", json={"link": "https://linear.app/acme/issue/CX-12"})
    assert linked.json()["owner"] == "ana@example.com"  # what is not sent stays
    jira = list(csv.reader(io.StringIO(c.get(f"/maps/{SME}/backlog-jira.csv").text)))
    assert len(jira) == len(jira_before) - 1  # in a tracker already: not exported twice
    assert opp["title"] not in [r[0] for r in jira]

    feed = c.get("/api/activity", params={"map": SME}).json()
    assert [a for a in feed if a["kind"] == "assigned" and "CX-12" in a["text"]]
    page = c.get(f"/maps/{SME}/follow-up")
    assert page.status_code == 200 and "https://linear.app/acme/issue/CX-12" in page.text
    assert 'name="status"' in page.text and opp["title"] in page.text

    for bad, word in (({"status": "someday"}, "status"), ({"link": "javascript:alert(1)"}, "link"),
                      ({"owner": "Bob"}, None)):
        r = c.put(f"/api/maps/{SME}/items/{opp['key']}", json=bad)
        if word:
            assert r.status_code == 400 and r.json()["error"].startswith(word)
    assert c.put(f"/api/maps/{SME}/items/pain:stage:nowhere", json={"status": "done"}).status_code == 404


@pytest.mark.slow
def test_a_tracked_item_the_data_no_longer_finds_stays_listed(analysed: TestClient) -> None:
    st = analysed.app.state.jm
    with st.library.sessions.begin() as s:
        s.add(WorkItemRow(map_pk=st.library.get(SME).row.id, key="pain:touchpoint:old_form",
                          title="Drop off: Old form", status="done", changed_by="olga"))
    gone = [i for i in analysed.get(f"/api/maps/{SME}/items").json() if not i["found"]]
    assert [(i["key"], i["status"]) for i in gone] == [("pain:touchpoint:old_form", "done")]
    assert "no longer found in the data — the fix shows" in analysed.get(f"/maps/{SME}/follow-up").text


@pytest.mark.slow
def test_a_viewer_sees_owners_but_cannot_change_them(analysed: TestClient) -> None:
    from tests.app.test_accounts import _api_token, sign_in

    st = analysed.app.state.jm
    st.accounts.add("olga@example.com", "owner", password="correct horse battery")
    st.accounts.add("vic@example.com", "viewer", password="correct horse battery")
    sign_in(analysed, "olga@example.com")
    headers = {"X-CSRF-Token": _api_token(analysed)}
    key = analysed.get(f"/api/maps/{SME}/items").json()[0]["key"]
    bad = analysed.put(f"/api/maps/{SME}/items/{key}", json={"owner": "nobody@example.com"}, headers=headers)
    assert bad.status_code == 400 and "not a member" in bad.json()["error"]
    assert analysed.put(f"/api/maps/{SME}/items/{key}", json={"owner": "vic@example.com"},
                        headers=headers).status_code == 200
    analysed.post("/logout", headers=headers)
    r = sign_in(analysed, "vic@example.com")
    assert r.status_code == 303, r.text[:300]
    headers = {"X-CSRF-Token": _api_token(analysed)}
    assert analysed.put(f"/api/maps/{SME}/items/{key}", json={"status": "done"}, headers=headers).status_code == 403
    page = analysed.get(f"/maps/{SME}/follow-up").text
    assert "vic@example.com" in page and 'name="status"' not in page
