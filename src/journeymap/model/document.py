"""The journey map document: pydantic v2 models of journey-as-code.

A map tells the story of one persona in one scenario, towards one goal, through
ordered stages.  Each stage has lanes (rows): actions, goals, thoughts, emotion, pain
points, opportunities, owners, KPIs, backstage processes and custom lanes.  Touchpoints
sit in a stage, on a channel, and carry the rule that ties them to raw events.

Every cell may carry its evidence (a research note, a data query, or an assumption).
A cell written as a plain string is shorthand for ``{text: ...}``.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

SCHEMA_VERSION = 1
ID_PATTERN = r"^[a-z0-9][a-z0-9_\-]*$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=False)


class MapType(str, Enum):
    current_state = "current_state"
    future_state = "future_state"
    day_in_the_life = "day_in_the_life"
    service_recovery = "service_recovery"
    churn = "churn"
    service_blueprint = "service_blueprint"
    custom = "custom"


class StageKind(str, Enum):
    """How the stages are laid out: a funnel, physical places, or times of day."""

    funnel = "funnel"
    location = "location"
    time_of_day = "time_of_day"
    support_case = "support_case"
    custom = "custom"


class EvidenceKind(str, Enum):
    research = "research"
    data = "data"
    assumption = "assumption"


class Evidence(_Model):
    """Where a cell's content comes from."""

    kind: EvidenceKind = Field(description="research note, data query, or assumption")
    note: str | None = Field(default=None, description="what was found, by whom")
    source: str | None = Field(default=None, description="interview, survey, report, URL")
    query: str | None = Field(default=None, description="the data query behind the cell")
    date: dt.date | None = None


def _cell_shorthand(value: Any) -> Any:
    if isinstance(value, str):
        return {"text": value}
    return value


class Cell(_Model):
    """One entry in a lane.  ``"text"`` is shorthand for ``{text: "text"}``."""

    text: str = Field(min_length=1)
    evidence: Evidence | None = None
    touchpoint: str | None = Field(default=None, description="id of a touchpoint it refers to")


CellT = Annotated[Cell, BeforeValidator(_cell_shorthand)]


class Emotion(_Model):
    """The customer's feeling in a stage: −2 (very negative) … +2 (very positive),
    or ``from_data`` to measure it from surveys and what customers say."""

    value: float | None = Field(default=None, ge=-2, le=2)
    from_data: bool = Field(default=False, description="measure it from feedback and text")
    label: str | None = Field(default=None, description="a word for the feeling: frustrated, relieved")
    evidence: Evidence | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower().replace(" ", "_") == "from_data":
            return {"from_data": True}
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return {"value": value}
        return value

    @model_validator(mode="after")
    def _one_source(self) -> "Emotion":
        if self.value is None and not self.from_data:
            raise ValueError("give a value from -2 to 2, or from_data: true")
        return self


class Kpi(_Model):
    """A key performance indicator with a target, e.g. CSAT ≥ 0.8 at onboarding."""

    metric: str = Field(min_length=1, description="csat, nps, ces, conversion, churn_rate, ...")
    name: str | None = None
    target: float | None = None
    baseline: float | None = None
    direction: Literal["increase", "decrease"] = "increase"
    unit: str | None = Field(default=None, description="%, s, EUR, points")
    touchpoint: str | None = None


class GoalKpi(Kpi):
    """The map's goal KPI: baseline, target and deadline."""

    baseline: float | None = None
    target: float  # type: ignore[assignment]
    deadline: dt.date | None = None


class Goal(_Model):
    statement: str = Field(min_length=1, description="e.g. Reduce churn of service X by 15 % within six months")
    kpi: GoalKpi | None = None
    event: str | None = Field(default=None, description="the raw event that marks success (conversion)")


class Persona(_Model):
    """The one persona whose journey the map tells."""

    name: str = Field(min_length=1)
    description: str | None = None
    segment: str | None = Field(
        default=None,
        description="rule selecting this persona's customers, e.g. segment == 'SME' and company_size < 50",
    )
    demographics: dict[str, str | int | float] = Field(default_factory=dict)
    goals: list[str] = Field(default_factory=list)
    motivations: list[str] = Field(default_factory=list)
    frustrations: list[str] = Field(default_factory=list)
    preferred_channels: list[str] = Field(default_factory=list)
    offscreen: list[str] = Field(
        default_factory=list,
        description="what they do outside your channels: consult family, stakeholders",
    )
    quote: str | None = None


class Match(_Model):
    """The rule tying a touchpoint to raw events.  All given parts must hold."""

    event: str | None = Field(default=None, description="event name equals")
    event_in: list[str] | None = Field(default=None, description="event name is one of")
    event_regex: str | None = Field(default=None, description="event name matches this regex")
    channel: str | None = Field(default=None, description="event's channel equals")
    where: str | None = Field(
        default=None,
        description="predicate on the event, e.g. properties.plan == 'pro' and channel == 'app'",
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"event": value}
        if isinstance(value, list):
            return {"event_in": value}
        return value

    @field_validator("event_regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regex: {exc}") from None
        return value

    @field_validator("where")
    @classmethod
    def _rule_parses(cls, value: str | None) -> str | None:
        if value is not None:
            from journeymap.model.rules import parse_rule

            parse_rule(value)
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> "Match":
        if not any((self.event, self.event_in, self.event_regex, self.where, self.channel)):
            raise ValueError("give at least one of event, event_in, event_regex, channel, where")
        return self


class Touchpoint(_Model):
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    stage: str | None = Field(
        default=None,
        description="id of the stage it is counted in; defaults to the stage it is listed under",
    )
    channel: str = Field(min_length=1, description="web, email, app, phone, sales, support, social, store, ...")
    owner: str | None = Field(default=None, description="owning department or person")
    visibility: Literal["frontstage", "backstage"] = "frontstage"
    description: str | None = None
    match: Match | None = Field(default=None, description="rule tying it to raw events")
    submap: str | None = Field(default=None, description="path or id of a more detailed map")
    kpis: list[Kpi] = Field(default_factory=list)


class Lanes(_Model):
    """The rows of the map for one stage."""

    actions: list[CellT] = Field(default_factory=list)
    goals: list[CellT] = Field(default_factory=list)
    thoughts: list[CellT] = Field(default_factory=list)
    emotion: Emotion | None = None
    pain_points: list[CellT] = Field(default_factory=list)
    opportunities: list[CellT] = Field(default_factory=list)
    owners: list[CellT] = Field(default_factory=list)
    kpis: list[Kpi] = Field(default_factory=list)
    backstage: list[CellT] = Field(default_factory=list)
    custom: dict[str, list[CellT]] = Field(
        default_factory=dict, description="custom lanes: lane id -> cells (declare them in custom_lanes)"
    )


class Stage(_Model):
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    description: str | None = None
    time: str | None = Field(default=None, description="for day-in-the-life maps: 08:00-12:00")
    touchpoints: list[Touchpoint] = Field(default_factory=list)
    lanes: Lanes = Field(default_factory=Lanes)


class CustomLane(_Model):
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    description: str | None = None


class JourneyMap(_Model):
    """A customer journey map: one persona, one scenario, one goal, ordered stages."""

    journeymap: int = Field(default=SCHEMA_VERSION, description="schema version of this document")
    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1)
    type: MapType = MapType.current_state
    improves: str | None = Field(
        default=None, description="future-state maps: id of the current-state map this improves"
    )
    description: str | None = None
    scope: str | None = Field(default=None, description="where the journey starts and ends")
    goal: Goal
    persona: Persona
    scenario: str = Field(min_length=1)
    stage_kind: StageKind = StageKind.funnel
    stages: list[Stage] = Field(min_length=1)
    custom_lanes: list[CustomLane] = Field(default_factory=list)
    owners: list[str] = Field(default_factory=list, description="people who maintain this map")
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _future_state_improves(self) -> "JourneyMap":
        if self.type == MapType.future_state and not self.improves:
            raise ValueError("a future_state map must name the current-state map it improves (improves: <map id>)")
        return self

    def stage_ids(self) -> list[str]:
        return [s.id for s in self.stages]

    @property
    def touchpoints(self) -> list[Touchpoint]:
        """Every touchpoint, with ``stage`` resolved to the stage it is counted in."""
        out = []
        for stage in self.stages:
            for tp in stage.touchpoints:
                out.append(tp if tp.stage else tp.model_copy(update={"stage": stage.id}))
        return out

    def touchpoints_of(self, stage_id: str) -> list[Touchpoint]:
        return [t for t in self.touchpoints if t.stage == stage_id]
