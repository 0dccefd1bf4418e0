"""The Python API: a workspace, its maps and analyses, for notebooks and scripts.

Every method calls the service layer (:class:`journeymap.workspace.Workspace`, as the
CLI and the app do) with the options the CLI has, and raises the same
:class:`~journeymap.errors.JourneymapError` with the same text; what comes back is made
to be worked with: DataFrames, :class:`~journeymap.api.analysis.Analysis` objects and
things a notebook shows inline.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from journeymap.api import display
from journeymap.api.analysis import Analysis, data_frame, to_json_text
from journeymap.errors import JourneymapError
from journeymap.model.document import JourneyMap
from journeymap.workspace import Workspace as Service

if TYPE_CHECKING:
    import pandas as pd

    from journeymap.data.ingest import IngestReport
    from journeymap.progress import Progress


def open_workspace(path: str | os.PathLike[str] = ".", *, create: bool = False,
                   progress: bool = True) -> Workspace:
    """The workspace in folder ``path`` (``create=True``: make it first if it is not one;
    else a folder that is not a workspace is an error, as in the CLI).  ``progress``:
    show progress bars on long work."""
    service = Service.create(path) if create else Service.open(path)
    return Workspace(service, progress=progress)


def demo(path: str | os.PathLike[str] = "demo-workspace", *, customers: int = 2_000, seed: int = 7,
         progress: bool = True) -> Workspace:
    """Generate the demo company into folder ``path`` (``journeymap demo --no-serve``):
    customers, events, survey answers, transactions and call transcripts, loaded, with
    its three maps; the workspace, open.  The same seed gives the same data."""
    from journeymap.demo.run import run_demo

    if customers < 50:
        raise JourneymapError(f"customers {customers}: the demo needs at least 50")
    with progress_bars(progress) as bars:
        result = run_demo(path, customers=customers, seed=seed, progress=bars)
    return Workspace(Service.open(result.workspace), progress=progress)


@contextmanager
def progress_bars(show: bool) -> Iterator[Progress | None]:
    """Progress bars where someone watches (``show``): one bar updated in place in a
    notebook, Rich bars on a terminal, nothing in a pipe or log."""
    if not show:
        yield None
        return
    from rich.console import Console

    console = Console(stderr=True)
    if console.is_jupyter:
        yield display.NotebookBar()
        return
    from journeymap.cli_progress import rich_progress

    with rich_progress(console) as callback:
        yield callback


class Workspace:
    """A journeymap workspace: its maps, its data and what is computed from them.

    ``ws.service`` is the service layer underneath (:class:`journeymap.workspace.Workspace`)."""

    def __init__(self, service: Service, *, progress: bool = True):
        self.service = service
        self.progress = progress

    @property
    def root(self) -> Path:
        """The workspace's folder."""
        return self.service.root

    @property
    def name(self) -> str:
        """The name in journeymap.toml."""
        return self.service.config.name

    def close(self) -> None:
        """Close the store (a later call opens it again)."""
        self.service.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace({self.name!r} at {str(self.root)!r})"

    def _bars(self) -> Any:
        return progress_bars(self.progress)

    # -- maps -----------------------------------------------------------------
    def maps(self) -> pd.DataFrame:
        """The workspace's maps: id, title, type, persona, stages, touchpoints, file —
        and the problem, for a file that does not validate."""
        rows = []
        for path in self.service.map_paths():
            file = str(path.relative_to(self.root))
            try:
                m = self.service.load_map(path)
            except JourneymapError as exc:
                rows.append({"id": path.stem, "title": None, "type": None, "persona": None, "stages": None,
                             "touchpoints": None, "file": file, "problem": str(exc)})
                continue
            rows.append({"id": m.id, "title": m.title, "type": m.type.value, "persona": m.persona.name,
                         "stages": len(m.stages), "touchpoints": len(m.touchpoints), "file": file,
                         "problem": None})
        return data_frame(rows)

    def map(self, ref: str | os.PathLike[str]) -> Map:
        """A map by id or path (shown inline as its page with this workspace's numbers)."""
        path = self.service.resolve_map(ref)
        return Map(self, self.service.load_map(path), path)

    def _map(self, ref: Map | JourneyMap | str | os.PathLike[str]) -> JourneyMap:
        if isinstance(ref, Map):
            return ref.document
        if isinstance(ref, JourneyMap):
            return ref
        return self.service.load_map(ref)

    def validate(self) -> pd.DataFrame:
        """Every problem of every map (file, line, path, message); empty when all are valid."""
        return data_frame([{"file": str(i.file) if i.file else None, "line": i.line, "path": i.path,
                            "message": i.message} for i in self.service.validate()])

    def discover(self, map_id: str = "discovered", *, save: bool = False, overwrite: bool = False,
                 **options: Any) -> Map:
        """A map drafted from the events (``journeymap discover``): stages and touchpoints
        from the most common paths.  ``save=True`` writes it to ``maps/MAP_ID.yaml``
        (``overwrite`` an existing file); the options are those of
        :func:`journeymap.engine.discover.discover` (e.g. ``stages=4``)."""
        with self._bars() as progress:
            if save:
                path, found = self.service.discover(self.service.maps_dir / f"{map_id}.yaml", overwrite=overwrite,
                                                    progress=progress, map_id=map_id, **options)
                return Map(self, self.service.load_map(path), path)
            found = self.service.discover_draft(map_id, progress=progress, **options)
        from journeymap.model.yamlio import parse_map

        return Map(self, parse_map(found.yaml, f"{map_id}.yaml")[0], None, text=found.yaml)

    # -- data -----------------------------------------------------------------
    def ingest(self, kind: str, files: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *,
               format: str | None = None, columns: dict[str, str] | None = None,  # noqa: A002 - the CLI's name
               timezone: str | None = None, timestamp_format: str | None = None,
               scores: dict[str, str] | None = None, constants: dict[str, str] | None = None,
               skip_rows: int | None = None, **mapping: str) -> IngestReport:
        """Load customer data (``journeymap ingest KIND FILE...``): ``kind`` is one of
        customers, events, feedback, transactions, transcripts.

        Name your export's columns as keywords, journeymap's name = yours::

            ws.ingest("customers", "crm.csv", customer_id="Contact ID", segment="Tier")

        (or ``columns={"Contact ID": "customer_id"}``, as ``--map-column`` reads).
        ``scores``: a survey export's question column -> metric (nps, csat, ces);
        ``constants``: column -> value given to every row.  Bad rows are quarantined
        with file, row, field and reason; the report counts every row read once."""
        paths = [files] if isinstance(files, (str, os.PathLike)) else list(files)
        if not paths:
            raise JourneymapError(f"ingest {kind}: no files given")
        theirs = {str(v): k for k, v in mapping.items()}
        with self._bars() as progress:
            return self.service.ingest(kind, paths, fmt=format, columns={**(columns or {}), **theirs},
                                       timezone=timezone, timestamp_format=timestamp_format, scores=scores,
                                       constants=constants, skip_rows=skip_rows, progress=progress)

    def status(self) -> dict[str, Any]:
        """``journeymap status``: tables, rows, time ranges, quarantine and ingests."""
        return self.service.status()

    def tables(self) -> pd.DataFrame:
        """The store's tables: rows, customers and time range of each."""
        tables = self.service.status().get("tables") or {}
        return data_frame([{"table": name, **{k: v for k, v in info.items() if k != "pieces"}}
                           for name, info in tables.items()])

    def history(self, map: Map | str | os.PathLike[str]) -> pd.DataFrame:  # noqa: A002 - the CLI's name
        """The map's snapshots as one row per number and day: ``day``, ``taken_at``,
        ``kind`` (stage, touchpoint, journey, goal), ``target``, ``metric``, ``value``,
        ``n`` and interval — for trends (``journeymap watch`` and the app keep them)."""
        ref = map.id if isinstance(map, Map) else map
        rows = [{"day": snap.get("day"), "taken_at": snap.get("taken_at"), **r}
                for snap in self.service.history(ref) for r in snap.get("numbers") or []]
        return data_frame(rows)

    def compact(self) -> str:
        """``journeymap compact``: merge the event log's appended pieces into one sorted
        piece (``"merged"``, or ``"nothing"`` when it is one already)."""
        return self.service.compact()[0]

    def ingests(self, limit: int = 50) -> pd.DataFrame:
        """The latest ingests with their counts."""
        return data_frame(self.service.ingests(limit))

    def quarantine(self, *, kind: str | None = None, reason: str | None = None, text: str | None = None,
                   limit: int = 1000) -> pd.DataFrame:
        """Quarantined rows: ingest, kind, file, row, field, reason and the raw row."""
        return data_frame(self.service.quarantine(kind=kind, reason=reason, text=text, limit=limit)["rows"])

    # -- analysis -------------------------------------------------------------
    def analyze(self, map: Map | JourneyMap | str | os.PathLike[str], *,  # noqa: A002 - the CLI's name
                segment: str | None = None, since: str | dt.date | None = None,
                until: str | dt.date | None = None, by: str | None = None,
                sections: str | Sequence[str] | None = None, fast: bool = False,
                engine: Literal["duckdb", "spark"] = "duckdb", all_customers: bool = False,
                per_session: bool = False, funnel: str | Sequence[str] | None = None,
                funnel_level: Literal["touchpoint", "event", "stage"] | None = None,
                funnel_order: Literal["loose", "strict"] = "loose", funnel_window: str | dt.timedelta | None = None,
                exclude: str | Sequence[str] | None = None, paths_to: str | None = None,
                paths_from: str | None = None, around_steps: int = 3) -> Analysis:
        """Analyse a map on the workspace's data (``journeymap analyze MAP``, the same
        options by the same names): stage funnel, transitions, paths, funnel, feedback,
        attribution, CLV, goal, emotion, themes, churn, pain points and opportunities.

        ``segment``: only customers matching a rule (``"plan == 'Pro'"``); ``since`` /
        ``until``: a period (dates, ``until`` exclusive); ``by``: the stage funnel per
        value of a customer attribute; ``sections``: only these; ``fast``: skip clv,
        themes and clusters."""
        from journeymap.commands.analyze import analyze_options

        options = analyze_options(
            segment=segment, since=since, until=until, by=by, all_customers=all_customers,
            per_session=per_session, funnel=funnel, funnel_level=funnel_level, funnel_order=funnel_order,
            funnel_window=funnel_window, exclude=exclude, paths_to=paths_to, paths_from=paths_from,
            around_steps=around_steps, sections=sections, fast=fast, prefix="")
        if engine not in ("duckdb", "spark"):
            raise JourneymapError(f"engine {engine}: expected duckdb or spark")
        jmap = self._map(map)
        with self._bars() as progress:
            result = self.service.analyze(jmap, engine=engine, progress=progress, **options)
        asked = {"segment": segment, "since": since, "until": until, "by": by, "fast": fast}
        return Analysis(result, jmap, options={k: v for k, v in asked.items() if v})

    def segments(self, map: Map | JourneyMap | str | os.PathLike[str], *,  # noqa: A002 - the CLI's name
                 by: str = "segment", **options: Any) -> pd.DataFrame:
        """Each metric per value of ``by`` against the rest, with tests (``journeymap segments``)."""
        from journeymap.api.frames import flatten

        report = self.service.segments(self._map(map), by=by, **options)
        return data_frame([flatten(r) for r in report.get("segments") or []])

    def clv(self, *, by: str | None = None, time_unit: Literal["day", "week", "month"] = "week",
            observation_end: str | dt.date | None = None, model: Literal["bgnbd", "pareto_nbd"] = "bgnbd",
            horizon_months: int = 12, discount_rate: float = 0.10) -> Clv:
        """Customer lifetime value of the transactions (``journeymap clv``): BG/NBD (or
        Pareto/NBD) with Gamma-Gamma, per customer and summarised, per ``by`` and per
        persona of every map."""
        from journeymap.metrics.clv import ClvOptions

        end = dt.date.fromisoformat(observation_end) if isinstance(observation_end, str) else observation_end
        if time_unit not in ("day", "week", "month"):
            raise JourneymapError(f"time_unit {time_unit}: expected day, week or month")
        if model not in ("bgnbd", "pareto_nbd"):
            raise JourneymapError(f"model {model}: expected bgnbd or pareto_nbd")
        if not 1 <= horizon_months <= 600:
            raise JourneymapError(f"horizon_months {horizon_months}: expected 1 to 600")
        if not 0 <= discount_rate <= 10:
            raise JourneymapError(f"discount_rate {discount_rate}: expected 0 to 10")
        options = ClvOptions(time_unit=time_unit, observation_end=end, horizon_months=horizon_months,
                             discount_rate_annual=discount_rate, model=model)
        with self._bars() as progress:
            report, customers = self.service.clv_with_customers(options, by=by, progress=progress, by_option="by")
        return Clv(report, customers)

    # -- output ---------------------------------------------------------------
    def render(self, map: Map | str | os.PathLike[str], path: str | os.PathLike[str], *,  # noqa: A002
               compare: Map | str | os.PathLike[str] | None = None) -> Path:
        """Render a map with its data to ``path`` (``journeymap render --out``): the format
        from the extension (.html, .png, .pdf, .svg, .csv, .xlsx, .json, .pptx, ...)."""
        ref = map.path or map.document.id if isinstance(map, Map) else map
        other = (compare.path or compare.document.id) if isinstance(compare, Map) else compare
        return self.service.render(ref, Path(path), compare=other)


class Map:
    """A journey map of a workspace: ``document`` is the validated map
    (:class:`journeymap.model.document.JourneyMap`); shown inline as its page with the
    workspace's numbers."""

    def __init__(self, workspace: Workspace, document: JourneyMap, path: Path | None, *, text: str | None = None):
        self.workspace = workspace
        self.document = document
        self.path = path
        self._text = text

    @property
    def id(self) -> str:
        """The map's id."""
        return self.document.id

    @property
    def title(self) -> str:
        """The map's title."""
        return self.document.title

    def outline(self) -> pd.DataFrame:
        """Stages and touchpoints as rows: stage, touchpoint, name, channel, the match rule."""
        rows = []
        for stage in self.document.stages:
            for tp in stage.touchpoints:
                rows.append({"stage": stage.id, "stage_name": stage.name, "touchpoint": tp.id, "name": tp.name,
                             "channel": tp.channel, "match": _match_text(tp.match)})
        return data_frame(rows)

    def yaml(self) -> str:
        """The map as YAML (the file's text, or the draft's)."""
        if self._text is not None:
            return self._text
        assert self.path is not None
        return self.path.read_text(encoding="utf-8")

    def analyze(self, **options: Any) -> Analysis:
        """:meth:`Workspace.analyze` of this map."""
        return self.workspace.analyze(self, **options)

    def page(self) -> display.MapPage:
        """The map page with the workspace's numbers (the analysis the page shows)."""
        analysis = self.workspace.service.analyze_page(self.document)
        return display.map_page(self.document, analysis)

    def _repr_html_(self) -> str:
        return self.page()._repr_html_()

    def __repr__(self) -> str:
        return f"Map({self.id!r}: {self.title!r}, {len(self.document.stages)} stages)"


def _match_text(match: Any) -> str | None:
    """A touchpoint's match rule as one line: the event, the events, or the rule's parts."""
    if match is None or isinstance(match, str):
        return match
    if isinstance(match, list):
        return ", ".join(str(m) for m in match)
    parts = match.model_dump(exclude_none=True, mode="json")
    return "; ".join(f"{k}: {', '.join(v) if isinstance(v, list) else v}" for k, v in parts.items())


class Clv:
    """The result of :meth:`Workspace.clv`: ``customers`` per customer (frequency,
    recency, T, monetary value, expected purchases, P(alive), CLV), ``summary`` per
    group, ``models`` the fits; ``to_dict()`` = ``journeymap clv --json``."""

    def __init__(self, report: dict[str, Any], customers: Any):
        self._report = report
        self._customers = customers

    @property
    def customers(self) -> pd.DataFrame:
        """Per customer: frequency x, recency t_x, age T, monetary value, expected
        purchases, P(alive), expected spend and CLV."""
        return self._customers.to_pandas()

    @property
    def summary(self) -> pd.DataFrame:
        """CLV of all customers, per value of ``by`` and per persona of each map."""
        r = self._report
        rows = [{"group": "all customers", "attribute": None, **r["summary"]}] if "summary" in r else []
        rows += [{"group": k, "attribute": r.get("segment_by"), **v} for k, v in (r.get("segments") or {}).items()]
        rows += [{"group": k, "attribute": "persona", **v} for k, v in (r.get("personas") or {}).items()]
        return data_frame(rows)

    @property
    def models(self) -> pd.DataFrame:
        """The fitted models: parameters, log-likelihood, customers, convergence."""
        from journeymap.api.frames import flatten

        return data_frame([{"model": k, **flatten(v)} for k, v in self._report["models"].items()])

    @property
    def notes(self) -> list[str]:
        """What the fit noticed (parameters at a bound, few repeat customers, ...)."""
        return list(self._report.get("notes") or [])

    def to_dict(self) -> dict[str, Any]:
        """The dict of ``journeymap clv --json``."""
        import json

        return json.loads(to_json_text(self._report))

    def _repr_html_(self) -> str:
        r = self._report
        cols = ["group", "attribute", "customers", "repeat_customers", "clv_total", "clv_mean", "clv_median",
                "expected_purchases_12m_mean", "p_alive_mean"]
        rows = self.summary.to_dict("records")
        head = (f"<p><b>CLV</b> — model {r['model']}, time unit {r['time_unit']}, observation end "
                f"{r['observation_end']}, horizon {r['horizon_months']} months</p>")
        return head + display.table_html(rows, cols)

    def __repr__(self) -> str:
        s = self._report.get("summary") or {}
        return f"Clv({s.get('customers', 0):,} customers, CLV total {s.get('clv_total')})"
