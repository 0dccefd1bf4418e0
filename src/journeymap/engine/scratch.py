"""Temporary tables the engine computes once and reads several times, and how to drop them.

ibis 12's ``drop_table`` (and the finaliser of ``Table.cache()``) builds
``Drop(this=table)``; sqlglot 30 renamed that argument to ``tables`` and silently drops
``this``, so ibis sends ``DROP TABLE IF EXISTS`` with no name — a parser error (raised
from a garbage-collection finaliser when it comes from ``cache()``).  Every temporary
table of journeymap is therefore dropped with :func:`drop_statement`, which names the
table with whichever argument this sqlglot has.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ibis
import ibis.expr.types as ir
import sqlglot as sg
import sqlglot.expressions as sge

from journeymap.engine.backend import capabilities


def drop_statement(name: str, catalog: str | None = None) -> sge.Drop:
    """``DROP TABLE IF EXISTS name`` as a sqlglot expression (any sqlglot version)."""
    table = sg.table(name, db="main" if catalog else None, catalog=catalog, quoted=True)
    args: dict[str, Any] = {"tables": [table]} if "tables" in sge.Drop.arg_types else {"this": table}
    return sge.Drop(kind="TABLE", exists=True, **args)


def scratch_name(prefix: str) -> str:
    """A unique table name: several analyses may share one connection (the web app's
    threads, a test session)."""
    return f"{prefix}_{uuid.uuid4().hex}"


def create_scratch(con: ibis.BaseBackend, expr: ir.Table, prefix: str, *,
                   catalog: str | None = None) -> tuple[str, ir.Table]:
    """``expr`` computed once into a temporary table: its name and the table.  With
    ``catalog`` (an attached in-memory database, see :func:`shared_scratch`) the table
    is visible to every connection of the database instead of this one only."""
    name = scratch_name(prefix)
    if catalog is None:
        return name, con.create_table(name, expr, temp=True)
    return name, con.create_table(name, expr, database=(catalog, "main"))


def drop_scratch(con: ibis.BaseBackend, name: str, catalog: str | None = None) -> None:
    """Drop the temporary table ``name`` (no error if it is gone)."""
    con.raw_sql(drop_statement(name, catalog))  # type: ignore[attr-defined]


def _create_unordered(con: ibis.BaseBackend, expr: ir.Table, prefix: str) -> tuple[str, ir.Table]:
    if not capabilities(con).unordered_writes:
        return create_scratch(con, expr, prefix)
    con.raw_sql("SET SESSION preserve_insertion_order = false")  # type: ignore[attr-defined]
    try:
        return create_scratch(con, expr, prefix)
    finally:
        con.raw_sql("RESET SESSION preserve_insertion_order")  # type: ignore[attr-defined]


SHARED_SCRATCH = "jm_scratch"


def shared_scratch(con: ibis.BaseBackend) -> str | None:
    """The name of an in-memory database attached to ``con``'s DuckDB database (once),
    whose tables every cursor of that database sees — for sections that run in
    parallel threads; None where there is none (another backend, a read-only store)."""
    if not capabilities(con).cursors:
        return None
    try:
        con.raw_sql(f"ATTACH IF NOT EXISTS ':memory:' AS {SHARED_SCRATCH}")  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 — e.g. DuckDB refuses in-memory databases when read-only
        return None
    return SHARED_SCRATCH


@contextmanager
def scratch_table(con: ibis.BaseBackend, expr: ir.Table, prefix: str) -> Iterator[ir.Table]:
    """``expr`` computed once into a temporary table with a unique name, dropped on exit
    even when a query fails.  The rows are stored in any order (DuckDB then writes them
    from every thread: 2.2 → 1.0 s for 8 M rows; readers aggregate or order them
    themselves).  A backend without temporary tables (Spark through ibis) gets ``expr``
    itself: computed again by each query, the same rows."""
    try:
        name, table = _create_unordered(con, expr, prefix)
    except NotImplementedError:
        yield expr
        return
    try:
        yield table
    finally:
        drop_scratch(con, name)
