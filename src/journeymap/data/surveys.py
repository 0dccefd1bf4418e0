"""Survey-platform exports as they come: extra header rows, constant columns, and one
column per question turned into one feedback row per answer.

An export from Qualtrics, SurveyMonkey, Typeform or Google Forms has one row per
response and one column per question; journeymap's feedback has one row per answer
(``metric``, ``score``).  :func:`prepare` reshapes a staged file before validation:

1. **Extra header rows.**  ``skip_rows`` drops that many records under the header.
   When it is not set, the layout is recognised (:func:`detect_layout`): Qualtrics puts
   the question texts and the import ids under the header (2 rows), SurveyMonkey the
   answer kinds (``Response``, ``Open-Ended Response``: 1 row).  The report says so.
   A recognised layout also names its response-time column (Qualtrics ``RecordedDate``,
   SurveyMonkey ``End Date``, Typeform ``Submit Date (UTC)``) when no column maps to
   ``timestamp``, and Qualtrics's import ids give the time zone of its dates.
2. **Constants.**  ``constants`` (``--set channel=email``) adds a column with one value
   (or replaces a column's values): a channel or a touchpoint for a whole file.
3. **Wide to long.**  ``scores`` maps question columns to metrics (``--score-column
   "Q1=nps"``); every non-blank answer becomes a row with ``metric``, ``score`` and
   ``question`` (the column's name, kept in ``extra``).  A blank answer is a skipped
   question, not a bad row: it is counted in a note.  A score written as a choice
   label that starts with its number (``"5 - Very satisfied"``, ``"10 (Extremely
   likely)"``) loads as that number.  The respondent's comment, when a column maps to
   ``comment``, goes with the first answer of the response only (so themes count it
   once).  Quarantined answers name their question as the field; the raw record is the
   whole response as exported.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from journeymap.data.contracts import SourceConfig, normalise, resolve_columns
from journeymap.data.staged import Staged
from journeymap.data.store import quote_ident
from journeymap.errors import IngestError

#: Columns the long form adds (they must not already be in the file)
LONG_COLUMNS = ("metric", "score", "question")
#: A choice label that starts with its number: the number
_LEADING_NUMBER = r"^\s*(-?\d+(?:\.\d+)?)\s*(?:[-–—:=(.]\s*\S.*)?$"


@dataclass(frozen=True)
class Layout:
    """A recognised export: its name, the records under its header, its time column."""

    name: str
    skip_rows: int
    what: str             # what the skipped rows hold
    time_column: str | None


def _first_records(con: duckdb.DuckDBPyConnection, staged: Staged, n: int) -> list[dict[str, str | None]]:
    cols = staged.columns
    if not cols:
        return []
    rows = con.execute(f"SELECT {', '.join(quote_ident(c) for c in cols)} "
                       f"FROM {quote_ident(staged.table)} ORDER BY _row LIMIT {int(n)}").fetchall()
    return [dict(zip(cols, r)) for r in rows]


def detect_layout(con: duckdb.DuckDBPyConnection, staged: Staged) -> Layout | None:
    """The survey platform whose export ``staged`` is, when its header says so."""
    if staged.fmt not in ("csv", "tsv"):
        return None
    header = set(staged.columns)
    first = _first_records(con, staged, 2)
    if len(first) == 2 and {"ResponseId", "RecordedDate"} & header and any(
            (v or "").lstrip().startswith('{"ImportId"') for v in first[1].values()):
        return Layout("Qualtrics", 2, "question texts, import ids",
                      "RecordedDate" if "RecordedDate" in header else None)
    if first and {"Respondent ID", "Collector ID"} <= header and \
            not (first[0].get("Respondent ID") or "").strip() and \
            {"Response", "Open-Ended Response"} & {(v or "").strip() for v in first[0].values()}:
        return Layout("SurveyMonkey", 1, "answer kinds",
                      "End Date" if "End Date" in header else None)
    if "Submit Date (UTC)" in header and "Network ID" in header:
        return Layout("Typeform", 0, "", "Submit Date (UTC)")
    return None


def _qualtrics_timezone(con: duckdb.DuckDBPyConnection, staged: Staged, column: str) -> str | None:
    """The ``timeZone`` of ``column``'s import id (record 2 of a Qualtrics export)."""
    row = con.execute(f"SELECT json_extract_string(TRY_CAST({quote_ident(column)} AS JSON), "
                      f"'$.timeZone') FROM {quote_ident(staged.table)} WHERE _row = 2").fetchone()
    return str(row[0]) if row and row[0] else None


def prepare(con: duckdb.DuckDBPyConnection, staged: Staged, source: SourceConfig, kind: str) -> None:
    """Reshape ``staged`` in place for ``source``'s survey settings (see module doc)."""
    if source.scores and kind != "feedback":
        raise IngestError("--score-column (scores) is for feedback exports only", file=staged.file)
    layout = detect_layout(con, staged) if kind == "feedback" else None
    skip = source.skip_rows if source.skip_rows is not None else (layout.skip_rows if layout else 0)
    if layout is not None:
        said = f"{staged.file}: a {layout.name} export"
        if source.skip_rows is not None:
            said += f": skipped {_rows(skip)} under the header (--skip-rows)"
        elif layout.skip_rows:
            said += (f": skipped its {_rows(layout.skip_rows)} under the header ({layout.what}; "
                     "--skip-rows N sets the rows to skip)")
        if layout.time_column and "timestamp" not in resolve_columns(kind, staged.columns, source).fields:
            staged.mapping[layout.time_column] = "timestamp"
            said += f"; response time from '{layout.time_column}'"
            if layout.name == "Qualtrics" and source.timezone == "UTC":
                zone = _qualtrics_timezone(con, staged, layout.time_column)
                if zone and zone != "UTC":
                    staged.timezone = zone
                    said += f", in {zone} (its import ids say so; --timezone overrides)"
        staged.notes.append(said)
    if skip:
        _skip(con, staged, skip, say=layout is None)
    for column, value in source.constants.items():
        _constant(con, staged, column, value)
    if source.scores:
        _long(con, staged, source, kind)


def _rows(n: int) -> str:
    return f"{n:,} row{'s' if n != 1 else ''}"


def _skip(con: duckdb.DuckDBPyConnection, staged: Staged, n: int, *, say: bool) -> None:
    """Drop the first ``n`` records (they are header rows, not data: not counted)."""
    for table in (staged.table, staged.rejects):
        con.execute(f"DELETE FROM {quote_ident(table)} WHERE _row <= $n", {"n": n})
    if say:
        staged.notes.append(f"{staged.file}: skipped {_rows(n)} under the header")


def _constant(con: duckdb.DuckDBPyConnection, staged: Staged, column: str, value: str) -> None:
    t, c = quote_ident(staged.table), quote_ident(column)
    if column not in staged.columns:
        con.execute(f"ALTER TABLE {t} ADD COLUMN {c} VARCHAR")
        staged.columns.append(column)
    elif staged.typed.pop(column, None):  # a typed timestamp column replaced by text
        con.execute(f"ALTER TABLE {t} ALTER COLUMN {c} TYPE VARCHAR")
    con.execute(f"UPDATE {t} SET {c} = $v", {"v": value})


def _find(column: str, columns: list[str]) -> str | None:
    if column in columns:
        return column
    near = [c for c in columns if normalise(c) == normalise(column)]
    return near[0] if len(near) == 1 else None


def _long(con: duckdb.DuckDBPyConnection, staged: Staged, source: SourceConfig, kind: str) -> None:
    """One row per non-blank answer of the ``scores`` columns (module doc, point 3)."""
    questions: list[tuple[str, str]] = []
    for column, metric in source.scores.items():
        found = _find(column, staged.columns)
        if found is None:
            shown = ", ".join(staged.columns[:20]) + (", ..." if len(staged.columns) > 20 else "")
            raise IngestError(f"score column '{column}' is not in the file (found: {shown})",
                              file=staged.file)
        questions.append((found, metric.strip().lower()))
    clash = [c for c in staged.columns + staged.derived
             if c.lower() in LONG_COLUMNS and c not in dict(questions)]
    if clash:
        raise IngestError(f"the file has its own '{clash[0]}' column, which the score columns "
                          f"would fill; rename it with --map-column '{clash[0]}=...'",
                          file=staged.file)
    staged.hidden = {q for q, _ in questions}
    rest = [c for c in staged.columns + staged.derived if c not in staged.hidden]
    comment = resolve_columns(kind, rest, source).fields.get("comment")
    t = quote_ident(staged.table)
    params: dict[str, object] = {"num": _LEADING_NUMBER}
    parts = []
    for i, (column, metric) in enumerate(questions):
        params[f"m{i}"], params[f"q{i}"] = metric, column
        v = f"CAST(s.{quote_ident(column)} AS VARCHAR)"
        parts.append(f"SELECT s.*, $m{i} AS metric, "
                     f"coalesce(nullif(regexp_extract({v}, $num, 1), ''), {v}) AS score, "
                     f"$q{i} AS question, {i} AS _q FROM {t} AS s "
                     f"WHERE NULLIF(trim({v}), '') IS NOT NULL")
    long_t = quote_ident(staged.table + "_long")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {long_t} AS "
                f"SELECT * FROM ({' UNION ALL '.join(parts)}) ORDER BY _row, _q", params)
    if comment is not None:  # the comment goes with the response's first answer
        c = quote_ident(comment)
        con.execute(f"""UPDATE {long_t} AS l SET {c} = NULL FROM (
            SELECT _row, min(_q) AS first FROM {long_t} GROUP BY _row) AS f
            WHERE l._row = f._row AND l._q <> f.first""")
    responses, answered, answers = (int(x) for x in con.execute(
        f"SELECT (SELECT count(*) FROM {t}), count(DISTINCT _row), count(*) FROM {long_t}"
    ).fetchone() or (0, 0, 0))
    blank = responses * len(questions) - answers
    con.execute(f"DROP TABLE {t}")
    con.execute(f"ALTER TABLE {long_t} RENAME TO {t}")
    staged.derived += [c for c in LONG_COLUMNS if c not in staged.derived]
    staged.questions = [q for q, _ in questions]
    mapped = ", ".join(f"{q} -> {m}" for q, m in questions)
    note = (f"{staged.file}: {responses:,} responses, {answers:,} answers ({mapped}); "
            f"{blank:,} blank answers skipped")
    if responses > answered:
        none = responses - answered
        note += f"; {none:,} response{'s' if none != 1 else ''} answered none of them"
    staged.notes.append(note)
