"""The app's pages: maps list, map view, YAML editor, history, changes, new map.

Server-rendered (Jinja2, escaped), working without JavaScript; htmx only polls the
analysis progress.  Forms post with the CSRF token and redirect (post/redirect/get).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from journeymap.app.jobs import Cached
from journeymap.app.library import Conflict
from journeymap.app.rendering import base_of, error_page, go, job_view, map_context, render, when
from journeymap.app.responses import MAX_ID
from journeymap.app.reviews import review_of
from journeymap.app.security import Principal, authorize
from journeymap.app.state import state_of
from journeymap.errors import JourneymapError, MapValidationError

router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)

GOAL_CLASS = {"achieved": "good", "on_track": "good", "at_risk": "warn", "off_track": "bad", "missed": "bad"}


def side_by_side(old: str, new: str) -> list[tuple[str, str, str]]:
    """The two texts aligned line by line: (old line, new line, same|changed|added|removed)."""
    import difflib

    a, b = old.splitlines(), new.splitlines()
    rows: list[tuple[str, str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            rows += [(x, y, "same") for x, y in zip(a[i1:i2], b[j1:j2], strict=True)]
            continue
        left, right = a[i1:i2], b[j1:j2]
        for k in range(max(len(left), len(right))):
            x = left[k] if k < len(left) else None
            y = right[k] if k < len(right) else None
            kind = "changed" if x is not None and y is not None else "removed" if y is None else "added"
            rows.append((x or "", y or "", kind))
    return rows


# -- maps list ------------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
def maps_page(request: Request, q: str = "", type: str = "") -> HTMLResponse:  # noqa: A002 - the query's name
    st = state_of(request)
    st.library.sync()
    data_version = st.ws.data_version()
    everything = st.library.maps()
    rows = []
    for m in everything:
        ctx = map_context(m)
        text = " ".join(str(ctx[k] or "") for k in ("ref", "title", "persona", "owner")).lower()
        if q and q.lower() not in text or type and ctx["type"] != type:
            continue
        cached = st.jobs.cached(m, data_version)
        ctx["staleness"], ctx["staleness_class"] = _staleness(cached, m.latest.valid)
        goal = (cached.result.get("goal") or {}) if cached else {}
        status = goal.get("status") if isinstance(goal, dict) else None
        ctx["goal"] = status.replace("_", " ") if isinstance(status, str) else None
        ctx["goal_class"] = GOAL_CLASS.get(status or "", "")
        ctx["review"] = review_of(st, m, cached.result if cached else None)
        rows.append(ctx)
    types = sorted({m.row.map_type for m in everything if m.row.map_type})
    return render(request, "maps.html.j2", section="maps", maps=rows, total=len(everything), q=q, type=type,
                  types=types, data_version=data_version, maps_dir=str(st.ws.maps_dir))


def _staleness(cached: Cached | None, valid: bool) -> tuple[str, str]:
    if not valid:
        return "invalid map", "bad"
    if cached is None:
        return "not analysed yet", ""
    if cached.fresh:
        return f"current · {when(cached.created_at)}", "good"
    return f"stale · from {when(cached.created_at)}", "warn"


# -- one map ----------------------------------------------------------------------------
def _status_context(request: Request, ref: str, *, start: bool = True) -> dict[str, Any]:
    st = state_of(request)
    m = st.library.get(ref)
    cached, job = st.jobs.analysis_for(ref, start=start)
    return {"m": map_context(m), "cached": cached, "job": job_view(job),
            "cached_when": when(cached.created_at) if cached else ""}


DISCOVER = "discover"  # the new-map choice that drafts the map from the events


def _new_page(request: Request, status: int = 200, **values: Any) -> HTMLResponse:
    from journeymap.model.templates import list_templates

    st = state_of(request)
    form = {"name": "", "title": "", "template": list_templates()[0].name, "from_map": "", "persona": "",
            "stages": "", "min_share": "1", "method": "gaps"} | values.pop("form", {})
    return render(request, "new.html.j2", status, section="new", templates=list_templates(), form=form,
                  refs=[m.row.ref for m in st.library.maps()],
                  personas=[p for p in st.ws.personas() if p.persona is not None], **values)


@router.get("/maps/new", response_class=HTMLResponse)
def new_page(request: Request) -> HTMLResponse:
    return _new_page(request, error=None, job=None)


@router.post("/maps/new")
def new_submit(request: Request, name: str = Form(""), title: str = Form(""), template: str = Form(""),
               from_map: str = Form(""), persona: str = Form(""), stages: str = Form(""),
               min_share: str = Form("1"), method: str = Form("gaps"),
               who: Principal = Depends(authorize)) -> Response:
    from journeymap.app.personas import with_persona
    from journeymap.model.templates import slug

    st = state_of(request)
    form = {"name": name, "title": title, "template": template, "from_map": from_map, "persona": persona,
            "stages": stages, "min_share": min_share, "method": method}
    try:
        ref = slug(name)
        if not template:
            raise JourneymapError("choose a template, or the data (discover)")
        if template == DISCOVER:
            if st.library.file_of(ref).exists():
                raise JourneymapError(f"maps/{ref}.yaml: exists; choose another name")
            options = _discover_options(stages, min_share, method)
            job = st.jobs.start_discover(ref, options, author=who.name,
                                         then=lambda text: with_persona(st, text, persona, ref, title))
            return _new_page(request, 202, form=form, error=None, job=job_view(job))
        text = with_persona(st, st.ws.template_text(ref, template, from_map=from_map or None, title=title or None),
                            persona, ref)
        st.library.create(ref, text, author=who.name, message=f"created from template {template}")
    except JourneymapError as exc:
        return _new_page(request, 400, form=form, error=str(exc), job=None)
    return go(request, f"/maps/{ref}", 303)


def _discover_options(stages: str, min_share: str, method: str) -> dict[str, Any]:
    """``journeymap discover``'s options from the form, in its words when wrong."""
    options: dict[str, Any] = {"method": method if method in ("gaps", "quantiles") else "gaps"}
    try:
        if stages.strip():
            options["stages"] = int(stages)
            if not 1 <= options["stages"] <= 30:
                raise ValueError
    except ValueError:
        raise JourneymapError(f"stages: '{stages}' is not a number of stages from 1 to 30") from None
    try:
        share = float(min_share or 1) / 100
        if not 0 <= share <= 1:
            raise ValueError
        options["min_share"] = share
    except ValueError:
        raise JourneymapError(f"minimum share: '{min_share}' is not a percentage from 0 to 100") from None
    return options


@router.get("/maps/new/jobs/{job_id}", response_class=HTMLResponse)
def new_job_status(request: Request, job_id: str) -> HTMLResponse:
    """A discover job's progress (polled by htmx); once done, the browser goes to the map."""
    job = state_of(request).jobs.job(job_id)
    response = render(request, "_newjob.html.j2", job=job_view(job))
    if job.kind == "discover" and job.status == "done" and job.result:
        response.headers["HX-Redirect"] = f"{base_of(request)}/maps/{job.result['ref']}"
    return response


@router.get("/maps/{ref}", response_class=HTMLResponse)
def map_page(request: Request, ref: str) -> HTMLResponse:
    st = state_of(request)
    st.library.sync()
    ctx = _status_context(request, ref)
    review = review_of(st, st.library.get(ref), ctx["cached"].result if ctx["cached"] else None)
    return render(request, "map.html.j2", tab="view", review=review,
                  members=[mb.email for mb in st.accounts.members()], **ctx)


@router.get("/maps/{ref}/status", response_class=HTMLResponse)
def map_status(request: Request, ref: str) -> HTMLResponse:
    """The analysis status (polled by htmx); once fresh, the page reloads itself."""
    ctx = _status_context(request, ref)
    response = render(request, "_status.html.j2", **ctx)
    if ctx["cached"] is not None and ctx["cached"].fresh:
        response.headers["HX-Refresh"] = "true"
    return response


@router.get("/maps/{ref}/page", response_class=HTMLResponse)
def map_document_page(request: Request, ref: str) -> HTMLResponse:
    """The standalone map page (as ``journeymap render`` draws it) with the cached numbers,
    shown in a sandboxed frame: it never waits for an analysis."""
    html = map_page_html(request, ref)
    return HTMLResponse(html if html is not None else "<p>This map has no valid version yet.</p>")


def map_page_html(request: Request, ref: str) -> str | None:
    """The map page of ``ref``'s latest valid version with its cached numbers (None: it
    has no valid version) — for the frame on the map tab and for share links."""
    st = state_of(request)
    m = st.library.get(ref)
    cached, _ = st.jobs.analysis_for(ref, start=False)
    version = m.latest
    if not version.valid:  # draw the last valid version rather than nothing
        valid = [v for v in st.library.versions(ref) if v.valid]
        if not valid:
            return None
        version = valid[0]
    # only a future-state map is drawn with another map (its current state): the others
    # are served from the cache without reading their document
    jmap = st.library.document(version) if m.row.map_type == "future_state" else None
    current = _current_state(request, jmap) if jmap is not None else None
    key = (m.row.id, version.checksum, cached.version_checksum if cached else None,
           cached.data_version if cached else None, bool(cached and cached.fresh), current and current[0])
    html = st.page_cache.get(key)
    if html is None:
        from journeymap.render.page import render_map_html

        html = render_map_html(jmap or st.library.document(version), cached.result if cached else None,
                               source=m.row.file, current=current[1] if current else None)
        st.page_cache.put(key, html)
    return html  # type: ignore[no-any-return]


def _current_state(request: Request, jmap: Any) -> tuple[tuple[Any, ...], Any] | None:
    """For a future-state map: the view of the current-state map it improves (with its
    cached numbers) and its cache key — as ``journeymap render`` draws the two together."""
    from journeymap.app.compare import ref_of_map_id
    from journeymap.model.document import MapType
    from journeymap.render.view import build_view

    st = state_of(request)
    if jmap.type != MapType.future_state or not jmap.improves:
        return None
    ref = ref_of_map_id(st, jmap.improves)
    if ref is None:
        return None
    summary = st.library.get(ref)
    cached, _ = st.jobs.analysis_for(ref)
    key = (ref, summary.latest.checksum, cached.version_checksum if cached else None,
           cached.data_version if cached else None)
    return key, build_view(st.library.document(summary.latest), cached.result if cached else None)


@router.get("/maps/{ref}/history", response_class=HTMLResponse)
def history_page(request: Request, ref: str) -> HTMLResponse:
    st = state_of(request)
    st.library.sync()
    return render(request, "history.html.j2", tab="history", m=map_context(st.library.get(ref)),
                  versions=st.library.versions(ref))


@router.get("/maps/{ref}/diff", response_class=HTMLResponse)
def diff_page(request: Request, ref: str) -> HTMLResponse:
    st = state_of(request)
    m = st.library.get(ref)
    try:
        old = int(request.query_params.get("from", max(1, m.latest.number - 1)))
        new = int(request.query_params.get("to", m.latest.number))
    except ValueError:
        return error_page(request, 400, "Bad request", "from and to are version numbers")
    problem, changes = None, []
    try:
        changes = st.library.diff(ref, old, new)
    except MapValidationError as exc:
        problem = f"One of the versions is invalid, so only the texts are compared: {exc}"
    a, b = st.library.version(ref, old), st.library.version(ref, new)
    return render(request, "diff.html.j2", tab="history", m=map_context(m), old=a, new=b, changes=changes,
                  problem=problem, rows=side_by_side(a.text, b.text))


@router.post("/maps/{ref}/restore")
def restore_submit(request: Request, ref: str, version: int = Form(ge=1, le=MAX_ID),
                   base_version: int = Form(ge=1, le=MAX_ID), who: Principal = Depends(authorize)) -> Response:
    st = state_of(request)
    try:
        st.library.restore(ref, version, base=base_version, author=who.name)
    except Conflict as exc:
        return error_page(request, 409, "Not restored", str(exc))
    return go(request, f"/maps/{ref}/history", 303)


@router.get("/data", response_class=HTMLResponse)
def data_page(request: Request, kind: str = "", reason: str = "", q: str = "") -> HTMLResponse:
    """The store: tables, rows and time ranges, ingests, an upload form, the quarantine."""
    from journeymap.app.api import FORMATS
    from journeymap.workspace import KINDS

    st = state_of(request)
    found = st.ws.quarantine(kind=kind or None, reason=reason or None, text=q or None, limit=500)
    return render(request, "data.html.j2", section="data", status=st.ws.status(reader=True),
                  data_version=st.ws.data_version(), ingests=st.ws.ingests(), quarantine=found,
                  reasons=sorted({r["reason"] for r in found["reasons"]}), kinds=KINDS, formats=FORMATS,
                  kind=kind, reason=reason, q=q, root=str(st.ws.root))


EDIT_LANES = (("actions", "Actions"), ("goals", "Goals"), ("thoughts", "Thoughts"), ("pain_points", "Pain points"),
              ("opportunities", "Opportunities"), ("owners", "Owners"), ("backstage", "Backstage processes"))


def rule_text(tp: Any) -> str:
    """A touchpoint's rule as the editor's one-line field shows it."""
    import json

    m = tp.match
    if m is None:
        return ""
    parts = m.model_dump(exclude_none=True)
    if list(parts) == ["event"]:
        return str(parts["event"])
    return json.dumps(parts, ensure_ascii=False)


@router.get("/maps/{ref}/edit", response_class=HTMLResponse)
def edit_page(request: Request, ref: str) -> HTMLResponse:
    """The map editor: every cell, stage and touchpoint in place; drag and drop to move."""
    st = state_of(request)
    st.library.sync()
    m = st.library.get(ref)
    doc = st.library.document(m.latest) if m.latest.valid else None
    fields = []
    if doc is not None:
        kpi = doc.goal.kpi
        fields = [
            {"key": "title", "label": "Title", "value": doc.title, "op": "set_field", "field": "title"},
            {"key": "scope", "label": "Scope", "value": doc.scope or "", "op": "set_field", "field": "scope"},
            {"key": "scenario", "label": "Scenario", "value": doc.scenario, "op": "set_field", "field": "scenario",
             "long": True},
            {"key": "persona.name", "label": "Persona", "value": doc.persona.name, "op": "set_field",
             "field": "persona.name"},
            {"key": "goal.statement", "label": "Goal", "value": doc.goal.statement, "op": "set_field",
             "field": "goal.statement", "long": True},
        ]
        if kpi is not None:
            fields.append({"key": "goal.kpi.target", "label": f"Goal KPI target ({kpi.name or kpi.metric})",
                           "value": kpi.target, "op": "set_kpi", "field": "target", "numeric": True})
    return render(request, "edit.html.j2", tab="edit", m=map_context(m), doc=doc, fields=fields,
                  lanes=EDIT_LANES, rule=rule_text)


@router.get("/maps/{ref}/source", response_class=HTMLResponse)
def source_page(request: Request, ref: str) -> HTMLResponse:
    st = state_of(request)
    st.library.sync()
    m = st.library.get(ref)
    saved = request.query_params.get("saved")
    return render(request, "source.html.j2", tab="source", m=map_context(m), text=m.latest.text,
                  base_version=m.latest.number, message="", problems=[], conflict=None, saved=saved)


@router.post("/maps/{ref}/source")
def source_submit(request: Request, ref: str, text: str = Form(), base_version: int = Form(ge=1, le=MAX_ID),
                  message: str = Form(""), who: Principal = Depends(authorize)) -> Response:
    st = state_of(request)
    text = text.replace("\r\n", "\n")  # browsers send form text with CRLF
    try:
        v = st.library.save(ref, text, base=base_version, author=who.name, message=message)
    except MapValidationError as exc:
        from journeymap.app.library import issue_dict

        return render(request, "source.html.j2", 422, tab="source", m=map_context(st.library.get(ref)), text=text,
                      base_version=base_version, message=message, problems=[issue_dict(i) for i in exc.issues],
                      conflict=None, saved=None)
    except Conflict as exc:
        conflict = {"error": str(exc), "base": exc.base, "yours": exc.yours,
                    "latest": {"number": exc.latest.number, "author": exc.latest.author, "text": exc.latest.text}}
        return render(request, "source.html.j2", 409, tab="source", m=map_context(st.library.get(ref)), text=text,
                      base_version=exc.latest.number, message=message, problems=[], conflict=conflict, saved=None)
    return go(request, f"/maps/{ref}/source?saved={v.number}", 303)
