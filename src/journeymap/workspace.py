"""A workspace is a folder: journeymap.toml, maps/*.yaml, the store, reports/.

:class:`Workspace` is the service layer: the one entry point of the Python API, and
the only thing the CLI (and the app) call — open, maps (load, save, new, discover,
validate), ingest, status, analyse, segments, CLV, render::

    from journeymap.workspace import Workspace
    ws = Workspace.open("demo-workspace")
    ws.ingest("events", ["exports/events.csv"])
    print(ws.status())
    ws.render("sme-onboarding-churn", Path("sme.pdf"))
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journeymap.config import (
    CONFIG_NAME,
    Config,
    load_config,
    save_config,
)
from journeymap.data.contracts import KINDS, SourceConfig
from journeymap.errors import ConfigError, JourneymapError, MapIssue, WorkspaceError
from journeymap.live_data import LiveData

if TYPE_CHECKING:
    import ibis
    import pyarrow as pa
    from playwright.sync_api import Browser

    from journeymap.analysis import Filters
    from journeymap.data.ingest import IngestReport
    from journeymap.data.read_transcripts import TranscriptMeta
    from journeymap.data.store import Store
    from journeymap.engine.discover import Discovery
    from journeymap.metrics.clv import ClvOptions
    from journeymap.model.document import JourneyMap, Persona
    from journeymap.progress import Progress


class Workspace(LiveData):
    """A journeymap workspace folder and its embedded store."""

    def __init__(self, root: Path, config: Config):
        self.root = root
        self.config = config
        self._store: Store | None = None

    # -- creating and opening -------------------------------------------------
    @classmethod
    def create(cls, root: str | os.PathLike[str], name: str | None = None) -> Workspace:
        """Make ``root`` a workspace (the folder may exist; an existing workspace is kept)."""
        path = Path(root).resolve()
        if path.exists() and not path.is_dir():
            raise WorkspaceError(f"{path}: exists and is not a folder")
        path.mkdir(parents=True, exist_ok=True)
        config_path = path / CONFIG_NAME
        if config_path.exists():
            return cls.open(path)
        config = Config(name=name or path.name)
        save_config(config, config_path)
        for sub in ("maps", "reports"):
            (path / sub).mkdir(exist_ok=True)
        return cls(path, config)

    @classmethod
    def open(cls, root: str | os.PathLike[str] = ".") -> Workspace:
        path = Path(root).resolve()
        config_path = path / CONFIG_NAME
        if not config_path.is_file():
            raise WorkspaceError(
                f"{path}: not a journeymap workspace (no {CONFIG_NAME}); "
                f"run 'journeymap init {root}' first"
            )
        return cls(path, load_config(config_path))

    # -- places ---------------------------------------------------------------
    @property
    def maps_dir(self) -> Path:
        return self.root / "maps"

    @property
    def personas_dir(self) -> Path:
        return self.root / "personas"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def store_path(self) -> Path:
        scheme, _, rest = self.config.engine_url.partition(":")
        if scheme != "duckdb" or not rest:
            raise ConfigError(
                f"{self.root / CONFIG_NAME}: engine.url '{self.config.engine_url}': "
                "expected 'duckdb:FILE' (a DuckDB file, relative to the workspace)"
            )
        path = Path(rest.removeprefix("//"))
        return path if path.is_absolute() else self.root / path

    @property
    def store(self) -> Store:
        if self._store is None:
            from journeymap.data.store import Store

            self._store = Store(self.store_path, memory_limit=self.config.memory_limit)
            self._store.ensure_schema()
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- maps -----------------------------------------------------------------
    def map_paths(self) -> list[Path]:
        return sorted(self.maps_dir.glob("*.yaml")) + sorted(self.maps_dir.glob("*.yml"))

    def resolve_map(self, ref: str | os.PathLike[str]) -> Path:
        """A map by path (absolute, relative to cwd or to the workspace) or by id."""
        candidates = [Path(ref), self.root / ref, self.maps_dir / ref, self.maps_dir / f"{ref}.yaml"]
        for candidate in candidates:
            if candidate.is_file():
                return candidate.resolve()
        from journeymap.model import load_map

        for path in self.map_paths():
            try:
                if load_map(path).id == str(ref):
                    return path
            except JourneymapError:  # an invalid map is simply not the one asked for
                continue
        raise WorkspaceError(f"{ref}: no such map (looked in {self.maps_dir})")

    def load_map(self, ref: str | os.PathLike[str]) -> JourneyMap:
        from journeymap.model import load_map

        return load_map(self.resolve_map(ref))

    def validate(self, paths: Sequence[str | os.PathLike[str]] | None = None) -> list[MapIssue]:
        from journeymap.model import validate_paths

        files = [self.resolve_map(p) for p in paths] if paths else self.map_paths()
        return validate_paths(files)

    def map_target(self, path: str | os.PathLike[str]) -> Path:
        """Where a new map file goes: ``path`` if absolute, else relative to the workspace."""
        target = Path(path)
        return target if target.is_absolute() else self.root / target

    def save_map_text(self, path: str | os.PathLike[str], text: str, *, overwrite: bool = False) -> Path:
        """Write a map document (YAML text, written as given so comments stay) to ``path``."""
        target = _writable(self.map_target(path), overwrite)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    def new_map(self, name: str, template: str, *, from_map: str | None = None,
                title: str | None = None, overwrite: bool = False) -> Path:
        """``maps/NAME.yaml`` from a template (``future-state`` needs ``from_map``, the
        current-state map it improves)."""
        from journeymap.model.templates import slug

        text = self.template_text(name, template, from_map=from_map, title=title)
        return self.save_map_text(self.maps_dir / f"{slug(name)}.yaml", text, overwrite=overwrite)

    def template_text(self, name: str, template: str, *, from_map: str | None = None,
                      title: str | None = None) -> str:
        """The YAML text of a new map NAME from a template (see :meth:`new_map`)."""
        from journeymap.model.templates import FUTURE_STATE, future_state, template_text

        if template == FUTURE_STATE:
            if not from_map:
                raise JourneymapError("--template future-state needs --from MAP (the current-state map it improves)")
            return future_state(self.load_map(from_map), name, title)
        if from_map:
            raise JourneymapError("--from is only for --template future-state")
        return template_text(template, name, title)

    # -- the persona library ---------------------------------------------------
    def personas(self) -> list[LibraryPersona]:
        """Every persona of the library (``personas/*.yaml``), by id; a file that is not a
        valid persona is listed with its problem, never dropped."""
        from journeymap.model.persona_library import PersonaError, read_persona

        out = []
        for path in sorted(self.personas_dir.glob("*.yaml"), key=lambda p: p.stem):
            text = path.read_text(encoding="utf-8")
            file = str(path.relative_to(self.root))
            try:
                out.append(LibraryPersona(path.stem, file, read_persona(text, file), None))
            except PersonaError as exc:
                out.append(LibraryPersona(path.stem, file, None, str(exc)))
        return out

    def persona(self, persona_id: str) -> LibraryPersona:
        found = next((p for p in self.personas() if p.id == persona_id), None)
        if found is None:
            raise WorkspaceError(f"no persona '{persona_id}' in the library ({self.personas_dir})")
        return found

    def save_persona(self, data: Any, *, persona_id: str | None = None) -> LibraryPersona:
        """Write a persona (a :class:`Persona` or a mapping of its fields) to the library
        as ``personas/ID.yaml`` (ID: ``persona_id``, else from its name), replacing it."""
        from journeymap.model.document import Persona
        from journeymap.model.persona_library import parse_persona, persona_yaml
        from journeymap.model.templates import slug

        persona = data if isinstance(data, Persona) else parse_persona(data)
        if persona_id:
            pid = slug(persona_id)
        else:  # "Sam, operations lead at ..." -> sam; sam-2 when another Sam is there
            base = pid = slug(persona.name.split(",")[0])
            taken = {p.id: p.persona.name if p.persona else None for p in self.personas()}
            n = 1
            while pid in taken and taken[pid] != persona.name:
                n += 1
                pid = f"{base}-{n}"
        self.personas_dir.mkdir(parents=True, exist_ok=True)
        path = self.personas_dir / f"{pid}.yaml"
        path.write_text(persona_yaml(persona), encoding="utf-8")
        return LibraryPersona(pid, str(path.relative_to(self.root)), persona, None)

    def delete_persona(self, persona_id: str) -> None:
        (self.root / self.persona(persona_id).file).unlink()

    def discover(self, path: str | os.PathLike[str], *, overwrite: bool = False,
                 progress: Progress | None = None, **options: Any) -> tuple[Path, Discovery]:
        """Draft a map from the events into ``path`` (the options of
        :func:`journeymap.engine.discover.discover`; the map id defaults to the file name)."""
        from journeymap.engine.discover import discover

        target = _writable(self.map_target(path), overwrite)
        options["map_id"] = options.get("map_id") or target.stem
        found = discover(self.store.ibis(), progress=progress, **options)
        return self.save_map_text(target, found.yaml, overwrite=True), found

    def discover_draft(self, map_id: str, *, reader: bool = False, progress: Progress | None = None,
                       **options: Any) -> Discovery:
        """A map drafted from the events (its YAML in ``.yaml``), written nowhere: the app
        saves it as a map's first version.  ``reader``: on a cursor of its own (a
        background job)."""
        from journeymap.engine.discover import discover

        con = self.reader() if reader else self.store.ibis()
        return discover(con, map_id=map_id, progress=progress, **options)

    # -- data -----------------------------------------------------------------
    def source_settings(
        self,
        kind: str,
        *,
        fmt: str | None = None,
        columns: dict[str, str] | None = None,
        timezone: str | None = None,
        timestamp_format: str | None = None,
        scores: dict[str, str] | None = None,
        constants: dict[str, str] | None = None,
        skip_rows: int | None = None,
    ) -> SourceConfig:
        """The workspace's [sources.<kind>] settings, overridden by the given values
        (``scores``: question column -> metric, ``constants``: column -> value, of a
        survey export; see :mod:`journeymap.data.surveys`)."""
        if kind not in KINDS:
            raise ConfigError(f"unknown data kind '{kind}' (expected one of {', '.join(KINDS)})")
        base = self.config.source(kind)
        return SourceConfig(
            columns={**base.columns, **(columns or {})},
            format=fmt or base.format,
            timezone=timezone or base.timezone,
            timestamp_format=timestamp_format or base.timestamp_format,
            scores=scores or base.scores,
            constants={**base.constants, **(constants or {})},
            skip_rows=skip_rows if skip_rows is not None else base.skip_rows,
        )

    def ingest(
        self,
        kind: str,
        files: Iterable[str | os.PathLike[str]],
        *,
        fmt: str | None = None,
        columns: dict[str, str] | None = None,
        timezone: str | None = None,
        timestamp_format: str | None = None,
        progress: Progress | None = None,
        transcript: TranscriptMeta | None = None,
        scores: dict[str, str] | None = None,
        constants: dict[str, str] | None = None,
        skip_rows: int | None = None,
    ) -> IngestReport:
        from journeymap.data.ingest import ingest

        source = self.source_settings(
            kind, fmt=fmt, columns=columns, timezone=timezone, timestamp_format=timestamp_format,
            scores=scores, constants=constants, skip_rows=skip_rows,
        )
        return ingest(self.store, kind, [Path(f) for f in files], fmt=source.format, source=source,
                      progress=progress, transcript=transcript)

    def connect(self, engine: str = "duckdb", *, spark_url: str | None = None,
                progress: Progress | None = None) -> ibis.BaseBackend:
        """An Ibis backend on this workspace's data: ``duckdb`` (the store) or ``spark``
        (``[engine]`` settings of journeymap.toml; docs/spark.md)."""
        from journeymap.engine.backend import SPARK_DIR, connect

        return connect(self.store, self.config, engine, spark_dir=self.root / SPARK_DIR,
                       spark_url=spark_url, progress=progress)

    def _map(self, jmap: JourneyMap | str | os.PathLike[str]) -> JourneyMap:
        return self.load_map(jmap) if isinstance(jmap, (str, os.PathLike)) else jmap

    def analyze(self, jmap: JourneyMap | str | os.PathLike[str], *, engine: str = "duckdb",
                progress: Progress | None = None, **kwargs: Any) -> dict[str, Any]:
        """Analyse a map (object, path or id) on this workspace's data: every section of
        ``analyze --json``; the keyword arguments are those of
        :func:`journeymap.analysis.full_analysis` (and of ``analyze_map``)."""
        from journeymap.analysis import full_analysis

        con = kwargs.pop("con", None) or self.connect(engine, progress=progress)
        return full_analysis(con, self._map(jmap), store=self.store, progress=progress, **kwargs)

    def page_analysis(self, ref: str | os.PathLike[str]) -> tuple[JourneyMap, dict[str, Any], str]:
        """A map, the analysis its page shows and its path relative to the workspace."""
        path = self.resolve_map(ref)
        jmap = self.load_map(path)
        analysis = self.analyze_page(jmap)
        try:
            source = str(path.relative_to(self.root))
        except ValueError:
            source = str(path)
        return jmap, analysis, source

    def analyze_page(self, jmap: JourneyMap, *, reader: bool = False,
                     progress: Progress | None = None, filters: Filters | None = None) -> dict[str, Any]:
        """The analysis a map's page shows (every section but :data:`PAGE_SKIPS`), with
        ``filters`` (segment rule, period, ``by``) applied.  ``reader``: on a cursor of
        its own, so another thread may call it while this one serves other reads (the
        app's background jobs)."""
        from journeymap.analysis import Filters, page_analysis

        con = self.reader() if reader else self.store.ibis()
        return page_analysis(con, jmap, store=self.store, progress=progress, filters=filters or Filters())

    def check_filters(self, filters: Filters) -> None:
        """Raise a :class:`JourneymapError` naming what is wrong with ``filters`` before
        an analysis runs on them: a rule that does not parse or reads an attribute the
        customers do not have, a ``by`` that is not an attribute, a period ending before
        it starts."""
        from journeymap.engine.journeys import customers_matching
        from journeymap.engine.scope import customer_attributes
        from journeymap.model.rules import RuleError

        con = self.reader()
        attributes = customer_attributes(con)
        if filters.segment:
            if attributes is None:
                raise JourneymapError(f"segment '{filters.segment}': no customers are loaded yet")
            try:
                customers_matching(con, filters.segment)
            except RuleError as exc:
                raise JourneymapError(f"segment '{filters.segment}': {exc}") from None
        if filters.by and filters.by not in (attributes or []):
            have = ", ".join(attributes or []) or "none: no customers are loaded"
            raise JourneymapError(f"by: '{filters.by}' is not a customer attribute (loaded: {have})")
        if filters.since and filters.until and filters.until <= filters.since:
            raise JourneymapError(f"until ({filters.until}) must be after since ({filters.since})")

    def breakdown_attributes(self, most: int = 50) -> dict[str, int]:
        """The customer attributes a stage funnel can be broken down by (``--by``): those
        with 2 to ``most`` distinct values, with that count, in the table's order."""
        from journeymap.engine.fetch import rows as fetch_rows
        from journeymap.engine.scope import customer_attributes

        con = self.reader()
        attributes = customer_attributes(con) or []
        if not attributes:
            return {}
        t = con.table("customers")
        counts = fetch_rows(t.aggregate([t[a].nunique().name(f"c{i}") for i, a in enumerate(attributes)]))[0]
        found = {a: int(counts[f"c{i}"] or 0) for i, a in enumerate(attributes)}
        return {a: n for a, n in found.items() if 2 <= n <= most}

    def preview_match(self, match: Any, *, sample: int = 10) -> dict[str, Any]:
        """What a touchpoint's match rule (an event name, a list, or ``{event, event_in,
        event_regex, channel, where}``) matches in the store: events, customers, the event
        names and a sample (the editor's preview before saving)."""
        from pydantic import TypeAdapter, ValidationError

        from journeymap.engine.preview import match_preview
        from journeymap.model.document import MatchT

        try:
            rule = TypeAdapter(MatchT).validate_python(match)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function"))
            raise JourneymapError(f"match{'.' + where if where else ''}: {err['msg']}") from None
        return match_preview(self.reader(), rule, sample=sample)

    def reader(self) -> ibis.BaseBackend:
        """An Ibis backend on a new cursor of the store: reads from another thread see the
        last committed ingest, never half of one."""
        import ibis as _ibis

        return _ibis.duckdb.from_connection(self.store.reader())

    def data_version(self) -> int:
        """A number that grows with every ingest (0 before the first): cached analyses
        are valid for one data version."""
        row = self.store.reader().execute("SELECT coalesce(max(_ingest_id), 0) FROM ingests").fetchone()
        return int(row[0]) if row else 0

    def segments(self, jmap: JourneyMap | str | os.PathLike[str], **options: Any) -> dict[str, Any]:
        """Metrics per segment with tests (:func:`journeymap.reports.segments_report`)."""
        from journeymap.reports import segments_report

        return segments_report(self.store.ibis(), self._map(jmap), **options)

    def clv(self, options: ClvOptions, *, by: str | None = None,
            progress: Progress | None = None) -> dict[str, Any]:
        """CLV of this workspace's transactions, per ``by`` and per persona of every map
        (:func:`journeymap.reports.clv_report`)."""
        return self.clv_with_customers(options, by=by, progress=progress)[0]

    def clv_with_customers(self, options: ClvOptions, *, by: str | None = None, progress: Progress | None = None,
                           by_option: str = "--by") -> tuple[dict[str, Any], pa.Table]:
        """:meth:`clv` and the per-customer table it summarises (customer_id, x, t_x, T,
        monetary, expected_purchases, p_alive, spend, clv)."""
        from journeymap.reports import clv_tables

        maps = [self.load_map(p) for p in self.map_paths()]
        return clv_tables(self.store.ibis(), options, by=by, maps=maps, progress=progress, by_option=by_option)

    # -- rendering ------------------------------------------------------------
    def render(self, ref: str | os.PathLike[str], out: Path, *,
               compare: str | os.PathLike[str] | None = None, browser: Browser | None = None) -> Path:
        """Render a map with its data to ``out``; the format comes from the extension.

        A future-state map is drawn against the current-state map it ``improves`` when the
        workspace has it; ``compare`` names another map to show side by side.
        """
        from journeymap.model.document import MapType
        from journeymap.render.exports import export, suffix_of
        from journeymap.render.view import build_view

        suffix = suffix_of(out)
        jmap, analysis, source = self.page_analysis(ref)
        other = build_view(*self.page_analysis(compare)[:2]) if compare is not None else None
        current = None
        if jmap.type == MapType.future_state and jmap.improves and suffix in (".html", ".png", ".pdf", ".svg"):
            try:
                current = build_view(*self.page_analysis(jmap.improves)[:2])
            except JourneymapError:
                current = None  # the current-state map is not in this workspace: draw the future alone
        return export(jmap, analysis, out, source=source, compare=other, current=current, browser=browser)

    def render_many(self, ref: str | os.PathLike[str], outs: Sequence[Path]) -> list[Path]:
        """Several formats of one map, analysing once and starting Chromium at most once."""
        from journeymap.render.exports import export, suffix_of

        jmap, analysis, source = self.page_analysis(ref)
        if not any(suffix_of(o) in (".png", ".pdf") for o in outs):
            return [export(jmap, analysis, o, source=source) for o in outs]
        from journeymap.render.browser import chromium

        with chromium() as browser:
            return [export(jmap, analysis, o, source=source, browser=browser) for o in outs]

    def status(self, *, reader: bool = False) -> dict[str, Any]:
        """``journeymap status``: the store's tables, rows, time ranges, quarantine and
        ingests (``reader``: on a cursor of its own, for another thread)."""
        con = self.store.reader() if reader else None
        return {"workspace": str(self.root), "name": self.config.name,
                "maps": [p.name for p in self.map_paths()], **self.store.status(con)}

    def ingests(self, limit: int = 50) -> list[dict[str, Any]]:
        """The latest ingests: kind, files, when, rows read, loaded, quarantined, duplicates."""
        cur = self.store.reader()
        rows = cur.execute(
            "SELECT _ingest_id, kind, files, started_at, finished_at, rows_read, loaded, quarantined, "
            "duplicates, updated FROM ingests ORDER BY _ingest_id DESC LIMIT ?", [int(limit)]).fetchall()
        keys = ("id", "kind", "files", "started_at", "finished_at", "rows_read", "loaded", "quarantined",
                "duplicates", "updated")
        out = [dict(zip(keys, r, strict=True)) for r in rows]
        for r in out:
            r["started_at"], r["finished_at"] = r["started_at"].isoformat(), r["finished_at"].isoformat()
        return out

    def quarantine(self, *, kind: str | None = None, reason: str | None = None, text: str | None = None,
                   limit: int = 100, offset: int = 0) -> dict[str, Any]:
        """Quarantined rows (newest ingest first): ingest, kind, file, row, field, reason and
        the raw row, filtered by kind, reason and a text found in the file, field or raw row;
        with the total and the reasons with their counts."""
        where, args = ["TRUE"], []
        if kind:
            where.append("kind = ?")
            args.append(kind)
        if reason:
            where.append("reason = ?")
            args.append(reason)
        if text:
            where.append("(contains(lower(file), ?) OR contains(lower(coalesce(field, '')), ?) "
                         "OR contains(lower(coalesce(raw, '')), ?))")
            args += [text.lower()] * 3
        cond = " AND ".join(where)
        cur = self.store.reader()
        total = cur.execute(f"SELECT count(*) FROM quarantine WHERE {cond}", args).fetchone()
        rows = cur.execute(
            f'SELECT _ingest_id, kind, file, "row", field, reason, raw FROM quarantine WHERE {cond} '
            'ORDER BY _ingest_id DESC, file, "row" NULLS FIRST LIMIT ? OFFSET ?',
            [*args, int(limit), int(offset)]).fetchall()
        reasons = cur.execute("SELECT kind, reason, count(*) FROM quarantine GROUP BY ALL ORDER BY 3 DESC").fetchall()
        keys = ("ingest", "kind", "file", "row", "field", "reason", "raw")
        return {"total": int(total[0]) if total else 0, "rows": [dict(zip(keys, r, strict=True)) for r in rows],
                "reasons": [{"kind": k, "reason": r, "rows": int(n)} for k, r, n in reasons]}


@dataclass(frozen=True)
class LibraryPersona:
    """A persona of the workspace's library: its id (the file name), file (relative to
    the workspace), the persona — or None and the ``problem`` when the file is invalid."""

    id: str
    file: str
    persona: Persona | None
    problem: str | None


def _writable(target: Path, overwrite: bool) -> Path:
    if target.exists() and not overwrite:
        raise JourneymapError(f"{target}: exists; use --force to overwrite it, or choose another name")
    return target
