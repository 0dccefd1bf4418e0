"""Vectorised building blocks of the demo generator: time of day, event buffer, draws.

Timestamps are int64 seconds since the Unix epoch, UTC.  A customer's local time is
UTC plus the standard offset of their country; working-hour events avoid weekends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeymap.demo.catalog import (
    CHANNEL_CODE,
    DAY,
    EVENT_CODE,
    EVENTS,
    HOUR,
    START_S,
    START_WEEKDAY,
)

IntArray = np.ndarray
NEVER = np.iinfo(np.int64).max

# local hour distributions: (mean, sd, low, high) of a normal, by kind of moment
_HOURS: dict[str, tuple[tuple[float, float, float, float, float], ...]] = {
    # (weight, mean, sd, low, high)
    "work": ((0.55, 10.5, 1.4, 7.5, 12.5), (0.45, 14.5, 1.6, 12.5, 18.5)),
    "any": ((0.35, 9.5, 1.5, 6.5, 12.0), (0.45, 14.5, 1.8, 12.0, 18.0), (0.2, 20.0, 1.5, 17.0, 23.5)),
    "morning": ((1.0, 9.4, 1.3, 6.5, 11.99),),
    "afternoon": ((1.0, 14.5, 1.4, 12.0, 16.99),),
    "evening": ((1.0, 19.8, 1.4, 17.0, 23.5),),
}


def choice(rng: np.random.Generator, weights: np.ndarray, group: IntArray | None, size: int) -> IntArray:
    """Draw one category per row; ``weights`` is (K,) or (G, K) indexed by ``group``."""
    table = np.asarray(weights, dtype=np.float64)
    if table.ndim == 1:
        cum = np.cumsum(table / table.sum())
        return np.minimum(np.searchsorted(cum, rng.random(size), side="right"), len(cum) - 1)
    cum = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    assert group is not None
    u = rng.random(size)
    return np.minimum((u[:, None] >= cum[group]).sum(axis=1), table.shape[1] - 1)


def expand(counts: IntArray) -> tuple[IntArray, IntArray]:
    """Row index repeated ``counts`` times, and each copy's number within its row."""
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    nth = np.arange(len(owner)) - np.repeat(starts, counts)
    return owner, nth


def lognormal_days(rng: np.random.Generator, median: float, sigma: float, size: int) -> np.ndarray:
    return np.asarray(median * np.exp(sigma * rng.standard_normal(size)))


class Clock:
    """Places events at realistic local times of day for each customer."""

    def __init__(self, rng: np.random.Generator, tz_hours: np.ndarray):
        self.rng = rng
        self.tz_s = np.round(np.asarray(tz_hours) * HOUR).astype(np.int64)

    def local_day(self, cust: IntArray, ts: IntArray) -> np.ndarray:
        """Local days since the start of the data, as a float."""
        return np.asarray((ts + self.tz_s[cust] - START_S) / DAY)

    def hour_of(self, cust: IntArray, ts: IntArray) -> IntArray:
        return np.asarray(((ts + self.tz_s[cust]) % DAY) // HOUR)

    def seconds_of_day(self, kind: str, size: int) -> IntArray:
        parts = _HOURS[kind]
        which = choice(self.rng, np.array([p[0] for p in parts]), None, size)
        mean = np.array([p[1] for p in parts])[which]
        sd = np.array([p[2] for p in parts])[which]
        hours = np.clip(mean + sd * self.rng.standard_normal(size), np.array([p[3] for p in parts])[which],
                        np.array([p[4] for p in parts])[which])
        return (hours * HOUR).astype(np.int64)

    def at(self, cust: IntArray, day: np.ndarray, kind: str = "work") -> IntArray:
        """UTC seconds of an event on local day ``day`` (floored) at a ``kind`` time."""
        d = np.floor(day).astype(np.int64)
        if kind == "work":
            weekday = (d + START_WEEKDAY) % 7
            d = d + np.where(weekday == 5, 2, np.where(weekday == 6, 1, 0))
        secs = self.seconds_of_day(kind, len(d))
        return START_S + d * DAY + secs - self.tz_s[cust]

    def after(self, cust: IntArray, prev: IntArray, lag_days: np.ndarray, kind: str = "work") -> IntArray:
        """An event ``lag_days`` after ``prev`` at a ``kind`` time, strictly later than it."""
        ts = self.at(cust, self.local_day(cust, prev) + lag_days, kind)
        return np.maximum(ts, prev + 60 + self.rng.integers(0, 900, len(prev)))


@dataclass
class EventLog:
    """Collects events as column chunks; nothing here loops over events."""

    cust: list[IntArray] = field(default_factory=list)
    ts: list[IntArray] = field(default_factory=list)
    code: list[IntArray] = field(default_factory=list)
    channel: list[IntArray] = field(default_factory=list)
    props: list[pa.Array] = field(default_factory=list)

    def add(
        self,
        name: str,
        cust: IntArray,
        ts: IntArray,
        props: pa.Array | None = None,
        channel: IntArray | None = None,
    ) -> None:
        n = len(cust)
        if n == 0:
            return
        self.cust.append(np.asarray(cust, dtype=np.int64))
        self.ts.append(np.asarray(ts, dtype=np.int64))
        self.code.append(np.full(n, EVENT_CODE[name], dtype=np.int16))
        default = CHANNEL_CODE[EVENTS[name][0]]
        self.channel.append(np.full(n, default, dtype=np.int8) if channel is None else channel.astype(np.int8))
        self.props.append(pa.nulls(n, pa.string()).fill_null("{}") if props is None else props)

    def columns(self) -> tuple[IntArray, IntArray, IntArray, IntArray, pa.Array]:
        return (
            np.concatenate(self.cust),
            np.concatenate(self.ts),
            np.concatenate(self.code),
            np.concatenate(self.channel),
            pa.concat_arrays(self.props),
        )


PropValue: TypeAlias = Union[tuple[tuple[str, ...], np.ndarray], np.ndarray, pa.Array]


def json_props(**values: PropValue) -> pa.Array:
    """A JSON object per row, built column-wise with Arrow string kernels.

    A value is ``(choices, index)`` for a string from a fixed list, an integer or
    float numpy array for a number, or an Arrow string array (quoted as given).
    """
    pieces: list[object] = []
    size = 0
    for i, (key, value) in enumerate(values.items()):
        pieces.append(("{" if i == 0 else ", ") + f'"{key}": ')
        if isinstance(value, tuple):
            choices, idx = value
            quoted = pa.array([f'"{c}"' for c in choices], pa.string())
            arr = quoted.take(pa.array(np.asarray(idx, dtype=np.int64)))
        elif isinstance(value, pa.Array):
            arr = pc.binary_join_element_wise('"', value, '"', "")
        else:
            arr = pc.cast(pa.array(value), pa.string())
        size = len(arr)
        pieces.append(arr)
    pieces.append("}")
    if size == 0:
        return pa.array([], pa.string())
    return pc.binary_join_element_wise(*pieces, "")


def id_strings(prefix: str, numbers: IntArray, width: int) -> pa.Array:
    """``prefix`` + zero-padded numbers, e.g. ``T0000042``."""
    text = pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string())
    padded = pc.utf8_lpad(text, width=width, padding="0")
    return pc.binary_join_element_wise(prefix, padded, "")
