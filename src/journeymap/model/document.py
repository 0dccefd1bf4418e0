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
    ValidationInfo,
    field_validator,
    model_validator,
)

SCHEMA_VERSION = 1
ID_PATTERN = r"^[a-z0-9][a-z0-9_\-]*$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=False)


class MapType(str, Enum):
    """The kind of map: the journey as it is today, as it should be, and special views."""

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
    """What kind of evidence backs a cell."""

    research = "research"
    data = "data"
    assumption = "assumption"


class Evidence(_Model):
    """Where a cell's content comes from."""

    kind: EvidenceKind = Field(description="research note, data query, or assumption")
    note: str | None = Field(default=None, description="what was found, by whom")
    source: str | None = Field(default=None, description="interview, survey, report, URL")
    query: str | None = Field(default=None, description="the data query behind the cell")
    date: dt.date | None = Field(default=None, description="when it was found (YYYY-MM-DD)")


def _check_rule(value: str | None) -> str | None:
    """Reject a rule that does not parse; ``RuleError`` is a ``ValueError``."""
    if value is not None:
        from journeymap.model.rules import parse_rule

        parse_rule(value)
    return value


def _cell_shorthand(value: Any) -> Any:
    if isinstance(value, str):
        return {"text": value}
    return value


class Cell(_Model):
    """One entry in a lane.  ``"text"`` is shorthand for ``{text: "text"}``."""

    text: str = Field(min_length=1, description="what the cell says")
    evidence: Evidence | None = Field(default=None, description="where the content comes from")
    touchpoint: str | None = Field(default=None, description="id of a touchpoint it refers to")


CellT = Annotated[Cell, BeforeValidator(_cell_shorthand, json_schema_input_type=str | Cell)]


def _emotion_shorthand(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower().replace(" ", "_") == "from_data":
        return {"from_data": True}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"value": value}
    return value


class Emotion(_Model):
    """The customer's feeling in a stage: −2 (very negative) … +2 (very positive),
    or ``from_data`` to measure it from surveys and what customers say."""

    value: float | None = Field(default=None, ge=-2, le=2, description="-2 (very negative) to +2 (very positive)")
    from_data: bool = Field(default=False, description="measure it from feedback and text")
    label: str | None = Field(default=None, description="a word for the feeling: frustrated, relieved")
    evidence: Evidence | None = Field(default=None, description="where the value comes from")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return _emotion_shorthand(value)

    @model_validator(mode="after")
    def _one_source(self) -> "Emotion":
        if self.value is None and not self.from_data:
            raise ValueError("give a value from -2 to 2, or from_data: true")
        return self


EmotionT = Annotated[
    Emotion,
    BeforeValidator(_emotion_shorthand, json_schema_input_type=float | Literal["from_data"] | Emotion),
]


class Kpi(_Model):
    """A key performance indicator with a target, e.g. CSAT ≥ 0.8 at onboarding."""

    metric: str = Field(min_length=1, description="csat, nps, ces, conversion, churn_rate, ...")
    name: str | None = Field(default=None, description="a readable name for the KPI")
    target: float | None = Field(default=None, description="the value to reach")
    baseline: float | None = Field(default=None, description="the value today")
    direction: Literal["increase", "decrease"] = Field(
        default="increase", description="whether higher (increase) or lower (decrease) is better"
    )
    unit: str | None = Field(default=None, description="%, s, EUR, points")
    touchpoint: str | None = Field(default=None, description="id of the touchpoint it is measured at")


class GoalKpi(Kpi):
    """The map's goal KPI: baseline, target and deadline."""

    baseline: float | None = Field(default=None, description="the value today")
    target: float = Field(description="the value to reach by the deadline")  # type: ignore[assignment]
    deadline: dt.date | None = Field(default=None, description="when the target is due (YYYY-MM-DD)")


class Goal(_Model):
    """What the journey should achieve for the business, and how it is measured."""

    statement: str = Field(min_length=1, description="e.g. Reduce churn of service X by 15 % within six months")
    kpi: GoalKpi | None = Field(default=None, description="the KPI that measures the goal")
    event: str | None = Field(default=None, description="the raw event that marks success (conversion)")


class Persona(_Model):
    """The one persona whose journey the map tells."""

    name: str = Field(min_length=1, description="a name that makes the persona memorable")
    description: str | None = Field(default=None, description="who they are, in a few sentences")
    segment: str | None = Field(
        default=None,
        description="rule selecting this persona's customers, e.g. segment == 'SME' and company_size < 50",
    )
    demographics: dict[str, str | int | float] = Field(
        default_factory=dict, description="attributes such as role, company_size, country"
    )
    goals: list[str] = Field(default_factory=list, description="what they want to achieve")
    motivations: list[str] = Field(default_factory=list, description="why they want it")
    frustrations: list[str] = Field(default_factory=list, description="what gets in their way")
    preferred_channels: list[str] = Field(default_factory=list, description="channels they like to use")
    offscreen: list[str] = Field(
        default_factory=list,
        description="what they do outside your channels: consult family, stakeholders",
    )
    quote: str | None = Field(default=None, description="a typical sentence in their own words")

    _segment_parses = field_validator("segment")(_check_rule)


def _match_shorthand(value: Any) -> Any:
    if isinstance(value, str):
        return {"event": value}
    if isinstance(value, list):
        return {"event_in": value}
    return value


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
        return _match_shorthand(value)

    @field_validator("event_regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regex: {exc}") from None
        return value

    _where_parses = field_validator("where")(_check_rule)

    @model_validator(mode="after")
    def _not_empty(self) -> "Match":
        if not any((self.event, self.event_in, self.event_regex, self.where, self.channel)):
            raise ValueError("give at least one of event, event_in, event_regex, channel, where")
        return self


MatchT = Annotated[
    Match, BeforeValidator(_match_shorthand, json_schema_input_type=str | list[str] | Match)
]


#: The survey question asked when a touchpoint's survey names none
DEFAULT_QUESTIONS = {
    "csat": "How satisfied are you with {touchpoint}?",
    "nps": "How likely are you to recommend us to a friend or colleague?",
    "ces": "How easy was it to get what you needed at {touchpoint}?",
}


class Survey(_Model):
    """A one-question survey asked at a touchpoint (CSAT 1-5, NPS 0-10 or CES 1-7), by
    the app's pop-up script, a signed single-use link (email, SMS) or the API."""

    metric: Literal["csat", "nps", "ces"] = Field(description="what is asked: csat (1-5), nps (0-10), ces (1-7)")
    question: str | None = Field(default=None, min_length=1, max_length=300,
                                 description="the question; default: the metric's usual wording")
    comment: str | None = Field(default=None, min_length=1, max_length=200,
                                description="the prompt of an optional free-text comment; omitted: no comment")
    audience: str | None = Field(default=None, description="customer rule: who is asked "
                                 "(e.g. plan == 'pro'); default everyone")
    every_days: int = Field(default=90, ge=0, le=3650,
                            description="ask one customer at most once per this many days (0: every time)")
    sample: float = Field(default=1.0, gt=0, le=1, description="share of the eligible customers asked")

    _audience_parses = field_validator("audience")(_check_rule)

    def question_for(self, touchpoint: str) -> str:
        """The question as asked at ``touchpoint`` (its name)."""
        return (self.question or DEFAULT_QUESTIONS[self.metric]).replace("{touchpoint}", touchpoint)


class Touchpoint(_Model):
    """A moment of contact between customer and company, on one channel."""

    id: str = Field(pattern=ID_PATTERN, description="unique among the map's touchpoints")
    name: str = Field(min_length=1, description="what the customer would call it")
    stage: str | None = Field(
        default=None,
        description="id of the stage it is counted in; defaults to the stage it is listed under",
    )
    channel: str = Field(min_length=1, description="web, email, app, phone, sales, support, social, store, ...")
    owner: str | None = Field(default=None, description="owning department or person")
    visibility: Literal["frontstage", "backstage"] = Field(
        default="frontstage", description="seen by the customer (frontstage) or not (backstage)"
    )
    description: str | None = Field(default=None, description="what happens here")
    match: MatchT | None = Field(
        default=None, description="rule tying it to raw events; a text is an event name, a list is event_in"
    )
    submap: str | None = Field(default=None, description="path or id of a more detailed map")
    kpis: list[Kpi] = Field(default_factory=list, description="KPIs measured at this touchpoint")
    survey: Survey | None = Field(default=None, description="a survey asked at this touchpoint "
                                  "(journeymap survey link, the pop-up script, POST /v1/survey)")


class Lanes(_Model):
    """The rows of the map for one stage."""

    actions: list[CellT] = Field(default_factory=list, description="what the customer does")
    goals: list[CellT] = Field(default_factory=list, description="what the customer wants in this stage")
    thoughts: list[CellT] = Field(default_factory=list, description="what the customer thinks or asks")
    emotion: EmotionT | None = Field(
        default=None, description="how the customer feels: a number from -2 to 2, or from_data"
    )
    pain_points: list[CellT] = Field(default_factory=list, description="what hurts or blocks the customer")
    opportunities: list[CellT] = Field(default_factory=list, description="ideas to improve the stage")
    owners: list[CellT] = Field(default_factory=list, description="departments or people responsible")
    kpis: list[Kpi] = Field(default_factory=list, description="KPIs of this stage")
    backstage: list[CellT] = Field(
        default_factory=list, description="processes the customer does not see (service blueprint)"
    )
    custom: dict[str, list[CellT]] = Field(
        default_factory=dict, description="custom lanes: lane id -> cells (declare them in custom_lanes)"
    )


class Stage(_Model):
    """One step of the journey, with its touchpoints and lanes."""

    id: str = Field(pattern=ID_PATTERN, description="unique within the map")
    name: str = Field(min_length=1, description="a short name shown as the column title")
    description: str | None = Field(default=None, description="what happens in this stage")
    time: str | None = Field(default=None, description="for day-in-the-life maps: 08:00-12:00")
    touchpoints: list[Touchpoint] = Field(default_factory=list, description="touchpoints listed under this stage")
    lanes: Lanes = Field(default_factory=Lanes, description="the map's rows for this stage")


class CustomLane(_Model):
    """A lane beyond the built-in ones; stages fill it under ``lanes.custom.<id>``."""

    id: str = Field(pattern=ID_PATTERN, description="the key used under lanes.custom")
    name: str = Field(min_length=1, description="the lane's title")
    description: str | None = Field(default=None, description="what the lane shows")


class JourneyMap(_Model):
    """A customer journey map: one persona, one scenario, one goal, ordered stages."""

    journeymap: int = Field(default=SCHEMA_VERSION, description="schema version of this document")
    id: str = Field(pattern=ID_PATTERN, description="unique among the workspace's maps")
    title: str = Field(min_length=1, description="the map's title")
    type: MapType = Field(default=MapType.current_state, description="the kind of map")
    improves: str | None = Field(
        default=None,
        description="future-state maps: id of the current-state map this improves",
        validate_default=True,
    )
    description: str | None = Field(default=None, description="what the map is for")
    scope: str | None = Field(default=None, description="where the journey starts and ends")
    goal: Goal = Field(description="the business goal of the journey")
    persona: Persona = Field(description="the one persona whose journey this is")
    scenario: str = Field(min_length=1, description="the situation the persona is in")
    stage_kind: StageKind = Field(default=StageKind.funnel, description="how the stages are laid out")
    stage_reach: Literal["furthest", "visited", "first", "last"] = Field(
        default="furthest",
        description=(
            "how the stage funnel counts a customer: 'furthest' — reaching a stage means the "
            "furthest stage with a matched touchpoint is that stage or later (a funnel); "
            "'first' or 'last' — the same with the stage of the customer's first (entry) or "
            "last (where they are now) matched touchpoint instead of the furthest; "
            "'visited' — only customers with a touchpoint in the stage itself (for maps where "
            "customers keep using later stages without passing an earlier one)"
        ),
    )
    stages: list[Stage] = Field(min_length=1, description="the stages, in order")
    custom_lanes: list[CustomLane] = Field(default_factory=list, description="lanes beyond the built-in ones")
    owners: list[str] = Field(default_factory=list, description="people who maintain this map")
    tags: list[str] = Field(default_factory=list, description="free labels for finding the map")

    @field_validator("improves")
    @classmethod
    def _future_state_improves(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("type") == MapType.future_state and not value:
            raise ValueError("a future_state map must name the current-state map it improves (improves: <map id>)")
        return value

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
