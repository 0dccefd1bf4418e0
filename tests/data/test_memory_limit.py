"""[engine] memory_limit in journeymap.toml: DuckDB's buffer limit (default 30 % of RAM),
read back from the running database, and one-line errors for values it cannot use."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from journeymap.config import load_config
from journeymap.data.store import memory_limit_setting
from journeymap.errors import ConfigError
from journeymap.workspace import Workspace


def _limit_bytes(ws: Workspace) -> int:
    got = ws.store.ibis().raw_sql(  # type: ignore[attr-defined]
        "SELECT current_setting('memory_limit')").fetchall()[0][0]
    number, unit = got.split()
    scale = {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}[unit]
    return int(float(number) * scale)


def _ram() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def test_default_is_thirty_percent_of_ram(tmp_path: Path) -> None:
    with Workspace.create(tmp_path / "ws") as ws:
        assert _limit_bytes(ws) == pytest.approx(max(2**30, 0.30 * _ram()), abs=0.1 * 2**30)  # shown as x.y GiB


@pytest.mark.parametrize(("value", "expected"), [("1500MB", 1500 * 10**6), ("2GiB", 2 * 2**30)])
def test_size_from_the_workspace_settings(tmp_path: Path, value: str, expected: int) -> None:
    Workspace.create(tmp_path / "ws").close()
    toml = tmp_path / "ws" / "journeymap.toml"
    toml.write_text(toml.read_text().replace('[engine]\n', f'[engine]\nmemory_limit = "{value}"\n'))
    with Workspace.open(tmp_path / "ws") as ws:
        assert _limit_bytes(ws) == pytest.approx(expected, abs=0.1 * 2**30)
    assert load_config(toml).to_toml().count(f'memory_limit = "{value}"') == 1  # saved back


def test_share_of_ram() -> None:
    got = memory_limit_setting("50%")
    assert got.endswith("MiB") and int(got[:-3]) == pytest.approx(_ram() / 2 / 2**20, rel=0.001)


@pytest.mark.parametrize("value", ['"lots"', '"8 parsecs"', "8", '"-1GB"'])
def test_unusable_value_is_one_line(tmp_path: Path, value: str) -> None:
    toml = tmp_path / "journeymap.toml"
    toml.write_text(f'name = "x"\n[engine]\nurl = "duckdb:j.duckdb"\nmemory_limit = {value}\n')
    with pytest.raises(ConfigError, match=r"journeymap.toml: engine.memory_limit: expected a size") as err:
        load_config(toml)
    assert "\n" not in str(err.value)


def test_unknown_engine_setting(tmp_path: Path) -> None:
    toml = tmp_path / "journeymap.toml"
    toml.write_text('name = "x"\n[engine]\nurl = "duckdb:j.duckdb"\nthreads = 4\n')
    with pytest.raises(ConfigError, match="engine: unknown setting 'threads'"):
        load_config(toml)


def test_spark_settings_are_engine_settings(tmp_path: Path) -> None:
    toml = tmp_path / "journeymap.toml"
    toml.write_text('name = "x"\n[engine]\nurl = "duckdb:j.duckdb"\nmemory_limit = "40%"\n'
                    'spark_url = "spark://m:7077"\nspark_data = "s3a://lake/x"\n'
                    '[engine.spark_conf]\n"spark.executor.memory" = "4g"\n')
    assert load_config(toml).memory_limit == "40%"


def test_a_memory_store_removes_its_spill_folder_when_closed() -> None:
    """Every in-memory store made a temp folder for DuckDB to spill to and left it behind
    (1,440 of them in /tmp after a few test runs)."""
    from pathlib import Path

    from journeymap.data.store import Store

    store = Store.memory()
    spill = Path(store.con.execute("SELECT current_setting('temp_directory')").fetchone()[0])
    assert spill.is_dir()
    store.close()
    assert not spill.exists()
