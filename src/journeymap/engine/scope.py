"""The scope of an analysis, for every section: the persona's customers (one selection,
one notice-and-fallback policy), their events, the event dictionary, the tables that may
be missing, and how a moment is written.

A map's ``persona.segment`` is a rule on customer attributes (``plan == 'pro'``).  A
map is often written before its data is loaded — a fresh template, a workspace with
only events — so the rule may name attributes the store does not have yet.  That is
not an error: every section (the journeys, coverage, feedback, CLV, attribution, goal,
emotion, themes) then covers all customers and says why, in the same words
(:func:`persona_selection`'s ``notice``).  A ``--segment`` rule the user types is
different: an unknown field there is the user's error
(:func:`journeymap.engine.journeys.customers_matching`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
from ibis.common.exceptions import TableNotFound

from journeymap.engine.fetch import rows as fetch_rows
from journeymap.engine.rules_ibis import compile_rule, table_resolver
from journeymap.model.document import JourneyMap
from journeymap.model.rules import parse_rule

#: columns of the customers table that are not attributes
NOT_ATTRIBUTES = ("customer_id",)


@dataclass(frozen=True)
class PersonaSelection:
    """Whom the persona's rule selects.  ``customers`` (a ``customer_id`` table) is None
    for everyone: no rule, or a rule this data cannot answer yet — then ``notice`` says
    which attributes are missing."""

    rule: str | None = None  # the rule applied (None: none)
    customers: ir.Table | None = None
    notice: str | None = None


def rule_fields(rule: str) -> list[str]:
    """The fields a rule reads, dotted, in order of first appearance."""
    return [".".join(f) for f in parse_rule(rule).fields()]


def persona_attribute(jmap: JourneyMap) -> str | None:
    """The customer attribute the persona's segment rule reads, when it reads one: the
    attribute the per-segment breakdowns (segments, feedback, CLV) split by."""
    if not jmap.persona.segment:
        return None
    fields = set(rule_fields(jmap.persona.segment))
    return fields.pop() if len(fields) == 1 else None


def customer_attributes(con: ibis.BaseBackend) -> list[str] | None:
    """The attributes of the stored customers (None: no customers table)."""
    try:
        columns = con.table("customers").columns
    except TableNotFound:
        return None
    return [c for c in columns if c not in NOT_ATTRIBUTES and not c.startswith("_")]


def missing_attributes(con: ibis.BaseBackend, rule: str) -> list[str]:
    """The fields of ``rule`` that are not columns of the customers table."""
    try:
        columns = set(con.table("customers").columns)
    except TableNotFound:
        columns = set()
    return [f for f in rule_fields(rule) if f not in columns]


def not_loaded_notice(rule: str, missing: list[str], loaded: list[str] | None) -> str:
    """Why the persona's rule is not applied, naming every missing attribute."""
    names = ", ".join(f"'{m}'" for m in missing)
    what = (f"customer attribute {names} is" if len(missing) == 1
            else f"customer attributes {names} are")
    have = (f"loaded attributes: {', '.join(loaded)}" if loaded
            else "no customer attributes are loaded")
    return (f"persona segment `{rule}` not applied: {what} not loaded yet ({have}; "
            "journeymap ingest customers FILE adds them); showing all customers")


def persona_selection(con: ibis.BaseBackend, jmap: JourneyMap | None) -> PersonaSelection:
    """The persona's customers, or everyone with a notice when the rule names
    attributes the store does not have (see the module docstring)."""
    rule = jmap.persona.segment if jmap is not None else None
    if not rule:
        return PersonaSelection()
    missing = missing_attributes(con, rule)
    if missing:
        return PersonaSelection(notice=not_loaded_notice(rule, missing, customer_attributes(con)))
    customers = con.table("customers")
    predicate = compile_rule(parse_rule(rule), table_resolver(customers, json_column=None))
    return PersonaSelection(rule=rule, customers=customers.filter(predicate).select("customer_id"))


def persona_customers(con: ibis.BaseBackend, jmap: JourneyMap | None) -> tuple[ir.Table | None, str | None]:
    """The ``customer_id``s of the map's persona (None: everyone) and the notice when the
    segment rule cannot be applied to this data yet (:func:`persona_selection`)."""
    persona = persona_selection(con, jmap)
    return persona.customers, persona.notice


def persona_events(con: ibis.BaseBackend, jmap: JourneyMap) -> tuple[ir.Table, int | None, str | None]:
    """The events of the persona's customers, their number, and the notice when the
    segment rule cannot be applied to this data yet (then: every customer's events)."""
    events = con.table("event_log")
    persona = persona_selection(con, jmap)
    if persona.customers is None:
        return events, None, persona.notice
    n = int(persona.customers.count().to_pyarrow().as_py())
    return events.semi_join(persona.customers, "customer_id"), n, None


def only_persona(table: ir.Table, persona: ir.Table | None) -> ir.Table:
    """``table``'s rows of the customers in ``persona`` (None: every row)."""
    return table if persona is None else table.semi_join(persona, "customer_id")


def event_names(con: ibis.BaseBackend) -> dict[int, str]:
    """The store's event-name dictionary, id → name (small: one row per event name)."""
    rows = fetch_rows(con.table("event_names").select("event_id", "event"))
    return {int(r["event_id"]): str(r["event"]) for r in rows}


def optional_table(con: ibis.BaseBackend, name: str) -> ir.Table | None:
    """The optional table ``name`` (customers, feedback, transactions, transcripts), or
    None where it is not loaded."""
    try:
        return con.table(name)
    except TableNotFound:
        return None


def has_table(con: ibis.BaseBackend, name: str) -> bool:
    """Whether the optional table ``name`` is loaded (``list_tables`` of ibis 12 fails
    on DuckDB 2)."""
    return optional_table(con, name) is not None


def has_column(con: ibis.BaseBackend, table: str, column: str) -> bool:
    return column in con.table(table).columns


def iso(value: dt.date | dt.datetime | None) -> str | None:
    """A moment or a day as ISO 8601 text for the analysis dict (None stays None)."""
    return value.isoformat() if value is not None else None
