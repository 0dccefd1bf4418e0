"""Readers: every format becomes a DuckDB staging table of raw text.

A staging table has one VARCHAR column per source column (the raw text, never
reinterpreted: ``=HYPERLINK(...)`` stays that text), plus ``_row`` (1-based record
number in the file, header excluded) and ``_file``; JSON readers add ``_raw`` (the
record as it was).  Records the reader itself cannot parse (a CSV line with the wrong
number of fields, a broken JSON line, JSON that is not an object) go to the staging
rejects table ``<stage>_rejects(_row, reason, raw)`` -- they never abort the file.

CSV row numbers: a rejected record's number is DuckDB's line number minus the header;
good records are numbered around them.  Blank lines are not records: in a file with
blank lines, numbers count records, not editor lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from journeymap.data.store import quote_ident
from journeymap.errors import IngestError

FORMATS = ("csv", "tsv", "parquet", "jsonl", "segment")
_EXTENSIONS = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".tab": "tsv",
               ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl",
               ".ndjson": "jsonl", ".json": "jsonl"}
SEGMENT_TYPES = ("track", "page", "screen", "identify")


@dataclass
class Staged:
    """A file read into staging: table names, its source columns, notes for the report."""

    file: str
    table: str
    rejects: str
    columns: list[str]
    fmt: str
    notes: list[str] = field(default_factory=list)


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
              stage: str, *, kind: str | None = None, meta: Any = None) -> Staged:
    """Read ``path`` into temp table ``stage`` (and ``stage_rejects``); transcript files
    (WebVTT, SRT, plain text, JSON documents) go to ``read_transcripts``."""
    if kind == "transcripts":
        from journeymap.data.read_transcripts import read_transcript, transcript_format

        tfmt = transcript_format(path, fmt)
        if tfmt is not None:
            return read_transcript(con, path, tfmt, stage, meta)
    fmt = detect_format(path, fmt)
    head = _check_file(path, fmt)
    staged = Staged(str(path), stage, f"{stage}_rejects", [], fmt)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {quote_ident(staged.rejects)} "
                "(_row BIGINT, reason VARCHAR, raw VARCHAR)")
    try:
        if fmt in ("csv", "tsv"):
            _read_csv(con, path, staged, "\t" if fmt == "tsv" else None)
        elif fmt == "parquet":
            _read_parquet(con, path, staged)
        else:
            _read_json(con, path, staged, head, segment=fmt == "segment")
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise IngestError(f"cannot read as {fmt}: {first}", file=str(path)) from exc
    return staged


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(f"DESCRIBE {quote_ident(table)}").fetchall()
    return [r[0] for r in rows if r[0] not in ("_row", "_file", "_raw", "_k")]


def _read_csv(con: duckdb.DuckDBPyConnection, path: Path, staged: Staged,
              delim: str | None) -> None:
    t, rej = quote_ident(staged.table), quote_ident(staged.rejects)
    raw_t = quote_ident(staged.table + "_raw")
    scan_t, rt = staged.table + "_scan", staged.table + "_errors"
    for encoding in ("utf-8", "latin-1"):
        opts = ("all_varchar = true, header = true, store_rejects = true, "
                "rejects_table = $rt, rejects_scan = $rs, encoding = $enc, "
                "max_line_size = 67108864")
        params: dict[str, object] = {"p": str(path), "rt": rt, "rs": scan_t, "enc": encoding}
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
    staged.columns = _columns(con, staged.table + "_raw")
    con.execute(f"""INSERT INTO {rej}
        SELECT DISTINCT line - 1,
               CASE error_type
                 WHEN 'MISSING COLUMNS' THEN 'wrong number of fields (' ||
                      lower(regexp_replace(error_message, '^Expected Number of Columns: (\\d+) Found: (\\d+).*$', 'expected \\1, found \\2', 's')) || ')'
                 WHEN 'TOO MANY COLUMNS' THEN 'wrong number of fields (' ||
                      lower(regexp_replace(error_message, '^Expected Number of Columns: (\\d+) Found: (\\d+).*$', 'expected \\1, found \\2', 's')) || ')'
                 ELSE 'unreadable record: ' || lower(CAST(error_type AS VARCHAR)) END,
               to_json(regexp_replace(csv_line, '^[\\r\\n]+', ''))::VARCHAR
        FROM {quote_ident(rt)}""")
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


def _read_parquet(con: duckdb.DuckDBPyConnection, path: Path, staged: Staged) -> None:
    described = con.execute("DESCRIBE SELECT * FROM read_parquet($p)",
                            {"p": str(path)}).fetchall()
    exprs = []
    for name, typ, *_ in described:
        q = quote_ident(name)
        if typ.startswith("TIMESTAMP WITH TIME ZONE"):
            value = f"strftime(timezone('UTC', {q}), '%Y-%m-%dT%H:%M:%S.%fZ')"
        elif typ.endswith("]") or typ.startswith(("STRUCT", "MAP", "JSON", "UNION")):
            value = f"CAST(to_json({q}) AS VARCHAR)"
        else:
            value = f"CAST({q} AS VARCHAR)"
        exprs.append(f"{value} AS {q}")
    select = ", ".join(exprs + ["file_row_number + 1 AS _row", "$f AS _file"])
    con.execute(f"CREATE OR REPLACE TEMP TABLE {quote_ident(staged.table)} AS "
                f"SELECT {select} FROM read_parquet($p, file_row_number = true)",
                {"p": str(path), "f": str(path)})
    staged.columns = [d[0] for d in described]


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
                rej: str) -> str:
    """Fill ``lines(_row, line)``; returns how the file was read."""
    kind = _document_kind(path, head)
    p = {"p": str(path)}
    if kind == "batch":
        doc = con.execute("SELECT json_valid(content), CASE WHEN json_valid(content) "
                          "THEN json_type(content) END FROM read_text($p)", p).fetchone()
        if doc is not None and doc[0]:
            path_expr = "'$.batch'" if doc[1] == "OBJECT" else "'$'"
            con.execute(f"""CREATE OR REPLACE TEMP TABLE {quote_ident(lines)} AS
                SELECT generate_subscripts(l, 1) AS _row, CAST(unnest(l) AS VARCHAR) AS line
                FROM (SELECT CAST(json_extract(content, {path_expr}) AS JSON[]) AS l
                      FROM read_text($p))""", p)
            return "batch"
    scan = lines + "_errors"
    con.execute(f"DROP TABLE IF EXISTS {quote_ident(scan)}")
    con.execute(f"DROP TABLE IF EXISTS {quote_ident(scan + '_scan')}")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {quote_ident(lines + '_0')} AS
        SELECT * FROM read_csv($p, columns = {{'line': 'VARCHAR'}}, delim = '\x01',
            quote = '', escape = '', header = false, auto_detect = false,
            max_line_size = 67108864, store_rejects = true, rejects_table = $rt,
            rejects_scan = $rs)""", {**p, "rt": scan, "rs": scan + "_scan"})
    con.execute(f"""INSERT INTO {quote_ident(rej)}
        SELECT DISTINCT line, 'invalid JSON', to_json(csv_line)::VARCHAR
        FROM {quote_ident(scan)}""")
    l0 = quote_ident(lines + "_0")
    # Rows of a table created in an open transaction number from a large base.
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {quote_ident(lines)} AS
        SELECT rowid - (SELECT min(rowid) FROM {l0}) + 1 AS _row,
               CASE WHEN rowid = (SELECT min(rowid) FROM {l0})
                    THEN ltrim(line, chr(65279)) ELSE line END AS line
        FROM {l0}""")
    for name in (lines + "_0", scan, scan + "_scan"):
        con.execute(f"DROP TABLE IF EXISTS {quote_ident(name)}")
    return "lines"


def _read_json(con: duckdb.DuckDBPyConnection, path: Path, staged: Staged, head: bytes,
               *, segment: bool) -> None:
    lines, rej = staged.table + "_lines", quote_ident(staged.rejects)
    _load_lines(con, path, head, lines, staged.rejects)
    ql = quote_ident(lines)
    con.execute(f"""INSERT INTO {rej}
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
    keys = [r[0] for r in con.execute(
        f"""SELECT k FROM (SELECT unnest(json_keys(line)) AS k, _row FROM {ql})
            GROUP BY k ORDER BY min(_row), k""").fetchall()]
    params: dict[str, object] = {"f": str(path)}
    exprs = []
    for i, k in enumerate(keys):
        params[f"k{i}"] = k if not k.startswith(("$", "/")) else '$."' + k.replace('"', '\\"') + '"'
        exprs.append(f"json_extract_string(line, $k{i}) AS {quote_ident(k)}")
    select = ", ".join(exprs + ["_row", "$f AS _file", "line AS _raw"])
    con.execute(f"CREATE OR REPLACE TEMP TABLE {quote_ident(staged.table)} AS "
                f"SELECT {select} FROM {ql} ORDER BY _row", params)
    con.execute(f"DROP TABLE {ql}")
    staged.columns = keys


def _looks_like_segment(con: duckdb.DuckDBPyConnection, lines: str) -> bool:
    row = con.execute(f"""SELECT count(*) FILTER (WHERE line->>'type' IN
            ('track', 'page', 'screen', 'identify', 'group', 'alias')
            AND (line->>'userId' IS NOT NULL OR line->>'anonymousId' IS NOT NULL)),
            count(*) FROM (SELECT line FROM {lines} LIMIT 1000)""").fetchone()
    return row is not None and row[1] > 0 and row[0] == row[1]


def _segment_stage(con: duckdb.DuckDBPyConnection, lines: str, staged: Staged,
                   file: str) -> None:
    """Segment spec: track/page/screen become events, identify becomes customers.

    The staging table holds our column names directly plus ``_type`` and ``traits``.
    """
    con.execute(f"""INSERT INTO {quote_ident(staged.rejects)}
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
