"""The JSON API on a real app (SQLite metadata, the DuckDB store, the job worker)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from journeymap.errors import MapValidationError
from journeymap.model.yamlio import parse_map

SME = "sme-onboarding-churn"


def _file(workspace: Path, ref: str = SME) -> str:
    return (workspace / "maps" / f"{ref}.yaml").read_text(encoding="utf-8")


def _save(client: TestClient, text: str, base: int | None, ref: str = SME, message: str = "") -> object:
    return client.put(f"/api/maps/{ref}", json={"text": text, "base_version": base, "message": message})


def test_lists_the_workspace_maps_and_returns_the_file_text(client: TestClient, workspace: Path) -> None:
    maps = client.get("/api/maps").json()
    assert sorted(m["ref"] for m in maps) == ["day-in-the-life", "enterprise-acquisition", SME]
    sme = next(m for m in maps if m["ref"] == SME)
    assert sme["persona"].startswith("Sam") and sme["type"] == "churn" and sme["latest"]["number"] == 1
    got = client.get(f"/api/maps/{SME}").json()
    assert got["text"] == _file(workspace)
    assert got["document"]["id"] == SME and got["document"]["stages"][0]["id"]


def test_a_save_round_trips_the_text_with_its_comments(client: TestClient, workspace: Path) -> None:
    text = _file(workspace)
    edited = "# owned by the CX team: ask Ana before changing stages\n" + text.replace(
        "title: SME journey", "title: SME journey (reviewed)", 1)
    r = _save(client, edited, 1, message="reviewed the title")
    assert r.status_code == 200, r.text
    assert r.json()["number"] == 2 and r.json()["author"] == "ana" and r.json()["source"] == "app"
    assert _file(workspace) == edited  # byte for byte: comment and key order kept
    assert client.get(f"/api/maps/{SME}").json()["text"] == edited
    versions = client.get(f"/api/maps/{SME}/versions").json()
    assert [v["number"] for v in versions] == [2, 1]
    assert versions[0]["message"] == "reviewed the title"
    assert client.get(f"/api/maps/{SME}/versions/1").json()["text"] == text
    # the same text again is no new version
    assert _save(client, edited, 2).json()["number"] == 2


def test_an_invalid_map_is_422_with_the_problems_of_validate(client: TestClient, workspace: Path) -> None:
    text = _file(workspace)
    broken = text.replace("stage_kind:", "stage_knd:", 1) if "stage_kind:" in text else text.replace(
        "title:", "titel:", 1)
    r = _save(client, broken, 1)
    assert r.status_code == 422
    with pytest.raises(MapValidationError) as cli:
        parse_map(broken, "maps/sme-onboarding-churn.yaml")
    expected = [str(i) for i in cli.value.issues]
    assert [p["text"] for p in r.json()["problems"]] == expected
    assert all({"file", "line", "path", "message"} <= p.keys() for p in r.json()["problems"])
    assert _file(workspace) == text  # nothing written
    check = client.post("/api/validate", json={"text": broken, "file": "maps/sme-onboarding-churn.yaml"}).json()
    assert not check["valid"] and [p["text"] for p in check["problems"]] == expected


def test_two_saves_from_the_same_version_conflict_and_lose_nothing(client: TestClient, workspace: Path) -> None:
    text = _file(workspace)
    first = text.replace("title: SME journey", "title: SME journey (tab one)", 1)
    second = text.replace("title: SME journey", "title: SME journey (tab two)", 1)
    assert _save(client, first, 1).status_code == 200
    r = _save(client, second, 1)
    assert r.status_code == 409
    body = r.json()
    assert body["latest"]["number"] == 2 and body["latest"]["text"] == first
    assert body["yours"] == second and body["base_version"] == 1
    assert _file(workspace) == first
    assert _save(client, second, 2).status_code == 200  # saved on top of the latest


def test_a_change_on_disk_becomes_a_version_and_an_invalid_file_is_kept(client: TestClient,
                                                                         workspace: Path) -> None:
    path = workspace / "maps" / f"{SME}.yaml"
    text = path.read_text()
    path.write_text(text.replace("title: SME journey", "title: SME journey (from git)", 1))
    versions = client.get(f"/api/maps/{SME}/versions").json()
    assert versions[0]["number"] == 2 and versions[0]["source"] == "disk" and versions[0]["valid"]
    path.write_text(text + "\nstages: not-a-list\n")
    got = client.get(f"/api/maps/{SME}").json()
    assert got["latest"]["number"] == 3 and not got["latest"]["valid"] and got["latest"]["problems"]
    assert got["document"] is None
    assert path.read_text() == text + "\nstages: not-a-list\n"  # never overwritten by the app
    page = client.get(f"/maps/{SME}")
    assert page.status_code == 200 and "problem" in page.text and "stages" in page.text
    # saving on top of the invalid file fixes it
    assert _save(client, text, 3).status_code == 200 and path.read_text() == text


def test_diff_speaks_the_maps_language_and_restore_is_a_new_version(client: TestClient,
                                                                   workspace: Path) -> None:
    text = _file(workspace)
    doc = parse_map(text)[0]
    first, second = doc.stages[0], doc.stages[1]
    edited = text.replace(f"name: {first.name}\n", f"name: {first.name} and pay\n", 1)
    assert edited != text
    assert _save(client, edited, 1).status_code == 200
    changes = client.get(f"/api/maps/{SME}/diff", params={"from": 1, "to": 2}).json()["changes"]
    assert [c["kind"] for c in changes] == ["stage_renamed"]
    assert changes[0]["text"] == f'Stage "{first.name}" renamed to "{first.name} and pay"'
    r = client.post(f"/api/maps/{SME}/restore", json={"version": 1, "base_version": 2})
    assert r.status_code == 200 and r.json()["number"] == 3 and r.json()["restored_from"] == 1
    assert _file(workspace) == text
    assert client.get(f"/api/maps/{SME}/diff", params={"from": 1, "to": 3}).json()["changes"] == []
    assert second.id  # the map has at least two stages to speak of
    stale = client.post(f"/api/maps/{SME}/restore", json={"version": 2, "base_version": 1})
    assert stale.status_code == 409


def test_a_new_map_from_a_template(client: TestClient, workspace: Path) -> None:
    templates = [t["name"] for t in client.get("/api/templates").json()]
    assert "support-case" in templates
    r = client.post("/api/maps", json={"ref": "ticket-journey", "template": "support-case", "title": "Tickets"})
    assert r.status_code == 201, r.text
    assert r.json()["title"] == "Tickets" and r.json()["latest"]["number"] == 1
    assert (workspace / "maps" / "ticket-journey.yaml").is_file()
    again = client.post("/api/maps", json={"ref": "ticket-journey", "template": "support-case"})
    assert again.status_code == 400 and "exists" in again.json()["error"]
    bad = client.post("/api/maps", json={"ref": "Bad Name!", "template": "support-case"})
    assert bad.status_code == 400
    unknown = client.post("/api/maps", json={"ref": "x", "template": "no-such"})
    assert unknown.status_code == 400 and "unknown template" in unknown.json()["error"]


@pytest.mark.slow
def test_the_analysis_runs_in_the_background_and_is_cached(client: TestClient) -> None:
    first = client.get(f"/api/maps/{SME}/analysis")
    assert first.status_code == 202 and first.json()["analysis"] is None
    job = first.json()["job"]
    assert job["status"] in ("queued", "running", "done")
    done = client.app.state.jm.jobs.wait(job["id"], timeout=120)
    assert done.status == "done", done.error
    assert client.get(f"/api/jobs/{job['id']}").json()["progress"] == 1.0
    cached = client.get(f"/api/maps/{SME}/analysis")
    assert cached.status_code == 200 and cached.json()["fresh"] and cached.json()["job"] is None
    analysis = cached.json()["analysis"]
    assert analysis["map"]["id"] == SME and analysis["stages"] and "pain_points" in analysis
    # the same analysis as the CLI's page analysis
    ws = client.app.state.jm.ws
    assert analysis["stages"] == ws.analyze_page(ws.load_map(SME))["stages"]
    # a new version: the old numbers are served (not fresh) while a job makes new ones
    text = client.get(f"/api/maps/{SME}").json()["text"]
    _save(client, text.replace("title: SME journey", "title: SME journey (v2)", 1), 1)
    stale = client.get(f"/api/maps/{SME}/analysis")
    assert stale.status_code == 202 and not stale.json()["fresh"]
    assert stale.json()["analysis"]["stages"] == analysis["stages"] and stale.json()["job"]
    client.app.state.jm.jobs.wait(stale.json()["job"]["id"], timeout=120)
    page = client.get(f"/maps/{SME}/page")
    assert page.status_code == 200 and "customers" in page.text


def test_state_changes_need_the_csrf_token_and_the_same_origin(client: TestClient, workspace: Path) -> None:
    text = _file(workspace)
    token = client.headers.pop("X-CSRF-Token")
    r = _save(client, text + "\n", 1)
    assert r.status_code == 403 and "CSRF" in r.json()["error"]
    client.headers["X-CSRF-Token"] = "0" * 64
    assert _save(client, text + "\n", 1).status_code == 403
    client.headers["X-CSRF-Token"] = token
    evil = client.put(f"/api/maps/{SME}", json={"text": text + "\n", "base_version": 1},
                      headers={"Origin": "http://evil.example"})
    assert evil.status_code == 403 and "cross-origin" in evil.json()["error"]
    assert _file(workspace) == text
    assert _save(client, text + "\n", 1).status_code == 200


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    page = client.get("/")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    framed = client.get(f"/maps/{SME}/page").headers["content-security-policy"]
    assert framed.startswith("default-src 'none'") and "connect-src" not in framed


def app_routes(routes: list) -> list:
    """The app's routes, those of its included routers too (FastAPI wraps them)."""
    out = []
    for r in routes:
        inner = getattr(r, "original_router", None)
        out += app_routes(inner.routes) if inner is not None else [r]
    return out


def test_every_route_answers(client: TestClient) -> None:
    """Every page and GET API route of the app answers 200 for a map, 404 for none."""
    from fastapi.routing import APIRoute

    client.put(f"/api/maps/{SME}", json={"text": client.get(f"/api/maps/{SME}").json()["text"] + "\n",
                                          "base_version": 1})
    job_id = client.get(f"/api/maps/{SME}/analysis").json()["job"]["id"]
    client.app.state.jm.jobs.wait(job_id, timeout=120)
    client.post("/personas-from-map", data={"ref": SME})
    hook = client.post("/api/webhooks", json={"url": "http://127.0.0.1:9/hook"}).json()
    values = {"ref": SME, "number": "1", "job_id": job_id, "view_id": "paths", "persona_id": "sam",
              "tool": "jira", "hook_id": str(hook["id"])}
    tested = []
    # a link that opens without an account (tested in test_shares, test_accounts)
    elsewhere = {"/share/{token}", "/set-password/{token}"}
    for route in app_routes(client.app.routes):  # every route the app has, new ones too
        if not isinstance(route, APIRoute) or "GET" not in route.methods or route.path in elsewhere:
            continue
        path = route.path
        for name, value in values.items():
            path = path.replace("{" + name + "}", value)
        params = {"from": 1, "to": 2} if path.endswith("/diff") else None
        r = client.get(path, params=params)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        tested.append(route.path)
        if "{persona_id}" in route.path:
            assert client.get(route.path.replace("{persona_id}", "nobody")).status_code == 404, route.path
        if "{ref}" in route.path:
            missing = client.get(route.path.replace("{ref}", "no-such-map").replace("{number}", "1")
                                 .replace("{view_id}", "paths"), params=params)
            assert missing.status_code == 404, route.path
    assert len(tested) >= 50
    assert client.get("/openapi.json").json()["paths"]["/api/maps/{ref}"]["put"]


def test_the_migrations_make_the_tables_the_code_describes(workspace: Path) -> None:
    import sqlalchemy as sa

    from journeymap.app.db import make_engine, upgrade
    from journeymap.app.tables import Base

    engine = make_engine(f"sqlite:///{workspace / 'migrated.sqlite'}")
    upgrade(engine)
    found = sa.inspect(engine)
    for table in Base.metadata.sorted_tables:
        assert {c["name"] for c in found.get_columns(table.name)} == {c.name for c in table.columns}, table.name
    assert found.get_table_names() == sorted([*Base.metadata.tables, "alembic_version"])
    with engine.connect() as con:
        assert con.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_editor_operations_save_a_version_touching_only_their_lines(client: TestClient, workspace: Path) -> None:
    text = _file(workspace)
    doc = parse_map(text)[0]
    stage = next(s for s in doc.stages if s.lanes.pain_points)
    last = doc.stages[-1]
    r = client.post(f"/api/maps/{SME}/edits", json={"base_version": 1, "message": "from the editor", "edits": [
        {"op": "set_cell", "stage": stage.id, "lane": "pain_points", "index": 0, "text": "Import keeps failing"},
        {"op": "move_stage", "stage": last.id, "to": 0}]})
    assert r.status_code == 200, r.text
    assert r.json()["number"] == 2 and r.json()["text"] == _file(workspace)
    kinds = [c["kind"] for c in client.get(f"/api/maps/{SME}/diff", params={"from": 1, "to": 2}).json()["changes"]]
    assert sorted(kinds) == ["cell_changed", "stage_moved"]
    stale = client.post(f"/api/maps/{SME}/edits", json={"base_version": 1, "edits": []})
    assert stale.status_code == 409
    bad = client.post(f"/api/maps/{SME}/edits", json={"base_version": 2, "edits": [
        {"op": "move_stage", "stage": "nope", "to": 0}]})
    assert bad.status_code == 400 and "no stage 'nope'" in bad.json()["error"]


def test_rule_preview_counts_what_a_rule_matches(client: TestClient) -> None:
    ws = client.app.state.jm.ws
    con = ws.store.con
    expected = con.execute("SELECT count(*), count(DISTINCT customer_id) FROM events "
                           "WHERE event = 'data_import_started'").fetchone()
    r = client.post(f"/api/maps/{SME}/preview-match", json={"match": "data_import_started", "sample": 3})
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["events"], got["customers"]) == expected and expected[0] > 0
    assert got["names"] == [{"event": "data_import_started", "events": expected[0], "customers": expected[1]}]
    assert len(got["sample"]) == 3 and all(s["event"] == "data_import_started" for s in got["sample"])
    channel = con.execute("SELECT count(*) FROM events WHERE event LIKE 'support%' AND channel = 'chat'").fetchone()
    both = client.post(f"/api/maps/{SME}/preview-match",
                       json={"match": {"event_regex": "^support", "where": "channel == 'chat'"}}).json()
    assert both["events"] == channel[0]
    assert client.post(f"/api/maps/{SME}/preview-match", json={"match": "no_such_event"}).json()["events"] == 0
    bad = client.post(f"/api/maps/{SME}/preview-match", json={"match": {"where": "channel =="}})
    assert bad.status_code == 400 and "match.where" in bad.json()["error"]


BAD_EVENTS = (
    "Contact ID,When,What\n"
    "C000001,2026-01-05T10:00:00,pricing_page_view\n"
    ",2026-01-05T10:01:00,pricing_page_view\n"
    "C000002,not a time,=HYPERLINK(\"http://x\")\n"
    "C000003,2026-01-05T10:02:00,webinar_registered\n"
)


def test_an_upload_loads_good_rows_and_quarantines_bad_ones(client: TestClient, workspace: Path) -> None:
    before = client.get("/api/status").json()
    r = client.post("/api/data/uploads", data={"kind": "events", "columns": "Contact ID=customer_id\n"
                                               "When=timestamp\nWhat=event"},
                    files={"file": ("crm-export.csv", BAD_EVENTS.encode(), "text/csv")})
    assert r.status_code == 202, r.text
    job = client.app.state.jm.jobs.wait(r.json()["id"], timeout=60)
    assert job.status == "done", job.error
    assert (job.result["loaded"], job.result["quarantined"]) == (2, 2)
    after = client.get("/api/status").json()
    assert after["tables"]["events"]["rows"] == before["tables"]["events"]["rows"] + 2
    assert after["data_version"] == before["data_version"] + 1
    q = client.get("/api/data/quarantine", params={"kind": "events"}).json()
    assert q["total"] == 2
    assert {(row["row"], row["field"]) for row in q["rows"]} == {(2, "customer_id"), (3, "timestamp")}
    assert all(row["file"].endswith("crm-export.csv") for row in q["rows"])
    only = client.get("/api/data/quarantine", params={"q": "not a time"}).json()
    assert only["total"] == 1 and only["rows"][0]["field"] == "timestamp"
    csv_text = client.get("/api/data/quarantine.csv", params={"kind": "events"}).text
    assert csv_text.splitlines()[0] == "ingest,kind,file,row,field,reason,raw" and len(csv_text.splitlines()) == 3
    assert ",=HYPERLINK" not in csv_text  # a formula is not left for a spreadsheet to run
    assert client.get("/api/data/ingests").json()[0]["quarantined"] == 2
    page = client.get("/data", params={"kind": "events"})
    assert page.status_code == 200 and "crm-export.csv" in page.text and "missing" in page.text.lower()
    bad = client.post("/api/data/uploads", data={"kind": "nonsense"}, files={"file": ("x.csv", b"a\n", "text/csv")})
    assert bad.status_code == 400 and "kind 'nonsense'" in bad.json()["error"]


def test_an_upload_over_the_limit_is_refused_and_not_kept(client: TestClient, workspace: Path) -> None:
    client.app.state.max_upload = 100
    big = b"customer_id,timestamp,event\n" + b"C000001,2026-01-05T10:00:00,pricing_page_view\n" * 10
    refused = client.post("/api/data/uploads", files={"file": ("big.csv", big)}, data={"kind": "events"})
    assert refused.status_code == 413 and "upload limit" in refused.json()["detail"]
    assert not list((workspace / "data" / "uploads").glob("*big.csv"))


def test_an_upload_of_a_type_journeymap_does_not_load_is_refused_and_not_kept(client: TestClient,
                                                                            workspace: Path) -> None:
    for name in ("report.exe", "events.csv.zip", "noextension"):
        refused = client.post("/api/data/uploads", files={"file": (name, b"MZ\x90\x00")}, data={"kind": "events"})
        assert refused.status_code == 400 and refused.json()["error"].startswith(f"{name}: not a file type"), name
    assert not (workspace / "data" / "uploads").exists() or not list((workspace / "data" / "uploads").iterdir())
    # a format chosen by the user names the type, whatever the file is called
    chosen = client.post("/api/data/uploads", files={"file": ("export.dat", b"customer_id,timestamp,event\n"
                                                              b"C1,2026-01-05T10:00:00,signup\n")},
                         data={"kind": "events", "fmt": "csv"})
    assert chosen.status_code == 202
