"""The event collector (issue 13): Segment's tracking API, durable before it answers,
each messageId stored once, refused calls quarantined with their reason — through the
HTTP app in process, Segment's own client library, and a real process killed mid-stream."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import duckdb
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from journeymap.app.collector_app import create_collector_app
from journeymap.data.segment_calls import check_call, corrected_timestamp, parse_time
from journeymap.data.spool import Spool, SpoolBusy, SpoolReader
from journeymap.workspace import Workspace

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
CLI = str(Path(sys.executable).parent / "journeymap")


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def _track(user: str, event: str = "report_created", **extra: object) -> dict[str, object]:
    return {"type": "track", "userId": user, "event": event, "messageId": str(uuid.uuid4()),
            "timestamp": "2026-11-30T10:00:00Z", **extra}


def _events(root: Path) -> list[tuple[str, int]]:
    con = duckdb.connect(str(root / "journeymap.duckdb"), read_only=True)
    try:
        return con.execute("SELECT message_id, count(*) FROM event_log GROUP BY 1").fetchall()
    finally:
        con.close()


@pytest.fixture
def ws(tmp_path: Path):
    with Workspace.create(tmp_path / "ws") as w:
        yield w


@pytest.fixture
def app(ws):
    collector = ws.collector(rate=0)
    key = collector.keys.add("web")
    client = TestClient(create_collector_app(collector))
    yield client, collector, key
    collector.close()


# -- clock skew ---------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(offset=st.integers(-10**8, 10**8), before=st.integers(0, 10**6), latency=st.integers(0, 5_000))
def test_clock_skew_is_corrected(offset: int, before: int, latency: int) -> None:
    """A client whose clock is ``offset`` ms off stamps an event ``before`` ms before it
    sends it; the request takes ``latency`` ms: the corrected time is the true one, late
    by at most the latency."""
    happened = NOW
    sent_true = happened + dt.timedelta(milliseconds=before)
    received = sent_true + dt.timedelta(milliseconds=latency)
    skew = dt.timedelta(milliseconds=offset)
    fixed = corrected_timestamp(happened + skew, sent_true + skew, received)
    assert dt.timedelta(0) <= fixed - happened <= dt.timedelta(milliseconds=latency)
    call = check_call({"type": "track", "userId": "u", "event": "e", "messageId": "m",
                       "timestamp": (happened + skew).isoformat()},
                      received_at=received, sent_at=(sent_true + skew).isoformat())
    assert call.ok and parse_time(call.call["timestamp"]) == fixed.replace(
        microsecond=fixed.microsecond // 1000 * 1000)
    assert parse_time(call.call["originalTimestamp"]) == (happened + skew).replace(
        microsecond=(happened + skew).microsecond // 1000 * 1000)


@pytest.mark.parametrize(("call", "reason"), [
    ({"type": "track", "event": "x"}, "needs a userId or an anonymousId"),
    ({"type": "track", "userId": "u"}, "a track call needs an event name"),
    ({"type": "alias", "userId": "u"}, "unsupported call type 'alias'"),
    ({"type": "track", "userId": "u", "event": "x", "timestamp": "yesterday"}, "is not an ISO 8601 time"),
    ({"type": "track", "userId": "u", "event": "x", "timestamp": "2027-01-01T00:00:00Z"}, "after the call was sent"),
    ({"type": "track", "userId": "u", "event": "x", "properties": [1]}, "properties must be an object"),
    ({"type": "track", "userId": {"id": 1}, "event": "x"}, "userId must be a string"),
    ("text", "a call must be a JSON object"),
])
def test_a_bad_call_is_refused_with_its_reason(call: object, reason: str) -> None:
    checked = check_call(call, received_at=NOW)
    assert not checked.ok and reason in checked.reason


# -- the spool ----------------------------------------------------------------------
def test_the_spool_keeps_every_acknowledged_line_and_cuts_a_torn_one(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s")
    threads = [threading.Thread(target=lambda i=i: [spool.append([f'{{"n":{i}-{j}}}'.encode()])
                                                    for j in range(50)]) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    open_file = next((tmp_path / "s").glob("*.open"))
    with open(open_file, "ab") as f:  # a crash in the middle of a write: never acknowledged
        f.write(b'{"torn":')
    import journeymap.data.spool as spool_module

    spool_module.WRITER_WAIT, wait = 0.1, spool_module.WRITER_WAIT
    try:
        with pytest.raises(SpoolBusy, match="another collector writes this spool"):
            Spool(tmp_path / "s")
    finally:
        spool_module.WRITER_WAIT = wait
    assert SpoolReader(tmp_path / "s").recover_orphaned() is False  # the writer is alive: its segment stays open
    spool._closed = True  # noqa: SLF001 - as if the process died: no orderly close, its lock gone
    os.close(spool._lock_fd)  # noqa: SLF001
    again = Spool(tmp_path / "s")
    lines = [line for p in again.sealed() for line in p.read_bytes().splitlines()]
    assert len(lines) == 400 and all(line.endswith(b"}") for line in lines)
    again.done(again.sealed())
    assert again.sealed() == []
    again.close()


# -- the HTTP API -------------------------------------------------------------------
def test_calls_are_stored_once_each(app, ws) -> None:
    client, collector, key = app
    calls = [_track(f"u{i}") for i in range(20)]
    body = {"batch": calls, "sentAt": "2026-11-30T10:00:05Z"}
    assert client.post("/v1/batch", json=body, headers=_auth(key)).json() == {"success": True}
    assert client.post("/v1/batch", json=body, headers=_auth(key)).status_code == 200  # a retry
    one = {"userId": "u1", "event": "invoice_paid", "messageId": "m-1", "timestamp": "2026-11-30T11:00:00Z"}
    assert client.post("/v1/track", json=one, headers=_auth(key)).status_code == 200
    ident = {"userId": "u1", "traits": {"plan": "pro"}, "messageId": "m-2"}
    assert client.post("/v1/identify", json=ident, headers=_auth(key)).status_code == 200
    page = {"anonymousId": "a-9", "name": "Pricing", "messageId": "m-3"}
    assert client.post("/v1/page", json=page, headers=_auth(key)).status_code == 200
    report = collector.drain()
    assert (report.loaded, report.duplicates, report.to_customers) == (22, 20, 1)
    assert collector.drain().files == 0
    stored = dict(ws.store.con.execute("SELECT message_id, count(*) FROM event_log GROUP BY 1").fetchall())
    assert set(stored) == {c["messageId"] for c in calls} | {"m-1", "m-3"} and set(stored.values()) == {1}
    assert ws.store.con.execute("SELECT plan FROM customers WHERE customer_id = 'u1'").fetchone() == ("pro",)
    names = {r[0] for r in ws.store.con.execute("SELECT DISTINCT event FROM events").fetchall()}
    assert names == {"report_created", "invoice_paid", "page_viewed"}


def test_an_identify_joins_the_anonymous_events_to_the_customer(app, ws) -> None:
    """Pages seen before sign-up carry only an anonymousId; the identify at sign-up names
    the customer; from then on the anonymous and the named events are one journey."""
    client, collector, key = app
    def page(n: int, anon: str) -> dict[str, object]:
        return {"type": "page", "anonymousId": anon, "name": f"P{n}", "messageId": f"p{anon}{n}",
                "timestamp": f"2026-11-30T10:0{n}:00Z"}
    assert client.post("/v1/batch", json={"batch": [page(1, "anon-1"), page(2, "anon-1"), page(1, "anon-2")]},
                       headers=_auth(key)).status_code == 200
    collector.drain()  # stored under the anonymous id for now
    ident = {"type": "identify", "userId": "C42", "anonymousId": "anon-1", "traits": {"plan": "pro"},
             "messageId": "i1", "timestamp": "2026-11-30T10:05:00Z"}
    signup = {"type": "track", "userId": "C42", "anonymousId": "anon-1", "event": "signed_up", "messageId": "t1",
              "timestamp": "2026-11-30T10:05:01Z"}
    late = {**page(9, "anon-1"), "timestamp": "2026-11-30T10:09:00Z"}  # an old tab, still anonymous
    assert client.post("/v1/batch", json={"batch": [ident, signup, late]}, headers=_auth(key)).status_code == 200
    collector.drain()
    rows = ws.store.con.execute(
        'SELECT customer_id, event, message_id FROM events ORDER BY customer_id, "timestamp"').fetchall()
    assert rows == [("C42", "page_viewed", "panon-11"), ("C42", "page_viewed", "panon-12"),
                    ("C42", "signed_up", "t1"), ("C42", "page_viewed", "panon-19"),
                    ("anon-2", "page_viewed", "panon-21")]
    # stored order is the journey's order: customer, then time
    order = ws.store.con.execute('SELECT customer_id, "timestamp" FROM event_log').fetchall()
    assert order == sorted(order)


def test_refused_calls_get_400_and_are_quarantined(app, ws) -> None:
    client, collector, key = app
    good, bad = _track("u1"), {"type": "track", "userId": "u2", "messageId": "bad-1"}
    r = client.post("/v1/batch", json={"batch": [good, bad]}, headers=_auth(key))
    assert r.status_code == 400
    assert r.json()["accepted"] == 1
    assert r.json()["refused"] == [{"index": 1, "reason": "track (messageId bad-1): a track call needs an event name"}]
    collector.drain()
    rows = ws.store.con.execute("SELECT kind, file, reason, raw FROM quarantine").fetchall()
    assert len(rows) == 1 and rows[0][1] == "collector:web/v1/batch" and "needs an event name" in rows[0][2]
    assert json.loads(rows[0][3]) == bad
    assert [m for m, _ in ws.store.con.execute("SELECT message_id, 1 FROM event_log").fetchall()] == [
        good["messageId"]]


def test_auth_limits_and_encodings(app, ws) -> None:
    client, collector, key = app
    assert client.post("/v1/track", json=_track("u"), headers=_auth("nope")).status_code == 401
    assert client.post("/v1/track", json=_track("u")).status_code == 401
    assert client.post("/v1/track", json={**_track("u"), "writeKey": key}).status_code == 200
    assert client.post("/v1/alias", json=_track("u"), headers=_auth(key)).status_code == 404
    # 32 KB per call, 500 KB per batch: from Content-Length, and while reading a body without it
    big = _track("u", properties={"blob": "x" * 40_000})
    assert client.post("/v1/track", json=big, headers=_auth(key)).status_code == 413
    chunks = (b'{"batch": [' + b",".join([json.dumps(_track("u")).encode()] * 6000) + b"]}",)
    r = client.post("/v1/batch", content=iter(chunks), headers=_auth(key))
    assert r.status_code == 413
    # one call over 32 KB inside a batch: refused and kept, the rest stored
    r = client.post("/v1/batch", json={"batch": [big, _track("v")]}, headers=_auth(key))
    assert r.status_code == 400 and "over the 32 KB limit" in r.json()["refused"][0]["reason"]
    body = gzip.compress(json.dumps({"batch": [_track("g")]}).encode())
    r = client.post("/v1/batch", content=body, headers={**_auth(key), "Content-Encoding": "gzip"})
    assert r.status_code == 200
    assert client.post("/v1/track", content=b"{not json", headers=_auth(key)).status_code == 400


def test_a_source_over_its_rate_gets_429_with_retry_after(ws) -> None:
    collector = ws.collector(rate=10, burst=20)
    key = collector.keys.add("app")
    client = TestClient(create_collector_app(collector))
    try:
        codes = [client.post("/v1/batch", json={"batch": [_track("u") for _ in range(5)]},
                             headers=_auth(key)) for _ in range(6)]
        assert [c.status_code for c in codes[:4]] == [200] * 4
        assert codes[4].status_code == 429 and int(codes[4].headers["Retry-After"]) >= 1
    finally:
        collector.close()


def test_a_spool_the_drain_cannot_keep_up_with_gets_503_not_growth(ws) -> None:
    collector = ws.collector(max_pending_bytes=10_000)
    key = collector.keys.add("web")
    client = TestClient(create_collector_app(collector))
    try:
        batch = {"batch": [_track(f"u{i}") for i in range(100)]}  # about 15 KB
        assert client.post("/v1/batch", json=batch, headers=_auth(key)).status_code == 200
        collector.seal()  # what the drain loop does each round: now over the bound
        r = client.post("/v1/batch", json={"batch": [_track("v")]}, headers=_auth(key))
        assert r.status_code == 503 and r.headers["Retry-After"]
        assert collector.drain().loaded == 100  # the drain catches up ...
        assert client.post("/v1/batch", json={"batch": [_track("v")]}, headers=_auth(key)).status_code == 200
    finally:
        collector.close()


def test_ten_thousand_bad_calls_all_4xx_all_quarantined(app, ws) -> None:
    client, collector, key = app
    kinds = [
        lambda i: {"type": "track", "userId": f"u{i}", "messageId": f"b{i}"},           # no event
        lambda i: {"type": "track", "event": "x", "messageId": f"b{i}"},                # nobody
        lambda i: {"type": "group", "userId": "u", "messageId": f"b{i}"},               # unsupported
        lambda i: {"type": "track", "userId": "u", "event": "x", "messageId": f"b{i}",
                   "timestamp": f"20{i % 100:02d}-13-45"},                              # bad time
        lambda i: {"type": "track", "userId": "u", "event": "x", "messageId": f"b{i}",
                   "properties": {"blob": "y" * 33_000}},                               # too big
        lambda i: [i],                                                                  # not an object
    ]
    sent, statuses = 0, []
    for start in range(0, 10_000, 100):
        batch = [kinds[i % len(kinds)](i) for i in range(start, start + 100)]
        size = len(json.dumps({"batch": batch}))
        if size > 500 * 1024:  # keep the batch under its limit: the oversize ones go 10 at a time
            for j in range(0, 100, 10):
                statuses.append(client.post("/v1/batch", json={"batch": batch[j:j + 10]}, headers=_auth(key)))
        else:
            statuses.append(client.post("/v1/batch", json={"batch": batch}, headers=_auth(key)))
        sent += len(batch)
    assert {r.status_code for r in statuses} == {400}
    collector.drain()
    stored = ws.store.con.execute("SELECT count(*) FROM event_log").fetchone()[0]
    quarantined = ws.store.con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
    reasons = ws.store.con.execute("SELECT count(DISTINCT reason) FROM quarantine").fetchone()[0]
    assert (stored, quarantined) == (0, sent) and sent == 10_000
    assert reasons > 6  # each reason names its call


# -- Segment's own library, and a process killed mid-stream -------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


STARTED: list[subprocess.Popen[bytes]] = []


@pytest.fixture(autouse=True)
def _no_process_left():
    """Every collector a test starts is stopped when it ends, passed or failed (one left
    running would drain the next run's spool)."""
    yield
    while STARTED:
        proc = STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _start(root: Path, port: int) -> subprocess.Popen[bytes]:
    log = root.parent / "collector.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen([CLI, "collect", "-w", str(root), "--port", str(port), "--drain-every", "0.3"],
                                stdout=out, stderr=out)
    STARTED.append(proc)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"collector did not start: {log.read_text()}")


def test_segments_own_library_sends_to_the_collector(tmp_path: Path) -> None:
    import segment.analytics as analytics

    root = tmp_path / "ws"
    Workspace.create(root).close()
    key = subprocess.run([CLI, "collect", "-w", str(root), "--add-source", "web"], capture_output=True,
                         text=True, check=True).stdout.split()[-1]
    port = _free_port()
    proc = _start(root, port)
    errors: list[object] = []
    client = analytics.Client(key, host=f"http://127.0.0.1:{port}", on_error=lambda e, b: errors.append(e),
                              sync_mode=False, max_retries=3)
    for i in range(300):
        client.track(f"u{i % 30}", "dashboard_viewed", {"i": i})
    client.identify("u1", {"segment": "SME"})
    client.page("u2", name="Pricing")
    client.flush()
    client.shutdown()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    assert not errors
    rows = _events(root)
    assert len(rows) == 301 and {n for _, n in rows} == {1}


@pytest.mark.slow
def test_killed_five_times_loses_no_acknowledged_call_and_stores_none_twice(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    Workspace.create(root).close()
    key = subprocess.run([CLI, "collect", "-w", str(root), "--add-source", "web"], capture_output=True,
                         text=True, check=True).stdout.split()[-1]
    port = _free_port()
    url = f"http://127.0.0.1:{port}/v1/batch"
    batches = [[_track(f"c{w}-{i % 40}", f"step_{i % 7}") for i in range(b * 50, b * 50 + 50)]
               for w in range(4) for b in range(100)]  # 20,000 calls from 4 clients
    acked: set[str] = set()
    lock = threading.Lock()
    server_errors = []
    state = {"proc": _start(root, port)}

    def client(mine: list[list[dict[str, object]]]) -> None:
        with requests.Session() as http:
            for batch in mine:
                while True:  # retry until acknowledged, as the libraries do
                    try:
                        r = http.post(url, json={"batch": batch, "sentAt": dt.datetime.now(dt.UTC).isoformat()},
                                      headers=_auth(key), timeout=5)
                    except requests.RequestException:
                        time.sleep(0.05)
                        continue
                    if r.status_code == 200:
                        with lock:
                            acked.update(str(c["messageId"]) for c in batch)
                        time.sleep(0.03)  # a steady stream, so that every kill lands mid-stream
                        break
                    if r.status_code >= 500 and r.status_code != 503:
                        server_errors.append((r.status_code, r.text[:300]))
                    time.sleep(0.05)

    workers = [threading.Thread(target=client, args=(batches[w::4],)) for w in range(4)]
    for t in workers:
        t.start()
    at_kill = []
    for _ in range(5):
        time.sleep(0.4)
        at_kill.append(len(acked))
        state["proc"].send_signal(signal.SIGKILL)
        state["proc"].wait()
        state["proc"] = _start(root, port)
    for t in workers:
        t.join(timeout=300)
    state["proc"].send_signal(signal.SIGTERM)
    state["proc"].wait(timeout=60)
    subprocess.run([CLI, "collect", "-w", str(root), "--drain"], check=True, capture_output=True)
    rows = dict(_events(root))
    sent = {str(c["messageId"]) for b in batches for c in b}
    assert not server_errors
    assert at_kill[-1] < len(sent), f"the clients were done before the last kill: {at_kill}"
    assert acked == sent  # every client got through in the end
    assert set(rows) == sent and set(rows.values()) == {1}  # each stored, and once
    # a replay of everything adds nothing
    proc = _start(root, port)
    with requests.Session() as http:
        for b in batches:
            assert http.post(url, json={"batch": b}, headers=_auth(key), timeout=10).status_code == 200
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert dict(_events(root)) == rows
    assert not [p for p in (root / "collector").rglob("*") if p.suffix in (".open", ".jsonl")]  # all drained
