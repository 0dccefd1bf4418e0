"""Contracts of customer data (DESIGN §3.2): the five kinds, their columns and limits.

Column names are matched forgivingly: first the explicit mapping of a
:class:`SourceConfig`, then our own column name exactly, then our name compared after
normalising case and dropping spaces, underscores, dashes and dots (``Customer ID``,
``customerId`` and ``customer-id`` all name ``customer_id``), then the short alias list
:data:`ALIASES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from journeymap.errors import ConfigError

Kind = Literal["events", "customers", "feedback", "transactions", "transcripts"]
KINDS: tuple[str, ...] = ("events", "customers", "feedback", "transactions", "transcripts")

ID_MAX = 256
NAME_MAX = 200
TEXT_MAX = 100_000
PROPERTIES_MAX = 1_000_000

FieldType = Literal["id", "name", "text", "timestamp", "score", "amount", "json", "metric"]


@dataclass(frozen=True)
class Field:
    """One contract column: its type, whether it is required, and its longest value."""

    name: str
    type: FieldType
    required: bool = False
    max_len: int | None = None


def _id(name: str, required: bool = False) -> Field:
    return Field(name, "id", required, ID_MAX)


_CID = _id("customer_id", True)
_TS = Field("timestamp", "timestamp", True)

CONTRACTS: dict[str, tuple[Field, ...]] = {
    "events": (_CID, _TS, Field("event", "name", True, NAME_MAX),
               Field("channel", "name", False, NAME_MAX), _id("session_id"),
               Field("properties", "json", False, PROPERTIES_MAX), _id("message_id")),
    "customers": (_CID,),
    "feedback": (_CID, _TS, Field("metric", "metric", True, NAME_MAX),
                 Field("score", "score", True), Field("touchpoint", "name", False, NAME_MAX),
                 Field("event", "name", False, NAME_MAX),
                 Field("comment", "text", False, TEXT_MAX)),
    "transactions": (_CID, _TS, Field("amount", "amount", True),
                     Field("currency", "name", False, 16), _id("order_id")),
    "transcripts": (_CID, _TS, Field("text", "text", True, TEXT_MAX),
                    Field("channel", "name", False, NAME_MAX),
                    Field("touchpoint", "name", False, NAME_MAX),
                    Field("speaker", "name", False, NAME_MAX)),
}

#: Score scales: metric -> (low, high, integers only).  Other metrics: any finite number.
SCALES: dict[str, tuple[float, float, bool]] = {
    "nps": (0, 10, True), "csat": (1, 5, False), "ces": (1, 7, False),
}

#: The whole alias list (normalised spelling -> our column).  Kept short on purpose:
#: a wrong guess silently loads the wrong column, so anything else needs a mapping.
ALIASES: dict[str, str] = {
    "userid": "customer_id", "contactid": "customer_id", "accountid": "customer_id",
    "time": "timestamp", "ts": "timestamp", "eventtime": "timestamp", "date": "timestamp",
    "datetime": "timestamp", "createdat": "timestamp", "occurredat": "timestamp",
    "eventname": "event", "eventtype": "event", "action": "event",
}

#: Our key column per kind when a source provides one (deduplicates by it alone).
NATURAL_KEYS: dict[str, str] = {"events": "message_id", "transactions": "order_id"}


def normalise(name: str) -> str:
    """Lower-case, without spaces, underscores, dashes and dots."""
    return re.sub(r"[\s_\-.]+", "", name).lower()


def attribute_name(name: str) -> str:
    """A customer attribute column name in snake_case (``Company Size`` -> ``company_size``)."""
    snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name.strip())
    snake = re.sub(r"[^0-9a-zA-Z]+", "_", snake).strip("_").lower()
    return snake or "attribute"


@dataclass(frozen=True)
class SourceConfig:
    """How to read one source: column mapping (their name -> ours), format, time zone."""

    columns: dict[str, str] = field(default_factory=dict)
    format: str | None = None
    timezone: str = "UTC"
    timestamp_format: str | None = None
    #: survey exports (``surveys``): question column -> metric (wide to long), constant
    #: columns (name -> value), records under the header to skip (None: recognise)
    scores: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    skip_rows: int | None = None

    def __post_init__(self) -> None:
        if self.skip_rows is not None and (isinstance(self.skip_rows, bool) or not isinstance(
                self.skip_rows, int) or self.skip_rows < 0):
            raise ConfigError(f"skip_rows must be a whole number of rows, 0 or more (got {self.skip_rows!r})")
        for column, metric in self.scores.items():
            if not column.strip() or not metric.strip():
                raise ConfigError(f"score column {column!r} = {metric!r}: expected QUESTION_COLUMN=METRIC")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"unknown time zone {self.timezone!r} "
                              "(use an IANA name such as 'Europe/Berlin')") from exc
        if self.timestamp_format is not None:
            from journeymap.data.timestamps import format_problem

            problem = format_problem(self.timestamp_format)
            if problem is not None:
                raise ConfigError(f"timestamp format {self.timestamp_format!r} cannot be used: "
                                  f"{problem}")


@dataclass(frozen=True)
class Resolution:
    """Which source column feeds each contract column, and what is left over."""

    fields: dict[str, str]          # our column -> source column
    extras: list[str]               # source columns not in the contract
    missing: list[str]              # required contract columns not found


def resolve_columns(kind: str, source_columns: list[str], source: SourceConfig) -> Resolution:
    """Match source columns to the contract of ``kind`` (mapping, normalised name, alias)."""
    contract = {f.name for f in CONTRACTS[kind]}
    by_norm = {normalise(c): c for c in contract}
    taken: dict[str, str] = {}
    explicit = {normalise(k): v for k, v in source.columns.items()}
    for col in source_columns:
        target = source.columns.get(col) or explicit.get(normalise(col))
        if target is not None and target in contract and target not in taken:
            taken[target] = col
    for col in source_columns:  # our own name, exactly, before a near spelling of it
        if col in contract and col not in taken and col not in taken.values():
            taken[col] = col
    for col in source_columns:
        if col in taken.values():
            continue
        target = by_norm.get(normalise(col))
        if target is not None and target not in taken:
            taken[target] = col
    for col in source_columns:
        if col in taken.values():
            continue
        target = ALIASES.get(normalise(col))
        if target is not None and target in contract and target not in taken:
            taken[target] = col
    used = set(taken.values())
    extras = [c for c in source_columns if c not in used]
    missing = [f.name for f in CONTRACTS[kind] if f.required and f.name not in taken]
    return Resolution(taken, extras, missing)


def extra_name(col: str, source: SourceConfig) -> str:
    """The name an extra column gets (an explicit mapping to a non-contract name wins)."""
    explicit = {normalise(k): v for k, v in source.columns.items()}
    return source.columns.get(col) or explicit.get(normalise(col)) or col
