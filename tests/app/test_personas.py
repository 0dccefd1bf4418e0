"""The persona library (``personas/*.yaml``) through the API and its pages: create,
read, replace, delete; use a library persona in maps (a new version touching only the
persona's lines that differ); new maps with a library persona, from a template or drafted
from the data by ``discover``."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from ruamel.yaml import YAML

from journeymap.model.yamlio import parse_map
from journeymap.workspace import Workspace

SME = "sme-onboarding-churn"
PRIYA = {"name": "Priya, procurement lead", "segment": "plan == 'pro'", "goals": ["One invoice a year"],
         "demographics": {"role": "Procurement"}, "quote": "Show me the total cost."}


def _persona_of(client: TestClient, ref: str) -> dict:
    text = client.get(f"/api/maps/{ref}").json()["text"]
    return parse_map(text, f"{ref}.yaml")[0].persona.model_dump(mode="json", exclude_defaults=True)


def test_the_library_keeps_personas_as_files(client: TestClient, workspace: Path) -> None:
    put = client.put("/api/personas/priya", json={"persona": PRIYA})
    assert put.status_code == 200 and put.json()["file"] == "personas/priya.yaml"
    on_disk = YAML(typ="safe").load((workspace / "personas" / "priya.yaml").read_text())
    assert on_disk == PRIYA  # the fields as given, in the file's order, nothing added
    assert [p["id"] for p in client.get("/api/personas").json()] == ["priya"]
    assert client.get("/api/personas/priya").json()["persona"] == PRIYA
    # a persona that is not one is refused with the field and the reason
    bad = client.put("/api/personas/x", json={"persona": {**PRIYA, "segment": "plan =="}})
    assert bad.status_code == 400 and bad.json()["error"].startswith("persona: segment: invalid rule")
    unknown = client.put("/api/personas/x", json={"persona": {**PRIYA, "age": 40}})
    assert unknown.status_code == 400 and "unknown field 'age'" in unknown.json()["error"]
    assert not (workspace / "personas" / "x.yaml").exists()
    # a broken file on disk is listed with its problem, not dropped
    (workspace / "personas" / "broken.yaml").write_text("name: [unclosed\n")
    listed = {p["id"]: p for p in client.get("/api/personas").json()}
    assert listed["broken"]["persona"] is None and "not YAML" in listed["broken"]["problem"]
    assert "invalid" in client.get("/personas").text
    assert client.delete("/api/personas/priya").status_code == 204
    assert not (workspace / "personas" / "priya.yaml").exists()
    assert client.get("/api/personas/priya").status_code == 404
    assert client.delete("/api/personas/priya").status_code == 404


def test_a_library_persona_is_used_in_a_map_changing_only_what_differs(client: TestClient,
                                                                      workspace: Path) -> None:
    sam = _persona_of(client, SME)
    assert client.post("/personas-from-map", data={"ref": SME}, follow_redirects=False).status_code == 303
    listed = client.get("/api/personas").json()
    assert [(p["id"], p["persona"]["name"]) for p in listed] == [("sam", sam["name"])]
    assert listed[0]["used_by"] == [{"ref": SME, "title": "SME journey from sign-up to first renewal",
                                     "persona": sam["name"], "same": True, "differs": []}]
    # the team refines the persona in the library: the map's copy now differs in the quote
    new_quote = "If the import takes more than a day, we are gone."
    client.put("/api/personas/sam", json={"persona": {**sam, "quote": new_quote}})
    assert client.get("/api/personas/sam").json()["used_by"][0]["differs"] == ["quote"]
    before = (workspace / "maps" / f"{SME}.yaml").read_text()
    used = client.post("/api/personas/sam/use", json={"maps": [SME]})
    assert used.status_code == 200 and used.json() == [{"ref": SME, "version": 2, "changed": ["quote"]}]
    after = (workspace / "maps" / f"{SME}.yaml").read_text()
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert len(changed) == 1 and new_quote in changed[0][1]  # one line, comments and the rest kept
    versions = client.get(f"/api/maps/{SME}/versions").json()
    assert versions[0]["message"] == f"persona from the library: {sam['name']}"
    assert client.get("/api/personas/sam").json()["used_by"][0]["same"] is True
    # using it again changes nothing and makes no version
    again = client.post("/api/personas/sam/use", json={"maps": [SME]}).json()
    assert again == [{"ref": SME, "version": 2, "changed": []}]
    # in another map it replaces the persona whole
    client.post("/api/personas/sam/use", json={"maps": ["day-in-the-life"]})
    assert _persona_of(client, "day-in-the-life") == {**sam, "quote": new_quote}


def test_new_maps_take_a_library_persona_from_a_template_or_from_the_data(client: TestClient) -> None:
    client.put("/api/personas/priya", json={"persona": PRIYA})
    made = client.post("/api/maps", json={"ref": "procurement", "template": "support-case", "persona": "priya"})
    assert made.status_code == 201, made.text
    assert _persona_of(client, "procurement") == PRIYA
    # drafted from the events in the background, with the persona and a title
    job = client.post("/api/maps/discover", json={"ref": "drafted", "title": "What the data says",
                                                  "persona": "priya", "stages": 3})
    assert job.status_code == 202 and job.json()["kind"] == "discover"
    done = client.app.state.jm.jobs.wait(job.json()["id"], timeout=120)
    assert done.status == "done", done.error
    assert done.result["ref"] == "drafted" and done.result["stages"] == 3
    text = client.get("/api/maps/drafted").json()["text"]
    jmap = parse_map(text, "drafted.yaml")[0]
    assert jmap.title == "What the data says" and len(jmap.stages) == 3
    assert _persona_of(client, "drafted") == PRIYA
    assert text.startswith("# Draft journey map discovered")  # the draft's explanation kept
    assert client.get("/api/maps/drafted/versions").json()[0]["message"].startswith("discovered from the data")
    # a name in use is refused before anything runs
    taken = client.post("/api/maps/discover", json={"ref": "drafted"})
    assert taken.status_code == 400 and "exists" in taken.json()["error"]


def test_the_pages_create_edit_and_use_a_persona(client: TestClient, workspace: Path) -> None:
    assert client.get("/personas").status_code == 200
    assert client.get("/personas/new").status_code == 200
    wrong = client.post("/personas/new", data={"name": "Priya", "segment": "plan ==", "goals": "a\nb"})
    assert wrong.status_code == 400 and "invalid rule" in wrong.text
    control = re.search(r'<input[^>]*id="f-segment"[^>]*>', wrong.text)
    assert control and 'aria-invalid="true"' in control.group(0)
    assert ">a\nb</textarea>" in wrong.text  # what was typed is kept
    form = {"name": "Priya, procurement lead", "segment": "plan == 'pro'", "goals": "One invoice a year\n",
            "demographics": "role: Procurement", "quote": "Show me the total cost."}
    made = client.post("/personas/new", data=form, follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"] == "/personas/priya?saved=1"
    assert YAML(typ="safe").load((workspace / "personas" / "priya.yaml").read_text()) == PRIYA
    bad_demo = client.post("/personas/priya", data={**form, "demographics": "just words"})
    assert bad_demo.status_code == 400 and "is not &#39;key: value&#39;" in bad_demo.text
    used = client.post("/personas/priya/use", data={"map": ["day-in-the-life"]}, follow_redirects=False)
    assert used.status_code == 303
    assert _persona_of(client, "day-in-the-life")["name"] == PRIYA["name"]
    page = client.get(used.headers["location"])
    assert "now uses this persona" in page.text and "same as the library" in page.text
    new_page = client.get("/maps/new").text
    assert '<option value="priya"' in new_page
    assert client.post("/personas/priya/delete", follow_redirects=False).status_code == 303
    assert client.get("/personas/priya").status_code == 404


def test_two_personas_with_the_same_first_name_get_their_own_files(tmp_path: Path) -> None:
    with Workspace.create(tmp_path / "ws") as ws:
        a = ws.save_persona({"name": "Sam, operations lead"})
        b = ws.save_persona({"name": "Sam, student"})
        again = ws.save_persona({"name": "Sam, operations lead", "quote": "Again."})
        assert (a.id, b.id, again.id) == ("sam", "sam-2", "sam")
        assert [p.persona.name for p in ws.personas()] == ["Sam, operations lead", "Sam, student"]
