"""Readers: each format becomes raw VARCHAR staging with exact record numbers."""

from __future__ import annotations

import datetime as dt

from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from journeymap.data.readers import read_file
from journeymap.errors import IngestError


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    yield c
    c.close()


def rows(con: duckdb.DuckDBPyConnection, table: str, cols: str) -> list[tuple[object, ...]]:
    return con.execute(f"SELECT {cols} FROM {table} ORDER BY _row").fetchall()


def test_csv_keeps_raw_text_and_numbers_rows(con: duckdb.DuckDBPyConnection,
                                             write: Callable[..., Path]) -> None:
    path = write("a.csv", 'a,b,c\n1,2,3\n4,5\n"x\ny",=SUM(A1),08\n9,10,11,12\n13,14,15\n')
    staged = read_file(con, path, None, "st")
    assert staged.columns == ["a", "b", "c"]
    assert rows(con, "st", "_row, a, b, c") == [
        (1, "1", "2", "3"), (3, "x\ny", "=SUM(A1)", "08"), (5, "13", "14", "15")]
    assert rows(con, "st_rejects", "_row, reason") == [
        (2, "wrong number of fields (expected 3, found 2)"),
        (4, "wrong number of fields (expected 3, found 4)")]
    assert con.execute("SELECT DISTINCT _file FROM st").fetchall() == [(str(path),)]


def test_tsv(con: duckdb.DuckDBPyConnection, write: Callable[..., Path]) -> None:
    path = write("a.tsv", "a\tb\n1,5\t2\n")
    read_file(con, path, None, "st")
    assert rows(con, "st", "_row, a, b") == [(1, "1,5", "2")]


def test_parquet_typed_columns_become_text_but_times_stay_times(
        con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "e.parquet"
    con.execute(f"""COPY (SELECT 'c' || i AS customer_id, i AS n,
        TIMESTAMP '2024-01-01 10:00:00' + INTERVAL (i) HOUR AS ts,
        TIMESTAMPTZ '2024-01-01 10:00:00+02' AS tz, DATE '2024-03-01' AS d,
        {{'plan': 'pro'}} AS props FROM range(3) t(i)) TO '{path}' (FORMAT parquet)""")
    staged = read_file(con, path, None, "st", kind="events")
    assert staged.columns == ["customer_id", "n", "ts", "tz", "d", "props"]
    # no text round trip: naive times are read in the source zone later, aware ones are UTC
    assert staged.typed == {"ts": "local", "tz": "utc", "d": "local"}
    assert rows(con, "st", "_row, customer_id, n, ts, tz, d, props")[2] == (
        3, "c2", "2", dt.datetime(2024, 1, 1, 12), dt.datetime(2024, 1, 1, 8),
        dt.datetime(2024, 3, 1), '{"plan":"pro"}')
    # customers' attributes are typed by their own inference: text, as from a CSV
    staged = read_file(con, path, None, "st2", kind="customers")
    assert staged.typed == {}
    assert rows(con, "st2", "ts")[2] == ("2024-01-01 12:00:00",)


def test_jsonl_rows_and_rejects(con: duckdb.DuckDBPyConnection,
                                write: Callable[..., Path]) -> None:
    path = write("a.jsonl", '{"a":1,"b":{"c":2}}\n{"a":\n\n"str"\n{"a":"x","d":true}\n')
    staged = read_file(con, path, None, "st")
    assert staged.columns == ["a", "b", "d"]
    assert rows(con, "st", "_row, a, b, d") == [(1, "1", '{"c":2}', None), (5, "x", None, "true")]
    assert rows(con, "st_rejects", "_row, reason") == [
        (2, "invalid JSON"), (4, "not a JSON object")]


SEGMENT_LINES = (
    '{"type":"track","userId":"u1","event":"Signed Up","timestamp":"2024-01-01T00:00:00Z",'
    '"messageId":"m1","properties":{"plan":"pro"},"context":{"channel":"web"}}\n'
    '{"type":"page","anonymousId":"a1","name":"Home","properties":{"url":"/"},'
    '"timestamp":"2024-01-01T00:00:01Z"}\n'
    '{"type":"screen","userId":"u1","name":"Settings","timestamp":"2024-01-01T00:00:02Z"}\n'
    '{"type":"identify","userId":"u1","traits":{"plan":"pro"}}\n'
    '{"type":"alias","userId":"u1"}\n'
)


def test_segment_lines(con: duckdb.DuckDBPyConnection, write: Callable[..., Path]) -> None:
    path = write("s.jsonl", SEGMENT_LINES)
    staged = read_file(con, path, "segment", "st")
    assert staged.fmt == "segment"
    got = rows(con, "st", "_row, _type, customer_id, event, channel, properties, message_id")
    assert got == [
        (1, "track", "u1", "Signed Up", "web", '{"plan":"pro"}', "m1"),
        (2, "page", "a1", "page_viewed", None, '{"name":"Home","url":"/"}', None),
        (3, "screen", "u1", "screen_viewed", None, '{"name":"Settings"}', None),
        (4, "identify", "u1", None, None, None, None)]
    assert rows(con, "st_rejects", "_row, reason") == [
        (5, "unsupported Segment call type 'alias'")]


def test_segment_batch_document(con: duckdb.DuckDBPyConnection,
                                write: Callable[..., Path]) -> None:
    calls = ",\n  ".join(SEGMENT_LINES.strip().splitlines()[:3])
    path = write("s.json", '{"batch": [\n  ' + calls + '\n], "sentAt": "2024-01-01"}\n')
    staged = read_file(con, path, None, "st")
    assert staged.fmt == "segment"
    assert rows(con, "st", "_row, event") == [
        (1, "Signed Up"), (2, "page_viewed"), (3, "screen_viewed")]


@pytest.mark.parametrize("name,fmt,message", [
    ("a.xlsx", None, "cannot tell the format"),
    ("a.csv", "xml", "unknown format"),
])
def test_format_errors(name: str, fmt: str | None, message: str,
                       con: duckdb.DuckDBPyConnection, write: Callable[..., Path]) -> None:
    with pytest.raises(IngestError, match=message):
        read_file(con, write(name, "a\n1\n"), fmt, "st")
