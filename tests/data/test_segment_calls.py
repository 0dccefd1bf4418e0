"""A Segment batch: every call loaded, quarantined or a duplicate, counted per call type."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from journeymap.data.ingest import CallCounts, IngestReport, ingest
from journeymap.data.store import Store

Write = Callable[[str, str | bytes], Path]


def call(typ: str, n: int, **more: Any) -> dict[str, Any]:
    return {"type": typ, "userId": "u1", "timestamp": f"2024-01-01T00:00:{n:02d}Z",
            "messageId": f"m{n}", **more}


CALLS: list[Any] = [
    call("track", 1, event="Signed Up"),
    call("track", 1, event="Signed Up"),                   # the same messageId: a duplicate
    call("track", 3, event="Upgraded", userId={"id": 1}),  # an object as the user: quarantined
    call("page", 4, name="Home", properties={"url": "/"}),
    call("screen", 5, name="Settings"),
    call("identify", 6, traits={"plan": "pro", "": "blank", "_row": 1}),
    call("identify", 7, userId="u2", traits={"plan": "free"}),
    call("identify", 8, userId=None),                      # no user: quarantined
    call("group", 9, groupId="g1"),
    call("alias", 10, previousId="anon-1"),
    call("Track", 11, event="Case"),                       # types are read case-blind
    {"type": "flush", "userId": "u1", "messageId": "m12"},  # no such call type
]


def accounted(r: IngestReport) -> int:
    return r.loaded + r.updated + r.quarantined + r.duplicates + r.to_customers


@pytest.fixture(params=["lines", "batch"])
def segment_file(request: pytest.FixtureRequest, write: Write) -> Path:
    if request.param == "lines":
        return write("calls.jsonl", "".join(json.dumps(c) + "\n" for c in CALLS) + '{"type":\n')
    batch = {"batch": CALLS, "sentAt": "2024-01-01T00:01:00Z"}
    return write("calls.json", json.dumps(batch, indent=2))


def test_an_events_ingest_counts_every_call_by_type(store: Store, segment_file: Path) -> None:
    report = ingest(store, "events", [segment_file])
    broken = 1 if segment_file.suffix == ".jsonl" else 0  # the broken last line
    assert report.calls == {
        "track": CallCounts("events", read=4, loaded=2, quarantined=1, duplicates=1),
        "page": CallCounts("events", read=1, loaded=1),
        "screen": CallCounts("events", read=1, loaded=1),
        "identify": CallCounts("customers", read=3, loaded=2, quarantined=1),
        "group": CallCounts(None, read=1, quarantined=1),
        "alias": CallCounts(None, read=1, quarantined=1),
        "other": CallCounts(None, read=1 + broken, quarantined=1 + broken),
    }
    assert report.rows_read == len(CALLS) + broken == accounted(report)
    assert sum(c.read for c in report.calls.values()) == report.rows_read
    assert (report.loaded, report.duplicates, report.to_customers) == (4, 1, 2)
    assert store.con.execute("SELECT count(*) FROM events").fetchone() == (4,)
    assert store.con.execute("SELECT customer_id FROM customers ORDER BY 1").fetchall() == [
        ("u1",), ("u2",)]
    quarantined = store.con.execute(
        "SELECT count(*), count(DISTINCT \"row\") FROM quarantine").fetchone()
    assert quarantined == (report.quarantined, report.quarantined)

    again = ingest(store, "events", [segment_file])
    assert {t: (c.loaded, c.duplicates) for t, c in again.calls.items() if c.table} == {
        "track": (0, 3), "page": (0, 1), "screen": (0, 1), "identify": (0, 2)}
    assert again.rows_read == accounted(again)


def test_a_customers_ingest_quarantines_what_is_no_customer(store: Store,
                                                            segment_file: Path) -> None:
    report = ingest(store, "customers", [segment_file], fmt="segment")
    assert report.calls["identify"] == CallCounts("customers", read=3, loaded=2, quarantined=1)
    assert report.calls["track"] == CallCounts("events", read=4, quarantined=4)
    assert report.rows_read == accounted(report) == sum(c.read for c in report.calls.values())
    reasons = dict(store.con.execute("SELECT reason, count(*) FROM quarantine GROUP BY 1").fetchall())
    assert reasons["track call: not a customer (ingest the file as events to load it)"] == 4
    assert store.con.execute("SELECT plan FROM customers ORDER BY customer_id").fetchall() == [
        ("pro",), ("free",)]


def test_plain_json_lines_have_no_call_counts(store: Store, write: Write) -> None:
    path = write("e.jsonl", json.dumps({"customer_id": "c1", "timestamp": "2024-01-01",
                                        "event": "a"}) + "\n")
    assert ingest(store, "events", [path]).calls == {}
