"""``journeymap serve --collect``: the collector at /v1/ in front of the app, drained by
the app's own process into the store the maps read — numbers move without a restart."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

from fastapi.testclient import TestClient

from journeymap.app.collector_app import with_collector
from journeymap.app.main import create_app
from journeymap.workspace import Workspace

from .test_accounts import PASSWORD, sign_in


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def _calls(n: int, event: str = "trial_started") -> list[dict[str, object]]:
    return [{"type": "track", "userId": f"LIVE{i:04d}", "event": event, "messageId": str(uuid.uuid4()),
             "timestamp": "2026-10-30T09:00:00Z", "context": {"channel": "web"}} for i in range(n)]


def test_events_posted_to_the_app_reach_its_maps(workspace: Path) -> None:
    app = with_collector(create_app(workspace), every=3600)  # drained by hand below
    key = app.collector.keys.add("web")
    with TestClient(app) as c:
        before = c.get("/api/status").json()
        # accounts on: the app wants a session, /v1 wants only the write key (no cookie, no CSRF)
        app.state.jm.accounts.add("olga@example.com", "owner", password=PASSWORD)
        assert c.get("/api/status").status_code == 401
        r = c.post("/v1/batch", json={"batch": _calls(25)}, headers=_auth(key))
        assert r.status_code == 200, r.text
        assert c.post("/v1/batch", json={"batch": _calls(1)}, headers=_auth("wrong")).status_code == 401
        assert c.options("/v1/batch", headers={"Origin": "https://shop.example", "Access-Control-Request-Method":
                                               "POST"}).headers["access-control-allow-origin"] == "*"
        report = app.collector.drain()
        assert report.loaded == 25
        sign_in(c, "olga@example.com")
        after = c.get("/api/status").json()
        assert after["data_version"] > before["data_version"]
        assert after["tables"]["events"]["rows"] == before["tables"]["events"]["rows"] + 25
        # a last call, posted just before the app stops, is loaded as it stops
        assert c.post("/v1/track", json=_calls(1, "checkout_completed")[0], headers=_auth(key)).status_code == 200
    with Workspace.open(workspace) as ws:
        rows = ws.store.con.execute("SELECT count(*) FROM events WHERE customer_id LIKE 'LIVE%'").fetchone()[0]
    assert rows == 26


def test_serve_collect_serves_the_survey_script_and_links(workspace: Path) -> None:
    """The pop-up script and a touchpoint's survey link are served by the app too, and
    the answer reaches the store through the app's drain."""
    import yaml

    app = with_collector(create_app(workspace), every=3600)
    ws = app.state.jm.ws
    path = ws.resolve_map("sme-onboarding-churn")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    tp = doc["stages"][0]["touchpoints"][0]
    tp["survey"] = {"metric": "ces"}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    with TestClient(app) as c:
        app.state.jm.accounts.add("olga@example.com", "owner", password=PASSWORD)
        assert c.get("/survey.js").status_code == 200
        link = app.collector.surveys.link("sme-onboarding-churn", tp["id"], "C000001")
        form = c.get(link)
        assert form.status_code == 200 and form.text.count('type="radio"') == 7  # CES 1-7, no account needed
        assert c.post(link, data={"score": "6"}).status_code == 200
        assert app.collector.drain().answers == 1
    with Workspace.open(workspace) as w:
        got = w.store.con.execute("SELECT metric, score, touchpoint FROM feedback WHERE extra->>'via' = 'link'").fetchall()
    assert got == [("ces", 6.0, tp["id"])]


def test_the_api_makes_survey_links_for_an_editor(workspace: Path) -> None:
    """``POST /api/maps/REF/survey-links``: one signed link per customer (the survey's
    audience by default), answered at this app's /s/ when it collects."""
    plain = create_app(workspace, user="ana")
    with TestClient(plain, base_url="http://127.0.0.1:8000") as c:
        c.headers["X-CSRF-Token"] = c.get("/api/session").json()["csrf_token"]
        r = c.post("/api/maps/sme-onboarding-churn/survey-links", json={"touchpoint": "onboarding_call",
                                                                        "customers": ["C000001"]})
        assert r.status_code == 400 and "serve --collect" in r.json()["error"]
        r = c.post("/api/maps/sme-onboarding-churn/survey-links",
                   json={"touchpoint": "onboarding_call", "customers": ["C000001"],
                         "base_url": "https://cx.example"})
        assert r.status_code == 200 and r.json()[0]["link"].startswith("https://cx.example/s/")
    app = with_collector(create_app(workspace, user="ana"), every=3600)
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        c.headers["X-CSRF-Token"] = c.get("/api/session").json()["csrf_token"]
        made = c.post("/api/maps/sme-onboarding-churn/survey-links",
                      json={"touchpoint": "onboarding_call", "segment": "segment == 'SME'", "days": 3})
        assert made.status_code == 200, made.text
        links = made.json()
        assert len(links) > 100 and len({x["link"] for x in links}) == len(links)
        first = links[0]["link"].removeprefix("http://127.0.0.1:8000")
        assert first.startswith("/s/")
        assert c.post(first, data={"score": "5"}).status_code == 200
        assert c.post(first, data={"score": "5"}).status_code == 410
        nope = c.post("/api/maps/sme-onboarding-churn/survey-links", json={"touchpoint": "trial"})
        assert nope.status_code == 400 and "has no survey" in nope.json()["error"]
        assert app.collector.drain().answers == 1
