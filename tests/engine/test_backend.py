"""connect(): engine choice, Spark settings precedence, the Parquet export's refresh rule."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import ibis
import pytest

from journeymap.engine.backend import (
    SPARK_URL_ENV,
    describe,
    spark_settings,
)
from journeymap.config import load_config
from journeymap.engine.spark_export import MANIFEST, export_store, is_current
from journeymap.errors import ConfigError
from journeymap.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    ws = Workspace.create(tmp_path / "ws")
    events = tmp_path / "e.csv"
    events.write_text("customer_id,timestamp,event,properties\n"
                      "a,2026-01-01T10:00:00Z,signup,\"{\"\"plan\"\": \"\"pro\"\"}\"\n"
                      "a,2026-01-02T10:00:00+02:00,login,\n", encoding="utf-8")
    ws.ingest("events", [events])
    return ws


def test_duckdb_is_the_store(ws: Workspace) -> None:
    con = ws.connect()
    assert describe(con)["engine"] == "duckdb"
    assert con.table("event_log").count().to_pyarrow().as_py() == 2


def test_unknown_engine_is_one_line(ws: Workspace) -> None:
    with pytest.raises(ConfigError, match="unknown engine 'flink'"):
        ws.connect("flink")


def test_spark_url_precedence(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SPARK_URL_ENV, raising=False)
    assert spark_settings(ws.config).url == "local[2]"
    toml = ws.root / "journeymap.toml"
    toml.write_text(toml.read_text() + '\n[engine.spark_conf]\n"spark.executor.memory" = "4g"\n')
    text = toml.read_text().replace('[engine]\n', '[engine]\nspark_url = "spark://m:7077"\n'
                                    'spark_data = "s3a://lake/x"\n')
    toml.write_text(text)
    got = spark_settings(load_config(toml))
    assert (got.url, got.data, got.conf) == ("spark://m:7077", "s3a://lake/x",
                                             (("spark.executor.memory", "4g"),))
    monkeypatch.setenv(SPARK_URL_ENV, "sc://connect:15002")
    assert spark_settings(load_config(toml)).url == "sc://connect:15002"
    assert spark_settings(load_config(toml), "local[1]").url == "local[1]"
    with pytest.raises(ConfigError, match="expected local"):
        spark_settings(ws.config, "http://nope")


def test_export_layout_and_refresh(ws: Workspace, tmp_path: Path) -> None:
    root = ws.root / ".journeymap-spark"
    export_store(ws.store, root)
    manifest = json.loads((root / MANIFEST).read_text())
    assert manifest["rows"]["event_log"] == 2 and manifest["ingests"] == 1
    log = pq.read_table(root / "event_log")
    assert "_key" not in log.column_names
    assert str(log.schema.field("timestamp").type) == "timestamp[us, tz=UTC]"
    assert log.schema.field("properties").type == "string"
    assert sorted(log.column("timestamp").to_pylist())[1].hour == 8  # +02:00 → UTC
    assert is_current(ws.store, root)
    more = tmp_path / "more.csv"
    more.write_text("customer_id,timestamp,event\nb,2026-01-03T00:00:00Z,signup\n")
    ws.ingest("events", [more])
    assert not is_current(ws.store, root)
    export_store(ws.store, root)
    assert json.loads((root / MANIFEST).read_text())["rows"]["event_log"] == 3
    assert not root.with_name(root.name + ".partial").exists()


def test_capabilities_are_asked_once_per_connection(ws: Workspace) -> None:
    from journeymap.engine.backend import capabilities

    con = ws.store.ibis()
    caps = capabilities(con)
    assert caps.engine == "duckdb" and caps.stored_order and caps.threads >= 1
    assert capabilities(con) is caps  # kept on the connection
    memory = ibis.duckdb.connect()
    assert capabilities(memory).bitmaps and capabilities(memory) is not caps
