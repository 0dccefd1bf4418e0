"""Analyses off the request path: one worker thread, results cached per (map text, data
version, filters).

A page asks :meth:`Jobs.analysis_for` and gets at once what is cached — the exact
analysis if there is one, else the latest of that map (marked stale) — while a job
computes the fresh one.  The worker reads the store on its own cursor, so a request
never waits for the engine, and an ingest (the store's one writer) is seen whole or not
at all.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from journeymap.analysis import Filters
from journeymap.app.library import MapLibrary
from journeymap.app.tables import AnalysisRow, JobRow, MapRow, MapVersion, utcnow
from journeymap.errors import JourneymapError

log = logging.getLogger("journeymap.app")

PROGRESS_EVERY = 0.25  # seconds between progress writes of one job
NO_FILTERS = Filters()


def alerts_of(result: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The alerts of an analysis (its ``alerts`` section; none for an older analysis)."""
    section = (result or {}).get("alerts")
    return [a for a in (section or {}).get("alerts", []) if isinstance(a, dict)] if isinstance(section, dict) else []


def alert_key(a: dict[str, Any]) -> tuple[Any, ...]:
    """What makes an alert the same one again: kind, where, metric and period."""
    return a.get("kind"), a.get("target"), a.get("metric"), a.get("period")


@dataclass(frozen=True)
class Cached:
    """An analysis from the cache; ``fresh`` when it is for this very map text and data."""

    result: dict[str, Any]
    fresh: bool
    version_checksum: str
    data_version: int
    created_at: Any
    seconds: float


class Jobs:
    """The app's background work (one worker: DuckDB runs each analysis on every core)."""

    def __init__(self, library: MapLibrary, sessions: sessionmaker[Session]):
        self.library = library
        self.sessions = sessions
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journeymap-job")
        self._running: dict[tuple[int, str, int, str], str] = {}  # (map, checksum, data, filters) -> job id
        self._guard = threading.Lock()
        self._futures: dict[str, Future[None]] = {}
        self._stop = threading.Event()
        #: told ``("map.alert", data)`` of each alert an analysis raises that the map's
        #: analysis before it did not (the app's webhooks)
        self.notify: Callable[[str, dict[str, Any]], Any] | None = None
        with sessions.begin() as s:  # jobs of an earlier process did not finish
            for job in s.scalars(select(JobRow).where(JobRow.status.in_(("queued", "running")))):
                job.status, job.error, job.finished_at = "failed", "the app stopped before it finished", utcnow()

    def close(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def refresh_every(self, seconds: float) -> threading.Thread:
        """Every ``seconds``, start an analysis of each valid map whose cached one is not
        fresh (its map or the data changed): the app's scheduler, so that alerts fire and
        snapshots are kept with nobody looking (``journeymap serve``)."""
        def loop() -> None:
            while not self._stop.wait(seconds):
                self.refresh_all()

        thread = threading.Thread(target=loop, name="journeymap-refresh", daemon=True)
        thread.start()
        return thread

    def refresh_all(self) -> int:
        """Start the analyses that are due (see :meth:`refresh_every`); how many."""
        started = 0
        try:
            self.library.sync()
            for m in self.library.maps():
                if m.latest.valid:
                    started += self.analysis_for(m.row.ref)[1] is not None
        except Exception:  # noqa: BLE001 - the next round tries again
            log.exception("scheduled refresh failed")
        return started

    # -- analyses --------------------------------------------------------------
    def analysis_for(self, ref: str, *, start: bool = True,
                     filters: Filters = NO_FILTERS) -> tuple[Cached | None, JobRow | None]:
        """The cached analysis of ``ref``'s latest version with ``filters`` (fresh, or the
        last one made with the same filters), and the job computing a fresh one when the
        cache has none (started if ``start``)."""
        summary = self.library.get(ref)
        data_version = self.library.ws.data_version()
        cached = self._cached(summary.row.id, summary.latest.checksum, data_version, filters.key)
        job = None
        if (cached is None or not cached.fresh) and summary.latest.valid and start:
            job = self.start_analysis(summary.row, summary.latest, data_version, filters)
        return cached, job

    def cached(self, summary: Any, data_version: int) -> Cached | None:
        """What the cache holds for a map summary, unfiltered (no job started)."""
        return self._cached(summary.row.id, summary.latest.checksum, data_version, "")

    def _cached(self, map_pk: int, checksum: str, data_version: int, filters: str) -> Cached | None:
        with self.sessions() as s:
            mine = (AnalysisRow.map_pk == map_pk, AnalysisRow.filters == filters)
            exact = s.scalar(select(AnalysisRow).where(*mine, AnalysisRow.checksum == checksum,
                                                       AnalysisRow.data_version == data_version))
            row = exact or s.scalar(select(AnalysisRow).where(*mine)
                                    .order_by(AnalysisRow.created_at.desc(), AnalysisRow.id.desc()).limit(1))
            if row is None:
                return None
            return Cached(json.loads(row.result), exact is not None, row.checksum, row.data_version,
                          row.created_at, row.seconds)

    def start_analysis(self, row: MapRow, version: MapVersion, data_version: int,
                       filters: Filters = NO_FILTERS) -> JobRow:
        key = (row.id, version.checksum, data_version, filters.key)
        with self._guard:
            running = self._running.get(key)
            if running is not None:
                return self.job(running)
            job = JobRow(id=str(uuid.uuid4()), workspace_id=row.workspace_id, kind="analysis",
                         target=row.ref, status="queued", progress=0.0, step="waiting")
            with self.sessions.begin() as s:
                s.add(job)
            self._running[key] = job.id
            self._futures[job.id] = self._pool.submit(self._analyse, job.id, key, version.text, row.file)
        return job

    # -- ingests ---------------------------------------------------------------------
    def start_ingest(self, kind: str, path: Path, options: dict[str, Any]) -> JobRow:
        """Load ``path`` as ``kind`` on the worker: the store's one writer, in one
        transaction, so readers see all of it or none."""
        job = JobRow(id=str(uuid.uuid4()), workspace_id=self.library.workspace_id, kind="ingest",
                     target=f"{kind}: {path.name}", status="queued", progress=0.0, step="waiting")
        with self.sessions.begin() as s:
            s.add(job)
        self._futures[job.id] = self._pool.submit(self._ingest, job.id, kind, path, options)
        return job

    def _ingest(self, job_id: str, kind: str, path: Path, options: dict[str, Any]) -> None:
        last = [0.0]

        def progress(step: str, done: int, total: int | None) -> None:
            now = time.monotonic()
            if now - last[0] >= PROGRESS_EVERY or (total and done >= total):
                last[0] = now
                self._update(job_id, step=step[:200], progress=min(1.0, done / total) if total else 0.0)

        try:
            self._update(job_id, status="running", step="reading the file")
            report = self.library.ws.ingest(kind, [path], progress=progress, **options)
            self._update(job_id, status="done", progress=1.0, step="done", finished_at=utcnow(), result={
                "rows_read": report.rows_read, "loaded": report.loaded, "updated": report.updated,
                "quarantined": report.quarantined, "duplicates": report.duplicates,
                "by_reason": report.by_reason})
        except Exception as exc:  # the job records it; the app keeps serving
            if not isinstance(exc, JourneymapError):
                log.exception("ingest of %s failed", path)
            self._update(job_id, status="failed", step="failed", finished_at=utcnow(),
                         error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)

    # -- a map drafted from the data ---------------------------------------------------
    def start_discover(self, ref: str, options: dict[str, Any], *, author: str,
                       then: Any = None) -> JobRow:
        """Draft map ``ref`` from the events (``journeymap discover``'s options) on the
        worker and save it as its first version; ``then(text) -> text`` may change the
        draft before it is saved (a library persona)."""
        job = JobRow(id=str(uuid.uuid4()), workspace_id=self.library.workspace_id, kind="discover",
                     target=ref, status="queued", progress=0.0, step="waiting")
        with self.sessions.begin() as s:
            s.add(job)
        self._futures[job.id] = self._pool.submit(self._discover, job.id, ref, options, author, then)
        return job

    def _discover(self, job_id: str, ref: str, options: dict[str, Any], author: str, then: Any) -> None:
        def progress(step: str, done: int, total: int | None) -> None:
            self._update(job_id, step=step[:200], progress=(done / total) if total else 0.0)

        try:
            self._update(job_id, status="running", step="reading the events")
            found = self.library.ws.discover_draft(ref, reader=True, progress=progress, **options)
            text = then(found.yaml) if then is not None else found.yaml
            version = self.library.create(ref, text, author=author, message=(
                f"discovered from the data: {len(found.stages)} stages, {len(found.kept)} touchpoints, "
                f"{found.customers:,} customers"))
            self._update(job_id, status="done", progress=1.0, step="done", finished_at=utcnow(),
                         result={"ref": ref, "version": version.number, "stages": len(found.stages),
                                 "touchpoints": len(found.kept), "customers": found.customers})
        except Exception as exc:  # the job records it; the app keeps serving
            if not isinstance(exc, JourneymapError):
                log.exception("discover of %s failed", ref)
            self._update(job_id, status="failed", step="failed", finished_at=utcnow(),
                         error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)

    def wait(self, job_id: str, timeout: float | None = None) -> JobRow:
        future = self._futures.get(job_id)
        if future is not None:
            future.result(timeout=timeout)
        return self.job(job_id)

    def _analyse(self, job_id: str, key: tuple[int, str, int, str], text: str, file: str) -> None:
        map_pk, checksum, data_version, filters = key
        last = [0.0]

        def progress(step: str, done: int, total: int | None) -> None:
            now = time.monotonic()
            if now - last[0] < PROGRESS_EVERY and not (total and done >= total):
                return
            last[0] = now
            self._update(job_id, step=step[:200], progress=(done / total) if total else 0.0)

        started = time.monotonic()
        try:
            self._update(job_id, status="running", step="reading the map")
            from journeymap.model.yamlio import parse_map

            jmap = parse_map(text, file)[0]
            result = self.library.ws.analyze_page(jmap, reader=True, progress=progress,
                                                  filters=Filters.from_key(filters))
            seconds = time.monotonic() - started
            with self.sessions.begin() as s:
                exists = s.scalar(select(AnalysisRow.id).where(
                    AnalysisRow.map_pk == map_pk, AnalysisRow.checksum == checksum,
                    AnalysisRow.data_version == data_version, AnalysisRow.filters == filters))
                before = None if filters or exists is not None else s.scalar(
                    select(AnalysisRow.result).where(AnalysisRow.map_pk == map_pk, AnalysisRow.filters == "")
                    .order_by(AnalysisRow.created_at.desc(), AnalysisRow.id.desc()).limit(1))
                if exists is None:
                    s.add(AnalysisRow(map_pk=map_pk, checksum=checksum, data_version=data_version, filters=filters,
                                      result=json.dumps(result, default=str), seconds=seconds))
            if exists is None and not filters:
                self._tell_alerts(jmap.id, result, json.loads(before) if before else None)
                try:  # the map's numbers of today, for its trends (journeymap.snapshots)
                    self.library.ws.record_snapshot(jmap.id, result)
                except OSError as exc:
                    log.warning("snapshot of %s not kept: %s", jmap.id, exc)
            self._update(job_id, status="done", progress=1.0, step="done", finished_at=utcnow(),
                         result={"seconds": round(seconds, 3), "data_version": data_version})
        except Exception as exc:  # the job records it; the app keeps serving
            if isinstance(exc, JourneymapError):  # the user's to fix: the page says it
                log.warning("analysis of %s: %s", file, exc)
            else:
                log.exception("analysis of %s failed", file)
            self._update(job_id, status="failed", step="failed", error=str(exc).splitlines()[0] if str(exc)
                         else type(exc).__name__, finished_at=utcnow())
        finally:
            with self._guard:
                self._running.pop(key, None)

    def _tell_alerts(self, ref: str, result: dict[str, Any], before: dict[str, Any] | None) -> None:
        """Each alert of ``result`` the map's previous analysis did not have, to ``notify``."""
        if self.notify is None:
            return
        seen = {alert_key(a) for a in alerts_of(before)}
        for a in alerts_of(result):
            if alert_key(a) not in seen:
                self.notify("map.alert", {"map": ref, "alert": a})

    def _update(self, job_id: str, **values: Any) -> None:
        with self.sessions.begin() as s:
            job = s.get(JobRow, job_id)
            if job is not None:
                for k, v in values.items():
                    setattr(job, k, v)

    def job(self, job_id: str) -> JobRow:
        with self.sessions() as s:
            job = s.get(JobRow, job_id)
            if job is None or job.workspace_id != self.library.workspace_id:
                from journeymap.app.library import NotFound

                raise NotFound(f"no job {job_id}")
            return job
