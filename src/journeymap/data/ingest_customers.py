"""Customers: upsert by ``customer_id``; every other column is an attribute.

A new attribute column is typed at first sight from its values: BIGINT (integers
without leading zeros, so ``01234`` stays text), DOUBLE, BOOLEAN (true/false), DATE
(``YYYY-MM-DD``), TIMESTAMP (ISO date-time), else VARCHAR.  A value that does not fit
an existing column's type quarantines its row.  An empty cell never erases a stored
value.  Within one load the last non-empty value per customer and attribute wins.

Counts are per customer: ``loaded`` = customers new to the store, ``updated`` = stored
customers whose attributes changed, ``duplicates`` = valid rows that changed nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from journeymap.data.contracts import ID_MAX, SourceConfig, attribute_name, extra_name, \
    resolve_columns
from journeymap.data.ingest_sql import Checks, add_type_checks, empty_text, json_type_sql, \
    quarantine_bad, scalar
from journeymap.data.staged import Staged
from journeymap.data.store import quote_ident
from journeymap.errors import IngestError

_INFER = (
    ("BIGINT", r"^-?(0|[1-9]\d{0,17})$"),
    ("DOUBLE", r"^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$|^-?\.\d+$"),
    ("BOOLEAN", r"^(?i)(true|false)$"),
    ("DATE", r"^\d{4}-\d{2}-\d{2}$"),
    ("TIMESTAMP", r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"),
)


@dataclass
class CustomerCounts:
    rows: int = 0
    quarantined: int = 0
    loaded: int = 0
    updated: int = 0
    duplicates: int = 0


def _stored_columns(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute("DESCRIBE customers").fetchall()}


def _infer_type(con: duckdb.DuckDBPyConnection, table: str, value: str) -> str:
    tests = ", ".join(
        f"bool_and(regexp_matches({value}, '{rx}') AND TRY_CAST({value} AS {typ}) "
        "IS NOT NULL)" for typ, rx in _INFER)
    row = con.execute(f"SELECT count({value}), {tests} FROM {quote_ident(table)} "
                      f"WHERE {value} IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return "VARCHAR"
    for (typ, _), ok in zip(_INFER, row[1:]):
        if ok:
            return typ
    return "VARCHAR"


def ingest_customers_file(con: duckdb.DuckDBPyConnection, staged: Staged, source: SourceConfig,
                          ingest_id: int, columns: list[str] | None = None) -> CustomerCounts:
    """Validate and upsert one staged file of customers (``columns``: staged columns)."""
    counts = CustomerCounts()
    stage = quote_ident(staged.table)
    counts.rows = scalar(con, f"SELECT count(*) FROM {stage}")
    if counts.rows == 0:
        return counts
    cols = columns if columns is not None else staged.columns
    res = resolve_columns("customers", cols, source)
    if res.missing:
        raise IngestError(f"missing required column 'customer_id' (found: {', '.join(cols)})",
                          file=staged.file)
    stored = _stored_columns(con)
    attrs: dict[str, str] = {}           # attribute column -> source column
    for col in res.extras:
        name = attribute_name(extra_name(col, source))
        base, n = name, 2
        while name in attrs or name in ("customer_id", "_ingest_id") or name.startswith("_"):
            name = f"{base.lstrip('_') or 'attribute'}_{n}"
            n += 1
        attrs[name] = col
    params: dict[str, object] = {}
    cid_src = quote_ident(res.fields["customer_id"])
    selects = [f"{empty_text(cid_src)} AS customer_id"]
    cid_type = json_type_sql(staged, res.fields["customer_id"], cid_src, params, "jp")
    selects.append(f"{cid_type or 'CAST(NULL AS VARCHAR)'} AS _cid_type")
    for i, (name, col) in enumerate(attrs.items()):
        selects.append(f"{empty_text(quote_ident(col))} AS {quote_ident(f'_a{i}')}")
    pre = quote_ident(staged.table + "_pre")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {pre} AS SELECT {', '.join(selects)}, _row "
                f"FROM {stage}", params)
    types: dict[str, str] = {}
    for i, name in enumerate(attrs):
        if name in stored:
            types[name] = stored[name]
        else:
            types[name] = _infer_type(con, staged.table + "_pre", quote_ident(f"_a{i}"))
            con.execute(f"ALTER TABLE customers ADD COLUMN {quote_ident(name)} {types[name]}")
    checks = Checks(con)
    add_type_checks(checks, "_cid_type", "customer_id", "text")
    checks.add("customer_id IS NULL", "customer_id", "missing required value")
    checks.add(f"length(customer_id) > {ID_MAX}", "customer_id",
               f"longer than {ID_MAX} characters")
    typed_cols = []
    for i, name in enumerate(attrs):
        a = quote_ident(f"_a{i}")
        if types[name] == "VARCHAR":
            typed_cols.append(f"{a} AS {a}")
            continue
        typ = types[name]
        checks.add(f"{a} IS NOT NULL AND TRY_CAST({a} AS {typ}) IS NULL", name,
                   f"does not fit column type {typ}")
        typed_cols.append(f"TRY_CAST({a} AS {typ}) AS {a}")
    checks.register()
    typed_name = staged.table + "_typed"
    typed = quote_ident(typed_name)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {typed} AS SELECT customer_id, "
                f"{''.join(c + ', ' for c in typed_cols)}_row, {checks.case()} AS _err "
                f"FROM {pre}")
    counts.quarantined = quarantine_bad(con, typed_name, "customers", staged, ingest_id)
    valid = counts.rows - counts.quarantined
    _upsert(con, staged.table, list(attrs), ingest_id, counts)
    counts.duplicates = valid - counts.loaded - counts.updated
    for t in (pre, typed, quote_ident(staged.table + "_agg")):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return counts


def _upsert(con: duckdb.DuckDBPyConnection, stage: str, attrs: list[str], ingest_id: int,
            counts: CustomerCounts) -> None:
    typed, agg_name = quote_ident(stage + "_typed"), quote_ident(stage + "_agg")
    aggs = "".join(f", arg_max({quote_ident(f'_a{i}')}, _row) FILTER "
                   f"(WHERE {quote_ident(f'_a{i}')} IS NOT NULL) AS {quote_ident(f'_a{i}')}"
                   for i in range(len(attrs)))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {agg_name} AS SELECT customer_id{aggs} "
                f"FROM {typed} WHERE _err IS NULL GROUP BY customer_id")
    changed = " OR ".join(
        f"(a.{quote_ident(f'_a{i}')} IS NOT NULL AND a.{quote_ident(f'_a{i}')} "
        f"IS DISTINCT FROM c.{quote_ident(name)})" for i, name in enumerate(attrs)) or "false"
    counts.updated = scalar(con, f"SELECT count(*) FROM {agg_name} AS a JOIN customers AS c "
                                 f"USING (customer_id) WHERE {changed}")
    if counts.updated and attrs:
        sets = ", ".join(f"{quote_ident(name)} = coalesce(a.{quote_ident(f'_a{i}')}, "
                         f"c.{quote_ident(name)})" for i, name in enumerate(attrs))
        con.execute(f"UPDATE customers AS c SET {sets}, _ingest_id = $id FROM {agg_name} AS a "
                    f"WHERE c.customer_id = a.customer_id AND ({changed})", {"id": ingest_id})
    names = "".join(", " + quote_ident(n) for n in attrs)
    values = "".join(f", a.{quote_ident(f'_a{i}')}" for i in range(len(attrs)))
    counts.loaded = scalar(con, f"SELECT count(*) FROM {agg_name} AS a WHERE NOT EXISTS "
                                f"(SELECT 1 FROM customers AS c WHERE c.customer_id = a.customer_id)")
    con.execute(f"INSERT INTO customers (customer_id, _ingest_id{names}) "
                f"SELECT a.customer_id, $id{values} FROM {agg_name} AS a WHERE NOT EXISTS "
                f"(SELECT 1 FROM customers AS c WHERE c.customer_id = a.customer_id) "
                f"ORDER BY a.customer_id", {"id": ingest_id})
