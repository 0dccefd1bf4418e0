"""Significance tests and corrections against hand-computed values, SciPy and statsmodels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from journeymap.engine import stats


def test_two_proportion_z_by_hand() -> None:
    # 45/100 vs 30/100: pooled p = 0.375, se = sqrt(0.375 * 0.625 * 0.02) = 0.0684653
    result = stats.two_proportion_z(45, 100, 30, 100)
    assert result.statistic == pytest.approx(0.15 / math.sqrt(0.375 * 0.625 * 0.02))
    assert result.statistic == pytest.approx(2.19089, abs=1e-5)
    assert result.p_value == pytest.approx(0.028459, abs=1e-6)


def test_z_squared_is_the_two_group_chi_square() -> None:
    z = stats.two_proportion_z(45, 100, 30, 100)
    chi = stats.chi_square([45, 30], [100, 100])
    assert chi.statistic == pytest.approx(z.statistic**2)
    assert chi.p_value == pytest.approx(z.p_value)


def test_z_test_agrees_with_statsmodels() -> None:
    from statsmodels.stats.proportion import proportions_ztest

    stat, p = proportions_ztest([43, 47], [111, 283])
    result = stats.two_proportion_z(43, 111, 47, 283)
    assert result.statistic == pytest.approx(stat)
    assert result.p_value == pytest.approx(p)


def test_chi_square_k_groups_by_hand() -> None:
    # successes 10, 20, 30 of 50 each: expected 20 successes / 30 failures per group
    # chi2 = (100 + 0 + 100) / 20 + (100 + 0 + 100) / 30 = 16.6667, df = 2
    result = stats.chi_square([10, 20, 30], [50, 50, 50])
    assert result.statistic == pytest.approx(16.6666667)
    assert result.p_value == pytest.approx(math.exp(-16.6666667 / 2))  # chi2 sf with 2 df


def test_mann_whitney_exact_small_sample() -> None:
    # a entirely below b: U_a = 0; exact two-sided p = 2 / C(6, 3) = 0.1
    result = stats.mann_whitney([1, 2, 3], [4, 5, 6])
    assert result.statistic == 0
    assert result.p_value == pytest.approx(0.1)


def test_mann_whitney_matches_scipy_with_ties_and_nans() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(0, 10, 300).astype(float)
    b = rng.integers(1, 11, 250).astype(float)
    expected = sps.mannwhitneyu(a, b, alternative="two-sided")
    result = stats.mann_whitney(np.append(a, np.nan), b)
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.pvalue)


def test_degenerate_inputs_do_not_crash() -> None:
    assert stats.two_proportion_z(0, 0, 3, 10).p_value is None
    assert stats.two_proportion_z(0, 10, 0, 10).p_value == 1.0
    assert stats.mann_whitney([], [1.0]).p_value is None
    assert stats.mann_whitney([2.0, 2.0], [2.0]).p_value == 1.0
    assert stats.chi_square([1], [10]).p_value is None
    assert stats.kruskal([np.array([1.0])]).p_value is None


def test_bh_and_holm_by_hand() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted 0.005, 0.01, 0.03, 0.04; BH p*m/rank = .02 .02 .04 .04; Holm p*(m-rank+1) = .02 .03 .06 .04 -> .06
    assert stats.benjamini_hochberg(p) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert stats.holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_corrections_skip_missing_p_values() -> None:
    assert stats.benjamini_hochberg([None, 0.02, 0.04]) == [None, pytest.approx(0.04), pytest.approx(0.04)]
    assert stats.holm([0.02, None, 0.04]) == [pytest.approx(0.04), None, pytest.approx(0.04)]
    assert stats.holm([]) == []


def test_corrections_agree_with_statsmodels() -> None:
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(11)
    p = np.concatenate([rng.uniform(0, 1, 40), rng.uniform(0, 0.01, 10)])
    assert stats.benjamini_hochberg(list(p)) == pytest.approx(multipletests(p, method="fdr_bh")[1])
    assert stats.holm(list(p)) == pytest.approx(multipletests(p, method="holm")[1])


def test_wilson_interval_textbook() -> None:
    low, high = stats.wilson_interval(0, 10)  # type: ignore[misc]
    assert low == 0.0
    assert high == pytest.approx(0.27753, abs=1e-5)
    low, high = stats.wilson_interval(81, 263)  # type: ignore[misc]
    assert (low, high) == (pytest.approx(0.2553, abs=1e-4), pytest.approx(0.3662, abs=1e-4))


def test_add_corrections_marks_significance() -> None:
    rows: list[dict[str, object]] = [{"p_value": 0.001}, {"p_value": 0.2}, {"p_value": None}]
    stats.add_corrections(rows)
    assert [r["significant"] for r in rows] == [True, False, False]
    assert rows[0]["p_holm"] == pytest.approx(0.002)
