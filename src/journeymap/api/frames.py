"""The sections of an analysis (the dict of ``analyze --json``) as flat tables.

Each table is a list of flat records (one column per number), built here without pandas
so the same rows feed pandas, Arrow and polars.  A number that carries its sample size
and interval — ``{value, n, ci_low, ci_high}`` or ``{value, n, interval: [lo, hi]}`` —
becomes the columns ``name``, ``name_n``, ``name_ci_low``, ``name_ci_high``: intervals
and n stay columns, never dropped.  Lists that are data of one row (a path's steps, a
pain point's quotes) stay one cell.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from journeymap.errors import JourneymapError

Record = dict[str, Any]

_INTERVAL_KEYS = ("interval", "ci")
#: dicts that are groups of columns, not one number: their ``value`` stays ``name_value``
_GROUPS = frozenset({"evidence", "estimated_gain", "definition"})


def flatten(row: Mapping[str, Any], prefix: str = "") -> Record:
    """``row`` with nested dicts spread into ``parent_child`` columns; a dict with a
    ``value`` gives that value the parent's name; a two-number ``interval``/``ci`` list
    gives ``ci_low`` and ``ci_high``."""
    out: Record = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            inner = dict(value)
            if inner.get("metric") == key:
                inner.pop("metric")  # {csat: {metric: csat, ...}}: said by the column name
            if "value" in inner and key not in _GROUPS:
                out[name] = inner.pop("value")
            out.update(flatten(inner, f"{name}_"))
        elif key in _INTERVAL_KEYS and (value is None or _pair(value)):
            stem = prefix
            out[f"{stem}ci_low"], out[f"{stem}ci_high"] = (value or (None, None))
        else:
            out[name] = value
    return out


def _pair(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and len(value) == 2 and all(
        v is None or isinstance(v, (int, float)) for v in value)


def _records(items: Any, **first: Any) -> list[Record]:
    """Flat records of a list of dicts, each after the columns ``first``."""
    if not isinstance(items, list):
        return []
    return [{**first, **flatten(r)} for r in items if isinstance(r, Mapping)]


def _path_text(rows: list[Record], column: str = "path") -> list[Record]:
    for r in rows:
        if isinstance(r.get(column), list):
            r[f"{column}_text"] = " → ".join(str(s) for s in r[column])
    return rows


# -- the tables, one function each ------------------------------------------------
def _by(section: Any) -> list[Record]:
    groups = section.get("groups") if isinstance(section, Mapping) else None
    attribute = section.get("attribute") if isinstance(section, Mapping) else None
    out: list[Record] = []
    for group, data in (groups or {}).items():
        if isinstance(data, Mapping):
            out += _records(data.get("stages"), attribute=attribute, group=group)
    return out


def _outcome_paths(section: Any) -> list[Record]:
    if not isinstance(section, Mapping):
        return []
    step = section.get("step")
    out: list[Record] = []
    for outcome in ("converted", "dropped"):
        out += _records(section.get(outcome), step=step, outcome=outcome)
    return _path_text(out)


def _around(section: Any) -> list[Record]:
    """``paths_to`` / ``paths_from``: their path rows (or the section as one row)."""
    if isinstance(section, list):
        return _path_text(_records(section))
    if not isinstance(section, Mapping):
        return []
    lists = {k: v for k, v in section.items() if isinstance(v, list) and v and isinstance(v[0], Mapping)}
    if not lists:
        return [flatten(section)]
    scalars = {k: v for k, v in section.items() if not isinstance(v, (list, Mapping))}
    out: list[Record] = []
    for key, items in lists.items():
        out += _records(items, **scalars, part=key)
    return _path_text(out)


def _feedback_block(block: Any, **where: Any) -> list[Record]:
    """``{metric: kpi}`` as records ``{**where, metric, value, n, ci_low, ci_high, ...}``."""
    if not isinstance(block, Mapping):
        return []
    return [{**where, "metric": m, **flatten({k: v for k, v in kpi.items() if k != "metric"})}
            for m, kpi in block.items() if isinstance(kpi, Mapping)]


def _feedback_levels(section: Mapping[str, Any], **where: Any) -> list[Record]:
    out = _feedback_block(section.get("journey"), **where, level="journey", stage=None, touchpoint=None)
    for stage, block in (section.get("stages") or {}).items():
        out += _feedback_block(block, **where, level="stage", stage=stage, touchpoint=None)
    for tp, block in (section.get("touchpoints") or {}).items():
        out += _feedback_block(block, **where, level="touchpoint", stage=None, touchpoint=tp)
    return out


def _feedback(section: Any) -> list[Record]:
    return _feedback_levels(section) if isinstance(section, Mapping) else []


def _feedback_by_period(section: Any) -> list[Record]:
    if not isinstance(section, Mapping):
        return []
    out: list[Record] = []
    for period, block in (section.get("periods") or {}).items():
        if isinstance(block, Mapping):
            out += _feedback_levels(block, period=period)
    return out


def _feedback_by_segment(section: Any) -> list[Record]:
    if not isinstance(section, Mapping):
        return []
    out: list[Record] = []
    for segment, block in (section.get("segments") or {}).items():
        if isinstance(block, Mapping):
            out += _feedback_levels(block, attribute=section.get("segment_by"), segment=segment)
    return out


def _feedback_after(section: Any) -> list[Record]:
    """Each KPI of customers who reached a touchpoint against those who did not."""
    if not isinstance(section, Mapping):
        return []
    out: list[Record] = []
    for tp, metrics in (section.get("after_touchpoint") or {}).items():
        for metric, groups in (metrics or {}).items():
            if isinstance(groups, Mapping):
                for group, kpi in groups.items():
                    if isinstance(kpi, Mapping):
                        out.append({"touchpoint": tp, "metric": metric, "group": group,
                                    **flatten({k: v for k, v in kpi.items() if k != "metric"})})
    return out


def _keyed(section: Any, part: str, key: str) -> list[Record]:
    """``section[part]`` = ``{id: {...}}`` as records with ``key`` = id."""
    block = section.get(part) if isinstance(section, Mapping) else None
    if not isinstance(block, Mapping):
        return []
    return [{key: k, **flatten(v)} for k, v in block.items() if isinstance(v, Mapping)]


def _churn(part: str) -> Callable[[Any], list[Record]]:
    return lambda section: _records(section.get(part)) if isinstance(section, Mapping) else []


def _stage_periods(section: Any) -> list[Record]:
    """One row per stage and complete month: customers entering it, converted, share."""
    if not isinstance(section, Mapping):
        return []
    return [{"stage": stage, "next": block.get("next"), "period": period, **flatten(v)}
            for stage, block in (section.get("stages") or {}).items()
            for period, v in (block.get("periods") or {}).items()]


def _cohorts(section: Any) -> list[Record]:
    """One row per cohort and period since its start: active customers and retention."""
    if not isinstance(section, Mapping):
        return []
    out: list[Record] = []
    for c in section.get("cohorts") or []:
        active, retention = c.get("active") or [], c.get("retention") or []
        for i in range(max(len(active), len(retention))):
            out.append({"cohort": c.get("cohort"), "start": c.get("start"), "customers": c.get("customers"),
                        "period": i, "active": active[i] if i < len(active) else None,
                        "retention": retention[i] if i < len(retention) else None})
    return out


def _clv(section: Any) -> list[Record]:
    """The CLV summary of every customer, then per segment and of the persona."""
    if not isinstance(section, Mapping):
        return []
    out: list[Record] = []
    if isinstance(section.get("summary"), Mapping):
        out.append({"group": "all customers", "attribute": None, **flatten(section["summary"])})
    for seg, row in (section.get("segments") or {}).items():
        out.append({"group": seg, "attribute": section.get("segment_by"), **flatten(row)})
    persona = section.get("persona")
    if isinstance(persona, Mapping):
        row = dict(persona)
        out.append({"group": row.pop("persona", "persona"), "attribute": "persona", **flatten(row)})
    return out


def _clv_models(section: Any) -> list[Record]:
    models = section.get("models") if isinstance(section, Mapping) else None
    return [{"model": name, **flatten(fit)} for name, fit in (models or {}).items() if isinstance(fit, Mapping)]


def _part(part: str) -> Callable[[Any], list[Record]]:
    return lambda section: _records(section.get(part)) if isinstance(section, Mapping) else []


def _list(section: Any) -> list[Record]:
    return _records(section)


def _paths(section: Any) -> list[Record]:
    return _path_text(_records(section))


@dataclass(frozen=True)
class TableSpec:
    """A table of an analysis: the section it comes from, how, and what it holds."""

    name: str
    section: str
    build: Callable[[Any], list[Record]]
    doc: str
    stage_names: bool = False  # rows name a stage by ``id`` only: add its ``name``


TABLES: dict[str, TableSpec] = {t.name: t for t in (
    TableSpec("stages", "stages", _list, "The stage funnel: customers reaching each stage, conversion to the "
              "next, exit rate, median time in the stage."),
    TableSpec("touchpoints", "touchpoints", _list, "Each touchpoint's reach (events, customers, share) and its "
              "CSAT, NPS, CES and comment sentiment with n and interval."),
    TableSpec("transitions", "transitions", _list, "Touchpoint-to-touchpoint transitions: count, customers, "
              "median and p90 time, share of the source's exits."),
    TableSpec("stage_transitions", "stage_transitions", _list, "Stage-to-stage transitions (START/END included)."),
    TableSpec("paths", "paths", _paths, "The most common paths through the touchpoints, with customers and share."),
    TableSpec("outcome_paths", "outcome_paths", _outcome_paths, "Paths of customers who reached the goal step "
              "against those who dropped."),
    TableSpec("paths_to", "paths_to", _around, "The steps that lead to the touchpoint of paths_to=."),
    TableSpec("paths_from", "paths_from", _around, "The steps that follow the touchpoint of paths_from=."),
    TableSpec("loops", "loops", _list, "Steps customers repeat in a row, and how many get stuck there."),
    TableSpec("funnel", "funnel", _list, "The funnel: customers at each step, conversion, drop-off, time."),
    TableSpec("decay_points", "decay_points", _list, "Where customers who left each stage were last seen."),
    TableSpec("by", "by", _by, "The stage funnel per value of the by= attribute (columns attribute, group).",
              stage_names=True),
    TableSpec("pain_points", "pain_points", _list, "Pain points ranked, each with its evidence: metric, value, "
              "baseline, n, interval, test and adjusted p."),
    TableSpec("opportunities", "opportunities", _list, "Improvement opportunities with their estimated gain."),
    TableSpec("segments", "segments", _list, "Each metric of each customer segment against the rest, with test."),
    TableSpec("unmatched", "unmatched", _part("examples"), "Event names no touchpoint matches, most frequent "
              "first."),
    TableSpec("churn", "churn", _churn("by_last_touchpoint"), "Churn rate by the last touchpoint seen, against "
              "the rest, with test and corrected p."),
    TableSpec("churn_by_stage_exit", "churn", _churn("by_stage_exit"), "Churn rate by the touchpoint a stage "
              "was left from."),
    TableSpec("cohorts", "cohorts", _cohorts, "Retention per monthly cohort and period since its start."),
    TableSpec("clusters", "clusters", _list, "Behaviour clusters of customers, with the features that set each "
              "apart."),
    TableSpec("feedback", "feedback", _feedback, "CSAT, NPS and CES of the journey, each stage and each "
              "touchpoint: value, n, interval."),
    TableSpec("feedback_by_period", "feedback", _feedback_by_period, "The feedback KPIs per month."),
    TableSpec("feedback_by_segment", "feedback", _feedback_by_segment, "The feedback KPIs per segment."),
    TableSpec("feedback_after_touchpoint", "feedback", _feedback_after, "Each KPI of customers who reached a "
              "touchpoint against those who did not."),
    TableSpec("attribution", "attribution", lambda s: _keyed(s, "touchpoints", "touchpoint"),
              "Conversions credited to each touchpoint by each model (first/last touch, linear, time decay, "
              "position based, Markov) and its removal effect."),
    TableSpec("attribution_channels", "attribution", lambda s: _keyed(s, "channels", "channel"),
              "The same credits per channel."),
    TableSpec("clv", "clv", _clv, "CLV of all customers, per segment and of the persona."),
    TableSpec("clv_models", "clv", _clv_models, "The fitted CLV models: parameters and log-likelihood."),
    TableSpec("goal", "goal", _part("monthly"), "The goal KPI per month with n and interval."),
    TableSpec("emotion", "emotion", _part("stages"), "The emotion curve: each stage's value from surveys and "
              "comments, with n and interval."),
    TableSpec("emotion_touchpoints", "emotion", _part("touchpoints"), "Each touchpoint's emotion value."),
    TableSpec("themes", "themes", _part("themes"), "Themes of the comments, with customers, sentiment and "
              "quotes."),
    TableSpec("stage_periods", "stage_periods", _stage_periods, "Each stage's conversion to a later stage "
              "within 30 days, per complete month of entering it."),
    TableSpec("alerts", "alerts", _part("alerts"), "KPIs and stage conversions significantly worse in the latest "
              "period than in the one before (Holm-corrected), and a goal off track, with their evidence."),
)}


def table_records(analysis: Mapping[str, Any], name: str) -> list[Record]:
    """The records of table ``name`` of ``analysis`` (see :data:`TABLES`)."""
    spec = TABLES.get(name)
    if spec is None:
        raise JourneymapError(f"unknown table '{name}' (known: {', '.join(TABLES)})")
    if spec.section not in analysis:
        raise JourneymapError(
            f"table '{name}': section '{spec.section}' is not in this analysis "
            f"(it left it out: analyze with sections=[..., '{spec.section}'], or without fast=True)")
    out = spec.build(analysis[spec.section])
    if spec.stage_names:
        names = {r.get("id"): r.get("name") for r in analysis.get("stages") or [] if isinstance(r, Mapping)}
        for r in out:
            r.setdefault("name", names.get(r.get("id"), r.get("id")))
    return out


def unavailable(analysis: Mapping[str, Any], name: str) -> str | None:
    """Why the section of table ``name`` has no data (``{available: false, reason}``), or None."""
    section = analysis.get(TABLES[name].section)
    if isinstance(section, Mapping) and section.get("available") is False:
        return str(section.get("reason") or f"no data for {TABLES[name].section}")
    return None
