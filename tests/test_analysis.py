"""The composer: one dict for analyze --json, Workspace.analyze and the page; --sections
and --fast; the terminal summary's Pain points block and Goal line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from journeymap.analysis import FAST_SKIPS, full_analysis, persona_attribute, section_names
from journeymap.cli import main
from journeymap.errors import JourneymapError
from journeymap.analysis import page_analysis
from journeymap.workspace import Workspace
from tests.metrics.tiny import MAP as TINY_MAP

#: the tiny shop (tests/metrics/tiny.py) for small shops only
MAP = (TINY_MAP.replace("id: tiny", "id: shop").replace("title: Tiny shop", "title: Shop")
       .replace("  name: Anyone\n", "  name: Small shops\n  segment: segment == 'SME'\n"))


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("shop")
    ws = Workspace.create(root)
    (ws.maps_dir / "shop.yaml").write_text(MAP, encoding="utf-8")
    events, customers, feedback = ["customer_id,timestamp,event,channel"], ["customer_id,segment"], \
        ["customer_id,timestamp,metric,score,touchpoint"]
    for i in range(60):
        cid = f"C{i:03d}"
        customers.append(f"{cid},{'SME' if i % 3 else 'Enterprise'}")
        events.append(f"{cid},2026-01-{1 + i % 20:02d}T08:00:00Z,ad_click,paid")
        if i % 2:
            events.append(f"{cid},2026-01-{1 + i % 20:02d}T09:00:00Z,mail_open,email")
        if i % 4 == 1:
            events.append(f"{cid},2026-01-{2 + i % 20:02d}T10:00:00Z,view,web")
            events.append(f"{cid},2026-01-{2 + i % 20:02d}T10:05:00Z,buy,web")
        feedback.append(f"{cid},2026-01-25T10:00:00Z,csat,{1 + i % 5},{'ad' if i % 2 else 'shop'}")
    for kind, rows in (("customers", customers), ("events", events), ("feedback", feedback)):
        path = root / f"{kind}.csv"
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        ws.ingest(kind, [path])
    return ws


@pytest.fixture(scope="module")
def full(ws: Workspace) -> dict[str, object]:
    return ws.analyze("shop")


@pytest.fixture(scope="module")
def fast(ws: Workspace) -> dict[str, object]:
    return ws.analyze("shop", fast=True)


def test_every_section_is_there(full: dict[str, Any]) -> None:
    result = full
    for key in ("map", "stages", "touchpoints", "transitions", "paths", "funnel", "pain_points",
                "segments", "unmatched", "feedback", "attribution", "clv", "goal", "emotion", "themes",
                "churn", "cohorts", "clusters", "opportunities"):
        assert key in result, key
    assert set(result) <= {*section_names()}
    # the persona is SME: segments compare its attribute's values across all customers
    assert {r["segment"] for r in result["segments"]} == {"SME", "Enterprise"}
    assert result["goal"]["metric"] == "conversion"
    assert isinstance(result["pain_points"], list) and isinstance(result["opportunities"], list)
    json.dumps(result, allow_nan=False, default=str)


def test_sections_and_fast(ws: Workspace, fast: dict[str, Any]) -> None:
    got = ws.analyze("shop", sections=["stages", "feedback"])
    assert set(got) == {"map", "scope", "stages", "feedback"}
    assert not set(FAST_SKIPS) & set(fast) and "pain_points" in fast
    with pytest.raises(JourneymapError, match="unknown section 'nope'"):
        ws.analyze("shop", sections=["nope"])


def test_progress_per_section(ws: Workspace) -> None:
    seen: list[str] = []
    full_analysis(ws.store.ibis(), ws.load_map("shop"), sections=["stages", "feedback", "goal"],
                  progress=lambda d, c, n: seen.append(d))
    assert "feedback" in seen and "goal" in seen


def test_page_uses_the_same_numbers(ws: Workspace, full: dict[str, Any]) -> None:
    page = page_analysis(ws.store.ibis(), ws.load_map("shop"), store=ws.store)
    for key in ("stages", "feedback", "pain_points", "emotion", "themes"):
        assert page[key] == full[key]
    assert "clv" not in page


def test_persona_attribute() -> None:
    from journeymap.model.document import JourneyMap

    base = {"id": "x", "title": "X", "scenario": "s", "goal": {"statement": "g"},
            "stages": [{"id": "a", "name": "A", "touchpoints": []}]}
    one = JourneyMap.model_validate({**base, "persona": {"name": "p", "segment": "plan in ['a', 'b']"}})
    two = JourneyMap.model_validate({**base, "persona": {"name": "p", "segment": "plan == 'a' and country == 'DE'"}})
    assert persona_attribute(one) == "plan" and persona_attribute(two) is None


def test_cli_json_equals_the_api_and_summary(ws: Workspace, fast: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "a.json"
    run = CliRunner().invoke(main, ["analyze", "shop", "-w", str(ws.root), "--fast", "--json", str(out)])
    assert run.exit_code == 0, run.output
    assert "Goal" in run.output and "Pain points" in run.output
    got = json.loads(out.read_text(encoding="utf-8"))
    assert got == json.loads(json.dumps(fast, default=str))


def test_cli_sections_error_is_one_line(ws: Workspace) -> None:
    run = CliRunner().invoke(main, ["analyze", "shop", "-w", str(ws.root), "--sections", "stages,nope"])
    assert run.exit_code == 1
    assert "unknown section 'nope'" in run.output and "Traceback" not in run.output


def test_settle_rounds_float_noise_and_keeps_the_rest() -> None:
    from journeymap.analysis import settle

    assert settle(103.20430549680391) == settle(103.2043054968039) == 103.204305497
    assert settle({"a": [1, 0.1 + 0.2, None, "x"], "b": float("nan")})["a"] == [1, 0.3, None, "x"]
    assert settle(float("inf")) == float("inf")
