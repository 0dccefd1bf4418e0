"""Share links: read-only, expiring, revocable links to one map's page, opened without an
account, showing the map page and nothing else of the workspace."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from journeymap.app.tables import ShareLinkRow, utcnow
from tests.app.test_accounts import _api_token, sign_in

SME = "sme-onboarding-churn"


def _team(client: TestClient) -> dict[str, str]:
    st = client.app.state.jm
    st.accounts.add("olga@example.com", "owner", password="correct horse battery")
    st.accounts.add("vic@example.com", "viewer", password="correct horse battery")
    sign_in(client, "olga@example.com")
    return {"X-CSRF-Token": _api_token(client)}


def test_a_share_link_opens_the_map_page_and_nothing_else(client: TestClient) -> None:
    headers = _team(client)
    made = client.post(f"/api/maps/{SME}/shares", json={"label": "board review", "days": 7}, headers=headers)
    assert made.status_code == 201, made.text
    link = made.json()["url"]
    token = link.rsplit("/", 1)[1]
    assert link.startswith("http://127.0.0.1:8000/share/") and len(token) >= 43
    st = client.app.state.jm
    with st.library.sessions() as s:  # only a fingerprint is kept
        assert token not in repr([(r.token_hash, r.label) for r in s.query(ShareLinkRow)])

    with TestClient(client.app, base_url="http://127.0.0.1:8000") as stranger:
        page = stranger.get(f"/share/{token}")
        assert page.status_code == 200 and "<svg" in page.text
        title = st.library.get(SME).row.title
        assert title in page.text
        csp = page.headers["content-security-policy"]
        assert "sandbox allow-scripts" in csp and "frame-ancestors 'none'" in csp and "connect-src" not in csp
        assert page.headers["x-robots-tag"].startswith("noindex") and page.headers["referrer-policy"] == "no-referrer"
        assert st.ws.config.name not in page.text.replace(title, "")  # not the workspace's name
        assert 'href="/maps' not in page.text and 'href="/"' not in page.text
        # the link opens that page only: the rest of the workspace still needs an account
        for path in (f"/maps/{SME}", f"/maps/{SME}/page", "/", "/data", f"/api/maps/{SME}"):
            assert stranger.get(path, follow_redirects=False).status_code in (303, 401), path
        assert stranger.get("/share/" + token[:-2] + "xx").status_code == 404  # not guessable nor forgeable

    listed = client.get(f"/api/maps/{SME}/shares").json()
    assert [(x["label"], x["state"], x["opened"]) for x in listed] == [("board review", "active", 1)]
    assert "url" not in listed[0]
    revoked = client.delete(f"/api/maps/{SME}/shares/{listed[0]['id']}", headers=headers).json()
    assert revoked["state"] == "revoked" and revoked["revoked_by"] == "olga@example.com"
    gone = TestClient(client.app).get(f"/share/{token}")
    assert gone.status_code == 410 and "revoked" in gone.text


def test_a_share_link_expires(client: TestClient) -> None:
    headers = _team(client)
    token = client.post(f"/api/maps/{SME}/shares", json={}, headers=headers).json()["url"].rsplit("/", 1)[1]
    st = client.app.state.jm
    with st.library.sessions.begin() as s:
        for row in s.query(ShareLinkRow):
            assert row.expires_at - utcnow() > dt.timedelta(days=29)  # 30 days by default
            row.expires_at = utcnow() - dt.timedelta(seconds=1)
    page = TestClient(client.app).get(f"/share/{token}")
    assert page.status_code == 410 and "expired" in page.text
    assert client.post(f"/api/maps/{SME}/shares", json={"days": 400}, headers=headers).status_code == 422


def test_only_editors_make_or_revoke_links_and_the_token_is_shown_once(client: TestClient) -> None:
    headers = _team(client)
    made = client.post(f"/maps/{SME}/share", data={"label": "agency", "days": "3"}, headers=headers)
    assert made.status_code == 200 and 'id="new-share"' in made.text and "/share/" in made.text
    tab = client.get(f"/maps/{SME}/share").text
    assert "agency" in tab and 'id="new-share"' not in tab
    bad = client.post(f"/maps/{SME}/share", data={"days": "0"}, headers=headers)
    assert bad.status_code == 400 and "1 to 365 days" in bad.text
    share_id = client.get(f"/api/maps/{SME}/shares").json()[0]["id"]
    client.post("/logout", headers=headers)
    sign_in(client, "vic@example.com")
    viewer = {"X-CSRF-Token": _api_token(client)}
    assert client.post(f"/api/maps/{SME}/shares", json={}, headers=viewer).status_code == 403
    assert client.delete(f"/api/maps/{SME}/shares/{share_id}", headers=viewer).status_code == 403
    assert "Make a share link" not in client.get(f"/maps/{SME}/share").text
