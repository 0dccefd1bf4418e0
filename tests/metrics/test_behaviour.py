"""The behaviour aggregates the pain-point rules read, by hand on the tiny workspace:
per touchpoint who reached it, went on to the next stage, repeated it in a row and how
long their first move took; per stage who visited it and the next; the goal drivers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import journeymap.metrics.opportunities as opportunities
from journeymap.metrics.opportunities import PERSONA, behaviour
from journeymap.model import load_map
from journeymap.workspace import Workspace

from .tiny import tiny_workspace

DAY = 86400.0


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    with tiny_workspace(tmp_path_factory.mktemp("tiny")) as ws:
        yield ws


# the stages visited as bits of one integer per customer, and (more stages than bits)
# as pairs of a join: the same numbers
@pytest.mark.parametrize("stage_bits", [True, False], ids=["bits", "pairs"])
def test_behaviour_of_the_tiny_shop_by_hand(tiny: Workspace, stage_bits: bool,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    if not stage_bits:
        monkeypatch.setattr(opportunities, "NO_STAGE_BIT", 0)
    b = behaviour(tiny.store.ibis(), load_map(Path(tiny.maps_dir / "tiny.yaml")))
    tps = b.touchpoints[PERSONA]
    # A: ad, mail, view, buy · B: mail, mail, buy · C: ad, view · D: mail
    assert {tp: (r["stage"], r["customers"], r["went_on"], r["repeated"]) for tp, r in tps.items()} == {
        "ad": ("aware", 2, 2, 0), "mail": ("aware", 3, 2, 1), "shop": ("buy", 3, 0, 1)}
    assert {s: (r["customers"], r["went_on"]) for s, r in b.stages[PERSONA].items()} == {
        "aware": (4, 3), "buy": (3, 0)}
    # first moves to another step: ad A 1 d, C 4 d; mail A 1 d, B 6 d (mail→mail is no move)
    assert b.typical_gap == pytest.approx(2.5 * DAY)
    assert (tps["ad"]["moves"], tps["ad"]["slow"], tps["ad"]["median_gap"]) == (2, 1, pytest.approx(2.5 * DAY))
    assert (tps["mail"]["moves"], tps["mail"]["slow"], tps["mail"]["median_gap"]) == (2, 1, pytest.approx(3.5 * DAY))
    assert "moves" not in tps["shop"]
    # goal drivers: before buying (or at all, for those who never bought)
    assert (b.customers, b.converted, b.goal_touchpoints) == (4, 2, ("shop",))
    assert b.drivers == {"ad": {"did": 2, "did_goal": 1}, "mail": {"did": 3, "did_goal": 2},
                         "shop": {"did": 2, "did_goal": 1}}
    # without a persona segment every customer is the persona: no rest group
    assert b.rest_label is None and set(b.touchpoints) == set(b.stages) == {PERSONA}


def test_the_analysis_reads_behaviour_from_its_journey_table_only_when_it_holds_everyone(
        demo: Workspace) -> None:
    """Without a persona rule the journey table holds every customer's steps, and the
    aggregates read from it are behaviour()'s own; with one it holds the persona only,
    and the analysis builds behaviour's table of everyone (persona and rest)."""
    from dataclasses import asdict

    import journeymap.analysis  # noqa: F401 — registers the behaviour section
    from journeymap.engine.analyze import analyze_map

    con = demo.store.ibis()
    jmap = load_map(demo.maps_dir / "sme-onboarding-churn.yaml")
    everyone = jmap.model_copy(update={"persona": jmap.persona.model_copy(update={"segment": None})})
    shared = analyze_map(con, everyone, sections=("behaviour",))["behaviour"]
    assert asdict(shared) == asdict(behaviour(con, everyone))
    assert shared.customers > 1000 and shared.drivers and shared.touchpoints[PERSONA]
    split = analyze_map(con, jmap, sections=("behaviour",))["behaviour"]
    assert set(split.touchpoints) == {PERSONA, "rest"}
    assert asdict(split) == asdict(behaviour(con, jmap))
