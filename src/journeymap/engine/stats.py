"""Significance tests and multiple-testing corrections for segment comparisons.

Small, pure functions over counts and arrays (the engine aggregates; these only
decide).  Proportions: two-proportion z test (pooled standard error) and Pearson's
chi-square on a k × 2 table; times, counts and scores: Mann–Whitney U (two-sided,
normal approximation with tie correction on large samples, as SciPy decides);
several groups at once: Kruskal–Wallis.  Corrections: Benjamini–Hochberg (false
discovery rate) and Holm (family-wise error), both monotone and capped at 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from statistics import NormalDist
from typing import Any

import numpy as np


def _sps() -> Any:
    """scipy.stats, imported when a test needs it (half a second at start-up otherwise:
    the z test and the intervals need only the normal distribution, in the stdlib)."""
    from scipy import stats

    return stats


def normal_quantile(p: float) -> float:
    """The standard normal distribution's quantile (as ``scipy.stats.norm.ppf``)."""
    return NormalDist().inv_cdf(p)


@dataclass(frozen=True)
class TestResult:
    """The outcome of one test: its name, statistic and two-sided p-value.

    ``p_value`` is None when the test cannot be run (an empty group, no variance).
    """

    test: str
    statistic: float | None
    p_value: float | None

    __test__ = False  # not a pytest class


def two_proportion_z(x1: int, n1: int, x2: int, n2: int) -> TestResult:
    """Pooled two-proportion z test of x1/n1 against x2/n2 (two-sided)."""
    if n1 <= 0 or n2 <= 0:
        return TestResult("two-proportion z", None, None)
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return TestResult("two-proportion z", 0.0, 1.0)
    z = (x1 / n1 - x2 / n2) / se
    return TestResult("two-proportion z", z, math.erfc(abs(z) / math.sqrt(2)))  # 2 × normal sf


def chi_square(successes: Sequence[int], totals: Sequence[int]) -> TestResult:
    """Pearson's chi-square test of equal proportions across groups (no Yates
    correction, so on two groups it equals the z test: chi² = z²)."""
    rows = [(s, t - s) for s, t in zip(successes, totals, strict=True) if t > 0]
    table = np.asarray(rows, dtype=float)
    if len(rows) < 2 or (table.sum(axis=0) == 0).any():
        return TestResult("chi-square", None, None)
    result = _sps().chi2_contingency(table, correction=False)
    return TestResult("chi-square", float(result.statistic), float(result.pvalue))


def mann_whitney(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> TestResult:
    """Two-sided Mann–Whitney U test; the statistic is U of ``a``."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    if len(x) == 0 or len(y) == 0:
        return TestResult("Mann-Whitney U", None, None)
    if np.ptp(np.concatenate([x, y])) == 0:
        return TestResult("Mann-Whitney U", float(len(x) * len(y) / 2), 1.0)
    result = _sps().mannwhitneyu(x, y, alternative="two-sided")
    return TestResult("Mann-Whitney U", float(result.statistic), float(result.pvalue))


def kruskal(groups: Sequence[np.ndarray]) -> TestResult:
    """Kruskal–Wallis H test across groups (the omnibus test for times and scores)."""
    samples = [g[~np.isnan(g)] for g in (np.asarray(g, dtype=float) for g in groups)]
    samples = [g for g in samples if len(g)]
    if len(samples) < 2:
        return TestResult("Kruskal-Wallis H", None, None)
    if np.ptp(np.concatenate(samples)) == 0:
        return TestResult("Kruskal-Wallis H", 0.0, 1.0)
    result = _sps().kruskal(*samples)
    return TestResult("Kruskal-Wallis H", float(result.statistic), float(result.pvalue))


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini–Hochberg adjusted p-values (step-up, monotone, capped at 1).

    ``None`` (a test that could not run) stays ``None`` and is not counted in the family.
    """
    index = [i for i, p in enumerate(p_values) if p is not None]
    out: list[float | None] = [None] * len(p_values)
    m = len(index)
    if m == 0:
        return out
    p = np.array([p_values[i] for i in index], dtype=float)
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    for rank, pos in enumerate(order):
        out[index[pos]] = float(adjusted[rank])
    return out


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm–Bonferroni adjusted p-values (step-down, monotone, capped at 1)."""
    index = [i for i, p in enumerate(p_values) if p is not None]
    out: list[float | None] = [None] * len(p_values)
    m = len(index)
    if m == 0:
        return out
    p = np.array([p_values[i] for i in index], dtype=float)
    order = np.argsort(p)
    scaled = p[order] * (m - np.arange(m))
    adjusted = np.maximum.accumulate(scaled).clip(max=1.0)
    for rank, pos in enumerate(order):
        out[index[pos]] = float(adjusted[rank])
    return out


def wilson_interval(x: int, n: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval of the proportion x/n."""
    if n <= 0:
        return None
    z = normal_quantile(0.5 + confidence / 2)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # at x = 0 (x = n) the bound is 0 (1) exactly, whatever the float rounding
    return (0.0 if x == 0 else max(0.0, centre - half)), (1.0 if x == n else min(1.0, centre + half))


def add_corrections(rows: list[dict[str, object]], *, alpha: float = 0.05) -> None:
    """Add ``p_bh``, ``p_holm`` and ``significant`` (BH-adjusted p < alpha) to rows
    that carry ``p_value``; the rows are one family."""
    raw = [r.get("p_value") for r in rows]
    pvals = [float(p) if isinstance(p, (int, float)) else None for p in raw]
    for row, bh, hm in zip(rows, benjamini_hochberg(pvals), holm(pvals), strict=True):
        row["p_bh"] = bh
        row["p_holm"] = hm
        row["significant"] = bh is not None and bh < alpha


def euclidean_distances(x: np.ndarray) -> np.ndarray:
    """The square matrix of Euclidean distances between the rows of ``x``."""
    sq = (x * x).sum(axis=1)
    return np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * (x @ x.T), 0.0))


def silhouette(d: np.ndarray, labels: np.ndarray) -> float | None:
    """Mean silhouette coefficient from a square distance matrix ``d`` (Rousseeuw 1987;
    a point alone in its cluster scores 0); None for fewer than two clusters.  One
    matrix product for every point's mean distance to every cluster, so scoring several
    labelings of the same points reuses ``d``."""
    ks, own = np.unique(labels, return_inverse=True)
    if len(ks) < 2:
        return None
    n = len(labels)
    onehot = np.zeros((n, len(ks)))
    onehot[np.arange(n), own] = 1.0
    sizes = onehot.sum(axis=0)
    mean_to = (d @ onehot) / sizes[None, :]
    a = mean_to[np.arange(n), own] * sizes[own] / np.maximum(sizes[own] - 1, 1)
    mean_to[np.arange(n), own] = np.inf
    b = mean_to.min(axis=1)
    s = (b - a) / np.maximum(np.maximum(a, b), 1e-12)
    s[sizes[own] == 1] = 0.0
    return float(s.mean())
