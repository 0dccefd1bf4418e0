"""What the metrics modules share: the persona's customers, the event dictionary,
and JSON-ready numbers."""

from __future__ import annotations

import math

import ibis
import ibis.expr.types as ir

from journeymap.engine.persona import persona_selection
from journeymap.model.document import JourneyMap


def persona_customers(con: ibis.BaseBackend, jmap: JourneyMap | None) -> tuple[ir.Table | None, str | None]:
    """The ``customer_id``s of the map's persona (None: everyone) and a notice when the
    segment rule cannot be applied to this data yet
    (:func:`journeymap.engine.persona.persona_selection`)."""
    persona = persona_selection(con, jmap)
    return persona.customers, persona.notice


def only_persona(table: ir.Table, persona: ir.Table | None) -> ir.Table:
    return table if persona is None else table.semi_join(persona, "customer_id")


def event_names(con: ibis.BaseBackend) -> dict[int, str]:
    rows = con.table("event_names").select("event_id", "event").to_pyarrow().to_pylist()
    return {int(r["event_id"]): str(r["event"]) for r in rows}


def has_column(con: ibis.BaseBackend, table: str, column: str) -> bool:
    return column in con.table(table).columns


def num(value: float | None, digits: int = 4) -> float | None:
    """A float for JSON: rounded, and None for missing or non-finite values."""
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value):
        return None
    return round(value, digits)
