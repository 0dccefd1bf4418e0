"""Compile the map's rule language (journeymap.model.rules) to Ibis expressions.

The rule tree is never turned into SQL text: each node becomes an Ibis expression,
so values travel as literals/parameters and the same code runs on every backend.
"""

from __future__ import annotations

from collections.abc import Callable

import ibis
import ibis.expr.types as ir

from journeymap.errors import JourneymapError
from journeymap.model.rules import And, Call, Compare, Field, Node, Not, Or, Rule, Scalar

FieldResolver = Callable[[Field, "Scalar | tuple[Scalar, ...] | None"], ir.Value]


class UnknownFieldError(JourneymapError):
    """A rule names a field the data does not have."""


def table_resolver(table: ir.Table, *, json_column: str | None = "properties") -> FieldResolver:
    """Resolve ``name`` to a column and ``properties.key`` to a typed JSON lookup.

    The JSON value is read as the type of the literal it is compared with (text,
    number or boolean), so ``properties.seats > 10`` compares numbers.
    """
    columns = set(table.columns)

    def resolve(field: Field, like: Scalar | tuple[Scalar, ...] | None) -> ir.Value:
        head, *rest = field.path
        if not rest:
            if head not in columns:
                raise UnknownFieldError(
                    f"unknown field '{field}' (known: {', '.join(sorted(c for c in columns if not c.startswith('_')))})"
                )
            return table[head]
        if head == json_column and json_column in columns:
            value: ir.Value = table[json_column]
            if value.type().is_string():  # JSON kept as text (Spark): read it as JSON
                value = value.cast("json")
            for key in rest:
                value = value[key]  # type: ignore[index]
            sample = like[0] if isinstance(like, tuple) and like else like
            if isinstance(sample, bool):
                return value.bool  # type: ignore[attr-defined,no-any-return]
            if isinstance(sample, (int, float)):
                return value.float  # type: ignore[attr-defined,no-any-return]
            return value.str  # type: ignore[attr-defined,no-any-return]
        raise UnknownFieldError(f"unknown field '{field}'")

    return resolve


def compile_rule(rule: Rule | Node, resolve: FieldResolver) -> ir.BooleanValue:
    """An Ibis boolean expression that holds where the rule holds (null → false)."""
    node = rule.node if isinstance(rule, Rule) else rule
    return _compile(node, resolve).fill_null(False)


def _compile(node: Node, resolve: FieldResolver) -> ir.BooleanValue:
    if isinstance(node, And):
        out = _compile(node.items[0], resolve)
        for item in node.items[1:]:
            out = out & _compile(item, resolve)
        return out
    if isinstance(node, Or):
        out = _compile(node.items[0], resolve)
        for item in node.items[1:]:
            out = out | _compile(item, resolve)
        return out
    if isinstance(node, Not):
        return ~_compile(node.item, resolve)
    if isinstance(node, Compare):
        return _compare(node, resolve)
    return _call(node, resolve)


def _compare(node: Compare, resolve: FieldResolver) -> ir.BooleanValue:
    col = resolve(node.field, node.value)
    value = node.value
    if node.op in ("in", "not in"):
        assert isinstance(value, tuple)
        expr = col.isin(list(value))
        return ~expr if node.op == "not in" else expr
    lit = ibis.literal(value)
    ops = {
        "==": col.__eq__, "!=": col.__ne__, "<": col.__lt__,
        "<=": col.__le__, ">": col.__gt__, ">=": col.__ge__,
    }
    return ops[node.op](lit)  # type: ignore[no-any-return]


def _call(node: Call, resolve: FieldResolver) -> ir.BooleanValue:
    col = resolve(node.field, node.arg if node.name != "is_null" else None)
    if node.name == "is_null":
        return col.isnull()
    text = col.cast("string")
    arg = node.arg or ""
    if node.name == "contains":
        return text.contains(arg)
    if node.name == "startswith":
        return text.startswith(arg)
    return text.re_search(arg)
