"""Deterministic event logs for the benchmark, written with numpy + pyarrow.

``n`` events over customers with 10–60 events each (uniform), 40 event types
(``s{stage}_e{k}``: four phases of a journey, ten events each, skewed towards k = 0),
three channels, timestamps spread over a year with minute-to-day gaps.  The same
``n`` and ``seed`` always give the same file, byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from spec import CHANNELS, EVENT_NAMES, FUNNEL  # noqa: F401 (FUNNEL: re-exported)

CHUNK_CUSTOMERS = 100_000
BASE_US = 1_704_067_200_000_000  # 2024-01-01T00:00:00Z
SCHEMA = pa.schema([
    ("customer_id", pa.string()),
    ("timestamp", pa.timestamp("us", tz="UTC")),
    ("event", pa.dictionary(pa.int32(), pa.string())),
    ("channel", pa.dictionary(pa.int32(), pa.string())),
])


def lengths(n: int, seed: int) -> np.ndarray:
    """Events per customer (10–60), summing to exactly ``n``."""
    rng = np.random.default_rng(seed)
    out = rng.integers(10, 61, size=int(n / 35 * 1.1) + 10)
    total = np.cumsum(out)
    last = int(np.searchsorted(total, n))
    out = out[: last + 1].copy()
    out[-1] -= int(total[last] - n)
    if out[-1] == 0:
        out = out[:-1]
    return out


def _chunk(first: int, lens: np.ndarray, seed: int) -> pa.RecordBatch:
    rng = np.random.default_rng([seed, first])
    size = int(lens.sum())
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    ids = np.repeat(np.arange(first, first + len(lens), dtype=np.int64), lens)
    pos = np.arange(size, dtype=np.int64) - np.repeat(starts, lens)
    frac = pos / np.repeat(lens, lens)
    stage = np.minimum(3, (frac * 4).astype(np.int32))
    within = np.minimum(9, rng.geometric(0.3, size=size) - 1).astype(np.int32)
    event = stage * 10 + within
    channel = np.where(rng.random(size) < 0.8, event % 3, rng.integers(0, 3, size=size)).astype(np.int32)
    gaps = rng.exponential(3600.0, size=size)
    gaps += np.where(rng.random(size) < 0.1, rng.exponential(86400.0 * 3, size=size), 0.0)
    gaps = (gaps * 1e6).astype(np.int64) + 1_000_000  # at least a second apart
    gaps[starts] = 0
    cs = np.cumsum(gaps)
    cs -= np.repeat(cs[starts], lens)
    begin = rng.integers(0, 365 * 86400, size=len(lens), dtype=np.int64) * 1_000_000
    ts = BASE_US + np.repeat(begin, lens) + cs
    cid = pc.binary_join_element_wise("C", pc.utf8_lpad(pc.cast(pa.array(ids), pa.string()), 9, "0"), "")
    return pa.record_batch([
        cid,
        pa.array(ts, pa.timestamp("us", tz="UTC")),
        pa.DictionaryArray.from_arrays(pa.array(event, pa.int32()), pa.array(EVENT_NAMES)),
        pa.DictionaryArray.from_arrays(pa.array(channel, pa.int32()), pa.array(CHANNELS)),
    ], schema=SCHEMA)


def generate(n: int, path: Path, seed: int = 2024) -> Path:
    """Write ``n`` events to ``path`` (Parquet, rows grouped by customer, time order)."""
    path = Path(path)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    lens = lengths(n, seed)
    with pq.ParquetWriter(partial, SCHEMA, compression="zstd") as writer:
        for first in range(0, len(lens), CHUNK_CUSTOMERS):
            writer.write_batch(_chunk(first, lens[first:first + CHUNK_CUSTOMERS], seed),
                               row_group_size=1_000_000)
    partial.rename(path)
    return path
