"""Reference semantics of rules in pure Python (for tests and small data).

The engine compiles rules to Ibis; this evaluator says what they mean, with SQL's
three-valued logic: a comparison on a missing or null value is unknown, ``not`` of
unknown is unknown, and a rule whose result is unknown does not hold.
"""

from __future__ import annotations

import json
import re

from journeymap.model.rules import And, Call, Node, Not, Or, Rule, Value, parse_rule

__all__ = ["evaluate"]


def evaluate(rule: Rule | str, record: dict[str, object]) -> bool:
    """Whether ``record`` satisfies ``rule``, in pure Python (for tests and small data).

    Dotted fields walk nested mappings (a JSON text is decoded on the way); a flat key
    ``"properties.plan"`` is used when present.  Unknown results count as False.
    """
    parsed = parse_rule(rule) if isinstance(rule, str) else rule
    return _eval(parsed.node, record) is True


def _lookup(record: dict[str, object], path: tuple[str, ...]) -> object:
    dotted = ".".join(path)
    if dotted in record:
        return record[dotted]
    value: object = record
    for part in path:
        if isinstance(value, str) and value.lstrip().startswith("{"):
            try:
                value = json.loads(value)
            except ValueError:
                return None
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _eval(node: Node, record: dict[str, object]) -> bool | None:
    if isinstance(node, And):
        results = [_eval(item, record) for item in node.items]
        return False if False in results else (None if None in results else True)
    if isinstance(node, Or):
        results = [_eval(item, record) for item in node.items]
        return True if True in results else (None if None in results else False)
    if isinstance(node, Not):
        inner = _eval(node.item, record)
        return None if inner is None else not inner
    value = _lookup(record, node.field.path)
    if isinstance(node, Call):
        return _call(node, value)
    if value is None:
        return None
    return _compare(value, node.op, node.value)


def _call(node: Call, value: object) -> bool | None:
    if node.name == "is_null":
        return value is None
    assert node.arg is not None
    if node.name == "contains" and isinstance(value, (list, tuple)):
        return node.arg in value
    if not isinstance(value, str):
        return None
    if node.name == "contains":
        return node.arg in value
    if node.name == "startswith":
        return value.startswith(node.arg)
    return re.search(node.arg, value) is not None


def _compare(value: object, op: str, expected: Value) -> bool | None:
    if op == "in":
        return value in expected  # type: ignore[operator]
    if op == "not in":
        return value not in expected  # type: ignore[operator]
    if op == "==":
        return bool(value == expected)
    if op == "!=":
        return bool(value != expected)
    try:
        if op == "<":
            return bool(value < expected)  # type: ignore[operator]
        if op == "<=":
            return bool(value <= expected)  # type: ignore[operator]
        if op == ">":
            return bool(value > expected)  # type: ignore[operator]
        return bool(value >= expected)  # type: ignore[operator]
    except TypeError:
        return None
