"""``journeymap demo --live``: a stream of the demo company's next customers, sent to the
running app as Segment calls and survey answers, with a planted decay.

The stream covers the last calendar month and this one (timestamps up to now, so the
collector takes them as they are).  New SME customers sign up (``identify`` with the
persona's attributes) and walk the ``sme-onboarding-churn`` journey: trial, checkout,
account, onboarding call, data import, first report, with drop-offs at each step.
Those who had an onboarding call answer its survey (CSAT, 1-5).  **Planted**: last month
about 80 % of them are satisfied (4 or 5); this month about 40 % are — the onboarding team
changed its script.  The app drains the calls every 2 s, so the map's reach moves while
the stream runs, and the refresh after the last answers finds the decay: an alert in
the map's feed (and to its webhooks), with both months' CSAT, n and p.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np

from journeymap.errors import JourneymapError

MAP_ID = "sme-onboarding-churn"
SURVEY_TOUCHPOINT = "onboarding_call"
#: share of last month's and this month's onboarding-call answers that are satisfied (4-5)
SATISFIED = (0.80, 0.40)
#: the journey's steps: (event, channel, share of the previous step's customers who go on)
STEPS = (
    ("trial_started", "web", 1.0),
    ("checkout_completed", "web", 0.55),
    ("account_created", "app", 0.95),
    ("onboarding_call_held", "sales", 0.85),
    ("data_import_started", "app", 0.9),
    ("data_import_completed", "app", 0.75),
    ("first_report_created", "app", 0.8),
)
COUNTRIES = ("US", "GB", "DE", "FR", "NL", "SE", "ES", "CA")
INDUSTRIES = ("Retail", "Media", "Education", "Manufacturing", "Healthcare", "Logistics")


@dataclass(frozen=True)
class Call:
    """One request of the stream: its endpoint, body and the time it stands for."""

    at: dt.datetime
    endpoint: str           # "batch" or "survey"
    body: dict[str, object]


def _stamp(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def months(now: dt.datetime) -> tuple[tuple[dt.datetime, dt.datetime], tuple[dt.datetime, dt.datetime]]:
    """Last calendar month and this one up to ``now`` (UTC)."""
    this = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last = (this - dt.timedelta(days=1)).replace(day=1)
    return (last, this), (this, now)


def plan(customers: int = 400, *, seed: int = 11, now: dt.datetime | None = None) -> list[Call]:
    """Every call of the stream, in time order (half the customers last month, half this)."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    rng = np.random.default_rng(seed)
    calls: list[Call] = []
    for half, (start, end) in enumerate(months(now)):
        span = max((end - start).total_seconds() - 3 * 86_400, 3600.0)  # leave room for the journey
        for i in range(customers // 2):
            cid = f"L{seed:02d}{half}{i:05d}"
            t = start + dt.timedelta(seconds=float(rng.uniform(0, span)))
            traits = {"segment": "SME", "company_size": int(rng.integers(10, 250)),
                      "industry": str(rng.choice(INDUSTRIES)), "country": str(rng.choice(COUNTRIES)),
                      "plan": "starter", "acquisition_channel": "organic_search"}
            calls.append(Call(t, "batch", {"type": "identify", "userId": cid, "traits": traits}))
            went = True
            for event, channel, share in STEPS:
                if not went or rng.random() > share:
                    went = False
                    break
                t = min(t + dt.timedelta(minutes=float(rng.uniform(5, 600))), end - dt.timedelta(seconds=1))
                calls.append(Call(t, "batch", {"type": "track", "userId": cid, "event": event,
                                               "context": {"channel": channel}}))
                if event == "onboarding_call_held":
                    satisfied = rng.random() < SATISFIED[half]
                    score = int(rng.choice([4, 5])) if satisfied else int(rng.choice([1, 2, 3]))
                    answered = min(t + dt.timedelta(minutes=30), end - dt.timedelta(seconds=1))
                    calls.append(Call(answered, "survey", {"userId": cid, "map": MAP_ID,
                                                           "touchpoint": SURVEY_TOUCHPOINT, "score": score}))
    calls.sort(key=lambda c: c.at)
    for c in calls:  # stamp ids and times once the order is known
        c.body["messageId"] = str(uuid.uuid4())
        c.body["timestamp"] = _stamp(c.at)
    return calls


@dataclass
class Sent:
    events: int = 0
    answers: int = 0
    refused: int = 0


class _Client:
    """Keep-alive HTTP to the app, the write key as HTTP Basic user (as Segment's libraries)."""

    def __init__(self, url: str, write_key: str):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise JourneymapError(f"--url {url}: give the app's address, e.g. http://127.0.0.1:8000")
        self.parts = parts
        self.auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
        self.conn = self._connect()

    def _connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.parts.scheme == "https" else http.client.HTTPConnection
        return cls(self.parts.hostname or "127.0.0.1", self.parts.port, timeout=30)

    def post(self, path: str, body: object) -> tuple[int, dict[str, object]]:
        data = json.dumps(body).encode()
        prefix = self.parts.path.rstrip("/")
        for attempt in range(6):  # 429/503 and dropped connections: wait and send again
            try:
                self.conn.request("POST", prefix + path, data, {"Content-Type": "application/json",
                                                                "Authorization": self.auth})
                r = self.conn.getresponse()
                payload = r.read()
            except (OSError, http.client.HTTPException) as exc:
                self.conn.close()
                self.conn = self._connect()
                if attempt == 5:
                    raise JourneymapError(f"cannot reach the app at {self.parts.geturl()}: {exc} "
                                          "(is `journeymap demo` or `journeymap serve --collect` running?)") from None
                time.sleep(1 + attempt)
                continue
            if r.status in (429, 503) and attempt < 5:
                time.sleep(float(r.getheader("Retry-After") or 1))
                continue
            if r.status == 404:
                try:
                    said = str(json.loads(payload).get("message") or "")
                except (json.JSONDecodeError, AttributeError):
                    said = ""
                if "survey" in said:  # a demo made before its map had a survey
                    raise JourneymapError(f"{said} (make the demo again: journeymap demo DIR)")
                raise JourneymapError(f"{self.parts.geturl()}{path}: not found — the app does not collect events "
                                      "(start it with `journeymap serve --collect`, or `journeymap demo`)")
            if r.status == 401:
                raise JourneymapError("the app refused the write key (is it serving the same workspace?)")
            try:
                return r.status, json.loads(payload or b"{}")
            except json.JSONDecodeError:
                return r.status, {}
        return 503, {}


def send(calls: list[Call], url: str, write_key: str, *, seconds: float = 60.0,
         progress: Callable[[str, int, int], None] | None = None) -> Sent:
    """Send ``calls`` in time order, spread over ``seconds`` of wall time (events in
    batches, each answer as its own ``/v1/survey`` call)."""
    client = _Client(url, write_key)
    try:
        return _send(client, calls, seconds, progress)
    finally:
        client.conn.close()


def _send(client: _Client, calls: list[Call], seconds: float,
          progress: Callable[[str, int, int], None] | None) -> Sent:
    sent = Sent()
    start = time.monotonic()
    total = len(calls)
    for done, chunk in _chunks(calls):
        batch = [c.body for c in chunk if c.endpoint == "batch"]
        if batch:
            status, body = client.post("/v1/batch", {"batch": batch})
            refused = len(body.get("refused") or []) if isinstance(body.get("refused"), list) else 0
            sent.refused += refused if status == 400 else (len(batch) if status >= 400 else 0)
            sent.events += len(batch) - (refused if status == 400 else (len(batch) if status >= 400 else 0))
        for c in chunk:
            if c.endpoint == "survey":
                status, _ = client.post("/v1/survey", c.body)
                sent.answers += status == 200
                sent.refused += status != 200
        if progress is not None:
            month = chunk[-1].at.strftime("%Y-%m")
            progress(f"sending {month}", done, total)
        wait = start + seconds * done / max(total, 1) - time.monotonic()
        if wait > 0:
            time.sleep(wait)
    return sent


def _chunks(calls: list[Call], size: int = 100) -> Iterator[tuple[int, list[Call]]]:
    for i in range(0, len(calls), size):
        chunk = calls[i:i + size]
        yield i + len(chunk), chunk
