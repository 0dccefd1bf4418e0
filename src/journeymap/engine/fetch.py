"""Small query results as Arrow, without ibis's pandas-based result conversion.

``Table.to_pyarrow()`` on DuckDB imports pandas for its type mapper (0.3 s of every
run's start-up, more than most queries of an analysis take).  Running ibis's DuckDB
relation and casting the Arrow result to the expression's schema gives the same
table and leaves pandas unloaded; other backends keep ``to_pyarrow()``.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from journeymap.engine.backend import capabilities


def to_arrow(expr: ir.Expr) -> pa.Table:
    """The result of ``expr`` (a table, column or scalar expression) as an Arrow table."""
    table = expr.as_table()
    try:
        backend = ibis.get_backend(table)
    except Exception:  # noqa: BLE001 — unbound (memtables only): the default backend
        return table.to_pyarrow()
    relation = getattr(backend, "_to_duckdb_relation", None)  # ibis's own compile + run
    if relation is None or not capabilities(backend).native_arrow:
        return table.to_pyarrow()
    got = relation(table).to_arrow_table()
    # DuckDB's own types (a SUM is a 128-bit decimal) cast to the expression's schema
    return got.cast(table.schema().to_pyarrow())


def rows(expr: ir.Table) -> list[dict[str, Any]]:
    """A table expression's rows as dicts (small results only)."""
    return to_arrow(expr).to_pylist()


def scalar(expr: ir.Scalar) -> Any:
    """The value of a scalar expression (a count, a maximum, ...)."""
    return to_arrow(expr).column(0)[0].as_py()
