"""Read and write journey maps as YAML, with ``file:line: path: message`` errors.

Documents are read with ruamel.yaml's round-trip loader, so every key and list item
keeps its line; pydantic errors are mapped back onto those lines.  Writing drops
defaults and uses the shorthands (a cell as plain text, an emotion as a number, a
match as an event name) so a hand-written map stays readable after a round trip.
"""

from __future__ import annotations

import datetime as dt
import io
import warnings
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, ReusedAnchorWarning, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarstring import LiteralScalarString

from journeymap.errors import MapIssue, MapValidationError
from journeymap.model.checks import CELL_LANES, check_map
from journeymap.model.document import JourneyMap
from journeymap.model.locate import Source, format_path, message_for


def read_yaml(text: str, file: str = "<string>") -> Any:
    """The round-trip tree of ``text``; a syntax error raises :class:`MapValidationError`."""
    try:
        with warnings.catch_warnings():
            # Redefining an anchor is valid YAML 1.2; ruamel only warns about it.
            warnings.simplefilter("ignore", ReusedAnchorWarning)
            return YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise MapValidationError([MapIssue(file, line, "", f"YAML syntax error: {problem}")]) from None
    except ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        message = f"YAML syntax error: character {chr(exc.character)!r} is not allowed"
        raise MapValidationError([MapIssue(file, line, "", message)]) from None
    except YAMLError as exc:
        first = (str(exc).strip().splitlines() or ["invalid YAML"])[0]
        raise MapValidationError([MapIssue(file, None, "", f"YAML syntax error: {first}")]) from None


def parse_map(text: str, file: str = "<string>", *, check: bool = True) -> tuple[JourneyMap, Source]:
    """Validate ``text`` as a map; return it with its :class:`Source` (for line numbers).

    Raises :class:`MapValidationError` listing every syntax, schema and (with
    ``check``) reference problem found inside the document.
    """
    tree = read_yaml(text, file)
    source = Source(file, tree)
    if tree is None:
        raise MapValidationError([MapIssue(file, 1, "", "the document is empty")])
    if not isinstance(tree, dict):
        kind = "a list" if isinstance(tree, list) else "a single value"
        raise MapValidationError([MapIssue(file, source.line(()), "",
                                           f"a map should be a mapping (id: ..., title: ...), not {kind}")])
    try:
        jm = JourneyMap.model_validate(_plain(tree))
    except ValidationError as exc:
        raise MapValidationError(schema_issues(exc, source)) from None
    if check:
        issues = check_map(jm, source)
        if issues:
            raise MapValidationError(issues)
    return jm, source


def schema_issues(exc: ValidationError, source: Source) -> list[MapIssue]:
    """One :class:`MapIssue` per distinct place in a pydantic ``ValidationError``."""
    issues: dict[str, MapIssue] = {}
    for error in exc.errors(include_url=False):
        found, line = source.locate(tuple(error["loc"]))
        path = format_path(found)
        issues.setdefault(path, MapIssue(source.file, line, path, message_for(error)))
    return sorted(issues.values(), key=lambda i: (i.line or 0))


def load_map_quick(text: str, file: str = "<string>") -> JourneyMap:
    """:func:`load_map_text`, several times faster for a valid map: read with the safe
    loader (no line bookkeeping) and, only if anything is wrong, again with the
    round-trip loader so the errors carry their lines (the app validates every save)."""
    try:
        tree = YAML(typ="safe").load(text)
        if isinstance(tree, dict):
            jm = JourneyMap.model_validate(tree)
            if not check_map(jm):
                return jm
    except Exception:  # noqa: BLE001 - any problem: the careful path below reports it
        pass
    return parse_map(text, file)[0]


def load_map_text(text: str, file: str = "<string>") -> JourneyMap:
    """Parse and validate a map from YAML text; ``file`` is used in messages."""
    return parse_map(text, file)[0]


def read_map_file(path: str | Path) -> str:
    """The text of a map file; an unreadable file raises :class:`MapValidationError`."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text (byte {exc.start})"
    except OSError as exc:
        message = f"cannot read the file: {exc.strerror or exc}"
    raise MapValidationError([MapIssue(str(path), None, "", message)])


def load_map(path: str | Path) -> JourneyMap:
    """Load and validate the map in ``path``; raise :class:`MapValidationError` if invalid."""
    return load_map_text(read_map_file(path), str(path))


def _plain(node: Any) -> Any:
    """ruamel's round-trip types as plain Python values (dict, list, str, int, float, ...)."""
    if isinstance(node, dict):
        return {_plain(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, str):
        return str(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, dt.datetime):
        return dt.datetime.fromisoformat(node.isoformat())
    return node


def dump_map(jm: JourneyMap) -> str:
    """The map as YAML: field order of the model, defaults and empty values left out."""
    data = jm.model_dump(mode="python", exclude_defaults=True)
    data = {k: data[k] if k in data else getattr(jm, k)
            for k in JourneyMap.model_fields if k in data or k in ("journeymap", "type")}
    for stage in data.get("stages", []):
        _compact_stage(stage)
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    out = io.StringIO()
    yaml.dump(_yaml_value(data), out)
    return out.getvalue()


def save_map(jm: JourneyMap, path: str | Path) -> None:
    """Write ``jm`` as YAML to ``path`` (UTF-8)."""
    Path(path).write_text(dump_map(jm), encoding="utf-8")


def _compact_stage(stage: dict[str, Any]) -> None:
    for tp in stage.get("touchpoints", []):
        match = tp.get("match")
        if isinstance(match, dict) and list(match) == ["event"]:
            tp["match"] = match["event"]
        elif isinstance(match, dict) and list(match) == ["event_in"] and match["event_in"]:
            tp["match"] = match["event_in"]
    lanes = stage.get("lanes")
    if not lanes:
        return
    for lane in CELL_LANES:
        if lane in lanes:
            lanes[lane] = [_compact_cell(c) for c in lanes[lane]]
    for key, cells in lanes.get("custom", {}).items():
        lanes["custom"][key] = [_compact_cell(c) for c in cells]
    emotion = lanes.get("emotion")
    if emotion == {"from_data": True}:
        lanes["emotion"] = "from_data"
    elif isinstance(emotion, dict) and list(emotion) == ["value"]:
        lanes["emotion"] = emotion["value"]


def _compact_cell(cell: dict[str, Any]) -> Any:
    return cell["text"] if list(cell) == ["text"] else cell


def _yaml_value(value: Any) -> Any:
    if isinstance(value, dict):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = _yaml_value(v)
        return out
    if isinstance(value, (list, tuple)):
        return CommentedSeq(_yaml_value(v) for v in value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, str) and "\n" in value.rstrip("\n") and _literal_safe(value):
        return LiteralScalarString(value)
    return value


def _literal_safe(text: str) -> bool:
    """Whether a multi-line text survives YAML's literal block style unchanged."""
    lines = text.split("\n")
    return (all(line == line.rstrip() for line in lines) and not text.endswith("\n\n")
            and not text.startswith((" ", "\n")) and "\t" not in text and "\r" not in text)
