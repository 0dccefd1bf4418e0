"""Timestamp parsing as one set-based DuckDB expression (no Python loop per row).

Accepted, in this order:

1. epoch numbers: seconds, or milliseconds when ``|value| >= 1e11`` (by magnitude:
   1e11 seconds is the year 5138, 1e11 ms is 1973);
2. ISO 8601 / ``YYYY-MM-DD HH:MM[:SS[.fff]]`` with a zone (``Z``, ``+02``,
   ``+02:00``, ``+0200``, ``UTC``, an IANA name) and RFC 2822
   (``Tue, 05 Mar 2024 10:00:00 +0000``) -- converted from their own offset;
3. zone-less ISO dates and date-times and common export formats
   (``%d/%m/%Y %H:%M``, ``%m/%d/%Y %I:%M %p``, ``%d.%m.%Y %H:%M``, ``%Y/%m/%d %H:%M:%S``
   and their variants with or without seconds or time) -- read in the source time zone.

Slash dates are ambiguous (``03/05/2024``).  :func:`infer_day_first` decides per file:
whichever order parses more values wins; on a tie, month-first only when some value
proves it (second number > 12) and none proves day-first, else day-first.  An explicit
``timestamp_format`` replaces all of this.  The result is a naive TIMESTAMP in UTC.
"""

from __future__ import annotations

import duckdb

_EPOCH_RE = r"^-?\d{1,14}(\.\d+)?$"
_ISO_AWARE_RE = (r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?\s*"
                 r"(Z|[+-]\d{2}(:?\d{2})?|UTC|GMT|[A-Za-z_]+/[A-Za-z_/+\-0-9]+)$")
_ISO_NAIVE_RE = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$"
_RFC_RE = r"^([A-Za-z]{3},\s*)?\d{1,2} [A-Za-z]{3} \d{4} \d{2}:\d{2}(:\d{2})? "
_SLASH_RE = r"^\d{1,2}/\d{1,2}/\d{4}"

RFC_FORMATS = ("%a, %d %b %Y %H:%M:%S %z", "%d %b %Y %H:%M:%S %z",
               "%a, %d %b %Y %H:%M %z", "%d %b %Y %H:%M %z")


def _slash(order: str) -> list[str]:
    d = "%d/%m/%Y" if order == "dmy" else "%m/%d/%Y"
    return [f"{d} %H:%M:%S", f"{d} %H:%M", f"{d} %I:%M:%S %p", f"{d} %I:%M %p",
            f"{d} %H:%M:%S.%f", d]


OTHER_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y",
                 "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")


def _list(formats: list[str] | tuple[str, ...]) -> str:
    # Only our own constant formats are written into SQL text; never user text.
    return "[" + ", ".join("'" + f + "'" for f in formats) + "]"


def format_problem(fmt: str) -> str | None:
    """Why ``fmt`` is no strptime format DuckDB can read timestamps with; None when it is
    one.  (DuckDB would raise at the first row, in the middle of an ingest.)"""
    if "%" not in fmt:
        return "it has no % directive (e.g. '%d/%m/%Y %H:%M')"
    con = duckdb.connect()
    try:
        con.execute("SELECT try_strptime('', $f)", {"f": fmt})
    except duckdb.Error as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        reason = text.split(": ", 1)[-1].rstrip(": ")
        return reason[:1].lower() + reason[1:]
    finally:
        con.close()
    return None


def timestamp_sql(value: str, *, day_first: bool, tz_param: str | None,
                  format_param: str | None, aware_format: bool = False) -> str:
    """A SQL expression turning VARCHAR ``value`` (an SQL expression) into UTC TIMESTAMP.

    ``tz_param``: name of the parameter holding the source time zone (None: UTC).
    ``format_param``: name of the parameter holding an explicit strptime format;
    ``aware_format`` says whether that format carries ``%z``.
    NULL where the value does not parse.
    """
    t = f"trim({value})"

    def local(naive: str) -> str:
        if tz_param is None:
            return naive
        return f"timezone('UTC', timezone(${tz_param}, {naive}))"

    if format_param is not None:
        f = f"${format_param}"
        if aware_format:
            return f"timezone('UTC', try_strptime({t}, {f}))"
        return local(f"try_strptime({t}, {f})::TIMESTAMP")
    order = "dmy" if day_first else "mdy"
    naive_formats = _list(_slash(order) + list(OTHER_FORMATS))
    epoch = (f"make_timestamp(CAST(round(CAST({t} AS DOUBLE) * "
             f"CASE WHEN abs(CAST({t} AS DOUBLE)) >= 1e11 THEN 1e3 ELSE 1e6 END) AS BIGINT))")
    rfc = (f"timezone('UTC', try_strptime(regexp_replace({t}, ' (GMT|UTC|UT)$', ' +0000'), "
           f"{_list(RFC_FORMATS)}))")
    return (f"CASE WHEN {t} IS NULL OR {t} = '' THEN NULL "
            f"WHEN regexp_matches({t}, '{_EPOCH_RE}') THEN {epoch} "
            f"WHEN regexp_matches({t}, '{_ISO_AWARE_RE}') "
            f"THEN timezone('UTC', TRY_CAST(replace({t}, ',', '.') AS TIMESTAMPTZ)) "
            f"WHEN regexp_matches({t}, '{_ISO_NAIVE_RE}') "
            f"THEN {local(f'TRY_CAST({t} AS TIMESTAMP)')} "
            f"WHEN regexp_matches({t}, '{_RFC_RE}') THEN {rfc} "
            f"ELSE {local(f'try_strptime({t}, {naive_formats})::TIMESTAMP')} END")


def infer_day_first(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    """Decide for one staged file whether slash dates are day-first (see module doc).

    ``table`` and ``column`` must already be quoted identifiers.
    """
    t = f"trim({column})"
    dmy, mdy = _list(_slash("dmy")), _list(_slash("mdy"))
    row = con.execute(
        f"SELECT count(try_strptime({t}, {dmy})), count(try_strptime({t}, {mdy})), "
        f"count(*) FILTER (WHERE TRY_CAST(split_part({t}, '/', 1) AS INTEGER) > 12), "
        f"count(*) FILTER (WHERE TRY_CAST(split_part({t}, '/', 2) AS INTEGER) > 12) "
        f"FROM {table} WHERE regexp_matches({t}, '{_SLASH_RE}')").fetchone()
    if row is None:
        return True
    n_dmy, n_mdy, proves_dmy, proves_mdy = row
    if n_dmy != n_mdy:
        return bool(n_dmy > n_mdy)
    return not (proves_mdy > 0 and proves_dmy == 0)
