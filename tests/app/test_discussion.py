"""Comments in threads on a map's parts, @mentions waiting unread for the member named,
resolve and reopen, the activity feed — and who may comment (commenters up, not viewers)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.app.test_accounts import EDITOR, OWNER, PASSWORD, VIEWER, _api_token, sign_in, team  # noqa: F401

SME = "sme-onboarding-churn"


def _headers(c: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": _api_token(c)}


def test_threads_mentions_and_resolve(team: TestClient) -> None:  # noqa: F811
    team.app.state.jm.accounts.add("cora@example.com", "commenter", name="Cora Lee", password=PASSWORD)
    sign_in(team, "cora@example.com")
    listed = team.get(f"/api/maps/{SME}/comments").json()
    assert listed["threads"] == [] and "stage:onboarding" in listed["targets"]
    cell = next(k for k in listed["targets"] if k.startswith("cell:onboarding/pain_points/"))
    made = team.post(f"/api/maps/{SME}/comments", headers=_headers(team),
                     json={"target": cell, "body": "Is this still true after the new importer? @eddie @nobody"})
    assert made.status_code == 201 and made.json()["mentions"] == [EDITOR]
    unknown = team.post(f"/api/maps/{SME}/comments", headers=_headers(team), json={"target": "stage:nope", "body": "x"})
    assert unknown.status_code == 400 and "not a part of this map" in unknown.json()["error"]
    empty = team.post(f"/api/maps/{SME}/comments", headers=_headers(team), json={"target": "map", "body": "  "})
    assert empty.status_code == 400
    # the mention waits for Eddie, unread, and is shown in the header until he opens it
    sign_in(team, EDITOR)
    home = team.get("/").text
    assert re.search(r'aria-label="1 unread"', home)
    mine = team.get("/api/mentions").json()
    assert [(m["author"], m["unread"], m["target"]) for m in mine] == [("Cora Lee", True, cell)]
    assert "new" in team.get("/mentions").text
    assert team.get("/api/mentions").json()[0]["unread"] is True  # reading changes nothing (no state on GET)
    page = team.post("/mentions/read", headers=_headers(team), data={"comment": mine[0]["comment"]})
    assert page.status_code == 200 and "Mark all as read" not in page.text
    assert team.get("/api/mentions").json()[0]["unread"] is False
    assert 'aria-label="1 unread"' not in team.get("/").text
    assert team.post("/api/mentions/read", headers=_headers(team), json={}).json() == {"marked": 0}
    # Eddie replies in the page and resolves the thread; a new reply reopens it
    thread = team.get(f"/api/maps/{SME}/comments").json()["threads"][0]["id"]
    csrf = _api_token(team)
    assert team.post(f"/maps/{SME}/discussion/{thread}/reply", data={"body": "Yes, for Xero exports.",
                                                                     "csrf_token": csrf},
                     follow_redirects=False).status_code == 303
    assert team.post(f"/maps/{SME}/discussion/{thread}/resolve", data={"csrf_token": csrf},
                     follow_redirects=False).status_code == 303
    t = team.get(f"/api/maps/{SME}/comments").json()["threads"][0]
    assert t["resolved"] and t["resolved_by"] == "eddie" and [(c["author"], c["action"]) for c in t["comments"]] == [
        ("Cora Lee", "comment"), ("eddie", "comment"), ("eddie", "resolved")]
    team.post(f"/api/maps/{SME}/comments", headers=_headers(team), json={"thread_id": thread, "body": "One more."})
    assert team.get(f"/api/maps/{SME}/comments").json()["threads"][0]["resolved"] is False
    page = team.get(f"/maps/{SME}/discussion")
    assert page.status_code == 200 and "Yes, for Xero exports." in page.text and "Is this still true" in page.text
    # the feed: the comments and the resolution, on the map and in the workspace
    feed = team.get("/api/activity", params={"map": SME}).json()
    assert {a["kind"] for a in feed} >= {"commented", "resolved", "reopened", "created"}
    assert team.get("/activity").status_code == 200


def test_viewers_read_the_discussion_but_cannot_comment(team: TestClient) -> None:  # noqa: F811
    sign_in(team, OWNER)
    team.post(f"/api/maps/{SME}/comments", headers=_headers(team), json={"target": "map", "body": "Review Friday"})
    sign_in(team, VIEWER)
    assert "Review Friday" in team.get(f"/maps/{SME}/discussion").text
    refused = team.post(f"/api/maps/{SME}/comments", headers=_headers(team), json={"target": "map", "body": "me too"})
    assert refused.status_code == 403 and "commenter" in refused.json()["error"]
    thread = team.get(f"/api/maps/{SME}/comments").json()["threads"][0]["id"]
    assert team.post(f"/api/comments/{thread}/resolve", headers=_headers(team), json={}).status_code == 403


def test_a_commenter_gets_no_editor_rights_through_a_map_named_comments(team: TestClient, workspace) -> None:  # noqa: F811, ANN001
    team.app.state.jm.accounts.add("cora@example.com", "commenter", password=PASSWORD)
    text = (workspace / "maps" / f"{SME}.yaml").read_text().replace(f"id: {SME}", "id: comments", 1)
    (workspace / "maps" / "comments.yaml").write_text(text)
    sign_in(team, "cora@example.com")
    assert team.get("/api/maps/comments").status_code == 200
    base = team.get("/api/maps/comments").json()["latest"]["number"]
    edit = team.post("/api/maps/comments/edits", headers=_headers(team),
                     json={"base_version": base, "edits": [{"op": "set_field", "field": "title", "value": "x"}]})
    assert edit.status_code == 403


def test_the_mention_autocomplete_offers_members_by_handle_and_name(team: TestClient) -> None:  # noqa: F811
    accounts = team.app.state.jm.accounts
    accounts.add("eve.moss@example.com", "viewer", name="Eve Moss", password=PASSWORD)
    accounts.add("sam@north.example", "viewer", name="Sam North")
    accounts.add("sam@south.example", "viewer", name="Sam South")
    assert team.get("/api/mentionable?q=e").status_code == 401  # members only
    sign_in(team, VIEWER)  # a viewer reads the discussion, so sees who is in it
    found = lambda q: [(m["name"], m["handle"]) for m in team.get("/api/mentionable", params={"q": q}).json()]  # noqa: E731
    assert found("xq") == []
    assert found("e")[0] == ("eddie", "eddie") and ("Eve Moss", "eve.moss") in found("e")
    assert found("@EVE") == [("Eve Moss", "eve.moss")]  # the @ and the case do not matter
    assert found("moss") == [("Eve Moss", "eve.moss")]  # a word of the name
    # two members share "sam": each is offered with the whole email, which names them alone
    assert found("sam") == [("Sam North", "sam@north.example"), ("Sam South", "sam@south.example")]
    assert len(team.get("/api/mentionable").json()) == 6  # every member, at most 8
    # the handle offered is one the comment parser resolves to that member
    for m in team.get("/api/mentionable").json():
        assert [x.email for x in team.app.state.jm.comments.mentioned(f"hi @{m['handle']}")] == [m["email"]]
