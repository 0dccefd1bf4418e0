"""What the metrics modules share: JSON-ready numbers (the scope of an analysis is
:mod:`journeymap.engine.scope`)."""

from __future__ import annotations

import math


def num(value: float | None, digits: int = 4) -> float | None:
    """A float for JSON: rounded, and None for missing or non-finite values."""
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value):
        return None
    return round(value, digits)
