"""Exact distinct customers per group — one bit per customer on DuckDB.

``count(DISTINCT cust)`` per transition is the most expensive aggregate of an
analysis: a hash table of every (customer, from, to) a log holds (9 M keys for 10 M
events).  On DuckDB's journey table a customer is a small integer instead — the
customer's position in its chunk (``cust & CHUNK_MASK`` = 1, 2, ...; see
:func:`journeymap.engine.journeys.journey_table`) — so each group can keep a bitmap
of the customers it saw (``bitstring_agg``) and count its bits: the same exact
number at a third of the time, and no hash table.  Bitmaps of all groups cost
groups × customers-per-chunk / 8 bytes; past :data:`BITMAP_BUDGET` (or on another
backend, or with string customer ids) the portable ``nunique`` runs instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

from journeymap.engine.backend import capabilities
from journeymap.engine.fetch import rows
from journeymap.engine.journeys import CHUNK_BITS, CHUNK_MASK

BITMAP_BUDGET = 512 * 2**20  # bytes of bitmaps, all groups together


@ibis.udf.agg.builtin(name="bitstring_agg")
def _bitstring_agg(value: int, lo: int, hi: int) -> str:  # type: ignore[empty-body]
    """DuckDB: a bitstring with bit ``value - lo`` set for every value in the group."""


@ibis.udf.scalar.builtin(name="bit_count")
def _bit_count(bits: str) -> int:  # type: ignore[empty-body]
    """DuckDB: the number of set bits."""


def distinct_customers(table: ir.Table, by: Sequence[str], column: str = "cust",
                       name: str = "customers", *, groups_bound: int | None = None) -> ir.Table:
    """``by`` columns and ``name``: the number of distinct ``column`` values per group.
    ``groups_bound``: at most this many ``by`` groups (e.g. steps × steps), if known —
    saves counting them to size the bitmaps."""
    codes = table[column]
    plan = _bitmap_plan(table, by, codes, groups_bound)
    if plan is None:
        return table.group_by(list(by)).aggregate(**{name: codes.nunique()})
    lo, hi = plan
    local = (codes & CHUNK_MASK).cast("int32")
    chunked = table.mutate(_chunk=(codes >> CHUNK_BITS).cast("int32"), _local=local)
    bits = chunked.group_by(["_chunk", *by]).aggregate(
        _bits=_bitstring_agg(chunked._local, lo, hi))
    counted = bits.mutate(_n=_bit_count(bits._bits))
    return counted.group_by(list(by)).aggregate(**{name: counted._n.sum().cast("int64")})


def _bitmap_plan(table: ir.Table, by: Sequence[str], codes: ir.Column,
                 groups_bound: int | None) -> tuple[int, int] | None:
    """(lowest, highest) customer position for ``bitstring_agg``, or None: use ``nunique``."""
    if not codes.type().is_integer():
        return None
    try:
        backend = ibis.get_backend(table)
    except Exception:  # noqa: BLE001 — an unbound expression: the portable way
        return None
    if not capabilities(backend).bitmaps:
        return None
    local, chunk = codes & CHUNK_MASK, codes >> CHUNK_BITS
    span = rows(table.aggregate(lo=local.min(), hi=local.max(), chunks=chunk.max() + 1))[0]
    if span["lo"] is None:
        return None
    lo, hi = int(span["lo"]), int(span["hi"])
    per_group = (hi - lo) // 8 + 1  # bytes of one group's bitmap
    groups = (groups_bound or 0) * int(span["chunks"])
    if not groups_bound or groups * per_group > BITMAP_BUDGET:
        # count the groups (one per chunk) to know the bitmaps' size
        sizes = table.group_by([chunk.name("_chunk"), *by]).aggregate(_n=table.count())
        groups = int(rows(sizes.aggregate(groups=sizes.count()))[0]["groups"])
    if groups * per_group > BITMAP_BUDGET:
        return None
    return lo, hi
