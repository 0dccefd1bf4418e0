"""One root exception with structured fields, in the style of sqlglot's errors.

Every error a user can cause is a :class:`JourneymapError`.  The CLI prints
``str(error)`` as one line on stderr and exits 1; ``--debug`` shows the traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class JourneymapError(Exception):
    """Root of every error a user can cause (bad input, missing workspace, ...)."""


class WorkspaceError(JourneymapError):
    """The workspace folder or its journeymap.toml is missing or invalid."""


class ConfigError(JourneymapError):
    """A setting in journeymap.toml or on the command line is invalid."""


class StoreError(JourneymapError):
    """The embedded store cannot be opened or written (e.g. locked by another process)."""


class EngineError(JourneymapError):
    """The analysis engine cannot be reached or is not installed."""


@dataclass(frozen=True)
class MapIssue:
    """One problem in a map document: where it is and what is wrong."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        field = f" {self.path}:" if self.path else ""
        return f"{where}:{field} {self.message}"


class MapValidationError(JourneymapError):
    """A journey map document is invalid; ``issues`` lists every problem found."""

    def __init__(self, issues: list[MapIssue]):
        self.issues = list(issues)
        first = str(self.issues[0]) if self.issues else "invalid map"
        more = f" (and {len(self.issues) - 1} more)" if len(self.issues) > 1 else ""
        super().__init__(first + more)


class IngestError(JourneymapError):
    """A whole file cannot be ingested (unreadable, wrong format, nothing loaded)."""

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 field: str | None = None):
        self.file, self.row, self.field = file, row, field
        parts = [p for p in (file, f"row {row}" if row is not None else None,
                             field) if p]
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)
