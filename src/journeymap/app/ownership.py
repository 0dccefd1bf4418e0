"""Who fixes what: each pain point and opportunity the data found carries an owner (a
member), a status — open, planned, in progress, done, dropped — and a link (the ticket in
the team's tracker).

A pain point is known by what it is and where, not by its rank, so its owner and status
stay with it from one analysis to the next: ``pain:LEVEL:TARGET`` and
``opportunity:KIND:LEVEL:TARGET``.  Every change is a new row (who, when, what); the newest
row is the current state and the rows before it are the history the activity feed shows.
A tracked item the latest analysis no longer finds stays listed, as "no longer found in
the data" — with status done, that is the fix showing in the numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from journeymap.app.library import MapSummary, NotFound
from journeymap.app.security import Principal, authorize
from journeymap.app.state import AppState, state_of
from journeymap.app.tables import WorkItemRow
from journeymap.app.rendering import go
from journeymap.app.responses import API_ERRORS
from journeymap.errors import JourneymapError
from journeymap.render.analytics import label

STATUSES = ("open", "planned", "in progress", "done", "dropped")
router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)
api = APIRouter(prefix="/api", dependencies=[Depends(authorize)], tags=["ownership"], responses=API_ERRORS)


@dataclass
class Item:
    key: str
    kind: str  # pain | opportunity
    title: str
    where: str
    evidence: str
    found: bool = True  # in the latest analysis
    owner: str | None = None
    status: str = "open"
    link: str | None = None
    changed_by: str | None = None
    changed_at: dt.datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "title": self.title, "where": self.where,
                "evidence": self.evidence, "found": self.found, "owner": self.owner, "status": self.status,
                "link": self.link, "changed_by": self.changed_by,
                "changed_at": self.changed_at.isoformat() + "Z" if self.changed_at else None}


def _where(p: dict[str, Any]) -> str:
    return str(p.get("target") or "").split(":", 1)[-1]


def item_key(kind: str, p: dict[str, Any]) -> str:
    level = p.get("level") or "touchpoint"
    return f"pain:{level}:{_where(p)}" if kind == "pain" else f"opportunity:{p.get('kind')}:{level}:{_where(p)}"


def _evidence(p: dict[str, Any]) -> str:
    e = p.get("evidence") or {}
    if not isinstance(e, dict) or not e.get("metric"):
        gain = p.get("estimated_gain") or {}
        return f"estimated gain {gain['customers']} {gain.get('metric') or 'customers'}" if gain.get("customers") \
            else ""
    return f"{e['metric']} {e.get('value')} vs {e.get('baseline')}" + (f", n={e['n']}" if e.get("n") else "")


def found_items(analysis: dict[str, Any] | None, names: dict[str, str]) -> list[Item]:
    """The pain points and opportunities of an analysis, in its order."""
    out = []
    for section, kind in (("pain_points", "pain"), ("opportunities", "opportunity")):
        for p in (analysis or {}).get(section) or []:
            where = names.get(_where(p), _where(p))
            out.append(Item(item_key(kind, p), kind, f"{label(p.get('kind'))}: {where}", where, _evidence(p)))
    return out


def _current(st: AppState, map_pk: int) -> dict[str, WorkItemRow]:
    with st.library.sessions() as s:
        rows = s.scalars(select(WorkItemRow).where(WorkItemRow.map_pk == map_pk)
                         .order_by(WorkItemRow.created_at, WorkItemRow.id))
        return {r.key: r for r in rows}


def items_of(st: AppState, ref: str) -> list[Item]:
    """The map's items: those its latest analysis found, then tracked ones it no longer finds."""
    summary = st.library.get(ref)
    cached, _ = st.jobs.analysis_for(ref, start=False)
    names: dict[str, str] = {}
    if summary.latest.valid:
        jmap = st.library.document(summary.latest)
        names = {t.id: t.name for t in jmap.touchpoints} | {s.id: s.name for s in jmap.stages}
    items = found_items(cached.result if cached else None, names)
    seen = {i.key for i in items}
    current = _current(st, summary.row.id)
    for key, row in current.items():
        if key not in seen:
            kind = key.split(":", 1)[0]
            items.append(Item(key, kind, row.title, row.title.split(": ", 1)[-1], "", found=False))
    for i in items:
        row = current.get(i.key)
        if row is not None:
            i.owner, i.status, i.link, i.changed_by, i.changed_at = (row.owner_email, row.status, row.link,
                                                                     row.changed_by, row.created_at)
    return items


def _link(link: str | None) -> str | None:
    link = (link or "").strip()
    if not link:
        return None
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(link) > 2000:
        raise JourneymapError("link: a link is an http:// or https:// address (at most 2000 characters)")
    return link


def set_item(st: AppState, ref: str, key: str, *, owner: str | None, status: str | None, link: str | None,
             by: str) -> tuple[Item, Item]:
    """Change an item's owner, status or link (None leaves one as it is); (before, after)."""
    items = {i.key: i for i in items_of(st, ref)}
    if key not in items:
        raise NotFound(f"{ref} has no pain point or opportunity '{key}'")
    before = items[key]
    status = before.status if status is None else status.strip().lower()
    if status not in STATUSES:
        raise JourneymapError(f"status: '{status}' is not one of {', '.join(STATUSES)}")
    if owner is None:
        owner = before.owner
    else:
        owner = owner.strip().lower() or None
        members = {m.email for m in st.accounts.members()}
        if owner and members and owner not in members:
            raise JourneymapError(f"owner: {owner} is not a member of this workspace")
    link = before.link if link is None else _link(link)
    summary: MapSummary = st.library.get(ref)
    after = Item(**{**before.__dict__, "owner": owner, "status": status, "link": link, "changed_by": by})
    if (owner, status, link) != (before.owner, before.status, before.link):
        with st.library.sessions.begin() as s:
            row = WorkItemRow(map_pk=summary.row.id, key=key, title=before.title[:400], owner_email=owner,
                              status=status, link=link, changed_by=by)
            s.add(row)
            s.flush()
            after.changed_at = row.created_at
    return before, after


def change_words(before: Item, after: Item) -> str:
    """``assigned Drop off: Checkout to ana@…, status planned`` — for the feed."""
    parts = []
    if after.owner != before.owner:
        parts.append(f"owner {after.owner}" if after.owner else "no owner")
    if after.status != before.status:
        parts.append(f"status {after.status}")
    if after.link != before.link:
        parts.append(f"link {after.link}" if after.link else "no link")
    return f"{after.title}: " + ", ".join(parts)


# -- pages --------------------------------------------------------------------------------
@router.get("/maps/{ref}/follow-up", response_class=HTMLResponse)
def follow_up_page(request: Request, ref: str) -> HTMLResponse:
    from journeymap.app.rendering import map_context, render

    st = state_of(request)
    st.library.sync()
    m = st.library.get(ref)
    cached, _ = st.jobs.analysis_for(ref, start=False)
    items = items_of(st, ref)
    return render(request, "follow_up.html.j2", tab="follow-up", m=map_context(m), items=items,
                  statuses=STATUSES, members=[x.email for x in st.accounts.members()],
                  analysed=cached is not None, saved=request.query_params.get("saved", ""))


@router.post("/maps/{ref}/follow-up")
def follow_up_submit(request: Request, ref: str, key: str = Form(...), owner: str = Form(""),
                     status: str = Form("open"), link: str = Form(""),
                     who: Principal = Depends(authorize)) -> Response:
    st = state_of(request)
    before, after = set_item(st, ref, key, owner=owner, status=status, link=link, by=who.email or who.name)
    _announce(st, ref, before, after)
    from urllib.parse import quote

    return go(request, f"/maps/{ref}/follow-up?saved={quote(key)}", 303)


def _announce(st: AppState, ref: str, before: Item, after: Item) -> None:
    if st.webhooks is not None and after.changed_at is not None:  # something changed
        st.webhooks.send("item.changed", {"map": ref, "before": before.as_json(), "item": after.as_json()})


# -- API ----------------------------------------------------------------------------------
class ItemChange(BaseModel):
    owner: str | None = Field(default=None, description="a member's email; empty: no owner")
    status: str | None = Field(default=None, description=" | ".join(STATUSES))
    link: str | None = Field(default=None, description="an http(s) address; empty: no link")


@api.get("/maps/{ref}/items")
def get_items(request: Request, ref: str) -> list[dict[str, Any]]:
    return [i.as_json() for i in items_of(state_of(request), ref)]


@api.put("/maps/{ref}/items/{key}")
def put_item(request: Request, ref: str, key: str, body: ItemChange,
             who: Principal = Depends(authorize)) -> dict[str, Any]:
    st = state_of(request)
    before, after = set_item(st, ref, key, owner=body.owner, status=body.status, link=body.link,
                             by=who.email or who.name)
    _announce(st, ref, before, after)
    return after.as_json()
