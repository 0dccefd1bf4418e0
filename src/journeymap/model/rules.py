"""A small, safe rule language for ``persona.segment`` and touchpoint ``match.where``.

Rules look like Python and are parsed with :func:`ast.parse` against a strict
whitelist; they are never evaluated by Python and never pasted into SQL.  The engine
compiles the node tree below to Ibis expressions.

Grammar (informally)::

    rule    := rule 'and' rule | rule 'or' rule | 'not' rule | '(' rule ')'
             | field OP literal            OP: == != < <= > >=  (chains: 1 < x <= 5)
             | field ['not'] 'in' [literal, ...]
             | field 'is' ['not'] None     (same as is_null(field) / not is_null(field))
             | contains(field, 'text') | startswith(field, 'text')
             | matches(field, 'regex') | is_null(field)
    field   := name ('.' name)*            e.g. plan, properties.plan
    literal := 'text' | 12 | -3.5 | True | False | None   (true/false/null also accepted)

Node tree (all frozen dataclasses; ``Node`` is their union):

* :class:`Field` ``(path)`` — a dotted column reference: ``("properties", "plan")``.
* :class:`Compare` ``(field, op, value)`` — ``op`` is one of :data:`COMPARE_OPS`;
  for ``in``/``not in`` the value is a tuple of scalars, otherwise a scalar
  (never ``None``: ``x == None`` becomes ``is_null(x)``).  The field is always on the
  left: ``5 < x`` is stored as ``x > 5``.
* :class:`Call` ``(name, field, arg)`` — ``name`` in :data:`FUNCTIONS`; ``arg`` is the
  string argument (``None`` for ``is_null``).  ``matches`` uses :func:`re.search`
  semantics: the pattern may match anywhere; anchor it with ``^…$``.

:func:`journeymap.model.rule_eval.evaluate` gives the reference semantics in Python.
* :class:`And` / :class:`Or` ``(items)`` — two or more operands, flattened.
* :class:`Not` ``(item)``.

Null semantics are SQL's: a comparison or function (other than ``is_null``) on a
missing or null value is *unknown*; ``and``/``or``/``not`` use three-valued logic and a
rule whose result is unknown does not hold.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from typing import Union

from journeymap.errors import JourneymapError

Scalar = Union[str, int, float, bool]
Value = Union[Scalar, tuple[Scalar, ...]]

COMPARE_OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in")
FUNCTIONS = ("contains", "startswith", "matches", "is_null")
MAX_RULE_LENGTH = 4000

_AST_OPS: dict[type, str] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
    ast.GtE: ">=", ast.In: "in", ast.NotIn: "not in",
}
_FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_LITERAL_NAMES: dict[str, Scalar | None] = {
    "True": True, "False": False, "None": None, "true": True, "false": False, "null": None,
}
_DANGLING = ("and", "or", "not", "in", "is")
_INSIGNIFICANT = (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.COMMENT,
                  tokenize.INDENT, tokenize.DEDENT)
_DESCRIBE: dict[type, str] = {
    ast.Call: "a function call", ast.Attribute: "an attribute", ast.Subscript: "a subscript",
    ast.Lambda: "a lambda", ast.BinOp: "arithmetic", ast.NamedExpr: "':='",
    ast.IfExp: "'if ... else'", ast.ListComp: "a comprehension",
    ast.GeneratorExp: "a comprehension", ast.DictComp: "a comprehension",
    ast.SetComp: "a comprehension", ast.JoinedStr: "an f-string", ast.Dict: "a dict",
    ast.Starred: "'*'", ast.Await: "'await'",
}


class RuleError(JourneymapError, ValueError):
    """A rule cannot be parsed.  ``column`` is 1-based within the rule text.

    It is also a :class:`ValueError`, so pydantic reports it as a field error.
    """

    def __init__(self, message: str, *, text: str = "", column: int | None = None):
        self.text, self.column, self.reason = text, column, message
        where = f" (column {column})" if column is not None else ""
        super().__init__(f"invalid rule: {message}{where}")


@dataclass(frozen=True)
class Field:
    path: tuple[str, ...]

    def __str__(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Compare:
    field: Field
    op: str
    value: Value


@dataclass(frozen=True)
class Call:
    name: str
    field: Field
    arg: str | None = None


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Union[Compare, Call, And, Or, Not]


@dataclass(frozen=True)
class Rule:
    """A parsed rule: its source ``text`` and the ``node`` tree."""

    text: str
    node: Node

    def fields(self) -> tuple[tuple[str, ...], ...]:
        """Field paths the rule refers to, in order of first appearance."""
        seen: dict[tuple[str, ...], None] = {}
        stack: list[Node] = [self.node]
        while stack:
            node = stack.pop()
            if isinstance(node, (Compare, Call)):
                seen.setdefault(node.field.path)
            elif isinstance(node, Not):
                stack.append(node.item)
            else:
                stack.extend(reversed(node.items))
        return tuple(seen)


def parse_rule(text: str) -> Rule:
    """Parse ``text`` into a :class:`Rule`; raise :class:`RuleError` if it is not one."""
    if not isinstance(text, str):
        raise RuleError(f"a rule must be text, not {type(text).__name__}")
    if not text.strip():
        raise RuleError("the rule is empty", text=text)
    if len(text) > MAX_RULE_LENGTH:
        raise RuleError(f"the rule is longer than {MAX_RULE_LENGTH} characters", text=text)
    if "\x00" in text:
        raise RuleError("the rule contains a NUL character", text=text, column=text.index("\x00") + 1)
    flat = text.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    try:
        tree = ast.parse(flat.strip(), mode="eval")
    except SyntaxError as exc:
        raise _syntax_error(flat, exc) from None
    except (ValueError, OverflowError, RecursionError, MemoryError):
        raise RuleError("the rule cannot be read", text=text) from None
    offset = len(flat) - len(flat.lstrip())
    try:
        node = _Parser(flat, offset).rule(tree.body)
    except RecursionError:
        raise RuleError("the rule is nested too deeply", text=text) from None
    return Rule(text=text, node=node)


def _syntax_error(text: str, exc: SyntaxError) -> RuleError:
    lone_eq, last = _scan_tokens(text)
    if lone_eq is not None:
        return RuleError("use '==' to compare, not '='", text=text, column=lone_eq + 1)
    if last is not None and (last.string in _DANGLING or (
            last.type == tokenize.OP and last.string not in (")", "]", "}"))):
        return RuleError(f"the rule ends after {last.string!r}; something is missing",
                         text=text, column=last.start[1] + 1)
    offset = len(text) - len(text.lstrip())
    end = len(text.rstrip()) + 1
    column = min(max((exc.offset or 0) + offset, 1), end)
    reason = (exc.msg or "invalid syntax").split(". ")[0]
    if column == end:
        return RuleError("the rule ends too early", text=text, column=column)
    if column <= len(text):
        near = text[column - 1:column + 11].strip()
        if near:
            reason += f" near {near!r}"
    return RuleError(reason, text=text, column=column)


def _scan_tokens(text: str) -> tuple[int | None, tokenize.TokenInfo | None]:
    """Offset of a lone ``=`` outside string literals, and the last significant token."""
    lone_eq, last = None, None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.OP and tok.string == "=" and lone_eq is None:
                lone_eq = tok.start[1]
            if tok.type not in _INSIGNIFICANT:
                last = tok
    except (tokenize.TokenError, SyntaxError, ValueError):
        return lone_eq, None
    return lone_eq, last


class _Parser:
    """Translate a whitelisted Python expression AST into rule nodes."""

    def __init__(self, text: str, offset: int):
        self.text, self.offset = text, offset

    def fail(self, message: str, node: ast.AST) -> RuleError:
        col_bytes = getattr(node, "col_offset", None)
        column = None
        if col_bytes is not None:
            stripped = self.text[self.offset:]
            column = len(stripped.encode()[:col_bytes].decode(errors="ignore")) + self.offset + 1
        return RuleError(message, text=self.text, column=column)

    def rule(self, node: ast.expr) -> Node:
        if isinstance(node, ast.BoolOp):
            items = tuple(self.rule(v) for v in node.values)
            cls = And if isinstance(node.op, ast.And) else Or
            flat: list[Node] = []
            for item in items:
                flat.extend(item.items if isinstance(item, cls) else (item,))
            return cls(tuple(flat))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return Not(self.rule(node.operand))
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, (ast.Name, ast.Attribute)) and self.is_field(node):
            name = ".".join(self.field(node).path)
            raise self.fail(f"'{name}' alone is not a condition; compare it, e.g. "
                            f"{name} == True", node)
        raise self.fail(f"{self.describe(node)} is not a condition", node)

    def compare(self, node: ast.Compare) -> Node:
        operands = [node.left, *node.comparators]
        parts: list[Node] = []
        for i, ast_op in enumerate(node.ops):
            op = _AST_OPS.get(type(ast_op))
            left, right = operands[i], operands[i + 1]
            if isinstance(ast_op, (ast.Is, ast.IsNot)):
                if not self.is_null_literal(right):
                    raise self.fail("'is' only compares with None; use '=='", right)
                op = "==" if isinstance(ast_op, ast.Is) else "!="
                right = ast.Constant(value=None)
            if op is None:
                raise self.fail("unsupported comparison", node)
            parts.append(self.comparison(left, op, right))
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def comparison(self, left: ast.expr, op: str, right: ast.expr) -> Node:
        if op in ("in", "not in"):
            if not self.is_field(left):
                hint = (f"; to test a list or text field write contains(field, {ast.unparse(left)})"
                        if isinstance(left, ast.Constant) else "")
                raise self.fail(f"the left side of '{op}' must be a field name{hint}", left)
            return Compare(self.field(left), op, self.literal_list(right))
        if self.is_field(left) and not self.is_field(right):
            field, value_node = self.field(left), right
        elif self.is_field(right) and not self.is_field(left):
            field, value_node, op = self.field(right), left, _FLIPPED[op]
        elif self.is_field(left):
            raise self.fail("compare a field with a literal value, not with another field", right)
        else:
            bad = right if isinstance(left, ast.Constant) else left
            raise self.fail(f"{self.describe(bad)} is not a field name; one side of a "
                            "comparison must be a field", bad)
        value = self.scalar(value_node)
        if value is None:
            if op not in ("==", "!="):
                raise self.fail(f"cannot use '{op}' with None", value_node)
            null = Call("is_null", field)
            return null if op == "==" else Not(null)
        if isinstance(value, bool) and op not in ("==", "!="):
            raise self.fail(f"cannot use '{op}' with True/False", value_node)
        return Compare(field, op, value)

    def call(self, node: ast.Call) -> Node:
        if not isinstance(node.func, ast.Name):
            raise self.fail(f"only the functions {', '.join(FUNCTIONS)} can be called", node.func)
        name = node.func.id
        if name not in FUNCTIONS:
            raise self.fail(f"unknown function '{name}'; use one of {', '.join(FUNCTIONS)}", node.func)
        if node.keywords:
            raise self.fail(f"{name}() takes no keyword arguments", node.keywords[0].value)
        want = 1 if name == "is_null" else 2
        if len(node.args) != want:
            shape = f"{name}(field)" if want == 1 else f"{name}(field, 'text')"
            raise self.fail(f"{name}() takes {want} argument{'s' if want > 1 else ''}: {shape}", node)
        if not self.is_field(node.args[0]):
            raise self.fail(f"the first argument of {name}() must be a field name", node.args[0])
        field = self.field(node.args[0])
        if want == 1:
            return Call(name, field)
        arg = node.args[1]
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            raise self.fail(f"the second argument of {name}() must be a quoted string", arg)
        if name == "matches":
            try:
                re.compile(arg.value)
            except (re.error, RecursionError, OverflowError) as exc:
                raise self.fail(f"invalid regex: {exc}", arg) from None
        return Call(name, field, arg.value)

    def is_field(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id not in _LITERAL_NAMES
        return isinstance(node, ast.Attribute) and self.is_field(node.value)

    def field(self, node: ast.expr) -> Field:
        path: list[str] = []
        while isinstance(node, ast.Attribute):
            path.append(node.attr)
            node = node.value
        assert isinstance(node, ast.Name)
        path.append(node.id)
        path.reverse()
        for part in path:
            if part.startswith("__"):
                raise self.fail(f"field names cannot start with '__': {part!r}", node)
        return Field(tuple(path))

    def is_null_literal(self, node: ast.expr) -> bool:
        return (isinstance(node, ast.Constant) and node.value is None) or (
            isinstance(node, ast.Name) and node.id in ("None", "null"))

    def scalar(self, node: ast.expr) -> Scalar | None:
        if isinstance(node, ast.Name) and node.id in _LITERAL_NAMES:
            return _LITERAL_NAMES[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = node.operand
            if (isinstance(inner, ast.Constant) and isinstance(inner.value, (int, float))
                    and not isinstance(inner.value, bool)):
                return -inner.value if isinstance(node.op, ast.USub) else inner.value
        if isinstance(node, ast.Constant):
            value = node.value
            if value is None or isinstance(value, (str, int, float)):
                return value
            raise self.fail(f"unsupported literal {ast.unparse(node)}", node)
        raise self.fail(f"{self.describe(node)} is not allowed here; use a literal value", node)

    def literal_list(self, node: ast.expr) -> tuple[Scalar, ...]:
        if not isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            raise self.fail("'in' needs a list of values, e.g. plan in ['pro', 'team']", node)
        values: list[Scalar] = []
        for element in node.elts:
            value = self.scalar(element)
            if value is None:
                raise self.fail("None cannot be in a list; use is_null(field)", element)
            values.append(value)
        return tuple(values)

    def describe(self, node: ast.AST) -> str:
        if isinstance(node, ast.Constant):
            return f"the literal {ast.unparse(node)}"
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return "a list"
        return _DESCRIBE.get(type(node), f"'{ast.unparse(node)[:20]}'")

