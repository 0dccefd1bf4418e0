"""A workspace is a folder: journeymap.toml, maps/*.yaml, the store, reports/.

:class:`Workspace` is the one entry point of the Python API::

    from journeymap.workspace import Workspace
    ws = Workspace.open("demo-workspace")
    ws.ingest("events", ["exports/events.csv"])
    print(ws.status())
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
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

if TYPE_CHECKING:
    from journeymap.data.ingest import IngestReport
    from journeymap.data.read_transcripts import TranscriptMeta
    from journeymap.data.store import Store
    from journeymap.model.document import JourneyMap
    from journeymap.progress import Progress


class Workspace:
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

    def analyze(self, jmap: JourneyMap | str | os.PathLike[str], **kwargs: Any) -> dict[str, Any]:
        """Analyse a map (object, path or id) on this workspace's data: every section of
        ``analyze --json``; the keyword arguments are those of
        :func:`journeymap.analysis.full_analysis` (and of ``analyze_map``)."""
        from journeymap.analysis import full_analysis

        the_map = self.load_map(jmap) if isinstance(jmap, (str, os.PathLike)) else jmap
        return full_analysis(kwargs.pop("con", None) or self.store.ibis(), the_map, store=self.store, **kwargs)

    def status(self) -> dict[str, Any]:
        return {"workspace": str(self.root), "name": self.config.name,
                "maps": [p.name for p in self.map_paths()], **self.store.status()}
