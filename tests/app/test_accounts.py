"""Accounts on the real app (SQLite): a workspace with members needs a signed-in member
for every page and API call, roles are checked at the one authorization point, sessions
are cookies that rotate at sign-in and end at sign-out and password changes, invitation
and reset links work once, failed sign-ins are limited without locking the owner out."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from journeymap.app.accounts import PAIR_LIMIT, AccountError, Accounts, TooManyAttempts
from journeymap.app.main import create_app
from journeymap.app.tables import UserRow
from journeymap.cli import main

SME = "sme-onboarding-churn"
OWNER, EDITOR, VIEWER = "olga@example.com", "eddie@example.com", "vera@example.com"
PASSWORD = "correct horse battery"


@pytest.fixture
def team(workspace: Path, database_url: str | None) -> Iterator[TestClient]:
    app = create_app(workspace, database_url=database_url)
    accounts: Accounts = app.state.jm.accounts
    for email, role in ((OWNER, "owner"), (EDITOR, "editor"), (VIEWER, "viewer")):
        accounts.add(email, role, password=PASSWORD)
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        yield c


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([0-9a-f]+)"', html)
    assert found, html[:300]
    return found.group(1)


def sign_in(c: TestClient, email: str, password: str = PASSWORD, next_: str = "/") -> object:
    token = _csrf(c.get("/login").text)
    return c.post("/login", data={"email": email, "password": password, "next": next_, "csrf_token": token},
                  follow_redirects=False)


def _api_token(c: TestClient) -> str:
    return c.get("/api/session").json()["csrf_token"]


def test_every_page_and_api_route_needs_a_member(team: TestClient) -> None:
    page = team.get(f"/maps/{SME}", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == f"/login?next=/maps/{SME}"
    assert team.get("/api/maps").status_code == 401
    assert team.get(f"/maps/{SME}/analytics/paths", follow_redirects=False).status_code == 303
    assert team.get("/personas", follow_redirects=False).status_code == 303
    assert team.get("/static/app.css").status_code == 200  # styles and scripts are open
    # wrong password and unknown email: the same words, no hint which
    wrong = sign_in(team, OWNER, "not the password")
    unknown = sign_in(team, "nobody@example.com", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert "wrong email or password" in wrong.text and "wrong email or password" in unknown.text
    ok = sign_in(team, OWNER, next_=f"/maps/{SME}")
    assert ok.status_code == 303 and ok.headers["location"] == f"/maps/{SME}"
    cookie = ok.headers["set-cookie"]
    assert "jm_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # plain http on loopback; Secure under https
    home = team.get("/")
    assert home.status_code == 200 and "(owner)" in home.text and "Sign out" in home.text
    assert team.get("/api/session").json()["role"] == "owner"


def test_roles_are_checked_on_every_state_change(team: TestClient, workspace: Path) -> None:
    sign_in(team, VIEWER)
    assert team.get(f"/api/maps/{SME}").status_code == 200
    text = team.get(f"/api/maps/{SME}").json()["text"]
    headers = {"X-CSRF-Token": _api_token(team)}
    refused = team.put(f"/api/maps/{SME}", json={"text": text + "\n", "base_version": 1}, headers=headers)
    assert refused.status_code == 403 and "viewer" in refused.json()["error"]
    assert team.put("/api/personas/x", json={"persona": {"name": "X"}}, headers=headers).status_code == 403
    upload = team.post("/api/data/uploads", files={"file": ("e.csv", b"customer_id,timestamp,event\n")},
                       data={"kind": "events"}, headers=headers)
    assert upload.status_code == 403
    page = team.post("/personas/new", data={"name": "X", "csrf_token": headers["X-CSRF-Token"]})
    assert page.status_code == 403 and "Not allowed" in page.text
    assert (workspace / "maps" / f"{SME}.yaml").read_text() == text
    sign_in(team, EDITOR)
    headers = {"X-CSRF-Token": _api_token(team)}
    saved = team.put(f"/api/maps/{SME}", json={"text": text + "\n", "base_version": 1}, headers=headers)
    assert saved.status_code == 200 and saved.json()["author"] == "eddie"


def test_sessions_rotate_at_sign_in_and_end_at_sign_out(team: TestClient) -> None:
    before = _csrf(team.get("/login").text)
    first = sign_in(team, OWNER)
    cookie1 = team.cookies.get("jm_session")
    # the CSRF token is bound to the session: the one from before sign-in is worthless
    assert team.post(f"/api/maps/{SME}/restore", json={"version": 1, "base_version": 1},
                     headers={"X-CSRF-Token": before}).status_code == 403
    assert first.status_code == 303
    sign_in(team, OWNER)
    cookie2 = team.cookies.get("jm_session")
    assert cookie1 != cookie2
    stale = TestClient(team.app, base_url="http://127.0.0.1:8000", cookies={"jm_session": cookie1})
    assert stale.get("/api/maps").status_code == 401  # the old session ended at the new sign-in
    out = team.post("/logout", data={"csrf_token": _api_token(team)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    replay = TestClient(team.app, base_url="http://127.0.0.1:8000", cookies={"jm_session": cookie2})
    assert replay.get("/api/maps").status_code == 401


def test_an_invitation_link_sets_the_password_once(team: TestClient) -> None:
    accounts: Accounts = team.app.state.jm.accounts
    member, token = accounts.add("new@example.com", "commenter")
    assert token and not member.has_password
    assert "new@example.com" in team.get(f"/set-password/{token}").text
    csrf = _csrf(team.get(f"/set-password/{token}").text)
    short = team.post(f"/set-password/{token}", data={"password": "short", "again": "short", "csrf_token": csrf})
    assert short.status_code == 400 and "at least 12 characters" in short.text
    differ = team.post(f"/set-password/{token}", data={"password": PASSWORD, "again": PASSWORD + "x",
                                                       "csrf_token": csrf})
    assert differ.status_code == 400 and "differ" in differ.text
    done = team.post(f"/set-password/{token}", data={"password": PASSWORD, "again": PASSWORD, "name": "Nia",
                                                     "csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303 and team.get("/api/session").json() == {
        "user": "Nia", "role": "commenter", "signed_in": True, "csrf_token": _api_token(team)}
    used = team.get(f"/set-password/{token}")
    assert used.status_code == 404 and "not valid" in used.text
    with team.app.state.jm.accounts.sessions() as s:
        stored = s.scalar(select(UserRow.password_hash).where(UserRow.email == "new@example.com"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_a_reset_or_a_password_change_ends_every_other_session(team: TestClient) -> None:
    sign_in(team, OWNER)
    other = TestClient(team.app, base_url="http://127.0.0.1:8000")
    sign_in(other, OWNER)
    assert other.get("/api/maps").status_code == 200
    csrf = _api_token(team)
    wrong = team.post("/account/password", data={"current": "nope", "password": PASSWORD + "2",
                                                 "again": PASSWORD + "2", "csrf_token": csrf})
    assert wrong.status_code == 400 and "current password is wrong" in wrong.text
    changed = team.post("/account/password", data={"current": PASSWORD, "password": PASSWORD + "2",
                                                   "again": PASSWORD + "2", "csrf_token": csrf},
                        follow_redirects=False)
    assert changed.status_code == 303
    assert team.get("/api/maps").status_code == 200  # this browser: a new session
    assert other.get("/api/maps").status_code == 401  # every other one ended
    # a reset link (journeymap users reset) does the same, and the old password stops working
    accounts: Accounts = team.app.state.jm.accounts
    token = accounts.reset_link(OWNER)
    accounts.set_password(token, "a brand new password")
    assert team.get("/api/maps").status_code == 401
    assert sign_in(team, OWNER, PASSWORD + "2").status_code == 401
    assert sign_in(team, OWNER, "a brand new password").status_code == 303


def test_failed_sign_ins_are_limited_per_address_without_locking_the_owner_out(team: TestClient) -> None:
    accounts: Accounts = team.app.state.jm.accounts
    for _ in range(PAIR_LIMIT):
        with pytest.raises(AccountError):
            accounts.sign_in(OWNER, "guess", "203.0.113.9")
    with pytest.raises(TooManyAttempts):  # even the right password, from that address
        accounts.sign_in(OWNER, PASSWORD, "203.0.113.9")
    accounts.sign_in(OWNER, PASSWORD, "198.51.100.4")  # the owner elsewhere is not locked out
    for _ in range(PAIR_LIMIT):  # the page says so with 429 and Retry-After
        sign_in(team, EDITOR, "guess")
    limited = sign_in(team, EDITOR)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0


def test_sign_in_redirects_only_within_the_app(team: TestClient) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        assert sign_in(team, OWNER, next_=target).headers["location"] == "/"


def test_the_cli_manages_members(workspace: Path) -> None:
    runner = CliRunner()
    empty = runner.invoke(main, ["users", "list", "-w", str(workspace)])
    assert empty.exit_code == 0 and "No members" in empty.output
    added = runner.invoke(main, ["users", "add", "olga@example.com", "--role", "owner", "-w", str(workspace)])
    assert added.exit_code == 0, added.output
    link = re.search(r"(/set-password/\S+)", added.output).group(1)
    listed = runner.invoke(main, ["users", "list", "-w", str(workspace)])
    assert listed.output.split() == ["olga@example.com", "owner", "olga", "invited"]
    alone = runner.invoke(main, ["users", "remove", "olga@example.com", "-w", str(workspace)])
    assert alone.exit_code == 1 and "only owner" in alone.output
    bad = runner.invoke(main, ["users", "add", "not-an-email", "-w", str(workspace)])
    assert bad.exit_code == 1 and "is not an email address" in bad.output
    reset = runner.invoke(main, ["users", "reset", "olga@example.com", "-w", str(workspace)])
    assert reset.exit_code == 0 and "/set-password/" in reset.output
    # the link printed works in the app, which now asks everyone to sign in
    app = create_app(workspace)
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        assert c.get("/", follow_redirects=False).status_code == 303
        assert "olga@example.com" in c.get(link).text


def test_owners_manage_members_and_tokens_and_no_one_else_can(team: TestClient) -> None:
    sign_in(team, EDITOR)
    assert team.get("/members").status_code == 403  # even reading the members is an owner's
    assert team.get("/api/members").status_code == 403
    assert team.post("/api/tokens", json={"name": "x"}, headers={"X-CSRF-Token": _api_token(team)}).status_code == 403
    sign_in(team, OWNER)
    csrf = _api_token(team)
    page = team.get("/members")
    assert page.status_code == 200 and VIEWER in page.text
    invited = team.post("/members/invite", data={"email": "nia@example.com", "role": "viewer", "csrf_token": csrf})
    link = re.search(r'id="one-time-link">([^<]+)<', invited.text).group(1)
    assert link.startswith("http://127.0.0.1:8000/set-password/")
    assert "nia@example.com" in [m["email"] for m in team.get("/api/members").json()]
    assert team.post("/members/role", data={"email": OWNER, "role": "viewer", "csrf_token": csrf}).status_code == 400
    assert team.post("/members/role", data={"email": VIEWER, "role": "editor", "csrf_token": csrf}).status_code == 200
    assert {m["email"]: m["role"] for m in team.get("/api/members").json()}[VIEWER] == "editor"
    # a token for a script: its role, no cookie and no CSRF token needed; revocable
    made = team.post("/api/tokens", json={"name": "nightly export", "role": "viewer"},
                     headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201
    token = made.json()["token"]
    script = TestClient(team.app, base_url="http://127.0.0.1:8000")
    bearer = {"Authorization": f"Bearer {token}"}
    assert script.get("/api/maps", headers=bearer).status_code == 200
    text = script.get(f"/api/maps/{SME}", headers=bearer).json()["text"]
    write = script.put(f"/api/maps/{SME}", json={"text": text + "\n", "base_version": 1}, headers=bearer)
    assert write.status_code == 403 and "viewer" in write.json()["error"]
    assert script.get("/api/maps", headers={"Authorization": "Bearer jm_wrong"}).status_code == 401
    listed = team.get("/api/tokens").json()
    assert listed[0]["name"] == "nightly export" and listed[0]["created_by"] == OWNER and listed[0]["last_used_at"] != "–"
    assert token not in team.get("/members").text  # shown once, at creation
    assert team.delete("/api/tokens/nightly export", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert script.get("/api/maps", headers=bearer).status_code == 401
    removed = team.post("/members/remove", data={"email": VIEWER, "csrf_token": csrf})
    assert removed.status_code == 200 and VIEWER not in [m["email"] for m in team.get("/api/members").json()]


def test_the_first_owner_invited_from_the_local_app_turns_sign_in_on(client: TestClient) -> None:
    assert client.get("/members").status_code == 200  # the local app: no members yet
    refused = client.post("/members/invite", data={"email": "olga@example.com", "role": "editor"})
    assert refused.status_code == 400 and "first member is the workspace" in refused.text
    made = client.post("/members/invite", data={"email": "olga@example.com", "role": "owner"})
    assert made.status_code == 200 and "Sign-in is now on" in made.text
    assert client.get("/api/maps").status_code == 401
