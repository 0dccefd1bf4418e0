"""Validate a set of map files: syntax, schema, references inside and across maps.

:func:`validate_paths` is what ``journeymap validate MAP...`` runs.  It reads every
file (one broken file does not hide the problems of the next), checks each map on its
own (:func:`journeymap.model.checks.check_map`) and then across maps: ``improves``
and ``submap`` must name a map that exists, map ids must be unique, and a future-state
map should improve a current-state map.  Map ids are resolved among the given files
and the other ``*.yaml``/``*.yml`` files in their folders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from journeymap.errors import MapIssue, MapValidationError
from journeymap.model.checks import check_map, issue
from journeymap.model.document import JourneyMap, MapType
from journeymap.model.locate import Source
from journeymap.model.yamlio import parse_map, read_map_file, read_yaml


@dataclass(frozen=True)
class KnownMap:
    """A map file found among the given paths or beside them: its id and type."""

    id: str
    type: str | None
    file: Path


@dataclass(frozen=True)
class LoadedMap:
    """A map that passed schema validation, with where it came from."""

    map: JourneyMap
    source: Source
    file: Path


def validate_paths(paths: Sequence[str | Path]) -> list[MapIssue]:
    """Every problem in the map files ``paths``, in file order then line order."""
    files = [Path(p) for p in paths]
    issues: list[MapIssue] = []
    loaded: list[LoadedMap] = []
    for file in files:
        try:
            jm, source = parse_map(read_map_file(file), str(file), check=False)
        except MapValidationError as exc:
            issues.extend(exc.issues)
            continue
        issues.extend(check_map(jm, source))
        loaded.append(LoadedMap(jm, source, file))
    known = known_maps(files)
    for doc in loaded:
        issues.extend(check_references(doc, known))
    order = {str(f): i for i, f in enumerate(files)}
    return sorted(issues, key=lambda i: (order.get(i.file, len(order)), i.line or 0))


validate_maps = validate_paths


def known_maps(files: Sequence[Path]) -> dict[str, list[KnownMap]]:
    """Map id -> the files declaring it, among ``files`` and the YAML files beside them."""
    candidates: dict[Path, Path] = {}
    for file in files:
        candidates.setdefault(_key(file), file)
    for folder in dict.fromkeys(f.parent for f in files):
        for sibling in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            candidates.setdefault(_key(sibling), sibling)
    index: dict[str, list[KnownMap]] = {}
    for file in candidates.values():
        found = _peek(file)
        if found is not None:
            index.setdefault(found.id, []).append(found)
    return index


def check_references(doc: LoadedMap, known: dict[str, list[KnownMap]]) -> list[MapIssue]:
    """Cross-document problems of one loaded map, given the known maps."""
    jm, src = doc.map, doc.source
    issues: list[MapIssue] = []
    others = [k for k in known.get(jm.id, []) if _key(k.file) != _key(doc.file)]
    if others:
        names = ", ".join(str(k.file) for k in others)
        issues.append(issue(src, ("id",), f"duplicate map id {jm.id!r} (also in {names})"))
    if jm.improves is not None:
        issues.extend(_check_improves(doc, known))
    for i, stage in enumerate(jm.stages):
        for j, tp in enumerate(stage.touchpoints):
            if tp.submap is not None and not _submap_exists(tp.submap, doc.file, known):
                issues.append(issue(src, ("stages", i, "touchpoints", j, "submap"),
                                    f"unknown submap {tp.submap!r}: no such file or map id"))
    return issues


def _check_improves(doc: LoadedMap, known: dict[str, list[KnownMap]]) -> list[MapIssue]:
    jm, target = doc.map, doc.map.improves
    if target == jm.id:
        return [issue(doc.source, ("improves",), "a map cannot improve itself")]
    found = known.get(target or "", [])
    if not found:
        return [issue(doc.source, ("improves",), f"unknown map {target!r}")]
    kind = found[0].type
    if jm.type == MapType.future_state and kind != MapType.current_state.value:
        return [issue(doc.source, ("improves",),
                      f"improves {target!r}, a {kind or 'untyped'} map; a future_state map "
                      "should improve a current_state map")]
    return []


def _submap_exists(ref: str, file: Path, known: dict[str, list[KnownMap]]) -> bool:
    if ref in known:
        return True
    looks_like_path = ref.endswith((".yaml", ".yml")) or "/" in ref or "\\" in ref
    return looks_like_path and (file.parent / ref).is_file()


def _peek(file: Path) -> KnownMap | None:
    """The id and type of a map file, leniently (the file may be invalid)."""
    try:
        tree = read_yaml(read_map_file(file), str(file))
    except MapValidationError:
        return None
    if not isinstance(tree, dict) or not isinstance(tree.get("id"), str):
        return None
    kind = tree.get("type", MapType.current_state.value)
    return KnownMap(str(tree["id"]), kind if isinstance(kind, str) else None, file)


def _key(file: Path) -> Path:
    try:
        return file.resolve()
    except OSError:
        return file.absolute()
