"""To the backlog: the opportunities the data found, as CSV ready for the issue importers
of Jira, Linear and GitHub (each tool's column names), one row per opportunity with its
evidence, its owner (Jira's and Linear's assignee) and a link back to the map.

An opportunity already in a tracker (it has a link) or done or dropped is left out, so
that importing the file again makes no duplicates (:mod:`journeymap.app.ownership`)."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from journeymap.app.library import NotFound
from journeymap.app.rendering import site
from journeymap.app.security import authorize
from journeymap.app.state import AppState, state_of
from journeymap.render.analytics import label

router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)

#: each importer's columns: title, description, priority, labels
COLUMNS = {
    "jira": ("Summary", "Description", "Priority", "Labels", "Issue Type", "Assignee"),
    "linear": ("Title", "Description", "Priority", "Labels", "Status", "Assignee"),
    "github": ("title", "body", "labels"),
}
#: our status → Linear's workflow state (Jira's importer takes its project's default)
LINEAR_STATUS = {"open": "Backlog", "planned": "Todo", "in progress": "In Progress"}
PRIORITIES = {"jira": ("Highest", "High", "Medium", "Low"), "linear": ("Urgent", "High", "Medium", "Low")}


def _safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def items(st: AppState, ref: str, base_url: str) -> list[dict[str, Any]]:
    """The map's opportunities (from its cached analysis), each ready to be an issue."""
    summary = st.library.get(ref)
    cached, _ = st.jobs.analysis_for(ref, start=False)
    if cached is None or not summary.latest.valid:
        return []
    from journeymap.app.ownership import item_key, items_of

    tracked = {i.key: i for i in items_of(st, ref)}
    jmap = st.library.document(summary.latest)
    names = {t.id: t.name for t in jmap.touchpoints} | {s.id: s.name for s in jmap.stages}
    out = []
    for i, o in enumerate(cached.result.get("opportunities") or []):
        state = tracked.get(item_key("opportunity", o))
        if state is not None and (state.link or state.status in ("done", "dropped")):
            continue
        where = str(o.get("target") or "").split(":", 1)[-1]
        gain = o.get("estimated_gain") or {}
        e = o.get("evidence") or {}
        lines = [f"Journey map: {jmap.title} — {base_url}/maps/{ref}",
                 f"Where: {names.get(where, where)} ({o.get('level') or 'touchpoint'})"]
        if gain:
            lines.append(f"Estimated gain: {gain.get('customers', '?')} {gain.get('metric') or 'customers'}"
                         + (f", if {gain['if']}" if gain.get("if") else ""))
        if e.get("metric"):
            lines.append(f"Evidence: {e['metric']} {e.get('value')} vs {e.get('baseline')} ({e.get('compared_with', '')})"
                         + (f", n={e['n']}" if e.get("n") else "")
                         + (f"; {e['test']} p={e.get('p_value')}" if e.get("test") else ""))
        for q in (e.get("quotes") or [])[:2]:
            lines.append(f"Customer: “{q}”")
        out.append({"title": f"{label(o.get('kind'))}: {names.get(where, where)}", "description": "\n".join(lines),
                    "rank": i, "labels": ["journeymap", f"map:{ref}"],
                    "owner": state.owner if state else None, "status": state.status if state else "open"})
    return out


def to_csv(rows: list[dict[str, Any]], tool: str) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS[tool])
    for r in rows:
        prio = PRIORITIES.get(tool)
        priority = prio[min(r["rank"], len(prio) - 1)] if prio else ""
        title, body, owner = _safe(r["title"]), _safe(r["description"]), _safe(r.get("owner") or "")
        if tool == "jira":
            writer.writerow([title, body, priority, " ".join(r["labels"]), "Task", owner])
        elif tool == "linear":
            writer.writerow([title, body, priority, ",".join(r["labels"]), LINEAR_STATUS.get(r.get("status"), "Backlog"),
                             owner])
        else:
            writer.writerow([title, body, ",".join(r["labels"])])
    return buf.getvalue()


def _response(text: str, name: str) -> Response:
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _tool(tool: str) -> str:
    if tool not in COLUMNS:
        raise NotFound(f"no backlog format '{tool}' (formats: {', '.join(COLUMNS)})")
    return tool


@router.get("/maps/{ref}/backlog-{tool}.csv")
def map_backlog(request: Request, ref: str, tool: str) -> Response:
    st = state_of(request)
    return _response(to_csv(items(st, ref, site(request)), _tool(tool)),
                     f"{ref}-opportunities-{tool}.csv")


@router.get("/backlog-{tool}.csv")
def workspace_backlog(request: Request, tool: str) -> Response:
    st = state_of(request)
    rows = [r for m in st.library.maps() for r in items(st, m.row.ref, site(request))]
    return _response(to_csv(rows, _tool(tool)), f"opportunities-{tool}.csv")
