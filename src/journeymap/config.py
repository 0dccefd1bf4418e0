"""journeymap.toml: the workspace's settings (name, engine URL, source mappings)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from journeymap.data.contracts import KINDS, SourceConfig
from journeymap.errors import ConfigError

CONFIG_NAME = "journeymap.toml"
DEFAULT_ENGINE_URL = "duckdb:journeymap.duckdb"


def _source_to_toml(source: SourceConfig) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if source.format:
        out["format"] = source.format
    if source.timezone != "UTC":
        out["timezone"] = source.timezone
    if source.timestamp_format:
        out["timestamp_format"] = source.timestamp_format
    if source.columns:
        out["columns"] = dict(source.columns)
    return out


@dataclass
class Config:
    name: str
    engine_url: str = DEFAULT_ENGINE_URL
    sources: dict[str, SourceConfig] = field(default_factory=dict)

    def source(self, kind: str) -> SourceConfig:
        return self.sources.get(kind, SourceConfig())

    def to_toml(self) -> str:
        doc: dict[str, Any] = {"name": self.name, "engine": {"url": self.engine_url}}
        sources = {k: _source_to_toml(s) for k, s in self.sources.items()}
        if sources:
            doc["sources"] = sources
        header = (
            "# journeymap workspace settings.\n"
            "# [engine] url: 'duckdb:FILE' (relative to this folder) is the embedded default.\n"
            "# [sources.<kind>] maps your export's columns to journeymap's, e.g.\n"
            "#   [sources.events.columns]\n"
            "#   \"Contact ID\" = \"customer_id\"\n"
        )
        return header + tomli_w.dumps(doc)


def _source(kind: str, raw: Any, path: Path) -> SourceConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: sources.{kind}: expected a table")
    columns = raw.get("columns", {})
    if not isinstance(columns, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in columns.items()
    ):
        raise ConfigError(f"{path}: sources.{kind}.columns: expected \"their name\" = \"our name\" pairs")
    unknown = set(raw) - {"columns", "format", "timezone", "timestamp_format"}
    if unknown:
        raise ConfigError(f"{path}: sources.{kind}: unknown setting '{sorted(unknown)[0]}'")
    return SourceConfig(
        columns=dict(columns),
        format=raw.get("format"),
        timezone=raw.get("timezone", "UTC"),
        timestamp_format=raw.get("timestamp_format"),
    )


def load_config(path: Path) -> Config:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    name = raw.get("name") or path.parent.name
    engine = raw.get("engine", {})
    if not isinstance(engine, dict):
        raise ConfigError(f"{path}: engine: expected a table with url = \"...\"")
    url = engine.get("url", DEFAULT_ENGINE_URL)
    sources_raw = raw.get("sources", {})
    if not isinstance(sources_raw, dict):
        raise ConfigError(f"{path}: sources: expected a table")
    sources = {}
    for kind, value in sources_raw.items():
        if kind not in KINDS:
            raise ConfigError(f"{path}: sources.{kind}: unknown kind (expected one of {', '.join(KINDS)})")
        sources[kind] = _source(kind, value, path)
    return Config(name=str(name), engine_url=str(url), sources=sources)


def save_config(config: Config, path: Path) -> None:
    path.write_text(config.to_toml(), encoding="utf-8")
