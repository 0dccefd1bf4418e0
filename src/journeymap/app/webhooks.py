"""Outgoing webhooks: a workspace's changes POSTed to a team's own tracker or chat bot,
signed, and retried with backoff until delivered.

An owner registers a URL (``POST /api/webhooks``) and gets its secret once.  Each event —
``item.changed`` (a pain point's or opportunity's owner, status or link),
``comment.created``, ``map.reviewed`` — becomes a row in ``webhook_deliveries`` first (so a
restart loses nothing) and is then POSTed as JSON by a background thread with:

``X-Journeymap-Event``       the event's name
``X-Journeymap-Delivery``    the delivery's id (the same on every retry: deduplicate on it)
``X-Journeymap-Timestamp``   seconds since the epoch at this attempt
``X-Journeymap-Signature``   ``sha256=`` HMAC-SHA256 of ``TIMESTAMP.BODY`` with the secret

(the receiver recomputes the signature and refuses old timestamps, as with Stripe's and
GitHub's webhooks).  A 2xx answer delivers it; anything else — an error status, a refused
connection, no answer in 10 s — is retried after 10 s, 1 min, 5 min, 30 min, 2 h and 6 h;
then the delivery is marked failed, with the last status and error kept for the owner
(``GET /api/webhooks/ID/deliveries``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from journeymap.version import __version__
from journeymap.app.library import NotFound
from journeymap.app.security import Principal, authorize
from journeymap.app.state import state_of
from journeymap.app.tables import WebhookDeliveryRow, WebhookRow, utcnow
from journeymap.app.responses import API_ERRORS, Id
from journeymap.errors import JourneymapError

EVENTS = ("item.changed", "comment.created", "map.reviewed", "map.alert")
#: seconds before each retry; after the last, the delivery has failed
DELAYS = (10, 60, 300, 1800, 7200, 21600)
TIMEOUT = 10
api = APIRouter(prefix="/api", dependencies=[Depends(authorize)], tags=["webhooks"], responses=API_ERRORS)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Journeymap-Signature`` of a body sent at ``timestamp``."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class Webhooks:
    """The workspace's webhooks and the thread that delivers their events."""

    def __init__(self, sessions: sessionmaker[Session], workspace_id: int, *, delays: tuple[float, ...] = DELAYS,
                 poll: float = 1.0):
        self.sessions, self.workspace_id, self.delays, self.poll = sessions, workspace_id, delays, poll
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- registry ---------------------------------------------------------------------
    def create(self, url: str, events: list[str] | None, *, by: str) -> tuple[dict[str, Any], str]:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2000:
            raise JourneymapError("url: a webhook is an http:// or https:// address")
        chosen = list(events or EVENTS)
        unknown = [e for e in chosen if e not in EVENTS]
        if unknown:
            raise JourneymapError(f"events: unknown {', '.join(unknown)} (events: {', '.join(EVENTS)})")
        secret = secrets.token_hex(32)
        with self.sessions.begin() as s:
            row = WebhookRow(workspace_id=self.workspace_id, url=url.strip(), secret=secret, events=chosen,
                             created_by=by)
            s.add(row)
            s.flush()
            return self._json(row), secret

    @staticmethod
    def _json(row: WebhookRow) -> dict[str, Any]:
        return {"id": row.id, "url": row.url, "events": row.events, "created_by": row.created_by,
                "created_at": row.created_at.isoformat() + "Z"}

    def list(self) -> list[dict[str, Any]]:
        with self.sessions() as s:
            return [self._json(r) for r in s.scalars(select(WebhookRow).where(
                WebhookRow.workspace_id == self.workspace_id).order_by(WebhookRow.id))]

    def _own(self, s: Session, hook_id: int) -> WebhookRow:
        row = s.get(WebhookRow, hook_id)
        if row is None or row.workspace_id != self.workspace_id:
            raise NotFound(f"no webhook {hook_id}")
        return row

    def delete(self, hook_id: int) -> None:
        with self.sessions.begin() as s:
            s.delete(self._own(s, hook_id))

    def deliveries(self, hook_id: int, limit: int = 50) -> list[dict[str, Any]]:
        with self.sessions() as s:
            self._own(s, hook_id)
            rows = s.scalars(select(WebhookDeliveryRow).where(WebhookDeliveryRow.webhook_id == hook_id)
                             .order_by(WebhookDeliveryRow.id.desc()).limit(limit))
            iso = lambda d: d.isoformat() + "Z" if d else None  # noqa: E731
            return [{"id": r.id, "event": r.event, "status": r.status, "attempts": r.attempts,
                     "next_at": iso(r.next_at) if r.status == "pending" else None, "last_status": r.last_status,
                     "last_error": r.last_error, "created_at": iso(r.created_at),
                     "delivered_at": iso(r.delivered_at)} for r in rows]

    # -- delivery ---------------------------------------------------------------------
    def send(self, event: str, data: dict[str, Any]) -> int:
        """Queue ``event`` for every webhook that wants it (durably); the number queued."""
        with self.sessions.begin() as s:
            hooks = [h for h in s.scalars(select(WebhookRow).where(WebhookRow.workspace_id == self.workspace_id))
                     if event in (h.events or [])]
            for h in hooks:
                s.add(WebhookDeliveryRow(webhook_id=h.id, event=event, status="pending", attempts=0,
                                         payload={"event": event, "at": utcnow().isoformat() + "Z", "data": data}))
        if hooks:
            self._ensure_thread()
            self._wake.set()
        return len(hooks)

    def deliver_due(self) -> int:
        """POST every delivery that is due once; the number attempted."""
        with self.sessions() as s:
            due = list(s.execute(select(WebhookDeliveryRow.id, WebhookRow.url, WebhookRow.secret)
                                 .join(WebhookRow, WebhookRow.id == WebhookDeliveryRow.webhook_id)
                                 .where(WebhookRow.workspace_id == self.workspace_id,
                                        WebhookDeliveryRow.status == "pending",
                                        WebhookDeliveryRow.next_at <= utcnow())
                                 .order_by(WebhookDeliveryRow.id).limit(100)))
        for delivery_id, url, secret in due:
            self._attempt(delivery_id, url, secret)
        return len(due)

    def _attempt(self, delivery_id: int, url: str, secret: str) -> None:
        with self.sessions() as s:
            row = s.get(WebhookDeliveryRow, delivery_id)
            if row is None:
                return
            event, body = row.event, json.dumps(row.payload, separators=(",", ":")).encode()
        stamp = str(int(time.time()))
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": f"journeymap/{__version__}",
            "X-Journeymap-Event": event, "X-Journeymap-Delivery": str(delivery_id),
            "X-Journeymap-Timestamp": stamp, "X-Journeymap-Signature": sign(secret, stamp, body)})
        status, error = None, None
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - http(s) checked
                status = response.status
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code}"
            exc.close()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            error = str(getattr(exc, "reason", exc))[:500]
        with self.sessions.begin() as s:
            row = s.get(WebhookDeliveryRow, delivery_id)
            if row is None:
                return
            row.attempts += 1
            row.last_status, row.last_error = status, error
            if status is not None and 200 <= status < 300:
                row.status, row.delivered_at, row.last_error = "delivered", utcnow(), None
            elif row.attempts > len(self.delays):
                row.status = "failed"
            else:
                row.next_at = utcnow() + dt.timedelta(seconds=self.delays[row.attempts - 1])

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="journeymap-webhooks", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.deliver_due()
            except Exception:  # noqa: BLE001 - the worker must outlive a database hiccup
                import logging

                logging.getLogger("journeymap.app").exception("webhook delivery")
            self._wake.wait(self.poll)
            self._wake.clear()

    def start(self) -> None:
        """Deliver what a previous run left pending."""
        with self.sessions() as s:
            pending = s.scalar(select(WebhookDeliveryRow.id).join(WebhookRow).where(
                WebhookRow.workspace_id == self.workspace_id, WebhookDeliveryRow.status == "pending").limit(1))
        if pending is not None:
            self._ensure_thread()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=TIMEOUT + 2)


# -- API (owners: /api/webhooks is an admin path) ----------------------------------------
class NewWebhook(BaseModel):
    url: str = Field(max_length=2000, description="http(s) address that receives the POSTs")
    events: list[str] | None = Field(default=None, description=" | ".join(EVENTS) + " (default: all)")


@api.get("/webhooks")
def list_webhooks(request: Request) -> list[dict[str, Any]]:
    return state_of(request).webhooks.list()


@api.post("/webhooks", status_code=201)
def post_webhook(request: Request, body: NewWebhook, who: Principal = Depends(authorize)) -> dict[str, Any]:
    hook, secret = state_of(request).webhooks.create(body.url, body.events, by=who.email or who.name)
    return {**hook, "secret": secret}  # shown once: keep it to check the signatures


@api.delete("/webhooks/{hook_id}")
def delete_webhook(request: Request, hook_id: Id) -> dict[str, Any]:
    state_of(request).webhooks.delete(hook_id)
    return {"deleted": hook_id}


@api.get("/webhooks/{hook_id}/deliveries")
def webhook_deliveries(request: Request, hook_id: Id) -> list[dict[str, Any]]:
    return state_of(request).webhooks.deliveries(hook_id)
