"""What customers said, tied to a map: comments and transcript turns as one table.

Every text unit carries the map touchpoint and stage it belongs to, found the way the
feedback KPIs find it: the row's ``touchpoint`` when it names one of the map's
touchpoints, else (feedback) the ``event`` it follows, resolved through the
touchpoints' event-name rules (rules with a ``where`` need the event's properties,
which feedback rows do not carry, so they are not used).  Texts tied to no touchpoint
stay in the corpus (journey level) with ``touchpoint`` null.

The persona's segment rule restricts the customers, as everywhere
(:func:`journeymap.engine.scope.persona_selection`).
Transcript turns whose speaker is an agent (``AGENT_SPEAKERS``) are kept out of the
customer's emotion and themes: they are what the company said.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from journeymap.data.store import Store
from journeymap.engine.scope import has_table
from journeymap.engine.touchpoints import matchers
from journeymap.model.document import JourneyMap
from journeymap.progress import Progress
from journeymap.text.sentiment import (
    CACHE_TABLE,
    Scorer,
    default_scorer,
    ensure_sentiment,
)

#: speakers (lower case) whose turns are the company's, not the customer's
AGENT_SPEAKERS = ("agent", "bot", "system", "operator", "support", "advisor", "rep",
                  "representative", "assistant", "host", "moderator", "interviewer")

UNIT_COLUMNS = ("source", "key", "customer_id", "timestamp", "text", "speaker", "unit",
                "touchpoint", "stage", "customer_turn")


@ibis.udf.scalar.builtin(name="hex")
def _key_text(value) -> str:  # type: ignore[no-untyped-def]
    """A 128-bit row key as text: ``hex()`` (DuckDB and Spark).  A cast to VARCHAR
    costs 27 µs a row for UHUGEINT on DuckDB 2 — 5 s for the 50k-customer demo's
    comments at 250k customers, against 0.02 s."""


def event_touchpoints(con: ibis.BaseBackend, jmap: JourneyMap) -> dict[str, str]:
    """Event name -> touchpoint id, by the name parts of rules without ``where``, for
    the stored event names and those the feedback rows name."""
    known: set[str] = set()
    if has_table(con, "event_names"):
        known |= set(con.table("event_names").select("event").to_pyarrow()["event"].to_pylist())
    if has_table(con, "feedback"):
        f = con.table("feedback")
        known |= set(f.filter(f.event.notnull()).select("event").distinct().to_pyarrow()["event"].to_pylist())
    names = dict(enumerate(sorted(n for n in known if n is not None)))
    out: dict[str, str] = {}
    for m in matchers(jmap, names):
        assert m.touchpoint.match is not None
        if m.event_ids is None or m.touchpoint.match.where:
            continue
        for eid in sorted(m.event_ids):
            out.setdefault(names[eid], m.touchpoint.id)
    return out


def tie(t: ir.Table, jmap: JourneyMap, by_event: dict[str, str]) -> ir.Table:
    """``t`` with ``touchpoint`` (a map touchpoint id or null) and ``stage``."""
    ids = [tp.id for tp in jmap.touchpoints]
    stage_of = {tp.id: tp.stage or "" for tp in jmap.touchpoints}
    null = ibis.null().cast("string")
    tp = ibis.cases((t.touchpoint.isin(ids), t.touchpoint), else_=null)
    if "event" in t.columns and by_event:
        tp = tp.coalesce(t.event.substitute(by_event, else_=null))
    t = t.mutate(touchpoint=tp)
    return t.mutate(stage=t.touchpoint.substitute(stage_of, else_=null))


def restrict(t: ir.Table, customers: ir.Table | None, since: dt.datetime | None,
             until: dt.datetime | None) -> ir.Table:
    if customers is not None:
        t = t.semi_join(customers, "customer_id")
    if since is not None:
        t = t.filter(t.timestamp >= since)
    if until is not None:
        t = t.filter(t.timestamp < until)
    return t


def text_units(con: ibis.BaseBackend, jmap: JourneyMap, *, customers: ir.Table | None = None,
               since: dt.datetime | None = None, until: dt.datetime | None = None) -> ir.Table | None:
    """Comments and transcript turns of the map's customers (``UNIT_COLUMNS``)."""
    by_event = event_touchpoints(con, jmap)
    parts = []
    if has_table(con, "feedback"):
        f = restrict(con.table("feedback"), customers, since, until)
        f = tie(f.filter(f.comment.notnull() & (f.comment.strip() != "")), jmap, by_event)
        parts.append(f.select(
            source=ibis.literal("feedback"), key=f._key, customer_id=f.customer_id,
            timestamp=f.timestamp, text=f.comment, speaker=ibis.literal("customer"),
            unit=_key_text(f._key), touchpoint=f.touchpoint, stage=f.stage,
            customer_turn=ibis.literal(True)))
    if has_table(con, "transcripts"):
        t = restrict(con.table("transcripts"), customers, since, until)
        t = tie(t.filter(t.text.strip() != ""), jmap, {})
        conv = t.extra["conversation_id"].str
        day = t.timestamp.date().cast("string")
        unit = conv.coalesce(t.customer_id.concat("|", t.channel.fill_null(""), "|",
                                                  t.touchpoint.fill_null(""), "|", day))
        speaker = t.speaker.lower().strip()
        parts.append(t.select(
            source=ibis.literal("transcripts"), key=t._key, customer_id=t.customer_id,
            timestamp=t.timestamp, text=t.text.cast("string"), speaker=t.speaker, unit=unit,
            touchpoint=t.touchpoint, stage=t.stage,
            customer_turn=speaker.isnull() | ~speaker.isin(AGENT_SPEAKERS)))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else parts[0].union(parts[1])


def with_sentiment(con: ibis.BaseBackend, units: ir.Table, *, store: Store | None = None,
                   scorer: Scorer | None = None, progress: Progress | None = None) -> ir.Table:
    """``units`` with ``compound`` (−1..+1).  With a ``store`` the cache is completed
    first and persisted; without one, rows missing from the cache are scored in memory."""
    scorer = scorer or default_scorer()
    if store is not None:
        ensure_sentiment(store, scorer=scorer, progress=progress)
    if has_table(con, CACHE_TABLE):
        cache = con.table(CACHE_TABLE)
        cache = cache.filter(cache.model == scorer.name).select(
            source=cache.source, key=cache._key, compound=cache.compound)
        scored = units.left_join(cache, ["source", "key"]).drop("source_right", "key_right")
    else:
        scored = units.mutate(compound=ibis.null().cast("float64"))
    missing = scored.filter(scored.compound.isnull())
    texts = [r["text"] for r in missing.select("text").distinct().to_pyarrow().to_pylist()]
    if not texts:
        return scored
    if progress is not None:
        progress("sentiment (not cached)", 0, len(texts))
    values = scorer.score(texts)[:, 0]
    if progress is not None:
        progress("sentiment (not cached)", len(texts), len(texts))
    fresh = ibis.memtable(pa.table({"text": pa.array(texts, pa.string()), "fresh": values}))
    filled = scored.left_join(fresh, "text")
    return filled.mutate(compound=filled.compound.coalesce(filled.fresh)).drop("fresh", "text_right")
