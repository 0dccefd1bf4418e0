"""Share links: a read-only link to one map's page, for someone without an account — a
stakeholder, an agency, a board deck.

A link is ``/share/TOKEN``: 256 random bits, of which only the SHA-256 is stored, so it
can be neither guessed nor forged nor read back from the database; it is shown once, when
made.  It expires (1 to 365 days, 30 by default) and can be revoked at any time; the
map's Share tab lists its links with who made them, when they end and how often they
were opened.  Opened, it shows the map page as ``journeymap render`` draws it (with the
numbers of the latest analysis) and nothing else: no navigation, no other map, no data,
no workspace name — under a Content-Security-Policy that sandboxes the page (its scripts
run in an opaque origin, without the app's cookies) and a ``noindex`` header.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from journeymap.app.library import NotFound
from journeymap.app.security import PAGE_CSP, Principal, authorize
from journeymap.app.state import AppState, state_of
from journeymap.app.tables import MapRow, ShareLinkRow, utcnow
from journeymap.app.rendering import go, site
from journeymap.app.responses import API_ERRORS, Id
from journeymap.errors import JourneymapError

DEFAULT_DAYS, MAX_DAYS = 30, 365
router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)
api = APIRouter(prefix="/api", dependencies=[Depends(authorize)], tags=["share links"], responses=API_ERRORS)
public = APIRouter(include_in_schema=False)  # the one route without an account


@dataclass
class Share:
    id: int
    label: str
    created_by: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    revoked_by: str | None
    opened: int
    last_opened_at: dt.datetime | None

    @property
    def state(self) -> str:
        return "revoked" if self.revoked_at else "expired" if self.expires_at <= utcnow() else "active"

    def as_json(self) -> dict[str, Any]:
        iso = lambda d: d.isoformat() + "Z" if d else None  # noqa: E731
        return {"id": self.id, "label": self.label, "created_by": self.created_by,
                "created_at": iso(self.created_at), "expires_at": iso(self.expires_at), "state": self.state,
                "revoked_at": iso(self.revoked_at), "revoked_by": self.revoked_by, "opened": self.opened,
                "last_opened_at": iso(self.last_opened_at)}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _share(r: ShareLinkRow) -> Share:
    return Share(r.id, r.label, r.created_by, r.created_at, r.expires_at, r.revoked_at, r.revoked_by, r.opened,
                 r.last_opened_at)


def shares_of(st: AppState, ref: str) -> list[Share]:
    summary = st.library.get(ref)
    with st.library.sessions() as s:
        rows = s.scalars(select(ShareLinkRow).where(ShareLinkRow.map_pk == summary.row.id)
                         .order_by(ShareLinkRow.created_at.desc(), ShareLinkRow.id.desc()))
        return [_share(r) for r in rows]


def create_share(st: AppState, ref: str, *, label: str, days: int, by: str) -> tuple[Share, str]:
    """A new link to ``ref``'s page for ``days`` days: (the link, its token — shown once)."""
    summary = st.library.get(ref)
    label = " ".join(label.split())[:200] or "shared link"
    if not 1 <= days <= MAX_DAYS:
        raise JourneymapError(f"days: a share link lasts 1 to {MAX_DAYS} days")
    token = secrets.token_urlsafe(32)
    with st.library.sessions.begin() as s:
        row = ShareLinkRow(map_pk=summary.row.id, token_hash=_hash(token), label=label, created_by=by,
                           expires_at=utcnow() + dt.timedelta(days=days), opened=0)
        s.add(row)
        s.flush()
        share = _share(row)
    return share, token


def revoke_share(st: AppState, ref: str, share_id: int, *, by: str) -> Share:
    summary = st.library.get(ref)
    with st.library.sessions.begin() as s:
        row = s.get(ShareLinkRow, share_id)
        if row is None or row.map_pk != summary.row.id:  # another map's (or workspace's) id
            raise NotFound(f"{ref} has no share link {share_id}")
        if row.revoked_at is None:
            row.revoked_at, row.revoked_by = utcnow(), by
        return _share(row)


def open_share(st: AppState, token: str) -> tuple[str | None, str]:
    """The map ref a token opens, or None and why not."""
    with st.library.sessions.begin() as s:
        found = s.execute(select(ShareLinkRow, MapRow).join(MapRow, MapRow.id == ShareLinkRow.map_pk)
                          .where(ShareLinkRow.token_hash == _hash(token),
                                 MapRow.workspace_id == st.library.workspace_id)).first()
        if found is None or found[1].deleted:
            return None, "This link does not open anything."
        row, m = found
        if row.revoked_at is not None:
            return None, "This link was revoked."
        if row.expires_at <= utcnow():
            return None, "This link has expired."
        row.opened += 1
        row.last_opened_at = utcnow()
        return m.ref, ""


def url_of(request: Request, token: str) -> str:
    return f"{site(request)}/share/{token}"


# -- the shared page ----------------------------------------------------------------------
SHARED_CSP = PAGE_CSP.replace("frame-ancestors 'self'", "frame-ancestors 'none'") + "; sandbox allow-scripts"


def _bare(status: int, message: str) -> HTMLResponse:
    """A page that says nothing of the workspace."""
    from html import escape

    return HTMLResponse(f"<!doctype html><html lang=en><meta charset=utf-8><title>journeymap</title>"
                        f"<p>{escape(message)}</p></html>", status_code=status,
                        headers={"Content-Security-Policy": SHARED_CSP, "X-Robots-Tag": "noindex, nofollow"})


@public.get("/share/{token}", response_class=HTMLResponse)
def shared_page(request: Request, token: str) -> HTMLResponse:
    from journeymap.app.pages import map_page_html

    st = state_of(request)
    ref, why = open_share(st, token[:200])
    if ref is None:
        return _bare(410 if why != "This link does not open anything." else 404, why)
    st.jobs.analysis_for(ref)  # numbers for the next visit if none are cached
    html = map_page_html(request, ref)
    if html is None:
        return _bare(404, "This map has no valid version yet.")
    return HTMLResponse(html, headers={"Content-Security-Policy": SHARED_CSP, "X-Robots-Tag": "noindex, nofollow"})


# -- the Share tab ------------------------------------------------------------------------
def _page(request: Request, ref: str, *, new_url: str = "", error: str = "", status: int = 200) -> HTMLResponse:
    from journeymap.app.rendering import map_context, render

    st = state_of(request)
    st.library.sync()
    return render(request, "share.html.j2", status, tab="share", m=map_context(st.library.get(ref)),
                  shares=shares_of(st, ref), new_url=new_url, error=error, default_days=DEFAULT_DAYS,
                  max_days=MAX_DAYS)


@router.get("/maps/{ref}/share", response_class=HTMLResponse)
def share_tab(request: Request, ref: str) -> HTMLResponse:
    return _page(request, ref)


@router.post("/maps/{ref}/share", response_class=HTMLResponse)
def share_submit(request: Request, ref: str, label: str = Form(""), days: str = Form(str(DEFAULT_DAYS)),
                 who: Principal = Depends(authorize)) -> HTMLResponse:
    st = state_of(request)
    try:
        _, token = create_share(st, ref, label=label, days=int(days) if days.strip().isdigit() else 0,
                                by=who.email or who.name)
    except JourneymapError as exc:
        return _page(request, ref, error=str(exc), status=400)
    return _page(request, ref, new_url=url_of(request, token))  # shown once: only its hash is kept


@router.post("/maps/{ref}/share/{share_id}/revoke")
def revoke_submit(request: Request, ref: str, share_id: Id, who: Principal = Depends(authorize)) -> Response:
    revoke_share(state_of(request), ref, share_id, by=who.email or who.name)
    return go(request, f"/maps/{ref}/share", 303)


# -- API ----------------------------------------------------------------------------------
class NewShare(BaseModel):
    label: str = Field(default="", max_length=200)
    days: int = Field(default=DEFAULT_DAYS, ge=1, le=MAX_DAYS)


@api.get("/maps/{ref}/shares")
def list_shares(request: Request, ref: str) -> list[dict[str, Any]]:
    return [s.as_json() for s in shares_of(state_of(request), ref)]


@api.post("/maps/{ref}/shares", status_code=201)
def post_share(request: Request, ref: str, body: NewShare, who: Principal = Depends(authorize)) -> dict[str, Any]:
    share, token = create_share(state_of(request), ref, label=body.label, days=body.days, by=who.email or who.name)
    return {**share.as_json(), "url": url_of(request, token)}


@api.delete("/maps/{ref}/shares/{share_id}")
def delete_share(request: Request, ref: str, share_id: Id, who: Principal = Depends(authorize)) -> dict[str, Any]:
    return revoke_share(state_of(request), ref, share_id, by=who.email or who.name).as_json()
