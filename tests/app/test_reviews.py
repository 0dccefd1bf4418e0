"""Map ownership and review: an owner and an interval per map, "mark reviewed" with who
and when, and a map flagged stale — review overdue, or its stage numbers moved beyond
the interval they had at the review — in the maps list, on the map and in the feed."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from journeymap.app.tables import MapReviewRow, utcnow
from journeymap.reports import review_drift, stage_snapshot

SME = "sme-onboarding-churn"


def _analysis(reach: list[int], total: int = 100, conversion: list[float | None] | None = None) -> dict:
    conversion = conversion or [None] * len(reach)
    return {"scope": {"segment_customers": total},
            "stages": [{"id": f"s{i}", "name": f"Stage {i}", "customers": n, "conversion_to_next": c}
                       for i, (n, c) in enumerate(zip(reach, conversion, strict=True))]}


def test_drift_is_a_move_beyond_the_interval_at_the_review() -> None:
    then = stage_snapshot(_analysis([50, 40], conversion=[0.8, None]))
    assert review_drift(then, _analysis([48, 41], conversion=[0.78, None])) == []  # within chance
    moved = review_drift(then, _analysis([30, 41], conversion=[0.8, None]))
    assert moved == ["reach of Stage 0 moved from 50% to 30% (outside 40%–60% at the review)"]
    converted = review_drift(then, _analysis([50, 40], conversion=[0.5, None]))
    assert len(converted) == 1 and converted[0].startswith("conversion to the next stage of Stage 0 moved from 80%")
    assert review_drift(then, {"stages": []}) == []  # a stage gone is no drift (the map changed)


def _backdate(client: TestClient, days: int, snapshot: list | None = None) -> None:
    st = client.app.state.jm
    with st.library.sessions.begin() as s:
        s.add(MapReviewRow(map_pk=st.library.get(SME).row.id, interval_days=30, reviewed_by="olga",
                           reviewed_at=utcnow() - dt.timedelta(days=days), snapshot=snapshot,
                           created_at=utcnow() - dt.timedelta(days=days)))


def test_an_overdue_review_flags_the_map_until_someone_reviews_it(client: TestClient) -> None:
    fresh = client.get(f"/api/maps/{SME}/review").json()
    assert fresh["stale"] is False and fresh["interval_days"] == 90 and fresh["reviewed_at"] is None
    _backdate(client, 45)
    late = client.get(f"/api/maps/{SME}/review").json()
    assert late["stale"] and late["reasons"][0].startswith("review due since")
    assert "stale" in client.get("/").text and "review due since" in client.get(f"/maps/{SME}").text
    flagged = [a for a in client.get("/api/activity").json() if a["kind"] == "stale"]
    assert [a["ref"] for a in flagged] == [SME] and "review due since" in flagged[0]["text"]
    assert "is stale: review due since" in client.get("/activity").text
    assert "is stale" in client.get(f"/maps/{SME}/discussion").text
    done = client.post(f"/api/maps/{SME}/reviewed").json()
    assert done["stale"] is False and done["reviewed_by"] == "ana" and done["interval_days"] == 30
    after = client.get("/api/activity", params={"map": SME}).json()
    assert any(a["kind"] == "reviewed" for a in after) and not any(a["kind"] == "stale" for a in after)
    changed = client.put(f"/api/maps/{SME}/review", json={"interval_days": 7})
    assert changed.json()["interval_days"] == 7 and changed.json()["reviewed_by"] == "ana"
    assert client.put(f"/api/maps/{SME}/review", json={"interval_days": 0}).status_code == 422


def test_the_owner_must_be_a_member(client: TestClient) -> None:
    client.app.state.jm.accounts.add("olga@example.com", "owner", password="correct horse battery")
    from tests.app.test_accounts import _api_token, sign_in

    sign_in(client, "olga@example.com")
    headers = {"X-CSRF-Token": _api_token(client)}
    bad = client.put(f"/api/maps/{SME}/review", json={"owner": "someone@else.com"}, headers=headers)
    assert bad.status_code == 400 and "not a member" in bad.json()["error"]
    ok = client.put(f"/api/maps/{SME}/review", json={"owner": "Olga@Example.com"}, headers=headers)
    assert ok.json()["owner"] == "olga@example.com"


@pytest.mark.slow
def test_the_data_moving_since_the_review_flags_the_map(client: TestClient) -> None:
    jobs = client.app.state.jm.jobs
    _, job = jobs.analysis_for(SME)
    jobs.wait(job.id, timeout=120)
    cached, _ = jobs.analysis_for(SME)
    then = stage_snapshot(cached.result)
    then[0]["customers"] = then[0]["total"] // 4 or 1  # at the review, a quarter reached the first stage
    _backdate(client, 2, then)
    review = client.get(f"/api/maps/{SME}/review").json()
    first = cached.result["stages"][0]["name"]
    assert review["stale"] and any(r.startswith(f"reach of {first} moved from") for r in review["reasons"])
    client.post(f"/api/maps/{SME}/reviewed")  # reviewed on today's numbers: no drift
    assert client.get(f"/api/maps/{SME}/review").json()["stale"] is False
