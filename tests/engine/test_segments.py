"""Segment comparisons: exact counts on hand-made data, and the demo's planted
webinar effect found significant."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeymap.cli import main
from journeymap.engine import stats
from journeymap.engine.segments import Segment, parse_segment, segment_comparison
from journeymap.errors import JourneymapError
from journeymap.workspace import Workspace


@pytest.fixture(scope="module")
def demo(engine_demo_root: Path):  # noqa: ANN201
    ws = Workspace.open(engine_demo_root)
    yield ws
    ws.close()


@pytest.fixture
def tiny(tmp_path: Path):  # noqa: ANN201
    """Six customers: A1-A3 in segment A (two buy), B1-B3 in B (one buys)."""
    (tmp_path / "customers.csv").write_text(
        "customer_id,segment,seats\nA1,A,1\nA2,A,5\nA3,A,9\nB1,B,2\nB2,B,3\nB3,B,4\n")
    (tmp_path / "events.csv").write_text("\n".join([
        "customer_id,timestamp,event,channel",
        "A1,2026-01-01T00:00:00Z,visit,web", "A1,2026-01-02T00:00:00Z,buy,web",
        "A2,2026-01-01T00:00:00Z,visit,web", "A2,2026-01-04T00:00:00Z,buy,web",
        "A3,2026-01-01T00:00:00Z,visit,web",
        "B1,2026-01-01T00:00:00Z,visit,email", "B1,2026-01-11T00:00:00Z,buy,web",
        "B2,2026-01-01T00:00:00Z,visit,email", "B3,2026-01-01T00:00:00Z,visit,email",
    ]) + "\n")
    ws = Workspace.create(tmp_path / "ws")
    ws.ingest("customers", [tmp_path / "customers.csv"])
    ws.ingest("events", [tmp_path / "events.csv"])
    from journeymap.model import load_map_text

    jmap = load_map_text(
        "id: t\ntitle: T\ngoal: {statement: buy, event: buy}\npersona: {name: P}\nscenario: s\n"
        "stages:\n  - id: s1\n    name: S1\n    touchpoints:\n"
        "      - {id: visit, name: Visit, channel: web, match: visit}\n"
        "      - {id: buy, name: Buy, channel: web, match: buy}\n")
    yield ws, jmap
    ws.close()


def test_attribute_segments_count_exactly(tiny) -> None:  # noqa: ANN001
    ws, jmap = tiny
    rows = segment_comparison(ws.store.ibis(), jmap, "segment", ["conversion", "time_to_convert"])
    conv = {r["segment"]: r for r in rows if r["metric"] == "conversion"}
    assert (conv["A"]["customers"], conv["A"]["count"], conv["B"]["count"]) == (3, 2, 1)
    assert conv["A"]["value"] == pytest.approx(2 / 3)
    assert conv["A"]["rest_value"] == pytest.approx(1 / 3)
    expected = stats.two_proportion_z(2, 3, 1, 3)
    assert conv["A"]["statistic"] == pytest.approx(expected.statistic)
    assert conv["B"]["statistic"] == pytest.approx(-expected.statistic)
    assert conv["A"]["p_value"] == conv["B"]["p_value"] == pytest.approx(expected.p_value)
    times = {r["segment"]: r for r in rows if r["metric"] == "time_to_convert"}
    assert times["A"]["value"] == pytest.approx(2 * 86_400)  # median of 1 and 3 days
    assert times["B"]["value"] == pytest.approx(10 * 86_400)
    # two tests in the family (one per metric): Holm doubles the smaller p-value
    smaller = min(conv["A"]["p_value"], times["A"]["p_value"])
    assert min(conv["A"]["p_holm"], times["A"]["p_holm"]) == pytest.approx(2 * smaller)


def test_rule_segments_on_behaviour_and_attributes(tiny) -> None:  # noqa: ANN001
    ws, jmap = tiny
    rows = segment_comparison(ws.store.ibis(), jmap, [
        Segment("buyers", "n_buy >= 1"), Segment("web only", "share_web == 1"),
        Segment("big", "seats >= 5"),
    ], ["events"])
    by = {r["segment"]: r for r in rows}
    assert by["buyers"]["customers"] == 3 and by["buyers"]["rest_customers"] == 3
    assert by["web only"]["customers"] == 3  # A1, A2, A3
    assert by["big"]["customers"] == 2
    assert by["buyers"]["value"] == 2.0 and by["buyers"]["rest_value"] == 1.0
    assert all("p_bh" in r and "p_holm" in r for r in rows)


def test_unknown_field_and_bad_spec_are_one_line_errors(tiny) -> None:  # noqa: ANN001
    ws, jmap = tiny
    with pytest.raises(JourneymapError, match="unknown field 'n_nothing'"):
        segment_comparison(ws.store.ibis(), jmap, [Segment("x", "n_nothing > 1")], ["events"])
    with pytest.raises(JourneymapError, match="unknown metric 'revenue'"):
        segment_comparison(ws.store.ibis(), jmap, "segment", ["revenue"])
    with pytest.raises(JourneymapError, match="NAME=RULE"):
        parse_segment("just a rule")
    assert parse_segment("sme = segment == 'SME'") == Segment("sme", "segment == 'SME'")


def test_planted_webinar_effect_is_significant(demo: Workspace) -> None:
    jmap = demo.load_map("enterprise-acquisition")
    rows = segment_comparison(demo.store.ibis(), jmap, [
        Segment("webinar", "n_webinar_attended >= 1"), Segment("no webinar", "n_webinar_attended == 0"),
    ], ["conversion", "events"])
    webinar = next(r for r in rows if r["metric"] == "conversion" and r["segment"] == "webinar")
    assert webinar["lift"] > 1.8
    assert webinar["significant"] and webinar["p_holm"] < 0.001


def test_demo_segments_by_attribute_cover_the_population(demo: Workspace) -> None:
    rows = segment_comparison(demo.store.ibis(), None, "segment", ["events", "csat"])
    events = [r for r in rows if r["metric"] == "events"]
    assert {r["segment"] for r in events} == {"SME", "Enterprise"}
    assert sum(r["customers"] for r in events) == 2000
    csat = {r["segment"]: r for r in rows if r["metric"] == "csat"}
    assert csat["SME"]["significant"]  # stalled SME onboarding drags SME CSAT down


def test_cli_prints_the_comparison_with_p_values(demo: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "seg.json"
    result = CliRunner().invoke(main, [
        "segments", "enterprise-acquisition", "-w", str(demo.root),
        "--rule", "webinar=n_webinar_attended >= 1", "--metric", "conversion", "--json", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "webinar" in result.output and "p BH" in result.output and "*" in result.output
    data = json.loads(out.read_text())
    assert data["segments"][0]["segment"] == "webinar" and data["segments"][0]["significant"]
    bad = CliRunner().invoke(main, ["segments", "enterprise-acquisition", "-w", str(demo.root)])
    assert bad.exit_code == 1 and "give one of --by" in bad.output
