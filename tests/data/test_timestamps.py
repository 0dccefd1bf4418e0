"""Timestamp parsing: formats, time zones, day/month order, ISO/epoch round trips."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeymap.data.timestamps import infer_day_first, timestamp_sql

UTC = dt.UTC


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    yield c
    c.close()


def parse(con: duckdb.DuckDBPyConnection, value: str, tz: str = "UTC",
          day_first: bool = True) -> dt.datetime | None:
    params: dict[str, object] = {"v": value}
    tz_param = None
    if tz != "UTC":
        params["tz"], tz_param = tz, "tz"
    sql = timestamp_sql("CAST($v AS VARCHAR)", day_first=day_first, tz_param=tz_param,
                        format_param=None)
    row = con.execute(f"SELECT {sql}", params).fetchone()
    return row[0] if row else None


T = dt.datetime(2024, 3, 5, 10, 0)


@pytest.mark.parametrize("value,expected", [
    ("2024-03-05T10:00:00Z", T),
    ("2024-03-05T12:00:00+02:00", T),
    ("2024-03-05T12:00:00+0200", T),
    ("2024-03-05 10:00:00", T),
    ("2024-03-05 10:00", T),
    ("2024-03-05T10:00:00.250", T.replace(microsecond=250000)),
    ("2024-03-05", dt.datetime(2024, 3, 5)),
    ("05/03/2024 10:00", T),
    ("05.03.2024 10:00", T),
    ("2024/03/05 10:00:00", T),
    ("Tue, 05 Mar 2024 10:00:00 +0000", T),
    ("Tue, 05 Mar 2024 11:00:00 +0100", T),
    ("1709632800", T),
    ("1709632800000", T),
    ("1709632800.5", T.replace(microsecond=500000)),
    ("not a date", None),
    ("", None),
])
def test_formats(con: duckdb.DuckDBPyConnection, value: str, expected: dt.datetime | None) -> None:
    assert parse(con, value) == expected


def test_month_first_with_am_pm(con: duckdb.DuckDBPyConnection) -> None:
    assert parse(con, "03/05/2024 10:00 AM", day_first=False) == T


def test_source_time_zone_applies_to_naive_values_only(con: duckdb.DuckDBPyConnection) -> None:
    assert parse(con, "2024-03-05 11:00", tz="Europe/Berlin") == T
    assert parse(con, "2024-07-05 12:00", tz="Europe/Berlin") == dt.datetime(2024, 7, 5, 10)
    assert parse(con, "2024-03-05T10:00:00Z", tz="Europe/Berlin") == T
    assert parse(con, "1709632800", tz="America/New_York") == T


@pytest.mark.parametrize("values,day_first", [
    (["05/03/2024", "25/03/2024"], True),      # 25 proves day-first
    (["03/05/2024", "03/25/2024"], False),     # 25 proves month-first
    (["03/05/2024", "04/06/2024"], True),      # ambiguous: day-first
    (["13/01/2024", "01/13/2024"], True),      # one each: tie, day-first
])
def test_infer_day_first(con: duckdb.DuckDBPyConnection, values: list[str],
                         day_first: bool) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE d (v VARCHAR)")
    con.executemany("INSERT INTO d VALUES (?)", [[v] for v in values])
    assert infer_day_first(con, "d", "v") is day_first


aware = st.datetimes(min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2099, 12, 30),
                     timezones=st.sampled_from([UTC, dt.timezone(dt.timedelta(hours=2)),
                                                dt.timezone(dt.timedelta(hours=-5, minutes=-30)),
                                                dt.timezone(dt.timedelta(hours=14))]))


@settings(max_examples=150, deadline=None)
@given(aware)
def test_iso_round_trip(con: duckdb.DuckDBPyConnection, when: dt.datetime) -> None:
    expected = when.astimezone(UTC).replace(tzinfo=None)
    assert parse(con, when.isoformat()) == expected
    assert parse(con, when.isoformat().replace("+00:00", "Z")) == expected


@settings(max_examples=150, deadline=None)
@given(aware)
def test_epoch_round_trip(con: duckdb.DuckDBPyConnection, when: dt.datetime) -> None:
    when = when.replace(microsecond=when.microsecond // 1000 * 1000)
    expected = when.astimezone(UTC).replace(tzinfo=None)
    millis = round(when.timestamp() * 1000)
    if abs(millis) >= 10**11:
        assert parse(con, str(millis)) == expected
    seconds = when.replace(microsecond=0)
    assert parse(con, str(int(seconds.timestamp()))) == \
        seconds.astimezone(UTC).replace(tzinfo=None)
