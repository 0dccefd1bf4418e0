"""The persona library in the app: list, create, edit and delete the workspace's personas
(``personas/*.yaml``), add a map's persona to the library, and use a library persona in
maps — each map changed becomes a new version touching only the persona's lines.

A map uses a library persona when their names match; the list says, per map, whether its
copy still equals the library's or in which fields it differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from journeymap.app.library import NotFound
from journeymap.app.rendering import error_page, go, render
from journeymap.app.security import Principal, authorize
from journeymap.app.state import AppState, state_of
from journeymap.errors import JourneymapError
from journeymap.model.document import Persona
from journeymap.model.persona_library import FIELDS, differences, parse_persona, persona_data, persona_edits
from journeymap.workspace import LibraryPersona

router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)

TEXT_FIELDS = ("name", "description", "segment", "quote")
LIST_FIELDS = ("goals", "motivations", "frustrations", "preferred_channels", "offscreen")


@dataclass
class MapUse:
    ref: str
    title: str
    persona: str
    same: bool
    differs: list[str]  # fields in which the map's copy differs


def map_personas(st: AppState) -> list[tuple[str, str, Persona]]:
    """(ref, title, persona) of every map whose latest version is valid."""
    out = []
    for m in st.library.maps():
        if m.latest.valid:
            jmap = st.library.document(m.latest)
            out.append((m.row.ref, jmap.title, jmap.persona))
    return out


def uses(st: AppState, persona: Persona, maps: list[tuple[str, str, Persona]] | None = None) -> list[MapUse]:
    """The maps whose persona has this persona's name, and how their copy differs."""
    found = []
    for ref, title, theirs in maps if maps is not None else map_personas(st):
        if theirs.name == persona.name:
            diff = differences(persona, theirs)
            found.append(MapUse(ref, title, theirs.name, not diff, diff))
    return found


def library_persona(st: AppState, persona_id: str) -> LibraryPersona:
    try:
        return st.ws.persona(persona_id)
    except JourneymapError as exc:
        raise NotFound(str(exc)) from None


def use_in_maps(st: AppState, persona_id: str, refs: list[str], *, author: str) -> list[dict[str, Any]]:
    """Write the library persona into each map of ``refs`` (a new version each, only the
    fields that differ); maps already the same are left alone."""
    lib = library_persona(st, persona_id)
    if lib.persona is None:
        raise JourneymapError(f"{lib.file}: {lib.problem}")
    done = []
    for ref in refs:
        summary = st.library.get(ref)
        current = st.library.document(summary.latest).persona if summary.latest.valid else None
        edits = persona_edits(lib.persona, current)
        if not edits:
            done.append({"ref": ref, "version": summary.latest.number, "changed": []})
            continue
        v = st.library.edit(ref, edits, base=summary.latest.number, author=author,
                            message=f"persona from the library: {lib.persona.name}")
        done.append({"ref": ref, "version": v.number, "changed": [e["field"].split(".", 1)[1] for e in edits]})
    return done


def with_persona(st: AppState, text: str, persona_id: str, ref: str, title: str | None = None) -> str:
    """A new map's text with the library persona ``persona_id`` (none: as it is) and,
    for a draft from the data, the title."""
    from journeymap.model.edit import apply_edits

    edits: list[dict[str, Any]] = []
    if persona_id:
        lib = library_persona(st, persona_id)
        if lib.persona is None:
            raise JourneymapError(f"{lib.file}: {lib.problem}")
        edits += persona_edits(lib.persona)
    if title:
        edits.append({"op": "set_field", "field": "title", "value": title})
    return apply_edits(text, edits, file=f"maps/{ref}.yaml") if edits else text


# -- the form -----------------------------------------------------------------------------
def form_data(form: dict[str, str]) -> dict[str, Any]:
    """A persona's fields from the form: lists one per line, demographics ``key: value``."""
    data: dict[str, Any] = {}
    for f in TEXT_FIELDS:
        value = (form.get(f) or "").strip()
        if value:
            data[f] = value
    for f in LIST_FIELDS:
        items = [line.strip() for line in (form.get(f) or "").splitlines() if line.strip()]
        if items:
            data[f] = items
    demographics: dict[str, Any] = {}
    for n, line in enumerate((form.get("demographics") or "").splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            raise JourneymapError(f"demographics: line {n} '{line.strip()}' is not 'key: value'")
        demographics[key.strip()] = value.strip()
    if demographics:
        data["demographics"] = demographics
    return data


def form_of(persona: Persona | None) -> dict[str, str]:
    data = persona_data(persona) if persona is not None else {}
    out = {f: str(data.get(f) or "") for f in TEXT_FIELDS}
    out |= {f: "\n".join(data.get(f) or []) for f in LIST_FIELDS}
    out["demographics"] = "\n".join(f"{k}: {v}" for k, v in (data.get("demographics") or {}).items())
    return out


def _field_of(message: str) -> str:
    """The form field a persona error names (``persona: goals.0: ...`` -> goals)."""
    for part in message.split(":")[:3]:
        head = part.strip().split(".")[0]
        if head in FIELDS:
            return head
    return ""


# -- pages --------------------------------------------------------------------------------
@router.get("/personas", response_class=HTMLResponse)
def personas_page(request: Request) -> HTMLResponse:
    st = state_of(request)
    st.library.sync()
    maps = map_personas(st)
    library = st.ws.personas()
    names = {p.persona.name for p in library if p.persona}
    rows = [{"lib": p, "uses": uses(st, p.persona, maps) if p.persona else []} for p in library]
    others: dict[str, dict[str, Any]] = {}
    for ref, title, persona in maps:
        if persona.name not in names:
            others.setdefault(persona.name, {"persona": persona, "maps": []})["maps"].append((ref, title))
    return render(request, "personas.html.j2", section="personas", rows=rows, others=list(others.values()),
                  folder=str(st.ws.personas_dir.relative_to(st.ws.root)))


def _edit_page(request: Request, *, persona_id: str | None, form: dict[str, str], error: str | None = None,
               status: int = 200, notice: str = "") -> HTMLResponse:
    st = state_of(request)
    maps = map_personas(st)
    lib = library_persona(st, persona_id) if persona_id else None
    used = uses(st, lib.persona, maps) if lib and lib.persona else []
    used_refs = {u.ref for u in used}
    return render(request, "persona.html.j2", status, section="personas", persona_id=persona_id, lib=lib,
                  form=form, error=error, error_field=_field_of(error) if error else "", uses=used, notice=notice,
                  others=[(ref, title, p.name) for ref, title, p in maps if ref not in used_refs])


@router.get("/personas/new", response_class=HTMLResponse)
def new_persona_page(request: Request) -> HTMLResponse:
    return _edit_page(request, persona_id=None, form=form_of(None))


@router.get("/personas/{persona_id}", response_class=HTMLResponse)
def persona_page(request: Request, persona_id: str, saved: str = "", used: str = "") -> HTMLResponse:
    st = state_of(request)
    lib = library_persona(st, persona_id)
    notice = (f"Saved as {lib.file}." if saved else "") + (
        f" {used} map{'s' if used != '1' else ''} now use{'s' if used == '1' else ''} this persona (a new "
        "version each where it changed)." if used else "")
    return _edit_page(request, persona_id=persona_id, form=form_of(lib.persona), error=lib.problem,
                      notice=notice.strip())


async def _form(request: Request) -> dict[str, str]:
    return {k: str(v) for k, v in (await request.form()).items()}


@router.post("/personas/new")
async def new_persona_submit(request: Request) -> Response:
    return await _save(request, None)


@router.post("/personas/{persona_id}")
async def persona_submit(request: Request, persona_id: str) -> Response:
    library_persona(state_of(request), persona_id)
    return await _save(request, persona_id)


async def _save(request: Request, persona_id: str | None) -> Response:
    st = state_of(request)
    form = await _form(request)
    try:
        saved = st.ws.save_persona(parse_persona(form_data(form), "persona"), persona_id=persona_id)
    except JourneymapError as exc:
        shown = {f: form.get(f, "") for f in (*TEXT_FIELDS, *LIST_FIELDS, "demographics")}
        return _edit_page(request, persona_id=persona_id, form=shown, error=str(exc), status=400)
    return go(request, f"/personas/{saved.id}?saved=1", 303)


@router.post("/personas/{persona_id}/use")
async def use_submit(request: Request, persona_id: str, who: Principal = Depends(authorize)) -> Response:
    st = state_of(request)
    refs = [str(v) for k, v in (await request.form()).multi_items() if k == "map"]
    if not refs:
        return error_page(request, 400, "No map chosen", "Tick the maps that should use this persona.")
    use_in_maps(st, persona_id, refs, author=who.name)
    return go(request, f"/personas/{persona_id}?used={len(refs)}", 303)


@router.post("/personas/{persona_id}/delete")
def delete_submit(request: Request, persona_id: str) -> Response:
    st = state_of(request)
    library_persona(st, persona_id)
    st.ws.delete_persona(persona_id)
    return go(request, "/personas", 303)


@router.post("/personas-from-map")
def from_map_submit(request: Request, ref: str = Form()) -> Response:
    st = state_of(request)
    summary = st.library.get(ref)
    if not summary.latest.valid:
        return error_page(request, 400, "Invalid map", f"{summary.row.file} has problems; fix them first.")
    saved = st.ws.save_persona(st.library.document(summary.latest).persona)
    return go(request, f"/personas/{saved.id}?saved=1", 303)
