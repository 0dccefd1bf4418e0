"""Table-driven malformed inputs: what loads, what is quarantined, and why (row, field)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from journeymap.data.ingest import ingest
from journeymap.data.long_lines import MAX_LINE_BYTES
from journeymap.data.store import Store
from journeymap.errors import IngestError

EV = "customer_id,timestamp,event\n"
LONG = "x" * MAX_LINE_BYTES  # one field longer than any line the readers take


def jl(*records: Any) -> str:
    """JSON lines: dicts are dumped, strings written as they are."""
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def ev(cid: Any = "c1", ts: Any = "2024-01-01", event: Any = "a", **more: Any) -> dict[str, Any]:
    return {"customer_id": cid, "timestamp": ts, "event": event, **more}


def fb(score: Any, metric: Any = "csat", cid: Any = "c1") -> dict[str, Any]:
    return {"customer_id": cid, "timestamp": "2024-01-01", "metric": metric, "score": score}


@dataclass(frozen=True)
class Case:
    id: str
    name: str
    content: str | bytes
    kind: str
    loaded: int
    quarantined: int = 0
    duplicates: int = 0
    reason: str | None = None      # expected reason of the first quarantined row
    field: str | None = None
    row: int | None = None


CASES = [
    Case("missing-customer-column-value", "e.csv", EV + "c1,2024-01-01,a\n,2024-01-01,b\n",
         "events", 1, 1, 0, "missing required value", "customer_id", 2),
    Case("blank-customer-id", "e.csv", EV + "   ,2024-01-01,a\nc1,2024-01-01,b\n",
         "events", 1, 1, 0, "missing required value", "customer_id", 1),
    Case("unparseable-timestamp", "e.csv", EV + "c1,yesterday,a\nc1,2024-01-01,b\n",
         "events", 1, 1, 0, "unparseable timestamp", "timestamp", 1),
    Case("impossible-date", "e.csv", EV + "c1,2024-02-30,a\nc1,2024-01-01,b\n",
         "events", 1, 1, 0, "unparseable timestamp", "timestamp", 1),
    Case("year-9999", "e.csv", EV + "c1,9999-12-31,a\nc1,2024-01-01,b\n",
         "events", 1, 1, 0, "timestamp out of range 1900-2099", "timestamp", 1),
    Case("negative-epoch-loads", "e.csv", EV + "c1,-86400,a\n", "events", 1),
    Case("nps-11", "f.csv", "customer_id,timestamp,metric,score\nc1,2024-01-01,nps,11\n"
         "c1,2024-01-01,nps,9\n", "feedback", 1, 1, 0, "nps score must be an integer 0-10",
         "score", 1),
    Case("nps-fraction", "f.csv", "customer_id,timestamp,metric,score\nc1,2024-01-01,NPS,7.5\n"
         "c1,2024-01-01,nps,9\n", "feedback", 1, 1, 0, "nps score must be an integer 0-10",
         "score", 1),
    Case("csat-0", "f.csv", "customer_id,timestamp,metric,score\nc1,2024-01-01,csat,0\n"
         "c1,2024-01-01,csat,5\n", "feedback", 1, 1, 0, "csat score must be 1-5", "score", 1),
    Case("ces-8", "f.csv", "customer_id,timestamp,metric,score\nc1,2024-01-01,csat,4\n"
         "c1,2024-01-01,ces,8\n", "feedback", 1, 1, 0, "ces score must be 1-7", "score", 2),
    Case("score-abc", "f.csv", "customer_id,timestamp,metric,score\nc1,2024-01-01,csat,abc\n"
         "c1,2024-01-01,effort,42.5\n", "feedback", 1, 1, 0, "not a number", "score", 1),
    Case("amount-with-currency-sign", "t.csv", "customer_id,timestamp,amount\n"
         "c1,2024-01-01,\"12,50€\"\nc1,2024-01-02,12.50\n", "transactions", 1, 1, 0,
         "not a number", "amount", 1),
    Case("ragged-csv-row", "e.csv", EV + "c1,2024-01-01,a\nc1,2024-01-01\nc1,2024-01-02,b\n",
         "events", 2, 1, 0, "wrong number of fields (expected 3, found 2)", None, 2),
    Case("too-many-fields", "e.csv", EV + "c1,2024-01-01,a,x\nc1,2024-01-02,b\n",
         "events", 1, 1, 0, "wrong number of fields (expected 3, found 4)", None, 1),
    Case("broken-json-line", "e.jsonl",
         '{"customer_id":"c1","timestamp":"2024-01-01","event":"a"}\n{"customer_id":\n'
         '{"customer_id":"c2","timestamp":"2024-01-01","event":"a"}\n', "events", 2, 1, 0,
         "invalid JSON", None, 2),
    Case("json-not-object", "e.jsonl",
         '[1,2]\n{"customer_id":"c1","timestamp":"2024-01-01","event":"a"}\n', "events", 1, 1,
         0, "not a JSON object", None, 1),
    Case("over-long-event-name", "e.csv", EV + f"c1,2024-01-01,{'x' * 201}\nc1,2024-01-01,b\n",
         "events", 1, 1, 0, "longer than 200 characters", "event", 1),
    Case("over-long-customer-id", "e.csv", EV + f"{'c' * 257},2024-01-01,a\nc1,2024-01-01,b\n",
         "events", 1, 1, 0, "longer than 256 characters", "customer_id", 1),
    Case("properties-not-json", "e.csv", "customer_id,timestamp,event,properties\n"
         "c1,2024-01-01,a,{plan: pro}\nc1,2024-01-01,b,\"{\"\"plan\"\":\"\"pro\"\"}\"\n",
         "events", 1, 1, 0, "not a JSON object", "properties", 1),
    Case("duplicate-row-in-file", "e.csv", EV + "c1,2024-01-01,a\nc1,2024-01-01,a\n",
         "events", 1, 0, 1),
    Case("formula-kept-verbatim", "f.csv", "customer_id,timestamp,metric,score,comment\n"
         "c1,2024-01-01,csat,4,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\n", "feedback", 1),
    Case("bom-header", "e.csv", "\ufeff" + EV + "c1,2024-01-01,a\n", "events", 1),
    Case("mixed-timestamp-formats", "e.csv", EV + "c1,2024-01-01T10:00:00Z,a\n"
         "c1,1704103200,b\nc1,01/02/2024 10:00,c\nc1,\"Tue, 02 Jan 2024 10:00:00 +0000\",d\n",
         "events", 4),
    Case("duplicate-message-id", "e.csv", "customer_id,timestamp,event,message_id\n"
         "c1,2024-01-01,a,m1\nc1,2024-01-02,b,m1\n", "events", 1, 0, 1),
    Case("latin1-file", "c.csv", "customer_id,city\nc1,Köln\n".encode("latin-1"),
         "customers", 1),
    Case("customer-empty-id", "c.csv", "customer_id,plan\n,pro\nc1,free\n", "customers",
         1, 1, 0, "missing required value", "customer_id", 1),
    Case("transcript-missing-text", "x.csv", "customer_id,timestamp,text\n"
         "c1,2024-01-01,\nc1,2024-01-01,hello\n", "transcripts", 1, 1, 0,
         "missing required value", "text", 1),
    # a record with too few (too many) fields is one quarantined row, however many
    # fields it lacks (has too many); the records after it keep their numbers
    Case("ragged-row-two-fields-short", "e.csv", EV + "c1,2024-01-01,a\nc1\nc1,2024-01-02,b\n",
         "events", 2, 1, 0, "wrong number of fields (expected 3, found 1)", None, 2),
    Case("ragged-row-last-line", "e.csv", EV + "c1,2024-01-01,a\nc1,2024-01-02,b\nc1",
         "events", 2, 1, 0, "wrong number of fields (expected 3, found 1)", None, 3),
    Case("ragged-rows-of-every-kind", "e.csv", EV + "c1,2024-01-01,a\nc1,x\nc2\n"
         "c1,2024-01-02,b,extra,more\nc1,2024-01-03,c\n", "events", 2, 3, 0,
         "wrong number of fields (expected 3, found 2)", None, 2),
    Case("two-fields-too-many", "e.csv", EV + "c1,2024-01-01,a,x,y\nc1,2024-01-02,b\n",
         "events", 1, 1, 0, "wrong number of fields (expected 3, found 5)", None, 1),
    Case("ragged-customer-row", "c.csv", "customer_id,plan,seats\nc1,pro,3\nc2\nc3,free,1\n",
         "customers", 2, 1, 0, "wrong number of fields (expected 3, found 1)", None, 2),
    # one JSON line with a value of the wrong type: that line is quarantined
    Case("json-object-as-customer-id", "e.jsonl", jl(ev(), ev({"id": 1}, event="b")),
         "events", 1, 1, 0, "wrong type: an object where text is expected", "customer_id", 2),
    Case("json-list-as-timestamp", "e.jsonl", jl(ev(ts=["2024-01-01"]), ev(event="b")),
         "events", 1, 1, 0, "wrong type: a list where a timestamp is expected", "timestamp", 1),
    Case("json-object-as-event", "e.jsonl", jl(ev(), ev(event={"name": "b"}), ev(event="c")),
         "events", 2, 1, 0, "wrong type: an object where text is expected", "event", 2),
    Case("json-number-as-text-loads", "e.jsonl", jl(ev(cid=12), ev(channel=5, event="b")),
         "events", 2),
    Case("json-mixed-types-in-properties-load", "e.jsonl",
         jl(ev(n=1), ev(event="b", n="one"), ev(event="c", n={"v": 1})), "events", 3),
    Case("json-string-where-numbers-stand", "f.jsonl", jl(fb(4), fb("four"), fb("5"), fb(3)),
         "feedback", 3, 1, 0, "not a number", "score", 2),
    Case("json-object-as-score", "f.jsonl", jl(fb(4), fb({"value": 4})), "feedback", 1, 1, 0,
         "wrong type: an object where a number is expected", "score", 2),
    Case("json-list-as-metric", "f.jsonl", jl(fb(4, ["csat"]), fb(5)), "feedback", 1, 1, 0,
         "wrong type: a list where text is expected", "metric", 1),
    Case("json-list-as-amount", "t.jsonl", jl({"customer_id": "c1", "timestamp": "2024-01-01",
                                              "amount": [1, 2]},
                                             {"customer_id": "c1", "timestamp": "2024-01-01",
                                              "amount": 2.5}),
         "transactions", 1, 1, 0, "wrong type: a list where a number is expected", "amount", 1),
    Case("json-object-as-customer", "c.jsonl", jl({"customer_id": {"a": 1}, "plan": "pro"},
                                                  {"customer_id": "c2", "plan": {"tier": 1}}),
         "customers", 1, 1, 0, "wrong type: an object where text is expected", "customer_id", 1),
    Case("json-empty-and-case-twin-keys", "e.jsonl",
         jl(ev(**{"": 1, "Event": "x", "$.x": 2, "a/b": 3, "_row": 9, "_raw": "r"}), ev(event="b")),
         "events", 2),
    Case("json-line-with-control-byte", "e.jsonl",
         jl(ev(), '{"customer_id":"c1","timestamp":"2024-01-01","event":"\x01"}',
            '{"customer_id":', ev(event="b")),
         "events", 2, 2, 0, "invalid JSON", None, 2),
    # a line longer than the readers' limit (64 MiB) is quarantined, the rest loads
    Case("csv-line-over-the-limit", "e.csv", EV + f"c1,2024-01-01,a\nc1,2024-01-01,{LONG}\n"
         "c1,2024-01-02,b\n", "events", 2, 1, 0, "line longer than 64 MiB", None, 2),
    Case("json-line-over-the-limit", "e.jsonl", jl(ev(), ev(event=LONG), ev(event="b")),
         "events", 2, 1, 0, "line longer than 64 MiB", None, 2),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, store: Store, write: Callable[[str, str | bytes], Path]) -> None:
    path = write(case.name, case.content)
    report = ingest(store, case.kind, [path])
    assert (report.loaded, report.quarantined, report.duplicates) == (
        case.loaded, case.quarantined, case.duplicates)
    # every source row counted exactly once: loaded, quarantined or a duplicate
    assert report.rows_read == case.loaded + case.quarantined + case.duplicates
    assert report.rows_read == report.loaded + report.updated + report.quarantined + \
        report.duplicates
    stored = store.con.execute("SELECT count(*), count(DISTINCT \"row\") FROM quarantine").fetchone()
    assert stored == (case.quarantined, case.quarantined)  # each bad row once
    if case.reason is not None:
        row = store.con.execute(
            "SELECT \"row\", field, reason, file FROM quarantine ORDER BY \"row\" LIMIT 1"
        ).fetchone()
        assert row == (case.row, case.field, case.reason, str(path))
        assert report.examples[0].startswith(f"{path}:row {case.row}: ")


def test_formula_text_is_stored_verbatim(store: Store, write: Callable[..., Path]) -> None:
    path = write("f.csv", "customer_id,timestamp,metric,score,comment\n"
                 "c1,2024-01-01,csat,4,=HYPERLINK(\"x\")\n")
    ingest(store, "feedback", [path])
    assert store.con.execute("SELECT comment FROM feedback").fetchone() == ('=HYPERLINK("x")',)


def test_latin1_note_and_text(store: Store, write: Callable[..., Path]) -> None:
    path = write("c.csv", "customer_id,city\nc1,Köln\n".encode("latin-1"))
    report = ingest(store, "customers", [path])
    assert any("Latin-1" in n for n in report.notes)
    assert store.con.execute("SELECT city FROM customers").fetchone() == ("Köln",)


@pytest.mark.parametrize("content,message", [
    (b"", "file is empty"),
    (b"\x00\x01\x02binary\x00", "not a text file"),
    ("customer_id,timestamp,event\n", "no data rows"),
    ("id,when,what\nc1,2024-01-01,a\n", "missing required column 'customer_id'"),
])
def test_whole_file_errors(content: str | bytes, message: str, store: Store,
                           write: Callable[..., Path]) -> None:
    path = write("e.csv", content)
    with pytest.raises(IngestError, match=message) as err:
        ingest(store, "events", [path])
    assert str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_file(store: Store, tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no such file"):
        ingest(store, "events", [tmp_path / "nope.csv"])


def test_parquet_that_is_not(store: Store, write: Callable[..., Path]) -> None:
    with pytest.raises(IngestError, match="not a Parquet file"):
        ingest(store, "events", [write("e.parquet", "customer_id\n")])


def test_all_rows_bad_keeps_evidence_then_raises(store: Store,
                                                write: Callable[..., Path]) -> None:
    path = write("e.csv", EV + ",2024-01-01,a\nc1,never,b\n")
    with pytest.raises(IngestError, match="nothing loaded: all 2 rows quarantined"):
        ingest(store, "events", [path])
    assert store.con.execute("SELECT count(*) FROM quarantine").fetchone() == (2,)
    assert store.con.execute("SELECT loaded, quarantined FROM ingests").fetchall() == [(0, 2)]


def test_unreadable_file_rolls_back_whole_call(store: Store, write: Callable[..., Path]) -> None:
    good = write("a.csv", EV + "c1,2024-01-01,a\n")
    with pytest.raises(IngestError):
        ingest(store, "events", [good, write("b.csv", b"")])
    assert store.con.execute("SELECT count(*) FROM event_log").fetchone() == (0,)
    assert store.con.execute("SELECT count(*) FROM ingests").fetchone() == (0,)
