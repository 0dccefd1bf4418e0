"""The store as a Parquet layout Spark reads, and its registration as Spark tables.

Layout (one folder per table, the store's names)::

    <root>/_manifest.json           what was exported, from which store, at which ingest
    <root>/event_log/bucket=NNN/*.parquet   events bucketed by hash(customer_id): all of
                                    a customer's events in one bucket, sorted by
                                    (customer_id, timestamp, _seq, event_id)
    <root>/event_names/*.parquet    the event-name dictionary
    <root>/customers/ feedback/ transactions/ transcripts/ *.parquet

Types are the store's, with two rules Spark needs: timestamps are Parquet
``TIMESTAMP(isAdjustedToUTC=true)`` (Spark ``TIMESTAMP`` in a UTC session), JSON
columns are strings.  The store's internal row key ``_key`` stays behind.
The export is written once and rewritten when the store's ingest count changes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from journeymap.data.store import EVENT_ORDER, Store, quote_ident
from journeymap.errors import EngineError
from journeymap.progress import Progress, report

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

TABLES = ("event_log", "event_names", "customers", "feedback", "transactions", "transcripts")
REQUIRED = ("event_log", "event_names")
MANIFEST = "_manifest.json"
LAYOUT_VERSION = 2  # 2: event_log carries _seq, sorted by EVENT_ORDER
ROWS_PER_BUCKET = 8_000_000
ROW_GROUP_SIZE = 1_000_000


def _select_list(store: Store, table: str) -> str:
    """The table's columns as Spark should see them (JSON → text, timestamps in UTC)."""
    cols = store.con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = ? ORDER BY ordinal_position", [table]).fetchall()
    parts = []
    for name, dtype in cols:
        q = quote_ident(name)
        if name == "_key":
            continue
        if dtype == "JSON":
            parts.append(f"CAST({q} AS VARCHAR) AS {q}")
        elif dtype == "TIMESTAMP":
            parts.append(f"CAST({q} AS TIMESTAMPTZ) AS {q}")
        else:
            parts.append(q)
    return ", ".join(parts)


def _state(store: Store) -> dict[str, object]:
    ingests = store.con.execute("SELECT count(*), max(_ingest_id) FROM ingests").fetchone()
    return {"version": LAYOUT_VERSION, "store": str(store.path) if store.path else ":memory:",
            "ingests": int(ingests[0]) if ingests else 0,
            "last_ingest": int(ingests[1]) if ingests and ingests[1] is not None else None}


def is_current(store: Store, root: Path) -> bool:
    """Whether ``root`` holds an export of the store as it is now."""
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    state = _state(store)
    return all(manifest.get(k) == v for k, v in state.items())


def export_store(store: Store, root: Path, *, progress: Progress | None = None,
                 force: bool = False) -> Path:
    """Write the store's tables under ``root`` (unless already current) and return it.

    The new export is built beside the old one and swapped in, so a reader never sees
    half a layout.
    """
    root = Path(root)
    if not force and is_current(store, root):
        return root
    staging = root.with_name(root.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    con = store.con
    counts: dict[str, int] = {}
    for done, table in enumerate(TABLES):
        report(progress, f"exporting {table} for Spark", done, len(TABLES))
        (n,) = con.execute(f"SELECT count(*) FROM {quote_ident(table)}").fetchone() or (0,)
        counts[table] = int(n)
        select = f"SELECT {_select_list(store, table)} FROM {quote_ident(table)}"
        target = staging / table
        options = f"FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_SIZE}"
        if table == "event_log" and n > 0:
            buckets = max(1, -(-int(n) // ROWS_PER_BUCKET))
            sql = (f"COPY (SELECT *, CAST(hash(customer_id) % {buckets} AS INTEGER) AS bucket "
                   f"FROM ({select}) ORDER BY {EVENT_ORDER}) "
                   f"TO ? ({options}, PARTITION_BY (bucket))")
            con.execute(sql, [str(target)])
        else:
            target.mkdir()
            con.execute(f"COPY ({select}) TO ? ({options})", [str(target / "part-0.parquet")])
    manifest = {**_state(store), "rows": counts, "layout": "journeymap-spark"}
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    old = root.with_name(root.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if root.exists():
        root.rename(old)
    staging.rename(root)
    shutil.rmtree(old, ignore_errors=True)
    report(progress, "exporting for Spark", len(TABLES), len(TABLES))
    return root


def register_layout(session: SparkSession, location: str | Path) -> list[str]:
    """Register the layout's tables under ``location`` as Spark temp views with the
    store's names, plus the ``events`` view (event names joined in).  Returns the
    names registered; ``event_log`` and ``event_names`` must exist."""
    from pyspark.errors import AnalysisException

    base = str(location).rstrip("/")
    registered: list[str] = []
    for table in TABLES:
        path = f"{base}/{table}"
        try:
            frame = session.read.parquet(path)
            if "bucket" in frame.columns and table == "event_log":
                frame = frame.drop("bucket")
            frame.createOrReplaceTempView(table)
        except AnalysisException as exc:
            if table in REQUIRED:
                first = str(exc).strip().splitlines()[0]
                raise EngineError(f"Spark cannot read {path}: {first}") from None
            session.catalog.dropTempView(table)
            continue
        registered.append(table)
    session.sql(
        "CREATE OR REPLACE TEMP VIEW events AS "
        "SELECT l.customer_id, l.`timestamp`, n.event, l.channel, l.session_id, "
        "l.properties, l.message_id, l.event_id "
        "FROM event_log AS l JOIN event_names AS n ON l.event_id = n.event_id")
    registered.append("events")
    return registered
