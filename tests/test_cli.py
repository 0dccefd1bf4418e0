"""The command line as a user meets it: exit codes, one-line errors, counts printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeymap.cli import main

EVENTS_CSV = """customer_id,timestamp,event,channel
c1,2024-03-05T10:00:00Z,signup,web
c1,2024-03-05T10:05:00Z,pricing_page_view,web
c2,not a time,signup,web
,2024-03-05T11:00:00Z,signup,web
c2,2024-03-06 09:00:00,demo_requested,email
"""

MAP_YAML = """\
id: tiny
title: Tiny journey
goal:
  statement: Get more sign-ups
persona:
  name: Pat
scenario: Pat finds us on the web.
stages:
  - id: awareness
    name: Awareness
    touchpoints:
      - id: pricing
        name: Pricing page
        channel: web
        match: {event: pricing_page_view}
  - id: decision
    name: Decision
    touchpoints:
      - id: signup
        name: Sign-up
        channel: web
        match: {event_in: [signup]}
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def workspace(tmp_path: Path, runner: CliRunner) -> Path:
    ws = tmp_path / "ws"
    result = runner.invoke(main, ["init", str(ws)])
    assert result.exit_code == 0, result.output
    return ws


def test_init_makes_a_workspace(workspace: Path) -> None:
    assert (workspace / "journeymap.toml").is_file()
    assert (workspace / "maps").is_dir()
    assert (workspace / "journeymap.duckdb").is_file()


def test_ingest_loads_good_rows_and_reports_the_bad(workspace: Path, runner: CliRunner, tmp_path: Path) -> None:
    data = tmp_path / "events.csv"
    data.write_text(EVENTS_CSV)
    result = runner.invoke(main, ["ingest", "events", str(data), "-w", str(workspace)])
    assert result.exit_code == 0, result.output
    assert "3 loaded, 2 quarantined, 0 duplicates skipped" in result.stdout
    assert "events.csv:row 3" in result.stderr or "events.csv:3" in result.stderr

    again = runner.invoke(main, ["ingest", "events", str(data), "-w", str(workspace)])
    assert again.exit_code == 0, again.output
    assert "0 loaded" in again.stdout and "3 duplicates skipped" in again.stdout

    status = runner.invoke(main, ["status", "-w", str(workspace), "--json"])
    assert status.exit_code == 0, status.output
    info = json.loads(status.stdout)
    assert info["tables"]["events"]["rows"] == 3


def test_missing_file_is_one_line_and_exit_1(workspace: Path, runner: CliRunner) -> None:
    result = runner.invoke(main, ["ingest", "events", "nope.csv", "-w", str(workspace)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "nope.csv" in lines[0]
    assert "Traceback" not in result.output


def test_not_a_workspace(tmp_path: Path, runner: CliRunner) -> None:
    result = runner.invoke(main, ["status", "-w", str(tmp_path)])
    assert result.exit_code == 1
    assert "not a journeymap workspace" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_debug_shows_the_traceback(tmp_path: Path, runner: CliRunner) -> None:
    result = runner.invoke(main, ["--debug", "status", "-w", str(tmp_path)])
    assert result.exit_code == 1
    assert result.exception is not None


def test_validate_good_and_bad_maps(workspace: Path, runner: CliRunner) -> None:
    good = workspace / "maps" / "tiny.yaml"
    good.write_text(MAP_YAML)
    ok = runner.invoke(main, ["validate", "-w", str(workspace)])
    assert ok.exit_code == 0, ok.output
    assert "1 map valid" in ok.stdout

    bad = workspace / "maps" / "bad.yaml"
    bad.write_text(MAP_YAML.replace("id: tiny", "id: bad").replace(
        "        channel: web\n        match: {event_in: [signup]}",
        "        channel: web\n        stage: purchase\n        match: {event_in: [signup]}"))
    result = runner.invoke(main, ["validate", str(bad)])
    assert result.exit_code == 1
    line = result.stderr.splitlines()[0]
    assert line.endswith("stages[1].touchpoints[0].stage: unknown stage 'purchase'"), line
    assert ":22:" in line


def test_schema_is_json_schema(runner: CliRunner) -> None:
    result = runner.invoke(main, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert "$schema" in schema and "stages" in schema["properties"]


def test_render_writes_a_page_with_the_data(workspace: Path, runner: CliRunner, tmp_path: Path) -> None:
    (workspace / "maps" / "tiny.yaml").write_text(MAP_YAML)
    data = tmp_path / "events.csv"
    data.write_text(EVENTS_CSV)
    assert runner.invoke(main, ["ingest", "events", str(data), "-w", str(workspace)]).exit_code == 0
    out = tmp_path / "tiny.html"
    result = runner.invoke(main, ["render", "tiny", "-w", str(workspace), "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert 'id="tp-pricing"' in page and 'id="tp-signup"' in page
    assert "Awareness" in page and "Decision" in page
    # signup is matched for c1 and c2 (the bad rows are quarantined, not counted)
    assert 'data-touchpoint="signup"' in page
    bad = runner.invoke(main, ["render", "tiny", "-w", str(workspace), "--out", str(tmp_path / "x.docx")])
    assert bad.exit_code == 1 and "unsupported output format" in bad.stderr


CRM_CSV = """Contact ID;Activity Date;Activity Type;Source
C-001;05/03/2024 14:30;Webinar Attended;webinar
C-002;06/03/2024 09:00;Demo Requested;web
C-003;31/03/2024 17:45;Webinar Attended;webinar
"""


def test_a_crm_export_loads_unchanged_with_column_mapping(workspace: Path, runner: CliRunner, tmp_path: Path) -> None:
    data = tmp_path / "crm_activities.csv"
    data.write_text(CRM_CSV)
    result = runner.invoke(main, [
        "ingest", "events", str(data), "-w", str(workspace),
        "--map-column", "Contact ID=customer_id", "--map-column", "Activity Date=timestamp",
        "--map-column", "Activity Type=event", "--map-column", "Source=channel",
        "--timezone", "Europe/Berlin",
    ])
    assert result.exit_code == 0, result.output
    assert "3 loaded, 0 quarantined" in result.stdout
    from journeymap.workspace import Workspace

    with Workspace.open(workspace) as ws:
        rows = ws.store.con.execute(
            "SELECT customer_id, strftime(timestamp, '%Y-%m-%d %H:%M'), event, channel FROM events ORDER BY 1"
        ).fetchall()
    # day-first (31/03 proves it); Berlin is UTC+1 in early March, UTC+2 after 31 March 02:00
    assert rows == [
        ("C-001", "2024-03-05 13:30", "Webinar Attended", "webinar"),
        ("C-002", "2024-03-06 08:00", "Demo Requested", "web"),
        ("C-003", "2024-03-31 15:45", "Webinar Attended", "webinar"),
    ]


def test_mapping_in_journeymap_toml_is_used(workspace: Path, runner: CliRunner, tmp_path: Path) -> None:
    toml = workspace / "journeymap.toml"
    toml.write_text(toml.read_text() + """
[sources.events]
timezone = "Europe/Berlin"

[sources.events.columns]
"Contact ID" = "customer_id"
"Activity Date" = "timestamp"
"Activity Type" = "event"
"Source" = "channel"
""")
    data = tmp_path / "crm_activities.csv"
    data.write_text(CRM_CSV)
    result = runner.invoke(main, ["ingest", "events", str(data), "-w", str(workspace)])
    assert result.exit_code == 0, result.output
    assert "3 loaded, 0 quarantined" in result.stdout


def test_bad_map_column_option_is_a_usage_error(workspace: Path, runner: CliRunner, tmp_path: Path) -> None:
    data = tmp_path / "e.csv"
    data.write_text(EVENTS_CSV)
    result = runner.invoke(main, ["ingest", "events", str(data), "-w", str(workspace), "--map-column", "oops"])
    assert result.exit_code == 2
    assert "THEIR_NAME=OUR_NAME" in result.stderr
