"""Edit a map's YAML text in place: what the app's editor does, comments and key order kept.

The editor sends operations — change a cell, rename a stage, move a touchpoint to
another stage, reorder stages, set a match rule or a KPI target — and
:func:`apply_edits` applies them to the round-trip tree of the file's text, so every
line the edit does not touch stays as it was (comments included), then checks the
result as ``journeymap validate`` does::

    text = apply_edits(text, [
        {"op": "set_cell", "stage": "onboarding", "lane": "pain_points", "index": 0, "text": "Import fails"},
        {"op": "move_stage", "stage": "activation", "to": 1},
        {"op": "move_touchpoint", "touchpoint": "data_import", "stage": "activation", "to": 0},
    ])

An operation that names a stage, touchpoint, lane or cell the map does not have raises
:class:`EditError` naming the operation (``edit 2 (move_stage): no stage 'x'``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from journeymap.errors import JourneymapError
from journeymap.model.checks import CELL_LANES
from journeymap.model.yamlio import parse_map, read_yaml

#: (mapping, sequence, offset) indents tried in order: the first that writes the
#: unedited text back unchanged is the file's own style.
INDENTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (2, 2, 2), (4, 6, 4), (4, 4, 0))
MAP_FIELDS = {"title", "description", "scope", "scenario", "type", "improves", "stage_kind", "stage_reach",
              "owners", "tags"}
PERSONA_FIELDS = {"name", "description", "segment", "quote", "goals", "motivations", "frustrations",
                  "preferred_channels", "offscreen", "demographics"}
GOAL_FIELDS = {"statement", "event"}
KPI_FIELDS = {"metric", "name", "target", "baseline", "direction", "unit", "deadline", "touchpoint"}
STAGE_FIELDS = {"name", "description", "time"}
TOUCHPOINT_FIELDS = {"name", "channel", "owner", "visibility", "description", "submap"}


class EditError(JourneymapError):
    """An edit that does not fit the map (unknown stage, cell out of range, bad value)."""


def _yaml(indent: tuple[int, int, int]) -> YAML:
    y = YAML(typ="rt")
    y.width = 4096
    y.preserve_quotes = True
    y.indent(mapping=indent[0], sequence=indent[1], offset=indent[2])
    return y


def _dump(tree: Any, indent: tuple[int, int, int]) -> str:
    out = io.StringIO()
    _yaml(indent).dump(tree, out)
    return out.getvalue()


def _load(text: str, file: str) -> Any:
    """The round-trip tree with quotes kept (a syntax error in read_yaml's words)."""
    try:
        return _yaml(INDENTS[0]).load(text)
    except Exception:  # noqa: BLE001 - read_yaml raises the error users know
        return read_yaml(text, file)


def style_of(text: str) -> tuple[int, int, int]:
    """The indentation that writes ``text`` back unchanged (else the first of INDENTS)."""
    for indent in INDENTS:
        if _dump(_load(text, "map"), indent) == text:
            return indent
    return INDENTS[0]


def apply_edits(text: str, edits: Sequence[Mapping[str, Any]], *, file: str = "map.yaml",
                check: bool = True) -> str:
    """``text`` with ``edits`` applied (see the module docstring); validated when ``check``
    (an invalid result raises MapValidationError with ``journeymap validate``'s words)."""
    indent = style_of(text)
    tree = _load(text, file)
    if not isinstance(tree, CommentedMap):
        raise EditError(f"{file}: not a map document")
    for i, edit in enumerate(edits, 1):
        op = str(edit.get("op", ""))
        handler = OPERATIONS.get(op)
        if handler is None:
            raise EditError(f"edit {i}: unknown op '{op}' (known: {', '.join(sorted(OPERATIONS))})")
        try:
            handler(tree, edit)
        except EditError as exc:
            raise EditError(f"edit {i} ({op}): {exc}") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise EditError(f"edit {i} ({op}): missing or bad field {exc}") from None
    result = _dump(tree, indent)
    if check:
        parse_map(result, file)
    return result


# -- finding things -----------------------------------------------------------------------
def _stages(tree: CommentedMap) -> CommentedSeq:
    stages = tree.get("stages")
    if not isinstance(stages, CommentedSeq):
        raise EditError("the map has no list of stages")
    return stages


def _stage(tree: CommentedMap, stage_id: Any) -> CommentedMap:
    for s in _stages(tree):
        if isinstance(s, CommentedMap) and s.get("id") == stage_id:
            return s
    raise EditError(f"no stage '{stage_id}'")


def _touchpoint(tree: CommentedMap, tp_id: Any) -> tuple[CommentedMap, CommentedSeq, int]:
    for s in _stages(tree):
        tps = s.get("touchpoints") if isinstance(s, CommentedMap) else None
        for i, t in enumerate(tps or []):
            if isinstance(t, CommentedMap) and t.get("id") == tp_id:
                return t, tps, i
    raise EditError(f"no touchpoint '{tp_id}'")


def _child(node: CommentedMap, key: str, kind: type) -> Any:
    if not isinstance(node.get(key), kind):
        node[key] = kind()
    return node[key]


def _index(seq: Sequence[Any], value: Any, *, insert: bool = False) -> int:
    n = len(seq) + (1 if insert else 0)
    i = int(value)
    if i < 0:
        i += n
    if not 0 <= i < max(n, 1):
        raise EditError(f"position {value} is outside 0..{n - 1}")
    return i


def _set(node: CommentedMap, key: str, value: Any) -> None:
    """Set ``key`` (None or "" removes it; a list or dict becomes YAML of its own)."""
    if value is None or value == "":
        node.pop(key, None)
    elif isinstance(value, Mapping):
        node[key] = CommentedMap(value)
    elif isinstance(value, list):
        node[key] = CommentedSeq(value)
    else:
        node[key] = value


def _lane(tree: CommentedMap, edit: Mapping[str, Any], *, create: bool = False) -> CommentedSeq:
    stage = _stage(tree, edit["stage"])
    lane = str(edit["lane"])
    lanes = _child(stage, "lanes", CommentedMap) if create else stage.get("lanes") or CommentedMap()
    if lane.startswith("custom."):
        custom = _child(lanes, "custom", CommentedMap) if create else lanes.get("custom") or {}
        key = lane.removeprefix("custom.")
        if create and not isinstance(custom.get(key), CommentedSeq):
            custom[key] = CommentedSeq()
        cells = custom.get(key)
    else:
        if lane not in CELL_LANES:
            raise EditError(f"no lane '{lane}' (lanes of cells: {', '.join(CELL_LANES)})")
        if create and not isinstance(lanes.get(lane), CommentedSeq):
            lanes[lane] = CommentedSeq()
        cells = lanes.get(lane)
    if not isinstance(cells, CommentedSeq):
        raise EditError(f"stage '{edit['stage']}' has no {lane}")
    return cells


def _cell_value(old: Any, text: str) -> Any:
    if isinstance(old, CommentedMap):
        old["text"] = text
        return old
    return text


# -- the operations -------------------------------------------------------------------------
def set_cell(tree: CommentedMap, e: Mapping[str, Any]) -> None:
    cells = _lane(tree, e)
    i = _index(cells, e["index"])
    cells[i] = _cell_value(cells[i], str(e["text"]))


def add_cell(tree: CommentedMap, e: Mapping[str, Any]) -> None:
    cells = _lane(tree, e, create=True)
    i = _index(cells, e.get("index", len(cells)), insert=True)
    cells.insert(i, str(e["text"]))


def delete_cell(tree: CommentedMap, e: Mapping[str, Any]) -> None:
    cells = _lane(tree, e)
    del cells[_index(cells, e["index"])]


def set_evidence(tree: CommentedMap, e: Mapping[str, Any]) -> None:
    """Attach evidence (``{kind, note, source, query, date}``) to a cell; None removes it."""
    cells = _lane(tree, e)
    i = _index(cells, e["index"])
    cell = cells[i]
    if not isinstance(cell, CommentedMap):
        cell = CommentedMap({"text": cell})
        cells[i] = cell
    _set(cell, "evidence", e.get("evidence"))


def set_emotion(tree: CommentedMap, e: Mapping[str, Any]) -> None:
    lanes = _child(_stage(tree, e["stage"]), "lanes", CommentedMap)
    _set(lanes, "emotion", e.get("emotion"))


def add_stage(tree: CommentedMap, e: Mapping[str, Any]) -> None:
    stages = _stages(tree)
    if any(s.get("id") == e["id"] for s in stages):
        raise EditError(f"a stage '{e['id']}' exists")
    stage = CommentedMap([("id", str(e["id"])), ("name", str(e.get("name") or e["id"]))])
    stages.insert(_index(stages, e.get("to", len(stages)), insert=True), stage)


def delete_stage(tree: CommentedMap, e: Mapping[str, Any]) -> None:
    stages = _stages(tree)
    stage = _stage(tree, e["stage"])
    if stage.get("touchpoints") and not e.get("with_touchpoints"):
        raise EditError(f"stage '{e['stage']}' has touchpoints: move them first, or delete with them")
    stages.remove(stage)


def move_stage(tree: CommentedMap, e: Mapping[str, Any]) -> None:
    stages = _stages(tree)
    stage = _stage(tree, e["stage"])
    to = _index(stages, e["to"])
    stages.remove(stage)
    stages.insert(to, stage)


def set_stage(tree: CommentedMap, e: Mapping[str, Any]) -> None:
    stage = _stage(tree, e["stage"])
    field = str(e["field"])
    if field not in STAGE_FIELDS:
        raise EditError(f"a stage's field is one of {', '.join(sorted(STAGE_FIELDS))}")
    _set(stage, field, e.get("value"))


def add_touchpoint(tree: CommentedMap, e: Mapping[str, Any]) -> None:
    try:
        _touchpoint(tree, e["id"])
    except EditError:
        pass
    else:
        raise EditError(f"a touchpoint '{e['id']}' exists")
    stage = _stage(tree, e["stage"])
    tps = _child(stage, "touchpoints", CommentedSeq)
    tp = CommentedMap([("id", str(e["id"])), ("name", str(e.get("name") or e["id"])),
                       ("channel", str(e.get("channel") or "web"))])
    if e.get("match"):
        _set(tp, "match", e["match"])
    tps.insert(_index(tps, e.get("to", len(tps)), insert=True), tp)


def delete_touchpoint(tree: CommentedMap, e: Mapping[str, Any]) -> None:
    _, tps, i = _touchpoint(tree, e["touchpoint"])
    del tps[i]


def move_touchpoint(tree: CommentedMap, e: Mapping[str, Any]) -> None:
    """Move a touchpoint to a stage (its own or another) at position ``to``; it is then
    counted in the stage it is listed under (an explicit ``stage:`` is dropped)."""
    tp, tps, i = _touchpoint(tree, e["touchpoint"])
    target = _child(_stage(tree, e["stage"]), "touchpoints", CommentedSeq)
    del tps[i]
    target.insert(_index(target, e.get("to", len(target)), insert=True), tp)
    tp.pop("stage", None)


def set_touchpoint(tree: CommentedMap, e: Mapping[str, Any]) -> None:
    tp, _, _ = _touchpoint(tree, e["touchpoint"])
    field = str(e["field"])
    if field not in TOUCHPOINT_FIELDS:
        raise EditError(f"a touchpoint's field is one of {', '.join(sorted(TOUCHPOINT_FIELDS))}")
    _set(tp, field, e.get("value"))


def set_match(tree: CommentedMap, e: Mapping[str, Any]) -> None:
    """A touchpoint's match rule: an event name, a list of names, or ``{event, event_in,
    event_regex, channel, where}``; None removes it."""
    tp, _, _ = _touchpoint(tree, e["touchpoint"])
    _set(tp, "match", match_value(e["match_text"]) if "match_text" in e else e.get("match"))


def match_value(text: str) -> Any:
    """A rule as the editor's one-line field writes it: an event name, or YAML/JSON flow
    (``[a, b]``, ``{event: x, where: "channel == 'app'"}``); empty: no rule."""
    text = str(text).strip()
    if not text:
        return None
    if text[0] not in "[{":
        return text
    try:
        return YAML(typ="safe").load(text)
    except Exception as exc:  # noqa: BLE001 - any YAML error is the user's to fix
        raise EditError(f"the rule is not a name, [list] or {{mapping}}: {str(exc).splitlines()[0]}") from None


def set_field(tree: CommentedMap, e: Mapping[str, Any]) -> None:
    """A map, persona or goal field: ``title``, ``persona.name``, ``goal.statement``, ..."""
    path = str(e["field"]).split(".")
    if len(path) == 1 and path[0] in MAP_FIELDS:
        _set(tree, path[0], e.get("value"))
    elif len(path) == 2 and path[0] == "persona" and path[1] in PERSONA_FIELDS:
        _set(_child(tree, "persona", CommentedMap), path[1], e.get("value"))
    elif len(path) == 2 and path[0] == "goal" and path[1] in GOAL_FIELDS:
        _set(_child(tree, "goal", CommentedMap), path[1], e.get("value"))
    else:
        raise EditError(f"'{e['field']}' is not a field the editor sets (map: {', '.join(sorted(MAP_FIELDS))}; "
                        "persona.<field>; goal.statement, goal.event)")


def set_kpi(tree: CommentedMap, e: Mapping[str, Any]) -> None:
    """A KPI's field (target, baseline, ...): the goal's (``where: goal``), a stage's
    (``where: stage``, ``stage``, ``index``) or a touchpoint's (``touchpoint``, ``index``)."""
    field = str(e["field"])
    if field not in KPI_FIELDS | {"deadline"}:
        raise EditError(f"a KPI's field is one of {', '.join(sorted(KPI_FIELDS))}")
    where = e.get("where", "goal")
    if where == "goal":
        kpi = _child(_child(tree, "goal", CommentedMap), "kpi", CommentedMap)
    else:
        owner = _stage(tree, e["stage"]).get("lanes") if where == "stage" else _touchpoint(tree, e["touchpoint"])[0]
        kpis = (owner or {}).get("kpis")
        if not isinstance(kpis, CommentedSeq):
            raise EditError(f"no KPIs at that {where}")
        kpi = kpis[_index(kpis, e.get("index", 0))]
    _set(kpi, field, e.get("value"))


OPERATIONS: dict[str, Callable[[CommentedMap, Mapping[str, Any]], None]] = {
    f.__name__: f for f in (set_cell, add_cell, delete_cell, set_evidence, set_emotion, add_stage, delete_stage,
                            move_stage, set_stage, add_touchpoint, delete_touchpoint, move_touchpoint,
                            set_touchpoint, set_match, set_field, set_kpi)
}
