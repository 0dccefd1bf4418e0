"""Where things are in a YAML map: field paths, line numbers and human messages.

A pydantic error ``loc`` such as ``("stages", 2, "touchpoints", 0, "stage")`` is walked
through the ruamel.yaml round-trip tree (``CommentedMap``/``CommentedSeq`` keep the
line of every key and item) to find the 1-based line, and printed as the readable
path ``stages[2].touchpoints[0].stage``.
"""

from __future__ import annotations

import difflib
import re
import types
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from journeymap.model.document import ID_PATTERN, JourneyMap

Loc = tuple[str | int, ...]
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


def format_path(loc: Loc) -> str:
    """``("stages", 2, "id")`` -> ``stages[2].id``; odd keys are quoted: ``custom['my lane']``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


@dataclass(frozen=True)
class Source:
    """A map's file name and its ruamel.yaml round-trip tree (``None`` when unknown)."""

    file: str
    tree: Any = None

    def locate(self, loc: Loc) -> tuple[Loc, int | None]:
        """The part of ``loc`` present in the document and the line of its deepest node.

        An absent last part that is a field of the model there (a required key left
        out, a validator on a key not given) is kept, with the line of the parent
        mapping.  Other parts absent from the data (pydantic union tags such as
        ``'str'``) are dropped.
        """
        node = self.tree
        line = _node_line(node)
        if line is None:
            return loc, None
        found: list[str | int] = []
        for i, part in enumerate(loc):
            if isinstance(node, CommentedMap) and part in node:
                line = _key_line(node, part, line)
            elif (isinstance(node, CommentedSeq) and isinstance(part, int)
                  and 0 <= part < len(node)):
                line = _item_line(node, part, line)
            else:
                if (i == len(loc) - 1 and isinstance(node, dict)
                        and part in fields_at(tuple(found))):
                    found.append(part)
                break
            found.append(part)
            node = node[part]
        return tuple(found), line

    def line(self, loc: Loc) -> int | None:
        return self.locate(loc)[1]


def _node_line(node: Any) -> int | None:
    if isinstance(node, (CommentedMap, CommentedSeq)):
        return int(node.lc.line) + 1
    return 1 if node is not None else None


def _key_line(node: CommentedMap, key: Any, default: int) -> int:
    try:
        return int(node.lc.key(key)[0]) + 1
    except (KeyError, TypeError, IndexError):
        return default


def _item_line(node: CommentedSeq, index: int, default: int) -> int:
    try:
        return int(node.lc.item(index)[0]) + 1
    except (KeyError, TypeError, IndexError):
        return default


_TYPE_WORDS = {
    "string_type": "should be text",
    "int_type": "should be a whole number",
    "int_parsing": "should be a whole number",
    "int_from_float": "should be a whole number",
    "float_type": "should be a number",
    "float_parsing": "should be a number",
    "bool_type": "should be true or false",
    "bool_parsing": "should be true or false",
    "date_type": "should be a date like 2026-06-30",
    "date_parsing": "should be a date like 2026-06-30",
    "date_from_datetime_parsing": "should be a date like 2026-06-30",
    "date_from_datetime_inexact": "should be a date without a time",
    "list_type": "should be a list",
    "dict_type": "should be a mapping of key: value",
    "model_type": "should be a mapping of key: value",
    "model_attributes_type": "should be a mapping of key: value",
    "missing": "field required",
}


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if value is None:
        return "nothing"
    return "text"


def message_for(error: ErrorDetails) -> str:
    """A short, human message for one pydantic error (no URLs, no class names)."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    loc = tuple(error["loc"])
    if kind == "extra_forbidden":
        key = loc[-1] if loc else "?"
        msg = f"unknown field {str(key)!r}"
        close = difflib.get_close_matches(str(key), fields_at(loc[:-1]), n=1, cutoff=0.6)
        return msg + (f" (did you mean {close[0]!r}?)" if close else "")
    if kind in ("enum", "literal_error"):
        return f"input should be {ctx.get('expected', '?')} (got {value!r})"
    if kind == "string_pattern_mismatch":
        if ctx.get("pattern") == ID_PATTERN:
            return ("should be an id of lowercase letters, digits, '_' and '-', starting "
                    f"with a letter or digit (got {value!r})")
        return f"should match {ctx.get('pattern')!r} (got {value!r})"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length', 1)} item(s)"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error") or error["msg"]).strip()
    if kind in _TYPE_WORDS:
        words = _TYPE_WORDS[kind]
        return words if kind == "missing" else f"{words} (got {_kind(value)})"
    msg = error["msg"]
    return msg[:1].lower() + msg[1:]


def fields_at(loc: Loc) -> list[str]:
    """Field names of the model found at ``loc`` in a :class:`JourneyMap` (for hints)."""
    tp: Any = JourneyMap
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
            field = tp.model_fields.get(part)
            if field is None:
                return []
            tp = field.annotation
        elif get_origin(tp) is list and isinstance(part, int):
            tp = get_args(tp)[0]
        elif get_origin(tp) is dict and isinstance(part, str):
            tp = get_args(tp)[1]
        else:
            return []
    tp = _unwrap(tp)
    return list(tp.model_fields) if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp
