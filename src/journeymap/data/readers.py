"""Readers: every format becomes a DuckDB staging table of raw text.

A staging table has one VARCHAR column per source column (the raw text, never
reinterpreted: ``=HYPERLINK(...)`` stays that text), plus ``_row`` (1-based record
number in the file, header excluded) and ``_file``; JSON readers add ``_raw`` (the
record as it was).  Records the reader itself cannot parse (a CSV line with the wrong
number of fields, a broken JSON line, JSON that is not an object, a line longer than
64 MiB) go to the staging rejects table ``<stage>_rejects(_row, reason, raw, field)``,
one row per record however many faults DuckDB reports in it -- they never abort the
file.

CSV row numbers: a rejected record's number is DuckDB's line number minus the header;
good records are numbered around them.  Blank lines are not records: in a file with
blank lines, numbers count records, not editor lines.  JSON lines are numbered by line.

JSON member names become column names as DuckDB names CSV headers (names ignore case,
so of two names equal but for case the more frequent keeps it, the other gets ``_1``);
``Staged.json_paths`` says where each column's value came from, so that ingest can
quarantine an object or a list where a single value belongs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from journeymap.data.long_lines import MAX_LINE_BYTES, LongLine, long_line_reason, \
    without_long_lines
from journeymap.data.staged import Staged
from journeymap.data.store import quote_ident
from journeymap.errors import IngestError

FORMATS = ("csv", "tsv", "parquet", "jsonl", "segment")
_EXTENSIONS = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".tab": "tsv",
               ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl",
               ".ndjson": "jsonl", ".json": "jsonl"}
SEGMENT_TYPES = ("track", "page", "screen", "identify")  # the calls ingest loads
SEGMENT_CALLS = SEGMENT_TYPES + ("group", "alias")  # every call type of the spec
_RESERVED = ("_row", "_file", "_raw", "_k")  # staging's own columns


def detect_format(path: Path, fmt: str | None) -> str:
    """The format named, else the one the extension implies (``.gz`` ignored)."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise IngestError(f"unknown format {fmt!r} (use one of {', '.join(FORMATS)})",
                              file=str(path))
        return fmt
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    found = _EXTENSIONS.get(suffixes[-1]) if suffixes else None
    if found is None:
        raise IngestError("cannot tell the format from the file name; pass --format "
                          f"({', '.join(FORMATS)})", file=str(path))
    return found


def _check_file(path: Path, fmt: str) -> bytes:
    if not path.is_file():
        raise IngestError("no such file", file=str(path))
    with path.open("rb") as fh:
        head = fh.read(65536)
    if not head:
        raise IngestError("file is empty", file=str(path))
    if fmt == "parquet":
        if not head.startswith(b"PAR1"):
            raise IngestError("not a Parquet file", file=str(path))
    elif b"\x00" in head and not path.name.lower().endswith(".gz"):
        raise IngestError(f"not a text file (binary content); expected {fmt}", file=str(path))
    return head


def read_file(con: duckdb.DuckDBPyConnection, path: Path, fmt: str | None,
              stage: str, *, kind: str | None = None, meta: Any = None,
              max_line_bytes: int = MAX_LINE_BYTES, view_ok: bool = False) -> Staged:
    """Read ``path`` into temp table ``stage`` (and ``stage_rejects``); transcript files
    (WebVTT, SRT, plain text, JSON documents) go to ``read_transcripts``.  A line longer
    than ``max_line_bytes`` is rejected, the rest of the file read (``long_lines``).
    ``view_ok``: the stage will only be read, so a Parquet file may be staged as a view
    over the file (``staged.is_view``) instead of a copy of it.  Drop the stage with
    :func:`drop_staged`."""
    if kind == "transcripts":
        from journeymap.data.read_transcripts import read_transcript, transcript_format

        tfmt = transcript_format(path, fmt)
        if tfmt is not None:
            return read_transcript(con, path, tfmt, stage, meta)
    fmt = detect_format(path, fmt)
    head = _check_file(path, fmt)
    staged = Staged(str(path), stage, f"{stage}_rejects", [], fmt)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {quote_ident(staged.rejects)} "
                "(_row BIGINT, reason VARCHAR, raw VARCHAR, field VARCHAR)")
    try:
        if fmt in ("csv", "tsv"):
            _read_csv(con, path, staged, "\t" if fmt == "tsv" else None, max_line_bytes)
        elif fmt == "parquet":
            _read_parquet(con, path, staged, keep_times=kind != "customers", as_view=view_ok)
        else:
            _read_json(con, path, staged, head, segment=fmt == "segment",
                       limit=max_line_bytes)
    except duckdb.Error as exc:
        raise IngestError(f"cannot read as {fmt}: {_first_line(exc, max_line_bytes)}",
                          file=str(path)) from exc
    return staged


def _first_line(exc: duckdb.Error, limit: int) -> str:
    text = str(exc).strip()
    if "Maximum line size" in text:
        return (f"a record is {long_line_reason(limit).removeprefix('line ')} "
                "(an unclosed quote?)")
    return text.splitlines()[0] if text else type(exc).__name__


def _scratch(con: duckdb.DuckDBPyConnection) -> str | None:
    """Where a reader's scratch copy goes: the store's spill folder (an absolute path
    beside it), else the system's temporary folder (None)."""
    row = con.execute("SELECT current_setting('temp_directory')").fetchone()
    folder = str(row[0]) if row and row[0] else ""
    return folder if Path(folder).is_absolute() else None


def _reject_long(con: duckdb.DuckDBPyConnection, rej: str, found: list[LongLine],
                 first_row: int, limit: int) -> None:
    """Reject the lines set aside; ``first_row``: the row number of line 1."""
    if not found:
        return
    con.executemany(f"INSERT INTO {quote_ident(rej)} (_row, reason, raw) "
                    "VALUES (?, ?, CAST(to_json(CAST(? AS VARCHAR)) AS VARCHAR))",
                    [[x.line - 1 + first_row, long_line_reason(limit), x.head] for x in found])


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(f"DESCRIBE {quote_ident(table)}").fetchall()
    return [r[0] for r in rows if r[0] not in _RESERVED]


def _read_csv(con: duckdb.DuckDBPyConnection, path: Path, staged: Staged,
              delim: str | None, limit: int) -> None:
    with without_long_lines(path, limit, _scratch(con)) as (source, found):
        if found and found[0].line == 1:
            raise IngestError(f"the header is a {long_line_reason(limit)}", file=str(path))
        _reject_long(con, staged.rejects, found, 0, limit)
        _scan_csv(con, source, path, staged, delim, limit)


def _scan_csv(con: duckdb.DuckDBPyConnection, source: Path, path: Path, staged: Staged,
              delim: str | None, limit: int) -> None:
    """Read ``source`` (``path`` or its copy without over-long lines) into staging."""
    t, rej = quote_ident(staged.table), quote_ident(staged.rejects)
    raw_t = quote_ident(staged.table + "_raw")
    scan_t, rt = staged.table + "_scan", staged.table + "_errors"
    for encoding in ("utf-8", "latin-1"):
        opts = ("all_varchar = true, header = true, store_rejects = true, "
                "rejects_table = $rt, rejects_scan = $rs, encoding = $enc, "
                "max_line_size = $mls")
        params: dict[str, object] = {"p": str(source), "rt": rt, "rs": scan_t, "enc": encoding,
                                     "mls": limit}
        if delim is not None:
            opts += ", delim = $d"
            params["d"] = delim
        con.execute(f"DROP TABLE IF EXISTS {quote_ident(rt)}")
        con.execute(f"DROP TABLE IF EXISTS {quote_ident(scan_t)}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {raw_t} AS "
                    f"SELECT * FROM read_csv($p, {opts})", params)
        bad = con.execute(f"SELECT count(*) FROM {quote_ident(rt)} "
                          "WHERE error_type = 'INVALID ENCODING'").fetchone()
        if not bad or bad[0] == 0:
            break
        staged.notes.append(f"{path.name}: not valid UTF-8; read as Latin-1")
    _rename_reserved(con, staged.table + "_raw")
    staged.columns = _columns(con, staged.table + "_raw")
    # DuckDB reports a short record once per missing field and a long one once per extra
    # field; the record is one reject: its true count is the fewest (most) fields found.
    con.execute(f"""INSERT INTO {rej} (_row, reason, raw)
        SELECT line - 1,
               CASE WHEN kind IN ('MISSING COLUMNS', 'TOO MANY COLUMNS') THEN
                      'wrong number of fields (expected ' || expected || ', found ' ||
                      CASE kind WHEN 'MISSING COLUMNS' THEN least_found ELSE most_found END || ')'
                    ELSE 'unreadable record: ' || lower(kind) END,
               to_json(regexp_replace(csv_line, '^[\\r\\n]+', ''))::VARCHAR
        FROM (SELECT line,
                     arg_min(CAST(error_type AS VARCHAR), CASE CAST(error_type AS VARCHAR)
                             WHEN 'MISSING COLUMNS' THEN 1 WHEN 'TOO MANY COLUMNS' THEN 2
                             ELSE 3 END) AS kind,
                     any_value(regexp_extract(error_message,
                               'Expected Number of Columns: (\\d+)', 1)) AS expected,
                     min(TRY_CAST(regexp_extract(error_message, 'Found: (\\d+)', 1) AS BIGINT))
                         AS least_found,
                     max(TRY_CAST(regexp_extract(error_message, 'Found: (\\d+)', 1) AS BIGINT))
                         AS most_found,
                     min(csv_line) AS csv_line
              FROM {quote_ident(rt)} GROUP BY line)""")
    # Good record k is record k + (number of rejected records before it).
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {t} AS
        WITH r AS (SELECT _row, _row - row_number() OVER (ORDER BY _row) AS g
                   FROM {rej}),
             s AS (SELECT *, rowid - (SELECT min(rowid) FROM {raw_t}) + 1 AS _k
                   FROM {raw_t})
        SELECT s.* EXCLUDE (_k),
               s._k + (SELECT count(*) FROM r WHERE r.g < s._k) AS _row,
               $f AS _file
        FROM s ORDER BY _row""", {"f": str(path)})
    for name in (staged.table + "_raw", rt, scan_t):
        con.execute(f"DROP TABLE IF EXISTS {quote_ident(name)}")


def _rename_reserved(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """A source column named like one of staging's own (``_row``...) gets ``_1``..."""
    have = [r[0] for r in con.execute(f"DESCRIBE {quote_ident(table)}").fetchall()]
    taken = {c.lower() for c in have}
    for col in have:
        if col.lower() in _RESERVED:
            name, n = f"{col}_1", 1
            while name.lower() in taken:
                n += 1
                name = f"{col}_{n}"
            taken.add(name.lower())
            con.execute(f"ALTER TABLE {quote_ident(table)} RENAME COLUMN {quote_ident(col)} "
                        f"TO {quote_ident(name)}")


def drop_staged(con: duckdb.DuckDBPyConnection, staged: Staged) -> None:
    """Drop a file's stage and its rejects."""
    con.execute(f"DROP {'VIEW' if staged.is_view else 'TABLE'} IF EXISTS {quote_ident(staged.table)}")
    con.execute(f"DROP TABLE IF EXISTS {quote_ident(staged.rejects)}")


def _sql_text(value: str) -> str:
    """``value`` as an SQL string literal (a view's text takes no parameters)."""
    return "'" + value.replace("'", "''") + "'"


def _read_parquet(con: duckdb.DuckDBPyConnection, path: Path, staged: Staged, *,
                  keep_times: bool = True, as_view: bool = False) -> None:
    """Stage a Parquet file: values as text, but (``keep_times``) timestamp and date
    columns as TIMESTAMP (``staged.typed``), so that they are not printed and parsed
    again (10 M events: no parse at validation, 0.7 s less to stage).  ``as_view``: a
    view over the file, read where it is used (1.4 s less at 10 M events)."""
    described = con.execute("DESCRIBE SELECT * FROM read_parquet($p)",
                            {"p": str(path)}).fetchall()
    exprs, names = [], column_names([d[0] for d in described], [1] * len(described))
    for (name, typ, *_), alias in zip(described, names):
        q = quote_ident(name)
        if keep_times and typ.startswith("TIMESTAMP WITH TIME ZONE"):
            value = f"timezone('UTC', {q})"
            staged.typed[alias] = "utc"
        elif keep_times and (typ == "DATE" or (typ.startswith("TIMESTAMP") and "TIME ZONE" not in typ)):
            value = f"CAST({q} AS TIMESTAMP)"
            staged.typed[alias] = "local"
        elif typ.startswith("TIMESTAMP WITH TIME ZONE"):
            value = f"strftime(timezone('UTC', {q}), '%Y-%m-%dT%H:%M:%S.%fZ')"
        elif typ.endswith("]") or typ.startswith(("STRUCT", "MAP", "JSON", "UNION")):
            value = f"CAST(to_json({q}) AS VARCHAR)"
        else:
            value = f"CAST({q} AS VARCHAR)"
        exprs.append(f"{value} AS {quote_ident(alias)}")
    staged.columns = names
    if as_view:
        select = ", ".join(exprs + ["file_row_number + 1 AS _row", f"{_sql_text(str(path))} AS _file"])
        con.execute(f"CREATE OR REPLACE TEMP VIEW {quote_ident(staged.table)} AS SELECT {select} "
                    f"FROM read_parquet({_sql_text(str(path))}, file_row_number = true)")
        staged.is_view = True
        return
    select = ", ".join(exprs + ["file_row_number + 1 AS _row", "$f AS _file"])
    con.execute(f"CREATE OR REPLACE TEMP TABLE {quote_ident(staged.table)} AS "
                f"SELECT {select} FROM read_parquet($p, file_row_number = true)",
                {"p": str(path), "f": str(path)})


def _document_kind(path: Path, head: bytes) -> str:
    """'lines' for JSON lines, 'batch' for a ``{"batch": [...]}`` or ``[...]`` document."""
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("["):
        return "batch"
    first = text.split("\n", 1)[0]
    try:
        obj = json.loads(first)
    except ValueError:
        return "batch" if text.startswith("{") else "lines"
    return "batch" if isinstance(obj, dict) and "batch" in obj else "lines"


def _load_lines(con: duckdb.DuckDBPyConnection, path: Path, head: bytes, lines: str,
                rej: str, limit: int) -> str:
    """Fill ``lines(_row, line)``; returns how the file was read."""
    kind = _document_kind(path, head)
    p = {"p": str(path)}
    if kind == "batch":
        doc = con.execute("SELECT json_valid(content), CASE WHEN json_valid(content) "
                          "THEN json_type(content) END FROM read_text($p)", p).fetchone()
        if doc is not None and doc[0]:
            path_expr = "'$.batch'" if doc[1] == "OBJECT" else "'$'"
            inner = con.execute(f"SELECT json_type(content, {path_expr}) FROM read_text($p)",
                                p).fetchone()
            if inner is None or inner[0] != "ARRAY":
                raise IngestError("a batch document's 'batch' must be a list of calls",
                                  file=str(path))
            con.execute(f"""CREATE OR REPLACE TEMP TABLE {quote_ident(lines)} AS
                SELECT generate_subscripts(l, 1) AS _row, CAST(unnest(l) AS VARCHAR) AS line
                FROM (SELECT CAST(json_extract(content, {path_expr}) AS JSON[]) AS l
                      FROM read_text($p))""", p)
            return "batch"
    with without_long_lines(path, limit, _scratch(con)) as (source, found):
        _scan_lines(con, source, lines, rej, limit)
    # a line set aside is blank in the copy read: its row is there, to be dropped
    _reject_long(con, rej, found, 1, limit)
    return "lines"


def _scan_lines(con: duckdb.DuckDBPyConnection, source: Path, lines: str, rej: str,
                limit: int) -> None:
    scan = lines + "_errors"
    p = {"p": str(source)}
    con.execute(f"DROP TABLE IF EXISTS {quote_ident(scan)}")
    con.execute(f"DROP TABLE IF EXISTS {quote_ident(scan + '_scan')}")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {quote_ident(lines + '_0')} AS
        SELECT * FROM read_csv($p, columns = {{'line': 'VARCHAR'}}, delim = '\x01',
            quote = '', escape = '', header = false, auto_detect = false,
            max_line_size = $mls, store_rejects = true, rejects_table = $rt,
            rejects_scan = $rs)""", {**p, "rt": scan, "rs": scan + "_scan", "mls": limit})
    con.execute(f"""INSERT INTO {quote_ident(rej)} (_row, reason, raw)
        SELECT line, CASE WHEN bool_or(error_type = 'LINE SIZE OVER MAXIMUM')
                          THEN $lr ELSE 'invalid JSON' END,
               to_json(min(csv_line))::VARCHAR
        FROM {quote_ident(scan)} GROUP BY line""", {"lr": long_line_reason(limit)})
    l0 = quote_ident(lines + "_0")
    # Rows of a table created in an open transaction number from a large base; line k of
    # those read is line k + (number of lines the scan rejected before it).
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {quote_ident(lines)} AS
        WITH r AS (SELECT _row, _row - row_number() OVER (ORDER BY _row) AS g
                   FROM {quote_ident(rej)}),
             s AS (SELECT rowid - (SELECT min(rowid) FROM {l0}) + 1 AS _k, line FROM {l0})
        SELECT s._k + (SELECT count(*) FROM r WHERE r.g < s._k) AS _row,
               CASE WHEN s._k = 1 THEN ltrim(line, chr(65279)) ELSE line END AS line
        FROM s""")
    for name in (lines + "_0", scan, scan + "_scan"):
        con.execute(f"DROP TABLE IF EXISTS {quote_ident(name)}")


def _read_json(con: duckdb.DuckDBPyConnection, path: Path, staged: Staged, head: bytes,
               *, segment: bool, limit: int) -> None:
    lines, rej = staged.table + "_lines", quote_ident(staged.rejects)
    _load_lines(con, path, head, lines, staged.rejects, limit)
    ql = quote_ident(lines)
    con.execute(f"""INSERT INTO {rej} (_row, reason, raw)
        SELECT _row, CASE WHEN NOT json_valid(line) THEN 'invalid JSON'
                          ELSE 'not a JSON object' END, to_json(line)::VARCHAR
        FROM {ql} WHERE trim(line) <> '' AND
              (NOT json_valid(line) OR json_type(line) <> 'OBJECT')""")
    con.execute(f"""DELETE FROM {ql} WHERE line IS NULL OR trim(line) = ''
                    OR NOT json_valid(line) OR json_type(line) <> 'OBJECT'""")
    if not segment:
        segment = _looks_like_segment(con, ql)
        if segment:
            staged.notes.append(f"{path.name}: read as Segment calls")
    if segment:
        staged.fmt = "segment"
        _segment_stage(con, ql, staged, str(path))
        return
    found = con.execute(
        f"""SELECT k, count(*) FROM (SELECT unnest(json_keys(line)) AS k, _row FROM {ql})
            GROUP BY k ORDER BY min(_row), k""").fetchall()
    keys = [k for k, _ in found]
    params: dict[str, object] = {"f": str(path)}
    exprs = []
    names = column_names(keys, [n for _, n in found])
    for i, (k, name) in enumerate(zip(keys, names)):
        params[f"k{i}"] = json_path(k)
        staged.json_paths[name] = [json_path(k)]
        exprs.append(f"json_extract_string(line, $k{i}) AS {quote_ident(name)}")
    select = ", ".join(exprs + ["_row", "$f AS _file", "line AS _raw"])
    con.execute(f"CREATE OR REPLACE TEMP TABLE {quote_ident(staged.table)} AS "
                f"SELECT {select} FROM {ql} ORDER BY _row", params)
    con.execute(f"DROP TABLE {ql}")
    staged.columns = names


def json_path(key: str) -> str:
    """The JSON pointer (RFC 6901) of top-level member ``key``: any name, even ``""``,
    ``$.x`` or ``a/b``, names exactly that member."""
    return "/" + key.replace("~", "~0").replace("/", "~1")


def column_names(keys: list[str], counts: list[int]) -> list[str]:
    """Staging column names for JSON member names (DuckDB's names ignore case), as DuckDB
    names CSV headers: an empty name is ``column<i>``; of names equal but for case, the
    one in most records keeps it and the others get ``_1``, ``_2`` (as do ``_row``...)."""
    names: list[str | None] = [None] * len(keys)
    seen: set[str] = set()
    for i in sorted(range(len(keys)), key=lambda i: -counts[i]):
        name = keys[i] or f"column{i}"
        base, n = name, 1
        while name.lower() in seen or name.lower() in _RESERVED:
            name = f"{base}_{n}"
            n += 1
        seen.add(name.lower())
        names[i] = name
    return [n or "" for n in names]


def _looks_like_segment(con: duckdb.DuckDBPyConnection, lines: str) -> bool:
    """Every line (of the first 1000) has a ``type`` and a ``userId`` or ``anonymousId``
    member, and some type is a Segment call's (an odd call must not make the file plain
    JSON lines: it is quarantined as an unsupported call instead)."""
    row = con.execute(f"""SELECT count(*) FILTER (WHERE json_exists(line, '$.type')
            AND (json_exists(line, '$.userId') OR json_exists(line, '$.anonymousId'))),
            count(*) FILTER (WHERE lower(line->>'type') IN $calls), count(*)
            FROM (SELECT line FROM {lines} LIMIT 1000)""",
                      {"calls": list(SEGMENT_CALLS)}).fetchone()
    return row is not None and row[2] > 0 and row[0] == row[2] and row[1] > 0


def _segment_stage(con: duckdb.DuckDBPyConnection, lines: str, staged: Staged,
                   file: str) -> None:
    """Segment spec: track/page/screen become events, identify becomes customers.

    The staging table holds our column names directly plus ``_type`` and ``traits``.
    """
    con.execute(f"""INSERT INTO {quote_ident(staged.rejects)} (_row, reason, raw)
        SELECT _row, 'unsupported Segment call type ' ||
               coalesce('''' || (line->>'type') || '''', '(none)'), line
        FROM {lines} WHERE coalesce(lower(line->>'type'), '') NOT IN
              ('track', 'page', 'screen', 'identify')""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {quote_ident(staged.table)} AS
        SELECT lower(line->>'type') AS _type,
          coalesce(nullif(line->>'userId', ''), line->>'anonymousId') AS customer_id,
          coalesce(line->>'timestamp', line->>'originalTimestamp', line->>'sentAt',
                   line->>'receivedAt') AS "timestamp",
          CASE lower(line->>'type') WHEN 'track' THEN line->>'event'
               WHEN 'page' THEN 'page_viewed' WHEN 'screen' THEN 'screen_viewed' END AS event,
          coalesce(line->'context'->>'channel', line->>'channel') AS channel,
          coalesce(line->'context'->>'sessionId', line->'properties'->>'session_id')
              AS session_id,
          CASE WHEN lower(line->>'type') IN ('page', 'screen') THEN
                 CAST(json_merge_patch(coalesce(line->'properties', '{{}}'),
                   json_object('name', line->>'name', 'url',
                     coalesce(line->'properties'->>'url', line->'context'->'page'->>'url')))
                   AS VARCHAR)
               ELSE CAST(line->'properties' AS VARCHAR) END AS properties,
          line->>'messageId' AS message_id,
          CAST(line->'traits' AS VARCHAR) AS traits,
          _row, $f AS _file, line AS _raw
        FROM {lines}
        WHERE lower(line->>'type') IN ('track', 'page', 'screen', 'identify')
        ORDER BY _row""", {"f": file})
    con.execute(f"DROP TABLE {lines}")
    staged.columns = ["customer_id", "timestamp", "event", "channel", "session_id",
                      "properties", "message_id"]
    staged.json_paths = {
        "customer_id": ["/userId", "/anonymousId"],
        "timestamp": ["/timestamp", "/originalTimestamp", "/sentAt", "/receivedAt"],
        "event": ["/event"], "channel": ["/context/channel", "/channel"],
        "session_id": ["/context/sessionId", "/properties/session_id"],
        "message_id": ["/messageId"]}
