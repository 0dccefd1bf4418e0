"""The demo's planted SME stall at data import shows in analyze, split by segment, and
matches the generator's ground truth within its tolerance (2,000-customer demo)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from journeymap.engine.funnels import FunnelSpec
from journeymap.workspace import Workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(demo_2k) -> Iterator[tuple[Workspace, dict[str, Any]]]:  # noqa: ANN001 - DemoData
    with Workspace.open(demo_2k.root) as ws:
        yield ws, demo_2k.effect("sme_onboarding_stall")


def test_sme_import_completion_far_below_enterprise(demo: tuple[Workspace, dict[str, Any]]) -> None:
    ws, effect = demo
    spec = FunnelSpec(("data_import_started", "data_import_completed"), level="event")
    result = ws.analyze("sme-onboarding-churn", persona=False, by="segment", funnel_spec=spec,
                        sections=["stages", "funnel", "by"])
    groups = result["by"]["groups"]
    rate = {name: groups[name]["funnel"][1]["conversion"] for name in ("SME", "Enterprise")}
    expected, tolerance = effect["expected"], effect["tolerance"]
    assert rate["SME"] == pytest.approx(expected["completion_rate_sme"],
                                        abs=tolerance["completion_rate_sme"])
    assert rate["Enterprise"] == pytest.approx(expected["completion_rate_enterprise"],
                                               abs=tolerance["completion_rate_enterprise"])
    assert rate["SME"] < rate["Enterprise"] - 0.25
    # the same customers the ground truth counts: SMEs who started the import
    assert groups["SME"]["funnel"][0]["step"] == "data_import_started"
    assert {s["id"] for s in groups["SME"]["stages"]} == {
        "signup", "onboarding", "activation", "adoption", "renewal"}


def test_stall_shows_in_the_sme_stage_funnel(demo: tuple[Workspace, dict[str, Any]]) -> None:
    """Onboarding -> activation (first report on real data) is where SMEs are lost."""
    ws, _ = demo
    result = ws.analyze("sme-onboarding-churn", persona=False, by="segment", sections=["stages", "by"])
    conv = {name: {s["id"]: s["conversion_to_next"] for s in result["by"]["groups"][name]["stages"]}
            for name in ("SME", "Enterprise")}
    assert conv["SME"]["onboarding"] < conv["Enterprise"]["onboarding"] - 0.2
    # and it is the SME funnel's weakest step after the trial
    sme = {k: v for k, v in conv["SME"].items() if v is not None and k != "signup"}
    assert min(sme, key=sme.__getitem__) in ("onboarding", "adoption")


def test_persona_scope_and_cli_agree(demo: tuple[Workspace, dict[str, Any]], tmp_path: Path) -> None:
    """``analyze --json`` writes what Workspace.analyze returns, with the contract keys."""
    from click.testing import CliRunner

    from journeymap.cli import main

    ws, _ = demo
    out = tmp_path / "a.json"
    run = CliRunner().invoke(main, ["analyze", "sme-onboarding-churn", "-w", str(ws.root),
                                    "--fast", "--json", str(out)])
    assert run.exit_code == 0, run.output
    assert "Stage funnel" in run.output
    got = json.loads(out.read_text(encoding="utf-8"))
    for key in ("map", "stages", "touchpoints", "transitions", "paths", "funnel",
                "pain_points", "segments", "unmatched"):
        assert key in got
    api = json.loads(json.dumps(ws.analyze("sme-onboarding-churn", fast=True), default=str))
    assert got == api
    assert got["scope"]["persona_segment"] == "segment == 'SME'"
    assert got["scope"]["customers"] < 2000


def test_bad_segment_is_one_line_error(demo: tuple[Workspace, dict[str, Any]]) -> None:
    from click.testing import CliRunner

    from journeymap.cli import main

    ws, _ = demo
    run = CliRunner().invoke(main, ["analyze", "sme-onboarding-churn", "-w", str(ws.root),
                                    "--segment", "shoe_size > 3"])
    assert run.exit_code == 1
    assert "shoe_size" in run.output and "Traceback" not in run.output


def test_paths_around_from_the_cli(demo: tuple[Workspace, dict[str, Any]]) -> None:
    """--paths-to / --paths-from on the demo: what leads to first value, what follows a
    support ticket, and the converted vs dropped paths; an unknown touchpoint is one line."""
    from click.testing import CliRunner

    from journeymap.cli import main

    ws, _ = demo
    args = ["analyze", "sme-onboarding-churn", "-w", str(ws.root), "--sections",
            "stages,funnel,paths,outcome_paths,paths_to,paths_from,transitions"]
    run = CliRunner().invoke(main, [*args, "--paths-to", "first_value", "--paths-from",
                                    "support_ticket", "--around-steps", "2"])
    assert run.exit_code == 0, run.output
    assert "Steps leading to first_value" in run.output
    assert "Steps after support_ticket" in run.output
    assert "Paths of customers who reached renewal" in run.output
    run = CliRunner().invoke(main, [*args, "--paths-to", "nope"])
    assert run.exit_code == 1
    assert "paths around 'nope': no such touchpoint" in run.output
    assert "Traceback" not in run.output
