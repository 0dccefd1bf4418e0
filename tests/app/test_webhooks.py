"""Outgoing webhooks: changes POSTed to a real HTTP receiver on this machine, signed with
HMAC-SHA256, retried with backoff under the same delivery id, and kept when they fail."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

SME = "sme-onboarding-churn"


class Receiver:
    """A tiny tracker: answers each POST with the next status of ``answers`` (then 200)."""

    def __init__(self, answers: list[int]):
        self.answers, self.got = list(answers), []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.got.append((dict(self.headers), body))
                self.send_response(outer.answers.pop(0) if outer.answers else 200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver([500, 503])
    yield r
    r.server.shutdown()
    r.server.server_close()


def _until(check, timeout: float = 10.0):  # noqa: ANN001, ANN202
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_a_comment_reaches_the_webhook_signed_after_retries(client: TestClient, receiver: Receiver) -> None:
    hooks = client.app.state.jm.webhooks
    hooks.delays, hooks.poll = (0.1, 0.2, 0.3), 0.05  # the backoff, shortened for the test
    made = client.post("/api/webhooks", json={"url": receiver.url, "events": ["comment.created"]})
    assert made.status_code == 201, made.text
    secret, hook_id = made.json()["secret"], made.json()["id"]
    assert "secret" not in client.get("/api/webhooks").json()[0]
    client.post(f"/api/maps/{SME}/comments", json={"target": "map", "body": "Who owns onboarding?"})

    _until(lambda: len(receiver.got) >= 3)
    ids = {h["X-Journeymap-Delivery"] for h, _ in receiver.got}
    assert len(ids) == 1  # one delivery, attempted three times (500, 503, then 200)
    headers, body = receiver.got[-1]
    expected = hmac.new(secret.encode(), headers["X-Journeymap-Timestamp"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    assert headers["X-Journeymap-Signature"] == "sha256=" + expected
    assert headers["X-Journeymap-Event"] == "comment.created"
    event = json.loads(body)
    assert event["event"] == "comment.created" and event["data"]["map"] == SME
    assert event["data"]["body"] == "Who owns onboarding?"
    deliveries = _until(lambda: [d for d in client.get(f"/api/webhooks/{hook_id}/deliveries").json()
                                 if d["status"] == "delivered"])
    assert deliveries[0]["attempts"] == 3 and deliveries[0]["last_status"] == 200
    client.post(f"/api/maps/{SME}/reviewed")  # not an event this webhook asked for
    time.sleep(0.3)
    assert len(receiver.got) == 3


def test_a_receiver_that_never_answers_gets_a_failed_delivery_kept(client: TestClient) -> None:
    hooks = client.app.state.jm.webhooks
    hooks.delays, hooks.poll = (0.05, 0.05), 0.05
    hook_id = client.post("/api/webhooks", json={"url": "http://127.0.0.1:9/nothing-listens"}).json()["id"]
    client.post(f"/api/maps/{SME}/reviewed")
    failed = _until(lambda: [d for d in client.get(f"/api/webhooks/{hook_id}/deliveries").json()
                             if d["status"] == "failed"])
    assert failed[0]["event"] == "map.reviewed" and failed[0]["attempts"] == 3 and failed[0]["last_error"]


def test_only_owners_manage_webhooks_and_addresses_are_checked(client: TestClient) -> None:
    assert client.post("/api/webhooks", json={"url": "file:///etc/passwd"}).status_code == 400
    assert client.post("/api/webhooks", json={"url": "http://x.example", "events": ["x"]}).status_code == 400
    from tests.app.test_accounts import _api_token, sign_in

    st = client.app.state.jm
    st.accounts.add("olga@example.com", "owner", password="correct horse battery")
    st.accounts.add("ed@example.com", "editor", password="correct horse battery")
    sign_in(client, "ed@example.com")
    headers = {"X-CSRF-Token": _api_token(client)}
    assert client.get("/api/webhooks").status_code == 403
    assert client.post("/api/webhooks", json={"url": "http://x.example"}, headers=headers).status_code == 403


def test_a_decayed_kpi_reaches_the_feed_and_the_webhook_once(client: TestClient, receiver: Receiver,
                                                              tmp_path) -> None:  # noqa: ANN001
    """Two months of support-chat answers, good then bad: the analysis at the new data
    raises the alert, the map's feed shows it and the webhook gets it with its evidence
    — once: an analysis after more data with the same alert does not send it again."""
    receiver.answers = []
    jm = client.app.state.jm
    client.post("/api/webhooks", json={"url": receiver.url, "events": ["map.alert"]})

    def analysed() -> dict:
        job = client.get(f"/api/maps/{SME}/analysis").json().get("job")
        if job:
            jm.jobs.wait(job["id"], timeout=120)
        return jm.jobs.analysis_for(SME, start=False)[0].result

    before, last = analysed()["alerts"]["periods"]

    def month(period: str, score: int) -> object:
        path = tmp_path / f"{period}-{score}.csv"
        path.write_text("customer_id,timestamp,metric,score,touchpoint\n" + "".join(
            f"C{i + 1:06d},{period}-1{i % 9}T10:{i % 60:02d}:00Z,csat,{score},support_chat\n" for i in range(150)))
        return path

    jm.ws.ingest("feedback", [month(before, 5)])
    assert not [a for a in analysed()["alerts"]["alerts"] if a["kind"] == "kpi_decay"]
    jm.ws.ingest("feedback", [month(last, 1)])
    alerts = [a for a in analysed()["alerts"]["alerts"] if a["kind"] == "kpi_decay"]
    assert ("support_chat", "csat") in [(a["target"], a["metric"]) for a in alerts]  # (and the journey's CSAT)
    got = _until(lambda: [json.loads(b) for _, b in receiver.got if json.loads(b)["event"] == "map.alert"
                          and json.loads(b)["data"]["alert"]["target"] == "support_chat"])
    alert = got[0]["data"]["alert"]
    assert got[0]["data"]["map"] == SME and alert["p_adjusted"] < 0.01 and alert["n"] and alert["previous_n"]
    feed = client.get("/api/activity", params={"map": SME}).json()
    assert any(e["kind"] == "alert" and "support_chat" in e["text"] for e in feed)
    jm.ws.ingest("feedback", [month(before, 4)])  # more data, the same decay: not sent again
    analysed()
    time.sleep(0.5)
    sent = [json.loads(b) for _, b in receiver.got if json.loads(b)["event"] == "map.alert"
            and json.loads(b)["data"]["alert"]["target"] == "support_chat"]
    assert len(sent) == 1
