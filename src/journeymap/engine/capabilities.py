"""What a backend can do, asked once per connection: the one place that knows which
engine is which (issue 9, point 2).

The analyses are Ibis expressions that run on any backend; a few take a faster road
where the backend allows it.  They ask :func:`capabilities` instead of testing the
backend's name::

    if capabilities(con).stored_order:      # streaming windows over the stored order
        ...

* ``stored_order``: ``event_log`` is read in its stored order (customer, time, source
  order), so windows over it need no sort, and rows can be looked up by ``rowid``
  (chunks of customers: :func:`journeymap.engine.journeys.customer_splits`);
* ``threads``: the engine's worker threads (1: run one thing at a time);
* ``cursors``: sections may run side by side, each on its own cursor of one database;
* ``temp_tables``: scratch results can be stored in temporary tables (else each query
  computes the expression again);
* ``unordered_writes``: a table may be written in any row order, by every thread;
* ``native_arrow``: results come as Arrow straight from the engine's relation;
* ``bitmaps``: ``bitstring_agg`` / ``bit_count`` count distinct small integers exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis

_ATTRIBUTE = "_journeymap_capabilities"


@dataclass(frozen=True)
class Capabilities:
    """What one backend connection can do (see the module docstring)."""

    engine: str
    stored_order: bool = False
    threads: int = 1
    cursors: bool = False
    temp_tables: bool = False
    unordered_writes: bool = False
    native_arrow: bool = False
    bitmaps: bool = False


def capabilities(con: ibis.BaseBackend) -> Capabilities:
    """``con``'s capabilities, asked of the engine once and kept on the connection."""
    found = getattr(con, _ATTRIBUTE, None)
    if found is None:
        found = _ask(con)
        try:
            setattr(con, _ATTRIBUTE, found)
        except AttributeError:  # a backend without a __dict__: ask again next time
            pass
    return found  # type: ignore[no-any-return]


def _ask(con: ibis.BaseBackend) -> Capabilities:
    if con.name == "duckdb":
        got = con.raw_sql("SELECT current_setting('threads')").fetchall()  # type: ignore[attr-defined]
        return Capabilities("duckdb", stored_order=True, threads=int(got[0][0]), cursors=True,
                            temp_tables=True, unordered_writes=True, native_arrow=True,
                            bitmaps=True)
    return Capabilities(con.name)
