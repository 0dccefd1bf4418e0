"""To the backlog: the opportunities of a map or a workspace as CSV with the column names of
Jira's, Linear's and GitHub's importers, each row with its evidence and a link back."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from journeymap.app.backlog import COLUMNS, to_csv

SME = "sme-onboarding-churn"


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_a_cell_is_never_a_formula_and_each_tool_gets_its_columns() -> None:
    row = {"title": "=HYPERLINK(\"http://x\")", "description": "+1 more", "rank": 0, "labels": ["journeymap"]}
    for tool, header in COLUMNS.items():
        got = _rows(to_csv([row], tool))
        assert tuple(got[0]) == header
        assert got[1][0].startswith("'=") and got[1][1].startswith("'+")


@pytest.mark.slow
def test_the_opportunities_of_a_map_go_to_each_tracker(client: TestClient) -> None:
    jobs = client.app.state.jm.jobs
    _, job = jobs.analysis_for(SME)
    jobs.wait(job.id, timeout=120)
    opportunities = jobs.analysis_for(SME)[0].result["opportunities"]
    assert opportunities
    jira = client.get(f"/maps/{SME}/backlog-jira.csv")
    assert jira.status_code == 200 and jira.headers["content-type"].startswith("text/csv")
    rows = _rows(jira.text)
    assert tuple(rows[0]) == COLUMNS["jira"] and len(rows) == len(opportunities) + 1
    assert rows[1][2] == "Highest" and rows[1][4] == "Task" and "map:" + SME in rows[1][3]
    assert f"http://127.0.0.1:8000/maps/{SME}" in rows[1][1] and "Evidence:" in rows[1][1]
    linear = _rows(client.get(f"/maps/{SME}/backlog-linear.csv").text)
    assert linear[1][0] == rows[1][0] and linear[1][4] == "Backlog"
    github = _rows(client.get(f"/maps/{SME}/backlog-github.csv").text)
    assert [r[0] for r in github[1:]] == [r[0] for r in rows[1:]]
    everything = _rows(client.get("/backlog-github.csv").text)
    assert len(everything) >= len(github)  # the workspace: every map's (analysed) opportunities
    assert client.get(f"/maps/{SME}/backlog-trello.csv").status_code == 404
