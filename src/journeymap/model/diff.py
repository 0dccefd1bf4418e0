"""What changed between two versions of a map, in the map's own words.

A YAML text diff says "line 41 changed"; people who own a journey want "stage
*Activation* added", "touchpoint *Data import* moved from Onboarding to Activation",
"CSAT target at Support chat 0.7 → 0.8".  :func:`diff_maps` compares two documents
object by object (stages and touchpoints by id, lanes cell by cell)::

    for change in diff_maps(old, new):
        print(change.text)          # Stage "Activation" added at position 4

Each :class:`Change` has a ``kind`` (one of :data:`KINDS`), the ``path`` of the object
it concerns (``stages[activation].lanes.pain_points``), the old and new values, and a
sentence.  Stage order changes are the fewest moves that explain the new order (the
stages off a longest common subsequence).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from journeymap.model.document import Cell, JourneyMap, Kpi, Stage, Touchpoint

KINDS = (
    "map_changed", "persona_changed", "goal_changed", "kpi_target_changed",
    "stage_added", "stage_removed", "stage_renamed", "stage_moved", "stage_changed",
    "touchpoint_added", "touchpoint_removed", "touchpoint_renamed", "touchpoint_moved",
    "touchpoint_changed", "rule_changed", "cell_added", "cell_removed", "cell_changed",
    "emotion_changed",
)

MAP_FIELDS = ("title", "type", "improves", "description", "scope", "scenario", "stage_kind",
              "stage_reach", "owners", "tags")
LANE_NAMES = {"actions": "action", "goals": "goal", "thoughts": "thought",
              "pain_points": "pain point", "opportunities": "opportunity", "owners": "owner",
              "backstage": "backstage process"}
KPI_FIELDS = ("target", "baseline", "direction", "unit", "deadline")


@dataclass(frozen=True)
class Change:
    kind: str
    path: str
    text: str
    old: Any = None
    new: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "text": self.text,
                "old": _jsonable(self.old), "new": _jsonable(self.new)}


def diff_maps(old: JourneyMap, new: JourneyMap) -> list[Change]:
    """Every change from ``old`` to ``new``, map fields first, then stage by stage."""
    return [*_map_fields(old, new), *_persona(old, new), *_goal(old, new),
            *_stages(old, new), *_touchpoints(old, new)]


def _value(v: Any) -> Any:
    return getattr(v, "value", v)


def _jsonable(v: Any) -> Any:
    if hasattr(v, "model_dump"):
        return v.model_dump(mode="json", exclude_defaults=True)
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    v = _value(v)
    return v if isinstance(v, (str, int, float, bool, type(None), dict)) else str(v)


def _show(v: Any) -> str:
    v = _value(v)
    if v is None or v == [] or v == "":
        return "(none)"
    if isinstance(v, list):
        return ", ".join(str(x) for x in v)
    text = str(v)
    return text if len(text) <= 80 else text[:77] + "…"


def _map_fields(old: JourneyMap, new: JourneyMap) -> Iterator[Change]:
    for f in MAP_FIELDS:
        a, b = getattr(old, f), getattr(new, f)
        if _value(a) != _value(b):
            yield Change("map_changed", f, f"Map {f.replace('_', ' ')}: {_show(a)} → {_show(b)}", a, b)


def _persona(old: JourneyMap, new: JourneyMap) -> Iterator[Change]:
    a, b = old.persona.model_dump(), new.persona.model_dump()
    for f in a:
        if a[f] != b[f]:
            yield Change("persona_changed", f"persona.{f}",
                         f"Persona {f.replace('_', ' ')}: {_show(a[f])} → {_show(b[f])}", a[f], b[f])


def _goal(old: JourneyMap, new: JourneyMap) -> Iterator[Change]:
    for f in ("statement", "event"):
        a, b = getattr(old.goal, f), getattr(new.goal, f)
        if a != b:
            yield Change("goal_changed", f"goal.{f}", f"Goal {f}: {_show(a)} → {_show(b)}", a, b)
    a_kpi, b_kpi = old.goal.kpi, new.goal.kpi
    if (a_kpi is None) != (b_kpi is None) or (a_kpi and b_kpi and a_kpi.metric != b_kpi.metric):
        yield Change("goal_changed", "goal.kpi", f"Goal KPI: {_kpi_name(a_kpi)} → {_kpi_name(b_kpi)}",
                     a_kpi, b_kpi)
    elif a_kpi is not None and b_kpi is not None:
        yield from _kpi_fields("goal.kpi", "Goal", a_kpi, b_kpi)


def _kpi_name(k: Kpi | None) -> str:
    return "(none)" if k is None else (k.name or k.metric.upper())


def _kpi_fields(path: str, where: str, a: Kpi, b: Kpi) -> Iterator[Change]:
    for f in KPI_FIELDS:
        x, y = getattr(a, f, None), getattr(b, f, None)
        if _value(x) != _value(y):
            yield Change("kpi_target_changed", f"{path}.{f}",
                         f"{_kpi_name(b)} {f} at {where}: {_show(x)} → {_show(y)}", x, y)


def _kpis(path: str, where: str, a: Sequence[Kpi], b: Sequence[Kpi]) -> Iterator[Change]:
    olds = {(k.metric, k.touchpoint): k for k in a}
    news = {(k.metric, k.touchpoint): k for k in b}
    for key, k in news.items():
        if key not in olds:
            yield Change("kpi_target_changed", f"{path}.kpis", f"KPI {_kpi_name(k)} added at {where}"
                         f" (target {_show(k.target)})", None, k)
        else:
            yield from _kpi_fields(f"{path}.kpis[{k.metric}]", where, olds[key], k)
    for key, k in olds.items():
        if key not in news:
            yield Change("kpi_target_changed", f"{path}.kpis", f"KPI {_kpi_name(k)} removed at {where}",
                         k, None)


def _lcs(a: Sequence[str], b: Sequence[str]) -> set[str]:
    """The items of a longest common subsequence of ``a`` and ``b``."""
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) - 1, -1, -1):
        for j in range(len(b) - 1, -1, -1):
            table[i][j] = table[i + 1][j + 1] + 1 if a[i] == b[j] else max(table[i + 1][j], table[i][j + 1])
    out, i, j = set(), 0, 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            out.add(a[i])
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return out


def _stages(old: JourneyMap, new: JourneyMap) -> Iterator[Change]:
    a = {s.id: s for s in old.stages}
    b = {s.id: s for s in new.stages}
    for i, s in enumerate(new.stages):
        if s.id not in a:
            yield Change("stage_added", f"stages[{s.id}]", f'Stage "{s.name}" added at position {i + 1}',
                         None, s.name)
    for s in old.stages:
        if s.id not in b:
            yield Change("stage_removed", f"stages[{s.id}]", f'Stage "{s.name}" removed', s.name, None)
    common_old = [s.id for s in old.stages if s.id in b]
    common_new = [s.id for s in new.stages if s.id in a]
    kept = _lcs(common_old, common_new)
    for sid in common_new:
        if sid not in kept:
            before, after = common_old.index(sid) + 1, common_new.index(sid) + 1
            yield Change("stage_moved", f"stages[{sid}]",
                         f'Stage "{b[sid].name}" moved from position {before} to {after}', before, after)
    for s in new.stages:
        if s.id in a:
            yield from _stage(a[s.id], s)


def _stage(a: Stage, b: Stage) -> Iterator[Change]:
    path = f"stages[{b.id}]"
    if a.name != b.name:
        yield Change("stage_renamed", f"{path}.name", f'Stage "{a.name}" renamed to "{b.name}"', a.name, b.name)
    for f in ("description", "time"):
        if getattr(a, f) != getattr(b, f):
            yield Change("stage_changed", f"{path}.{f}",
                         f'Stage "{b.name}" {f}: {_show(getattr(a, f))} → {_show(getattr(b, f))}',
                         getattr(a, f), getattr(b, f))
    for lane, word in LANE_NAMES.items():
        yield from _cells(f"{path}.lanes.{lane}", f'{word} in "{b.name}"', getattr(a.lanes, lane),
                          getattr(b.lanes, lane))
    for lane in sorted(set(a.lanes.custom) | set(b.lanes.custom)):
        yield from _cells(f"{path}.lanes.custom.{lane}", f'{lane} cell in "{b.name}"',
                          a.lanes.custom.get(lane, []), b.lanes.custom.get(lane, []))
    ea, eb = a.lanes.emotion, b.lanes.emotion
    if (ea.model_dump() if ea else None) != (eb.model_dump() if eb else None):
        yield Change("emotion_changed", f"{path}.lanes.emotion",
                     f'Emotion in "{b.name}": {_emotion(ea)} → {_emotion(eb)}', ea, eb)
    yield from _kpis(f"{path}.lanes", f'"{b.name}"', a.lanes.kpis, b.lanes.kpis)


def _emotion(e: Any) -> str:
    if e is None:
        return "(none)"
    if e.from_data:
        return "from data"
    return f"{e.value:+g}" + (f" {e.label}" if e.label else "")


def _first_up(text: str) -> str:
    return text[:1].upper() + text[1:]


def _cells(path: str, what: str, a: Sequence[Cell], b: Sequence[Cell]) -> Iterator[Change]:
    olds, news = [c.text for c in a], [c.text for c in b]
    gone = [t for t in olds if t not in news]
    came = [t for t in news if t not in olds]
    # a cell edited in place: the new text stands where the old one stood
    for x in list(gone):
        i = olds.index(x)
        y = news[i] if i < len(news) else None
        if y is not None and y in came:
            gone.remove(x)
            came.remove(y)
            yield Change("cell_changed", path, f"{_first_up(what)} changed: “{_show(x)}” → “{_show(y)}”", x, y)
    for t in came:
        yield Change("cell_added", path, f"{_first_up(what)} added: “{_show(t)}”", None, t)
    for t in gone:
        yield Change("cell_removed", path, f"{_first_up(what)} removed: “{_show(t)}”", t, None)
    evidence_a = {c.text: c.evidence for c in a}
    for c in b:
        if c.text in evidence_a and evidence_a[c.text] != c.evidence:
            yield Change("cell_changed", path, f"Evidence of “{_show(c.text)}” ({what}) changed",
                         evidence_a[c.text], c.evidence)


def _placed(jmap: JourneyMap) -> dict[str, tuple[Touchpoint, str]]:
    """Each touchpoint with the stage it is counted in."""
    return {t.id: (t, t.stage or s.id) for s in jmap.stages for t in s.touchpoints}


def _touchpoints(old: JourneyMap, new: JourneyMap) -> Iterator[Change]:
    a, b = _placed(old), _placed(new)
    names_a = {s.id: s.name for s in old.stages}
    names_b = {s.id: s.name for s in new.stages}
    for tid, (t, stage) in b.items():
        if tid not in a:
            yield Change("touchpoint_added", f"touchpoints[{tid}]",
                         f'Touchpoint "{t.name}" added to "{names_b.get(stage, stage)}"', None, t)
            continue
        ot, ostage = a[tid]
        path = f"touchpoints[{tid}]"
        if ostage != stage:
            yield Change("touchpoint_moved", f"{path}.stage",
                         f'Touchpoint "{t.name}" moved from "{names_a.get(ostage, ostage)}" '
                         f'to "{names_b.get(stage, stage)}"', ostage, stage)
        if ot.name != t.name:
            yield Change("touchpoint_renamed", f"{path}.name",
                         f'Touchpoint "{ot.name}" renamed to "{t.name}"', ot.name, t.name)
        if ot.match != t.match:
            yield Change("rule_changed", f"{path}.match",
                         f'Match rule of "{t.name}": {_rule(ot)} → {_rule(t)}', ot.match, t.match)
        for f in ("channel", "owner", "visibility", "description", "submap"):
            x, y = getattr(ot, f), getattr(t, f)
            if x != y:
                yield Change("touchpoint_changed", f"{path}.{f}",
                             f'Touchpoint "{t.name}" {f}: {_show(x)} → {_show(y)}', x, y)
        yield from _kpis(path, f'"{t.name}"', ot.kpis, t.kpis)
    for tid, (t, stage) in a.items():
        if tid not in b:
            yield Change("touchpoint_removed", f"touchpoints[{tid}]",
                         f'Touchpoint "{t.name}" removed from "{names_a.get(stage, stage)}"', t, None)


def _rule(t: Touchpoint) -> str:
    m = t.match
    if m is None:
        return "(none)"
    parts = [f"{k} {v!r}" if k != "where" else f"where {v}"
             for k, v in m.model_dump(exclude_none=True).items()]
    return _show("; ".join(parts))
