"""The members of a workspace and its API tokens, managed by its owners (pages under
``/members`` and the API under ``/api/members`` and ``/api/tokens``: the ``admin``
action, owners only — :func:`journeymap.app.security._action`).

An invitation or a reset shows its one-time link once, to the owner who made it; a new
API token is shown once too.  In a workspace without members (the local app) the page
invites the first owner, which turns sign-in on.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from journeymap.app.accounts import ROLES, AccountError
from journeymap.app.rendering import render, site, when
from journeymap.app.security import Principal, authorize
from journeymap.app.state import state_of
from journeymap.app.responses import API_ERRORS

router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)
api = APIRouter(prefix="/api", dependencies=[Depends(authorize)], tags=["members"], responses=API_ERRORS)


def _link(request: Request, token: str) -> str:
    return f"{site(request)}/set-password/{token}"


def _mail_link(request: Request, email: str, link: str, role: str, *, reset: bool = False) -> str:
    """Mail the link when the workspace has an SMTP server; the words the page adds."""
    st = state_of(request)
    if st.mailer is None or not st.mailer.enabled:
        return ""
    from journeymap.app.mail import invitation

    st.mailer.send_later(email, *invitation(st.ws.config.name, link, role, reset=reset))
    return f" The link is also mailed to {email}."


def _page(request: Request, status: int = 200, **shown: Any) -> HTMLResponse:
    st = state_of(request)
    values = {"link": None, "link_for": None, "token": None, "error": None, "notice": None} | shown
    return render(request, "members.html.j2", status, section="members", members=st.accounts.members(),
                  tokens=st.accounts.tokens.list(), roles=ROLES, local=not st.accounts.enabled(), **values)


def _by(who: Principal) -> str:
    return who.email or who.name


@router.get("/members", response_class=HTMLResponse)
def members_page(request: Request) -> HTMLResponse:
    return _page(request)


@router.post("/members/invite")
def invite(request: Request, email: str = Form(""), role: str = Form("editor"), name: str = Form("")) -> Response:
    st = state_of(request)
    first = not st.accounts.enabled()
    try:
        if first and role != "owner":
            raise AccountError("the first member is the workspace's owner: choose the owner role")
        member, token = st.accounts.add(email, role, name=name.strip() or None)
    except AccountError as exc:
        return _page(request, 400, error=str(exc))
    if token is None:
        return _page(request, notice=f"{member.email} is now {member.role}; they have an account on this "
                                     "server already and sign in with it.")
    link = _link(request, token)
    mailed = _mail_link(request, member.email, link, member.role)
    return _page(request, link=link, link_for=member.email,
                 notice=f"{member.email} is now {member.role}.{mailed}" + (
                     " Sign-in is now on: open the link to choose the owner's password." if first else ""))


@router.post("/members/role")
def change_role(request: Request, email: str = Form(""), role: str = Form("")) -> Response:
    st = state_of(request)
    try:
        current = st.accounts.member(email)
        if current.role == "owner" and role != "owner" and \
                sum(m.role == "owner" for m in st.accounts.members()) == 1:
            raise AccountError(f"{email} is the only owner; make another member owner first")
        st.accounts.add(email, role)
    except AccountError as exc:
        return _page(request, 400, error=str(exc))
    return _page(request, notice=f"{email} is now {role}.")


@router.post("/members/remove")
def remove(request: Request, email: str = Form("")) -> Response:
    try:
        state_of(request).accounts.remove(email)
    except AccountError as exc:
        return _page(request, 400, error=str(exc))
    return _page(request, notice=f"{email} is no longer a member; their sessions ended.")


@router.post("/members/reset")
def reset(request: Request, email: str = Form("")) -> Response:
    try:
        token = state_of(request).accounts.reset_link(email)
    except AccountError as exc:
        return _page(request, 400, error=str(exc))
    link = _link(request, token)
    mailed = _mail_link(request, email.strip().lower(), link, "", reset=True)
    return _page(request, link=link, link_for=email, notice=f"A reset link for {email}.{mailed}")


@router.post("/members/tokens")
def new_token(request: Request, name: str = Form(""), role: str = Form("viewer"),
              who: Principal = Depends(authorize)) -> Response:
    try:
        token = state_of(request).accounts.tokens.create(name, role, created_by=_by(who))
    except AccountError as exc:
        return _page(request, 400, error=str(exc))
    return _page(request, token=token, notice=f"Token '{name.strip()}' ({role}) made: copy it now, it is shown once.")


@router.post("/members/tokens/revoke")
def revoke_token(request: Request, name: str = Form("")) -> Response:
    try:
        state_of(request).accounts.tokens.revoke(name)
    except AccountError as exc:
        return _page(request, 400, error=str(exc))
    return _page(request, notice=f"Token '{name}' revoked.")


# -- API --------------------------------------------------------------------------------
class Invite(BaseModel):
    email: str
    role: str = Field(default="editor", description="viewer, commenter, editor or owner")
    name: str | None = None


class NewToken(BaseModel):
    name: str = Field(description="what uses it, e.g. 'nightly export'")
    role: str = Field(default="viewer", description="viewer, commenter, editor or owner")


def _member_json(m: Any) -> dict[str, Any]:
    return {"email": m.email, "name": m.name, "role": m.role, "has_password": m.has_password}


@api.get("/members")
def list_members(request: Request) -> list[dict[str, Any]]:
    return [_member_json(m) for m in state_of(request).accounts.members()]


@api.post("/members", status_code=201)
def add_member(request: Request, body: Invite) -> dict[str, Any]:
    """Add a member (or change their role): the one-time link to choose their password."""
    member, token = state_of(request).accounts.add(body.email, body.role, name=body.name)
    link = _link(request, token) if token else None  # None: an account elsewhere on the server
    mailed = bool(_mail_link(request, member.email, link, member.role)) if link else False
    return {**_member_json(member), "link": link, "mailed": mailed}


@api.delete("/members/{email}", status_code=204)
def delete_member(request: Request, email: str) -> Response:
    state_of(request).accounts.remove(email)
    return Response(status_code=204)


@api.get("/tokens")
def list_tokens(request: Request) -> list[dict[str, Any]]:
    return [{"name": t.name, "role": t.role, "created_by": t.created_by, "created_at": when(t.created_at),
             "last_used_at": when(t.last_used_at), "revoked": t.revoked}
            for t in state_of(request).accounts.tokens.list()]


@api.post("/tokens", status_code=201)
def create_token(request: Request, body: NewToken, who: Principal = Depends(authorize)) -> dict[str, Any]:
    """A new API token (``Authorization: Bearer TOKEN``), shown this once."""
    token = state_of(request).accounts.tokens.create(body.name, body.role, created_by=_by(who))
    return {"name": body.name.strip(), "role": body.role, "token": token}


@api.delete("/tokens/{name}", status_code=204)
def delete_token(request: Request, name: str) -> Response:
    state_of(request).accounts.tokens.revoke(name)
    return Response(status_code=204)
