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


def drop_statement(name: str) -> sge.Drop:
    """``DROP TABLE IF EXISTS name`` as a sqlglot expression (any sqlglot version)."""
    table = sg.table(name, quoted=True)
    args: dict[str, Any] = {"tables": [table]} if "tables" in sge.Drop.arg_types else {"this": table}
    return sge.Drop(kind="TABLE", exists=True, **args)


def scratch_name(prefix: str) -> str:
    """A unique table name: several analyses may share one connection (the web app's
    threads, a test session)."""
    return f"{prefix}_{uuid.uuid4().hex}"


def create_scratch(con: ibis.BaseBackend, expr: ir.Table, prefix: str) -> tuple[str, ir.Table]:
    """``expr`` computed once into a temporary table: its name and the table."""
    name = scratch_name(prefix)
    return name, con.create_table(name, expr, temp=True)


def drop_scratch(con: ibis.BaseBackend, name: str) -> None:
    """Drop the temporary table ``name`` (no error if it is gone)."""
    con.raw_sql(drop_statement(name))  # type: ignore[attr-defined]


@contextmanager
def scratch_table(con: ibis.BaseBackend, expr: ir.Table, prefix: str) -> Iterator[ir.Table]:
    """``expr`` computed once into a temporary table with a unique name, dropped on exit
    even when a query fails."""
    name, table = create_scratch(con, expr, prefix)
    try:
        yield table
    finally:
        drop_scratch(con, name)
