"""The permission matrix: every route × method of the app, for every kind of caller —
anonymous, viewer, commenter, editor, owner (signed in), a member of another workspace
of the same server, the holder of a share link, and an API token of each role — answers
as the policy below says.  The policy is written out here, route by route, and not read
from the code: a route the table does not list fails the test, so a new route cannot
ship without someone deciding who may call it.

Every path names objects that do not exist (map ``no-such-map``, thread 999999, ...):
an allowed call is answered after the authorization point (404, 400, 422, 200...), a
refused one by it (403 for a signed-in member or a token, 401 or the sign-in page for
everyone else) — and no call changes anything, so the order of the calls does not matter.
State-changing calls carry a valid CSRF token: what is tested is the authorization.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from journeymap.app.security import csrf_token

from .conftest import server_of
from .test_accounts import PASSWORD, SME
from .test_api import app_routes

V, C, E, I, A, OPEN = "view", "comment", "edit", "ingest", "admin", "open"  # noqa: E741
#: who may call each route: the least role (view < comment < edit = ingest < admin), or open
POLICY: dict[tuple[str, str], str] = {
    # the API
    ("GET", "/api/session"): V, ("GET", "/api/status"): V, ("GET", "/api/templates"): V,
    ("GET", "/api/maps"): V, ("POST", "/api/maps"): E, ("POST", "/api/maps/discover"): E,
    ("GET", "/api/maps/{ref}"): V, ("PUT", "/api/maps/{ref}"): E,
    ("POST", "/api/maps/{ref}/edits"): E, ("POST", "/api/maps/{ref}/preview-match"): E,
    ("GET", "/api/maps/{ref}/versions"): V, ("GET", "/api/maps/{ref}/versions/{number}"): V,
    ("GET", "/api/maps/{ref}/diff"): V, ("POST", "/api/maps/{ref}/restore"): E,
    ("GET", "/api/maps/{ref}/analysis"): V, ("GET", "/api/maps/{ref}/analytics/{view_id}"): V,
    ("GET", "/api/maps/{ref}/history"): V, ("POST", "/api/maps/{ref}/survey-links"): E,
    ("GET", "/api/maps/{ref}/compare"): V, ("GET", "/api/jobs/{job_id}"): V, ("POST", "/api/validate"): E,
    ("GET", "/api/personas"): V, ("GET", "/api/personas/{persona_id}"): V,
    ("PUT", "/api/personas/{persona_id}"): E, ("DELETE", "/api/personas/{persona_id}"): E,
    ("POST", "/api/personas/{persona_id}/use"): E,
    ("GET", "/api/data/ingests"): V, ("GET", "/api/data/quarantine"): V, ("GET", "/api/data/quarantine.csv"): V,
    ("POST", "/api/data/uploads"): I,
    ("GET", "/api/maps/{ref}/comments"): V, ("POST", "/api/maps/{ref}/comments"): C,
    ("POST", "/api/comments/{thread_id}/resolve"): C, ("GET", "/api/mentions"): V,
    ("GET", "/api/mentionable"): V, ("GET", "/api/activity"): V,
    ("GET", "/api/maps/{ref}/review"): V, ("PUT", "/api/maps/{ref}/review"): E,
    ("POST", "/api/maps/{ref}/reviewed"): E,
    ("GET", "/api/maps/{ref}/items"): V, ("PUT", "/api/maps/{ref}/items/{key}"): E,
    ("GET", "/api/maps/{ref}/shares"): V, ("POST", "/api/maps/{ref}/shares"): E,
    ("DELETE", "/api/maps/{ref}/shares/{share_id}"): E,
    ("GET", "/api/members"): A, ("POST", "/api/members"): A, ("DELETE", "/api/members/{email}"): A,
    ("GET", "/api/tokens"): A, ("POST", "/api/tokens"): A, ("DELETE", "/api/tokens/{name}"): A,
    ("GET", "/api/webhooks"): A, ("POST", "/api/webhooks"): A, ("DELETE", "/api/webhooks/{hook_id}"): A,
    ("GET", "/api/webhooks/{hook_id}/deliveries"): A,
    # the pages
    ("GET", "/"): V, ("GET", "/maps/new"): V, ("POST", "/maps/new"): E, ("GET", "/maps/new/jobs/{job_id}"): V,
    ("GET", "/maps/{ref}"): V, ("GET", "/maps/{ref}/status"): V, ("GET", "/maps/{ref}/page"): V,
    ("GET", "/maps/{ref}/history"): V, ("GET", "/maps/{ref}/diff"): V, ("POST", "/maps/{ref}/restore"): E,
    ("GET", "/maps/{ref}/edit"): V, ("GET", "/maps/{ref}/source"): V, ("POST", "/maps/{ref}/source"): E,
    ("GET", "/maps/{ref}/analytics"): V, ("GET", "/maps/{ref}/analytics/{view_id}"): V,
    ("GET", "/maps/{ref}/analytics/{view_id}/status"): V,
    ("GET", "/maps/{ref}/compare"): V, ("GET", "/maps/{ref}/compare/status"): V,
    ("GET", "/data"): V,
    ("GET", "/personas"): V, ("GET", "/personas/new"): V, ("GET", "/personas/{persona_id}"): V,
    ("POST", "/personas/new"): E, ("POST", "/personas/{persona_id}"): E, ("POST", "/personas/{persona_id}/use"): E,
    ("POST", "/personas/{persona_id}/delete"): E, ("POST", "/personas-from-map"): E,
    ("GET", "/maps/{ref}/discussion"): V, ("POST", "/maps/{ref}/discussion"): C,
    ("POST", "/maps/{ref}/discussion/{thread_id}/reply"): C,
    ("POST", "/maps/{ref}/discussion/{thread_id}/{what}"): C,
    ("GET", "/mentions"): V, ("GET", "/activity"): V,
    ("POST", "/maps/{ref}/review"): E, ("POST", "/maps/{ref}/reviewed"): E,
    ("GET", "/maps/{ref}/backlog-{tool}.csv"): V, ("GET", "/backlog-{tool}.csv"): V,
    ("GET", "/maps/{ref}/follow-up"): V, ("POST", "/maps/{ref}/follow-up"): E,
    ("GET", "/maps/{ref}/share"): V, ("POST", "/maps/{ref}/share"): E,
    ("POST", "/maps/{ref}/share/{share_id}/revoke"): E,
    ("GET", "/members"): A, ("POST", "/members/invite"): A, ("POST", "/members/role"): A,
    ("POST", "/members/remove"): A, ("POST", "/members/reset"): A, ("POST", "/members/tokens"): A,
    ("POST", "/members/tokens/revoke"): A,
    # one's own account: any member, whatever the role
    ("GET", "/account"): V, ("POST", "/account/password"): V,
    ("POST", "/mentions/read"): V, ("POST", "/api/mentions/read"): V,
    # open: signing in and out, the one-time links, share links
    ("GET", "/login"): OPEN, ("POST", "/login"): OPEN, ("POST", "/logout"): OPEN,
    ("GET", "/set-password/{token}"): OPEN, ("POST", "/set-password/{token}"): OPEN,
    ("GET", "/share/{token}"): OPEN,
}
RANK = {"viewer": 0, "commenter": 1, "editor": 2, "owner": 3}
NEEDS = {V: 0, C: 1, E: 2, I: 2, A: 3}
NOWHERE = {"ref": "no-such-map", "number": "1", "job_id": "no-such-job", "view_id": "paths",
           "persona_id": "no-such-persona", "thread_id": "999999", "what": "resolve", "email": "nobody@example.com",
           "name": "no-such-token", "tool": "jira", "key": "pain:stage:none", "share_id": "999999",
           "hook_id": "999999", "token": "no-such-token"}
ROLES = ("viewer", "commenter", "editor", "owner")


@pytest.fixture
def server(small_demo: Path, tmp_path: Path, database_url: str | None) -> Iterator[TestClient]:
    app = server_of(small_demo, tmp_path, database_url, ("main", "other"))
    main = app.state.workspaces["main"].state.jm.accounts
    for role in ROLES:
        main.add(f"{role}@example.com", role, password=PASSWORD)
    app.state.workspaces["other"].state.jm.accounts.add("stranger@example.com", "owner", password=PASSWORD)
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        yield c


def _session(c: TestClient, ws: str, email: str) -> str:
    page = c.get(f"/w/{ws}/login").text
    token = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]
    r = c.post(f"/w/{ws}/login", data={"email": email, "password": PASSWORD, "csrf_token": token},
               follow_redirects=False)
    assert r.status_code == 303, r.text[:200]
    c.cookies.clear()
    return re.search(r"jm_session=([^;]+)", r.headers["set-cookie"]).group(1)  # type: ignore[union-attr]


def _callers(c: TestClient) -> dict[str, tuple[str | None, dict[str, str]]]:
    """Each kind of caller: (its role in workspace main, or None; its headers)."""
    main = c.app.state.workspaces["main"].state.jm
    secret = main.secret
    out: dict[str, tuple[str | None, dict[str, str]]] = {
        "anonymous": (None, {"X-CSRF-Token": csrf_token(secret)}),
    }
    for role in ROLES:
        sid = _session(c, "main", f"{role}@example.com")
        out[role] = (role, {"Cookie": f"jm_session={sid}", "X-CSRF-Token": csrf_token(secret, sid)})
        token = main.accounts.tokens.create(f"{role} script", role, created_by="owner@example.com")
        out[f"{role} token"] = (role, {"Authorization": f"Bearer {token}"})
    stranger = _session(c, "other", "stranger@example.com")  # an owner, of the other workspace
    out["member of another workspace"] = (None, {"Cookie": f"jm_session={stranger}",
                                                 "X-CSRF-Token": csrf_token(secret, stranger)})
    out["share link holder"] = (None, {"X-CSRF-Token": csrf_token(secret)})
    return out


def test_every_route_answers_every_caller_as_the_policy_says(server: TestClient) -> None:
    routes = [(m, r.path) for r in app_routes(server.app.state.workspaces["main"].routes)
              if isinstance(r, APIRoute) for m in sorted(r.methods - {"HEAD"})]
    unlisted = sorted(set(routes) - set(POLICY))
    assert not unlisted, f"routes the permission matrix does not list (add them to POLICY): {unlisted}"
    gone = sorted(set(POLICY) - set(routes))
    assert not gone, f"POLICY lists routes the app no longer has: {gone}"

    # the share link holder's link (made by an editor through the API)
    callers = _callers(server)
    made = server.post(f"/w/main/api/maps/{SME}/shares", headers=callers["editor"][1], json={})
    assert made.status_code == 201, made.text
    share = made.json()["url"].rsplit("/", 1)[1]

    wrong: list[str] = []
    routes.sort(key=lambda r: r == ("POST", "/logout"))  # signing out ends the callers' sessions: last
    for method, template in routes:
        need = POLICY[(method, template)]
        for who, (role, headers) in callers.items():
            values = {**NOWHERE, "token": share} if who == "share link holder" else NOWHERE
            path = "/w/main" + re.sub(r"{(\w+)}", lambda m: values[m.group(1)], template)
            r = server.request(method, path, headers=headers, json={}, follow_redirects=False)
            to_login = r.status_code == 303 and "/login" in r.headers.get("location", "")
            if r.status_code >= 500:
                wrong.append(f"{who}: {method} {path} → {r.status_code}")
            elif need == OPEN:
                if r.status_code == 403:
                    wrong.append(f"{who}: {method} {path} is open but got 403")
                if template == "/share/{token}" and (r.status_code == 200) != (who == "share link holder"):
                    wrong.append(f"{who}: {method} {path} → {r.status_code}")
            elif role is None:  # no member of this workspace: 401 for the API, else the sign-in page
                expected = "401" if template.startswith("/api/") else "303 to /login"
                if not (r.status_code == 401 if template.startswith("/api/") else to_login):
                    wrong.append(f"{who}: {method} {path} → {r.status_code}, expected {expected}")
            elif RANK[role] >= NEEDS[need]:
                if r.status_code in (401, 403) or to_login:
                    wrong.append(f"{who}: {method} {path} → {r.status_code}, expected to be let through ({need})")
            elif r.status_code != 403:
                wrong.append(f"{who}: {method} {path} → {r.status_code}, expected 403 ({need} needs more)")
    assert not wrong, f"{len(wrong)} answers differ from the policy:\n" + "\n".join(wrong[:40])
    assert len(routes) * len(callers) >= 1000
