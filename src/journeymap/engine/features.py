"""Per-customer features of journeys, computed in the engine as one row per customer.

The *profile* is what segment rules are written against: the customer's attributes
(``customers`` table) plus behaviour and attitude computed from events and feedback:

* ``events`` — number of events; ``event_types`` — distinct events done;
  ``journey_days`` — days from first to last event; ``first_seen``, ``last_seen``;
* ``n_<event>`` — how often the customer did an event (``n_webinar_attended >= 1``);
  the event name is lower-cased with every other character than a-z, 0-9 turned to ``_``;
* ``share_<channel>`` — share of the customer's events on a channel (0–1);
* ``<metric>`` — mean feedback score per metric (``csat``, ``nps``, ``ces``, ...), and
  ``nps_band`` — ``promoter`` (mean NPS ≥ 9), ``passive`` (7–8) or ``detractor`` (≤ 6).

An attribute of the customers table wins over a computed column of the same name.
Only the columns a rule names are computed, so a rule on attributes costs no event scan
beyond the population.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import ibis
import ibis.expr.types as ir

from journeymap.engine.scope import event_names, optional_table
from journeymap.errors import JourneymapError

BASE_COLUMNS = ("events", "event_types", "journey_days", "first_seen", "last_seen")
SECONDS_PER_DAY = 86_400.0


def slug(name: str) -> str:
    """``Data Import-Started`` → ``data_import_started``."""
    out = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return out or "event"


def channels(con: ibis.BaseBackend, events: ir.Table | None = None) -> list[str]:
    t = events if events is not None else con.table("event_log")
    rows = t.filter(t.channel.notnull()).select("channel").distinct().order_by("channel")
    return [str(v) for v in rows.to_pyarrow().column("channel").to_pylist()]


def seconds_between(start: ir.TimestampValue, end: ir.TimestampValue) -> ir.FloatingValue:
    """Seconds from ``start`` to ``end`` as a float, on every backend."""
    return (end.epoch_seconds() - start.epoch_seconds()).cast("float64")


def journey_base(events: ir.Table) -> ir.Table:
    """customer_id, events, event_types, first_seen, last_seen, journey_days."""
    base = events.group_by("customer_id").aggregate(
        events=events.count(),
        event_types=events.event_id.nunique(),
        first_seen=events.timestamp.min(),
        last_seen=events.timestamp.max(),
    )
    return base.mutate(journey_days=seconds_between(base.first_seen, base.last_seen) / SECONDS_PER_DAY)


def event_count_columns(
    events: ir.Table, names: Mapping[int, str], wanted: Iterable[str] | None = None
) -> ir.Table:
    """customer_id and ``n_<event>`` for each wanted slug (all events when None)."""
    by_slug: dict[str, list[int]] = {}
    for event_id, name in sorted(names.items()):
        by_slug.setdefault(f"n_{slug(name)}", []).append(event_id)
    keys = sorted(by_slug) if wanted is None else [k for k in wanted if k in by_slug]
    aggs = {k: events.count(where=events.event_id.isin(by_slug[k])) for k in keys}
    if not aggs:
        return events.select("customer_id").distinct()
    return events.group_by("customer_id").aggregate(**aggs)


def channel_share_columns(events: ir.Table, chans: Iterable[str]) -> ir.Table:
    """customer_id and ``share_<channel>`` (share of the customer's events)."""
    chans = list(chans)
    aggs: dict[str, ir.Value] = {"_n": events.count()}
    for ch in chans:
        aggs[f"share_{slug(ch)}"] = events.count(where=events.channel == ch)
    t = events.group_by("customer_id").aggregate(**aggs)
    return t.select("customer_id", **{k: t[k].cast("float64") / t["_n"] for k in aggs if k != "_n"})


def attitude_columns(con: ibis.BaseBackend, wanted: Iterable[str] | None = None) -> ir.Table | None:
    """customer_id, mean score per feedback metric, and ``nps_band``."""
    wanted_set = set(wanted) if wanted is not None else None
    if wanted_set is not None and not wanted_set:  # nothing asked: no query for the metrics
        return None
    fb = optional_table(con, "feedback")
    if fb is None:
        return None
    metrics = [str(m) for m in fb.select("metric").distinct().order_by("metric")
               .to_pyarrow().column("metric").to_pylist() if m is not None]
    if wanted_set is not None and "nps_band" in wanted_set:
        wanted_set.add("nps")
    keep = [m for m in metrics if re.fullmatch(r"[a-z][a-z0-9_]*", m)
            and (wanted_set is None or m in wanted_set)]
    if not keep:
        return None
    t = fb.group_by("customer_id").aggregate(
        **{m: fb.score.mean(where=fb.metric == m) for m in keep}
    )
    if "nps" in keep:
        t = t.mutate(nps_band=ibis.cases(
            (t.nps >= 9, "promoter"), (t.nps >= 7, "passive"), (t.nps.notnull(), "detractor"),
            else_=ibis.null().cast("string"),
        ))
    return t


def customer_profile(
    con: ibis.BaseBackend, events: ir.Table, *, fields: Iterable[str] | None = None
) -> ir.Table:
    """One row per customer who has events in ``events``: attributes + behaviour +
    attitude.  ``fields`` limits the computed columns to those named (None: all)."""
    names = event_names(con)
    wanted = None if fields is None else set(fields)
    profile = journey_base(events)
    attributes = optional_table(con, "customers")
    attr_cols = set(attributes.columns) - {"customer_id", "_ingest_id"} if attributes is not None else set()
    if attributes is not None:
        take = [c for c in attributes.columns if c != "_ingest_id"
                and (wanted is None or c in wanted or c == "customer_id")]
        profile = profile.drop(*[c for c in profile.columns if c in attr_cols])
        profile = profile.left_join(attributes.select(*take), "customer_id").drop("customer_id_right")
    need_counts = None if wanted is None else sorted(w for w in wanted if w.startswith("n_") and w not in attr_cols)
    if need_counts is None or need_counts:
        counts = event_count_columns(events, names, need_counts)
        profile = _attach(profile, counts, fill=0)
    # the channels are a query over the events: only when every column or a share is wanted
    share_wanted = wanted is None or any(w.startswith("share_") and w not in attr_cols for w in wanted)
    chans = channels(con, events) if share_wanted else []
    by_share = {f"share_{slug(c)}": c for c in chans}
    need_shares = list(chans) if wanted is None else [by_share[w] for w in sorted(wanted)
                                                      if w in by_share and w not in attr_cols]
    if need_shares:
        profile = _attach(profile, channel_share_columns(events, need_shares), fill=0.0)
    attitude = attitude_columns(con, None if wanted is None else wanted - attr_cols)
    if attitude is not None:
        profile = _attach(profile, attitude.drop(*[c for c in attitude.columns if c in attr_cols]), fill=None)
    return profile


def _attach(profile: ir.Table, extra: ir.Table, *, fill: float | int | None) -> ir.Table:
    new = [c for c in extra.columns if c != "customer_id" and c not in profile.columns]
    if not new:
        return profile
    joined = profile.left_join(extra.select("customer_id", *new), "customer_id").drop("customer_id_right")
    if fill is None:
        return joined
    return joined.mutate(**{c: joined[c].fill_null(fill) for c in new})


def check_fields(profile: ir.Table, fields: Iterable[str]) -> None:
    """Raise a one-line error naming a field no profile column has."""
    missing = sorted(set(fields) - set(profile.columns))
    if missing:
        raise JourneymapError(
            f"unknown field '{missing[0]}': use a customer attribute, events, event_types, "
            "journey_days, n_<event>, share_<channel>, a feedback metric (csat, nps, ...) or nps_band"
        )
