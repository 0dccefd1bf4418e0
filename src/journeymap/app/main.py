"""The app: :func:`create_app` builds it for one workspace.

One process holds the workspace (the DuckDB store's one writer), the metadata
database, the map library and the job worker; routes call only these, never the
engine or the store on their own.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from journeymap.version import __version__
from journeymap.app.db import APP_DIR, default_url, open_database
from journeymap.app.jobs import Jobs
from journeymap.app.library import Conflict, MapLibrary, NotFound
from journeymap.app.accounts import Accounts
from journeymap.app.comments import Comments
from journeymap.app.security import (
    Forbidden,
    SecurityMiddleware,
    SignInRequired,
    load_secret,
    local_user,
)
from journeymap.app.state import AppState
from journeymap.errors import JourneymapError, MapValidationError
from journeymap.workspace import Workspace

log = logging.getLogger("journeymap.app")


def templates_env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("journeymap.app", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.globals["version"] = __version__
    return env


#: how often ``serve`` looks for maps to analyse again (their data or their text changed)
REFRESH_SECONDS = 30.0


def create_app(root: str | Path, *, database_url: str | None = None, user: str | None = None,
               sync_on_start: bool = True, warm: bool = False) -> FastAPI:
    """The app serving the workspace at ``root``; ``warm`` queues the analysis of every
    valid map that has none for the current data, so the first visit finds numbers."""
    ws = Workspace.open(root)
    url = database_url or ws.config.app_database_url or default_url(ws.root)
    sessions = open_database(url)
    library = MapLibrary(ws, sessions)
    if sync_on_start:
        library.sync()
    jobs = Jobs(library, sessions)
    if warm:  # and from then on, the scheduler: a map whose data or text changed is analysed again
        jobs.refresh_all()
        jobs.refresh_every(REFRESH_SECONDS)
    secret = load_secret(ws.root / APP_DIR)
    accounts = Accounts(sessions, library.workspace_id)
    from journeymap.app.webhooks import Webhooks

    comments = Comments(sessions, library.workspace_id, accounts)
    webhooks = Webhooks(sessions, library.workspace_id)
    comments.notify = webhooks.send
    jobs.notify = webhooks.send
    from journeymap.app.mail import Mailer

    state = AppState(ws, library, jobs, secret, accounts, comments, templates_env(), webhooks=webhooks,
                     mailer=Mailer.of(ws.config.smtp))
    webhooks.start()

    def close() -> None:  # the worker threads, the store, the database's connections
        for first in app.state.before_close:  # what must finish while the store is open
            first()
        webhooks.close()
        jobs.close()
        ws.close()
        sessions.kw["bind"].dispose()

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # type: ignore[no-untyped-def]
        yield
        close()

    app = FastAPI(title="journeymap", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None,  # their pages load scripts from a CDN
                  description="The journeymap app's JSON API: maps, versions, analyses, jobs.")
    app.state.jm = state
    app.state.close = close
    app.state.before_close = []
    app.state.user = user or local_user()
    app.add_middleware(SecurityMiddleware, secret=secret)
    static = Path(str(resources.files("journeymap.app").joinpath("static")))
    app.mount("/static", StaticFiles(directory=static), name="static")

    from journeymap.app import (analytics, api, backlog, compare, discussion, members, ownership, pages, personas,
                                reviews, shares, signin, webhooks as hooks)

    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(analytics.router)
    app.include_router(personas.router)
    app.include_router(compare.router)
    app.include_router(signin.router)
    app.include_router(members.router)
    app.include_router(members.api)
    app.include_router(discussion.router)
    app.include_router(discussion.api)
    app.include_router(reviews.router)
    app.include_router(reviews.api)
    app.include_router(backlog.router)
    app.include_router(ownership.router)
    app.include_router(ownership.api)
    app.include_router(shares.router)
    app.include_router(shares.api)
    app.include_router(shares.public)
    app.include_router(hooks.api)
    _errors(app)
    return app


def _errors(app: FastAPI) -> None:
    """journeymap's errors as JSON (API) — the same words as the CLI."""

    def wants_json(request: Request) -> bool:
        from journeymap.app.rendering import route_path

        return route_path(request).startswith("/api/") or "application/json" in request.headers.get("accept", "")

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, exc: SignInRequired) -> Any:
        if wants_json(request):
            return JSONResponse({"error": "sign in first (POST /login)"}, status_code=401)
        from urllib.parse import quote

        from journeymap.app.rendering import go

        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return go(request, f"/login?next={quote(target)}", 303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Any:
        if wants_json(request):
            return JSONResponse({"error": str(exc)}, status_code=403)
        from journeymap.app.rendering import error_page

        return error_page(request, 403, "Not allowed", str(exc))

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Any:
        if wants_json(request):
            return JSONResponse({"error": str(exc)}, status_code=404)
        from journeymap.app.rendering import error_page

        return error_page(request, 404, "Not found", str(exc))

    @app.exception_handler(Conflict)
    async def conflict(request: Request, exc: Conflict) -> Any:
        return JSONResponse({"error": str(exc), "base_version": exc.base,
                             "latest": {"number": exc.latest.number, "author": exc.latest.author,
                                        "created_at": exc.latest.created_at.isoformat() + "Z",
                                        "text": exc.latest.text},
                             "yours": exc.yours}, status_code=409)

    @app.exception_handler(MapValidationError)
    async def invalid(request: Request, exc: MapValidationError) -> Any:
        from journeymap.app.library import issue_dict

        return JSONResponse({"error": str(exc), "problems": [issue_dict(i) for i in exc.issues]},
                            status_code=422)

    @app.exception_handler(JourneymapError)
    async def failed(request: Request, exc: JourneymapError) -> Any:
        field = getattr(exc, "field", None)  # a filter the user typed (analytics)
        return JSONResponse({"error": str(exc), **({"field": field} if field else {})}, status_code=400)
