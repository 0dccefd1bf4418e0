"""Discover a draft journey map from the events alone.

Every event with enough volume (done by at least ``min_share`` of customers and at
least ``min_customers`` customers) becomes one touchpoint matching exactly that
event, so analysing the discovered map gives event-level results.  Touchpoints are
ordered by where they typically occur in journeys: the median, over customers, of the
normalised position of the customer's *first* occurrence of the event (0 = the
journey's first event, 1 = its last; journeys of one event are left out of the
positions).  Stages group consecutive touchpoints, cut at the largest gaps between
those medians (``method="gaps"``) or into equal-sized groups (``"quantiles"``).  A
touchpoint's channel is the channel most of its events came through.

The YAML explains in comments what was inferred and what was left out; it is a valid
map (checked by loading it back) for the user to rename, regroup and extend.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Literal

import ibis
import ibis.expr.types as ir
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from journeymap.engine.features import slug
from journeymap.engine.scope import event_names
from journeymap.errors import JourneymapError
from journeymap.model.yamlio import load_map_text
from journeymap.progress import Progress, report

Method = Literal["gaps", "quantiles"]


@dataclass
class FoundEvent:
    event: str
    events: int
    customers: int
    position: float
    channel: str
    channel_share: float


@dataclass
class Discovery:
    customers: int
    events: int
    kept: list[FoundEvent]
    dropped: list[FoundEvent]
    stages: list[list[FoundEvent]]
    threshold: int
    method: str
    yaml: str = field(default="", repr=False)


def _profile_events(events: ir.Table) -> list[dict[str, object]]:
    """Per event id: events, customers, and the median normalised position of its
    first occurrence among the customer's first occurrences of distinct events."""
    firsts = events.group_by(["customer_id", "event_id"]).aggregate(first=events.timestamp.min())
    ranked = firsts.mutate(
        _rn=ibis.row_number().over(group_by="customer_id", order_by=["first", "event_id"]),
        _n=ibis._.event_id.count().over(group_by="customer_id"),
    )
    spread = ranked.filter(ranked._n > 1)
    positions = spread.group_by("event_id").aggregate(
        position=(spread._rn.cast("float64") / (spread._n - 1).cast("float64")).median())
    volume = events.group_by("event_id").aggregate(events=events.count(), customers=events.customer_id.nunique())
    joined = volume.left_join(positions, "event_id").drop("event_id_right")
    return joined.to_pyarrow().to_pylist()  # type: ignore[no-any-return]


def _channels(events: ir.Table) -> dict[int, tuple[str, float]]:
    rows = (events.group_by(["event_id", "channel"]).aggregate(n=events.count())
            .to_pyarrow().to_pylist())
    totals: dict[int, int] = {}
    best: dict[int, tuple[str, int]] = {}
    for r in sorted(rows, key=lambda r: (r["event_id"], -r["n"], str(r["channel"]))):
        eid = int(r["event_id"])
        totals[eid] = totals.get(eid, 0) + int(r["n"])
        if eid not in best:
            best[eid] = (str(r["channel"]) if r["channel"] is not None else "unknown", int(r["n"]))
    return {eid: (ch, n / totals[eid]) for eid, (ch, n) in best.items()}


def split_stages(positions: list[float], stages: int, method: Method = "gaps") -> list[int]:
    """Indexes where each new stage starts in the sorted ``positions`` (first is 0)."""
    m = len(positions)
    stages = max(1, min(stages, m))
    if method == "quantiles":
        return sorted({round(i * m / stages) for i in range(stages)})
    if method != "gaps":
        raise JourneymapError(f"method '{method}': use gaps or quantiles")
    gaps = sorted(range(1, m), key=lambda i: (-(positions[i] - positions[i - 1]), i))
    return sorted([0, *gaps[: stages - 1]])


def discover(
    con: ibis.BaseBackend,
    *,
    events: ir.Table | None = None,
    min_share: float = 0.01,
    min_customers: int = 5,
    stages: int | None = None,
    method: Method = "gaps",
    map_id: str = "discovered",
    progress: Progress | None = None,
) -> Discovery:
    """Find the touchpoints and stages, and write them as a map document."""
    events = events if events is not None else con.table("event_log")
    report(progress, "Discovering touchpoints", 0, 3)
    names = event_names(con)
    total = events.aggregate(n=events.count(), c=events.customer_id.nunique()).to_pyarrow().to_pylist()[0]
    n_events, n_customers = int(total["n"] or 0), int(total["c"] or 0)
    if n_events == 0:
        raise JourneymapError("no events in the store: ingest events first (journeymap ingest events FILE)")
    rows = _profile_events(events)
    report(progress, "Discovering touchpoints", 1, 3)
    chans = _channels(events)
    report(progress, "Discovering touchpoints", 2, 3)
    threshold = max(min_customers, math.ceil(min_share * n_customers))
    found = [FoundEvent(names.get(int(r["event_id"]), str(r["event_id"])), int(r["events"]), int(r["customers"]),
                        float(r["position"]) if r["position"] is not None else 0.5, *chans[int(r["event_id"])])
             for r in rows]
    found.sort(key=lambda f: (f.position, f.event))
    kept = [f for f in found if f.customers >= threshold]
    dropped = sorted((f for f in found if f.customers < threshold), key=lambda f: (-f.customers, f.event))
    if not kept:
        raise JourneymapError(
            f"no event is done by {threshold} customers or more; lower --min-share or --min-customers")
    count = stages if stages is not None else max(2, min(7, round(math.sqrt(len(kept)))))
    starts = split_stages([f.position for f in kept], count, method)
    groups = [kept[a:b] for a, b in zip(starts, [*starts[1:], len(kept)], strict=True)]
    result = Discovery(n_customers, n_events, kept, dropped, groups, threshold, method)
    result.yaml = render_yaml(result, map_id)
    load_map_text(result.yaml, f"{map_id}.yaml")  # the draft must be a valid map
    report(progress, "Discovering touchpoints", 3, 3)
    return result


def _human(event: str) -> str:
    words = slug(event).replace("_", " ")
    return words[:1].upper() + words[1:]


def _pct(x: float) -> str:
    return f"{x:.0%}"


def render_yaml(d: Discovery, map_id: str) -> str:
    """The discovery as a commented YAML map document."""
    doc = CommentedMap()
    doc["journeymap"] = 1
    doc["id"] = slug(map_id).replace("_", "-")
    doc["title"] = "Discovered journey (draft)"
    doc["type"] = "current_state"
    doc["description"] = (f"Drafted by journeymap discover from {d.events:,} events of {d.customers:,} customers: "
                          "one touchpoint per frequent event, stages from where events typically occur.")
    goal = CommentedMap(statement="Describe the business goal of this journey")
    doc["goal"] = goal
    doc.yaml_set_comment_before_after_key(
        "goal", before="Set goal.event to the event that marks success (one of the touchpoints' events) "
                       "to get conversion numbers.")
    doc["persona"] = CommentedMap(name="All customers",
                                  description="Every customer with events; narrow it with a segment rule.")
    doc["scenario"] = "The journey as the event data shows it; rewrite it in the customer's words."
    doc["stage_kind"] = "funnel"
    doc["tags"] = ["discovered", "draft"]
    seq = CommentedSeq()
    used: set[str] = set()
    for number, group in enumerate(d.stages, start=1):
        lead = max(group, key=lambda f: (f.customers, f.event))
        stage = CommentedMap()
        stage["id"] = f"stage-{number}"
        stage["name"] = f"Stage {number}: {_human(lead.event)}"
        stage["description"] = (f"Events that customers first do at {_pct(group[0].position)}–"
                                f"{_pct(group[-1].position)} of their journey (median).")
        tps = CommentedSeq()
        for f in group:
            tps.append(_touchpoint(f, d.customers, used))
        stage["touchpoints"] = tps
        seq.append(stage)
    doc["stages"] = seq
    method = ("cut at the largest gaps between median positions" if d.method == "gaps"
              else "cut into groups of equal size")
    header = [
        "Draft journey map discovered from the event data by `journeymap discover`.",
        f"Inferred from {d.events:,} events of {d.customers:,} customers:",
        f"- touchpoints: every event done by at least {d.threshold:,} customers ({len(d.kept)} events);",
        "  each matches exactly its event, so analysing this map gives event-level results;",
        "- order: median position of the event among the distinct events each customer did,",
        "  in the order of first occurrence (0 = the journey's first, 1 = its last new event);",
        f"- stages: {len(d.stages)}, {method}; names come from each stage's most common event;",
        "- channel: the channel most of the touchpoint's events came through.",
        "Edit freely: rename stages and touchpoints, merge touchpoints (match: event_in: [...]),",
        "add lanes (actions, thoughts, emotion, pain points), then run journeymap validate.",
    ]
    if d.dropped:
        listed = ", ".join(f"{f.event} ({f.customers})" for f in d.dropped[:10])
        more = f" and {len(d.dropped) - 10} more" if len(d.dropped) > 10 else ""
        header.append(f"Left out (fewer than {d.threshold:,} customers): {listed}{more}.")
    doc.yaml_set_start_comment("\n".join(header))
    buffer = io.StringIO()
    yaml = YAML()
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.dump(doc, buffer)
    return buffer.getvalue()


def _touchpoint(f: FoundEvent, customers: int, used: set[str]) -> CommentedMap:
    base = slug(f.event)
    tp_id, n = base, 2
    while tp_id in used:
        tp_id, n = f"{base}_{n}", n + 1
    used.add(tp_id)
    tp = CommentedMap()
    tp["id"] = tp_id
    tp["name"] = _human(f.event)
    tp["channel"] = f.channel
    if f.channel_share < 0.8:
        tp.yaml_add_eol_comment(f"# only {_pct(f.channel_share)} of its events; other channels too", "channel")
    tp["description"] = (f"{f.customers:,} customers ({_pct(f.customers / customers)}), {f.events:,} events; "
                         f"first done at {_pct(f.position)} of the journey (median).")
    match = CommentedMap(event=f.event)
    match.fa.set_flow_style()
    tp["match"] = match
    return tp
