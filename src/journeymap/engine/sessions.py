"""Sessions: split each customer's events by an inactivity gap, or by the data's session_id.

A new session starts at a customer's first event and after every gap longer than
``gap`` (default 30 minutes, as in GA4 and Amplitude).  With ``use_column`` the
``session_id`` column decides instead; events without one fall back to the gap rule.
The result numbers sessions 1, 2, ... per customer in time order (column ``session``).
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from journeymap.engine.order import event_order

DEFAULT_GAP = dt.timedelta(minutes=30)


def sessionize(events: ir.Table, *, gap: dt.timedelta = DEFAULT_GAP,
               use_column: bool = False, presorted: bool = False) -> ir.Table:
    """``events`` (customer_id, timestamp, event_id[, _seq, session_id]) with ``session``.

    ``presorted``: the rows come in (customer_id, timestamp, event_id) order (the
    DuckDB store), so windows run over the stored order without a sort; ``session``
    is then a number unique across customers rather than 1, 2, ... per customer.
    """
    if presorted:
        w = ibis.window()
        prev_customer = events.customer_id.lag().over(w)
        prev_ts = ibis.ifelse((prev_customer == events.customer_id).fill_null(False),
                              events.timestamp.lag().over(w), ibis.null("timestamp"))
    else:
        w = ibis.window(group_by="customer_id", order_by=event_order(events))
        prev_ts = events.timestamp.lag().over(w)
    elapsed = events.timestamp.epoch_seconds() - prev_ts.epoch_seconds()
    by_gap = prev_ts.isnull() | (elapsed > gap.total_seconds())
    if use_column:
        prev_sid = ibis.ifelse(prev_ts.isnull(), ibis.null("string"),
                               events.session_id.lag().over(w))
        changed = prev_ts.isnull() | (events.session_id != prev_sid).fill_null(True)
        starts = ibis.ifelse(events.session_id.isnull() & prev_sid.isnull(), by_gap, changed)
    else:
        starts = by_gap
    flagged = events.mutate(_start=starts.cast("int64"))
    w2 = (ibis.window(rows=(None, 0)) if presorted else
          ibis.window(group_by="customer_id", order_by=event_order(events), rows=(None, 0)))
    return flagged.mutate(session=flagged._start.sum().over(w2)).drop("_start")
