"""Current state against future state: a future-state map (``improves: CURRENT``) beside
the current-state map it improves — what the future changes, in the map's words, and the
emotion curve and stage reach of both from their cached analyses.  Any two maps can be
put side by side the same way (``?with=REF``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from journeymap.app.library import MapSummary, NotFound
from journeymap.app.rendering import job_view, map_context, render, when
from journeymap.app.security import authorize
from journeymap.app.state import AppState, state_of
from journeymap.model.diff import diff_maps
from journeymap.model.document import JourneyMap
from journeymap.render.chartset import emotion, segments
from journeymap.render.view import build_view

router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)


def _valid_docs(st: AppState) -> dict[str, JourneyMap]:
    return {m.row.ref: st.library.document(m.latest) for m in st.library.maps() if m.latest.valid}


def ref_of_map_id(st: AppState, map_id: str, docs: dict[str, JourneyMap] | None = None) -> str | None:
    """The library ref of the map whose document id is ``map_id`` (usually the same)."""
    if docs is None:  # the file is usually named after the id: look there first
        try:
            summary = st.library.get(map_id)
            if summary.latest.valid and st.library.document(summary.latest).id == map_id:
                return map_id
        except NotFound:
            pass
        docs = _valid_docs(st)
    if map_id in docs and docs[map_id].id == map_id:
        return map_id
    return next((ref for ref, doc in docs.items() if doc.id == map_id), None)


def linked(st: AppState, ref: str) -> dict[str, Any]:
    """The maps linked to ``ref``: the current state it improves, and the future states
    that improve it."""
    docs = _valid_docs(st)
    doc = docs.get(ref)
    improves = ref_of_map_id(st, doc.improves, docs) if doc is not None and doc.improves else None
    futures = [r for r, d in docs.items() if doc is not None and d.improves == doc.id and r != ref]
    return {"improves": improves, "improves_id": doc.improves if doc else None, "futures": futures,
            "refs": sorted(docs)}


def _side(st: AppState, summary: MapSummary) -> dict[str, Any]:
    cached, job = st.jobs.analysis_for(summary.row.ref)
    doc = st.library.document(summary.latest)
    return {"ref": summary.row.ref, "doc": doc, "cached": cached, "job": job_view(job),
            "view": build_view(doc, cached.result if cached else None),
            "cached_when": when(cached.created_at) if cached else ""}


def comparison(st: AppState, ref: str, other: str | None) -> dict[str, Any]:
    """What the compare page shows: the two sides (current first), the changes from
    the current to the future in the map's words, and the charts of both."""
    st.library.sync()
    this = st.library.get(ref)
    links = linked(st, ref)
    other = other or links["improves"] or (links["futures"][0] if links["futures"] else None)
    out: dict[str, Any] = {"links": links, "other": other, "current": None, "future": None, "changes": [],
                           "charts": [], "problem": None, "linked": False}
    if not other:
        return out
    that = st.library.get(other)
    if not this.latest.valid or not that.latest.valid:
        bad = this if not this.latest.valid else that
        out["problem"] = f"{bad.row.file} has problems; fix them to compare it."
        return out
    a, b = _side(st, this), _side(st, that)
    # the current state on the left: the map the other one improves
    if b["doc"].improves == a["doc"].id:
        current, future = a, b
    else:
        current, future = b, a
    out["linked"] = future["doc"].improves == current["doc"].id
    out["current"], out["future"] = current, future
    out["changes"] = diff_maps(current["doc"], future["doc"])
    labels = (f"Current: {current['doc'].title}", f"Future: {future['doc'].title}") if out["linked"] else \
        (current["doc"].title, future["doc"].title)
    charts = [emotion(future["view"], current["view"]),
              segments(future["view"], compare=current["view"], labels=labels)]
    out["charts"] = [c for c in charts if c is not None]
    return out


@router.get("/maps/{ref}/compare", response_class=HTMLResponse)
def compare_page(request: Request, ref: str) -> HTMLResponse:
    st = state_of(request)
    other = request.query_params.get("with") or None
    if other == ref:
        other = None
    if other is not None and other not in {m.row.ref for m in st.library.maps()}:
        raise NotFound(f"no map '{other}' to compare with")
    ctx = comparison(st, ref, other)
    waiting = [s for s in (ctx["current"], ctx["future"]) if s and s["job"] and s["job"]["status"] in
               ("queued", "running")]
    return render(request, "compare.html.j2", tab="compare", m=map_context(st.library.get(ref)), waiting=waiting,
                  **ctx)


@router.get("/maps/{ref}/compare/status", response_class=HTMLResponse)
def compare_status(request: Request, ref: str) -> HTMLResponse:
    """Polled while a side's analysis runs; the page reloads once both are fresh."""
    st = state_of(request)
    ctx = comparison(st, ref, request.query_params.get("with") or None)
    sides = [s for s in (ctx["current"], ctx["future"]) if s]
    waiting = [s for s in sides if s["job"] and s["job"]["status"] in ("queued", "running")]
    response = render(request, "_compare_status.html.j2", m=map_context(st.library.get(ref)), waiting=waiting,
                      other=ctx["other"])
    if not waiting:
        response.headers["HX-Refresh"] = "true"
    return response
