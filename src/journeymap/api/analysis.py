"""An analysis as a notebook works with it: each section a pandas DataFrame.

:class:`Analysis` wraps the dict of ``journeymap analyze --json`` (``to_dict()`` returns
it unchanged, ``to_json()`` writes the same text as the command) and reads its
sections as tables (:mod:`journeymap.api.frames`): ``a.stages``, ``a.touchpoints``,
``a.pain_points``, … — ``a.tables()`` lists those the analysis has.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journeymap.api import display
from journeymap.api.frames import TABLES, table_records, unavailable
from journeymap.errors import JourneymapError
from journeymap.model.document import JourneyMap

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl
    import pyarrow as pa


def to_json_text(data: Any) -> str:
    """The text ``--json`` writes (the same call as :func:`journeymap.commands.common.write_json`)."""
    return json.dumps(data, indent=2, default=str, allow_nan=False)


def data_frame(records: list[dict[str, Any]], note: str | None = None) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    if note:
        frame.attrs["note"] = note
    return frame


class _Table:
    """A property of :class:`Analysis` returning one table as a DataFrame."""

    def __init__(self, name: str):
        self.name = name
        self.__doc__ = TABLES[name].doc

    def __get__(self, obj: Analysis | None, owner: type) -> Any:
        if obj is None:
            return self
        return obj.table(self.name)


class Analysis:
    """The result of :meth:`journeymap.api.Workspace.analyze`: every section of
    ``analyze --json``, each table as a pandas DataFrame (columns of intervals and n
    included), with the map's charts; shown in a notebook as a summary."""

    def __init__(self, result: Mapping[str, Any], jmap: JourneyMap, *, options: Mapping[str, Any] | None = None):
        self._result = dict(result)
        self.map = jmap
        self.options = dict(options or {})
        self._view: Any = None

    # -- the sections ---------------------------------------------------------
    @property
    def scope(self) -> dict[str, Any]:
        """Customers and events in scope, the persona's segment, the period and notices."""
        return dict(self._result.get("scope") or {})

    @property
    def sections(self) -> list[str]:
        """The sections this analysis has (the keys of ``analyze --json``)."""
        return list(self._result)

    def __getitem__(self, section: str) -> Any:
        """A section as ``analyze --json`` has it (a list or dict)."""
        if section not in self._result:
            raise KeyError(f"section '{section}' is not in this analysis (it has: {', '.join(self._result)})")
        return self._result[section]

    def __contains__(self, section: object) -> bool:
        return section in self._result

    def tables(self) -> list[str]:
        """The names of the tables this analysis can give (``a.table(name)``, or ``a.<name>``)."""
        return [n for n, t in TABLES.items() if t.section in self._result]

    def table(self, name: str) -> pd.DataFrame:
        """Table ``name`` as a DataFrame (empty, with ``attrs["note"]`` saying why, when its
        section has no data — no transactions for CLV, say)."""
        return data_frame(table_records(self._result, name), unavailable(self._result, name))

    stages = _Table("stages")
    touchpoints = _Table("touchpoints")
    transitions = _Table("transitions")
    stage_transitions = _Table("stage_transitions")
    paths = _Table("paths")
    outcome_paths = _Table("outcome_paths")
    paths_to = _Table("paths_to")
    paths_from = _Table("paths_from")
    loops = _Table("loops")
    funnel = _Table("funnel")
    decay_points = _Table("decay_points")
    by = _Table("by")
    pain_points = _Table("pain_points")
    opportunities = _Table("opportunities")
    segments = _Table("segments")
    unmatched = _Table("unmatched")
    churn = _Table("churn")
    churn_by_stage_exit = _Table("churn_by_stage_exit")
    cohorts = _Table("cohorts")
    clusters = _Table("clusters")
    feedback = _Table("feedback")
    feedback_by_period = _Table("feedback_by_period")
    feedback_by_segment = _Table("feedback_by_segment")
    feedback_after_touchpoint = _Table("feedback_after_touchpoint")
    attribution = _Table("attribution")
    attribution_channels = _Table("attribution_channels")
    clv = _Table("clv")
    clv_models = _Table("clv_models")
    goal = _Table("goal")
    emotion = _Table("emotion")
    emotion_touchpoints = _Table("emotion_touchpoints")
    themes = _Table("themes")
    stage_periods = _Table("stage_periods")
    alerts = _Table("alerts")

    # -- other forms ----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The dict of ``journeymap analyze --json`` (a copy)."""
        return json.loads(to_json_text(self._result))

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """The JSON ``analyze --json`` writes; also written to ``path`` when given."""
        text = to_json_text(self._result)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def to_arrow(self, name: str) -> pa.Table:
        """Table ``name`` as a pyarrow Table."""
        import pyarrow as pa

        return pa.Table.from_pandas(self.table(name), preserve_index=False)

    def to_polars(self, name: str) -> pl.DataFrame:
        """Table ``name`` as a polars DataFrame (needs polars installed)."""
        try:
            import polars as pl
        except ImportError:
            raise JourneymapError("to_polars needs polars: pip install polars") from None
        return pl.from_arrow(self.to_arrow(name))  # type: ignore[return-value]

    # -- what a notebook shows ------------------------------------------------
    @property
    def view(self) -> Any:
        """The map joined with these numbers, as the page and the charts read it."""
        if self._view is None:
            self._view = display.view_of(self.map, self._result)
        return self._view

    def page(self) -> display.MapPage:
        """The map page drawn with this analysis's numbers (shown inline; ``.save(path)``)."""
        return display.map_page(self.map, self._result)

    def chart(self, name: str) -> display.Chart:
        """A chart of the map page by name: ``sankey``, ``funnel``, ``emotion``,
        ``outcome_paths`` or ``trend``."""
        if name not in display.CHARTS:
            raise JourneymapError(f"unknown chart '{name}' (known: {', '.join(display.CHARTS)})")
        found = display.chart(self.view, name)
        if found is None:
            raise JourneymapError(f"chart '{name}': this analysis has no data for it "
                                  f"(sections: {', '.join(self._result)})")
        return found

    def charts(self) -> list[display.Chart]:
        """Every chart the data supports, in the page's order."""
        out = [display.chart(self.view, n) for n in display.CHARTS]
        return [c for c in out if c is not None]

    def sankey(self) -> display.Chart:
        """Customers moving between stages (START and END included)."""
        return self.chart("sankey")

    def funnel_chart(self) -> display.Chart:
        """The funnel with its drop-off and where those who left went."""
        return self.chart("funnel")

    def emotion_chart(self) -> display.Chart:
        """The emotion curve: measured points with their interval, assumed ones hollow."""
        return self.chart("emotion")

    def compare(self, other: Analysis, labels: tuple[str, str] | None = None) -> display.Chart:
        """``other``'s stage reach beside this one's, stage by stage (two segments, two
        periods or two maps); ``labels``: this one's, then other's (default: their
        segment rule, else the map's title)."""
        if labels is None:
            labels = (self._label(), other._label())
        return display.compare(self.view, other.view, labels)

    def _label(self) -> str:
        scope = self._result.get("scope") or {}
        return str(scope.get("segment") or self.map.title)

    def _repr_html_(self) -> str:
        return display.summary_html(self.view, self.sections)

    def __repr__(self) -> str:
        scope = self.scope
        return (f"Analysis({self.map.id!r}: {scope.get('customers', 0):,} customers, "
                f"{scope.get('events', 0):,} events; tables: {', '.join(self.tables())})")
