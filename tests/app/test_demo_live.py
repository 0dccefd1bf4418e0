"""``journeymap demo --live`` against a running app (issue 13's "done when"): the app
collects the stream, the map's numbers move, and the planted decay becomes an alert in
the map's feed."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from journeymap.app.collector_app import with_collector
from journeymap.app.main import create_app
from journeymap.cli import main
from journeymap.demo.live import MAP_ID, SATISFIED, months, plan

from .test_browser import _serving

pytestmark = pytest.mark.slow


def _get(url: str) -> tuple[int, Any]:
    with urllib.request.urlopen(url, timeout=60) as r:  # noqa: S310 - loopback
        return r.status, json.loads(r.read())


def _fresh_analysis(base: str, wait: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + wait
    while True:
        status, body = _get(f"{base}/api/maps/{MAP_ID}/analysis")
        if status == 200 and body["fresh"]:
            return body["analysis"]
        assert time.monotonic() < deadline, "no fresh analysis"
        time.sleep(0.5)


def test_the_stream_moves_the_numbers_and_fires_the_planted_alert(workspace: Path) -> None:
    app = with_collector(create_app(workspace, user="ana"), every=0.5)
    with _serving(app) as base:
        before = _fresh_analysis(base)
        trial_before = before["stages"][0]["customers"]
        got = CliRunner().invoke(main, ["demo", "--live", str(workspace), "--url", base, "--seconds", "1",
                                        "--live-customers", "300"])
        assert got.exit_code == 0, got.output
        assert "survey answers" in got.output and "refused" not in got.output
        deadline = time.monotonic() + 60
        while app.collector.calls.pending_bytes() or app.collector.answers.pending_bytes():
            assert time.monotonic() < deadline, "the drain did not catch up"
            time.sleep(0.5)
        time.sleep(1.5)  # the last drain's load
        after = _fresh_analysis(base)
        assert after["stages"][0]["customers"] == trial_before + 300  # the stream's sign-ups, every one a trial
        (last_start, _), (this_start, _) = months(time_now())
        alerts = [a for a in after["alerts"]["alerts"] if a["kind"] == "kpi_decay"]
        mine = [a for a in alerts if a["target"] == "onboarding_call"]
        assert mine, alerts
        a = mine[0]
        assert (a["metric"], a["previous_period"], a["period"]) == ("csat", last_start.strftime("%Y-%m"),
                                                                    this_start.strftime("%Y-%m"))
        assert a["previous_value"] > 0.65 and a["value"] < 0.55 and a["p_adjusted"] < 0.01
        assert a["n"] >= 30 and a["previous_n"] >= 30
        _, feed = _get(f"{base}/api/activity?map={MAP_ID}")
        assert any(e["kind"] == "alert" and "onboarding_call" in e["text"] for e in feed)


def time_now() -> Any:
    import datetime as dt

    return dt.datetime.now(dt.UTC)


def test_the_plan_is_in_time_order_in_the_last_two_months_with_its_decay() -> None:
    import datetime as dt

    now = dt.datetime(2027, 3, 9, 15, 0, tzinfo=dt.UTC)
    calls = plan(400, now=now)
    assert [c.at for c in calls] == sorted(c.at for c in calls)
    assert calls[0].at >= dt.datetime(2027, 2, 1, tzinfo=dt.UTC) and calls[-1].at <= now
    assert len({c.body["messageId"] for c in calls}) == len(calls)
    for month, share in zip(("2027-02", "2027-03"), SATISFIED, strict=True):
        scores = [c.body["score"] for c in calls if c.endpoint == "survey" and c.body["timestamp"].startswith(month)]
        assert len(scores) >= 60
        assert abs(sum(s >= 4 for s in scores) / len(scores) - share) < 0.15
