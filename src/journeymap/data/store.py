"""The embedded store: one DuckDB file, one writer (datasette's ``execute_write_fn``).

:class:`Store` owns the connection.  Every write goes through :meth:`Store.execute_write`,
which runs a function inside one transaction under a per-file lock; any exception,
``KeyboardInterrupt`` included, rolls back.  A process killed mid-write leaves only
committed transactions behind (DuckDB's write-ahead log).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

from journeymap.errors import StoreError

if TYPE_CHECKING:
    from ibis.backends.duckdb import Backend as IbisBackend

T = TypeVar("T")

_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()

#: Tables that hold customer data, with their timestamp column (None: no time range).
DATA_TABLES: dict[str, str | None] = {
    "event_log": "timestamp",
    "customers": None,
    "feedback": "timestamp",
    "transactions": "timestamp",
    "transcripts": "timestamp",
}

EVENT_LOG_COLUMNS = """(
        customer_id VARCHAR NOT NULL, "timestamp" TIMESTAMP NOT NULL,
        event_id INTEGER NOT NULL, channel VARCHAR, session_id VARCHAR,
        properties JSON, message_id VARCHAR, _key UHUGEINT NOT NULL,
        _ingest_id INTEGER NOT NULL, _seq BIGINT NOT NULL DEFAULT 0)"""

#: ``event_log._seq``: the event's place in the order it was given — ingest, then file,
#: then row — so that events of one customer at the same timestamp keep their source
#: order, as pm4py and retentioneering keep it (ADR 0009).  ``_ingest_id << SEQ_BITS``
#: plus the row's position among the ingest's rows.
SEQ_BITS = 40

#: The stored order of ``event_log`` (journeys are windows over it).
EVENT_ORDER = 'customer_id, "timestamp", _seq, event_id'

SCHEMA: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS event_names (
        event_id INTEGER PRIMARY KEY, event VARCHAR NOT NULL UNIQUE)""",
    "CREATE TABLE IF NOT EXISTS event_log " + EVENT_LOG_COLUMNS,
    """CREATE OR REPLACE VIEW events AS
        SELECT l.customer_id, l."timestamp", n.event, l.channel, l.session_id,
               l.properties, l.message_id, l.event_id
        FROM event_log AS l JOIN event_names AS n USING (event_id)""",
    """CREATE TABLE IF NOT EXISTS customers (
        customer_id VARCHAR PRIMARY KEY, _ingest_id INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS feedback (
        customer_id VARCHAR NOT NULL, "timestamp" TIMESTAMP NOT NULL,
        metric VARCHAR NOT NULL, score DOUBLE NOT NULL, touchpoint VARCHAR,
        event VARCHAR, comment VARCHAR, extra JSON, _key UHUGEINT NOT NULL,
        _ingest_id INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS transactions (
        customer_id VARCHAR NOT NULL, "timestamp" TIMESTAMP NOT NULL,
        amount DOUBLE NOT NULL, currency VARCHAR, order_id VARCHAR, extra JSON,
        _key UHUGEINT NOT NULL, _ingest_id INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS transcripts (
        customer_id VARCHAR NOT NULL, "timestamp" TIMESTAMP NOT NULL,
        text VARCHAR NOT NULL, channel VARCHAR, touchpoint VARCHAR, speaker VARCHAR,
        extra JSON, _key UHUGEINT NOT NULL, _ingest_id INTEGER NOT NULL)""",
    # a Segment anonymousId and the userId a call named it with: its events are that customer's
    """CREATE TABLE IF NOT EXISTS identities (
        anonymous_id VARCHAR PRIMARY KEY, customer_id VARCHAR NOT NULL, _ingest_id INTEGER NOT NULL)""",
    # the event log's pieces since its last merge (journeymap.data.event_pieces, ADR 0018)
    """CREATE TABLE IF NOT EXISTS event_pieces (
        piece INTEGER PRIMARY KEY, _ingest_id INTEGER, kind VARCHAR NOT NULL, "rows" BIGINT NOT NULL,
        customers BIGINT NOT NULL, moved BIGINT NOT NULL, created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS quarantine (
        _ingest_id INTEGER NOT NULL, kind VARCHAR NOT NULL, file VARCHAR NOT NULL,
        "row" BIGINT, field VARCHAR, reason VARCHAR NOT NULL, raw VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS ingests (
        _ingest_id INTEGER PRIMARY KEY, kind VARCHAR NOT NULL, files VARCHAR[] NOT NULL,
        started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP NOT NULL,
        rows_read BIGINT NOT NULL, loaded BIGINT NOT NULL, quarantined BIGINT NOT NULL,
        duplicates BIGINT NOT NULL, updated BIGINT NOT NULL)""",
)


def quote_ident(name: str) -> str:
    """Quote ``name`` as a SQL identifier (the only way user text enters SQL text)."""
    return '"' + name.replace('"', '""') + '"'


DEFAULT_MEMORY_SHARE = 0.30


def memory_limit_setting(value: str | None = None) -> str:
    """DuckDB's ``memory_limit`` for ``value`` — a size (``"8GB"``) or a share of
    physical memory (``"40%"``); None: 30 % of it, at least 1 GiB.  DuckDB's buffers
    (tables, hash tables, sorts) stay within it and spill the rest to the temporary
    folder, so the process stays near this size: 100 M events analyse in about 7 GiB
    of a 24 GiB machine instead of 9+ (ADR 0002)."""
    if value is not None and not value.strip().endswith("%"):
        return value.strip()
    share = float(value.strip()[:-1]) / 100 if value is not None else DEFAULT_MEMORY_SHARE
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "4GB"
    return f"{max(1024, int(total * share) // (1024 * 1024))}MiB"


def _add_event_seq(con: duckdb.DuckDBPyConnection) -> None:
    """A store written before ``_seq`` existed gets it: each ingest's rows share one
    value (their source order is no longer known), so ties keep the stored order."""
    have = con.execute("SELECT count(*) FROM information_schema.columns "
                       "WHERE table_name = 'event_log' AND column_name = '_seq'").fetchone()
    if have and have[0]:
        return
    con.execute("ALTER TABLE event_log ADD COLUMN _seq BIGINT DEFAULT 0")
    con.execute(f"UPDATE event_log SET _seq = CAST(_ingest_id AS BIGINT) << {SEQ_BITS}")


def event_pieces_info(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The event log's pieces (:mod:`journeymap.data.event_pieces`): ``appends`` since
    the last merge, ``appended_rows`` they wrote (a row an append moves again counts
    again) and when the log was last ``merged_at``."""
    appends, rows = con.execute("SELECT count(*), coalesce(sum(\"rows\"), 0) FROM event_pieces "
                                "WHERE kind = 'append'").fetchone() or (0, 0)
    merged = con.execute("SELECT strftime(max(created_at), '%Y-%m-%dT%H:%M:%SZ') FROM event_pieces "
                         "WHERE kind = 'merged'").fetchone()
    return {"pieces": 1 + int(appends), "appends": int(appends), "appended_rows": int(rows),
            "merged_at": merged[0] if merged else None}


def _lock_for(key: str) -> threading.RLock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.RLock())


class Store:
    """One DuckDB database (a file, or memory for tests) with a single writer."""

    def __init__(self, path: str | os.PathLike[str] | None, *,
                 memory_limit: str | None = None, temp_directory: str | None = None):
        self.path: Path | None = Path(path).resolve() if path is not None else None
        self._own_spill: str | None = None  # a memory store's own temp folder, removed on close
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            spill = temp_directory or str(self.path.parent / ".journeymap-tmp")
        else:
            spill = temp_directory or tempfile.mkdtemp(prefix="journeymap-spill-")
            self._own_spill = None if temp_directory else spill
        config = {"memory_limit": memory_limit_setting(memory_limit),
                  "temp_directory": spill}
        target = str(self.path) if self.path is not None else ":memory:"
        try:
            self._con = duckdb.connect(target, config=config)
        except duckdb.IOException as exc:
            text = str(exc)
            if "lock" in text.lower():
                raise StoreError(f"store {self.path} is in use by another process; "
                                 "close it and retry") from exc
            raise StoreError(f"store {self.path} cannot be opened: "
                             f"{text.splitlines()[0]}") from exc
        except duckdb.Error as exc:
            raise StoreError(f"store {target} cannot be opened: "
                             f"{str(exc).splitlines()[0]}") from exc
        self._con.execute("SET TimeZone = 'UTC'")
        self._lock = _lock_for(str(self.path) if self.path else f"memory:{id(self)}")
        self.ensure_schema()

    @classmethod
    def memory(cls) -> Store:
        """An in-memory store (tests)."""
        return cls(None)

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The connection, for reads on the owning thread."""
        return self._con

    def reader(self) -> duckdb.DuckDBPyConnection:
        """A new cursor on the same database, for reads from another thread."""
        cur = self._con.cursor()
        cur.execute("SET TimeZone = 'UTC'")
        return cur

    def ibis(self) -> IbisBackend:
        """An Ibis DuckDB backend over this store's connection."""
        import ibis

        return ibis.duckdb.from_connection(self._con)

    def execute_write(self, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``fn(con)`` in one transaction; any exception rolls back and re-raises."""
        with self._lock:
            self._con.begin()
            try:
                result = fn(self._con)
            except BaseException:
                self._con.rollback()
                raise
            self._con.commit()
            return result

    def ensure_schema(self) -> None:
        """Create the store's tables and views if they are missing (idempotent)."""

        def create(con: duckdb.DuckDBPyConnection) -> None:
            for ddl in SCHEMA:
                con.execute(ddl)
            _add_event_seq(con)

        self.execute_write(create)

    def checkpoint(self) -> None:
        """Write the WAL into the file (gives back the space of deleted rows)."""
        with self._lock:
            self._con.execute("CHECKPOINT")

    def close(self) -> None:
        """Close the connection (a later use raises)."""
        self._con.close()
        if self._own_spill:
            shutil.rmtree(self._own_spill, ignore_errors=True)
            self._own_spill = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def status(self, con: duckdb.DuckDBPyConnection | None = None) -> dict[str, Any]:
        """Row counts, time ranges and customers per table, quarantine counts, ingests
        (on ``con``, a :meth:`reader` cursor from another thread, or the connection)."""
        con = con or self._con
        tables: dict[str, dict[str, Any]] = {}
        for table, ts in DATA_TABLES.items():
            name = "events" if table == "event_log" else table
            q = quote_ident(table)
            if ts is None:
                rows, customers = con.execute(
                    f"SELECT count(*), count(DISTINCT customer_id) FROM {q}").fetchone() or (0, 0)
                tables[name] = {"rows": rows, "customers": customers}
                continue
            t = quote_ident(ts)
            rows, customers, lo, hi = con.execute(
                f"SELECT count(*), count(DISTINCT customer_id), "
                f"strftime(min({t}), '%Y-%m-%dT%H:%M:%SZ'), "
                f"strftime(max({t}), '%Y-%m-%dT%H:%M:%SZ') FROM {q}").fetchone() or (0, 0, None, None)
            tables[name] = {"rows": rows, "customers": customers,
                            "time_range": [lo, hi] if lo is not None else None}
        names = con.execute("SELECT count(*) FROM event_names").fetchone()
        tables["events"]["event_names"] = names[0] if names else 0
        tables["events"]["pieces"] = event_pieces_info(con)
        by: dict[str, dict[str, int]] = {}
        for kind, reason, n in con.execute(
                "SELECT kind, reason, count(*) FROM quarantine GROUP BY ALL ORDER BY ALL").fetchall():
            by.setdefault(kind, {})[reason] = n
        total = sum(sum(v.values()) for v in by.values())
        ingests = con.execute("SELECT count(*) FROM ingests").fetchone()
        return {"store": str(self.path) if self.path else ":memory:", "tables": tables,
                "quarantine": {"rows": total, "by_kind": by},
                "ingests": ingests[0] if ingests else 0}
