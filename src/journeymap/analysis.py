"""The full analysis of one map: the engine's sections, the metrics, what customers say,
and the pain points and opportunities found in all of it — one dict, the output of
``journeymap analyze --json``, ``Workspace.analyze`` and the map page.

The engine (:func:`journeymap.engine.analyze.analyze_map`) must not import metrics or
text (DESIGN §2), so they meet here, one layer up.  Each extra section is a function of
``(Context) -> value`` registered in the one section registry
(:data:`journeymap.engine.sections.SECTIONS`, phase ``results``) with what it reads;
the order they run in follows from that.  ``sections=`` picks some (the engine's own
names included), :data:`FAST_SKIPS` are left out by ``--fast``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import ibis
import ibis.expr.types as ir

from journeymap.engine.analyze import Analysis, analyze_map, side_by_side
from journeymap.engine.churn import churn_section
from journeymap.engine.clusters import clusters
from journeymap.engine.cohorts import cohort_retention
from journeymap.engine.journeys import Scope, customers_matching, scoped_events
from journeymap.engine.scope import (
    customer_attributes,
    iso,
    persona_attribute,
    persona_events,
    persona_selection,
)
from journeymap.engine.sections import SECTIONS
from journeymap.engine.segments import segment_comparison
from journeymap.errors import JourneymapError
from journeymap.metrics import (
    attribution_section,
    clv_section,
    feedback_section,
    goal_section,
)
from journeymap.metrics.alerts import decay_alerts
from journeymap.metrics.insight import InsightOptions, find_insight
from journeymap.metrics.opportunities import behaviour, behaviour_of_journeys
from journeymap.model.document import JourneyMap
from journeymap.progress import Progress, report
from journeymap.text.emotion import emotion_section
from journeymap.text.themes import themes_section



@dataclass
class Context:
    """What the extra sections read: the scope of the analysis and what came before."""

    con: ibis.BaseBackend
    jmap: JourneyMap
    store: Any
    segment: str | None
    since: dt.date | dt.datetime | None
    until: dt.date | dt.datetime | None
    by: str | None
    result: dict[str, Any]
    insight: InsightOptions = field(default_factory=InsightOptions)

    def customers(self) -> ir.Table | None:
        """The customers in scope when ``--segment`` narrows the persona (else None: the
        sections default to the persona)."""
        if not self.segment:
            return None
        chosen = customers_matching(self.con, self.segment)
        persona = persona_selection(self.con, self.jmap).customers  # None: the rule can't apply yet
        return chosen if persona is None else chosen.semi_join(persona, "customer_id")

    def events(self) -> ir.Table:
        if self.segment or self.since or self.until:
            return scoped_events(self.con, self.jmap, Scope(segment=self.segment, since=self.since,
                                                            until=self.until))[0]
        return persona_events(self.con, self.jmap)[0]


def _ts(value: dt.date | dt.datetime | None) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime(value.year, value.month, value.day)


def breakdown_attribute(c: Context) -> str | None:
    """The customer attribute the per-segment breakdowns (segments, feedback, CLV) split
    by: ``--by``, else the persona's attribute — None when the persona names none, or
    one not loaded yet (the scope's notice says so)."""
    if c.by:
        return c.by
    attribute = persona_attribute(c.jmap)
    return attribute if attribute in (customer_attributes(c.con) or ()) else None


def _segments(c: Context) -> list[dict[str, object]]:
    attribute = breakdown_attribute(c)
    if attribute is None:
        return []
    # the persona is one value of its own attribute: compare it with everyone else
    return segment_comparison(c.con, c.jmap, attribute, persona=c.by is not None and c.segment is None,
                              events=None if c.by is None else c.events())


def _text(fn: Callable[..., dict[str, Any]]) -> Callable[[Context], dict[str, Any]]:
    def run(c: Context) -> dict[str, Any]:
        return fn(c.con, c.jmap, customers=c.customers(), since=_ts(c.since), until=_ts(c.until), store=c.store)
    return run


#: the behaviour aggregates pain points read: they read only the store, so they are
#: computed beside the other sections (a job of their phase), the rules after them
BEHAVIOUR = "behaviour"


def _behaviour(a: Analysis) -> Any:
    """The behaviour aggregates: from the analysis's journey table when it holds every
    customer's steps (no persona rule or ``--segment`` applied, no channel filter, per
    customer), else from a journey table of their own (the persona and the rest)."""
    s = a.scope
    if (a.options.unit == "customer" and not s.channels and not a.info.rules
            and (s.persona or not a.jmap.persona.segment)):
        return behaviour_of_journeys(a.con, a.jmap, a.journeys, dict(a.names))
    return behaviour(a.con, a.jmap, segment=s.segment, since=s.since, until=s.until)


def _pains(c: Context) -> list[dict[str, Any]]:
    found = c.result.pop(BEHAVIOUR, None) or behaviour(c.con, c.jmap, segment=c.segment,
                                                       since=c.since, until=c.until)
    pains, opportunities = find_insight(c.result, c.jmap, found, c.insight)
    c.result["opportunities"] = opportunities
    return pains


#: the analysis layer's sections, in the one registry (journeymap.engine.sections):
#: name, function, and what it reads (computed first) or uses when computed anyway;
#: ``cost``: rough seconds on the 250k-customer demo (the heaviest are started first)
_READS_FOR_PAINS = ("stages", "touchpoints", "transitions", "paths", BEHAVIOUR, "segments", "churn",
                    "cohorts", "feedback", "attribution", "goal", "emotion")
for _name, _fn, _spec in (
    ("segments", _segments, {"cost": 1.4}),
    ("churn", lambda c: churn_section(c.con, c.jmap, events=c.events()), {"cost": 2.7}),
    ("cohorts", lambda c: cohort_retention(c.con, events=c.events()), {"cost": 0.5, "page": False}),
    ("clusters", lambda c: clusters(c.con, jmap=c.jmap, events=c.events()),
     {"cost": 3.0, "fast": False, "page": False}),
    ("feedback", lambda c: feedback_section(c.con, c.jmap, segment_by=breakdown_attribute(c),
                                            since=iso(c.since), until=iso(c.until)), {"cost": 1.5}),
    ("attribution", lambda c: attribution_section(c.con, c.jmap), {"cost": 4.5}),
    ("clv", lambda c: clv_section(c.con, c.jmap, segment_by=breakdown_attribute(c)),
     {"cost": 2.6, "fast": False, "page": False}),
    ("goal", lambda c: goal_section(c.con, c.jmap), {"cost": 1.0}),
    ("emotion", _text(emotion_section), {"cost": 1.0}),
    ("themes", _text(themes_section), {"cost": 2.0, "fast": False}),
    ("alerts", lambda c: decay_alerts(c.result.get("feedback"), c.result.get("goal"), c.result.get("stage_periods")),
     {"cost": 0.01, "reads": ("feedback", "goal", "stage_periods")}),
    # pain points read every section they can: those above, and the slow ones when asked for
    ("pain_points", _pains, {"reads": _READS_FOR_PAINS, "uses": ("clv", "themes", "clusters"),
                             "also": ("opportunities",)}),
):
    SECTIONS.register(_name, _fn, phase="results", **_spec)
# a section of the journeys phase: it may read the journey table (see _behaviour)
SECTIONS.register(BEHAVIOUR, _behaviour, phase="journeys", cost=3.5, hidden=True)

#: what ``--fast`` and the map page leave out (the slowest sections)
FAST_SKIPS = tuple(n for n, s in SECTIONS.items() if not s.fast)
PAGE_SKIPS = tuple(n for n, s in SECTIONS.items() if not s.page)


def section_names() -> list[str]:
    """Every section ``sections=`` may name, in output order."""
    return SECTIONS.names()


def full_analysis(
    con: ibis.BaseBackend,
    jmap: JourneyMap,
    *,
    store: Any = None,
    segment: str | None = None,
    since: dt.date | dt.datetime | None = None,
    until: dt.date | dt.datetime | None = None,
    by: str | None = None,
    sections: Sequence[str] | None = None,
    fast: bool = False,
    insight: InsightOptions = InsightOptions(),
    progress: Progress | None = None,
    **engine_options: Any,
) -> dict[str, Any]:
    """Everything ``analyze --json`` reports on ``jmap`` (DESIGN §3.3 and issue 4).

    ``sections`` limits the output to those keys (``map`` and ``scope`` always come);
    ``fast`` skips :data:`FAST_SKIPS`; ``store`` (the workspace's) lets the text
    sections cache sentiment scores; ``engine_options`` go to ``analyze_map``."""
    known = section_names()
    wanted = list(known if sections is None else dict.fromkeys(sections))
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise JourneymapError(f"unknown section '{unknown[0]}' (known: {', '.join(known)})")
    if fast:
        wanted = [s for s in wanted if s not in FAST_SKIPS]
    if "opportunities" in wanted and "pain_points" not in wanted:
        wanted.append("pain_points")
    needed = SECTIONS.needed(wanted)
    later = [n for n in needed if SECTIONS[n].phase == "results"]
    result = analyze_map(con, jmap, segment=segment, since=since, until=until, by=by,
                         sections=("map", "scope", *needed), progress=progress, **engine_options)
    c = Context(con, jmap, store, segment, since, until, by, result, insight)
    # these read the store and the results before them: each wave runs side by side (on
    # DuckDB, one per thread on cursors of the database) once the waves it waits for ran
    for wave in SECTIONS.waves(later):
        result.update(side_by_side(con, lambda on: replace(c, con=on), wave,
                                   lambda ctx, name: SECTIONS[name].run(ctx), progress,
                                   parallel=True, weights=SECTIONS.costs(), label=None))
    report(progress, "done", len(later), len(later))
    keep = {"map", "scope", *wanted}
    _touchpoint_kpis(result)
    return {k: settle(v) for k, v in result.items() if k in keep}


TOUCHPOINT_KPIS = ("csat", "nps", "ces")


def _touchpoint_kpis(result: dict[str, Any]) -> None:
    """Each touchpoint row carries its feedback KPIs and comment sentiment (DESIGN §3.3:
    ``touchpoints: [{..., csat, nps, ces, sentiment}]``), the same dicts — value, n,
    interval — as the ``feedback`` and ``emotion`` sections; None where nobody answered.
    Added only when those sections ran."""
    feedback, emotion = result.get("feedback"), result.get("emotion")
    by_tp = feedback.get("touchpoints") if isinstance(feedback, dict) else None
    felt = emotion.get("touchpoints") if isinstance(emotion, dict) else None
    sentiment = {r["touchpoint"]: r.get("sentiment") for r in felt or [] if isinstance(r, dict)}
    for row in result.get("touchpoints") or []:
        if isinstance(by_tp, dict):
            kpis = by_tp.get(row["id"]) or {}
            row.update({k: kpis.get(k) for k in TOUCHPOINT_KPIS})
        if felt is not None:
            row["sentiment"] = sentiment.get(row["id"])


SIGNIFICANT_DIGITS = 12


def settle(value: Any) -> Any:
    """``value`` with every float rounded to :data:`SIGNIFICANT_DIGITS` significant digits.

    A parallel engine adds floating-point numbers in whatever order its threads finish,
    so the last bits of a sum or mean differ between runs (103.20430549680391 vs
    103.2043054968039); rounding far below any precision a person reads makes the same
    data give the same output, run after run."""
    if isinstance(value, float):
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}") if math.isfinite(value) else value
    if isinstance(value, dict):
        return {k: settle(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [settle(v) for v in value]
    return value




@dataclass(frozen=True)
class Filters:
    """The filters of ``analyze`` a page may set: a segment rule on customer attributes,
    a period (``since`` inclusive, ``until`` exclusive) and an attribute to break the
    stage funnel down by.  ``key`` is their canonical text ('' for none), the part of a
    cached analysis's key that is not the map or the data."""

    segment: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    by: str | None = None

    def __bool__(self) -> bool:
        return any((self.segment, self.since, self.until, self.by))

    @property
    def key(self) -> str:
        if not self:
            return ""
        import json

        return json.dumps(self.as_json(), sort_keys=True)

    @classmethod
    def from_key(cls, key: str) -> Filters:
        if not key:
            return cls()
        import json

        raw = json.loads(key)
        day = lambda v: dt.date.fromisoformat(v[:10]) if v else None  # noqa: E731
        return cls(raw.get("segment"), day(raw.get("since")), day(raw.get("until")), raw.get("by"))

    def as_json(self) -> dict[str, Any]:
        return {"segment": self.segment, "since": iso(self.since), "until": iso(self.until), "by": self.by}

    def with_by(self, by: str | None) -> Filters:
        return replace(self, by=by)

    def as_options(self) -> dict[str, Any]:
        return {"segment": self.segment, "since": self.since, "until": self.until, "by": self.by}


def page_analysis(con: ibis.BaseBackend, jmap: JourneyMap, *, store: Any = None,
                  progress: Progress | None = None, filters: Filters = Filters()) -> dict[str, Any]:
    """The analysis dict a map page renders: :func:`full_analysis` without the sections
    a page does not show (:data:`PAGE_SKIPS`), with ``filters`` applied."""
    wanted = [s for s in section_names() if s not in PAGE_SKIPS]
    return full_analysis(con, jmap, store=store, sections=wanted, progress=progress, **filters.as_options())
