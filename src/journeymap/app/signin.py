"""Signing in and out, choosing a password from a one-time link, changing it.

These pages are open (no member is signed in yet) except the account page; every form
posts with the CSRF token like the rest of the app.  See :mod:`journeymap.app.accounts`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from journeymap.app.accounts import AccountError, TooManyAttempts
from journeymap.app.rendering import base_of, go, render
from journeymap.app.security import SESSION_COOKIE, Principal, authorize
from journeymap.app.state import state_of

router = APIRouter(include_in_schema=False)


def _safe_next(request: Request, target: str) -> str:
    """Only a path of this workspace's app (no other site, no scheme, no other workspace
    of the server): an open redirect is refused.  ``target`` is the whole path, mount
    included, as the browser asked for it."""
    base = base_of(request)
    if (not target.startswith("/") or target.startswith("//") or "\\" in target or "\n" in target
            or (base and target != base and not target.startswith(base + "/"))):
        return base + "/"
    return target


def cookie_path(request: Request) -> str:
    """The session cookie's path: this workspace's mount (``/w/NAME/``), so a browser
    signed in to two workspaces of one server keeps two sessions and sends each only to
    its own workspace."""
    return base_of(request) + "/"


def _with_session(request: Request, response: Response, token: str) -> Response:
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", path=cookie_path(request),
                        secure=request.url.scheme == "https", max_age=30 * 86400)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "") -> HTMLResponse:  # noqa: A002 - the query's name
    if not state_of(request).accounts.enabled():
        return go(request, "/", 303)  # type: ignore[return-value]
    return render(request, "login.html.j2", next=_safe_next(request, next), error=None, email="")


@router.post("/login")
def login_submit(request: Request, email: str = Form(""), password: str = Form(""),
                 next: str = Form("")) -> Response:  # noqa: A002
    st = state_of(request)
    address = request.client.host if request.client else "?"
    try:
        _, token = st.accounts.sign_in(email, password, address)
    except TooManyAttempts as exc:
        page = render(request, "login.html.j2", 429, next=_safe_next(request, next), error=str(exc), email=email)
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    except AccountError as exc:
        return render(request, "login.html.j2", 401, next=_safe_next(request, next), error=str(exc), email=email)
    st.accounts.sign_out(request.cookies.get(SESSION_COOKIE))  # a new session at every sign-in
    return _with_session(request, RedirectResponse(_safe_next(request, next), status_code=303), token)


@router.post("/logout")
def logout(request: Request) -> Response:
    state_of(request).accounts.sign_out(request.cookies.get(SESSION_COOKIE))
    response = go(request, "/login", 303)
    response.delete_cookie(SESSION_COOKIE, path=cookie_path(request))
    return response


@router.get("/set-password/{token}", response_class=HTMLResponse)
def set_password_page(request: Request, token: str) -> HTMLResponse:
    try:
        member = state_of(request).accounts.token_member(token)
    except AccountError as exc:
        return render(request, "set_password.html.j2", 404, member=None, error=str(exc), token=token)
    return render(request, "set_password.html.j2", member=member, error=None, token=token)


@router.post("/set-password/{token}")
def set_password_submit(request: Request, token: str, password: str = Form(""), again: str = Form(""),
                        name: str = Form("")) -> Response:
    st = state_of(request)
    try:
        member = st.accounts.token_member(token)
        if password != again:
            raise AccountError("the two passwords differ")
        _, session = st.accounts.set_password(token, password, name=name.strip() or None)
    except AccountError as exc:
        try:
            member = st.accounts.token_member(token)
        except AccountError:
            member = None
        return render(request, "set_password.html.j2", 400, member=member, error=str(exc), token=token)
    st.accounts.sign_out(request.cookies.get(SESSION_COOKIE))
    return _with_session(request, go(request, "/", 303), session)


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, who: Principal = Depends(authorize), changed: str = "") -> HTMLResponse:
    return render(request, "account.html.j2", who=who, error=None, changed=bool(changed))


@router.post("/account/password")
def change_password(request: Request, current: str = Form(""), password: str = Form(""), again: str = Form(""),
                    who: Principal = Depends(authorize)) -> Response:
    st = state_of(request)
    signed = st.accounts.signed_in(request.cookies.get(SESSION_COOKIE))
    if signed is None or who.local:
        return render(request, "account.html.j2", 400, who=who, error="no account: this app has no members",
                      changed=False)
    try:
        if password != again:
            raise AccountError("the two new passwords differ")
        _, token = st.accounts.change_password(signed, current, password)  # every other session ends
    except AccountError as exc:
        return render(request, "account.html.j2", 400, who=who, error=str(exc), changed=False)
    return _with_session(request, go(request, "/account?changed=1", 303), token)
