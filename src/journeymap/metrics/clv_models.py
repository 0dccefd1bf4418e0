"""Buy-till-you-die models fitted by maximum likelihood: BG/NBD, Pareto/NBD, Gamma-Gamma.

Inputs are per-customer arrays in one time unit: ``x`` repeat purchases (distinct
purchase days after the first), ``t_x`` time of the last purchase and ``T`` the age at
the end of observation, both measured from the first purchase.  Likelihoods are
vectorised over customers; identical (x, t_x, T) rows are collapsed into weights first.

* BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way", eq. (6).
* Pareto/NBD: Fader & Hardie (2005), "A note on deriving the Pareto/NBD model and
  related expressions", in the stable form that evaluates ₂F₁ on the larger of α, β so
  its argument stays in [0, 1), with the difference of the two ₂F₁ terms taken in log
  space.
* Gamma-Gamma: Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves",
  and Fader & Hardie (2013), "The Gamma-Gamma model of monetary value".

Parameters are optimised on the log scale (bounded Powell on the mean log-likelihood —
derivative-free and BLAS-free, so it does not fight DuckDB's threads the way L-BFGS-B's
tiny BLAS calls do on a small machine) from one or two starts; the best wins.  A parameter that ends at the edge of the search range
is reported in ``Fit.at_bound``: the data do not identify it (e.g. no sign of dropout).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize
from scipy.special import betaln, gammaln, hyp2f1

Arr = NDArray[np.float64]


@dataclass(frozen=True)
class Fit:
    model: str
    params: dict[str, float]
    log_likelihood: float
    n: int
    converged: bool
    at_bound: tuple[str, ...] = ()  # parameters at the edge of the search range: a degenerate fit


METHOD = "Powell"
# xtol on log parameters: a relative 1e-6 of each, far below the 3-4 digits reported;
# tighter (1e-13 / 1e-9) took 1.6x the evaluations for the same digits on CDNOW
OPTIONS = {"Powell": {"ftol": 1e-10, "xtol": 1e-6, "maxfev": 20000},
           "L-BFGS-B": {"ftol": 1e-12, "gtol": 1e-8, "maxiter": 2000}}
LOG_BOUND = 10.0  # parameters are searched within e^-10 .. e^10 (log scale)


def _collapse(*columns: Arr) -> tuple[list[Arr], Arr]:
    stacked = np.column_stack(columns)
    uniq, counts = np.unique(stacked, axis=0, return_counts=True)
    return [uniq[:, i] for i in range(uniq.shape[1])], counts.astype(float)


def _maximise(nll: Callable[[Arr], float], starts: list[list[float]], names: tuple[str, ...],
              model: str, n: int) -> Fit:
    best: optimize.OptimizeResult | None = None
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(names)
    for start in starts:
        x0 = np.log(np.asarray(start, dtype=float))
        res = optimize.minimize(nll, x0, method=METHOD, bounds=bounds, options=OPTIONS[METHOD])
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    params = dict(zip(names, (float(v) for v in np.exp(best.x)), strict=True))
    at_bound = tuple(k for k, v in zip(names, best.x, strict=True) if abs(v) > LOG_BOUND - 0.5)
    ok = bool(best.success) and bool(np.isfinite(best.fun))
    return Fit(model, params, -float(best.fun), n, ok, at_bound)


# --- BG/NBD -------------------------------------------------------------------------

def bgnbd_loglik(params: Arr, x: Arr, t_x: Arr, T: Arr) -> Arr:
    """Per-customer log-likelihood of BG/NBD (r, alpha, a, b)."""
    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a1 = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a2 = np.where(x > 0, betaln(a, b + x) - betaln(a, b) + np.log(a) - np.log(np.maximum(b + x - 1, 1e-300))
                      - (r + x) * np.log(alpha + t_x), -np.inf)
    return np.asarray(common + np.logaddexp(a1, a2), dtype=float)


def fit_bgnbd(x: Arr, t_x: Arr, T: Arr) -> Fit:
    (ux, ut, uT), w = _collapse(x, t_x, T)
    total = float(w.sum())

    def nll(logp: Arr) -> float:
        value = -float(np.dot(w, bgnbd_loglik(np.exp(logp), ux, ut, uT)))
        return value / total if np.isfinite(value) else 1e300

    scale = float(np.mean(T)) or 1.0
    fit = _maximise(nll, [[1.0, scale, 1.0, 1.0], [0.25, scale / 10, 0.8, 2.5]],
                    ("r", "alpha", "a", "b"), "bgnbd", len(x))
    return Fit(fit.model, fit.params, fit.log_likelihood * total, fit.n, fit.converged, fit.at_bound)


def bgnbd_p_alive(p: dict[str, float], x: Arr, t_x: Arr, T: Arr) -> Arr:
    r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_ratio = np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return np.where(x > 0, 1.0 / (1.0 + np.exp(log_ratio)), 1.0)


def bgnbd_expected(p: dict[str, float], t: float, x: Arr, t_x: Arr, T: Arr) -> Arr:
    """Expected purchases in (T, T + t] given the history (FHL 2005, eq. 10)."""
    r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
    if t <= 0:
        return np.zeros_like(x, dtype=float)
    z = t / (alpha + T + t)
    head = (a + b + x - 1) / (a - 1)
    tail = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
    return np.asarray(head * tail * bgnbd_p_alive(p, x, t_x, T), dtype=float)


# --- Pareto/NBD ---------------------------------------------------------------------

def _pnbd_log_a0(r: float, alpha: float, s: float, beta: float, x: Arr, t_x: Arr, T: Arr) -> Arr:
    """log A₀ of the Pareto/NBD likelihood, evaluated with ₂F₁ argument in [0, 1)."""
    big, gap = max(alpha, beta), abs(alpha - beta)
    b_param = s + 1 if alpha >= beta else r + x
    c = r + s + x
    log_f1 = np.log(hyp2f1(c, b_param, c + 1, gap / (big + t_x))) - c * np.log(big + t_x)
    log_f2 = np.log(hyp2f1(c, b_param, c + 1, gap / (big + T))) - c * np.log(big + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(log_f1 + np.log1p(-np.exp(log_f2 - log_f1)), dtype=float)


def pnbd_loglik(params: Arr, x: Arr, t_x: Arr, T: Arr) -> Arr:
    """Per-customer log-likelihood of Pareto/NBD (r, alpha, s, beta)."""
    r, alpha, s, beta = params
    part1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    part2 = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    part3 = np.log(s) - np.log(r + s + x) + _pnbd_log_a0(r, alpha, s, beta, x, t_x, T)
    # customers with t_x == T have A0 == 0 (log -inf): logaddexp handles it
    part3 = np.where(t_x < T, part3, -np.inf)
    return np.asarray(part1 + np.logaddexp(part2, part3), dtype=float)


def fit_pnbd(x: Arr, t_x: Arr, T: Arr, start: tuple[float, float] | None = None) -> Fit:
    """``start``: (r, alpha) to start from, e.g. the BG/NBD estimates (one start, faster)."""
    (ux, ut, uT), w = _collapse(x, t_x, T)
    total = float(w.sum())

    def nll(logp: Arr) -> float:
        with np.errstate(all="ignore"):
            value = -float(np.dot(w, pnbd_loglik(np.exp(logp), ux, ut, uT)))
        return value / total if np.isfinite(value) else 1e300

    scale = float(np.mean(T)) or 1.0
    starts = [[start[0], start[1], 0.5, scale / 4]] if start else [[0.5, scale / 4, 0.5, scale / 4], [1.0, scale, 1.0, scale]]
    fit = _maximise(nll, starts,
                    ("r", "alpha", "s", "beta"), "pareto_nbd", len(x))
    return Fit(fit.model, fit.params, fit.log_likelihood * total, fit.n, fit.converged, fit.at_bound)


def pnbd_p_alive(p: dict[str, float], x: Arr, t_x: Arr, T: Arr) -> Arr:
    r, alpha, s, beta = p["r"], p["alpha"], p["s"], p["beta"]
    with np.errstate(all="ignore"):
        log_a0 = _pnbd_log_a0(r, alpha, s, beta, x, t_x, T)
        log_term = (np.log(s) - np.log(r + s + x) + (r + x) * np.log(alpha + T) + s * np.log(beta + T) + log_a0)
        return np.asarray(np.where(t_x < T, 1.0 / (1.0 + np.exp(log_term)), 1.0), dtype=float)


def pnbd_expected(p: dict[str, float], t: float, x: Arr, t_x: Arr, T: Arr) -> Arr:
    """Expected purchases in (T, T + t] given the history (Fader & Hardie 2005 note)."""
    r, alpha, s, beta = p["r"], p["alpha"], p["s"], p["beta"]
    if t <= 0:
        return np.zeros_like(x, dtype=float)
    ratio = (beta + T) / (beta + T + t)
    if abs(s - 1) < 1e-9:
        shape = -np.log(ratio) * (beta + T)
    else:
        shape = (beta + T) / (s - 1) * (1 - ratio ** (s - 1))
    return np.asarray((r + x) / (alpha + T) * shape * pnbd_p_alive(p, x, t_x, T), dtype=float)


# --- Gamma-Gamma --------------------------------------------------------------------

def gg_loglik(params: Arr, x: Arr, m: Arr) -> Arr:
    """Per-customer log-likelihood of Gamma-Gamma (p, q, gamma) for x >= 1 purchases
    with mean value m."""
    p, q, g = params
    return np.asarray(gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(g)
                      + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(g + m * x), dtype=float)


def fit_gamma_gamma(x: Arr, m: Arr) -> Fit:
    keep = (x > 0) & (m > 0)
    (ux, um), w = _collapse(x[keep], m[keep])
    total = float(w.sum())

    def nll(logp: Arr) -> float:
        value = -float(np.dot(w, gg_loglik(np.exp(logp), ux, um)))
        return value / total if np.isfinite(value) else 1e300

    mean = float(np.mean(m[keep])) if keep.any() else 1.0
    fit = _maximise(nll, [[1.0, 1.0, mean], [5.0, 3.0, mean]], ("p", "q", "gamma"), "gamma_gamma", int(keep.sum()))
    return Fit(fit.model, fit.params, fit.log_likelihood * total, fit.n, fit.converged, fit.at_bound)


def gg_expected_spend(p: dict[str, float], x: Arr, m: Arr) -> Arr:
    """E[M | x, m]: the customer's expected value per purchase (population mean if x = 0)."""
    pp, q, g = p["p"], p["q"], p["gamma"]
    population = pp * g / (q - 1) if q > 1 else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        conditional = pp * (g + x * m) / (pp * x + q - 1)
    return np.asarray(np.where(x > 0, conditional, population), dtype=float)
