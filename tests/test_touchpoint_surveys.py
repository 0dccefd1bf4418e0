"""Surveys at touchpoints (issue 13, point 5; ADR 0019): links that cannot be reused or
forged, the pop-up's ask and answer, the API, and answers in the map's KPIs."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from journeymap.app.collector_app import create_collector_app
from journeymap.cli import main
from journeymap.collector import Collector
from journeymap.touchpoint_surveys import Signer, SurveyError
from journeymap.workspace import Workspace

MAP = """\
journeymap: 1
id: onboarding
title: Onboarding
scope: From sign-up to first report
goal: {statement: Customers reach their first report within a week}
persona: {name: Ops lead}
scenario: An ops lead sets up the tool for the team.
stages:
  - id: setup
    name: Setup
    touchpoints:
      - id: kickoff-call
        name: Kickoff call <b>live</b>
        channel: phone
        match: kickoff_call
        survey:
          metric: csat
          question: How was your kickoff call <script>alert(1)</script>?
          comment: What could we do better?
          audience: plan == 'pro'
          every_days: 30
      - id: first-report
        name: First report
        channel: web
        match: report_created
        survey: {metric: nps, every_days: 0}
      - id: docs
        name: Docs
        channel: web
        match: docs_viewed
"""


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


@pytest.fixture
def ws(tmp_path: Path) -> Any:
    with Workspace.create(tmp_path / "ws") as w:
        (w.maps_dir / "onboarding.yaml").write_text(MAP, encoding="utf-8")
        customers = tmp_path / "customers.csv"
        customers.write_text("customer_id,plan\nC1,pro\nC2,pro\nC3,free\n")
        w.ingest("customers", [customers])
        events = tmp_path / "events.csv"
        events.write_text("customer_id,timestamp,event\nC1,2026-11-01T10:00:00Z,kickoff_call\n"
                          "C2,2026-11-01T11:00:00Z,kickoff_call\nC3,2026-11-02T10:00:00Z,report_created\n")
        w.ingest("events", [events])
        yield w


@pytest.fixture
def collector(ws: Any) -> Any:
    c = Collector(ws)
    yield c
    c.close()


def _feedback(ws: Any) -> list[tuple[Any, ...]]:
    return ws.store.con.execute("SELECT customer_id, metric, score, touchpoint, comment, extra FROM feedback "
                                "ORDER BY timestamp").fetchall()


def test_a_link_is_answered_once_and_lands_in_the_touchpoints_kpis(ws: Any, collector: Collector) -> None:
    [(customer, url)] = ws.survey_links("onboarding", "kickoff-call", ["C1"], base_url="https://cx.example")
    assert customer == "C1" and url.startswith("https://cx.example/s/")
    path = url.removeprefix("https://cx.example")
    with TestClient(create_collector_app(collector)) as c:
        page = c.get(path)
        assert page.status_code == 200
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert "<script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert page.text.count('type="radio"') == 5 and "What could we do better?" in page.text
        assert c.post(path, data={}).status_code == 400           # no score: the form again, said why
        assert c.post(path, data={"score": "9"}).status_code == 400  # off the 1-5 scale
        done = c.post(path, data={"score": "2", "comment": "Too long <i>on hold</i>"})
        assert done.status_code == 200 and "Thank you" in done.text
        again = c.post(path, data={"score": "5"})
        assert again.status_code == 410 and "answered already" in again.text
        assert c.get(path).status_code == 410
    report = collector.drain()
    assert report.answers == 1
    [(cid, metric, score, tp, comment, extra)] = _feedback(ws)
    assert (cid, metric, score, tp, comment) == ("C1", "csat", 2.0, "kickoff-call", "Too long <i>on hold</i>")
    assert json.loads(extra)["via"] == "link" and json.loads(extra)["map"] == "onboarding"
    # the answer is in the map's numbers at the next analysis: the touchpoint's CSAT
    analysis = ws.analyze("onboarding", sections=["feedback"])
    csat = analysis["feedback"]["touchpoints"]["kickoff-call"]["csat"]
    assert (csat["n"], csat["mean"]["value"]) == (1, 2.0)


def test_a_link_cannot_be_forged_or_used_after_it_expires(ws: Any, collector: Collector, tmp_path: Path) -> None:
    good = ws.survey_links("onboarding", "kickoff-call", ["C1"])[0][1].rsplit("/", 1)[1]
    body, sig = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    forged_body = base64.urlsafe_b64encode(json.dumps({**claims, "c": "C2"}).encode()).rstrip(b"=").decode()
    other = Signer(tmp_path / "elsewhere").make("onboarding", "kickoff-call", "C1")  # another workspace's key
    expired = collector.surveys.signer.make("onboarding", "kickoff-call", "C1", days=1,
                                            now=dt.datetime.now(dt.UTC) - dt.timedelta(days=2))
    with TestClient(create_collector_app(collector)) as c:
        for token in (f"{forged_body}.{sig}", other, f"{body}.{sig[:-2]}AA", "garbage", f"{body}."):
            r = c.post(f"/s/{token}", data={"score": "5"})
            assert r.status_code == 404 and "not a survey link" in r.text, token
        assert c.post(f"/s/{expired}", data={"score": "5"}).status_code == 410
        assert c.post("/v1/survey/answer", json={"token": other, "score": 5}).status_code == 404
    assert collector.drain().answers == 0 and _feedback(ws) == []


def test_the_api_takes_answers_with_a_write_key_once_per_message_id(ws: Any, collector: Collector) -> None:
    key = collector.keys.add("app")
    answer = {"userId": "C3", "map": "onboarding", "touchpoint": "first-report", "score": 9,
              "messageId": "resp-1", "timestamp": "2026-11-03T10:00:00Z"}
    with TestClient(create_collector_app(collector)) as c:
        assert c.post("/v1/survey", json=answer).status_code == 401
        assert c.post("/v1/survey", json=answer, headers=_auth(key)).json() == {"success": True}
        assert c.post("/v1/survey", json=answer, headers=_auth(key)).status_code == 200  # a retry
        bad = c.post("/v1/survey", json={**answer, "score": 11, "messageId": "resp-2"}, headers=_auth(key))
        assert bad.status_code == 400 and bad.json()["message"] == "nps score must be an integer 0-10 (got 11)"
        nope = c.post("/v1/survey", json={**answer, "touchpoint": "docs"}, headers=_auth(key))
        assert nope.status_code == 404 and "has no survey" in nope.json()["message"]
        comment = c.post("/v1/survey", json={**answer, "comment": "hi", "messageId": "r3"}, headers=_auth(key))
        assert comment.status_code == 400 and "asks for no comment" in comment.json()["message"]
    report = collector.drain()
    assert (report.answers, report.duplicates) == (1, 1)
    assert [r[:4] for r in _feedback(ws)] == [("C3", "nps", 9.0, "first-report")]
    reasons = dict(ws.store.con.execute("SELECT reason, count(*) FROM quarantine GROUP BY reason").fetchall())
    assert reasons["survey answer: nps score must be an integer 0-10 (got 11)"] == 1


def test_the_popup_asks_its_audience_once_per_period_and_answers_once(ws: Any, collector: Collector) -> None:
    key = collector.keys.add("site")
    ask = {"map": "onboarding", "touchpoint": "kickoff-call"}
    with TestClient(create_collector_app(collector)) as c:
        first = c.post("/v1/survey/ask", json={**ask, "userId": "C1"}, headers=_auth(key)).json()
        assert first == {"ask": False, "reason": "the audience is selected at the next drain"}
        collector.drain()  # selects who each survey asks, from the store's customers
        yes = c.post("/v1/survey/ask", json={**ask, "userId": "C1"}, headers=_auth(key)).json()
        assert yes["ask"] is True and yes["survey"]["scale"] == [1, 5]
        assert yes["survey"]["question"].startswith("How was your kickoff call")
        again = c.post("/v1/survey/ask", json={**ask, "userId": "C1"}, headers=_auth(key)).json()
        assert again["ask"] is False and "at most once per 30 days" in again["reason"]
        free = c.post("/v1/survey/ask", json={**ask, "userId": "C3"}, headers=_auth(key)).json()
        assert free == {"ask": False, "reason": "not in the survey's audience"}
        stranger = c.post("/v1/survey/ask", json={**ask, "userId": "C404"}, headers=_auth(key)).json()
        assert stranger["ask"] is False
        answer = {"token": yes["token"], "score": 4, "comment": "Fine"}
        assert c.post("/v1/survey/answer", json=answer).json() == {"success": True}
        assert c.post("/v1/survey/answer", json=answer).status_code == 410
        assert c.get("/survey.js").headers["content-type"].startswith("text/javascript")
    assert collector.drain().answers == 1
    assert [r[:5] for r in _feedback(ws)] == [("C1", "csat", 4.0, "kickoff-call", "Fine")]


def test_the_cli_prints_links_and_a_csv_for_the_audience(ws: Any, tmp_path: Path) -> None:
    root = str(ws.root)
    ws.close()
    runner = CliRunner()
    one = runner.invoke(main, ["survey", "link", "onboarding", "kickoff-call", "C2", "-w", root,
                               "--base-url", "https://cx.example/"])
    assert one.exit_code == 0 and one.output.startswith("https://cx.example/s/")
    out = tmp_path / "links.csv"
    many = runner.invoke(main, ["survey", "links", "onboarding", "kickoff-call", "-w", root, "--out", str(out)])
    assert many.exit_code == 0, many.output
    lines = out.read_text().splitlines()
    assert lines[0] == "customer_id,link" and sorted(line.split(",")[0] for line in lines[1:]) == ["C1", "C2"]
    wrong = runner.invoke(main, ["survey", "link", "onboarding", "docs", "C1", "-w", root])
    assert wrong.exit_code == 1 and "has no survey" in wrong.output


def test_a_survey_in_the_map_is_validated() -> None:
    from pydantic import ValidationError

    from journeymap.model.document import Survey

    with pytest.raises(ValidationError):
        Survey(metric="stars")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Survey(metric="csat", audience="plan ==")
    with pytest.raises(ValidationError):
        Survey(metric="csat", sample=0)
    assert isinstance(SurveyError("x"), Exception)
