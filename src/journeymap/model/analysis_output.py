"""The keys of ``analyze --json`` that other tools rely on (DESIGN.md §3.3), typed.

The engine and the result sections write these rows; the page, the app and the exports
read them by name.  Each row names the keys that identify it as required and the
measures as optional (a map without data, or an analysis of a subset of sections, leaves
them out)::

    a = parse_analysis(json.load(f))          # AnalysisError naming the bad field
    for stage in a.get("stages", []):
        stage["id"], stage.get("customers")

:func:`parse_analysis` checks a dict against the contract (types of every key present,
required keys of every row) and returns it unchanged; keys beyond the contract pass
through, so newer sections never break an older reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from typing_extensions import NotRequired, Required, TypedDict  # pydantic reads these on 3.11

from journeymap.errors import JourneymapError

Number = float | int


class AnalysisError(JourneymapError):
    """An analysis dict that does not follow DESIGN §3.3 (first problem, with its path)."""


class MapRef(TypedDict):
    id: str
    title: str
    type: NotRequired[str]


class StageRow(TypedDict, total=False):
    id: Required[str]
    name: str
    index: int
    customers: int | None
    visited: int | None
    share: Number | None
    conversion_to_next: Number | None
    exit_rate: Number | None
    median_seconds_in_stage: Number | None
    lost: int | None
    touchpoints: list[str]


class TouchpointRow(TypedDict, total=False):
    id: Required[str]
    name: str
    stage: str
    channel: str | None
    events: int | None
    customers: int | None
    share: Number | None
    csat: Any
    nps: Any
    ces: Any
    sentiment: Any


TransitionRow = TypedDict("TransitionRow", {
    "from": Required[str], "to": Required[str], "count": int, "customers": int | None,
    "median_seconds": Number | None, "p90_seconds": Number | None, "share": Number | None,
}, total=False)


class PathRow(TypedDict, total=False):
    path: Required[list[str]]
    customers: int
    share: Number | None


class FunnelStep(TypedDict, total=False):
    step: Required[str]
    index: int
    customers: int
    conversion: Number | None
    conversion_from_previous: Number | None
    drop_off: int | None
    median_seconds_from_previous: Number | None
    median_seconds_from_start: Number | None


class Evidence(TypedDict, total=False):
    metric: str
    value: Number | None
    baseline: Number | None
    compared_with: str | None
    n: int | None
    baseline_n: int | None
    ci: list[Number | None] | None
    test: str | None
    p_value: Number | None
    p_adjusted: Number | None
    quotes: list[str]


class PainPoint(TypedDict, total=False):
    target: Required[str]
    kind: Required[str]
    level: str
    score: Number
    rank: int
    customers_affected: int | None
    effect_size: Number | None
    evidence: Evidence
    related: list[dict[str, Any]]


class DecayPoint(TypedDict, total=False):
    stage: Required[str]
    touchpoint: str | None
    customers: int
    share_of_lost: Number | None
    share_of_stage: Number | None


class Unmatched(TypedDict, total=False):
    events: int
    share: Number | None
    examples: list[Any]


class Analysis(TypedDict, total=False):
    """What ``analyze --json`` writes: the contract's keys, plus any other section."""

    map: MapRef
    stages: list[StageRow]
    touchpoints: list[TouchpointRow]
    transitions: list[TransitionRow]
    paths: list[PathRow]
    funnel: list[FunnelStep]
    decay_points: list[DecayPoint]
    pain_points: list[PainPoint]
    segments: list[dict[str, Any]]
    unmatched: Unmatched
    scope: dict[str, Any]


@cache
def _adapter() -> Any:
    from pydantic import ConfigDict, TypeAdapter, with_config

    # strict: an id must be a string and a count a number, as JSON wrote them
    return TypeAdapter(with_config(ConfigDict(strict=True))(Analysis))


def parse_analysis(data: Mapping[str, Any] | None, *, source: str = "analysis") -> Analysis:
    """``data`` checked against DESIGN §3.3, returned as is (an :class:`Analysis`).

    Raises :class:`AnalysisError` ``"<source>: stages[2].id: ..."`` on the first problem.
    """
    from pydantic import ValidationError

    out: dict[str, Any] = dict(data or {})
    contract = {k: v for k, v in out.items() if k in Analysis.__annotations__ and v is not None}
    try:
        _adapter().validate_python(contract)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
        raise AnalysisError(f"{source}: {where}: {err['msg'].lower()}"
                            f" (got {err.get('input')!r:.60})") from None
    return out  # type: ignore[return-value]
