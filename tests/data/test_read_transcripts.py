"""Transcript files at ingest: WebVTT, SRT, plain text and JSON documents."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from journeymap.data.ingest import ingest
from journeymap.data.read_transcripts import TranscriptMeta
from journeymap.data.store import Store
from journeymap.errors import IngestError

Write = Callable[[str, str | bytes], Path]
T0 = dt.datetime(2026, 5, 1, 10, 0, 0)


def _turns(store: Store) -> list[tuple[str, dt.datetime, str | None, str, dict[str, str]]]:
    rows = store.con.execute("SELECT customer_id, \"timestamp\", speaker, text, extra, channel, "
                             "touchpoint FROM transcripts ORDER BY \"timestamp\", text").fetchall()
    return [(r[0], r[1], r[2], r[3], json.loads(r[4]) if r[4] else {}) for r in rows]


VTT = """WEBVTT - support call

NOTE recorded by the phone system

1
00:00:01.500 --> 00:00:04.000 align:start
<v Agent>Thank you for calling, how can I help?</v>

2
00:00:05.000 --> 00:00:09.250
<v.loud Customer>The import keeps <b>failing</b>
on our date column.

00:01:02.000 --> 00:01:05.000
Customer: It is really frustrating.
"""


def test_webvtt_voices_times_and_file_name_metadata(store: Store, write: Write) -> None:
    path = write("C123_2026-05-01T10-00-00Z.vtt", VTT)
    report = ingest(store, "transcripts", [path])
    assert report.loaded == 3 and report.quarantined == 0
    turns = _turns(store)
    assert [(t[0], t[1], t[2], t[3]) for t in turns] == [
        ("C123", T0 + dt.timedelta(seconds=1.5), "Agent", "Thank you for calling, how can I help?"),
        ("C123", T0 + dt.timedelta(seconds=5), "Customer", "The import keeps failing on our date column."),
        ("C123", T0 + dt.timedelta(seconds=62), "Customer", "It is really frustrating."),
    ]
    assert turns[0][4] == {"conversation_id": "C123_2026-05-01T10-00-00Z", "offset_seconds": "1.5"}


SRT = """1
00:00:00,000 --> 00:00:02,500
Maria: Lumetra support, Maria speaking.

2
00:00:03,100 --> 00:00:06,000
Sam: Our invoice shows
the wrong plan.

3
00:00:07 --> broken
Sam: lost line

4
01:00:00,040 --> 01:00:01,000
Thanks, bye.
"""


def test_srt_with_options_names_and_a_bad_cue_quarantined(store: Store, write: Write) -> None:
    path = write("call-17.srt", SRT)
    meta = TranscriptMeta(customer_id="C9", start="2026-05-01T12:00:00+02:00", channel="phone",
                          touchpoint="support_call")
    report = ingest(store, "transcripts", [path], transcript=meta)
    assert report.loaded == 3 and report.quarantined == 1
    assert report.examples == [f"{path}:row 3: unreadable cue timing"]
    turns = _turns(store)
    assert [(t[1], t[2], t[3]) for t in turns] == [
        (T0, "Maria", "Lumetra support, Maria speaking."),
        (T0 + dt.timedelta(seconds=3.1), "Sam", "Our invoice shows the wrong plan."),
        (T0 + dt.timedelta(hours=1, milliseconds=40), None, "Thanks, bye."),
    ]
    row = store.con.execute("SELECT channel, touchpoint FROM transcripts LIMIT 1").fetchall()[0]
    assert row == ("phone", "support_call")
    assert turns[0][4]["conversation_id"] == "call-17"


def test_plain_text_turns_times_and_continuation_lines(store: Store, write: Write) -> None:
    path = write("chat.txt", "[00:00:05] Agent: Hello, how can I help?\n"
                             "[00:00:20] Customer: The bot sent me the same answer\n"
                             "three times.\n\n"
                             "[00:01:00] Customer: Are you still there?\n")
    write("chat.txt.meta.json", json.dumps({"customer_id": "C77", "start": "2026-05-01T10:00:00Z",
                                            "channel": "chat"}))
    ingest(store, "transcripts", [path])
    assert [(t[0], t[1], t[2], t[3]) for t in _turns(store)] == [
        ("C77", T0 + dt.timedelta(seconds=5), "Agent", "Hello, how can I help?"),
        ("C77", T0 + dt.timedelta(seconds=20), "Customer", "The bot sent me the same answer three times."),
        ("C77", T0 + dt.timedelta(seconds=60), "Customer", "Are you still there?"),
    ]


def test_json_document_segments_with_its_own_metadata(store: Store, write: Write) -> None:
    doc = {"customer_id": "C5", "start": "2026-05-01T10:00:00Z", "conversation_id": "call-5",
           "segments": [{"start": 0.25, "speaker": "agent", "text": "Hi, Tom here."},
                        {"start": 4, "speaker": "customer", "text": "My export is cut off."},
                        {"speaker": "customer", "text": "   "},
                        {"timestamp": "2026-05-01T10:05:00Z", "role": "customer", "content": "Bye."}]}
    path = write("call.json", json.dumps(doc))
    report = ingest(store, "transcripts", [path])
    assert report.loaded == 3 and report.by_reason == {"missing required value": 1}
    assert [(t[1], t[2], t[3], t[4]["conversation_id"]) for t in _turns(store)] == [
        (T0 + dt.timedelta(seconds=0.25), "agent", "Hi, Tom here.", "call-5"),
        (T0 + dt.timedelta(seconds=4), "customer", "My export is cut off.", "call-5"),
        (T0 + dt.timedelta(minutes=5), "customer", "Bye.", "call-5"),
    ]


def test_options_win_over_sidecar_and_file_name(store: Store, write: Write) -> None:
    path = write("C1_20260501T100000Z.vtt", VTT)
    write("C1_20260501T100000Z.vtt.meta.json", json.dumps({"customer_id": "C2", "touchpoint": "tp"}))
    ingest(store, "transcripts", [path], transcript=TranscriptMeta(customer_id="C3"))
    rows = store.con.execute("SELECT DISTINCT customer_id, touchpoint, min(\"timestamp\") "
                             "FROM transcripts GROUP BY ALL").fetchall()
    assert rows == [("C3", "tp", T0 + dt.timedelta(seconds=1.5))]


def test_a_subtitle_file_without_customer_or_start_is_a_one_line_error(store: Store, write: Write) -> None:
    path = write("call.vtt", VTT)
    with pytest.raises(IngestError, match="no customer id for this transcript: pass --customer-id"):
        ingest(store, "transcripts", [path])
    with pytest.raises(IngestError, match="no start time"):
        ingest(store, "transcripts", [path], transcript=TranscriptMeta(customer_id="C1"))


def test_tables_of_turns_still_load_as_before(store: Store, write: Write) -> None:
    csv = write("turns.txt", "customer_id,timestamp,text,speaker\nC1,2026-05-01T10:00:00Z,Hello,agent\n")
    jsonl = write("turns.json", json.dumps({"customer_id": "C1", "timestamp": "2026-05-01T10:00:01Z",
                                            "text": "Hi", "speaker": "customer"}) + "\n")
    report = ingest(store, "transcripts", [csv, jsonl])
    assert report.loaded == 2
    assert [t[3] for t in _turns(store)] == ["Hello", "Hi"]


@pytest.mark.parametrize("start,field,reason", [
    ('"soon"', "start", "unreadable start time"),
    ("[1, 2]", "start", "wrong type: a list where a time is expected"),
    ('{"s": 1}', "start", "wrong type: an object where a time is expected"),
    ("true", "start", "wrong type: true/false where a time is expected"),
    ("NaN", "start", "unreadable start time"),
    ("-5", "start", "start time out of range"),
    ("1e300", "start", "start time out of range"),
    ("Infinity", "start", "start time out of range"),
    ("1" + "0" * 400, "start", "start time out of range"),
    ('"99999999999:00:00"', "start", "start time out of range"),
    ("1e10", "timestamp", "timestamp out of range 1900-2099"),  # year 2343: a date, not ours
])
def test_an_impossible_segment_start_quarantines_that_turn(start: str, field: str, reason: str,
                                                           store: Store, write: Write) -> None:
    doc = ('{"customer_id": "C5", "start": "2026-05-01T10:00:00Z", "segments": ['
           '{"start": 0, "text": "Hello"}, {"start": %s, "text": "Broken"}, '
           '{"start": 2, "text": "Bye"}]}' % start)
    path = write("call.json", doc)
    report = ingest(store, "transcripts", [path])
    assert (report.rows_read, report.loaded, report.quarantined) == (3, 2, 1)
    assert store.con.execute("SELECT \"row\", field, reason FROM quarantine").fetchall() == [
        (2, field, reason)]
    assert [t[3] for t in _turns(store)] == ["Hello", "Bye"]


def test_wrong_types_in_segments_quarantine_the_segment_with_its_field(store: Store,
                                                                       write: Write) -> None:
    doc = {"customer_id": 42, "start": "2026-05-01T10:00:00Z", "segments": [
        {"start": 0, "text": {"value": "Hello"}},
        {"start": 1, "text": "Hi", "speaker": ["agent"]},
        {"start": 2, "text": "When?", "timestamp": {"at": 1}},
        {"start": 3, "text": 7},
        "not an object",
        {"start": 5, "text": "Bye", "speaker": "customer"}]}
    report = ingest(store, "transcripts", [write("call.json", json.dumps(doc))])
    assert (report.rows_read, report.loaded, report.quarantined) == (6, 2, 4)
    assert store.con.execute("SELECT \"row\", field, reason FROM quarantine ORDER BY 1").fetchall() == [
        (1, "text", "wrong type: an object where text is expected"),
        (2, "speaker", "wrong type: a list where text is expected"),
        (3, "timestamp", "wrong type: an object where text is expected"),
        (5, None, "not a JSON object")]
    assert [(t[0], t[3]) for t in _turns(store)] == [("42", "7"), ("42", "Bye")]


@pytest.mark.parametrize("doc,message", [
    ('{"customer_id": {"id": 1}, "start": "2026-05-01T10:00:00Z", "segments": [{"text": "a"}]}',
     "the document's 'customer_id': wrong type: an object where text is expected"),
    ('{"customer_id": "C1", "start": ["2026"], "segments": [{"text": "a"}]}',
     "the document's 'start': wrong type: a list where text is expected"),
    ('{"customer_id": "C1", "start": "the 5th of May", "segments": [{"text": "a"}]}',
     "unreadable start time 'the 5th of May'"),
    ('{"customer_id": "C1", "start": "2026-05-01T10:00:00Z", "segments": [' * 1 + '{"text": "a"}',
     None),  # not JSON: read as JSON lines, which it is not either
])
def test_unusable_document_metadata_is_a_one_line_error(doc: str, message: str | None,
                                                        store: Store, write: Write) -> None:
    path = write("call.json", doc)
    with pytest.raises(IngestError) as err:
        ingest(store, "transcripts", [path])
    assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)
    if message is not None:
        assert message in str(err.value)


def test_srt_cues_beyond_any_date_are_quarantined(store: Store, write: Write) -> None:
    srt = ("1\n00:00:01,000 --> 00:00:02,000\nHello.\n\n"
           "2\n99999999999999:00:01,000 --> 99999999999999:00:02,000\nLost in time.\n\n"
           "3\n00:00:03,000 --> 00:00:04,000\nBye.\n")
    path = write("C1_2026-05-01T10-00-00Z.srt", srt)
    report = ingest(store, "transcripts", [path])
    assert (report.rows_read, report.loaded, report.quarantined) == (3, 2, 1)
    assert report.examples == [f"{path}:row 2: start time out of range"]


def test_a_sidecar_with_an_object_for_a_value_is_a_one_line_error(store: Store, write: Write) -> None:
    path = write("call.vtt", VTT)
    write("call.vtt.meta.json", json.dumps({"customer_id": {"id": "C1"}, "start": "2026-05-01"}))
    with pytest.raises(IngestError, match="sidecar call.vtt.meta.json 'customer_id': wrong type"):
        ingest(store, "transcripts", [path])
    write("call.vtt.meta.json", "[1, 2]")
    with pytest.raises(IngestError, match="sidecar call.vtt.meta.json is not a JSON object"):
        ingest(store, "transcripts", [path])


def test_turn_rows_are_their_numbers_in_the_file(store: Store, write: Write) -> None:
    path = write("C123_2026-05-01T10-00-00Z.vtt", VTT)
    ingest(store, "transcripts", [path])
    chat = write("chat.txt", "[00:00:05] Agent: Hello\n\n[99999999999999:00:00] Customer: Late\n"
                             "[00:00:09] Customer: Hi\n")
    write("chat.txt.meta.json", json.dumps({"customer_id": "C7", "start": "2026-05-01T10:00:00Z"}))
    report = ingest(store, "transcripts", [chat])
    assert report.examples == [f"{chat}:row 3: start time out of range"]
    assert (report.loaded, report.quarantined) == (2, 1)
