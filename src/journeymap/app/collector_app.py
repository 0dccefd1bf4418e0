"""The collector's HTTP API: Segment's tracking API (``POST /v1/track``, ``/v1/identify``,
``/v1/page``, ``/v1/screen``, ``/v1/batch``), so Segment's and RudderStack's client
libraries send to journeymap unchanged.

* **Auth**: HTTP Basic with the source's write key as the user name (what the libraries
  send), or ``writeKey`` in the body; anything else is 401.
* **Limits**: a call over 32 KB or a batch over 500 KB is 413, decided from
  ``Content-Length`` or while reading, never after reading the whole body; a source over
  its rate is 429 with ``Retry-After``; a spool the drain cannot keep up with is 503 with
  ``Retry-After``. Nothing accepted is lost on any of them: the client retries.
* **Answers**: 200 ``{"success": true}`` once every call is fsync'd; 400 naming each
  refused call and why (the others are stored; the refused are quarantined).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import gzip
import json
import math
import zlib
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from journeymap.collector import ENDPOINTS, MAX_BATCH_BYTES, MAX_CALL_BYTES, Collector


class TooLarge(Exception):
    pass


def _key_of(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        user = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user or None


async def _body(request: Request, limit: int) -> bytes:
    """The body, decompressed, refusing (TooLarge) as soon as it passes ``limit``."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise TooLarge
    encoding = request.headers.get("content-encoding", "").lower()
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding == "gzip" else None
    chunks, size = [], 0
    async for chunk in request.stream():
        if inflate is not None:
            chunk = inflate.decompress(chunk, limit + 1 - size)
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"success": False, "message": message}, status_code=status, headers=headers or None)


def create_collector_app(collector: Collector) -> Starlette:
    """The Starlette app of ``journeymap collect`` (and of ``serve --collect``)."""

    async def receive(request: Request) -> JSONResponse:
        endpoint = request.path_params["endpoint"]
        if endpoint not in ENDPOINTS:
            return _error(404, f"no endpoint /v1/{endpoint} (have: {', '.join('/v1/' + e for e in ENDPOINTS)})")
        limit = MAX_BATCH_BYTES if endpoint == "batch" else MAX_CALL_BYTES
        try:
            raw = await _body(request, limit)
        except TooLarge:
            return _error(413, f"/v1/{endpoint}: the body is over {limit // 1024} KB "
                               f"({'batch' if endpoint == 'batch' else 'call'} limit)")
        except (zlib.error, gzip.BadGzipFile, EOFError):
            return _error(400, "the gzip body does not decompress")
        try:
            body: Any = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return _error(400, f"/v1/{endpoint}: the body is not JSON ({exc})")
        key = _key_of(request) or (body.get("writeKey") if isinstance(body, dict) else None)
        source = collector.keys.source_of(key) if isinstance(key, str) and key else None
        if source is None:
            return _error(401, "unknown write key: send the source's key as the HTTP Basic user name",
                          **{"WWW-Authenticate": 'Basic realm="journeymap collector"'})
        calls = len(body.get("batch") or []) if endpoint == "batch" and isinstance(body, dict) else 1
        wait = collector.limiter.take(source, max(calls, 1))
        if wait:
            return _error(429, f"source '{source}' is over its rate; retry later",
                          **{"Retry-After": str(max(1, math.ceil(wait)))})
        if collector.overloaded():
            return _error(503, "the collector is behind on storing; retry later", **{"Retry-After": "5"})
        got = collector.receive(body, endpoint, source)
        try:
            await asyncio.wrap_future(got.stored)
        except Exception:  # noqa: BLE001 - the disk refused: say so, and the client retries
            return _error(503, "could not store the calls durably; retry later", **{"Retry-After": "5"})
        if got.refused:
            return JSONResponse({"success": False, "accepted": got.accepted, "refused": got.refused},
                                status_code=400)
        return JSONResponse({"success": True})

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "pending_bytes": collector.calls.pending_bytes()})

    # browsers (analytics.js) post from the site's own origin; the write key is the only
    # credential, never a cookie, so any origin may send
    cors = Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["POST"],
                      allow_headers=["authorization", "content-type", "content-encoding"], max_age=86400)
    return Starlette(routes=[Route("/v1/{endpoint}", receive, methods=["POST"]),
                             Route("/health", health, methods=["GET"])], middleware=[cors])


def with_collector(app: Any, *, every: float = 2.0, rate: float = 0.0) -> WithCollector:
    """``app`` (the workspace's app, from :func:`journeymap.app.main.create_app`) with the
    collector at ``/v1/`` in front of it (``journeymap serve --collect``).  The app's
    process owns the store, so it drains the spool itself every ``every`` seconds, and the
    maps show the new events at their next analysis.  ``/v1`` bypasses the app's session
    and CSRF checks: write keys are its only credential."""
    import threading

    ws = app.state.jm.ws
    collector = ws.collector(rate=rate, burst=max(5_000.0, rate * 2))
    inner = create_collector_app(collector)
    stop = threading.Event()

    def drain_loop() -> None:
        while not stop.wait(every):
            try:
                collector.drain()
            except Exception as exc:  # noqa: BLE001 - the calls stay in the spool; the next round retries
                import sys

                print(f"note: collector drain failed, will retry: {type(exc).__name__}: {exc}", file=sys.stderr)

    thread = threading.Thread(target=drain_loop, name="journeymap-drain", daemon=True)
    thread.start()

    def finish() -> None:  # before the store closes: stop receiving, load what came
        stop.set()
        thread.join(timeout=every + 120)
        collector.close()
        collector.drain()

    app.state.before_close.append(finish)
    return WithCollector(app, inner, collector)


class WithCollector:
    """An ASGI app: ``/v1/...`` to the collector, everything else (lifespan too) to the app."""

    def __init__(self, app: Any, collector_app: Starlette, collector: Collector):
        self.app, self.collector_app, self.collector = app, collector_app, collector
        self.state = app.state

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            await self.collector_app(scope, receive, send)
        else:
            await self.app(scope, receive, send)
