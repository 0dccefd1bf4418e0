"""Attribution: a Markov example solved by hand, agreement with ``mta`` on its bundled
paths, rule-based models by hand on a tiny workspace, and the demo."""

from __future__ import annotations

import io
import math
from contextlib import redirect_stdout
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from journeymap.metrics import markov
from journeymap.metrics.attribution import HEURISTICS, attribution_section
from journeymap.workspace import Workspace

from .tiny import tiny_workspace

# paths (channels, conversions, nulls)
PATHS = [(["A", "B"], 1, 0), (["A"], 0, 1), (["B"], 0, 1), (["B", "A"], 1, 0), (["A"], 1, 0)]


def test_markov_removal_effects_by_hand() -> None:
    # Transition counts: start→A 3, start→B 2; A→B 1, A→null 1, A→conv 2; B→A 1, B→null 1, B→conv 1.
    # Transient states (start, A, B):
    Q = np.array([[0, 3 / 5, 2 / 5],
                  [0, 0, 1 / 4],
                  [0, 1 / 3, 0]])
    R = np.array([[0, 0], [1 / 2, 1 / 4], [1 / 3, 1 / 3]])  # columns: conversion, null
    B = np.linalg.solve(np.eye(3) - Q, R)  # absorption probabilities (I − Q)⁻¹ R
    # by hand: x_A = 1/2 + x_B/4, x_B = 1/3 + x_A/3  →  x_A = 7/11, x_B = 6/11, P = 3/5·7/11 + 2/5·6/11 = 3/5
    assert B[0, 0] == pytest.approx(3 / 5)
    assert B[1:, 0] == pytest.approx([7 / 11, 6 / 11])
    # removing A: x_B = 1/3, P = 2/15 → RE_A = 1 − (2/15)/(3/5) = 7/9; removing B: P = 3/10 → RE_B = 1/2
    result = markov.removal_effects(markov.transitions_from_paths(PATHS))
    assert result.conversion_probability == pytest.approx(3 / 5)
    assert result.removal_effects == pytest.approx({"A": 7 / 9, "B": 1 / 2})
    shares = markov.attribute(result.removal_effects, 3)
    assert shares["A"] == pytest.approx(float(Fraction(42, 23)))
    assert shares["B"] == pytest.approx(float(Fraction(27, 23)))


def test_higher_order_states() -> None:
    t = markov.transitions_from_paths(PATHS, order=2)
    states = {s for pair in t for s in pair} - {markov.CONV, markov.NULL}
    assert states == {markov.START, "A", "B", "A>B", "B>A"}
    # A → {A>B, null, conv} by thirds, A>B → conv; B → {B>A, null} by halves, B>A → conv:
    # x_A = 1/3 + 1/3 = 2/3, x_B = 1/2, P = 3/5·2/3 + 2/5·1/2 = 3/5
    result = markov.removal_effects(t, order=2)
    assert result.conversion_probability == pytest.approx(3 / 5)
    # without A every converting state is gone (B converts only through B>A): RE_A = 1
    # without B: x_A = 1/3, P = 1/5, RE_B = 1 − (1/5)/(3/5) = 2/3
    assert result.removal_effects == pytest.approx({"A": 1.0, "B": 2 / 3})


def test_agrees_with_mta_on_its_bundled_paths() -> None:
    mta = pytest.importorskip("mta")
    with redirect_stdout(io.StringIO()):  # mta prints its timings
        model = mta.MTA(add_timepoints=False)  # removes consecutive repeats, as we do
    paths = list(zip(model.data.path, model.data.total_conversions, model.data.total_null, strict=True))
    ours = markov.transition_probabilities(markov.transitions_from_paths(paths))
    theirs = model.transition_matrix()
    assert set(ours) == set(theirs)
    assert max(abs(ours[k] - theirs[k]) for k in theirs) < 1e-12
    # mta's analytic Markov sums the probabilities of the *observed* converting paths only,
    # a lower bound of the absorbing chain's exact probability, with and without each channel
    exact = markov.removal_effects(markov.transitions_from_paths(paths))
    assert model.prob_convert(theirs) <= exact.conversion_probability + 1e-12
    for channel in model.channels:
        without, _ = markov.conversion_probability(markov.transitions_from_paths(paths), frozenset([channel]))
        assert model.prob_convert(theirs, drop=channel) <= without + 1e-12
    # the exact chain conserves probability: conversion + null absorption from start is 1
    total = sum(paths_i[1] + paths_i[2] for paths_i in paths)
    assert total > 0 and 0 < exact.conversion_probability < 1


@pytest.fixture
def tiny(tmp_path: Path):  # noqa: ANN201
    ws = tiny_workspace(tmp_path / "ws")
    yield ws
    ws.close()


def test_rule_based_models_by_hand(tiny: Workspace) -> None:
    # collapsed journeys before the first 'buy': A [ad, mail, shop] buys; B [mail] buys;
    # C [ad, shop] and D [mail] do not
    s = attribution_section(tiny.store.ibis(), tiny.load_map("tiny"), orders=(1,))
    assert (s["customers"], s["conversions"]) == (4, 2)
    tp = s["touchpoints"]
    assert {k: tp[k]["first_touch"] for k in tp} == {"ad": 1, "mail": 1, "shop": 0}
    assert {k: tp[k]["last_touch"] for k in tp} == {"ad": 0, "mail": 1, "shop": 1}
    assert tp["mail"]["linear"] == pytest.approx(4 / 3, abs=1e-3)
    assert {k: tp[k]["position_based"] for k in tp} == pytest.approx({"ad": 0.4, "mail": 1.2, "shop": 0.4})
    w = [2 ** (-age / 7) for age in (2.5, 1.5, 0.5)]  # ages of A's touches in days at conversion
    assert tp["ad"]["time_decay"] == pytest.approx(w[0] / sum(w), abs=1e-3)
    assert tp["mail"]["time_decay"] == pytest.approx(1 + w[1] / sum(w), abs=1e-3)
    for model in HEURISTICS:
        assert sum(v[model] for v in tp.values()) == pytest.approx(2, abs=2e-3)
    expected = markov.removal_effects(markov.transitions_from_paths(
        [(["ad", "mail", "shop"], 1, 0), (["mail"], 1, 0), (["ad", "shop"], 0, 1), (["mail"], 0, 1)]))
    assert s["markov"]["1"]["conversion_probability"] == pytest.approx(expected.conversion_probability, abs=1e-6)
    for k, v in expected.removal_effects.items():
        assert tp[k]["removal_effect_1"] == pytest.approx(v, abs=1e-6)
    assert set(s["channels"]) == {"paid", "email", "web"}


def test_no_goal_event(tiny: Workspace) -> None:
    jmap = tiny.load_map("tiny")
    jmap = jmap.model_copy(update={"goal": jmap.goal.model_copy(update={"event": "nothing_like_it"})})
    s = attribution_section(tiny.store.ibis(), jmap)
    assert s["available"] is False and "nothing_like_it" in s["reason"]


def test_demo_attribution(demo: Workspace) -> None:
    s = attribution_section(demo.store.ibis(), demo.load_map("enterprise-acquisition"), orders=(1, 2))
    tp = s["touchpoints"]
    for model in (*HEURISTICS, "markov_1", "markov_2"):
        assert math.isclose(sum(v[model] for v in tp.values()), s["conversions"], rel_tol=1e-2)
    # the planted conversion driver: webinars get a large share from the data-driven model
    assert tp["webinar"]["removal_effect_1"] > 0.3
    assert tp["webinar"]["markov_1"] > tp["webinar"]["first_touch"]
