"""``analyze``: every journey analysis of one map, as one JSON-ready dict.

:func:`analyze_map` selects the events in scope, builds the journey table once (one
window pass, stored as a temp table) and then runs each *section* of the ``journeys``
phase — a function ``(Analysis) -> value`` in the one registry,
:data:`journeymap.engine.sections.SECTIONS` — on it, side by side.  The keys of
DESIGN.md §3.3 are always present: those the analysis layer computes (pain points,
segments) are declared here and written empty when the engine runs alone.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, TypeVar

import ibis
import ibis.expr.types as ir

from journeymap.engine.backend import capabilities
from journeymap.engine.fetch import rows, scalar
from journeymap.engine.funnels import (
    FunnelSpec,
    funnel,
    funnel_dropoffs,
    funnel_reached,
)
from journeymap.engine.journeys import (
    JourneyOptions,
    Scope,
    ScopeError,
    ScopeInfo,
    customer_splits,
    drop_materialized,
    duckdb_threads,
    journey_table,
    materialize,
    scope_customers,
    scoped_events,
)
from journeymap.engine.paths import loops, path_variants, paths_around
from journeymap.engine.scope import event_names, iso
from journeymap.engine.scratch import shared_scratch
from journeymap.engine.sections import SECTIONS
from journeymap.engine.stage_periods import stage_conversion_by_period
from journeymap.engine.stages import Reach, decay_points, stage_funnel
from journeymap.engine.transitions import transitions
from journeymap.model.document import JourneyMap
from journeymap.progress import Progress, report


@dataclass
class Analysis:
    """What every section reads: the map, the events in scope, the journey table."""

    con: ibis.BaseBackend
    jmap: JourneyMap
    names: Mapping[int, str]
    events: ir.Table
    journeys: ir.Table
    info: ScopeInfo
    scope: Scope
    options: JourneyOptions
    funnel: FunnelSpec
    by: str | None = None
    groups: ir.Table | None = None
    top_paths: int = 20
    path_steps: int = 6
    reach: Reach = "furthest"
    paths_to: str | None = None  # a touchpoint: the steps leading to it
    paths_from: str | None = None  # a touchpoint: the steps after it
    around_steps: int = 3
    cache: dict[str, Any] = field(default_factory=dict)
    #: where tables shared between the sections' cursors are stored (None: one connection)
    catalog: str | None = None


def shared_once(a: Analysis, key: str, make: Callable[[], ir.Table], prefix: str) -> ir.Table:
    """The table ``make()`` computed once per analysis for every section that reads it
    (sections run side by side: the first to ask computes it, the others wait), read
    through this section's connection; :func:`analyze_map` drops it at the end."""
    with a.cache["_lock"]:
        if key not in a.cache:
            table = materialize(a.con, make(), prefix=prefix, catalog=a.catalog)
            a.cache[key] = table
            a.cache["_drop"].append(table)
    table = a.cache[key]
    if a.catalog is None:
        return table  # type: ignore[no-any-return]
    return a.con.table(table.op().name, database=(a.catalog, "main"))  # type: ignore[no-any-return]


def _reached(a: Analysis) -> ir.Table:
    """The units that reached each step of the funnel (funnel and outcome paths)."""
    return shared_once(a, "funnel_reached", lambda: funnel_reached(
        a.journeys, a.funnel, jmap=a.jmap, names=a.names), "jm_reached")


def register_section(name: str, fn: Callable[[Analysis], Any], **spec: Any) -> None:
    """Add (or replace) the ``journeys``-phase section ``name`` of the analyze output
    (``spec``: the fields of :class:`journeymap.engine.sections.Section`)."""
    SECTIONS.register(name, fn, phase="journeys", **spec)


def _totals(a: Analysis) -> dict[str, int]:
    if "totals" not in a.cache:
        e = a.events
        got = rows(e.aggregate(events=e.count(), customers=e.customer_id.nunique()))[0]
        a.cache["totals"] = {k: int(v or 0) for k, v in got.items()}
    return a.cache["totals"]  # type: ignore[no-any-return]


def map_section(a: Analysis) -> dict[str, Any]:
    return {"id": a.jmap.id, "title": a.jmap.title, "type": a.jmap.type.value}


def scope_section(a: Analysis) -> dict[str, Any]:
    totals = _totals(a)
    s = a.scope
    return {
        "events": totals["events"], "customers": totals["customers"],
        "persona_segment": a.jmap.persona.segment if s.persona else None,
        "segment": s.segment, "segment_customers": a.info.segment_customers,
        "since": iso(s.since), "until": iso(s.until), "channels": list(s.channels),
        "unit": a.options.unit, "notices": list(a.info.notices),
    }


def stages_section(a: Analysis) -> list[dict[str, Any]]:
    names = {s.id: s.name for s in a.jmap.stages}
    out = rows(stage_funnel(a.journeys, a.jmap, reach=a.reach))
    for r in out:
        r.pop("group")
        r["id"] = r.pop("stage")
        r["name"] = names[r["id"]]
        r["touchpoints"] = [t.id for t in a.jmap.touchpoints_of(r["id"])]
    return out


def touchpoints_section(a: Analysis) -> list[dict[str, Any]]:
    j = a.journeys
    got = {r["tp"]: r for r in rows(j.group_by("tp").aggregate(
        events=j.count(), customers=j.cust.nunique()))}
    total = _totals(a)["customers"] or 1
    out = []
    for code, tp in enumerate(a.jmap.touchpoints):
        r = got.get(code, {})
        n = int(r.get("customers", 0))
        out.append({"id": tp.id, "name": tp.name, "stage": tp.stage, "channel": tp.channel,
                    "events": int(r.get("events", 0)), "customers": n, "share": n / total})
    return out


def transitions_section(a: Analysis) -> list[dict[str, Any]]:
    return rows(transitions(a.journeys, "touchpoint", jmap=a.jmap))


def stage_transitions_section(a: Analysis) -> list[dict[str, Any]]:
    return rows(transitions(a.journeys, "stage", jmap=a.jmap, collapse=True))


def paths_section(a: Analysis) -> list[dict[str, Any]]:
    return rows(path_variants(a.journeys, max_steps=a.path_steps, top=a.top_paths, jmap=a.jmap))


def outcome_paths_section(a: Analysis) -> dict[str, Any]:
    """Top paths of the units that reached the funnel's last step (``converted``) and of
    those that started it but did not (``dropped``)."""
    reached = _reached(a)
    last = len(a.funnel.steps) - 1
    converted = reached.filter(reached["index"] == last).select("unit").distinct()
    started = reached.filter(reached["index"] == 0).select("unit").distinct()
    dropped = started.anti_join(converted, "unit")
    out: dict[str, Any] = {"step": a.funnel.steps[-1]}
    for key, units in (("converted", converted), ("dropped", dropped)):
        out[f"{key}_customers"] = int(scalar(units.count()))
        out[key] = rows(path_variants(a.journeys, max_steps=a.path_steps, top=a.top_paths,
                                      jmap=a.jmap, units=units))
    return out


def paths_to_section(a: Analysis) -> list[dict[str, Any]] | None:
    """The ``around_steps`` steps leading to each unit's first ``paths_to`` (and it)."""
    if not a.paths_to:
        return None
    return rows(paths_around(a.journeys, a.paths_to, before=a.around_steps, top=a.top_paths,
                             jmap=a.jmap, names=a.names))


def paths_from_section(a: Analysis) -> list[dict[str, Any]] | None:
    """``paths_from`` (each unit's first) and the ``around_steps`` steps after it."""
    if not a.paths_from:
        return None
    return rows(paths_around(a.journeys, a.paths_from, after=a.around_steps, top=a.top_paths,
                             jmap=a.jmap, names=a.names))


def loops_section(a: Analysis) -> list[dict[str, Any]]:
    return rows(loops(a.journeys, jmap=a.jmap))


def funnel_section(a: Analysis) -> list[dict[str, Any]]:
    # the units that reached each step feed two queries here and the outcome paths
    reached = _reached(a)
    steps = rows(funnel(a.journeys, a.funnel, jmap=a.jmap, names=a.names, reached=reached))
    dropped = rows(funnel_dropoffs(a.journeys, a.funnel, jmap=a.jmap, names=a.names,
                                   reached=reached))
    went: dict[int, list[dict[str, Any]]] = {}
    for r in dropped:
        went.setdefault(r["index"], []).append({"to": r["next"], "customers": r["customers"]})
    for r in steps:
        r["dropped_next"] = went.get(r["index"], [])
    return steps


def decay_section(a: Analysis) -> list[dict[str, Any]]:
    out = rows(decay_points(a.journeys, a.jmap))
    for r in out:
        r.pop("group")
    return out


def by_section(a: Analysis) -> dict[str, Any] | None:
    if a.groups is None:
        return None
    stages = rows(stage_funnel(a.journeys, a.jmap, groups=a.groups, reach=a.reach))
    decays = rows(decay_points(a.journeys, a.jmap, groups=a.groups))
    groups: dict[str, dict[str, Any]] = {}
    for r in stages:
        groups.setdefault(r.pop("group"), {"stages": [], "decay_points": [], "funnel": []})[
            "stages"].append({"id": r.pop("stage"), **r})
    for r in decays:
        groups.setdefault(r.pop("group"), {"stages": [], "decay_points": [], "funnel": []})[
            "decay_points"].append(r)
    sizes = {r["group"]: r["customers"] for r in rows(a.groups.group_by("group").aggregate(customers=a.groups.unit.nunique()))}
    for name, g in groups.items():
        g["customers"] = int(sizes.get(name) or 0)  # units of the group with a journey: the stages' basis
        members = a.groups.filter(a.groups.group == name).select("unit")
        g["funnel"] = rows(funnel(a.journeys.semi_join(members, "unit"), a.funnel,
                                  jmap=a.jmap, names=a.names))
    return {"attribute": a.by, "groups": groups}


def unmatched_section(a: Analysis, examples: int = 5) -> dict[str, Any]:
    """Events in scope that no touchpoint matches: how many, and the most frequent."""
    e, j = a.events, a.journeys
    all_ids = e.group_by("event_id").aggregate(n=e.count())
    hit = j.group_by("event_id").aggregate(m=j.count())
    diff = all_ids.left_join(hit, "event_id").select(
        "event_id", left=all_ids.n - hit.m.fill_null(0))
    diff = diff.filter(diff.left > 0).order_by(ibis.desc("left"), "event_id")
    got = rows(diff)
    total = sum(int(r["left"]) for r in got)
    return {
        "events": total,
        "share": total / (_totals(a)["events"] or 1),
        "examples": [{"event": a.names.get(int(r["event_id"]), str(r["event_id"])),
                      "events": int(r["left"])} for r in got[:examples]],
    }


#: rough relative cost of the heavy sections (10 M events, CPU s): submitted first
HEAVY = {"transitions": 0.9, "funnel": 0.8, "outcome_paths": 0.8, "stages": 0.65,
         "stage_transitions": 0.5, "by": 0.5, "paths": 0.4, "loops": 0.4, "unmatched": 0.3,
         "touchpoints": 0.2}

for _name, _fn in (
    ("map", map_section), ("scope", scope_section), ("stages", stages_section),
    ("touchpoints", touchpoints_section), ("transitions", transitions_section),
    ("stage_transitions", stage_transitions_section), ("paths", paths_section),
    ("outcome_paths", outcome_paths_section), ("paths_to", paths_to_section),
    ("paths_from", paths_from_section), ("loops", loops_section), ("funnel", funnel_section),
    ("decay_points", decay_section), ("by", by_section), ("pain_points", None), ("segments", None),
    ("unmatched", unmatched_section),
):
    if _fn is None:  # a contract key the analysis layer computes (journeymap.analysis)
        SECTIONS.register(_name, None, phase="results", default=list)
    else:
        register_section(_name, _fn, cost=HEAVY.get(_name, 0.0))


def stage_periods_section(a: Analysis) -> dict[str, Any]:
    """Each stage's conversion to a later one within 30 days, per month of entering it
    (complete months only): what conversion-drop alerts compare."""
    if not _totals(a)["events"]:  # (the maximum of no rows is null, which Arrow's non-null column refuses)
        return stage_conversion_by_period(a.journeys, a.jmap, until=None, empty=True)
    return stage_conversion_by_period(a.journeys, a.jmap, until=scalar(a.events.timestamp.max()))


register_section("stage_periods", stage_periods_section, cost=0.3)


def group_table(con: ibis.BaseBackend, attribute: str) -> ir.Table:
    """``customer_id, group``: customers split by the value of ``attribute``."""
    customers = con.table("customers")
    if attribute not in customers.columns or attribute in ("customer_id", "_ingest_id"):
        known = ", ".join(c for c in customers.columns if c not in ("customer_id", "_ingest_id"))
        raise ScopeError(f"--by {attribute}: no such customer attribute (known: {known or 'none'})")
    col = customers[attribute].cast("string").fill_null("(none)")
    return customers.select("customer_id", group=col)


def stage_funnel_spec(jmap: JourneyMap) -> FunnelSpec:
    """The default funnel: the map's stages in order (loose, no window)."""
    return FunnelSpec(tuple(jmap.stage_ids()), level="stage")


def analyze_map(
    con: ibis.BaseBackend,
    jmap: JourneyMap,
    *,
    segment: str | None = None,
    since: dt.date | dt.datetime | None = None,
    until: dt.date | dt.datetime | None = None,
    channels: tuple[str, ...] = (),
    persona: bool = True,
    options: JourneyOptions = JourneyOptions(),
    funnel_spec: FunnelSpec | None = None,
    by: str | None = None,
    top_paths: int = 20,
    path_steps: int = 6,
    reach: Reach | None = None,
    paths_to: str | None = None,
    paths_from: str | None = None,
    around_steps: int = 3,
    sections: tuple[str, ...] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Analyse ``jmap`` on the data behind ``con`` (any Ibis backend with the store's
    tables); the result has the keys of DESIGN.md §3.3 and those of extra sections.
    ``reach`` defaults to the map's ``stage_reach``; ``paths_to``/``paths_from`` (a
    touchpoint id) add the ``around_steps`` steps before/after each unit's first visit
    of it."""
    for step in (paths_to, paths_from):
        if step is not None and step not in {t.id for t in jmap.touchpoints}:
            known = ", ".join(t.id for t in jmap.touchpoints)
            raise ScopeError(f"paths around '{step}': no such touchpoint in map "
                             f"'{jmap.id}' (known: {known})")
    scope = Scope(segment=segment, since=since, until=until, channels=channels, persona=persona)
    names = event_names(con)
    report(progress, "selecting events", 0, 2)
    # customer rules (persona, --segment) are applied to the journey table after its
    # stored-order windows (journey_table's customers=), to the events for sections here
    unfiltered, info = scoped_events(con, jmap, scope, by_customer=False)
    selected = scope_customers(con, info.rules)
    events = unfiltered if selected is None else unfiltered.semi_join(selected, "customer_id")
    report(progress, "selecting events", 1, 2)
    presorted = capabilities(con).stored_order
    # On DuckDB the windows are streaming passes over the stored order (no sort), one
    # per chunk of customers so that every thread runs one; the journey table is
    # stored once so that every section reads it instead of re-evaluating the rules.
    splits = customer_splits(con, duckdb_threads(con)) if presorted else []
    expr = journey_table(unfiltered, jmap, names, options, presorted=presorted, splits=splits,
                         customers=selected)
    # Stored narrow (memory is what limits the largest logs): no customer ids (a string
    # per event; --by maps units to customers once, below) and, per customer, no
    # second copy of the customer code as the unit.  Stored where every cursor of the
    # database sees it, so that sections can run side by side (_run_sections).
    per_customer = options.unit == "customer"
    catalog = shared_scratch(con)
    stored = materialize(con, expr.drop("customer_id", *(["unit"] if per_customer else [])),
                         unordered=presorted, catalog=catalog)
    scratch = [stored]
    groups = None
    if by:
        owners = expr.filter(expr.is_first).select("unit", "customer_id")
        groups = materialize(con, owners.join(group_table(con, by), "customer_id")
                             .select("unit", "group"), prefix="jm_groups", catalog=catalog)
        scratch.append(groups)
    report(progress, "selecting events", 2, 2)

    def bind(on: ibis.BaseBackend) -> Analysis:
        """The analysis with its tables read through the connection ``on``."""
        if on is con:
            ev, st, gr = events, stored, groups
        else:
            ev = scoped_events(on, jmap, scope, count=False)[0]
            st = on.table(stored.op().name, database=(catalog, "main"))  # type: ignore[attr-defined]
            gr = (None if groups is None else
                  on.table(groups.op().name, database=(catalog, "main")))  # type: ignore[attr-defined]
        return Analysis(con=on, jmap=jmap, names=names, events=ev,
                        journeys=st.mutate(unit=st.cust) if per_customer else st,
                        info=info, scope=scope, options=options,
                        funnel=funnel_spec or stage_funnel_spec(jmap), by=by, groups=gr,
                        top_paths=top_paths, path_steps=path_steps,
                        reach=reach or jmap.stage_reach, paths_to=paths_to,
                        paths_from=paths_from, around_steps=around_steps, cache=cache,
                        catalog=catalog)

    cache: dict[str, Any] = {"_lock": threading.Lock(), "_drop": []}
    wanted = [name for name, s in SECTIONS.items() if (sections is None or name in sections)
              and (s.phase == "journeys" or s.default is not None)]
    try:
        return _run_sections(con, bind, wanted, progress, parallel=catalog is not None)
    finally:
        for table in scratch + cache["_drop"]:
            drop_materialized(con, table)


def _run_sections(con: ibis.BaseBackend, bind: Callable[[ibis.BaseBackend], Analysis],
                  wanted: list[str], progress: Progress | None, *,
                  parallel: bool) -> dict[str, Any]:
    """Every wanted section's value, in registration order (see :func:`side_by_side`);
    a section the analysis layer computes gets its empty default."""
    def run(a: Analysis, name: str) -> Any:
        section = SECTIONS[name]
        if section.phase != "journeys" or section.run is None:
            return section.default() if section.default is not None else None
        return section.run(a)

    return side_by_side(con, bind, wanted, run, progress, parallel=parallel,
                        weights=SECTIONS.costs(), label="analysing")


T = TypeVar("T")


def side_by_side(con: ibis.BaseBackend, bind: Callable[[ibis.BaseBackend], T], jobs: list[str],
                 run: Callable[[T, str], Any], progress: Progress | None, *, parallel: bool,
                 weights: Mapping[str, float] | None = None, label: str | None = "analysing") -> dict[str, Any]:
    """``run(bind(connection), job)`` for every job, returned in the order of ``jobs``.

    ``parallel`` (DuckDB): jobs run side by side, one per DuckDB thread, each thread on
    its own cursor of the database (a connection is not safe to share between threads;
    cursors are) — one query's single-threaded stretches, Python's compiling of the
    next and a section's own Python work (model fits, text) overlap the other's scans.
    The heaviest jobs (``weights``) are submitted first, so that the last one to finish
    is a short one.  A failing job, or Ctrl-C, interrupts the others' queries.
    Progress is reported under ``label``, or (None) under the name of the job done.
    """
    done: dict[str, Any] = {}
    if not jobs:
        return done
    report(progress, label or jobs[0], 0, len(jobs))
    workers = min(duckdb_threads(con), len(jobs)) if parallel else 1
    if workers < 2:
        bound = bind(con)
        for name in jobs:
            done[name] = run(bound, name)
            report(progress, label or name, len(done), len(jobs))
        return {name: done[name] for name in jobs}
    local = threading.local()
    cursors: list[Any] = []
    lock = threading.Lock()

    def work(name: str) -> tuple[str, Any]:
        if not hasattr(local, "bound"):
            cursor = con.con.cursor()  # type: ignore[attr-defined]
            with lock:
                cursors.append(cursor)
            local.bound = bind(ibis.duckdb.from_connection(cursor))
        return name, run(local.bound, name)

    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="jm-section") as pool:
            # longest first, so that the last to finish is a short one
            order = sorted(jobs, key=lambda n: -(weights or {}).get(n, 0))
            futures = [pool.submit(work, name) for name in order]
            try:
                for future in as_completed(futures):
                    name, value = future.result()
                    done[name] = value
                    report(progress, label or name, len(done), len(jobs))
            except BaseException:  # a section failed, or Ctrl-C: stop the others too
                for future in futures:
                    future.cancel()
                with lock:
                    for cursor in cursors:
                        cursor.interrupt()
                raise
    finally:
        for cursor in cursors:
            cursor.close()
    return {name: done[name] for name in jobs}


