"""The discussion of a map (threads of comments on its parts, resolve and reopen), a
member's @mentions, and the activity feed — pages and JSON API.  Commenting is the
``comment`` action: commenters, editors and owners (:mod:`journeymap.app.security`)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from journeymap.app.comments import CommentError, targets
from journeymap.app.rendering import go, map_context, render, site, when
from journeymap.app.reviews import feed
from journeymap.app.security import Principal, authorize
from journeymap.app.state import AppState, state_of
from journeymap.app.responses import API_ERRORS, MAX_ID, Id

router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)
api = APIRouter(prefix="/api", dependencies=[Depends(authorize)], tags=["discussion"], responses=API_ERRORS)


def _labels(st: AppState, ref: str) -> tuple[int, dict[str, str]]:
    m = st.library.get(ref)
    if not m.latest.valid:
        return m.row.id, {"map": "The map"}
    cached, _ = st.jobs.analysis_for(ref, start=False)
    return m.row.id, targets(st.library.document(m.latest), cached.result if cached else None)


def _email(who: Principal) -> str | None:
    return who.email


def _tell_mentioned(request: Request, ref: str, made: Any, thread: int, who: Principal) -> None:
    """Mail each member the comment mentions (not its author), when the workspace has
    an SMTP server: who, where, the words and a link to the thread."""
    st = state_of(request)
    if st.mailer is None or not st.mailer.enabled or not made.mentions:
        return
    from journeymap.app.mail import mention

    title = st.library.get(ref).row.title or ref
    link = f"{site(request)}/maps/{ref}/discussion#thread-{thread}"
    for email in made.mentions:
        if email != who.email:
            st.mailer.send_later(email, *mention(st.ws.config.name, who.name, title, made.body, link))


@router.get("/maps/{ref}/discussion", response_class=HTMLResponse)
def discussion_page(request: Request, ref: str, target: str = "", error: str = "") -> HTMLResponse:
    st = state_of(request)
    st.library.sync()
    map_pk, labels = _labels(st, ref)
    return render(request, "discussion.html.j2", tab="discussion", m=map_context(st.library.get(ref)),
                  threads=st.comments.threads(map_pk, labels), labels=labels, target=target, error=error or None,
                  handles=sorted(st.comments.handles()), activity=feed(st, ref, limit=20))


@router.post("/maps/{ref}/discussion")
def new_thread(request: Request, ref: str, target: str = Form("map"), body: str = Form(""),
               who: Principal = Depends(authorize)) -> Response:
    st = state_of(request)
    map_pk, labels = _labels(st, ref)
    try:
        made = st.comments.add(map_pk, target, body, author=who.name, author_email=_email(who), known_targets=labels)
    except CommentError as exc:
        return _again(request, ref, str(exc))
    _tell_mentioned(request, ref, made, made.id, who)
    return go(request, f"/maps/{ref}/discussion", 303)


@router.post("/maps/{ref}/discussion/{thread_id}/reply")
def reply(request: Request, ref: str, thread_id: Id, body: str = Form(""),
          who: Principal = Depends(authorize)) -> Response:
    st = state_of(request)
    map_pk, _ = _labels(st, ref)
    try:
        made = st.comments.add(map_pk, "", body, author=who.name, author_email=_email(who), thread_id=thread_id)
    except CommentError as exc:
        return _again(request, ref, str(exc))
    _tell_mentioned(request, ref, made, thread_id, who)
    return go(request, f"/maps/{ref}/discussion#thread-{thread_id}", 303)


@router.post("/maps/{ref}/discussion/{thread_id}/{what}")
def resolve(request: Request, ref: str, thread_id: Id, what: str, who: Principal = Depends(authorize)) -> Response:
    st = state_of(request)
    map_pk, _ = _labels(st, ref)
    try:
        if what not in ("resolve", "reopen") or st.comments.thread_map(thread_id) != map_pk:
            raise CommentError(f"no thread {thread_id} on this map")
        st.comments.resolve(thread_id, by=who.name, reopen=what == "reopen")
    except CommentError as exc:
        return _again(request, ref, str(exc))
    return go(request, f"/maps/{ref}/discussion#thread-{thread_id}", 303)


def _again(request: Request, ref: str, error: str) -> HTMLResponse:
    page = discussion_page(request, ref, error=error)
    page.status_code = 400
    return page


def _member_id(st: AppState, who: Principal) -> int | None:
    if who.local or not who.email:
        return None
    return next((m.user_id for m in st.accounts.members() if m.email == who.email), None)


@router.get("/mentions", response_class=HTMLResponse)
def mentions_page(request: Request, who: Principal = Depends(authorize)) -> HTMLResponse:
    st = state_of(request)
    uid = _member_id(st, who)
    found = st.comments.mentions_of(uid) if uid is not None else []
    return render(request, "mentions.html.j2", section="mentions", found=found, local=uid is None)


@router.post("/mentions/read")
def mentions_read(request: Request, comment: int | None = Form(None, ge=1, le=MAX_ID),
                  who: Principal = Depends(authorize)) -> Response:
    """Mark one mention (``comment``) or all of them read: a POST, never a page view."""
    st = state_of(request)
    uid = _member_id(st, who)
    if uid is not None:
        st.comments.mark_read(uid, [comment] if comment is not None else None)
    return go(request, "/mentions", 303)


@router.get("/activity", response_class=HTMLResponse)
def activity_page(request: Request) -> HTMLResponse:
    return render(request, "activity.html.j2", section="activity",
                  activity=feed(state_of(request), limit=100))


# -- API ---------------------------------------------------------------------------------
class NewComment(BaseModel):
    body: str = Field(description="the text; @handle mentions a member (email, its local part, or name)")
    target: str = Field(default="map", description="map, stage:ID, touchpoint:ID, cell:STAGE/LANE/N, pain:N, "
                        "opportunity:N (GET .../comments lists them)")
    thread_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="reply to this thread")


class Resolve(BaseModel):
    resolved: bool = True


def _thread_json(t: Any) -> dict[str, Any]:
    d = asdict(t)
    d["resolved"] = t.resolved
    for c in d["comments"]:
        c["created_at"] = when(c["created_at"])
    d["resolved_at"] = when(t.resolved_at) if t.resolved_at else None
    return d


@api.get("/maps/{ref}/comments")
def list_comments(request: Request, ref: str) -> dict[str, Any]:
    """The map's threads (open first) and the parts a comment may be about."""
    st = state_of(request)
    map_pk, labels = _labels(st, ref)
    return {"threads": [_thread_json(t) for t in st.comments.threads(map_pk, labels)], "targets": labels}


@api.post("/maps/{ref}/comments", status_code=201)
def add_comment(request: Request, ref: str, body: NewComment, who: Principal = Depends(authorize)) -> dict[str, Any]:
    st = state_of(request)
    map_pk, labels = _labels(st, ref)
    c = st.comments.add(map_pk, body.target, body.body, author=who.name, author_email=_email(who),
                        thread_id=body.thread_id, known_targets=labels)
    _tell_mentioned(request, ref, c, body.thread_id or c.id, who)
    return {"id": c.id, "author": c.author, "body": c.body, "mentions": c.mentions}


@api.post("/comments/{thread_id}/resolve")
def resolve_thread(request: Request, thread_id: Id, body: Resolve, who: Principal = Depends(authorize)) -> dict:
    state_of(request).comments.resolve(thread_id, by=who.name, reopen=not body.resolved)
    return {"thread": thread_id, "resolved": body.resolved}


@api.get("/mentions")
def my_mentions(request: Request, who: Principal = Depends(authorize)) -> list[dict]:
    """The comments that mention you, newest first, unread ones flagged."""
    st = state_of(request)
    uid = _member_id(st, who)
    found = st.comments.mentions_of(uid) if uid is not None else []
    return [{**f, "created_at": when(f["created_at"])} for f in found]


class MarkRead(BaseModel):
    comments: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        default=None, max_length=1000, description="the comments' ids; none: every mention")


@api.post("/mentions/read")
def my_mentions_read(request: Request, body: MarkRead, who: Principal = Depends(authorize)) -> dict[str, int]:
    """Mark your mentions read (these comments, or all): how many were unread."""
    st = state_of(request)
    uid = _member_id(st, who)
    return {"marked": st.comments.mark_read(uid, body.comments) if uid is not None else 0}


@api.get("/mentionable")
def mentionable(request: Request, q: str = "") -> list[dict[str, str]]:
    """Members an ``@q`` in a comment may mention (autocomplete), best first: handle,
    name, email."""
    return state_of(request).comments.mentionable(q[:100])


@api.get("/activity")
def activity(request: Request, map: str | None = None,
             limit: int = Query(50, ge=1, le=500)) -> list[dict[str, Any]]:  # noqa: A002
    """What happened in the workspace (or one map), newest first."""
    st = state_of(request)
    return [{**asdict(a), "at": when(a.at)} for a in feed(st, map or None, limit=min(limit, 500))]
