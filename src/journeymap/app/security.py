"""Security by default (DESIGN §8): one authorization point, CSRF on every state
change, a strict Content-Security-Policy, and a secret made at first start.

* :func:`authorize` is the dependency every router carries: it decides who the request
  is and whether they may do ``action`` on the workspace.  On a workspace without
  members everyone on this computer may do everything; with members, a signed-in
  member whose role allows it (:mod:`journeymap.app.accounts`).
* CSRF: a state-changing request (POST, PUT, PATCH, DELETE) must carry the workspace's
  token in the ``X-CSRF-Token`` header or a ``csrf_token`` form field, and an ``Origin``
  header, when the browser sends one, must be this app's.  Pages carry the token in a
  ``<meta>`` tag; API clients read it from ``GET /api/session``.  Another site can
  neither read the token (no CORS) nor forge the header.
* Every response gets a CSP that allows only this origin's scripts and styles (no
  inline script, no eval), ``frame-ancestors 'self'``, ``nosniff`` and no referrer.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from fastapi import HTTPException, Request
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import JSONResponse, Response

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SECRET_NAME = "app-secret"

APP_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
           "font-src 'self'; connect-src 'self'; frame-src 'self'; object-src 'none'; "
           "base-uri 'none'; form-action 'self'; frame-ancestors 'self'")
#: the standalone map page (its styles and small script are inline by design: the same
#: file works offline) is shown in a sandboxed frame and may fetch nothing
PAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
            "img-src data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'")


def load_secret(folder: Path) -> bytes:
    """The app's secret, generated at first start (``.journeymap/app-secret``, mode 600)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SECRET_NAME
    if path.is_file():
        return bytes.fromhex(path.read_text().strip())
    value = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value.hex())
    return value


SESSION_COOKIE = "jm_session"


def csrf_token(secret: bytes, session: str | None = None) -> str:
    """The CSRF token of a request: bound to its session cookie when it has one (a token
    seen before sign-in is worthless after it), else the workspace's."""
    message = b"journeymap-csrf" + (b":" + session.encode() if session else b"")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def request_csrf(request: Request) -> str:
    return csrf_token(request.app.state.jm.secret, request.cookies.get(SESSION_COOKIE))


@dataclass(frozen=True)
class Principal:
    """Who makes a request: the local user (a workspace without members), or a signed-in
    member with their role."""

    name: str
    local: bool = True
    role: str = "owner"
    email: str | None = None


class SignInRequired(Exception):
    """No valid session on a workspace with members (pages: to /login; API: 401)."""


class Forbidden(Exception):
    """The member's role does not allow the action (403)."""


def local_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment
        return "local"


ACTIONS = ("view", "comment", "edit", "ingest", "admin")


def authorize(request: Request) -> Principal:
    """The one authorization point: every route depends on it.

    The action is ``view`` for safe methods and ``edit`` for the rest (``ingest`` for the
    data routes).  On a workspace without members the local user may do all of them;
    with members, the request's session must be a member's whose role allows the action
    (:mod:`journeymap.app.accounts`).
    """
    from journeymap.app.accounts import NEEDS, may

    action = _action(request)
    if action not in ACTIONS:  # pragma: no cover - a route with an unknown action is a bug
        raise HTTPException(403, f"unknown action {action}")
    accounts = request.app.state.jm.accounts
    bearer = _bearer(request)
    if accounts.enabled() and bearer is not None:  # a script with an API token
        info = accounts.tokens.check(bearer)
        if info is None:
            raise SignInRequired()
        principal = Principal(f"token {info.name}", local=False, role=info.role)
        request.state.principal = principal
        if not may(info.role, action):
            raise Forbidden(f"token '{info.name}' is a {info.role}'s; to {action} needs {NEEDS[action]}")
    elif accounts.enabled():
        signed = accounts.signed_in(request.cookies.get(SESSION_COOKIE))
        if signed is None:
            raise SignInRequired()
        m = signed.member
        principal = Principal(m.name, local=False, role=m.role, email=m.email)
        request.state.principal = principal
        if not may(m.role, action):
            raise Forbidden(f"{m.email} is a {m.role} of this workspace; to {action} needs {NEEDS[action]}")
    else:
        principal = Principal(request.app.state.user)
    request.state.principal = principal
    request.state.action = action
    return principal


#: what only owners see or do, whatever the method: the members and the API tokens
ADMIN_PATHS = ("/members", "/api/members", "/api/tokens", "/api/webhooks")


#: state changes a commenter may make: comments and their threads (exact routes: a map
#: named "comments" gives its editor routes no commenter's rights)
COMMENT_PATHS = re.compile(r"^(/api/maps/[^/]+/comments|/api/comments/\d+/resolve"
                           r"|/maps/[^/]+/discussion(/\d+/(reply|resolve|reopen))?)$")


#: state changes any member makes to their own account, whatever their role
SELF_PATHS = ("/account/password", "/mentions/read", "/api/mentions/read")


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth[:7].lower() == "bearer " else None


def _action(request: Request) -> str:
    from journeymap.app.paths import route_path

    path = route_path(request)
    if any(path == p or path.startswith(p + "/") for p in ADMIN_PATHS):
        return "admin"
    if request.method in SAFE_METHODS:
        return "view"
    if path in SELF_PATHS:
        return "view"
    if COMMENT_PATHS.match(path):
        return "comment"
    if path.startswith(("/api/data", "/data")):
        return "ingest"
    return "edit"


class SecurityMiddleware(BaseHTTPMiddleware):
    """CSRF check on state changes; security headers on every response."""

    def __init__(self, app, secret: bytes):  # type: ignore[no-untyped-def]
        super().__init__(app)
        self.secret = secret

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        # a script's bearer token comes with no cookie: nothing a browser could be made to send
        scripted = _bearer(request) is not None and SESSION_COOKIE not in request.cookies
        if request.method not in SAFE_METHODS and not scripted:
            problem = await self._csrf_problem(request)
            if problem:
                return JSONResponse({"error": problem}, status_code=403)
        response = await call_next(request)
        page = request.url.path.endswith("/page")  # under any mount
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP if page else APP_CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    async def _csrf_problem(self, request: Request) -> str | None:
        origin = request.headers.get("origin")
        if origin and origin != "null":
            host = request.headers.get("host", "")
            if urlsplit(origin).netloc != host:
                return f"cross-origin request from {origin} refused"
        given = request.headers.get("x-csrf-token")
        if given is None and request.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"):  # an upload sends the header
            # read the body (starlette keeps it for the route), not the form (it would not)
            fields = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=1000)
            given = (fields.get("csrf_token") or [None])[0]
        expected = csrf_token(self.secret, request.cookies.get(SESSION_COOKIE))
        if not given or not hmac.compare_digest(given, expected):
            return "missing or wrong CSRF token (send X-CSRF-Token; GET /api/session gives it)"
        return None
