"""journeymap.toml: the workspace's settings (name, engine URL, source mappings)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from journeymap.data.contracts import KINDS, SourceConfig
from journeymap.errors import ConfigError

CONFIG_NAME = "journeymap.toml"
DEFAULT_ENGINE_URL = "duckdb:journeymap.duckdb"
# [engine] keys: the store, its memory, and Spark's (read by journeymap.engine.backend)
ENGINE_SETTINGS = {"url", "memory_limit", "spark_url", "spark_data", "spark_conf"}
_MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(%|[KMGT]i?B)\s*$", re.IGNORECASE)


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
    if source.skip_rows is not None:
        out["skip_rows"] = source.skip_rows
    if source.scores:
        out["scores"] = dict(source.scores)
    if source.constants:
        out["set"] = dict(source.constants)
    return out


@dataclass
class Config:
    name: str
    engine_url: str = DEFAULT_ENGINE_URL
    sources: dict[str, SourceConfig] = field(default_factory=dict)
    memory_limit: str | None = None  # "6GB", "30%" (of RAM); None: the store's default
    spark_url: str | None = None  # [engine] spark_url (journeymap.engine.backend.spark_settings)
    spark_data: str | None = None  # [engine] spark_data: the Parquet layout as the cluster sees it
    spark_conf: dict[str, str] = field(default_factory=dict)  # [engine.spark_conf]
    app_database_url: str | None = None  # [app] database_url: the app's metadata (default: SQLite in .journeymap/)
    smtp: dict[str, Any] = field(default_factory=dict)  # [app.smtp]: mail for invitations, resets, mentions

    def source(self, kind: str) -> SourceConfig:
        return self.sources.get(kind, SourceConfig())

    def to_toml(self) -> str:
        engine: dict[str, Any] = {"url": self.engine_url}
        if self.memory_limit:
            engine["memory_limit"] = self.memory_limit
        for key in ("spark_url", "spark_data"):
            if getattr(self, key):
                engine[key] = getattr(self, key)
        if self.spark_conf:
            engine["spark_conf"] = dict(self.spark_conf)
        doc: dict[str, Any] = {"name": self.name, "engine": engine}
        sources = {k: _source_to_toml(s) for k, s in self.sources.items()}
        if sources:
            doc["sources"] = sources
        if self.app_database_url or self.smtp:
            doc["app"] = {**({"database_url": self.app_database_url} if self.app_database_url else {}),
                          **({"smtp": dict(self.smtp)} if self.smtp else {})}
        header = (
            "# journeymap workspace settings.\n"
            "# [engine] url: 'duckdb:FILE' (relative to this folder) is the embedded default;\n"
            "#   memory_limit = \"8GB\" or \"40%\" (of RAM; default 30%): beyond it DuckDB spills to disk.\n"
            "# [sources.<kind>] maps your export's columns to journeymap's, e.g.\n"
            "#   [sources.events.columns]\n"
            "#   \"Contact ID\" = \"customer_id\"\n"
        )
        return header + tomli_w.dumps(doc)


def _source(kind: str, raw: Any, path: Path) -> SourceConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: sources.{kind}: expected a table")
    pairs = {}
    for key, what in (("columns", '"their name" = "our name"'), ("scores", '"question column" = "metric"'),
                      ("set", '"column" = "value"')):
        value = raw.get(key, {})
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise ConfigError(f"{path}: sources.{kind}.{key}: expected {what} pairs")
        pairs[key] = dict(value)
    unknown = set(raw) - {"columns", "format", "timezone", "timestamp_format", "scores", "set",
                          "skip_rows"}
    if unknown:
        raise ConfigError(f"{path}: sources.{kind}: unknown setting '{sorted(unknown)[0]}'")
    skip = raw.get("skip_rows")
    if skip is not None and (isinstance(skip, bool) or not isinstance(skip, int) or skip < 0):
        raise ConfigError(f"{path}: sources.{kind}.skip_rows: expected a whole number, 0 or more")
    try:
        return SourceConfig(
            columns=pairs["columns"],
            format=raw.get("format"),
            timezone=raw.get("timezone", "UTC"),
            timestamp_format=raw.get("timestamp_format"),
            scores=pairs["scores"],
            constants=pairs["set"],
            skip_rows=skip,
        )
    except ConfigError as exc:
        raise ConfigError(f"{path}: sources.{kind}: {exc}") from None


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
    memory = engine.get("memory_limit")
    if memory is not None and not (isinstance(memory, str) and _MEMORY.match(memory)):
        raise ConfigError(f"{path}: engine.memory_limit: expected a size like \"8GB\" or a share "
                          f"of RAM like \"40%\", got {memory!r}")
    unknown = set(engine) - ENGINE_SETTINGS
    if unknown:
        raise ConfigError(f"{path}: engine: unknown setting '{sorted(unknown)[0]}'")
    spark_url, spark_data = engine.get("spark_url"), engine.get("spark_data")
    if not isinstance(spark_url, (str, type(None))) or not isinstance(spark_data, (str, type(None))):
        raise ConfigError(f"{path}: engine.spark_url and engine.spark_data must be text")
    spark_conf = engine.get("spark_conf", {})
    if not isinstance(spark_conf, dict):
        raise ConfigError(f"{path}: engine.spark_conf: expected a table of \"key\" = \"value\"")
    app = raw.get("app", {})
    if not isinstance(app, dict) or set(app) - {"database_url", "smtp"}:
        raise ConfigError(f"{path}: app: expected a table with database_url = \"sqlite:///...\" "
                          "or \"postgresql+psycopg://...\", and [app.smtp]")
    smtp = app.get("smtp", {})
    if smtp:
        smtp_settings(smtp, f"{path}: app.smtp")  # checked here: a wrong setting fails at load
    database_url = app.get("database_url")
    if not isinstance(database_url, (str, type(None))):
        raise ConfigError(f"{path}: app.database_url must be text")
    sources_raw = raw.get("sources", {})
    if not isinstance(sources_raw, dict):
        raise ConfigError(f"{path}: sources: expected a table")
    sources = {}
    for kind, value in sources_raw.items():
        if kind not in KINDS:
            raise ConfigError(f"{path}: sources.{kind}: unknown kind (expected one of {', '.join(KINDS)})")
        sources[kind] = _source(kind, value, path)
    return Config(name=str(name), engine_url=str(url), sources=sources, memory_limit=memory,
                  spark_url=spark_url, spark_data=spark_data,
                  spark_conf={str(k): str(v) for k, v in spark_conf.items()},
                  app_database_url=database_url, smtp=dict(smtp))


def save_config(config: Config, path: Path) -> None:
    path.write_text(config.to_toml(), encoding="utf-8")


# -- [app.smtp]: the app's optional mail (journeymap.app.mail) ------------------------
SECURITY = ("starttls", "ssl", "none")
SETTINGS = {"host", "port", "from", "username", "password_env", "security", "timeout"}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    sender: str
    port: int = 587
    username: str | None = None
    password_env: str = "JOURNEYMAP_SMTP_PASSWORD"
    security: str = "starttls"
    timeout: float = 15.0


def smtp_settings(raw: dict[str, Any], where: str = "app.smtp") -> SmtpSettings:
    """``[app.smtp]`` checked: a wrong or missing setting is named."""
    unknown = set(raw) - SETTINGS
    if unknown:
        raise ConfigError(f"{where}: unknown setting '{sorted(unknown)[0]}' (settings: {', '.join(sorted(SETTINGS))})")
    for key in ("host", "from"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ConfigError(f"{where}: {key} = \"...\" is needed")
    security = raw.get("security", "starttls")
    if security not in SECURITY:
        raise ConfigError(f"{where}: security: one of {', '.join(SECURITY)}, not {security!r}")
    port = raw.get("port", 465 if security == "ssl" else 587)
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise ConfigError(f"{where}: port: a number from 1 to 65535, not {port!r}")
    for key in ("username", "password_env"):
        if key in raw and not isinstance(raw[key], str):
            raise ConfigError(f"{where}: {key} must be text")
    timeout = raw.get("timeout", 15)
    if not isinstance(timeout, (int, float)) or not 0 < timeout <= 300:
        raise ConfigError(f"{where}: timeout: seconds, more than 0 and at most 300")
    return SmtpSettings(host=raw["host"].strip(), sender=raw["from"].strip(), port=port,
                        username=raw.get("username") or None,
                        password_env=raw.get("password_env") or "JOURNEYMAP_SMTP_PASSWORD",
                        security=security, timeout=float(timeout))
