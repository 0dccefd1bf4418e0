"""The Ibis compilation of rules agrees with the reference evaluator, row by row."""

from __future__ import annotations

import json

import ibis
import pytest

from journeymap.engine.rules_ibis import UnknownFieldError, compile_rule, table_resolver
from journeymap.model.rule_eval import evaluate
from journeymap.model.rules import parse_rule

RECORDS = [
    {"id": 1, "segment": "SME", "company_size": 12, "plan": "pro", "country": "DE",
     "properties": {"plan": "pro", "seats": 5, "trial": True, "page": "/pricing"}},
    {"id": 2, "segment": "Enterprise", "company_size": 2400, "plan": "enterprise", "country": "US",
     "properties": {"plan": "enterprise", "seats": 250, "trial": False, "page": "/docs/import"}},
    {"id": 3, "segment": "SME", "company_size": None, "plan": None, "country": "FR",
     "properties": {"seats": 1}},
    {"id": 4, "segment": None, "company_size": 48, "plan": "basic", "country": "DE",
     "properties": {}},
]

RULES = [
    "segment == 'SME'",
    "segment != 'SME'",
    "company_size < 50",
    "company_size >= 50 or segment == 'Enterprise'",
    "segment == 'SME' and company_size < 50",
    "not (segment == 'SME')",
    "country in ['DE', 'FR']",
    "country not in ['DE']",
    "is_null(plan)",
    "plan is not None",
    "contains(plan, 'ent')",
    "startswith(country, 'D')",
    "matches(plan, '^(pro|basic)$')",
    "properties.plan == 'pro'",
    "properties.seats > 10",
    "properties.trial == True",
    "startswith(properties.page, '/docs')",
    "is_null(properties.plan)",
    "1 < company_size <= 48",
]


@pytest.fixture(scope="module")
def table():
    con = ibis.duckdb.connect()
    rows = [{**r, "properties": json.dumps(r["properties"])} for r in RECORDS]
    con.raw_sql(
        "CREATE TABLE t (id INT, segment VARCHAR, company_size BIGINT, plan VARCHAR, "
        "country VARCHAR, properties JSON)"
    )
    for r in rows:
        con.con.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
                        [r["id"], r["segment"], r["company_size"], r["plan"], r["country"], r["properties"]])
    return con.table("t")


@pytest.mark.parametrize("text", RULES)
def test_compiled_rule_selects_what_the_reference_evaluator_selects(table, text):
    rule = parse_rule(text)
    got = sorted(table.filter(compile_rule(rule, table_resolver(table))).id.to_pyarrow().to_pylist())
    expected = sorted(r["id"] for r in RECORDS if evaluate(rule, r))
    assert got == expected


def test_unknown_field_is_a_clear_error(table):
    with pytest.raises(UnknownFieldError, match="unknown field 'industry'"):
        compile_rule(parse_rule("industry == 'retail'"), table_resolver(table))
