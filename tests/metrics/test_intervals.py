"""Intervals against published and hand-computed values."""

from __future__ import annotations

import math

import pytest

from journeymap.metrics.intervals import mean_interval, nps_interval, wilson


@pytest.mark.parametrize(("k", "n", "low", "high"), [
    # Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_matches_newcombe(k: int, n: int, low: float, high: float) -> None:
    lo, hi = wilson(k, n)
    assert lo == pytest.approx(low, abs=5e-5)
    assert hi == pytest.approx(high, abs=5e-5)


def test_wilson_empty_and_invalid() -> None:
    assert wilson(0, 0) == (None, None)
    with pytest.raises(ValueError):
        wilson(3, 2)


def test_nps_interval_by_hand() -> None:
    # 50 promoters, 30 passives, 20 detractors; one pseudo-answer per category: n' = 103
    pp, pd = 51 / 103, 21 / 103
    centre = pp - pd
    half = 1.959963985 * math.sqrt((pp + pd - centre ** 2) / 103)
    lo, hi = nps_interval(50, 30, 20)
    assert lo == pytest.approx(100 * (centre - half), abs=1e-6)
    assert hi == pytest.approx(100 * (centre + half), abs=1e-6)
    assert (round(lo, 2), round(hi, 2)) == (13.99, 44.26)


def test_nps_interval_all_promoters_is_not_degenerate() -> None:
    lo, hi = nps_interval(5, 0, 0)
    assert lo is not None and hi == 100.0
    assert lo < 100 - 20


def test_mean_interval_by_hand() -> None:
    scores = [1, 2, 3, 4, 5]  # mean 3, sd sqrt(2.5), t(0.975, 4) = 2.776445
    mean, lo, hi = mean_interval(5, sum(scores), sum(s * s for s in scores))
    half = 2.776445105 * math.sqrt(2.5) / math.sqrt(5)
    assert mean == 3
    assert lo == pytest.approx(3 - half, abs=1e-6)
    assert hi == pytest.approx(3 + half, abs=1e-6)
    assert mean_interval(1, 4, 16) == (4, None, None)
