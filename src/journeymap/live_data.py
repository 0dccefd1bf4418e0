"""The live-data half of the workspace service: the collector, the event log's pieces,
surveys at touchpoints and snapshots (issue 13).  :class:`journeymap.workspace.Workspace`
inherits it; every method uses only the workspace's store, root and maps."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journeymap.errors import JourneymapError

if TYPE_CHECKING:
    from journeymap.collector import Collector
    from journeymap.data.store import Store
    from journeymap.touchpoint_surveys import SurveyDesk


class LiveData:
    """Live data of a workspace (mixed into :class:`journeymap.workspace.Workspace`)."""

    # given by the Workspace: its folder, its store, and its maps (resolve_map, load_map)
    root: Path
    store: Store

    def store_refused(self, rows: Sequence[tuple[str, str | None, str, str]], files: Sequence[str]) -> int:
        """Quarantine the collector's refused calls — (file, field, reason, raw call) — as
        one ingest of ``files``; how many."""
        from journeymap.data.ingest import record_refused

        return record_refused(self.store, "events", files, rows)

    def compact(self, *, if_due: bool = False) -> tuple[str, int]:
        """``journeymap compact``: merge the event log's appended pieces (ADR 0018) into
        one sorted piece: (``"merged"`` or ``"nothing"``, events merged).  ``if_due``:
        only when they have grown enough for it to pay (the collector's drain)."""
        from journeymap.data.event_pieces import compact, needs_compaction

        if if_due and not self.store.execute_write(needs_compaction):
            return "nothing", 0
        done = self.store.execute_write(compact)
        if done.how != "nothing":
            self.store.checkpoint()
        return done.how, done.moved

    def surveys(self) -> SurveyDesk:
        """Surveys at touchpoints: signed single-use links and the pop-up's asks
        (:mod:`journeymap.touchpoint_surveys`; the collector takes the answers)."""
        from journeymap.collector import FOLDER
        from journeymap.touchpoint_surveys import SurveyDesk

        return SurveyDesk(self, self.root / FOLDER)

    def survey_links(self, map_ref: str, touchpoint: str, customers: Sequence[str] | None = None, *,
                     segment: str | None = None, days: float = 14, base_url: str = "") -> list[tuple[str, str]]:
        """(customer, link) for each of ``customers`` — default: the survey's audience, or
        ``segment``'s customers, or every customer — to the survey at ``touchpoint``."""
        from journeymap.engine.journeys import customers_matching
        from journeymap.model.rules import RuleError
        from journeymap.touchpoint_surveys import SurveyError, find_survey

        desk = self.surveys()
        spec = find_survey(self, map_ref, touchpoint)
        if customers is None:
            rule = segment or spec.survey.audience
            con = self.store.ibis()
            try:
                table = customers_matching(con, rule) if rule else con.table("customers").select("customer_id")
                customers = [str(c) for c in table.to_pyarrow().column(0).to_pylist()]
            except (RuleError, JourneymapError) as exc:
                raise SurveyError(f"segment '{rule}': {exc}") from None
        return [(c, desk.link(spec.map_id, spec.touchpoint.id, c, days=days, base_url=base_url))
                for c in customers]

    def record_snapshot(self, map_id: str, analysis: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Keep today's numbers of map ``map_id`` from ``analysis`` in its history
        (:mod:`journeymap.snapshots`): (the snapshot, its alerts that the one before did
        not have)."""
        from journeymap.snapshots import new_alerts, record, snapshot_of

        snap = snapshot_of(analysis, map_id=map_id)
        before = record(self.root, snap)
        return snap, new_alerts(snap, before)

    def history(self, map_ref: str | os.PathLike[str]) -> list[dict[str, Any]]:
        """Every snapshot of a map (id or path), oldest first."""
        from journeymap.snapshots import history

        return history(self.root, self.load_map(self.resolve_map(map_ref)).id)

    def collector(self, **options: Any) -> Collector:
        """The event collector of this workspace (:class:`journeymap.collector.Collector`)."""
        from journeymap.collector import Collector

        return Collector(self, **options)

