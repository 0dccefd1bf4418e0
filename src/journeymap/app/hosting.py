"""Several workspaces on one server (issue 12): each workspace's app mounted at
``/w/NAME/``, with a page at ``/`` that lists them.

Each mounted app is exactly :func:`journeymap.app.main.create_app` on its workspace:
its own store, map library, job worker, secret (CSRF, link signing) and members.  The
workspaces may keep their metadata in their own SQLite files (the default) or share one
database (``[app] database_url`` naming the same PostgreSQL or SQLite URL); everything
in it is keyed by workspace, and a person who belongs to two workspaces of a shared
database has one account (one password) and a session per workspace.

Isolation does not rest on the browser: the session cookie's path is the workspace's
mount, so a browser sends it only there, and a session, API token, thread, share link,
webhook or job of one workspace is unknown to every other (tested route by route in
``tests/app/test_workspaces.py``).
"""

from __future__ import annotations

import re
from contextlib import AsyncExitStack, asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from journeymap.version import __version__
from journeymap.errors import JourneymapError

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                                      "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "X-Frame-Options": "DENY", "Cache-Control": "no-store"}


def mount_name(text: str) -> str:
    """A workspace's name in its address: lower case letters, digits and dashes
    (``Sales EMEA`` → ``sales-emea``)."""
    name = re.sub(r"[^a-z0-9]+", "-", text.strip().lower()).strip("-")[:63]
    if not name:
        raise JourneymapError(f"'{text}' gives no workspace name for the address; name it: NAME=PATH")
    return name


def parse_workspaces(values: list[str] | tuple[str, ...]) -> dict[str, Path]:
    """``-w PATH`` or ``-w NAME=PATH`` values → {name: folder}; names from the folder's
    name unless given.  Two workspaces may not share a name or a folder."""
    found: dict[str, Path] = {}
    folders: dict[Path, str] = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or "/" in name or "\\" in name:
            name, path = "", value
        folder = Path(path).resolve()
        name = name or mount_name(folder.name)
        if not NAME.match(name):
            raise JourneymapError(f"workspace name '{name}': use lower case letters, digits and dashes "
                                  "(it is part of the address /w/NAME/)")
        if name in found:
            raise JourneymapError(f"two workspaces are named '{name}' ({found[name]} and {folder}); "
                                  "name them: -w NAME=PATH")
        if folder in folders:
            raise JourneymapError(f"{folder} is given twice (as '{folders[folder]}' and '{name}')")
        found[name], folders[folder] = folder, name
    return found


def create_server(workspaces: dict[str, Path], *, database_url: str | None = None, user: str | None = None,
                  warm: bool = False, sync_on_start: bool = True) -> FastAPI:
    """One server for ``workspaces`` ({name: folder}): each one's app at ``/w/NAME/``;
    their metadata in ``database_url`` (one database for all), else each in its own
    ``[app] database_url`` or SQLite file."""
    from journeymap.app.main import create_app, templates_env

    apps: dict[str, FastAPI] = {}
    titles: dict[str, str] = {}
    try:
        for name, root in workspaces.items():
            apps[name] = create_app(root, database_url=database_url, user=user, warm=warm,
                                     sync_on_start=sync_on_start)
            titles[name] = apps[name].state.jm.ws.config.name
    except BaseException:
        for app in apps.values():  # the ones already open close again
            app.state.close()
        raise

    @asynccontextmanager
    async def lifespan(_top: FastAPI):  # type: ignore[no-untyped-def]
        async with AsyncExitStack() as stack:
            for app in apps.values():  # a mounted app's lifespan is not run by its mount
                await stack.enter_async_context(app.router.lifespan_context(app))
            yield

    top = FastAPI(title="journeymap", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None)
    top.state.workspaces = apps
    env = templates_env()

    @top.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(_request: Request) -> HTMLResponse:
        html = env.get_template("server.html.j2").render(workspaces=list(titles.items()))
        return HTMLResponse(html, headers=HEADERS)

    @top.get("/w/{name}", include_in_schema=False)
    def bare(name: str) -> Any:  # /w/NAME → /w/NAME/ (the cookie's path ends with a slash)
        if name not in apps:
            return HTMLResponse("<!doctype html><title>Not found</title><p>No such workspace.</p>",
                                status_code=404, headers=HEADERS)
        return RedirectResponse(f"/w/{name}/", status_code=308, headers=HEADERS)

    static = Path(str(resources.files("journeymap.app").joinpath("static")))
    top.mount("/static", StaticFiles(directory=static), name="static")
    for name, app in apps.items():
        top.mount(f"/w/{name}", app)
    return top
