"""The events an analysis looks at, and the journey table every analysis reads.

Two steps, both plain Ibis so the same code runs on DuckDB and on Spark:

1. :func:`scoped_events` — ``event_log`` narrowed to the customers and the time range
   asked for (the map's persona segment, a ``--segment`` rule on customer attributes,
   ``since``/``until``, channels).
2. :func:`journey_table` — those events with their touchpoint and stage (by the map's
   match rules), the journey unit (customer or session), and one window pass over each
   unit's ordered events: position ``seq``, the previous and next step and the time to
   the next one.  :func:`materialize` stores it once per analysis (a temp table), so
   transitions, paths, funnels and the stage funnel are cheap aggregates on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir

from journeymap.engine.backend import capabilities
from journeymap.engine.fetch import scalar
from journeymap.engine.order import event_order
from journeymap.engine.rules_ibis import UnknownFieldError, compile_rule, table_resolver
from journeymap.engine.scope import persona_selection
from journeymap.engine.scratch import create_scratch, drop_scratch
from journeymap.engine.sessions import DEFAULT_GAP, sessionize
from journeymap.engine.touchpoints import assign_touchpoint_codes
from journeymap.errors import JourneymapError
from journeymap.model.document import JourneyMap
from journeymap.model.rules import parse_rule

Unit = Literal["customer", "session"]
CHUNK_BITS = 32  # unit and customer codes of chunk i start at i << CHUNK_BITS
CHUNK_MASK = (1 << CHUNK_BITS) - 1


class ScopeError(JourneymapError):
    """A segment rule or date range cannot be applied to this data."""


@dataclass(frozen=True)
class Scope:
    """Which events an analysis covers.

    ``segment`` is a rule on customer attributes (``segment == 'SME'``) applied on top
    of the map's persona segment (``persona=False`` ignores the persona).  ``since`` is
    inclusive, ``until`` exclusive; a date means its midnight UTC.
    """

    segment: str | None = None
    since: dt.date | dt.datetime | None = None
    until: dt.date | dt.datetime | None = None
    channels: tuple[str, ...] = ()
    persona: bool = True


@dataclass(frozen=True)
class JourneyOptions:
    """How events become journeys: the unit (customer or session) and the session rule."""

    unit: Unit = "customer"
    session_gap: dt.timedelta = DEFAULT_GAP
    session_column: bool = False  # use the data's session_id instead of the inactivity gap


@dataclass
class ScopeInfo:
    """What the scope selected: notices for the user (never silent)."""

    segment_customers: int | None = None
    notices: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)  # customer rules applied (persona, segment)


def customers_matching(con: ibis.BaseBackend, rule: str) -> ir.Table:
    """``customer_id`` of the customers whose attributes satisfy ``rule``."""
    customers = con.table("customers")
    try:
        predicate = compile_rule(parse_rule(rule), table_resolver(customers, json_column=None))
    except UnknownFieldError as exc:
        raise ScopeError(f"segment '{rule}': {exc}") from None
    return customers.filter(predicate).select("customer_id")


def _as_timestamp(value: dt.date | dt.datetime) -> ir.TimestampScalar:
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return ibis.literal(value, type="timestamp")


def scope_customers(con: ibis.BaseBackend, rules: Sequence[str]) -> ir.Table | None:
    """``customer_id`` of the customers every rule selects (None: no rule, everyone)."""
    if not rules:
        return None
    selected = customers_matching(con, rules[0])
    for rule in rules[1:]:
        selected = selected.semi_join(customers_matching(con, rule), "customer_id")
    return selected


def scoped_events(
    con: ibis.BaseBackend, jmap: JourneyMap | None, scope: Scope = Scope(), *,
    count: bool = True, by_customer: bool = True,
) -> tuple[ir.Table, ScopeInfo]:
    """``event_log`` rows in ``scope`` (persona segment, segment rule, dates, channels).
    ``count=False``: the expression only (no query for ``segment_customers``).
    ``by_customer=False``: leave the customer rules (``info.rules``) unapplied — for
    :func:`journey_table`'s stored-order windows, which take them as ``customers=``."""
    events = con.table("event_log")
    info = ScopeInfo()
    if scope.since is not None and scope.until is not None and scope.since >= scope.until:
        raise ScopeError(f"--since {scope.since} is not before --until {scope.until}")
    if scope.since is not None:
        events = events.filter(events.timestamp >= _as_timestamp(scope.since))
    if scope.until is not None:
        events = events.filter(events.timestamp < _as_timestamp(scope.until))
    if scope.channels:
        events = events.filter(events.channel.isin(list(scope.channels)))
    rules: list[str] = []
    if scope.persona:
        persona = persona_selection(con, jmap)
        if persona.rule is not None:
            rules.append(persona.rule)
        if persona.notice:
            info.notices.append(persona.notice)
    if scope.segment:
        rules.append(scope.segment)
    info.rules = rules
    if by_customer:
        for rule in rules:
            events = events.semi_join(customers_matching(con, rule), "customer_id")
    selected = scope_customers(con, rules)
    if selected is not None and count:
        info.segment_customers = int(scalar(selected.count()))
    return events, info


def journey_table(
    events: ir.Table,
    jmap: JourneyMap | None,
    names: Mapping[int, str],
    options: JourneyOptions = JourneyOptions(),
    *,
    matched_only: bool = True,
    presorted: bool = False,
    splits: Sequence[str] = (),
    customers: ir.Table | None = None,
) -> ir.Table:
    """One row per step of a journey, with the window columns every analysis needs.

    Every step is an integer code; labels are added only after aggregation
    (:func:`journeymap.engine.transitions.label`).  Columns: ``customer_id``, ``cust``
    (the customer as an integer code on DuckDB: count distinct customers on it),
    ``unit`` (the customer, or its session), ``timestamp``, ``event_id``, ``tp`` (the
    touchpoint's position in the map; only with a map), ``stage_index`` (the stage's
    position in the map), ``seq`` (position, +1 per step within a unit), ``is_first``,
    ``prev_tp``/``next_tp``, ``run`` (with a map: the number of the step in the unit's
    path with repeats collapsed), ``next_event_id`` and ``next_seconds`` (to the next
    step; null at the end).  ``presorted=True`` promises that ``events``
    come in the stored order (customer_id, timestamp, _seq, event_id), as the DuckDB store keeps them:
    the windows then need no sort and ``unit`` is an integer code.  Without a map,
    every event is a step named by its event name.  ``matched_only`` drops events no
    touchpoint matches (count them with :func:`journeymap.engine.analyze.unmatched_section`).
    ``splits`` (with ``presorted``; :func:`customer_splits`): customer ids at which the
    stored-order windows restart — independent chunks of customers, one ``UNION ALL``
    branch each, that DuckDB computes in parallel when insertion order is not kept.
    ``customers`` (a ``customer_id`` table, :func:`scope_customers`): keep only their
    journeys.  With ``presorted`` it is applied after the windows, and ``events`` must
    not be semi-joined to customers: DuckDB may build a semi-join's hash table on the
    events side and emit them out of stored order (measured: 9 customers of 26,566
    split in two on the demo), while a filter keeps the order.
    """
    # the stored order needs no key; elsewhere windows sort by time, source order, id
    seq = ["_seq"] if "_seq" in events.columns and not presorted else []

    def tag(rows: ir.Table) -> ir.Table:
        """``rows`` with their step codes (matched events only, unless told)."""
        if jmap is None:
            return rows.select("customer_id", "timestamp", "event_id", *seq, "session_id",
                               stage_index=ibis.null("int16"))
        coded = assign_touchpoint_codes(rows, jmap, names)
        if matched_only:
            coded = coded.filter(coded.tp.notnull())
        return coded.select("customer_id", "timestamp", "event_id", *seq, "session_id",
                            tp=coded.tp.cast("int16"), stage_index=coded.stage_index.cast("int16"))

    if presorted:
        bounds = [None, *sorted(set(splits)), None]
        whole: ir.Table | None = None
        for i, (lo, hi) in enumerate(zip(bounds, bounds[1:])):
            # Each chunk tags its own rows: a tagged table shared by the branches
            # would be one SQL CTE, which DuckDB materialises — out of stored order
            # when insertion order is not kept.
            part = events
            if lo is not None:
                part = part.filter(part.customer_id >= lo)
            if hi is not None:
                part = part.filter(part.customer_id < hi)
            part = tag(part)
            if options.unit == "session":
                part = sessionize(part, gap=options.session_gap,
                                  use_column=options.session_column, presorted=True)
            part = _presorted_windows(part, options.unit == "session", chunk=i)
            whole = part if whole is None else whole.union(part)
        assert whole is not None
        if whole.op().find(ops.JoinChain):  # the events, or a rule, joined something
            raise JourneymapError(
                "presorted journeys need events without joins (they may come out of stored "
                "order): pass customer rules as customers=, e.g. scoped_events(..., "
                "by_customer=False) and scope_customers(con, info.rules)")
        if customers is not None:  # after the windows: a customer's steps stay whole
            whole = whole.semi_join(customers.select("customer_id"), "customer_id")
        return whole
    tagged = tag(events)
    if customers is not None:
        tagged = tagged.semi_join(customers.select("customer_id"), "customer_id")
    if options.unit == "session":
        tagged = sessionize(tagged, gap=options.session_gap, use_column=options.session_column)
    if options.unit == "session":
        unit = tagged.customer_id.concat("#", tagged.session.cast("string"))
    else:
        unit = tagged.customer_id
    tagged = tagged.mutate(unit=unit, cust=tagged.customer_id)
    order = event_order(tagged)
    w = ibis.window(group_by="unit", order_by=order)
    steps: dict[str, ir.Value] = {}
    if jmap is not None:
        steps = {"prev_tp": tagged.tp.lag().over(w).cast("int16"),
                 "next_tp": tagged.tp.lead().over(w).cast("int16")}
    out = tagged.mutate(
        seq=(ibis.row_number().over(w) + 1).cast("int64"),
        **steps,
        # lag/lead can be null at the edges: widen the types so that a table made from
        # this expression does not inherit event_log's NOT NULL constraints.
        next_event_id=tagged.event_id.lead().over(w).cast("int32"),
        next_timestamp=tagged.timestamp.lead().over(w).cast("timestamp"),
    )
    out = out.mutate(is_first=out.seq == 1,
                     next_seconds=_seconds(out.timestamp, out.next_timestamp))
    if jmap is not None:
        out = out.mutate(run=out.count(where=_run_start(out)).over(
            ibis.window(group_by="unit", order_by=order, rows=(None, 0))
        ).cast("int32"))
    return out.drop("next_timestamp", "session_id", *seq,
                    *(["session"] if "session" in out.columns else []))


def _presorted_windows(tagged: ir.Table, sessions: bool, chunk: int = 0) -> ir.Table:
    """The same columns from windows over the rows in stored order (``OVER ()``).

    The store keeps ``event_log`` physically ordered by (customer_id, timestamp,
    _seq, event_id) and DuckDB's filters and semi-joins preserve that order, so the next row
    is the next event whenever it belongs to the same unit: a streaming pass with no
    sort (0.1 s for 10 M events instead of 3-4 s).  ``seq`` is then a position in the
    chunk, increasing by one from step to step within a unit, which is all analyses
    use, and the unit's code is the running count of unit starts (a streaming count
    too; per customer, ``unit`` is ``cust``).  Three window levels: every lag/lead,
    then the running counts, then ``run``.  ``chunk`` offsets ``unit`` and ``cust`` by
    ``chunk << CHUNK_BITS`` so that chunks of customers computed apart
    (:func:`journey_table`'s ``splits``) keep distinct codes: ``cust & CHUNK_MASK`` is
    1, 2, ... within a chunk (see :func:`journeymap.engine.transitions.transitions`).
    """
    w = ibis.window()
    cid = tagged.customer_id
    same_prev = (cid.lag().over(w) == cid).fill_null(False)
    same_next = (cid.lead().over(w) == cid).fill_null(False)
    new_customer = ~same_prev
    if sessions:
        same_prev = same_prev & (tagged.session.lag().over(w) == tagged.session).fill_null(False)
        same_next = same_next & (tagged.session.lead().over(w) == tagged.session).fill_null(False)

    def keep(value: ir.Value, same: ir.BooleanValue, to: str) -> ir.Value:
        return ibis.ifelse(same, value.cast(to), ibis.null(to))

    steps: dict[str, ir.Value] = {}
    if "tp" in tagged.columns:
        steps = {"prev_tp": keep(tagged.tp.lag().over(w), same_prev, "int16"),
                 "next_tp": keep(tagged.tp.lead().over(w), same_next, "int16")}
    offset = chunk << CHUNK_BITS
    out = tagged.mutate(
        is_first=~same_prev, new_customer=new_customer,
        # a position in the chunk: int32 up to 2^31 events per chunk (one DuckDB thread's)
        seq=(ibis.row_number().over(w) + 1).cast("int32"),
        **steps,
        next_event_id=keep(tagged.event_id.lead().over(w), same_next, "int32"),
        next_timestamp=keep(tagged.timestamp.lead().over(w), same_next, "timestamp"),
    )
    running = ibis.window(rows=(None, 0))
    counts: dict[str, ir.Value] = {"cust": out.count(where=out.new_customer).over(running) + offset}
    if sessions:
        counts["unit"] = out.count(where=out.is_first).over(running) + offset
    if "tp" in out.columns:  # run = number of the collapsed step, by streaming counts
        counts["_rc"] = out.count(where=_run_start(out)).over(running)
    out = out.mutate(next_seconds=_seconds(out.timestamp, out.next_timestamp), **counts)
    if not sessions:
        out = out.mutate(unit=out.cust)
    if "tp" in out.columns:
        at_unit_start = ibis.ifelse(out.is_first, out._rc, ibis.null("int64")).max().over(running)
        out = out.mutate(run=(out._rc - at_unit_start + 1).cast("int32")).drop("_rc")
    # the column order of the journey table before chunking (same schema on every branch)
    order = ["customer_id", "timestamp", "event_id", "tp", "stage_index", "is_first", "unit",
             "cust", "seq", "prev_tp", "next_tp", "next_event_id",
             "next_seconds", "run"]
    return out.select(*[c for c in order if c in out.columns])


def customer_splits(con: ibis.BaseBackend, parts: int) -> list[str]:
    """Customer ids that cut ``event_log``'s stored order into ``parts`` chunks of about
    as many rows each (DuckDB only: rows are looked up by ``rowid``); ``[]`` elsewhere.
    Chunks are customer ranges, right in any piece layout: each customer's events
    stand together in one piece, and a filter keeps their order."""
    if parts < 2 or not capabilities(con).stored_order:
        return []
    # rowids, not a count: an append's deleted rows leave gaps in them (ADR 0018); a cut
    # on a gap only makes one split fewer
    # fetchall: a result left unfinished would block the next query on this connection
    got = con.raw_sql("SELECT max(rowid) + 1 FROM event_log").fetchall()  # type: ignore[attr-defined]
    n = int(got[0][0]) if got and got[0][0] is not None else 0
    cuts = sorted({n * i // parts for i in range(1, parts)} - {0})
    if not cuts:
        return []
    found = con.raw_sql(  # type: ignore[attr-defined]
        f"SELECT DISTINCT customer_id FROM event_log WHERE rowid IN ({', '.join(map(str, cuts))})"
    ).fetchall()
    return sorted(str(r[0]) for r in found)


def duckdb_threads(con: ibis.BaseBackend) -> int:
    """DuckDB's worker threads (1 on other backends)."""
    return capabilities(con).threads


def _run_start(t: ir.Table) -> ir.BooleanValue:
    """A row that starts a run of equal touchpoints (the first, or a new touchpoint)."""
    return (t.prev_tp.isnull() | (t.prev_tp != t.tp)).fill_null(False)


def _seconds(start: ir.TimestampValue, end: ir.TimestampValue) -> ir.FloatingValue:
    return (end.epoch_seconds() - start.epoch_seconds()).cast("float64")


def seconds_between(start: ir.TimestampValue, end: ir.TimestampValue) -> ir.FloatingValue:
    """``end - start`` in seconds (a float; null if either is null)."""
    return _seconds(start, end)


def materialize(con: ibis.BaseBackend, expr: ir.Table, prefix: str = "jm_journeys", *,
                unordered: bool = False, catalog: str | None = None) -> ir.Table:
    """Compute ``expr`` once into a temporary table and return it (drop it with
    :func:`drop_materialized`).  Backends without temp tables get a cached view.

    ``unordered`` (DuckDB): store the rows in any order — this session stops
    preserving insertion order for the one statement, so that the ``UNION ALL``
    branches of a chunked journey table (:func:`journey_table`'s ``splits``) run in
    parallel; each branch's stored-order windows still run on one thread, in order.
    ``catalog``: store it there (:func:`journeymap.engine.scratch.shared_scratch`)."""
    if unordered and capabilities(con).unordered_writes:
        con.raw_sql("SET SESSION preserve_insertion_order = false")  # type: ignore[attr-defined]
        try:
            return create_scratch(con, expr, prefix, catalog=catalog)[1]
        finally:
            con.raw_sql("RESET SESSION preserve_insertion_order")  # type: ignore[attr-defined]
    try:
        return create_scratch(con, expr, prefix, catalog=catalog)[1]
    except (NotImplementedError, TypeError):  # backend without temporary tables
        return expr.cache()


def drop_materialized(con: ibis.BaseBackend, table: ir.Table) -> None:
    """Drop a table made by :func:`materialize` (frees memory early).  The table's own
    name, not ``get_name()``: that is qualified (``temp.main.jm_journeys_...``)."""
    op = table.op()
    name = getattr(op, "name", None)
    namespace = getattr(op, "namespace", None)
    catalog = getattr(namespace, "catalog", None)
    if isinstance(name, str) and name.startswith("jm_"):
        drop_scratch(con, name, catalog if catalog and catalog != "temp" else None)
