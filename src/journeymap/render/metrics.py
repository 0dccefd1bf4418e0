"""Reading numbers out of an analysis dict, whatever shape a section took.

The page renders from the dict of ``analyze --json`` (DESIGN §3.3) and the sections
other modules add (``feedback``, ``emotion``, ``goal``, ...).  A number there is either
a plain value or a dict with its sample size and interval; :func:`metric` reads both,
so the page shows "3.3 (3.2–3.4) n=432" wherever the data carries it and a plain
number otherwise.  A missing key is never an error: the cell says "no data".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

_VALUE_KEYS = ("value", "mean", "score", "estimate", "rate", "share", "nps", "csat", "ces")
_N_KEYS = ("n", "responses", "count", "customers")
_LOW_KEYS = ("ci_low", "low", "lower", "ci_lower")
_HIGH_KEYS = ("ci_high", "high", "upper", "ci_upper")


@dataclass(frozen=True)
class Metric:
    """A number with its sample size and confidence interval (either may be unknown)."""

    value: float
    n: int | None = None
    low: float | None = None
    high: float | None = None
    unit: str | None = None

    def text(self, unit: str | None = None) -> str:
        return fmt_number(self.value, unit or self.unit)

    def interval_text(self) -> str:
        if self.low is None or self.high is None:
            return ""
        if self.unit == "share":
            return f"{self.low * 100:.0f}–{self.high * 100:.0f} %"
        return f"{fmt_number(self.low)}–{fmt_number(self.high)}"

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "n": self.n, "ci_low": self.low, "ci_high": self.high}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(float(value)) else None
    return None


def metric(value: Any) -> Metric | None:
    """A :class:`Metric` from a number or a dict such as ``{value, n, ci: [lo, hi]}``."""
    plain = _number(value)
    if plain is not None:
        return Metric(plain)
    if not isinstance(value, Mapping):
        return None
    found = next((_number(value[k]) for k in _VALUE_KEYS if _number(value.get(k)) is not None), None)
    if found is None:
        return None
    n = next((int(value[k]) for k in _N_KEYS if _number(value.get(k)) is not None), None)
    low = next((_number(value[k]) for k in _LOW_KEYS if _number(value.get(k)) is not None), None)
    high = next((_number(value[k]) for k in _HIGH_KEYS if _number(value.get(k)) is not None), None)
    ci = value.get("ci") or value.get("interval")
    if isinstance(ci, (list, tuple)) and len(ci) == 2:
        low, high = _number(ci[0]), _number(ci[1])
    elif isinstance(ci, Mapping):
        low = next((_number(ci[k]) for k in ("low", "lower", "lo") if k in ci), low)
        high = next((_number(ci[k]) for k in ("high", "upper", "hi") if k in ci), high)
    unit = value.get("unit") if isinstance(value.get("unit"), str) else None
    return Metric(found, n, low, high, unit)


def fmt_number(value: float | None, unit: str | None = None) -> str:
    """A number as people read it: thousands separators, three significant digits."""
    if value is None:
        return "–"
    if unit in ("share", "%"):
        text = f"{value * 100:.0f} %" if unit == "share" else f"{value:.0f} %"
        return text
    if float(value).is_integer() and abs(value) >= 1:
        text = f"{value:,.0f}"
    elif abs(value) >= 100:
        text = f"{value:,.0f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}" if unit and unit != "points" else text


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    for size, name in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds / size:.3g} {name}"
    return f"{seconds:.0f} s"


def by_id(rows: Any, *keys: str) -> dict[str, Mapping[str, Any]]:
    """Index a list of dicts by the first of ``keys`` present (a dict passes through)."""
    if isinstance(rows, Mapping):
        return {str(k): v for k, v in rows.items() if isinstance(v, Mapping)}
    out: dict[str, Mapping[str, Any]] = {}
    if not isinstance(rows, Iterable) or isinstance(rows, (str, bytes)):
        return out
    for row in rows:
        if isinstance(row, Mapping):
            key = next((row[k] for k in keys if row.get(k) is not None), None)
            if key is not None:
                out.setdefault(str(key), row)
    return out


def rows(value: Any) -> list[Mapping[str, Any]]:
    """``value`` as a list of dicts (a dict of lists under ``items``/``rows`` too)."""
    if isinstance(value, Mapping):
        for key in ("items", "rows", "kpis", "stages", "points", "themes"):
            if isinstance(value.get(key), list):
                value = value[key]
                break
        else:
            return []
    if not isinstance(value, list):
        return []
    return [r for r in value if isinstance(r, Mapping)]


def kpi_status(actual: float | None, target: float | None, baseline: float | None,
               direction: str) -> str:
    """``good`` (target met), ``bad`` (worse than baseline), ``mid`` (between), ``none``."""
    if actual is None or target is None:
        return "none"
    sign = 1 if direction == "increase" else -1
    if sign * (actual - target) >= 0:
        return "good"
    if baseline is not None and sign * (actual - baseline) < 0:
        return "bad"
    return "mid"


def progress_share(actual: float | None, baseline: float | None, target: float) -> float | None:
    """How far ``actual`` has come from ``baseline`` to ``target`` (0…1, clipped)."""
    if actual is None or baseline is None or target == baseline:
        return None
    return max(0.0, min(1.0, (actual - baseline) / (target - baseline)))
