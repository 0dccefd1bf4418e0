"""Lines longer than the readers' limit: set aside exactly where DuckDB would give up."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from journeymap.data.long_lines import find_long_lines, long_line_reason, without_long_lines
from journeymap.data.readers import read_file
from journeymap.errors import IngestError

Write = Callable[[str, str | bytes], Path]
LIMIT = 256  # a small max_line_size, so that the boundaries are cheap to test


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect(config={"temp_directory": str(tmp_path / "spill")})
    yield c
    c.close()


def _line(size: int, prefix: str = "c1,2024-01-01,") -> str:
    return prefix + "x" * (size - len(prefix))


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("size", [LIMIT - 3, LIMIT - 2, LIMIT - 1, LIMIT, 3 * LIMIT])
def test_a_line_duckdb_would_refuse_is_set_aside_and_the_rest_reads(
        size: int, newline: str, con: duckdb.DuckDBPyConnection, write: Write) -> None:
    lines = ["customer_id,timestamp,event", "c1,2024-01-01,a", _line(size), "c1,2024-01-02,b"]
    path = write("e.csv", newline.join(lines) + newline)
    staged = read_file(con, path, None, "st", max_line_bytes=LIMIT)  # never raises
    good = con.execute("SELECT _row, event FROM st ORDER BY _row").fetchall()
    rejected = con.execute("SELECT _row, reason, raw FROM st_rejects").fetchall()
    if size <= LIMIT - 2:  # what DuckDB reads with either line break
        assert good == [(1, "a"), (2, "x" * (size - 14)), (3, "b")] and rejected == []
    else:
        assert good == [(1, "a"), (3, "b")]
        assert rejected == [(2, long_line_reason(LIMIT), json.dumps(lines[2]))]
    assert staged.columns == ["customer_id", "timestamp", "event"]


def test_spans_count_lines_and_find_the_last_line_without_a_break(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"a\r\n" + b"x" * 300 + b"\r\nb\n\n" + b"y" * 255 + b"\n" + b"z" * 400)
    assert find_long_lines(path, LIMIT) == [(2, 3, 303), (5, 308, 563), (6, 564, 964)]
    old_mac = tmp_path / "b.txt"  # \r alone breaks lines: numbers count them
    old_mac.write_bytes(b"a\r" + b"x" * 300 + b"\rb\r")
    assert find_long_lines(old_mac, LIMIT) == [(2, 2, 302)]


def test_the_copy_keeps_every_other_line_and_is_removed(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"a":1}\n{"a":"' + "x" * 400 + '"}\n{"a":3}\n')
    with without_long_lines(path, LIMIT, str(tmp_path / "scratch")) as (source, found):
        assert source != path
        assert source.read_text() == '{"a":1}\n\n{"a":3}\n'
        assert [(f.line, f.size) for f in found] == [(2, 408)]
    assert list((tmp_path / "scratch").iterdir()) == []
    with without_long_lines(path, 4096, None) as (source, found):
        assert source == path and found == []


def test_json_lines_keep_their_numbers(con: duckdb.DuckDBPyConnection, write: Write) -> None:
    path = write("e.jsonl", '{"a":1}\n{"a":"' + "x" * 400 + '"}\n\n{"a":4}\n{"a":\n{"a":6}\n')
    read_file(con, path, None, "st", max_line_bytes=LIMIT)
    assert con.execute("SELECT _row, a FROM st ORDER BY _row").fetchall() == [
        (1, "1"), (4, "4"), (6, "6")]
    assert con.execute("SELECT _row, reason FROM st_rejects ORDER BY _row").fetchall() == [
        (2, "line longer than 256 bytes"), (5, "invalid JSON")]


def test_an_over_long_header_is_a_one_line_error(con: duckdb.DuckDBPyConnection,
                                                 write: Write) -> None:
    path = write("e.csv", "customer_id," + "h" * 300 + "\nc1,a\n")
    with pytest.raises(IngestError, match="the header is a line longer than 256 bytes") as err:
        read_file(con, path, None, "st", max_line_bytes=LIMIT)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_the_system_temp_folder_when_duckdb_has_none_of_its_own(write: Write) -> None:
    con = duckdb.connect()  # temp_directory '.tmp': relative, so not used
    path = write("e.csv", "a,b\n1," + "x" * 400 + "\n2,3\n")
    before = set(Path(tempfile.gettempdir()).glob("journeymap-lines-*"))
    read_file(con, path, None, "st", max_line_bytes=LIMIT)
    assert con.execute("SELECT a, b FROM st").fetchall() == [("2", "3")]
    assert set(Path(tempfile.gettempdir()).glob("journeymap-lines-*")) == before
    con.close()


def test_reasons_name_the_limit() -> None:
    assert long_line_reason(64 * 1024 * 1024) == "line longer than 64 MiB"
    assert long_line_reason(1 << 30) == "line longer than 1 GiB"
    assert long_line_reason(1000) == "line longer than 1,000 bytes"
