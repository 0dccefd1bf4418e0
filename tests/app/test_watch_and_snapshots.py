"""Refresh on a schedule (issue 13, point 6): ``journeymap watch`` and the app keep each
map's numbers per day, and say each new alert once — on the map's feed, a webhook and
the terminal."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from journeymap.cli import main
from journeymap.snapshots import history, new_alerts, record, snapshot_of
from journeymap.workspace import Workspace

SME = "sme-onboarding-churn"


@pytest.fixture
def ws_root(workspace: Path) -> Path:
    """A copy of the 300-customer demo (tests/app/conftest.py)."""
    return workspace


def _months(ws_root: Path, tmp_path: Path, scores: tuple[int, int]) -> None:
    """Two more months of support-chat CSAT, good then bad (150 answers each)."""
    with Workspace.open(ws_root) as ws:
        for period, score in zip(("2026-11", "2026-12"), scores, strict=True):
            path = tmp_path / f"{period}.csv"
            path.write_text("customer_id,timestamp,metric,score,touchpoint\n" + "".join(
                f"C{i + 1:06d},{period}-0{1 + i % 5}T10:{i % 60:02d}:00Z,csat,{score},support_chat\n"
                for i in range(150)))
            ws.ingest("feedback", [path])


class _Receiver(http.server.BaseHTTPRequestHandler):
    got: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.got.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.got = []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/hook"
    srv.shutdown()
    srv.server_close()


def test_watch_keeps_the_numbers_and_says_each_new_alert_once(ws_root: Path, tmp_path: Path, receiver: str) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["watch", "--once", "-w", str(ws_root), "--map", SME, "--webhook", receiver])
    assert first.exit_code == 0, first.output
    assert f"{SME}:" in first.output
    [snap] = history(ws_root, SME)
    kinds = {(r["kind"], r["metric"]) for r in snap["numbers"]}
    assert {("stage", "customers"), ("stage", "conversion_to_next"), ("goal", "churn_rate")} <= kinds
    assert ("touchpoint", "csat") in kinds and snap["customers"] > 0
    _months(ws_root, tmp_path, (5, 1))
    second = runner.invoke(main, ["watch", "--once", "-w", str(ws_root), "--map", SME, "--webhook", receiver])
    assert second.exit_code == 0, second.output
    assert "CSAT of support_chat fell from 100% (n=124) in 2026-11 to 0% (n=124) in 2026-12" in second.output  # SME only
    hooks = [h for h in _Receiver.got if h["data"]["alert"]["target"] == "support_chat"]
    assert len(hooks) == 1 and hooks[0]["event"] == "map.alert" and hooks[0]["data"]["alert"]["p_adjusted"] < 0.01
    assert len(history(ws_root, SME)) == 1  # the same day: one snapshot, the latest numbers
    third = runner.invoke(main, ["watch", "--once", "-w", str(ws_root), "--map", SME, "--webhook", receiver])
    assert "(0 new)" in third.output and "support_chat fell" not in third.output
    assert len([h for h in _Receiver.got if h["data"]["alert"]["target"] == "support_chat"]) == 1
    bad = runner.invoke(main, ["watch", "--once", "-w", str(ws_root), "--webhook", "file:///etc/passwd"])
    assert bad.exit_code != 0 and "http:// or https://" in bad.output


def test_one_snapshot_a_day_and_a_broken_line_costs_only_itself(tmp_path: Path) -> None:
    import datetime as dt

    analysis = {"stages": [{"id": "a", "customers": 10, "conversion_to_next": 0.5}],
                "feedback": {"journey": {"nps": {"value": 12.0, "n": 40}}, "touchpoints": {"t": {"csat": {"value": 0.8,
                                                                                                     "n": 31}}}},
                "goal": {"metric": "churn_rate", "target": 0.3, "status": "on_track", "current": {"value": 0.31, "n": 90}},
                "alerts": {"alerts": [{"kind": "kpi_decay", "target": "t", "metric": "csat", "period": "2026-12",
                                       "text": "x", "p_value": 0.001}]}}
    day1 = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
    s1 = snapshot_of(analysis, map_id="m", taken_at=day1)
    assert record(tmp_path, s1) == [] and new_alerts(s1, []) == [{"kind": "kpi_decay", "target": "t", "metric": "csat",
                                                                  "period": "2026-12", "text": "x"}]
    s2 = snapshot_of({**analysis, "stages": [{"id": "a", "customers": 12}]}, map_id="m",
                     taken_at=day1 + dt.timedelta(hours=5))
    before = record(tmp_path, s2)
    assert new_alerts(s2, before) == []
    [kept] = history(tmp_path, "m")
    assert kept["numbers"][0]["value"] == 12
    s3 = snapshot_of(analysis, map_id="m", taken_at=day1 + dt.timedelta(days=1))
    record(tmp_path, s3)
    with (tmp_path / "snapshots" / "m.jsonl").open("a") as fh:
        fh.write('{"map": "m", "cut by a cra')
    assert [s["day"] for s in history(tmp_path, "m")] == ["2026-12-01", "2026-12-02"]
    with pytest.raises(ValueError):
        history(tmp_path, "../etc")


def test_the_app_schedules_refreshes_keeps_snapshots_and_serves_the_history(ws_root: Path, tmp_path: Path) -> None:
    from journeymap.app.main import create_app

    app = create_app(ws_root, user="ana")
    jm = app.state.jm
    with TestClient(app) as c:
        assert c.get(f"/api/maps/{SME}/history").json() == []
        assert jm.jobs.refresh_all() >= 1  # nothing analysed yet: every map is due
        _until_fresh(c, every_map=True)
        got = c.get(f"/api/maps/{SME}/history").json()
        assert len(got) == 1 and got[0]["map"] == SME and got[0]["numbers"]
        assert jm.jobs.refresh_all() == 0  # all fresh: nothing to do
        jm.ws.ingest("feedback", [_feedback_file(tmp_path)])  # the data changed: due again
        assert jm.jobs.refresh_all() >= 1
        _until_fresh(c)
        numbers = c.get(f"/api/maps/{SME}/history").json()[-1]["numbers"]
        assert any(r["target"] == "support_chat" and r["metric"] == "csat" for r in numbers)
        assert c.get("/api/maps/nope/history").status_code == 404


def _until_fresh(c: TestClient, *, every_map: bool = False, wait: float = 120) -> None:
    """Until the map's analysis (or every map's) is fresh for the current data."""
    import time

    refs = [m["ref"] for m in c.get("/api/maps").json()] if every_map else [SME]
    deadline = time.monotonic() + wait
    for ref in refs:
        while not c.get(f"/api/maps/{ref}/analysis").json()["fresh"]:
            assert time.monotonic() < deadline, f"{ref}: no fresh analysis"
            time.sleep(0.3)


def _feedback_file(tmp_path: Path) -> Path:
    path = tmp_path / "more.csv"
    path.write_text("customer_id,timestamp,metric,score,touchpoint\nC000001,2026-10-30T10:00:00Z,csat,4,support_chat\n")
    return path


def test_a_notebook_reads_the_history_as_a_table(ws_root: Path) -> None:
    import journeymap as jm

    assert CliRunner().invoke(main, ["watch", "--once", "-w", str(ws_root), "--map", SME]).exit_code == 0
    with jm.open_workspace(ws_root) as ws:
        frame = ws.history(SME)
    assert list(frame.columns[:6]) == ["day", "taken_at", "kind", "target", "metric", "value"]
    signup = frame[(frame.kind == "stage") & (frame.target == "signup") & (frame.metric == "customers")]
    assert len(signup) == 1 and signup.value.iloc[0] > 0


def test_the_trends_view_draws_the_history_refresh_by_refresh(ws_root: Path) -> None:
    import datetime as dt

    from journeymap.app.main import create_app

    with Workspace.open(ws_root) as ws:
        analysis = ws.analyze(SME, sections=["stages", "goal", "feedback", "scope", "alerts"])
    for days_ago, shift in ((2, -0.05), (1, 0.0)):
        moved = {**analysis, "stages": [{**s, "conversion_to_next": (s["conversion_to_next"] or 0) + shift}
                                        for s in analysis["stages"]]}
        record(ws_root, snapshot_of(moved, map_id=SME,
                                    taken_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)))
    app = create_app(ws_root, user="ana")
    with TestClient(app) as c:
        _until_fresh(c)
        page = c.get(f"/maps/{SME}/analytics/trends")
        assert page.status_code == 200
        assert "Refresh by refresh" in page.text and "SIGN-UP: CONVERSION TO NEXT" in page.text
        assert "3 days kept in snapshots/" in page.text  # two written here, today's by the analysis
