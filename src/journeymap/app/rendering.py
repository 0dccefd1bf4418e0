"""What every page of the app shares: rendering a template with the workspace, the user
and the CSRF token; the error page; a map's and a job's fields as the templates read them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from journeymap.app.library import MapSummary
from journeymap.app.paths import base_of, route_path  # noqa: F401 - the pages' helpers, here too
from journeymap.app.state import state_of
from journeymap.app.tables import JobRow


def when(moment: dt.datetime | None) -> str:
    """``2026-12-06 14:03 UTC`` (the database keeps UTC)."""
    return "–" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def site(request: Request) -> str:
    """The workspace app's absolute address, for links that leave the browser (CSV, share
    links, invitations): ``http://host:port`` plus the mount."""
    return str(request.base_url).rstrip("/") + base_of(request)


def go(request: Request, path: str, status_code: int = 303) -> RedirectResponse:
    """A redirect to ``path`` of this workspace's app (``/maps/x`` under its mount)."""
    return RedirectResponse(base_of(request) + path, status_code=status_code)


def render(request: Request, template_name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    from journeymap.app.security import request_csrf

    st = state_of(request)
    who = getattr(request.state, "principal", None)
    html = st.templates.get_template(template_name).render(
        csrf=request_csrf(request), base=base_of(request), workspace=st.ws.config.name, when=when,
        user=who.name if who is not None else "", signed_in=who is not None and not who.local,
        role=who.role if who is not None else "", section=context.pop("section", ""),
        unread=st.comments.unread(who.email) if who is not None and who.email else 0, **context)
    return HTMLResponse(html, status_code=status_code)


def error_page(request: Request, status: int, heading: str, message: str) -> HTMLResponse:
    return render(request, "error.html.j2", status, heading=heading, message=message)


def map_context(m: MapSummary) -> dict[str, Any]:
    r, v = m.row, m.latest
    return {"ref": r.ref, "file": r.file, "title": r.title, "persona": r.persona, "type": r.map_type,
            "owner": r.owner, "version": v.number, "author": v.author, "message": v.message,
            "changed": when(v.created_at), "versions": m.versions, "valid": v.valid, "problems": m.problems}


def job_view(job: JobRow | None) -> dict[str, Any] | None:
    if job is None:
        return None
    return {"id": job.id, "status": job.status, "progress": job.progress, "step": job.step, "error": job.error}
