"""Several workspaces on one server (``journeymap serve -w A -w B``), their metadata in one
shared database (SQLite and PostgreSQL): each workspace's app at ``/w/NAME/``, and a
member of one workspace can read or change nothing of the other — by any route, with
their session cookie or their API token, and by the ids of the other's threads, share
links, webhooks and jobs.  The route walk takes every route the app has, so a new route
is tested without being listed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from journeymap.app.hosting import mount_name, parse_workspaces
from journeymap.app.security import csrf_token
from journeymap.errors import JourneymapError

from .conftest import server_of
from .test_accounts import PASSWORD, SME, _csrf
from .test_api import app_routes

ANN, BEA, CAL = "ann@example.com", "bea@example.com", "cal@example.com"
SECRET = "Support-only-words-7f3a"  # what support's objects say; never in an answer to Ann
URL = "http://127.0.0.1:8000"


@pytest.fixture
def server(small_demo: Path, tmp_path: Path, database_url: str | None) -> Iterator[TestClient]:
    app = server_of(small_demo, tmp_path, database_url, ("sales", "support"))
    sales, support = (app.state.workspaces[n].state.jm.accounts for n in ("sales", "support"))
    sales.add(ANN, "owner", password=PASSWORD)
    support.add(BEA, "owner", password=PASSWORD)
    sales.add(CAL, "viewer", password=PASSWORD)
    support.add(CAL, "editor")  # one account in both: one password, a session per workspace
    with TestClient(app, base_url=URL) as c:
        yield c


def sign_in(c: TestClient, ws: str, email: str) -> str:
    """Sign ``email`` in to workspace ``ws``; the session cookie's value."""
    token = _csrf(c.get(f"/w/{ws}/login").text)
    r = c.post(f"/w/{ws}/login", data={"email": email, "password": PASSWORD, "next": f"/w/{ws}/maps/{SME}",
                                       "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/w/{ws}/maps/{SME}", r.text[:300]
    cookie = r.headers["set-cookie"]
    assert "Path=/w/" + ws + "/" in cookie, cookie  # the browser sends it to its workspace only
    return re.search(r"jm_session=([^;]+)", cookie).group(1)  # type: ignore[union-attr]


def support_objects(c: TestClient) -> dict[str, str]:
    """Bea makes one of everything in support that has an id: a thread, a share link, a
    webhook, an analysis job, an API token; their ids and the share's token."""
    sign_in(c, "support", BEA)
    h = {"X-CSRF-Token": c.get("/w/support/api/session").json()["csrf_token"]}
    thread = c.post(f"/w/support/api/maps/{SME}/comments", headers=h, json={"target": "map", "body": SECRET})
    share = c.post(f"/w/support/api/maps/{SME}/shares", headers=h, json={"label": SECRET})
    hook = c.post("/w/support/api/webhooks", headers=h, json={"url": f"http://127.0.0.1:9/{SECRET}"})
    token = c.post("/w/support/api/tokens", headers=h, json={"name": "support-script", "role": "owner"})
    job = c.get(f"/w/support/api/maps/{SME}/analysis")
    assert all(r.status_code in (200, 201, 202) for r in (thread, share, hook, token, job)), \
        [r.text for r in (thread, share, hook, token, job)]
    c.post("/w/support/logout", headers=h)
    c.cookies.clear()
    return {"thread_id": str(thread.json()["id"]),
            "share_id": str(share.json()["id"]), "share_token": share.json()["url"].rsplit("/", 1)[1],
            "hook_id": str(hook.json()["id"]), "job_id": str(job.json()["job"]["id"]),
            "api_token": token.json()["token"]}


def fill(path: str, ids: dict[str, str]) -> str:
    values = {"ref": SME, "number": "1", "view_id": "paths", "persona_id": "sam", "tool": "jira",
              "what": "resolve", "key": "pain:stage:x", "name": "support-script", "email": BEA, **ids}
    for name in re.findall(r"{(\w+)(?::\w+)?}", path):
        assert name in values, f"route {path}: say what to put for {{{name}}} in this test"
        path = re.sub(r"{" + name + r"(?::\w+)?}", values[name], path)
    return path


#: open by design: signing in, the one-time links, the static files, share links
OPEN = {"/login", "/logout", "/set-password/{token}", "/share/{token}"}


def test_the_index_lists_the_workspaces_and_each_app_lives_under_its_mount(server: TestClient) -> None:
    index = server.get("/")
    assert index.status_code == 200 and 'href="/w/sales/"' in index.text and 'href="/w/support/"' in index.text
    assert "unsafe-inline" not in index.headers["content-security-policy"]
    assert server.get("/w/sales", follow_redirects=False).headers["location"] == "/w/sales/"
    assert server.get("/w/nope").status_code == 404 and server.get("/w/nope/").status_code == 404
    first = server.get(f"/w/sales/maps/{SME}", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == f"/w/sales/login?next=/w/sales/maps/{SME}"
    sign_in(server, "sales", ANN)
    page = server.get(f"/w/sales/maps/{SME}")
    assert page.status_code == 200
    # every link, form, script and frame of the page stays inside the workspace
    targets = re.findall(r'(?:href|action|src|hx-get|hx-post)="(/[^"]*)"', page.text)
    assert targets and all(t.startswith("/w/sales/") for t in targets), [t for t in targets if not t.startswith("/w/")]
    assert '<meta name="jm-base" content="/w/sales">' in page.text
    # a redirect of a form stays in the workspace; a next= into another workspace is refused
    h = {"X-CSRF-Token": server.get("/w/sales/api/session").json()["csrf_token"]}
    done = server.post(f"/w/sales/maps/{SME}/review", headers=h, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/w/sales/maps/{SME}"
    assert server.get("/w/sales/login?next=/w/support/", follow_redirects=False).status_code in (200, 303)
    token = _csrf(server.get("/w/sales/account").text)
    server.post("/w/sales/logout", data={"csrf_token": token})
    other = server.post("/w/sales/login", data={"email": ANN, "password": PASSWORD, "next": "/w/support/",
                                                "csrf_token": _csrf(server.get("/w/sales/login").text)},
                        follow_redirects=False)
    assert other.headers["location"] == "/w/sales/"


def test_a_member_of_one_workspace_reaches_nothing_of_the_other_by_any_route(server: TestClient) -> None:
    ids = support_objects(server)
    ann = sign_in(server, "sales", ANN)
    server.cookies.clear()
    support = server.app.state.workspaces["support"]
    # the attacker sends her sales cookie to support on purpose and passes its CSRF check
    # (the token is computed here): what stops her is the authorization point itself
    h = {"Cookie": f"jm_session={ann}", "X-CSRF-Token": csrf_token(support.state.jm.secret, ann)}
    checked = 0
    for route in app_routes(support.routes):
        if not isinstance(route, APIRoute) or route.path in OPEN:
            continue
        path = "/w/support" + fill(route.path, ids)
        for method in sorted(route.methods - {"HEAD"}):
            r = server.request(method, path, headers=h, json={}, follow_redirects=False)
            assert r.status_code in (303, 401), (method, path, r.status_code, r.text[:200])
            if r.status_code == 303:
                assert r.headers["location"].startswith("/w/support/login"), (method, path)
            assert SECRET not in r.text
            checked += 1
    assert checked >= 90, checked
    # her API token of sales is no token at support
    sales = server.app.state.workspaces["sales"]
    script = sales.state.jm.accounts.tokens.create("ann script", "owner", created_by=ANN)
    for path in ("/api/maps", "/api/session", "/api/webhooks", f"/api/maps/{SME}/comments", "/api/tokens"):
        assert server.get("/w/support" + path, headers={"Authorization": f"Bearer {script}"}).status_code == 401
        assert server.get("/w/sales" + path, headers={"Authorization": f"Bearer {script}"}).status_code == 200
    # and support's token is nothing at sales
    assert server.get("/w/sales/api/maps", headers={"Authorization": f"Bearer {ids['api_token']}"}).status_code == 401


def test_the_other_workspace_s_ids_are_unknown_even_to_an_owner(server: TestClient) -> None:
    ids = support_objects(server)
    sign_in(server, "sales", ANN)
    h = {"X-CSRF-Token": server.get("/w/sales/api/session").json()["csrf_token"]}
    t, s, k, j = ids["thread_id"], ids["share_id"], ids["hook_id"], ids["job_id"]
    attempts = [
        ("POST", f"/w/sales/api/comments/{t}/resolve", {"resolved": True}),
        ("POST", f"/w/sales/api/maps/{SME}/comments", {"thread_id": int(t), "body": "hi"}),
        ("POST", f"/w/sales/maps/{SME}/discussion/{t}/reply", None),
        ("POST", f"/w/sales/maps/{SME}/discussion/{t}/resolve", None),
        ("DELETE", f"/w/sales/api/maps/{SME}/shares/{s}", None),
        ("POST", f"/w/sales/maps/{SME}/share/{s}/revoke", None),
        ("DELETE", f"/w/sales/api/webhooks/{k}", None),
        ("GET", f"/w/sales/api/webhooks/{k}/deliveries", None),
        ("GET", f"/w/sales/api/jobs/{j}", None),
        ("GET", f"/w/sales/maps/new/jobs/{j}", None),
        ("DELETE", "/w/sales/api/tokens/support-script", None),
        ("GET", f"/w/sales/share/{ids['share_token']}", None),
    ]
    for method, path, body in attempts:
        r = server.request(method, path, headers=h, follow_redirects=False,
                           **({"json": body} if body is not None else {"data": {"csrf_token": h["X-CSRF-Token"],
                                                                                 "body": "hi"}}))
        assert r.status_code in (400, 404), (method, path, r.status_code, r.text[:200])
        assert SECRET not in r.text
    # nothing of support changed: its thread open, its share link and webhook alive
    server.cookies.clear()
    sign_in(server, "support", BEA)
    threads = server.get(f"/w/support/api/maps/{SME}/comments").json()["threads"]
    assert [th["resolved"] for th in threads if th["comments"][0]["body"] == SECRET] == [False]
    assert [x["revoked_at"] for x in server.get(f"/w/support/api/maps/{SME}/shares").json()] == [None]
    assert len(server.get("/w/support/api/webhooks").json()) == 1
    assert server.get(f"/share/{ids['share_token']}").status_code == 404  # only under its workspace
    assert server.get(f"/w/support/share/{ids['share_token']}").status_code == 200


def test_one_account_in_two_workspaces_has_a_session_and_a_role_in_each(server: TestClient) -> None:
    sign_in(server, "sales", CAL)
    sign_in(server, "support", CAL)  # the jar now holds two cookies, one per path
    assert server.get("/w/sales/api/session").json()["role"] == "viewer"
    assert server.get("/w/support/api/session").json()["role"] == "editor"
    h = {"X-CSRF-Token": server.get("/w/sales/api/session").json()["csrf_token"]}
    assert server.post(f"/w/sales/maps/{SME}/review", headers=h).status_code == 403  # a viewer there
    # signing out of one leaves the other signed in
    server.post("/w/sales/logout", headers=h)
    assert server.get("/w/sales/api/session").status_code == 401
    assert server.get("/w/support/api/session").status_code == 200


def test_workspace_names_come_from_folders_or_are_given(tmp_path: Path) -> None:
    assert mount_name("Sales EMEA") == "sales-emea"
    got = parse_workspaces([str(tmp_path / "Sales EMEA"), f"care={tmp_path / 'x'}"])
    assert got == {"sales-emea": (tmp_path / "Sales EMEA").resolve(), "care": (tmp_path / "x").resolve()}
    with pytest.raises(JourneymapError, match="two workspaces are named 'a'"):
        parse_workspaces([str(tmp_path / "a"), str(tmp_path / "other" / "a")])
    with pytest.raises(JourneymapError, match="given twice"):
        parse_workspaces([str(tmp_path / "a"), f"b={tmp_path / 'a'}"])
    with pytest.raises(JourneymapError, match="lower case letters"):
        parse_workspaces([f"Big_Name={tmp_path / 'a'}"])


def test_an_owner_cannot_take_over_an_account_shared_with_another_workspace(server: TestClient) -> None:
    """With one database, a person's password opens every workspace they belong to: so an
    owner of sales gets no set-password link for someone who has an account elsewhere —
    neither by inviting them nor by a reset — and they sign in with their own password."""
    sign_in(server, "sales", ANN)
    h = {"X-CSRF-Token": server.get("/w/sales/api/session").json()["csrf_token"]}
    invited = server.post("/w/sales/api/members", headers=h, json={"email": BEA, "role": "viewer"})
    assert invited.status_code == 201 and invited.json()["link"] is None  # Bea is support's owner
    page = server.post("/w/sales/members/invite", headers=h, data={"email": BEA, "role": "viewer"})
    assert "have an account on this server already" in page.text and "/set-password/" not in page.text
    refused = server.post("/w/sales/members/reset", headers=h, data={"email": CAL})  # Cal is in both
    assert refused.status_code == 400 and "resets their password (journeymap users reset)" in refused.text
    assert "/set-password/" not in refused.text
    # a newcomer still gets a link; Bea signs in to sales with the password she has
    fresh = server.post("/w/sales/api/members", headers=h, json={"email": "dan@example.com", "role": "viewer"})
    assert fresh.json()["link"].startswith(f"{URL}/w/sales/set-password/")
    server.post("/w/sales/logout", headers=h)
    server.cookies.clear()
    sign_in(server, "sales", BEA)
    assert server.get("/w/sales/api/session").json()["role"] == "viewer"
