"""What a match rule matches, before it is saved: the editor's rule preview.

:func:`match_preview` counts the events and customers a touchpoint's rule accepts in
the store — every matching event, before the map's "first touchpoint wins" order —
and returns the event names it matched with their counts and a sample of events::

    match_preview(con, Match(event_in=["import_started", "import_failed"]))
    # {"events": 5123, "customers": 1402, "share_of_events": 0.0027, "names": [...], "sample": [...]}
"""

from __future__ import annotations

from typing import Any

import ibis

from journeymap.engine.fetch import rows, scalar
from journeymap.engine.scope import event_names, iso
from journeymap.engine.touchpoints import TouchpointMatcher, _predicate, event_ids_matching
from journeymap.model.document import Match, Touchpoint

SAMPLE = 10
NAMES = 10


def match_preview(con: ibis.BaseBackend, match: Match, *, sample: int = SAMPLE) -> dict[str, Any]:
    """Events and customers ``match`` accepts, its top event names and ``sample`` events."""
    names = event_names(con)
    log = con.table("event_log")
    total = int(scalar(log.count()) or 0)
    tp = Touchpoint(id="preview", name="preview", channel="any", match=match)
    predicate = _predicate(TouchpointMatcher(tp, "", event_ids_matching(match, names)), log)
    empty = {"events": 0, "customers": 0, "share_of_events": 0.0 if total else None, "total_events": total,
             "names": [], "sample": []}
    if predicate is None:
        return empty
    hit = log.filter(predicate)
    counts = rows(hit.aggregate(events=hit.count(), customers=hit.customer_id.nunique()))
    events, customers = int(counts[0]["events"] or 0), int(counts[0]["customers"] or 0)
    if not events:
        return empty
    top = rows(hit.group_by("event_id").aggregate(events=hit.count(), customers=hit.customer_id.nunique())
               .order_by([ibis.desc("events"), "event_id"]).limit(NAMES))
    shown = rows(hit.select("customer_id", "timestamp", "event_id", "channel")
                 .order_by(["customer_id", "timestamp"]).limit(sample))
    return {"events": events, "customers": customers, "share_of_events": events / total if total else None,
            "total_events": total,
            "names": [{"event": names.get(int(r["event_id"]), str(r["event_id"])), "events": int(r["events"]),
                       "customers": int(r["customers"])} for r in top],
            "sample": [{"customer_id": str(r["customer_id"]), "timestamp": iso(r["timestamp"]),
                        "event": names.get(int(r["event_id"]), str(r["event_id"])), "channel": r["channel"]}
                       for r in shown]}
