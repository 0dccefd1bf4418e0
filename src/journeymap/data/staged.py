"""A file read into staging: what every reader returns and ingest reads (below both)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Staged:
    """A file read into staging: table names, its source columns, notes for the report."""

    file: str
    table: str
    rejects: str
    columns: list[str]
    fmt: str
    notes: list[str] = field(default_factory=list)
    #: JSON sources: column -> the JSON paths in ``_raw`` its value comes from, first
    #: present wins (ingest quarantines an object or a list where a value belongs)
    json_paths: dict[str, list[str]] = field(default_factory=dict)
    #: survey exports (``surveys.prepare``): columns added by reshaping that are not
    #: part of the raw record, source columns not to map (the question columns), default
    #: mappings of a recognised layout, its time zone, and the question of each ``_q``
    derived: list[str] = field(default_factory=list)
    hidden: set[str] = field(default_factory=set)
    mapping: dict[str, str] = field(default_factory=dict)
    timezone: str | None = None
    questions: list[str] = field(default_factory=list)
    #: typed sources (Parquet): timestamp columns staged as TIMESTAMP, not text —
    #: ``"utc"`` when the source said its zone (converted to UTC), ``"local"`` when it
    #: is naive (the source time zone applies); ingest reads them with no text parse
    typed: dict[str, str] = field(default_factory=dict)
    #: the stage is a view over the file (read-only: nothing may reshape it)
    is_view: bool = False

    def mappable(self) -> list[str]:
        """The columns matched to the contract: the source's, less the hidden, plus the
        derived."""
        return [c for c in self.columns if c not in self.hidden] + self.derived
