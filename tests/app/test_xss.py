"""An XSS corpus saved into every text field a user can set comes back escaped on every
page and in every export.

Each field gets its own marker (``xss07``) inside the same hostile text: a ``<script>``,
an attribute break-out, a ``javascript:`` URL, a ``</textarea>`` break-out, a JavaScript
string break-out, a ``</script>`` that would close an inline script, a template
expression (``{{7*7}}`` right after the marker: ``xss0749`` would mean it ran) and, first,
a spreadsheet formula.  The values go in the way a user puts them in — the map editor's
operations and the YAML editor, comments and replies, share labels, follow-up items,
reviews, the persona library, member names (an owner's invitation and a member's own
choice), API token names, an uploaded file's name and its rows — and then every GET route
of the app is read by an owner, an editor and a viewer: an HTML page must hold the text
(so the test is not vacuous) but never as markup; a CSV export never as a formula; the
standalone map page (``/maps/REF/page``, ``/share/TOKEN``) and the files of ``journeymap
render`` (:func:`journeymap.render.exports.export`, what the command calls) likewise.

Not repeated here: the CLI printing hostile names (``tests/test_hostile_inputs.py``), the
Markdown/Mermaid escaping and formula-safe CSV/XLSX of one map cell
(``tests/render/test_exports.py``), a backlog cell (``tests/app/test_backlog.py``).
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.app.test_accounts import (  # noqa: F401
    OWNER,
    PASSWORD,
    VIEWER,
    _api_token,
    _csrf,
    sign_in,
    team,
)
from tests.app.test_api import app_routes

SME = "sme-onboarding-churn"
FORMULA = '=HYPERLINK("http://evil","x")'
TEMPLATE = "{{7*7}}"
CORPUS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "</textarea><svg onload=alert(1)>",
    "'-alert(1)-'",
)
#: what must never be in the source of a page: the corpus arriving as markup
RAW = ("<script>alert", "<img src=x", "<svg onload", "<svg/onload", "</textarea><svg", "<a href=\"javascript:",
       "href=\"javascript:", "href='javascript:", "href=javascript:")
URL_ATTRS = ("href", "src", "action", "formaction", "xlink:href", "srcset", "poster", "data", "background")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BASE = "http://127.0.0.1:8000"

FIELDS: dict[str, str] = {}  # marker -> the field it was saved into


def mark(field: str) -> str:
    m = f"xss{len(FIELDS) + 1:02d}"
    FIELDS[m] = field
    return m


def hostile(m: str) -> str:
    """The corpus around marker ``m``: a formula first, the template expression right after
    the marker at the end."""
    return f"{FORMULA} {m} {' '.join(CORPUS)} {m}{TEMPLATE}"


# -- what a page, a CSV and an SVG may hold ---------------------------------------------------
class _Page(HTMLParser):
    """The text and attribute values of a page, and what in it would run."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.problems: list[str] = []
        self._raw: tuple[str, str, list[str]] | None = None  # (tag, type, content) of a script or style

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            value = value or ""
            self.text.append(value)
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>: an event handler")
            plain = re.sub(r"[\s\x00-\x1f]", "", value).lower()
            if name in URL_ATTRS and plain.startswith(("javascript:", "vbscript:", "data:text/html")):
                self.problems.append(f"<{tag} {name}={value[:60]!r}>: a script URL")
            if name == "srcdoc" and ("<" in value or "xss" in value):
                self.problems.append(f"<{tag} srcdoc>: markup in a frame's document")
            if name == "style" and "xss" in value:
                self.problems.append(f"<{tag} style={value[:60]!r}>: user text in a style")
        if tag == "img" and values.get("src") == "x":
            self.problems.append("<img src=x>: the corpus as an element")
        if tag == "svg" and "onload" in values:
            self.problems.append("<svg onload>: the corpus as an element")
        if tag in ("script", "style") and not values.get("src"):
            self._raw = (tag, values.get("type") or "", [])

    def handle_endtag(self, tag: str) -> None:
        if self._raw is not None and tag == self._raw[0]:
            kind, body = self._raw[1], "".join(self._raw[2])
            if "json" in kind:  # data in a script: it must still be whole JSON
                try:
                    json.loads(body)
                except ValueError:
                    self.problems.append(f"<script type={kind}>: not JSON any more — closed early? {body[:80]!r}")
            elif "xss" in body or "alert(" in body:
                self.problems.append(f"inline <{tag}> holds user text: {body[:80]!r}")
            self._raw = None

    def handle_data(self, data: str) -> None:
        if self._raw is not None:
            self._raw[2].append(data)
        else:
            self.text.append(data)


def check_html(html: str, where: str) -> str:
    """Fail if the corpus is markup in ``html``; the page's text (attribute values too)."""
    for raw in RAW:
        assert raw not in html, (where, raw, _around(html, raw))
    page = _Page()
    page.feed(html)
    page.close()
    assert not page.problems, (where, page.problems)
    text = "\n".join(page.text)
    for m in FIELDS:
        assert f"{m}49" not in text, (where, f"{m}: the template expression ran")
    return text


def check_csv(text: str, where: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    formulas = [c for r in rows for c in r if c[:1] in FORMULA_START]
    assert not formulas, (where, formulas[:3])
    return rows


def check_svg(text: str, where: str) -> str:
    """An SVG file is XML: the corpus must stay text, never an element or an attribute."""
    root = ET.fromstring(text)
    words = []
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        assert tag not in ("script", "img", "foreignObject", "iframe", "a"), (where, tag)
        for name, value in el.attrib.items():
            name = name.rsplit("}", 1)[-1]
            assert not name.startswith("on"), (where, name)
            assert not value.strip().lower().startswith("javascript:"), (where, name, value)
        words += [el.text or "", el.tail or "", *el.attrib.values()]
    return "\n".join(words)


def _around(text: str, found: str) -> str:
    i = text.find(found)
    return text[max(0, i - 200):i + 100]


# -- walking the app ---------------------------------------------------------------------------
class Seen:
    """Which markers each kind of response held (as text)."""

    def __init__(self) -> None:
        self.html: dict[str, set[str]] = {}  # marker -> routes
        self.whole: set[str] = set()  # markers whose whole hostile text came back as text

    def add(self, text: str, where: str, kind: str) -> None:
        for m in FIELDS:
            if kind == "html" and m in text:
                self.html.setdefault(m, set()).add(where)
                if hostile(m) in text:
                    self.whole.add(m)


def check_response(r: Any, where: str, seen: Seen) -> None:
    """A response of the app: HTML escaped, CSV formula-free, anything else not HTML."""
    kind = r.headers.get("content-type", "")
    assert r.status_code < 500, (where, r.status_code, r.text[:300])
    if kind.startswith("text/html"):
        seen.add(check_html(r.text, where), where, "html")
    elif kind.startswith("text/csv"):
        check_csv(r.text, where)
        assert r.headers["content-disposition"].startswith("attachment"), where
    elif kind.startswith("application/json"):
        r.json()
    else:  # static files and the like: no user text in them
        assert "xss" not in r.text and "alert(1)" not in r.text, (where, kind)
    if "alert(1)" in r.text:  # user text served raw: never sniffed as HTML
        assert r.headers.get("x-content-type-options") == "nosniff", where


def get_routes(app: Any) -> Iterator[APIRoute]:
    for route in app_routes(app.routes):
        if isinstance(route, APIRoute) and "GET" in route.methods:
            yield route


def paths_of(route: APIRoute, values: dict[str, list[str]]) -> list[str]:
    """The route's path with each parameter filled, once per value given for it."""
    paths = [route.path]
    for name in re.findall(r"{(\w+)}", route.path):
        key = f"{route.path}:{name}" if f"{route.path}:{name}" in values else name
        paths = [p.replace("{" + name + "}", v) for p in paths for v in values[key]]
    return paths


def walk(c: TestClient, values: dict[str, list[str]], seen: Seen, *, number: int) -> list[str]:
    """Every GET route the app has (new ones too), each response checked."""
    read = []
    for route in get_routes(c.app):
        for path in paths_of(route, values):
            params = {"from": 1, "to": number} if path.endswith("/diff") else None
            r = c.get(path, params=params)
            check_response(r, f"{path} as {c.who}", seen)
            read.append(path)
    return read


def reflect(c: TestClient, values: dict[str, list[str]], seen: Seen, text: str) -> int:
    """Every GET route with each of its query parameters set to ``text`` (and the ones the
    pages read themselves), then with each path parameter set to it: never reflected as markup."""
    asked = 0
    extra = {"saved", "used", "error", "target", "next", "q", "from", "to", "with", "changed"}
    for route in get_routes(c.app):
        names = {p.alias or p.name for p in route.dependant.query_params} | extra
        for path in paths_of(route, values)[:1]:
            check_response(c.get(path, params={n: text for n in names}), f"{path}?…={text[:20]} as {c.who}", seen)
            asked += 1
        for name in re.findall(r"{(\w+)}", route.path):
            own = {k: v for k, v in values.items() if k != f"{route.path}:{name}"}
            own[name] = [quote(text.replace("/", ""), safe="")]  # a / would make it another route
            for path in paths_of(route, own)[:1]:
                check_response(c.get(path), f"{route.path} with {name}=… as {c.who}", seen)
                asked += 1
    return asked


def client_of(app: Any, who: str) -> TestClient:
    c = TestClient(app, base_url=BASE)
    c.who = who  # type: ignore[attr-defined]
    return c


def signed_in(c: TestClient, email: str) -> TestClient:
    assert sign_in(c, email).status_code == 303
    c.headers["X-CSRF-Token"] = _api_token(c)
    return c


def ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, (r.request.method, r.request.url.path, r.status_code, r.text[:500])
    return r


# -- the test ------------------------------------------------------------------------------------
def _views() -> list[str]:
    from journeymap.render.analytics import VIEWS

    return list(VIEWS)


@pytest.mark.slow
def test_an_xss_corpus_in_every_field_comes_back_escaped_on_every_page_and_export(
        team: TestClient, tmp_path: Path) -> None:  # noqa: F811 - the fixture imported above
    FIELDS.clear()
    app = team.app
    st = app.state.jm
    seen = Seen()
    owner = signed_in(client_of(app, "owner"), OWNER)
    viewer = signed_in(client_of(app, "viewer"), VIEWER)

    def saved(r: Any, status: int = 200) -> Any:  # a POST's page is a page too
        ok(r, status)
        check_response(r, f"{r.request.method} {r.request.url.path}", seen)
        return r

    # -- members: a name an owner gives, a name a member chooses, an email, a token's name
    evil_email = f"{FORMULA.lower()}<svg/onload=alert(1)>{mark('member email')}@evil.example"
    invited = saved(owner.post("/api/members", json={"email": evil_email, "role": "viewer",
                                                    "name": hostile(mark("member name (by the owner)"))}), 201)
    assert invited.json()["email"] == evil_email  # the email check lets it in: it must be text everywhere
    saved(owner.post("/members/invite", data={"email": "nia@example.com", "role": "viewer",
                                              "name": hostile(mark("member name (invite form)"))}))
    link = ok(owner.post("/api/members", json={"email": "mallory@example.com", "role": "editor"}), 201).json()["link"]
    mallory = client_of(app, "editor")
    token = link.rsplit("/", 1)[1]
    form = {"password": PASSWORD, "again": PASSWORD, "name": hostile(mark("member name (chosen by the member)")),
            "csrf_token": _csrf(mallory.get(f"/set-password/{token}").text)}
    ok(mallory.post(f"/set-password/{token}", data=form, follow_redirects=False), 303)
    mallory.headers["X-CSRF-Token"] = _api_token(mallory)
    assert mallory.get("/api/session").json()["user"] == form["name"]
    saved(owner.post("/api/tokens", json={"name": hostile(mark("API token name")), "role": "viewer"}), 201)
    saved(owner.post("/members/tokens", data={"name": hostile(mark("API token name (form)")), "role": "viewer"}))
    reset = saved(owner.post("/members/reset", data={"email": evil_email}))
    reset_token = re.search(r'id="one-time-link">[^<]*/set-password/([^<]+)<', reset.text).group(1)
    hook = ok(owner.post("/api/webhooks", json={"url": "http://127.0.0.1:9/hook"}), 201).json()

    # -- an upload: its file's name, an event name, rows that end in the quarantine
    name = f'"><img src=x onerror=alert(1)><svg onload=alert(1)> {mark("uploaded file name")}{TEMPLATE}.csv'
    buf = io.StringIO()
    csv.writer(buf).writerows([
        ["customer_id", "timestamp", "event"],
        ["C000001", "2026-01-05T10:00:00", event := hostile(mark("event name (uploaded, then in a match rule)"))],
        [FORMULA, "not a time", hostile(mark("quarantined row"))],
        ["", "2026-01-05T10:01:00", "@SUM(1+1)*cmd|' /C calc'!A0"],
    ])
    up = ok(mallory.post("/api/data/uploads", data={"kind": "events"},
                         files={"file": (name, buf.getvalue().encode(), "text/csv")}), 202)
    job = st.jobs.wait(up.json()["id"], timeout=60)
    assert job.status == "done", job.error
    assert (job.result["loaded"], job.result["quarantined"]) == (1, 2)

    # -- the map, in the map editor: every field, stage, touchpoint and lane it shows
    doc = ok(mallory.get(f"/api/maps/{SME}")).json()["document"]
    stages = doc["stages"]
    edits: list[dict[str, Any]] = [
        {"op": "set_field", "field": f, "value": hostile(mark(f"map {f}"))}
        for f in ("title", "description", "scope", "scenario", "persona.name", "persona.description",
                  "persona.quote", "goal.statement")]
    edits += [{"op": "set_field", "field": f, "value": [hostile(mark(f"map {f}"))]}
              for f in ("owners", "tags", "persona.goals", "persona.motivations", "persona.frustrations",
                        "persona.offscreen", "persona.preferred_channels")]
    edits += [{"op": "set_field", "field": "persona.demographics",
               "value": {hostile(mark("persona demographics key")): hostile(mark("persona demographics value"))}},
              {"op": "set_kpi", "where": "goal", "field": "name", "value": hostile(mark("goal KPI name"))}]
    for s in stages:
        edits += [{"op": "set_stage", "stage": s["id"], "field": f, "value": hostile(mark(f"stage {s['id']} {f}"))}
                  for f in ("name", "description")]
        for t in s.get("touchpoints") or []:
            edits.append({"op": "set_touchpoint", "touchpoint": t["id"], "field": "name",
                          "value": hostile(mark(f"touchpoint {t['id']} name"))})
    first_tp = stages[0]["touchpoints"][0]["id"]
    edits += [{"op": "set_touchpoint", "touchpoint": first_tp, "field": f, "value": hostile(mark(f"touchpoint {f}"))}
              for f in ("owner", "description", "channel")]
    edits.append({"op": "set_match", "touchpoint": first_tp,
                  "match": {"event_in": [stages[0]["touchpoints"][0]["match"]["event"], event]}})
    for s in stages[:2]:
        for lane in ("actions", "goals", "thoughts", "pain_points", "opportunities", "owners", "backstage"):
            edits.append({"op": "add_cell", "stage": s["id"], "lane": lane, "index": 0,
                          "text": hostile(mark(f"cell {s['id']}/{lane}"))})
    edits += [
        {"op": "set_evidence", "stage": stages[0]["id"], "lane": "actions", "index": 0,
         "evidence": {"kind": "research", "note": hostile(mark("evidence note")),
                      "source": hostile(mark("evidence source")), "query": hostile(mark("evidence query"))}},
        {"op": "set_emotion", "stage": stages[0]["id"],
         "emotion": {"value": 1, "label": hostile(mark("emotion label")),
                     "evidence": {"kind": "assumption", "note": hostile(mark("emotion note"))}}},
    ]
    v2 = ok(mallory.post(f"/api/maps/{SME}/edits", json={"base_version": 1, "edits": edits,
                                                        "message": hostile(mark("version message"))})).json()
    # and in the YAML editor: a comment line, and the form's message
    text = f"# {hostile(mark('YAML comment'))}\n{v2['text']}"
    saved(mallory.post(f"/maps/{SME}/source", data={"text": text, "base_version": v2["number"],
                                                   "message": hostile(mark("version message (YAML editor)"))}))
    latest = ok(mallory.get(f"/api/maps/{SME}")).json()
    number = latest["latest"]["number"]
    assert number == 3 and latest["title"] == hostile(next(m for m, f in FIELDS.items() if f == "map title"))

    # -- the numbers: an analysis of the hostile map (its pain points, opportunities, charts)
    first = mallory.get(f"/api/maps/{SME}/analysis").json()["job"]
    assert st.jobs.wait(first["id"], timeout=120).status == "done"
    analysis = st.jobs.analysis_for(SME, start=False)[0]
    assert analysis is not None and analysis.fresh and analysis.result["opportunities"]
    job_stages = mallory.get(f"/api/maps/{SME}/analytics/stages").json()["job"]  # the view with a breakdown
    if job_stages:
        st.jobs.wait(job_stages["id"], timeout=120)

    # -- follow-up: a link must be http(s); status and owner from their lists
    items = ok(mallory.get(f"/api/maps/{SME}/items")).json()
    opp = next(i for i in items if i["kind"] == "opportunity")
    pain = next(i for i in items if i["kind"] == "pain")
    assert any(m in opp["title"] for m in FIELDS), opp  # its title names a hostile touchpoint or stage
    item = lambda i: f"/api/maps/{SME}/items/{quote(i['key'], safe='')}"
    for bad in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
                "javascript://evil.example/%0aalert(1)", "data:text/html,<script>alert(1)</script>",
                "vbscript:msgbox(1)", "//evil.example/x", "http:alert(1)"):
        refused = mallory.put(item(pain), json={"link": bad})
        assert refused.status_code == 400 and "http" in refused.json()["error"], (bad, refused.text)
        form_refused = mallory.post(f"/maps/{SME}/follow-up", data={"key": pain["key"], "link": bad})
        assert form_refused.status_code == 400, bad
    assert mallory.put(item(pain), json={"status": hostile("xss")}).status_code == 400
    assert mallory.put(item(pain), json={"owner": hostile("xss")}).status_code == 400  # not a member
    evil_link = (f"https://evil.example/{mark('follow-up link')}?q=\"><img src=x onerror=alert(1)>"
                 "&x=<script>alert(1)</script>&t={{7*7}}")
    assert ok(mallory.put(item(pain), json={"link": evil_link, "status": "planned"})).json()["link"] == evil_link
    assert ok(mallory.put(item(opp), json={"owner": evil_email, "status": "in progress"})).json()["owner"] == evil_email
    ok(owner.put(f"/api/maps/{SME}/review", json={"owner": evil_email}))
    ok(mallory.post(f"/api/maps/{SME}/reviewed"))

    # -- the discussion: a thread, a reply, a comment on a cell, @mentions both ways
    thread = ok(owner.post(f"/api/maps/{SME}/comments", json={
        "target": "map", "body": hostile(mark("comment body")) + " @mallory"}), 201).json()
    ok(mallory.post(f"/api/maps/{SME}/comments", json={
        "thread_id": thread["id"], "body": hostile(mark("reply body")) + " @olga"}), 201)
    cell = ok(mallory.post(f"/api/maps/{SME}/comments", json={
        "target": f"cell:{stages[0]['id']}/actions/0", "body": hostile(mark("comment on a cell"))}), 201).json()
    ok(mallory.post(f"/api/comments/{cell['id']}/resolve", json={"resolved": True}))
    ok(mallory.post(f"/maps/{SME}/discussion", data={"target": "map", "body": hostile(mark("comment (form)"))},
                    follow_redirects=False), 303)

    # -- a share link's label (API and form)
    share = ok(mallory.post(f"/api/maps/{SME}/shares", json={"label": hostile(mark("share label"))}), 201).json()
    share_token = share["url"].rsplit("/", 1)[1]
    saved(mallory.post(f"/maps/{SME}/share", data={"label": hostile(mark("share label (form)")), "days": "3"}))

    # -- the persona library: one written in full, and the map's own persona added to it
    persona = {"name": hostile(mark("library persona name")),
               "description": hostile(mark("library persona description")),
               "quote": hostile(mark("library persona quote")), "goals": [hostile(mark("library persona goal"))],
               "frustrations": [hostile(mark("library persona frustration"))],
               "demographics": {"role": hostile(mark("library persona demographics"))}}
    ok(mallory.put("/api/personas/xss-lib", json={"persona": persona}))
    added = ok(mallory.post("/personas-from-map", data={"ref": SME}, follow_redirects=False), 303)
    from_map = added.headers["location"].split("/personas/", 1)[1].split("?", 1)[0]

    # -- every GET route, as each role
    values = {"ref": [SME], "number": [str(number)], "job_id": [first["id"]], "view_id": list(_views()),
              "persona_id": ["xss-lib", from_map], "tool": ["jira", "linear", "github"], "hook_id": [str(hook["id"])],
              "/share/{token}:token": [share_token], "/set-password/{token}:token": [reset_token]}
    read = walk(owner, values, seen, number=number)
    walk(mallory, values, seen, number=number)
    walk(viewer, values, seen, number=number)
    assert len(read) >= 60 and f"/maps/{SME}/page" in read and f"/share/{share_token}" in read

    # not vacuous: each field came back, as text, on some page — most of them whole
    missing = {m: f for m, f in FIELDS.items() if m not in seen.html}
    assert not missing, missing
    shaped = ("member email", "follow-up link", "uploaded file name", "quarantined row")  # not hostile() itself
    broken = {m: f for m, f in FIELDS.items() if m not in seen.whole and f not in shaped}
    assert not broken, broken

    # the standalone map page (framed on the map tab, and behind a share link)
    for path in (f"/maps/{SME}/page", f"/share/{share_token}"):
        page = owner.get(path)
        body = check_html(page.text, path)
        for f in ("map title", "stage", "touchpoint", "cell", "evidence note", "emotion label", "goal KPI name"):
            assert any(m in body for m, g in FIELDS.items() if g.startswith(f)), (path, f)
    assert "sandbox" in owner.get(f"/share/{share_token}").headers["content-security-policy"]

    # the CSV exports: the hostile text arrived, never as a formula
    for path in [f"/maps/{SME}/backlog-{t}.csv" for t in ("jira", "linear", "github")] + [
            "/backlog-jira.csv", "/api/data/quarantine.csv"]:
        rows = check_csv(owner.get(path).text, path)
        assert any(m in c for r in rows for c in r for m in FIELDS), path
    jira = check_csv(owner.get(f"/maps/{SME}/backlog-jira.csv").text, "jira")
    assert "'" + evil_email in [r[5] for r in jira], "the assignee is a cell like the others"
    quarantined = "\n".join(",".join(r) for r in check_csv(owner.get("/api/data/quarantine.csv").text, "quarantine"))
    assert all(m in quarantined for m, f in FIELDS.items() if f in ("uploaded file name", "quarantined row"))

    # reflected: every query and path parameter of every GET route set to the corpus
    reflected = mark("query or path parameter")
    assert reflect(owner, values, seen, hostile(reflected)) >= 80
    assert len(seen.html[reflected]) >= 10, seen.html[reflected]  # shown back (a search box, an error), as text

    # -- the files of journeymap render, from the saved map and its analysis
    from openpyxl import load_workbook

    from journeymap.render.exports import export

    jmap = st.library.document(st.library.get(SME).latest)
    out = {s: export(jmap, analysis.result, tmp_path / f"map{s}", source="maps/sme.yaml")
           for s in (".html", ".svg", ".md", ".csv", ".xlsx", ".mmd", ".json")}
    html = check_html(out[".html"].read_text(encoding="utf-8"), "render .html")
    assert hostile(next(m for m, f in FIELDS.items() if f == "map title")) in html
    svg_text = "".join(check_svg(p.read_text(encoding="utf-8"), p.name) for p in tmp_path.glob("map*.svg"))
    assert any(m in svg_text for m in FIELDS) and len(list(tmp_path.glob("map*.svg"))) > 1
    md = out[".md"].read_text(encoding="utf-8")
    assert not [raw for raw in RAW if raw in md] and "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    mmd = out[".mmd"].read_text(encoding="utf-8")
    assert "<" not in mmd and ">" not in mmd and "xss" in mmd
    with out[".csv"].open(encoding="utf-8-sig") as fh:
        table = check_csv(fh.read(), "render .csv")
    assert any(hostile(m)[1:] in c for r in table for c in r for m in FIELDS)  # kept, behind a '
    cells = [c.value for row in load_workbook(out[".xlsx"]).active.iter_rows() for c in row]
    assert not [v for v in cells if isinstance(v, str) and v.startswith(FORMULA_START)]
    assert any(isinstance(v, str) and "xss" in v for v in cells)
    assert json.loads(out[".json"].read_text(encoding="utf-8"))["map"]["title"] == jmap.title

    # -- and in the browser, the app's scripts do not turn that text back into markup
    check_scripts()


def check_scripts() -> None:
    """The app's own scripts put text into the page as text (``textContent``), so what the
    server escaped is not unescaped in the browser."""
    from importlib import resources

    static = Path(str(resources.files("journeymap.app").joinpath("static")))
    for js in sorted(static.glob("*.js")):
        if js.name.endswith(".min.js"):
            continue  # htmx: swaps only the app's own (escaped) HTML fragments
        code = js.read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                     "setTimeout(\"", "srcdoc"):
            assert sink not in code, (js.name, sink)
