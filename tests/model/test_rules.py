"""The rule language: what it accepts, what it rejects, and what it means."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeymap.errors import JourneymapError
from journeymap.model import RuleError, evaluate, parse_rule
from journeymap.model.rules import And, Call, Compare, Field, Not, Or


def f(*path: str) -> Field:
    return Field(tuple(path))


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("plan == 'pro'", Compare(f("plan"), "==", "pro")),
        ("properties.plan != \"team\"", Compare(f("properties", "plan"), "!=", "team")),
        ("company_size < 50", Compare(f("company_size"), "<", 50)),
        ("score >= -1.5", Compare(f("score"), ">=", -1.5)),
        ("50 > company_size", Compare(f("company_size"), "<", 50)),
        ("is_trial == True", Compare(f("is_trial"), "==", True)),
        ("is_trial == false", Compare(f("is_trial"), "==", False)),
        ("plan in ['pro', 'team']", Compare(f("plan"), "in", ("pro", "team"))),
        ("plan not in ('free',)", Compare(f("plan"), "not in", ("free",))),
        ("tier in [1, 2]", Compare(f("tier"), "in", (1, 2))),
        ("1 <= seats <= 10",
         And((Compare(f("seats"), ">=", 1), Compare(f("seats"), "<=", 10)))),
        ("a == 1 and b == 2 and c == 3",
         And((Compare(f("a"), "==", 1), Compare(f("b"), "==", 2), Compare(f("c"), "==", 3)))),
        ("a == 1 or (b == 2 or c == 3)",
         Or((Compare(f("a"), "==", 1), Compare(f("b"), "==", 2), Compare(f("c"), "==", 3)))),
        ("not plan == 'pro'", Not(Compare(f("plan"), "==", "pro"))),
        ("contains(properties.template, 'dunning')",
         Call("contains", f("properties", "template"), "dunning")),
        ("startswith(path, '/help')", Call("startswith", f("path"), "/help")),
        ("matches(event, '^invoice_(sent|paid)$')",
         Call("matches", f("event"), "^invoice_(sent|paid)$")),
        ("is_null(session_id)", Call("is_null", f("session_id"))),
        ("session_id is None", Call("is_null", f("session_id"))),
        ("session_id is not None", Not(Call("is_null", f("session_id")))),
        ("session_id == null", Call("is_null", f("session_id"))),
        ("  plan == 'pro'\n  and seats > 2  ",
         And((Compare(f("plan"), "==", "pro"), Compare(f("seats"), ">", 2)))),
    ],
)
def test_parse_accepts(text: str, node: object) -> None:
    rule = parse_rule(text)
    assert rule.node == node
    assert rule.text == text


def test_fields_in_order_of_appearance() -> None:
    rule = parse_rule("segment == 'SME' and (properties.plan in ['a'] or not is_null(segment))")
    assert rule.fields() == (("segment",), ("properties", "plan"))


def test_nodes_are_immutable() -> None:
    rule = parse_rule("plan == 'pro'")
    with pytest.raises(AttributeError):
        rule.node.op = "!="  # type: ignore[misc, union-attr]
    assert hash(rule) == hash(parse_rule("plan == 'pro'"))


@pytest.mark.parametrize(
    ("text", "fragment", "column"),
    [
        ("plan = 'pro'", "use '==' to compare, not '='", 6),
        ("__import__('os')", "unknown function '__import__'", 1),
        ("__import__('os').system('ls') == 0", "", 1),
        ("plan.lower() == 'pro'", "a function call is not a field name", 1),
        ("plan.lower()", "only the functions", 1),
        ("lambda: True", "a lambda is not a condition", 1),
        ("x[0] == 1", "a subscript is not a field name", 1),
        ("properties['plan'] == 'pro'", "a subscript is not a field name", 1),
        ("x.__class__ == 1", "field names cannot start with '__'", 1),
        ("plan == 'pro' and", "the rule ends after 'and'", 15),
        ("plan == other_plan", "not with another field", 9),
        ("'pro' in tags", "contains(field, 'pro')", 1),
        ("plan in 'pro'", "'in' needs a list", 9),
        ("seats + 1 > 2", "arithmetic is not a field name", 1),
        ("seats > 2 if x else y", "'if ... else' is not a condition", 1),
        ("plan", "'plan' alone is not a condition", 1),
        ("True", "the literal True is not a condition", 1),
        ("plan == f'{x}'", "an f-string is not allowed", 9),
        ("plan == [x for x in y]", "a comprehension is not allowed", 9),
        ("contains(plan)", "contains() takes 2 arguments", 1),
        ("contains(plan, 1)", "must be a quoted string", 16),
        ("is_null(plan, 'x')", "is_null() takes 1 argument", 1),
        ("contains(plan, x='y')", "takes no keyword arguments", 18),
        ("matches(plan, '(')", "invalid regex", 15),
        ("seats < True", "cannot use '<' with True/False", 9),
        ("seats < None", "cannot use '<' with None", 9),
        ("plan in ['a', None]", "None cannot be in a list", 15),
        ("(plan == 'pro'", "'(' was never closed", 1),
        ("plan == b'pro'", "unsupported literal", 9),
        ("", "the rule is empty", None),
        ("a == 1\x00", "NUL", 7),
        ("x" * 5000, "longer than", None),
        ("(" * 300 + "a == 1" + ")" * 300, "", None),
        ("(x := 1) == 1", "':=' is not a field name", 2),
    ],
)
def test_parse_rejects(text: str, fragment: str, column: int | None) -> None:
    with pytest.raises(RuleError) as info:
        parse_rule(text)
    error = info.value
    assert isinstance(error, JourneymapError)
    assert fragment in str(error)
    assert "\n" not in str(error)
    if column is not None:
        assert error.column == column
        assert f"(column {column})" in str(error)


@pytest.mark.parametrize(
    ("rule", "record", "expected"),
    [
        ("plan == 'pro'", {"plan": "pro"}, True),
        ("plan == 'pro'", {"plan": "team"}, False),
        ("company_size < 50", {"company_size": 12}, True),
        ("company_size < 50", {"company_size": "12"}, False),  # type mismatch: unknown
        ("properties.plan in ['pro', 'team']", {"properties": {"plan": "team"}}, True),
        ("properties.plan == 'pro'", {"properties": '{"plan": "pro"}'}, True),
        ("properties.plan == 'pro'", {"properties.plan": "pro"}, True),
        ("contains(tags, 'vip')", {"tags": ["new", "vip"]}, True),
        ("contains(name, 'GmbH')", {"name": "Acme GmbH"}, True),
        ("startswith(path, '/help')", {"path": "/help/export"}, True),
        ("matches(event, 'sent$')", {"event": "invoice_sent"}, True),
        ("matches(event, '^sent')", {"event": "invoice_sent"}, False),
        ("is_null(session_id)", {}, True),
        ("is_null(session_id)", {"session_id": "s1"}, False),
        ("1 <= seats <= 10", {"seats": 10}, True),
        ("1 <= seats <= 10", {"seats": 11}, False),
        # SQL null semantics: unknown never holds, not even under `not` or `!=`.
        ("plan != 'pro'", {}, False),
        ("plan != 'pro'", {"plan": None}, False),
        ("not plan == 'pro'", {}, False),
        ("plan not in ['pro']", {}, False),
        ("contains(name, 'x')", {}, False),
        ("plan == 'pro' or seats > 2", {"seats": 3}, True),
        ("not (plan == 'pro' and seats > 2)", {"seats": 1}, True),
        ("not (plan == 'pro' and seats > 2)", {"seats": 3}, False),
        ("is_trial == True", {"is_trial": True}, True),
    ],
)
def test_evaluate(rule: str, record: dict[str, object], expected: bool) -> None:
    assert evaluate(parse_rule(rule), record) is expected
    assert evaluate(rule, record) is expected


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=80))
def test_parse_rule_only_raises_rule_error(text: str) -> None:
    try:
        parse_rule(text)
    except RuleError:
        pass


_ATOMS = st.sampled_from(["plan", "properties.plan", "==", "!=", "<", "in", "not", "and",
                          "or", "(", ")", "[", "]", ",", "'pro'", "1", "-2.5", "None",
                          "True", "contains", "is_null", "matches", "=", ".", "__x", "'('"])


@settings(max_examples=400, deadline=None)
@given(st.lists(_ATOMS, max_size=12).map(" ".join))
def test_parse_rule_on_rule_like_text(text: str) -> None:
    try:
        rule = parse_rule(text)
    except RuleError:
        return
    assert evaluate(rule, {"plan": "pro", "properties": {"plan": "pro"}}) in (True, False)
