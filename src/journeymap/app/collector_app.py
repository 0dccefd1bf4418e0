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
import html
import json
import math
import zlib
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from journeymap.collector import ENDPOINTS, MAX_BATCH_BYTES, MAX_CALL_BYTES, Collector
from journeymap.touchpoint_surveys import SurveyError, SurveySpec


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

    async def _stored(future: Any) -> JSONResponse | None:
        try:
            await asyncio.wrap_future(future)
        except Exception:  # noqa: BLE001 - the disk refused: say so, and the client retries
            return _error(503, "could not store the answer durably; retry later", **{"Retry-After": "5"})
        return None

    async def _json_body(request: Request) -> Any:
        try:
            return json.loads(await _body(request, MAX_CALL_BYTES))
        except TooLarge:
            raise SurveyError(f"the body is over {MAX_CALL_BYTES // 1024} KB", 413) from None
        except (json.JSONDecodeError, UnicodeDecodeError, zlib.error, gzip.BadGzipFile, EOFError):
            raise SurveyError("the body is not JSON") from None

    def _source(request: Request, body: Any) -> str | None:
        key = _key_of(request) or (body.get("writeKey") if isinstance(body, dict) else None)
        return collector.keys.source_of(key) if isinstance(key, str) and key else None

    async def survey_api(request: Request) -> JSONResponse:
        """``POST /v1/survey`` (an answer, with a write key), ``/v1/survey/ask`` (the
        pop-up: whether to ask) and ``/v1/survey/answer`` (the pop-up's answer, with
        the token the ask gave; the token is its credential)."""
        action = request.path_params.get("action", "")
        body: Any = None
        try:
            body = await _json_body(request)
            if action == "answer":
                if not isinstance(body, dict) or not isinstance(body.get("token"), str):
                    raise SurveyError("an answer needs the token its ask gave")
                row, nonce = collector.surveys.take_link_answer(body["token"], body.get("score"),
                                                                body.get("comment"), via="popup")
                failed = await _stored(collector.submit_answer(row))
                if failed is not None:
                    collector.surveys.book.release(nonce)
                    return failed
                return JSONResponse({"success": True})
            source = _source(request, body)
            if source is None:
                return _error(401, "unknown write key: send the source's key as the HTTP Basic user name",
                              **{"WWW-Authenticate": 'Basic realm="journeymap collector"'})
            wait = collector.limiter.take(source, 1)
            if wait:
                return _error(429, f"source '{source}' is over its rate; retry later",
                              **{"Retry-After": str(max(1, math.ceil(wait)))})
            if action == "ask":
                if not isinstance(body, dict):
                    raise SurveyError("the body must be a JSON object")
                return JSONResponse(collector.surveys.ask(str(body.get("map") or ""), str(body.get("touchpoint") or ""),
                                                          str(body.get("userId") or "")))
            if action:
                return _error(404, f"no endpoint /v1/survey/{action} (have: /v1/survey, /v1/survey/ask, "
                                   "/v1/survey/answer)")
            if collector.overloaded():
                return _error(503, "the collector is behind on storing; retry later", **{"Retry-After": "5"})
            try:
                row = collector.surveys.api_answer(body)
            except SurveyError as exc:
                await asyncio.wrap_future(collector.refuse(body, "survey", source, f"survey answer: {exc}"))
                raise
            return await _stored(collector.submit_answer(row)) or JSONResponse({"success": True})
        except SurveyError as exc:
            return _error(exc.status, str(exc))

    async def survey_page(request: Request) -> HTMLResponse:
        """``/s/TOKEN``: the survey of a link, as a plain form (no script needed)."""
        token = request.path_params["token"]
        try:
            if request.method == "POST":
                form = await request.form()
                score = form.get("score")
                if score in (None, ""):
                    claims, spec = collector.surveys.claims(token)
                    return _page(survey_form(spec, "Please choose a score."), 400)
                row, nonce = collector.surveys.take_link_answer(token, score, form.get("comment"))
                failed = await _stored(collector.submit_answer(row))
                if failed is not None:
                    collector.surveys.book.release(nonce)
                    return _page("<p>We could not save your answer just now. Please try again in a minute.</p>", 503)
                return _page("<h1>Thank you!</h1><p>Your answer has been recorded.</p>")
            claims, spec = collector.surveys.claims(token)
            if not collector.surveys.book.is_open(claims.nonce):
                raise SurveyError("this survey link has been answered already: thank you", 410)
            return _page(survey_form(spec))
        except SurveyError as exc:
            return _page(f"<h1>{html.escape(str(exc)[:1].upper() + str(exc)[1:])}</h1>", exc.status)

    async def survey_script(request: Request) -> Response:
        return Response(SURVEY_JS, media_type="text/javascript; charset=utf-8",
                        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"})

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "pending_bytes": collector.calls.pending_bytes()})

    # browsers (analytics.js) post from the site's own origin; the write key is the only
    # credential, never a cookie, so any origin may send
    cors = Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["POST"],
                      allow_headers=["authorization", "content-type", "content-encoding"], max_age=86400)
    return Starlette(routes=[Route("/v1/survey", survey_api, methods=["POST"]),
                             Route("/v1/survey/{action}", survey_api, methods=["POST"]),
                             Route("/v1/{endpoint}", receive, methods=["POST"]),
                             Route("/s/{token}", survey_page, methods=["GET", "POST"]),
                             Route("/survey.js", survey_script, methods=["GET"]),
                             Route("/health", health, methods=["GET"])], middleware=[cors])


SURVEY_JS = (Path(__file__).parent / "static" / "survey.js").read_bytes()
#: the link page: no script at all, styles inline, forms only to itself, never framed
SURVEY_CSP = ("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; "
              "base-uri 'none'")
_PAGE_CSS = ("body{font:16px/1.5 system-ui,sans-serif;color:#1d2433;max-width:34rem;margin:3rem auto;padding:0 1rem}"
             "fieldset{border:0;padding:0;margin:0}legend{font-size:1.25rem;font-weight:600;margin-bottom:.75rem}"
             ".scale{display:flex;flex-wrap:wrap;gap:.35rem}.scale label{flex:1 0 2.2rem;text-align:center;"
             "border:1px solid #9aa3b5;border-radius:.4rem;padding:.5rem 0;cursor:pointer}"
             ".scale label:has(input:checked){background:#1f5fbf;color:#fff;border-color:#1f5fbf}"
             ".ends{display:flex;justify-content:space-between;font-size:.85rem;color:#4a5468;margin:.3rem 0 1rem}"
             "textarea{width:100%;min-height:5rem;font:inherit;box-sizing:border-box}"
             "button{font:inherit;padding:.5rem 1.2rem;border-radius:.4rem;border:1px solid #1f5fbf;"
             "background:#1f5fbf;color:#fff;margin-top:1rem;cursor:pointer}.error{color:#a4262c}")


def _page(body: str, status: int = 200) -> HTMLResponse:
    page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">'
            f"<title>Survey</title><style>{_PAGE_CSS}</style></head><body><main>{body}</main></body></html>")
    return HTMLResponse(page, status_code=status, headers={
        "Content-Security-Policy": SURVEY_CSP, "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def survey_form(spec: SurveySpec, error: str | None = None) -> str:
    """The question as an accessible HTML form (every user text escaped)."""
    info = spec.as_json()
    lo, hi = info["scale"]
    radios = "".join(f'<label><input type="radio" name="score" value="{v}" required> {v}</label>'
                     for v in range(lo, hi + 1))
    comment = ""
    if info["comment"]:
        comment = (f'<p><label for="comment">{html.escape(info["comment"])}</label><br>'
                   '<textarea id="comment" name="comment" maxlength="2000"></textarea></p>')
    err = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return (f'<form method="post">{err}<fieldset><legend>{html.escape(info["question"])}</legend>'
            f'<div class="scale">{radios}</div><div class="ends" aria-hidden="true">'
            f'<span>{html.escape(info["labels"][0])}</span><span>{html.escape(info["labels"][1])}</span></div>'
            f'</fieldset>{comment}<button type="submit">Send</button></form>')


def with_collector(app: Any, *, every: float = 2.0, rate: float = 0.0) -> WithCollector:
    """``app`` (the workspace's app, from :func:`journeymap.app.main.create_app`) with the
    collector at ``/v1/`` in front of it (``journeymap serve --collect``).  The app's
    process owns the store, so it drains the spool itself every ``every`` seconds, and the
    maps show the new events at their next analysis.  ``/v1`` bypasses the app's session
    and CSRF checks: write keys are its only credential."""
    import threading

    ws = app.state.jm.ws
    collector = ws.collector(rate=rate, burst=max(5_000.0, rate * 2))
    app.state.collecting = True  # /s/ survey links are answered here (the API makes them)
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
        if scope["type"] == "http" and (scope["path"].startswith(("/v1/", "/s/")) or scope["path"] == "/survey.js"):
            await self.collector_app(scope, receive, send)
        else:
            await self.app(scope, receive, send)
