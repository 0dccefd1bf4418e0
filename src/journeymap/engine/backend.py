"""Connect the analysis backend: the embedded DuckDB store, or Apache Spark.

Every analysis is an Ibis expression over the store's tables (``event_log``,
``event_names``, ``events``, ``customers``, ``feedback``, ``transactions``,
``transcripts``), so it runs unchanged on whichever backend :func:`connect` returns::

    con = ws.connect("spark")   # Workspace.connect -> connect(store, config, "spark", spark_dir=...)
    analyze_map(con, jmap)

Spark reads the store through a Parquet layout (:mod:`journeymap.engine.spark_export`)
that is written inside the workspace on first use and rewritten when the store has
seen another ingest; on a cluster it reads the same layout from shared storage
(``[engine] spark_data``).  See docs/spark.md.

This is the one module that knows which engine is which (issue 9, point 2).

The analyses are Ibis expressions that run on any backend; a few take a faster road
where the backend allows it.  They ask :func:`capabilities` instead of testing the
backend's name::

    if capabilities(con).stored_order:      # streaming windows over the stored order
        ...

* ``stored_order``: ``event_log`` is read in its stored order (customer, time, source
  order), so windows over it need no sort, and rows can be looked up by ``rowid``
  (chunks of customers: :func:`journeymap.engine.journeys.customer_splits`);
* ``threads``: the engine's worker threads (1: run one thing at a time);
* ``cursors``: sections may run side by side, each on its own cursor of one database;
* ``temp_tables``: scratch results can be stored in temporary tables (else each query
  computes the expression again);
* ``unordered_writes``: a table may be written in any row order, by every thread;
* ``native_arrow``: results come as Arrow straight from the engine's relation;
* ``bitmaps``: ``bitstring_agg`` / ``bit_count`` count distinct small integers exactly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis

from journeymap.config import Config
from journeymap.errors import ConfigError, EngineError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from journeymap.data.store import Store
    from journeymap.progress import Progress

ENGINES = ("duckdb", "spark")
SPARK_URL_ENV = "JOURNEYMAP_SPARK_URL"
SPARK_DATA_ENV = "JOURNEYMAP_SPARK_DATA"
DEFAULT_SPARK_URL = "local[2]"
SPARK_DIR = ".journeymap-spark"


@dataclass(frozen=True)
class SparkSettings:
    """Where Spark runs and where it finds the store's Parquet layout.

    ``url``: ``local[N]``, ``spark://host:port`` (a standalone master) or
    ``sc://host:port`` (Spark Connect).  ``data``: the layout's root as the cluster
    sees it; None means "export it into the workspace" (local mode, or a workspace
    on storage every executor mounts at the same path).
    """

    url: str = DEFAULT_SPARK_URL
    data: str | None = None
    conf: tuple[tuple[str, str], ...] = ()


def spark_settings(config: Config, url: str | None = None) -> SparkSettings:
    """The Spark settings: ``url`` if given, else $JOURNEYMAP_SPARK_URL, else
    ``[engine] spark_url`` of the workspace's :class:`Config`, else ``local[2]``;
    likewise $JOURNEYMAP_SPARK_DATA / ``spark_data``; ``[engine.spark_conf]`` adds
    Spark settings."""
    chosen = url or os.environ.get(SPARK_URL_ENV) or config.spark_url or DEFAULT_SPARK_URL
    data = os.environ.get(SPARK_DATA_ENV) or config.spark_data
    conf = config.spark_conf
    if not chosen.startswith(("local", "spark://", "sc://", "yarn", "k8s://")):
        raise ConfigError(f"spark url '{chosen}': expected local[N], spark://host:port, "
                          "sc://host:port (Spark Connect), yarn or k8s://...")
    return SparkSettings(chosen, data, tuple((str(k), str(v)) for k, v in conf.items()))


def connect(store: Store, config: Config, engine: str = "duckdb", *, spark_dir: Path | None = None,
            spark_url: str | None = None, progress: Progress | None = None) -> ibis.BaseBackend:
    """An Ibis backend on ``store``'s tables: ``duckdb`` (the store itself) or ``spark``
    (the store exported to Parquet under ``spark_dir`` and registered as Spark tables,
    or the layout at ``[engine] spark_data``), with the engine settings of ``config``."""
    if engine == "duckdb":
        return store.ibis()
    if engine != "spark":
        raise ConfigError(f"unknown engine '{engine}' (expected one of {', '.join(ENGINES)})")
    settings = spark_settings(config, spark_url)
    from journeymap.engine.spark_export import export_store, register_layout

    if settings.data is None:
        if spark_dir is None:
            raise ConfigError("the spark engine needs a folder for the store's Parquet export "
                              "(spark_dir) or [engine] spark_data")
        location = str(export_store(store, spark_dir, progress=progress))
    else:
        location = settings.data
    session = spark_session(settings.url, conf=dict(settings.conf))
    con = spark_backend(session)
    register_layout(session, location)
    return con


def _local_cores(url: str) -> int:
    inside = url.partition("[")[2].partition("]")[0].split(",")[0]
    if inside in ("", "*"):
        return os.cpu_count() or 1
    try:
        return max(1, int(inside))
    except ValueError:
        return os.cpu_count() or 1


def _default_driver_memory() -> str:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "2g"
    return f"{max(1, min(8, total // 4 // 1024 ** 3))}g"


def spark_session(url: str = DEFAULT_SPARK_URL, *, conf: Mapping[str, str] | None = None,
                  app_name: str = "journeymap") -> SparkSession:
    """A SparkSession for ``url`` with journeymap's settings: UTC session time zone,
    no UI in local mode, shuffle partitions sized to the local cores, non-ANSI SQL
    (DuckDB's semantics for division by zero and casts), Arrow transfers."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError("the spark engine needs the 'spark' extra: "
                          "pip install 'journeymap[spark]'") from None
    settings: dict[str, str] = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.ansi.enabled": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
    }
    if url.startswith("sc://"):
        builder = SparkSession.builder.remote(url)
    else:
        builder = SparkSession.builder.master(url).appName(app_name)
        if url.startswith("local"):
            cores = _local_cores(url)
            settings.update({
                "spark.ui.enabled": "false",
                "spark.ui.showConsoleProgress": "false",
                "spark.driver.host": "127.0.0.1",
                "spark.driver.bindAddress": "127.0.0.1",
                "spark.driver.memory": _default_driver_memory(),
                "spark.sql.shuffle.partitions": str(max(1, 2 * cores)),
                "spark.default.parallelism": str(max(1, 2 * cores)),
            })
    settings.update(conf or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # py4j/grpc errors carry the cause in their text
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EngineError(f"cannot start Spark at '{url}': {first}") from exc
    if not url.startswith("sc://"):
        session.sparkContext.setLogLevel("ERROR")
    return session


def spark_backend(session: SparkSession) -> ibis.BaseBackend:
    """Ibis' pyspark backend on ``session``, reading results through Arrow."""
    from journeymap.engine.spark_ibis import SparkBackend

    SparkBackend.register_options()  # ibis.options.pyspark, as ibis.pyspark.connect does
    backend = SparkBackend()
    backend.do_connect(session)
    return backend


def describe(con: ibis.BaseBackend) -> dict[str, Any]:
    """Which engine ``con`` is, for reports (name and version)."""
    return {"engine": "spark" if con.name == "pyspark" else con.name, "version": con.version}


_ATTRIBUTE = "_journeymap_capabilities"


@dataclass(frozen=True)
class Capabilities:
    """What one backend connection can do (see the module docstring)."""

    engine: str
    stored_order: bool = False
    threads: int = 1
    cursors: bool = False
    temp_tables: bool = False
    unordered_writes: bool = False
    native_arrow: bool = False
    bitmaps: bool = False


def capabilities(con: ibis.BaseBackend) -> Capabilities:
    """``con``'s capabilities, asked of the engine once and kept on the connection."""
    found = getattr(con, _ATTRIBUTE, None)
    if found is None:
        found = _ask(con)
        try:
            setattr(con, _ATTRIBUTE, found)
        except AttributeError:  # a backend without a __dict__: ask again next time
            pass
    return found  # type: ignore[no-any-return]


def _ask(con: ibis.BaseBackend) -> Capabilities:
    if con.name == "duckdb":
        got = con.raw_sql("SELECT current_setting('threads')").fetchall()  # type: ignore[attr-defined]
        return Capabilities("duckdb", stored_order=True, threads=int(got[0][0]), cursors=True,
                            temp_tables=True, unordered_writes=True, native_arrow=True,
                            bitmaps=True)
    return Capabilities(con.name)
