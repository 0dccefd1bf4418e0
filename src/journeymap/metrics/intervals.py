"""Confidence intervals for the numbers journeymap shows with an ``n``.

* Shares (CSAT top-2-box, CES high-effort share, conversion): the **Wilson score
  interval** (Wilson 1927) — good coverage at small n and never outside [0, 1].
* NPS (share of promoters minus share of detractors, in points −100…100): the
  **variance formula** of a difference of two multinomial shares,
  ``var = (p₊ + p₋ − (p₊ − p₋)²) / n``, applied after adding one pseudo-answer to
  each of the three categories (promoter, passive, detractor; an Agresti–Coull-style
  adjustment) so that an all-promoter sample of 5 does not get a zero-width interval.
  The interval is clipped to [−100, 100].  Deterministic; no bootstrap.
* Means (CES mean, CSAT mean, custom score metrics): Student's t interval.

Every interval here is two-sided at ``level`` (default 95 %).
"""

from __future__ import annotations

import math


from journeymap.engine.stats import normal_quantile, wilson_interval

SMALL_SAMPLE = 30
"""Below this many answers a KPI is flagged ``small_sample`` (shown, never hidden)."""


def _z(level: float) -> float:
    return normal_quantile(0.5 + level / 2)


def wilson(successes: int, n: int, level: float = 0.95) -> tuple[float | None, float | None]:
    """Wilson score interval of a share ``successes / n`` (None, None when n == 0);
    the computation is :func:`journeymap.engine.stats.wilson_interval`."""
    if not 0 <= successes <= max(n, 0):
        raise ValueError(f"successes must be within 0..n, got {successes} of {n}")
    interval = wilson_interval(successes, n, level)
    return (None, None) if interval is None else interval


def nps_interval(promoters: int, passives: int, detractors: int,
                 level: float = 0.95) -> tuple[float | None, float | None]:
    """Interval of the NPS in points, by the adjusted variance formula (see module doc)."""
    n = promoters + passives + detractors
    if n <= 0:
        return None, None
    z = _z(level)
    na = n + 3
    pp, pd = (promoters + 1) / na, (detractors + 1) / na
    centre = pp - pd
    half = z * math.sqrt(max(pp + pd - centre * centre, 0.0) / na)
    return max(-100.0, 100 * (centre - half)), min(100.0, 100 * (centre + half))


def mean_interval(n: int, total: float, total_sq: float,
                  level: float = 0.95) -> tuple[float | None, float | None, float | None]:
    """(mean, low, high) of a sample known by its count, sum and sum of squares.

    Student's t with n − 1 degrees of freedom; with one answer the interval is
    unknown (None) but the mean is shown.
    """
    if n <= 0:
        return None, None, None
    mean = total / n
    if n == 1:
        return mean, None, None
    var = max((total_sq - n * mean * mean) / (n - 1), 0.0)
    from scipy import stats  # only when a mean has an interval to compute

    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * math.sqrt(var / n)
    return mean, mean - half, mean + half
