"""The analytics views of a map (paths, funnel, stages by segment, segment comparison,
pain points, themes, KPI trends), each with the filters of ``journeymap analyze``:
a segment rule, a period and an attribute to break down by.

An unfiltered view reads the map's cached page analysis; a filtered one its own cached
analysis for (map text, data version, filters), computed by a background job while the
page shows its progress — a page never waits for the engine.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse

from journeymap.analysis import Filters
from journeymap.app.rendering import base_of, go, job_view, map_context, render, when
from journeymap.app.state import AppState, state_of
from journeymap.app.security import authorize
from journeymap.errors import JourneymapError
from journeymap.render.analytics import VIEWS, AnalyticsView, analytics_view

router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)

#: views that need a breakdown attribute: without ``by`` they take :func:`default_by`
NEEDS_BY = ("stages",)


class FilterError(JourneymapError):
    """A filter the user typed is wrong; ``field`` names it (segment, since, until, by)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _day(value: str, name: str) -> dt.date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise FilterError(name, f"{name}: '{value}' is not a date (YYYY-MM-DD)") from None


def parse_filters(st: AppState, segment: str = "", since: str = "", until: str = "", by: str = "") -> Filters:
    """The filters of a query, checked against the data (:class:`FilterError` if wrong)."""
    filters = Filters(segment.strip() or None, _day(since, "since"), _day(until, "until"), by.strip() or None)
    try:
        st.ws.check_filters(filters)
    except JourneymapError as exc:
        text = str(exc)
        field = next((f for f in ("segment", "by", "until") if text.startswith(f)), "segment")
        raise FilterError(field, text) from None
    return filters


def breakdowns(st: AppState) -> dict[str, int]:
    """:meth:`Workspace.breakdown_attributes`, computed once per data version."""
    key = ("breakdowns", st.ws.data_version())
    found = st.page_cache.get(key)
    if found is None:
        found = st.ws.breakdown_attributes()
        st.page_cache.put(key, found)
    return found  # type: ignore[no-any-return]


def default_by(st: AppState, ref: str) -> str | None:
    """The attribute a breakdown view starts with: the first one with 2 to 50 values
    that the persona's rule does not already fix."""
    from journeymap.model.rules import parse_rule

    candidates = breakdowns(st)
    summary = st.library.get(ref)
    fixed: set[str] = set()
    try:
        segment = st.library.document(summary.latest).persona.segment if summary.latest.valid else None
        if segment:
            fixed = {".".join(f) for f in parse_rule(segment).fields()}
    except JourneymapError:
        pass
    return next((a for a in candidates if a not in fixed), None)


def view_of(st: AppState, ref: str, view_id: str, filters: Filters) -> dict[str, Any]:
    """What one analytics page shows: the view (None while no analysis is cached), the
    cached analysis's freshness and the job computing a fresh one."""
    if view_id not in VIEWS:
        from journeymap.app.library import NotFound

        raise NotFound(f"no analytics view '{view_id}' (views: {', '.join(VIEWS)})")
    cached, job = st.jobs.analysis_for(ref, filters=filters)
    summary = st.library.get(ref)
    view: AnalyticsView | None = None
    unfiltered = not (filters.segment or filters.since or filters.until)  # the history is of the whole map
    history = st.library.ws.history(summary.row.ref) if view_id == "trends" and unfiltered else []
    if cached is not None:
        key = ("analytics", summary.row.id, summary.latest.checksum, cached.version_checksum, cached.data_version,
               filters.key, view_id, len(history), history[-1].get("taken_at") if history else None)
        view = st.page_cache.get(key)
        if view is None:
            version = next((v for v in st.library.versions(ref)
                            if v.valid and v.checksum == cached.version_checksum),
                           summary.latest if summary.latest.valid else None)
            if version is not None:
                view = analytics_view(st.library.document(version), cached.result, view_id, history)
                st.page_cache.put(key, view)
    return {"view": view, "cached": cached, "job": job}


def _query(filters: Filters) -> str:
    from urllib.parse import urlencode

    q = {k: v for k, v in (("segment", filters.segment), ("since", filters.since), ("until", filters.until),
                           ("by", filters.by)) if v}
    return urlencode(q)


@router.get("/maps/{ref}/analytics")
def analytics_home(request: Request, ref: str) -> Response:
    return go(request, f"/maps/{ref}/analytics/{next(iter(VIEWS))}", 307)


def _page_context(request: Request, ref: str, view_id: str, segment: str, since: str, until: str,
                  by: str) -> dict[str, Any]:
    if view_id not in VIEWS:
        from journeymap.app.library import NotFound

        raise NotFound(f"no analytics view '{view_id}' (views: {', '.join(VIEWS)})")
    st = state_of(request)
    st.library.sync()
    m = st.library.get(ref)
    form = {"segment": segment, "since": since, "until": until, "by": by}
    error: FilterError | None = None
    try:
        filters = parse_filters(st, segment, since, until, by)
    except FilterError as exc:
        error, filters = exc, None
    # the links to the other views keep what the user chose, not this view's default
    query = _query(filters) if filters is not None else ""
    if filters is not None and view_id in NEEDS_BY and not filters.by:
        chosen = default_by(st, ref)
        if chosen:
            filters = filters.with_by(chosen)
            form["by"] = chosen
    shown: dict[str, Any] = {"view": None, "cached": None, "job": None}
    if filters is not None:
        shown = view_of(st, ref, view_id, filters)
    cached = shown["cached"]
    return {"tab": "analytics", "m": map_context(m), "views": [(k, t) for k, (t, _) in VIEWS.items()],
            "view_id": view_id, "view_title": VIEWS[view_id][0], "view": shown["view"], "cached": cached,
            "job": job_view(shown["job"]), "cached_when": when(cached.created_at) if cached else "",
            "form": form, "error": error, "query": query, "attributes": breakdowns(st),
            "status_url": f"{base_of(request)}/maps/{ref}/analytics/{view_id}/status" + (
                f"?{_query(filters)}" if filters is not None and filters else "")}


@router.get("/maps/{ref}/analytics/{view_id}", response_class=HTMLResponse)
def analytics_page(request: Request, ref: str, view_id: str, segment: str = "", since: str = "",
                   until: str = "", by: str = "") -> HTMLResponse:
    ctx = _page_context(request, ref, view_id, segment, since, until, by)
    return render(request, "analytics.html.j2", 400 if ctx["error"] else 200, **ctx)


@router.get("/maps/{ref}/analytics/{view_id}/status", response_class=HTMLResponse)
def analytics_status(request: Request, ref: str, view_id: str, segment: str = "", since: str = "",
                     until: str = "", by: str = "") -> HTMLResponse:
    """The progress of a filtered analysis (polled by htmx); once fresh, the page reloads."""
    ctx = _page_context(request, ref, view_id, segment, since, until, by)
    response = render(request, "_status.html.j2", **ctx)
    if ctx["cached"] is not None and ctx["cached"].fresh:
        response.headers["HX-Refresh"] = "true"
    return response


def view_json(view: AnalyticsView | None) -> dict[str, Any] | None:
    return None if view is None else asdict(view)
