"""Shared pieces of ingest SQL: checks with error codes, quarantine writes, raw rows.

Every check is a SQL condition we write ourselves; its field and reason travel as
parameters through the temp table ``_jm_reasons(code, field, reason)``, so no user
text (a column or attribute name) is ever pasted into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from journeymap.data.staged import Staged
from journeymap.data.store import quote_ident


@dataclass(frozen=True)
class Check:
    """A row is bad for ``field`` with ``reason`` when ``condition`` (SQL) is true."""

    condition: str
    field: str | None
    reason: str


class Checks:
    """Numbered checks of one file; ``case()`` gives the first failing code per row."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.items: list[Check] = []
        start = con.execute("SELECT coalesce(max(code), 0) FROM _jm_reasons").fetchone()
        self.base = int(start[0]) if start else 0

    def add(self, condition: str, field: str | None, reason: str) -> None:
        self.items.append(Check(condition, field, reason))

    def case(self) -> str:
        """``CASE WHEN c1 THEN code1 ... END`` (NULL: the row is good)."""
        if not self.items:
            return "CAST(NULL AS INTEGER)"
        whens = " ".join(f"WHEN {c.condition} THEN {self.base + i + 1}"
                         for i, c in enumerate(self.items))
        return f"CASE {whens} END"

    def register(self) -> None:
        self.con.executemany("INSERT INTO _jm_reasons VALUES (?, ?, ?)",
                             [[self.base + i + 1, c.field, c.reason]
                              for i, c in enumerate(self.items)])


def create_reasons(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE _jm_reasons "
                "(code INTEGER, field VARCHAR, reason VARCHAR)")


def raw_json(staged: Staged, params: dict[str, object], alias: str = "s",
             prefix: str = "rk") -> str:
    """SQL for the original record as JSON text (``_raw`` for JSON sources)."""
    if staged.fmt in ("jsonl", "segment"):
        return f"{alias}._raw"
    if not staged.columns:
        return "'{}'"
    parts = []
    for i, col in enumerate(staged.columns):
        params[f"{prefix}{i}"] = col
        parts.append(f"${prefix}{i}, {alias}.{quote_ident(col)}")
    return f"CAST(json_object({', '.join(parts)}) AS VARCHAR)"


def json_type_sql(staged: Staged, column: str, value: str, params: dict[str, object],
                  prefix: str) -> str | None:
    """SQL of the JSON type (``OBJECT``, ``ARRAY``, ...) of the member staged ``column``
    came from, where its text ``value`` could be one (it starts with ``{`` or ``[``; else
    NULL, so a plain value costs no JSON parse); None for a source that is not JSON."""
    paths = staged.json_paths.get(column)
    if not paths:
        return None
    types = []
    for j, path in enumerate(paths):
        params[f"{prefix}{j}"] = path
        types.append(f"nullif(json_type(_raw, ${prefix}{j}), 'NULL')")
    first = types[0] if len(types) == 1 else f"coalesce({', '.join(types)})"
    return f"CASE WHEN left(ltrim({value}), 1) IN ('{{', '[') THEN {first} END"


def add_type_checks(checks: Checks, json_type: str, field: str, expected: str) -> None:
    """Quarantine an object or a list where ``expected`` (text, a number, ...) belongs."""
    for typ, what in (("OBJECT", "an object"), ("ARRAY", "a list")):
        checks.add(f"{json_type} = '{typ}'", field,
                   f"wrong type: {what} where {expected} is expected")


def quarantine_rejects(con: duckdb.DuckDBPyConnection, staged: Staged, kind: str,
                       ingest_id: int) -> int:
    """Move the reader's rejected records into ``quarantine``; returns how many."""
    con.execute(f"""INSERT INTO quarantine
        SELECT $id, $kind, $file, _row, field, reason, raw FROM {quote_ident(staged.rejects)}
        ORDER BY _row""", {"id": ingest_id, "kind": kind, "file": staged.file})
    n = con.execute(f"SELECT count(*) FROM {quote_ident(staged.rejects)}").fetchone()
    return int(n[0]) if n else 0


def quarantine_bad(con: duckdb.DuckDBPyConnection, typed: str, kind: str, staged: Staged,
                   ingest_id: int) -> int:
    """Move rows of ``typed`` with an error code into ``quarantine``; returns how many.

    The raw record is rebuilt from the staging table for the bad rows only.
    """
    params: dict[str, object] = {"id": ingest_id, "kind": kind, "file": staged.file}
    raw = raw_json(staged, params)
    source = quote_ident(staged.table)
    if staged.questions:  # a survey's answers: several rows per response, one raw record
        source = f"(SELECT * FROM {source} QUALIFY row_number() OVER (PARTITION BY _row ORDER BY _q) = 1)"
        order = "t._row, t._q"
    else:
        order = "t._row"
    con.execute(f"""INSERT INTO quarantine
        SELECT $id, $kind, $file, t._row, r.field, r.reason, {raw}
        FROM {quote_ident(typed)} AS t JOIN _jm_reasons AS r ON r.code = t._err
        JOIN {source} AS s ON s._row = t._row
        ORDER BY {order}""", params)
    n = con.execute(f"SELECT count(*) FROM {quote_ident(typed)} WHERE _err IS NOT NULL"
                    ).fetchone()
    return int(n[0]) if n else 0


def scalar(con: duckdb.DuckDBPyConnection, sql: str,
           params: dict[str, object] | None = None) -> int:
    row = con.execute(sql, params or {}).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def empty_text(raw: str) -> str:
    """SQL: NULL where ``raw`` is NULL or only whitespace, else the trimmed text."""
    return f"NULLIF(trim({raw}), '')"
