"""One Segment tracking-spec call as the collector receives it: checked, its timestamp
corrected for the client's clock, ready for the spool (and then for the Segment reader
of :mod:`journeymap.data.readers`, which loads spooled calls like any Segment file).

Clock skew (Segment's own rule): a client stamps a call with its clock (``timestamp``)
and stamps the request when it sends it (``sentAt``); the server knows when the request
arrived (``receivedAt``).  The client's clock is off by ``sentAt − receivedAt`` (the
network time is small), so the event happened at::

    timestamp' = receivedAt − (sentAt − timestamp)

The client's value is kept as ``originalTimestamp``.  A call that says it happened after
it was sent (``timestamp`` later than ``sentAt`` by more than :data:`FUTURE_TOLERANCE`)
is refused: no correction makes it true.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from journeymap.data.contracts import ID_MAX, NAME_MAX

#: the calls journeymap loads (group and alias: not yet; refused with that reason)
CALL_TYPES = ("track", "page", "screen", "identify")
#: how far after ``sentAt`` (or, without it, after arrival) a timestamp may lie
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
#: Segment's limits: one call, and a batch request
MAX_CALL_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024


@dataclass(frozen=True)
class Checked:
    """A call the collector accepts (``call``: what goes to the spool) or refuses
    (``reason``; ``call`` is then the raw call)."""

    call: dict[str, Any]
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def parse_time(value: Any) -> dt.datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime (naive: UTC); None if it is not one."""
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    try:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def utc_text(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def corrected_timestamp(timestamp: dt.datetime, sent_at: dt.datetime | None,
                        received_at: dt.datetime) -> dt.datetime:
    """``receivedAt − (sentAt − timestamp)``; the timestamp itself without ``sentAt``."""
    if sent_at is None:
        return timestamp
    return received_at - (sent_at - timestamp)


def _describe(call: Any) -> str:
    if not isinstance(call, dict):
        return "a call"
    kind = call.get("type")
    name = call.get("event") if kind == "track" else call.get("name")
    mid = call.get("messageId")
    what = f"{kind} '{name}'" if isinstance(name, str) and name else str(kind or "call")
    return f"{what} (messageId {mid})" if isinstance(mid, str) and mid else what


def check_call(call: Any, *, received_at: dt.datetime, sent_at: Any = None, kind: str | None = None,
               source: str | None = None) -> Checked:
    """Check one call and correct its time; ``kind``: the endpoint's type (``/v1/track``),
    else the call's ``type``; ``sent_at``: the batch's ``sentAt`` when the call has none."""
    if not isinstance(call, dict):
        return Checked({"raw": call}, "a call must be a JSON object")
    out = dict(call)
    typ = kind or out.get("type")
    if not isinstance(typ, str) or typ.lower() not in CALL_TYPES:
        return Checked(call, f"{_describe(call)}: unsupported call type {typ!r} "
                             f"(journeymap takes {', '.join(CALL_TYPES)})")
    typ = typ.lower()
    out["type"] = typ
    call = out
    for key in ("userId", "anonymousId"):
        w = out.get(key)
        if isinstance(w, int) and not isinstance(w, bool):
            out[key] = w = str(w)
        if w is not None and not isinstance(w, str):
            return Checked(call, f"{_describe(call)}: {key} must be a string")
        if isinstance(w, str) and len(w) > ID_MAX:
            return Checked(call, f"{_describe(call)}: {key} is longer than {ID_MAX} characters")
    if not (out.get("userId") or out.get("anonymousId")):
        return Checked(call, f"{_describe(call)}: needs a userId or an anonymousId")
    if typ == "track":
        event = out.get("event")
        if not isinstance(event, str) or not event.strip():
            return Checked(call, f"{_describe(call)}: a track call needs an event name")
        if len(event) > NAME_MAX:
            return Checked(call, f"{_describe(call)}: event name longer than {NAME_MAX} characters")
    for key in ("properties", "traits", "context"):
        if key in out and out[key] is not None and not isinstance(out[key], dict):
            return Checked(call, f"{_describe(call)}: {key} must be an object")
    mid = out.get("messageId")
    if mid is None:
        out["messageId"] = f"jm-{uuid.uuid4()}"  # no id from the client: replays of the spool stay idempotent
    elif not isinstance(mid, str) or not mid or len(mid) > ID_MAX:
        return Checked(call, f"{_describe(call)}: messageId must be a string of 1 to {ID_MAX} characters")
    sent = parse_time(out.get("sentAt", sent_at))
    raw_ts = out.get("timestamp", out.get("originalTimestamp"))
    if raw_ts is None:
        stamp = sent or received_at
    else:
        stamp = parse_time(raw_ts)
        if stamp is None:
            return Checked(call, f"{_describe(call)}: timestamp {str(raw_ts)[:40]!r} is not an ISO 8601 time")
    if stamp - (sent or received_at) > FUTURE_TOLERANCE:
        return Checked(call, f"{_describe(call)}: timestamp {utc_text(stamp)} is after the call was sent "
                             f"({utc_text(sent or received_at)})")
    out["originalTimestamp"] = utc_text(stamp)
    out["timestamp"] = utc_text(corrected_timestamp(stamp, sent, received_at))
    out["receivedAt"] = utc_text(received_at)
    if sent is not None:
        out["sentAt"] = utc_text(sent)
    if source:
        out["context"] = {**(out.get("context") or {}), "journeymap_source": source}
    return Checked(out)
