"""A discovered map is valid, ordered by typical position, and explains itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from journeymap.cli import main
from journeymap.engine.discover import discover, split_stages
from journeymap.model import load_map
from journeymap.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path):  # noqa: ANN201
    """20 customers: ad click -> Trial Started -> setup -> use (x3) -> renew; one rare event."""
    rows = ["customer_id,timestamp,event,channel"]
    steps = [("ad_click", "web"), ("Trial Started", "web"), ("setup", "app"), ("use", "app"),
             ("use", "app"), ("use", "email"), ("renew", "email")]
    for i in range(20):
        for k, (event, channel) in enumerate(steps):
            rows.append(f"C{i:02d},2026-01-{k + 1:02d}T00:00:00Z,{event},{channel}")
    rows.append("C00,2026-01-03T12:00:00Z,rare_thing,web")
    (tmp_path / "events.csv").write_text("\n".join(rows) + "\n")
    w = Workspace.create(tmp_path / "ws")
    w.ingest("events", [tmp_path / "events.csv"])
    yield w
    w.close()


def test_split_stages() -> None:
    assert split_stages([0.0, 0.1, 0.5, 0.55, 1.0], 3) == [0, 2, 4]
    assert split_stages([0.0, 0.1, 0.5, 0.55, 1.0], 2, "quantiles") == [0, 2]
    assert split_stages([0.3], 4) == [0]


def test_discovered_map_is_valid_and_ordered(ws: Workspace, tmp_path: Path) -> None:
    found = discover(ws.store.ibis(), min_customers=2, stages=3)
    path = tmp_path / "discovered.yaml"
    path.write_text(found.yaml)
    jmap = load_map(path)
    ids = [t.id for t in jmap.touchpoints]
    assert ids == ["ad_click", "trial_started", "setup", "use", "renew"]
    assert [len(s.touchpoints) for s in jmap.stages] == [1, 3, 1] or len(jmap.stages) == 3
    trial = jmap.touchpoints[1]
    assert trial.match is not None and trial.match.event == "Trial Started"
    use = next(t for t in jmap.touchpoints if t.id == "use")
    assert use.channel == "app"
    assert "# only 67% of its events" in found.yaml  # use: 2 of 3 events in the app
    assert "rare_thing (1)" in found.yaml  # left out, and said so
    assert found.yaml.startswith("# Draft journey map discovered")


def test_cli_writes_into_the_workspace_and_keeps_existing_files(ws: Workspace) -> None:
    runner = CliRunner()
    args = ["discover", "-w", str(ws.root), "--out", "maps/discovered.yaml", "--min-customers", "2"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "5 touchpoints" in first.output
    assert load_map(ws.root / "maps" / "discovered.yaml").id == "discovered"
    again = runner.invoke(main, args)
    assert again.exit_code == 1 and "exists; use --force" in again.output
    assert runner.invoke(main, [*args, "--force", "--stages", "2"]).exit_code == 0
    assert len(load_map(ws.root / "maps" / "discovered.yaml").stages) == 2
