"""The event log in ordered pieces: an append rewrites only the customers it touches.

Every analysis reads ``event_log`` as windows over its stored order, and needs just
this of it: **each customer's events stand together, in** :data:`EVENT_ORDER`
(time, then source order).  A merged log is one sorted piece.  An append (ADR 0018)
takes the stored events of the customers it touches (and of anonymous ids an
``identify`` has just joined to a customer), deletes them, and inserts them with the
new events as one new ordered piece at the end of the table::

    [ piece 0: every customer, sorted ][ piece 1: customers of append 1 ][ piece 2 ... ]

So a customer's journey is always in exactly one piece, whole and in order, and an
analysis is right at every moment with no merge on read.  What an append costs is its
own events plus the stored events of the customers it touches — 10,000 events for
a few thousand customers of a 10 M-event log move some 0.1 M rows, not 10 M.

:func:`compact` merges the pieces into one sorted piece again (``journeymap compact``,
and the collector's drain when the appended pieces have grown: :func:`needs_compaction`):
that brings back the global customer order, which balances the engine's parallel
chunks, and gives back the space of deleted rows.  An append that would move more
than :data:`MERGE_SHARE` of the log is written as a merge straight away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from journeymap.data.store import EVENT_LOG_COLUMNS, EVENT_ORDER, SEQ_BITS
from journeymap.data.store import event_pieces_info as pieces

#: an append that would rewrite more than this share of the log merges it instead
MERGE_SHARE = 0.5
#: the drain compacts after this many appends ...
MAX_APPENDS = 200
#: ... or when the appended pieces hold this share of the log's events
MAX_APPENDED_SHARE = 0.25

_COLUMNS = ('customer_id', '"timestamp"', "event_id", "channel", "session_id", "properties",
            "message_id", "_key", "_ingest_id", "_seq")
_REST = ", ".join(f"u.{c}" for c in _COLUMNS[1:])


@dataclass
class Written:
    """What a write did to the event log: ``how`` is ``"merged"`` (one sorted piece),
    ``"appended"`` (a new piece) or ``"nothing"``; ``moved``: stored events rewritten."""

    how: str
    events: int = 0
    moved: int = 0
    customers: int = 0


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> int:
    row = con.execute(sql, params or {}).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _order(alias: str = "") -> str:
    return ", ".join(f"{alias}{c.strip()}" for c in EVENT_ORDER.split(","))


def write_events(con: duckdb.DuckDBPyConnection, ingest_id: int, *, links: str | None = None) -> Written:
    """Write the new events of an ingest into ``event_log``, in its transaction.

    Reads temp tables the ingest made: ``_jm_fresh`` (the rows to load, with
    ``event``, ``_fi`` and ``_row``), ``_jm_good`` (for each file's row count) and,
    when given, ``links`` (``anon``: anonymous ids newly joined to a customer in
    ``identities``).  Every customer id is replaced by the customer ``identities``
    joins it to.  Names new events in ``event_names`` first."""
    con.execute("""INSERT INTO event_names
        SELECT (SELECT coalesce(max(event_id), 0) FROM event_names)
               + row_number() OVER (ORDER BY event), event
        FROM (SELECT DISTINCT event FROM _jm_fresh
              WHERE event NOT IN (SELECT event FROM event_names))""")
    new = _scalar(con, "SELECT count(*) FROM _jm_fresh")
    relinked = bool(links) and _scalar(con, f"SELECT count(*) FROM {links}") > 0
    if new == 0 and not relinked:
        return Written("nothing")
    # _seq: the row's place in this load (file by file, row by row) after the ingest's
    # own bits, so that same-timestamp events keep the order they were given in
    con.execute("""CREATE OR REPLACE TEMP TABLE _jm_file_start AS
        SELECT _fi, coalesce(sum(rows) OVER (ORDER BY _fi ROWS BETWEEN UNBOUNDED PRECEDING
                                             AND 1 PRECEDING), 0) AS start
        FROM (SELECT _fi, max(_row) AS rows FROM _jm_good GROUP BY _fi)""")
    con.execute(f"""CREATE OR REPLACE TEMP VIEW _jm_new_events AS
        SELECT coalesce(i.customer_id, f.customer_id) AS customer_id, f."timestamp",
               n.event_id, f.channel, f.session_id, f.properties, f.message_id, f._key,
               CAST({int(ingest_id)} AS INTEGER) AS _ingest_id,
               (CAST({int(ingest_id)} AS BIGINT) << {SEQ_BITS}) + s.start + f._row AS _seq
        FROM _jm_fresh AS f JOIN event_names AS n USING (event)
        JOIN _jm_file_start AS s USING (_fi)
        LEFT JOIN identities AS i ON i.anonymous_id = f.customer_id""")  # a view takes no parameters
    try:
        stored = _scalar(con, "SELECT count(*) FROM event_log")
        if stored == 0:
            con.execute(f"INSERT INTO event_log SELECT * FROM _jm_new_events ORDER BY {EVENT_ORDER}")
            _record_merge(con, ingest_id, new)
            return Written("merged", new)
        touched = "SELECT DISTINCT customer_id FROM _jm_new_events"
        if relinked:
            touched += (f" UNION SELECT anon FROM {links} UNION SELECT i.customer_id FROM {links} "
                        "AS l JOIN identities AS i ON i.anonymous_id = l.anon")
        con.execute(f"CREATE OR REPLACE TEMP TABLE _jm_touched AS {touched}")
        # the stored rows of those customers, found once by their ids (a scan of one
        # column) and then read and deleted by row id: reading every column of the log
        # to match the customers twice more cost three times as much (ADR 0018)
        con.execute("""CREATE OR REPLACE TEMP TABLE _jm_moved AS SELECT rowid AS _rid FROM event_log
                       WHERE customer_id IN (SELECT customer_id FROM _jm_touched)""")
        moved = _scalar(con, "SELECT count(*) FROM _jm_moved")
        if moved + new > MERGE_SHARE * (stored + new):
            _merge(con, "SELECT * FROM event_log UNION ALL SELECT * FROM _jm_new_events")
            _record_merge(con, ingest_id, stored + new)
            return Written("merged", new, stored)
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _jm_tail AS
            SELECT coalesce(i.customer_id, u.customer_id) AS customer_id, {_REST}
            FROM event_log AS u LEFT JOIN identities AS i ON i.anonymous_id = u.customer_id
            WHERE u.rowid IN (SELECT _rid FROM _jm_moved)
            UNION ALL SELECT * FROM _jm_new_events""")
        con.execute("DELETE FROM event_log WHERE rowid IN (SELECT _rid FROM _jm_moved)")
        con.execute(f"INSERT INTO event_log SELECT * FROM _jm_tail ORDER BY {EVENT_ORDER}")
        customers = _scalar(con, "SELECT count(DISTINCT customer_id) FROM _jm_tail")
        con.execute("""INSERT INTO event_pieces SELECT
            (SELECT coalesce(max(piece), 0) + 1 FROM event_pieces), $id, 'append', $rows,
            $customers, $moved, CAST(now() AT TIME ZONE 'UTC' AS TIMESTAMP)""",
                    {"id": ingest_id, "rows": moved + new, "customers": customers, "moved": moved})
        con.execute("DROP TABLE _jm_tail")
        return Written("appended", new, moved, customers)
    finally:
        for table in ("_jm_moved", "_jm_touched"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute("DROP VIEW IF EXISTS _jm_new_events")
        con.execute("DROP TABLE IF EXISTS _jm_file_start")


def _merge(con: duckdb.DuckDBPyConnection, rows: str) -> None:
    """Rewrite ``event_log`` as ``rows`` (SQL) in one sorted piece, identities applied."""
    con.execute(f"CREATE TABLE _jm_event_log_new {EVENT_LOG_COLUMNS}")
    con.execute(f"""INSERT INTO _jm_event_log_new
        SELECT coalesce(i.customer_id, u.customer_id) AS customer_id, {_REST} FROM ({rows}) AS u
        LEFT JOIN identities AS i ON i.anonymous_id = u.customer_id
        ORDER BY coalesce(i.customer_id, u.customer_id), {_order('u.').split(', ', 1)[1]}""")
    con.execute("DROP TABLE event_log")
    con.execute("ALTER TABLE _jm_event_log_new RENAME TO event_log")


def _record_merge(con: duckdb.DuckDBPyConnection, ingest_id: int | None, rows: int) -> None:
    con.execute("DELETE FROM event_pieces")
    con.execute("""INSERT INTO event_pieces SELECT 0, $id, 'merged', $rows,
        (SELECT count(DISTINCT customer_id) FROM event_log), 0,
        CAST(now() AT TIME ZONE 'UTC' AS TIMESTAMP)""", {"id": ingest_id, "rows": rows})


def needs_compaction(con: duckdb.DuckDBPyConnection) -> bool:
    """The appended pieces have grown enough that merging them pays (see the limits)."""
    info = pieces(con)
    if info["appends"] == 0:
        return False
    total = _scalar(con, "SELECT count(*) FROM event_log")
    return info["appends"] >= MAX_APPENDS or info["appended_rows"] > MAX_APPENDED_SHARE * max(total, 1)


def compact(con: duckdb.DuckDBPyConnection) -> Written:
    """Merge every piece into one sorted piece (in the caller's transaction)."""
    if pieces(con)["appends"] == 0:
        return Written("nothing")
    total = _scalar(con, "SELECT count(*) FROM event_log")
    _merge(con, "SELECT * FROM event_log")
    _record_merge(con, None, total)
    return Written("merged", 0, total)
