"""Where a request stands in the server: the mount of its workspace's app (one
workspace: none; several: ``/w/NAME``) and its path inside that app."""

from __future__ import annotations

from starlette.requests import Request


def base_of(request: Request) -> str:
    """The path this workspace's app is mounted at: ``""`` when the server has one
    workspace, ``/w/NAME`` when it has several (:mod:`journeymap.app.hosting`)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def route_path(request: Request) -> str:
    """The request's path inside the workspace's app (``/maps/x``, whatever the mount)."""
    return request.url.path[len(base_of(request)):] or "/"
