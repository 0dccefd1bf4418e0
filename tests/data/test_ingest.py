"""Ingest end to end: idempotence, overlap, order, mapping, customers, Segment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from journeymap.data.contracts import SourceConfig
from journeymap.data.event_pieces import compact, pieces
from journeymap.data.ingest import ingest
from journeymap.data.store import Store

EV = "customer_id,timestamp,event\n"


def count(store: Store, sql: str) -> object:
    row = store.con.execute(sql).fetchone()
    return row[0] if row else None


def test_same_file_twice_is_all_duplicates(store: Store, write: Callable[..., Path]) -> None:
    path = write("e.csv", EV + "c1,2024-01-01,a\nc2,2024-01-02,b\nc1,2024-01-03,c\n")
    first = ingest(store, "events", [path])
    second = ingest(store, "events", [path])
    assert (first.loaded, first.duplicates) == (3, 0)
    assert (second.loaded, second.duplicates, second.quarantined) == (0, 3, 0)
    assert count(store, "SELECT count(*) FROM event_log") == 3
    assert count(store, "SELECT count(*) FROM ingests") == 2


def test_overlapping_files_in_one_call_and_across_calls(store: Store,
                                                        write: Callable[..., Path]) -> None:
    a = write("a.csv", EV + "c1,2024-01-01,a\nc1,2024-01-02,b\n")
    b = write("b.csv", EV + "c1,2024-01-02,b\nc2,2024-01-03,c\n")
    c = write("c.csv", EV + "c2,2024-01-03,c\nc3,2024-01-04,d\n")
    r1 = ingest(store, "events", [a, b])
    assert (r1.rows_read, r1.loaded, r1.duplicates) == (4, 3, 1)
    r2 = ingest(store, "events", [c])
    assert (r2.loaded, r2.duplicates) == (1, 1)


def assert_journeys_whole(rows: list[tuple[object, ...]]) -> None:
    """Rows in stored order: every customer's rows stand together, sorted (ADR 0018)."""
    seen: set[object] = set()
    for i, row in enumerate(rows):
        if i and rows[i - 1][0] == row[0]:
            assert rows[i - 1] <= row, (rows[i - 1], row)
        else:
            assert row[0] not in seen, f"customer {row[0]} in two places"
            seen.add(row[0])


def test_event_log_physically_ordered_after_several_ingests(
        store: Store, write: Callable[..., Path]) -> None:
    ingest(store, "events", [write("a.csv", EV + "c2,2024-01-05,z\nc1,2024-01-03,b\n")])
    ingest(store, "events", [write("b.csv", EV + "c1,2024-01-01,a\nc3,2024-01-02,y\n"
                                                 "c1,2024-01-03,a\n")])
    ingest(store, "events", [write("c.csv", EV + "c0,2024-02-01,q\nc2,2024-01-04,a\n")])
    got = store.con.execute("SELECT customer_id, timestamp, event_id FROM event_log "
                            "ORDER BY rowid").fetchall()
    # the last load was appended as a piece: each customer's events together, in order
    assert pieces(store.con)["appends"] == 1
    assert_journeys_whole(got)
    assert got != sorted(got)
    assert len(got) == 7
    assert compact(store.con).how == "merged"
    merged = store.con.execute("SELECT customer_id, timestamp, event_id FROM event_log "
                               "ORDER BY rowid").fetchall()
    assert merged == sorted(got) and pieces(store.con)["appends"] == 0
    names = store.con.execute("SELECT event_id, event FROM event_names ORDER BY 1").fetchall()
    assert [n for _, n in names][:2] == ["b", "z"]      # ids assigned in order of first load
    assert count(store, "SELECT count(*) FROM events WHERE event = 'a'") == 3


def test_same_timestamp_keeps_file_row_then_ingest_order(
        store: Store, write: Callable[..., Path]) -> None:
    """Ties are ordered as given: by row within a file, by file within a call, then by
    call — never by the event's name or id."""
    ingest(store, "events", [write("a.csv", EV + "c1,2024-01-01 10:00,zeta\n"
                                                 "c1,2024-01-01 10:00,alpha\n"),
                             write("b.csv", EV + "c1,2024-01-01 10:00,mid\n")])
    ingest(store, "events", [write("c.csv", EV + "c1,2024-01-01 10:00,aaa\n"
                                                 "c1,2024-01-01 09:00,first\n")])
    got = [r[0] for r in store.con.execute(
        "SELECT n.event FROM event_log AS l JOIN event_names AS n USING (event_id) "
        "ORDER BY l.rowid").fetchall()]
    assert got == ["first", "zeta", "alpha", "mid", "aaa"]


def test_store_without_source_order_gets_it(tmp_path: Path, write: Callable[..., Path]) -> None:
    """A store written before ``_seq`` existed opens, keeps its rows and their order,
    and orders what comes after them."""
    path = tmp_path / "old.duckdb"
    with Store(path) as s:
        ingest(s, "events", [write("a.csv", EV + "c1,2024-01-01,b\nc1,2024-01-01,a\n")])
        s.con.execute("ALTER TABLE event_log DROP COLUMN _seq")
    with Store(path) as s:
        ingest(s, "events", [write("b.csv", EV + "c1,2024-01-01,c\n")])
        got = s.con.execute("SELECT n.event, l._seq >> 40 FROM event_log AS l "
                            "JOIN event_names AS n USING (event_id) ORDER BY l.rowid").fetchall()
    # the old rows keep the order they were stored in (ties by event id: a, b)
    assert got == [("a", 1), ("b", 1), ("c", 2)]


def test_crm_export_with_mapping(store: Store, write: Callable[..., Path]) -> None:
    path = write("crm.csv", "Contact ID,Event Time,Activity,Owner,Deal Stage\n"
                            "C-1,05/03/2024 14:30,Demo booked,ann,qualified\n"
                            "C-2,25/03/2024 09:00,Call,bob,\n")
    source = SourceConfig(columns={"Activity": "event"}, timezone="Europe/Berlin")
    report = ingest(store, "events", [path], source=source)
    assert report.loaded == 2
    got = store.con.execute("SELECT customer_id, CAST(timestamp AS VARCHAR), event, properties "
                            "FROM events ORDER BY customer_id").fetchall()
    assert got == [("C-1", "2024-03-05 13:30:00", "Demo booked",
                    '{"Owner":"ann","Deal Stage":"qualified"}'),
                   ("C-2", "2024-03-25 08:00:00", "Call", '{"Owner":"bob"}')]


def test_explicit_timestamp_format(store: Store, write: Callable[..., Path]) -> None:
    path = write("e.csv", EV + "c1,03/05/2024 10:00,a\n")
    ingest(store, "events", [path], source=SourceConfig(timestamp_format="%m/%d/%Y %H:%M"))
    assert count(store, "SELECT CAST(timestamp AS VARCHAR) FROM event_log") == \
        "2024-03-05 10:00:00"


def test_customers_upsert_types_and_mismatch(store: Store, write: Callable[..., Path]) -> None:
    a = write("a.csv", "Customer ID,Company Size,zip,vip,since,score\n"
                       "c1,10,01234,true,2023-01-05,1.5\nc2,250,02000,false,2022-12-31,2\n")
    r1 = ingest(store, "customers", [a])
    assert (r1.loaded, r1.updated, r1.duplicates) == (2, 0, 0)
    types = dict(store.con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                   "WHERE table_name = 'customers'").fetchall())
    assert (types["company_size"], types["zip"], types["vip"], types["since"],
            types["score"]) == ("BIGINT", "VARCHAR", "BOOLEAN", "DATE", "DOUBLE")
    b = write("b.csv", "customer_id,company_size,plan\nc1,12,pro\nc2,many,free\n"
                       "c3,,free\nc2,250,\n")
    r2 = ingest(store, "customers", [b])
    assert (r2.loaded, r2.updated, r2.quarantined, r2.duplicates) == (1, 1, 1, 1)
    assert r2.examples == [f"{b}:row 2: company_size: does not fit column type BIGINT"]
    got = store.con.execute("SELECT customer_id, company_size, zip, plan FROM customers "
                            "ORDER BY 1").fetchall()
    assert got == [("c1", 12, "01234", "pro"), ("c2", 250, "02000", None),
                   ("c3", None, None, "free")]
    r3 = ingest(store, "customers", [b])
    assert (r3.loaded, r3.updated, r3.duplicates) == (0, 0, 3)


def test_segment_events_send_identify_to_customers(store: Store,
                                                   write: Callable[..., Path]) -> None:
    path = write("s.jsonl",
                 '{"type":"identify","userId":"u1","traits":{"plan":"pro","seats":3}}\n'
                 '{"type":"track","userId":"u1","event":"Signed Up","messageId":"m1",'
                 '"timestamp":"2024-01-01T00:00:00Z"}\n'
                 '{"type":"page","anonymousId":"a9","timestamp":"2024-01-01T00:01:00Z",'
                 '"properties":{"url":"/pricing"}}\n')
    report = ingest(store, "events", [path])
    assert (report.rows_read, report.loaded) == (3, 2)
    assert any("1 identify calls went to customers (1 new" in n for n in report.notes)
    assert store.con.execute("SELECT customer_id, plan, seats FROM customers").fetchall() == [
        ("u1", "pro", 3)]
    assert store.con.execute("SELECT event FROM events ORDER BY timestamp").fetchall() == [
        ("Signed Up",), ("page_viewed",)]
    again = ingest(store, "events", [path])
    assert (again.loaded, again.duplicates) == (0, 2)


def test_segment_customers_kind(store: Store, write: Callable[..., Path]) -> None:
    path = write("s.jsonl", '{"type":"identify","userId":"u1","traits":{"plan":"pro"}}\n'
                            '{"type":"track","userId":"u1","event":"x","timestamp":"2024-01-01"}\n')
    report = ingest(store, "customers", [path], fmt="segment")
    assert report.loaded == 1
    assert store.con.execute("SELECT plan FROM customers").fetchall() == [("pro",)]


def test_feedback_transactions_transcripts_keep_extras(store: Store,
                                                       write: Callable[..., Path]) -> None:
    f = write("f.csv", "customer_id,timestamp,metric,score,survey\nc1,2024-01-01,csat,4,q1\n")
    t = write("t.csv", "customer_id,timestamp,amount,order_id,sku\nc1,2024-01-01,9.5,o1,A\n"
                       "c1,2024-01-02,9.5,o1,A\n")
    x = write("x.csv", "customer_id,timestamp,text,speaker\nc1,2024-01-01,hello,agent\n")
    assert ingest(store, "feedback", [f]).loaded == 1
    rt = ingest(store, "transactions", [t])
    assert (rt.loaded, rt.duplicates) == (1, 1)                 # same order_id
    assert ingest(store, "transcripts", [x]).loaded == 1
    assert count(store, "SELECT extra FROM feedback") == '{"survey":"q1"}'
    assert count(store, "SELECT extra FROM transactions") == '{"sku":"A"}'


def test_parquet_and_jsonl_ingest(store: Store, tmp_path: Path,
                                  write: Callable[..., Path]) -> None:
    path = tmp_path / "e.parquet"
    store.con.execute(f"""COPY (SELECT 'c' || (i % 3) AS customer_id,
        TIMESTAMPTZ '2024-01-01 10:00:00+00' + INTERVAL (i) MINUTE AS timestamp,
        'e' || (i % 2) AS event FROM range(10) t(i)) TO '{path}' (FORMAT parquet)""")
    assert ingest(store, "events", [path]).loaded == 10
    j = write("e.jsonl", '{"customer_id":"c0","timestamp":"2024-01-01T10:00:00Z","event":"e0"}\n')
    assert ingest(store, "events", [j]).duplicates == 1


def test_parquet_times_typed_read_in_the_source_zone(store: Store, tmp_path: Path,
                                                     write: Callable[..., Path]) -> None:
    """Naive Parquet timestamps and dates are local times of --timezone, as text ones
    are; an out-of-range one is quarantined; the keys equal a CSV's of the same rows."""
    path = tmp_path / "naive.parquet"
    store.con.execute(f"""COPY (SELECT * FROM (VALUES
        ('c1', TIMESTAMP '2024-07-01 12:00:00', 'a'), ('c1', NULL, 'b'),
        ('c2', TIMESTAMP '1850-01-01 00:00:00', 'a')) t(customer_id, timestamp, event))
        TO '{path}' (FORMAT parquet)""")
    r = ingest(store, "events", [path], source=SourceConfig(timezone="Europe/Paris"))
    assert (r.loaded, r.quarantined) == (1, 2)
    assert r.by_reason == {"missing required value": 1, "timestamp out of range 1900-2099": 1}
    assert str(count(store, "SELECT timestamp FROM event_log")) == "2024-07-01 10:00:00"
    csv = write("same.csv", EV + "c1,2024-07-01 12:00:00,a\n")
    assert ingest(store, "events", [csv], source=SourceConfig(timezone="Europe/Paris")).duplicates == 1
    dates = tmp_path / "dates.parquet"
    store.con.execute(f"""COPY (SELECT 'c3' AS customer_id, DATE '2024-02-01' AS day, 'a' AS event)
        TO '{dates}' (FORMAT parquet)""")
    assert ingest(store, "events", [dates], source=SourceConfig(columns={"day": "timestamp"})).loaded == 1
    assert str(count(store, "SELECT timestamp FROM event_log WHERE customer_id = 'c3'")) == "2024-02-01 00:00:00"


def test_status(store: Store, write: Callable[..., Path]) -> None:
    ingest(store, "events", [write("e.csv", EV + "c1,2024-01-01,a\n,2024-01-02,b\n"
                                                 "c2,2024-01-03T05:00:00Z,a\n")])
    status = store.status()
    assert status["tables"]["events"] == {
        "rows": 2, "customers": 2, "time_range": ["2024-01-01T00:00:00Z", "2024-01-03T05:00:00Z"],
        "event_names": 1, "pieces": status["tables"]["events"]["pieces"]}
    assert status["tables"]["events"]["pieces"]["appends"] == 0
    assert status["tables"]["events"]["pieces"]["pieces"] == 1
    assert status["quarantine"] == {"rows": 1,
                                    "by_kind": {"events": {"missing required value": 1}}}
    assert status["ingests"] == 1


def test_progress_reports_each_phase(store: Store, write: Callable[..., Path]) -> None:
    seen: list[str] = []
    ingest(store, "events", [write("e.csv", EV + "c1,2024-01-01,a\n")],
           progress=lambda d, c, t: seen.append(d.split()[0]))
    assert seen == ["read", "validate", "dedupe", "write", "write"]


def test_unknown_kind(store: Store, write: Callable[..., Path]) -> None:
    from journeymap.errors import IngestError
    with pytest.raises(IngestError, match="unknown kind"):
        ingest(store, "orders", [write("e.csv", EV)])
