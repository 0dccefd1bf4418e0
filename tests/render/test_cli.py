"""`journeymap render` and `journeymap new` as a user runs them, on a small real workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from journeymap.cli import main
from journeymap.analysis import page_analysis
from journeymap.engine.analyze import analyze_map
from journeymap.model import load_map
from journeymap.model.templates import list_templates
from journeymap.render.exports import export


@pytest.mark.slow
def test_render_picks_the_format_from_the_extension(small_ws: Any, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "sme.html"
    done = runner.invoke(main, ["render", "sme-onboarding-churn", "-w", str(small_ws.root), "--out", str(out)])
    assert done.exit_code == 0, done.output
    page = out.read_text()
    analysis = analyze_map(small_ws.store.ibis(), small_ws.load_map("sme-onboarding-churn"))
    for s in analysis["stages"]:
        head = page.split(f'id="stage-{s["id"]}"', 1)[1][:1500]
        assert f'data-metric="stage-customers">{s["customers"]:,}<' in head
    for t in analysis["touchpoints"]:
        card = page.split(f'id="tp-{t["id"]}"', 1)[1][:2500]
        if t["customers"]:
            assert f'data-metric="customers">{t["customers"]:,}<' in card
    bad = runner.invoke(main, ["render", "sme-onboarding-churn", "-w", str(small_ws.root), "--out", "x.doc"])
    assert bad.exit_code == 1 and "unsupported output format '.doc'" in bad.output


def test_workspace_maps_export_with_their_data(small_ws: Any, browser: Any, tmp_path: Path) -> None:
    jmap = small_ws.load_map("day-in-the-life")
    analysis = page_analysis(small_ws.store.ibis(), jmap, store=small_ws.store)
    assert analysis["stages"] and "feedback" in analysis
    for suffix in (".html", ".png", ".pdf", ".svg", ".md", ".csv", ".xlsx", ".pptx", ".mmd", ".json"):
        out = export(jmap, analysis, tmp_path / f"day{suffix}", browser=browser)
        assert out.stat().st_size > 100


def test_new_from_every_template_validates(small_ws: Any, tmp_path: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(main, ["new", "--list"])
    assert listed.exit_code == 0
    names = [t.name for t in list_templates()]
    assert len(names) == 7 and all(n in listed.output for n in names)
    ws = tmp_path / "ws"
    assert runner.invoke(main, ["init", str(ws)]).exit_code == 0
    current = (small_ws.maps_dir / "enterprise-acquisition.yaml").read_text()
    (ws / "maps" / "enterprise-acquisition.yaml").write_text(current)
    for name in names:
        args = ["new", f"my {name}", "--template", name, "-w", str(ws)]
        if name == "future-state":
            args += ["--from", "enterprise-acquisition"]
        done = runner.invoke(main, args)
        assert done.exit_code == 0, done.output
        path = ws / "maps" / f"my-{name}.yaml"
        text = path.read_text()
        assert text.lstrip().startswith("#"), "templates explain themselves in comments"
        assert load_map(path).id == f"my-{name}"
    future = load_map(ws / "maps" / "my-future-state.yaml")
    assert future.type.value == "future_state" and future.improves == "enterprise-acquisition"
    valid = runner.invoke(main, ["validate", "-w", str(ws)])
    assert valid.exit_code == 0, valid.output
    again = runner.invoke(main, ["new", "my ecommerce", "--template", "ecommerce", "-w", str(ws)])
    assert again.exit_code == 1 and "exists" in again.output
    unknown = runner.invoke(main, ["new", "x", "--template", "nope", "-w", str(ws)])
    assert unknown.exit_code == 1 and "unknown template 'nope'" in unknown.output
    churn = runner.invoke(main, ["new", "y", "--template", "future-state", "--from",
                                 str(small_ws.maps_dir / "sme-onboarding-churn.yaml"), "-w", str(ws)])
    assert churn.exit_code == 1 and "improves a current_state map, not a churn map" in churn.output
    no_from = runner.invoke(main, ["new", "x", "--template", "future-state", "-w", str(ws)])
    assert no_from.exit_code == 1 and "--from MAP" in no_from.output


@pytest.mark.slow
def test_every_template_renders_before_any_data(tmp_path: Path) -> None:
    """A fresh template names customer attributes nobody has loaded yet: the map renders
    with a notice naming them, never an error (issue 10, point 8)."""
    runner = CliRunner()
    ws = tmp_path / "fresh"
    assert runner.invoke(main, ["init", str(ws)]).exit_code == 0
    for name in [t.name for t in list_templates() if t.name != "future-state"]:
        assert runner.invoke(main, ["new", name, "--template", name, "-w", str(ws)]).exit_code == 0
        out = tmp_path / f"{name}.html"
        done = runner.invoke(main, ["render", name, "-w", str(ws), "--out", str(out)])
        assert done.exit_code == 0, f"{name}: {done.output}"
        assert "<html" in out.read_text().lower()
    page = (tmp_path / "ecommerce.html").read_text()
    assert "customer attribute &#39;channel_preference&#39; is not loaded yet" in page \
        or "customer attribute 'channel_preference' is not loaded yet" in page
