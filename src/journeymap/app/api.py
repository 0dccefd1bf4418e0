"""The JSON API under ``/api/``: everything the pages do (OpenAPI at ``/openapi.json``).

Errors are JSON ``{"error": "..."}`` with the CLI's words; an invalid map is 422 with
``problems: [{file, line, path, message}]``; a save based on an old version is 409 with
both versions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response, UploadFile
from pydantic import BaseModel, Field

from journeymap.app.library import MapSummary, problems_of
from journeymap.app.security import Principal, authorize
from journeymap.app.state import state_of
from journeymap.app.tables import JobRow, MapVersion
from journeymap.app.responses import API_ERRORS, MAX_ID, Id

router = APIRouter(prefix="/api", dependencies=[Depends(authorize)], tags=["api"], responses=API_ERRORS)


# -- shapes ---------------------------------------------------------------------
def version_json(v: MapVersion, *, text: bool = False) -> dict[str, Any]:
    out = {"number": v.number, "author": v.author, "message": v.message, "source": v.source,
           "created_at": v.created_at.isoformat() + "Z", "valid": v.valid, "problems": v.problems,
           "restored_from": v.restored_from, "checksum": v.checksum}
    if text:
        out["text"] = v.text
    return out


def summary_json(m: MapSummary) -> dict[str, Any]:
    r = m.row
    return {"ref": r.ref, "file": r.file, "id": r.map_id, "title": r.title, "persona": r.persona,
            "type": r.map_type, "owner": r.owner, "versions": m.versions,
            "latest": version_json(m.latest)}


def job_json(job: JobRow) -> dict[str, Any]:
    return {"id": job.id, "kind": job.kind, "target": job.target, "status": job.status,
            "progress": round(job.progress, 4), "step": job.step, "error": job.error,
            "result": job.result, "created_at": job.created_at.isoformat() + "Z",
            "finished_at": job.finished_at.isoformat() + "Z" if job.finished_at else None}


class SaveMap(BaseModel):
    text: str = Field(description="the map document as YAML, written to the file as given")
    base_version: int | None = Field(description="the version this edit started from", ge=1, le=MAX_ID)
    message: str = Field(default="", max_length=1000, description="what changed and why")


class NewMap(BaseModel):
    ref: str = Field(description="file name without .yaml (lower-case letters, digits, - and _)")
    text: str | None = Field(default=None, description="the document; or give template")
    template: str | None = Field(default=None, description="a template name (GET /api/templates)")
    title: str | None = None
    persona: str | None = Field(default=None, description="a library persona's id: the new map's persona")
    from_map: str | None = Field(default=None, description="future-state: the current-state map it improves")
    message: str = "created"


class PersonaBody(BaseModel):
    persona: dict[str, Any] = Field(description="the persona's fields: name, description, segment, demographics, "
                                    "goals, motivations, frustrations, preferred_channels, offscreen, quote")


class UsePersona(BaseModel):
    maps: list[str] = Field(description="refs of the maps that should use this persona (a new version each)")


class Discover(BaseModel):
    ref: str = Field(description="the new map's file name without .yaml")
    title: str | None = None
    persona: str | None = Field(default=None, description="a library persona's id")
    stages: int | None = Field(default=None, ge=1, le=30)
    min_share: float = Field(default=0.01, ge=0, le=1)
    min_customers: int = Field(default=5, ge=1)
    method: str = Field(default="gaps", pattern="^(gaps|quantiles)$")


class Restore(BaseModel):
    version: int = Field(ge=1, le=MAX_ID)
    base_version: int | None = Field(ge=1, le=MAX_ID)


class Edits(BaseModel):
    edits: list[dict[str, Any]] = Field(description="operations of journeymap.model.edit, applied in order: "
                                        "set_cell, add_cell, delete_cell, set_evidence, set_emotion, add_stage, "
                                        "delete_stage, move_stage, set_stage, add_touchpoint, delete_touchpoint, "
                                        "move_touchpoint, set_touchpoint, set_match, set_field, set_kpi")
    base_version: int | None
    message: str = Field(default="", max_length=1000)


class PreviewMatch(BaseModel):
    match: Any = Field(default=None, description="an event name, a list of names, or "
                       "{event, event_in, event_regex, channel, where}")
    match_text: str | None = Field(default=None, description="the rule as the editor's field writes it")
    sample: int = Field(default=10, ge=0, le=100)


class CheckText(BaseModel):
    text: str
    file: str = "map.yaml"


# -- routes ---------------------------------------------------------------------
@router.get("/session")
def session(request: Request, who: Principal = Depends(authorize)) -> dict[str, Any]:
    """Who you are and the CSRF token every state change must send (X-CSRF-Token)."""
    from journeymap.app.security import request_csrf

    return {"user": who.name, "role": who.role, "signed_in": not who.local, "csrf_token": request_csrf(request)}


@router.get("/status")
def status(request: Request) -> dict[str, Any]:
    """The store: tables, rows, time ranges, quarantine, ingests (= journeymap status)."""
    st = state_of(request)
    return {**st.ws.status(reader=True), "data_version": st.ws.data_version()}


@router.get("/maps")
def list_maps(request: Request) -> list[dict[str, Any]]:
    st = state_of(request)
    st.library.sync()
    return [summary_json(m) for m in st.library.maps()]


@router.post("/maps", status_code=201)
def create_map(request: Request, body: NewMap, who: Principal = Depends(authorize)) -> dict[str, Any]:
    st = state_of(request)
    text = body.text
    if text is None:
        from journeymap.errors import JourneymapError

        if not body.template:
            raise JourneymapError("give text (the YAML document) or template")
        text = st.ws.template_text(body.ref, body.template, from_map=body.from_map, title=body.title)
    if body.persona:
        from journeymap.app.personas import with_persona

        text = with_persona(st, text, body.persona, body.ref)
    st.library.create(body.ref, text, author=who.name, message=body.message)
    return summary_json(st.library.get(body.ref))


@router.post("/maps/discover", status_code=202)
def discover_map(request: Request, body: Discover, who: Principal = Depends(authorize)) -> dict[str, Any]:
    """Draft a new map from the events (``journeymap discover``) in the background and
    save it as the map's first version; the job's ``result`` names it when done."""
    from journeymap.app.personas import with_persona
    from journeymap.errors import JourneymapError

    st = state_of(request)
    if st.library.file_of(body.ref).exists():
        raise JourneymapError(f"maps/{body.ref}.yaml: exists; choose another name")
    options = body.model_dump(include={"stages", "min_share", "min_customers", "method"})
    job = st.jobs.start_discover(body.ref, options, author=who.name,
                                 then=lambda text: with_persona(st, text, body.persona or "", body.ref, body.title))
    return job_json(job)


@router.get("/maps/{ref}/compare")
def compare(request: Request, response: Response, ref: str, with_: str | None = Query(default=None, alias="with")
            ) -> dict[str, Any]:
    """This map beside another (default: the current state it improves, or a future
    state of it): the current state first, the changes to the future in the map's words,
    and the charts of both (SVG); 202 while a side's analysis runs."""
    from dataclasses import asdict

    from journeymap.app.compare import comparison

    st = state_of(request)
    if with_ is not None:
        st.library.get(with_)  # 404 for a map that is not there
    ctx = comparison(st, ref, with_)
    sides = [s for s in (ctx["current"], ctx["future"]) if s]
    if any(s["cached"] is None or not s["cached"].fresh for s in sides):
        response.status_code = 202
    return {"current": ctx["current"]["ref"] if ctx["current"] else None,
            "future": ctx["future"]["ref"] if ctx["future"] else None, "linked": ctx["linked"],
            "links": {k: ctx["links"][k] for k in ("improves", "futures")}, "problem": ctx["problem"],
            "changes": [c.as_dict() for c in ctx["changes"]], "charts": [asdict(c) for c in ctx["charts"]]}


# -- the persona library ---------------------------------------------------------------
def persona_json(st: Any, lib: Any) -> dict[str, Any]:
    from dataclasses import asdict

    from journeymap.app.personas import uses
    from journeymap.model.persona_library import persona_data

    return {"id": lib.id, "file": lib.file, "problem": lib.problem,
            "persona": persona_data(lib.persona) if lib.persona else None,
            "used_by": [asdict(u) for u in uses(st, lib.persona)] if lib.persona else []}


@router.get("/personas")
def list_personas(request: Request) -> list[dict[str, Any]]:
    st = state_of(request)
    st.library.sync()
    return [persona_json(st, p) for p in st.ws.personas()]


@router.get("/personas/{persona_id}")
def get_persona(request: Request, persona_id: str) -> dict[str, Any]:
    from journeymap.app.personas import library_persona

    st = state_of(request)
    return persona_json(st, library_persona(st, persona_id))


@router.put("/personas/{persona_id}")
def put_persona(request: Request, persona_id: str, body: PersonaBody) -> dict[str, Any]:
    """Create or replace a library persona (``personas/ID.yaml``)."""
    from journeymap.model.persona_library import parse_persona

    st = state_of(request)
    return persona_json(st, st.ws.save_persona(parse_persona(body.persona, "persona"), persona_id=persona_id))


@router.delete("/personas/{persona_id}", status_code=204)
def delete_persona(request: Request, persona_id: str) -> Response:
    from journeymap.app.personas import library_persona

    st = state_of(request)
    library_persona(st, persona_id)
    st.ws.delete_persona(persona_id)
    return Response(status_code=204)


@router.post("/personas/{persona_id}/use")
def use_persona(request: Request, persona_id: str, body: UsePersona,
                who: Principal = Depends(authorize)) -> list[dict[str, Any]]:
    """Write the library persona into these maps: a new version each where it differs."""
    from journeymap.app.personas import use_in_maps

    return use_in_maps(state_of(request), persona_id, body.maps, author=who.name)


@router.get("/maps/{ref}")
def get_map(request: Request, ref: str) -> dict[str, Any]:
    """The latest version: its text as in the file, and the document as JSON."""
    st = state_of(request)
    st.library.sync()
    m = st.library.get(ref)
    out = summary_json(m) | {"text": m.latest.text, "document": None}
    if m.latest.valid:
        out["document"] = st.library.document(m.latest).model_dump(mode="json", exclude_defaults=True)
    return out


@router.put("/maps/{ref}")
def save_map(request: Request, ref: str, body: SaveMap, who: Principal = Depends(authorize)) -> dict[str, Any]:
    """Save a new version (409 when ``base_version`` is not the latest any more)."""
    st = state_of(request)
    v = st.library.save(ref, body.text, base=body.base_version, author=who.name, message=body.message)
    return version_json(v)


@router.post("/maps/{ref}/edits")
def edit_map(request: Request, ref: str, body: Edits, who: Principal = Depends(authorize)) -> dict[str, Any]:
    """Apply the editor's operations to ``base_version`` and save the result as a new
    version; only the lines they touch change (comments kept)."""
    st = state_of(request)
    v = st.library.edit(ref, body.edits, base=body.base_version, author=who.name, message=body.message)
    return version_json(v, text=True)


@router.post("/maps/{ref}/preview-match")
def preview_match(request: Request, ref: str, body: PreviewMatch) -> dict[str, Any]:
    """How many events and customers a match rule accepts, its event names and a sample,
    before it is saved."""
    st = state_of(request)
    st.library.get(ref)  # the map exists in this workspace
    from journeymap.model.edit import match_value

    match = match_value(body.match_text) if body.match_text is not None else body.match
    return st.ws.preview_match(match, sample=body.sample)


@router.get("/maps/{ref}/versions")
def versions(request: Request, ref: str) -> list[dict[str, Any]]:
    st = state_of(request)
    st.library.sync()
    return [version_json(v) for v in st.library.versions(ref)]


@router.get("/maps/{ref}/versions/{number}")
def version(request: Request, ref: str, number: Id) -> dict[str, Any]:
    return version_json(state_of(request).library.version(ref, number), text=True)


@router.get("/maps/{ref}/diff")
def diff(request: Request, ref: str, from_: int = Query(alias="from", ge=1, le=MAX_ID),
         to: int = Query(ge=1, le=MAX_ID)) -> dict[str, Any]:
    """What changed from one version to another, in the map's words."""
    changes = state_of(request).library.diff(ref, from_, to)
    return {"from": from_, "to": to, "changes": [c.as_dict() for c in changes]}


@router.post("/maps/{ref}/restore")
def restore(request: Request, ref: str, body: Restore, who: Principal = Depends(authorize)) -> dict[str, Any]:
    """Make an old version the latest again (a new version)."""
    v = state_of(request).library.restore(ref, body.version, base=body.base_version, author=who.name)
    return version_json(v)


class SurveyLinks(BaseModel):
    """Whom to send a touchpoint's survey: these customers, or a segment's, or the
    survey's audience."""

    touchpoint: str = Field(min_length=1, max_length=200, description="a touchpoint of the map with a survey")
    customers: list[str] | None = Field(default=None, max_length=10_000, description="customer ids (default: "
                                        "the segment's, else the survey's audience, else everyone)")
    segment: str | None = Field(default=None, max_length=2000, description="a customer rule")
    days: float = Field(default=14, gt=0, le=365, description="days until each link expires")
    base_url: str | None = Field(default=None, max_length=500, pattern=r"^https?://",
                                 description="where customers reach the collector (default: this app, when it "
                                             "collects: journeymap serve --collect)")


@router.post("/maps/{ref}/survey-links")
def survey_links(request: Request, ref: str, body: SurveyLinks,
                 who: Principal = Depends(authorize)) -> list[dict[str, str]]:
    """Signed single-use links to the survey at a touchpoint, one per customer, for an
    email or SMS tool (``journeymap survey links``); each link opens at ``/s/TOKEN``."""
    from journeymap.errors import JourneymapError

    st = state_of(request)
    collecting = getattr(request.app.state, "collecting", False)
    base = body.base_url or (str(request.base_url).rstrip("/") if collecting else None)
    if not base:
        raise JourneymapError("this app does not take survey answers (start it with journeymap serve --collect); "
                              "or give base_url, the address of your journeymap collect")
    made = st.library.ws.survey_links(st.library.get(ref).row.ref, body.touchpoint, body.customers,
                                      segment=body.segment, days=body.days, base_url=base)
    return [{"customer_id": c, "link": link} for c, link in made]


@router.get("/maps/{ref}/analysis")
def analysis(request: Request, response: Response, ref: str, segment: str = "", since: str = "",
             until: str = "", by: str = "") -> dict[str, Any]:
    """The cached analysis of the latest version with the filters of ``analyze`` (segment
    rule, since, until, by); 202 with the job while none is fresh (``analysis`` then
    holds the last one made with the same filters, marked ``fresh: false``)."""
    from journeymap.app.analytics import parse_filters

    st = state_of(request)
    st.library.sync()
    filters = parse_filters(st, segment, since, until, by)
    cached, job = st.jobs.analysis_for(ref, filters=filters)
    if cached is None or not cached.fresh:
        response.status_code = 202
    return {"fresh": bool(cached and cached.fresh), "job": job_json(job) if job else None,
            "data_version": cached.data_version if cached else None, "filters": filters.as_json(),
            "analysis": cached.result if cached else None}


@router.get("/maps/{ref}/history")
def history(request: Request, ref: str) -> list[dict[str, Any]]:
    """The map's snapshots, oldest first: per day, every stage's reach and conversion,
    every touchpoint's and the journey's KPIs with n, the goal, the alerts (what the
    app's refreshes and ``journeymap watch`` kept)."""
    st = state_of(request)
    return st.library.ws.history(st.library.get(ref).row.ref)


@router.get("/maps/{ref}/analytics/{view_id}")
def analytics(request: Request, response: Response, ref: str, view_id: str, segment: str = "",
              since: str = "", until: str = "", by: str = "") -> dict[str, Any]:
    """One analytics view (paths, funnel, stages, segments, pain-points, themes, trends):
    its charts (SVG), tables and cards, as the page shows them; 202 while computing."""
    from journeymap.app.analytics import NEEDS_BY, default_by, parse_filters, view_json, view_of

    st = state_of(request)
    st.library.sync()
    filters = parse_filters(st, segment, since, until, by)
    if view_id in NEEDS_BY and not filters.by and (chosen := default_by(st, ref)):
        filters = filters.with_by(chosen)
    shown = view_of(st, ref, view_id, filters)
    cached = shown["cached"]
    if cached is None or not cached.fresh:
        response.status_code = 202
    return {"fresh": bool(cached and cached.fresh), "job": job_json(shown["job"]) if shown["job"] else None,
            "filters": filters.as_json(), "view": view_json(shown["view"])}


@router.get("/jobs/{job_id}")
def job(request: Request, job_id: str) -> dict[str, Any]:
    return job_json(state_of(request).jobs.job(job_id))


# -- data -------------------------------------------------------------------------
UPLOAD_DIR = "data/uploads"
MAX_UPLOAD = 2 * 2**30  # bytes; bigger files are loaded with `journeymap ingest` (app.state.max_upload)
FORMATS = ("csv", "tsv", "parquet", "jsonl", "segment", "vtt", "srt", "txt", "json")
#: the file names an upload may have when no format is chosen (the readers' extensions)
UPLOAD_TYPES = frozenset({".csv", ".txt", ".tsv", ".tab", ".parquet", ".pq", ".jsonl", ".ndjson", ".json",
                          ".vtt", ".srt"})


@router.get("/data/ingests")
def ingests(request: Request) -> list[dict[str, Any]]:
    return state_of(request).ws.ingests()


@router.get("/data/quarantine")
def quarantine(request: Request, kind: str | None = None, reason: str | None = None, q: str | None = None,
               limit: int = Query(100, ge=1, le=10_000), offset: int = Query(0, ge=0)) -> dict[str, Any]:
    """Rows kept out of the store, with why: ingest, kind, file, row, field, reason, raw."""
    return state_of(request).ws.quarantine(kind=kind, reason=reason, text=q, limit=limit, offset=offset)


@router.get("/data/quarantine.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "the quarantined rows as CSV"}})
def quarantine_csv(request: Request, kind: str | None = None, reason: str | None = None,
                   q: str | None = None) -> Response:
    """The filtered quarantine as CSV (a cell starting with = + - @ is prefixed with ' so a
    spreadsheet does not run it)."""
    import csv
    import io

    found = state_of(request).ws.quarantine(kind=kind, reason=reason, text=q, limit=1_000_000)
    out = io.StringIO()
    writer = csv.writer(out)
    keys = ("ingest", "kind", "file", "row", "field", "reason", "raw")
    writer.writerow(keys)
    for r in found["rows"]:
        writer.writerow([_safe_cell(r[k]) for k in keys])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="quarantine.csv"'})


def _safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@router.post("/data/uploads", status_code=202)
async def upload(request: Request, file: UploadFile, kind: str = Form(), fmt: str = Form(""),
                 columns: str = Form(""), timezone: str = Form("")) -> dict[str, Any]:
    """Upload a file of any supported kind and format and load it in the background
    (202 with the job; its result has loaded, quarantined and duplicates).  ``columns``:
    one ``Their column=our_column`` per line."""
    from journeymap.workspace import KINDS
    from journeymap.errors import JourneymapError

    st = state_of(request)
    if kind not in KINDS:
        raise JourneymapError(f"kind '{kind}': expected one of {', '.join(KINDS)}")
    if fmt and fmt not in FORMATS:
        raise JourneymapError(f"format '{fmt}': expected one of {', '.join(FORMATS)} (or empty: from the name)")
    mapping = {}
    for n, line in enumerate(columns.splitlines(), 1):
        if line.strip():
            theirs, sep, ours = line.partition("=")
            if not sep or not theirs.strip() or not ours.strip():
                raise JourneymapError(f"column mapping line {n}: expected 'Their column=our_column', got {line!r}")
            mapping[theirs.strip()] = ours.strip()
    name = Path(file.filename or "upload").name or "upload"
    suffixes = [x.lower() for x in Path(name).suffixes if x.lower() != ".gz"]
    if not fmt and (not suffixes or suffixes[-1] not in UPLOAD_TYPES):
        raise JourneymapError(f"{name}: not a file type journeymap loads ({', '.join(sorted(UPLOAD_TYPES))}, "
                              "optionally .gz); or choose its format")
    folder = st.ws.root / UPLOAD_DIR
    folder.mkdir(parents=True, exist_ok=True)
    import time as _time

    target = folder / f"{_time.strftime('%Y%m%d-%H%M%S')}-{name}"
    limit = int(getattr(request.app.state, "max_upload", MAX_UPLOAD))
    written = 0
    with target.open("wb") as sink:
        while chunk := await file.read(1 << 20):
            written += len(chunk)
            if written > limit:
                break
            sink.write(chunk)
    if written > limit:
        target.unlink(missing_ok=True)
        from fastapi import HTTPException

        raise HTTPException(413, f"{name}: larger than the upload limit of {limit / 2**20:,.0f} MiB; "
                                 "load it with journeymap ingest instead")
    options: dict[str, Any] = {"fmt": fmt or None, "columns": mapping or None, "timezone": timezone or None}
    return job_json(st.jobs.start_ingest(kind, target, options))


@router.post("/validate")
def validate(body: CheckText) -> dict[str, Any]:
    """The problems ``journeymap validate`` reports for a document (none: valid)."""
    problems = problems_of(body.text, body.file)
    return {"valid": not problems, "problems": problems}


@router.get("/templates")
def templates() -> list[dict[str, str]]:
    from journeymap.model.templates import list_templates

    return [{"name": t.name, "title": t.title} for t in list_templates()]
