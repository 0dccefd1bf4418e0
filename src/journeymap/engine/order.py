"""The order of one customer's events, the key every window that is not a pass over
the stored order sorts by."""

from __future__ import annotations

import ibis.expr.types as ir


def event_order(events: ir.Table) -> list[str]:
    """The columns that order one customer's events: time, then the order they were
    given in (``_seq``: ingest, file, row — same-timestamp events keep their source
    order, as pm4py and retentioneering do), then the event id (tables without
    ``_seq``, e.g. built by hand)."""
    return ["timestamp", *(["_seq"] if "_seq" in events.columns else []), "event_id"]
