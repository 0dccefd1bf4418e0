"""Backends for the engine tests, as ibis does in ``ibis/backends/conftest.py``.

A test that takes ``backend`` runs once per engine: ``duckdb`` (the workspace's
store) and ``spark`` (the same store exported to Parquet and registered in one local
SparkSession for the whole test session).  Both see the same fixed generated data
(:func:`parity_workspace`).  Known gaps of an engine are strict xfails via
``@pytest.mark.notimpl(["spark"], reason=...)`` (markers registered in pyproject.toml).
Without pyspark or Java the Spark tests skip — unless the environment variable ``CI``
is set: then they fail (:func:`spark_unavailable`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import ibis
import numpy as np
import pytest

from journeymap.workspace import Workspace

BACKENDS = ("duckdb", "spark")
EVENTS = ("visit", "signup", "onboard", "invite", "report", "upgrade", "ticket", "cancel")
CHANNELS = ("web", "app", "email")
SEGMENTS = ("SME", "Enterprise", "Startup")

#: Spark settings for tests: one core, one shuffle partition, no UI, UTC.
SPARK_TEST_CONF = {
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "1",
    "spark.driver.memory": "1g",
    "spark.sql.adaptive.enabled": "false",
    "spark.ui.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    # tiny data: compiling generated code costs more than it saves
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}


def _write_data(root: Path, customers: int = 60, seed: int = 11) -> dict[str, Path]:
    """Events (8 names, 3 channels, JSON properties, session ids, strictly increasing
    times per customer), customers (segment, size, country) and feedback."""
    rng = np.random.default_rng(seed)
    start = dt.datetime(2026, 1, 5, 8, 0, 0)
    ev_lines = ["customer_id,timestamp,event,channel,session_id,properties"]
    fb_lines = ["customer_id,timestamp,metric,score"]
    cu_lines = ["customer_id,segment,company_size,country"]
    for c in range(customers):
        cid = f"C{c:03d}"
        cu_lines.append(f"{cid},{SEGMENTS[c % 3]},{int(rng.integers(1, 500))},"
                        f"{('DE', 'FR', 'US')[int(rng.integers(0, 3))]}")
        t = start + dt.timedelta(days=int(rng.integers(0, 60)), minutes=int(rng.integers(0, 600)))
        n = int(rng.integers(3, 14))
        session = 1
        names = ["visit", "signup"] + [EVENTS[int(i)] for i in rng.integers(2, 8, size=n)]
        if c % 4 == 0:  # a quarter drop after signing up
            names = names[:2]
        for i, name in enumerate(names):
            gap = int(rng.choice([5, 20, 90, 3000, 40000]))
            t += dt.timedelta(minutes=gap, seconds=int(rng.integers(1, 59)))
            if gap >= 90:
                session += 1
            props: dict[str, Any] = {"plan": ("free", "pro", "team")[int(rng.integers(0, 3))],
                                     "seats": int(rng.integers(1, 40)),
                                     "trial": bool(rng.integers(0, 2))}
            if i % 5 == 4:
                props = {"seats": str(props["seats"])}  # a number written as text
            text = json.dumps(props).replace('"', '""')
            ev_lines.append(f"{cid},{t:%Y-%m-%dT%H:%M:%S}Z,{name},"
                            f"{CHANNELS[int(rng.integers(0, 3))]},{cid}-s{session},\"{text}\"")
        if c % 2 == 0:
            fb_lines.append(f"{cid},{t + dt.timedelta(hours=1):%Y-%m-%dT%H:%M:%S}Z,csat,"
                            f"{int(rng.integers(1, 6))}")
    files = {"events": root / "events.csv", "customers": root / "customers.csv",
             "feedback": root / "feedback.csv"}
    for kind, lines in (("events", ev_lines), ("customers", cu_lines), ("feedback", fb_lines)):
        files[kind].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return files


@pytest.fixture(scope="session")
def parity_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A workspace with the fixed generated data, shared by every backend."""
    root = tmp_path_factory.mktemp("parity")
    files = _write_data(root)
    ws = Workspace.create(root / "ws")
    for kind in ("customers", "events", "feedback"):
        ws.ingest(kind, [files[kind]])
    yield ws
    ws.close()


def spark_unavailable(reason: str) -> NoReturn:
    """Skip the Spark tests — or, when the environment variable ``CI`` is set, fail
    them: CI must run the parity suite (``make test`` installs Java), never pass
    because it silently skipped."""
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{reason}; CI is set, so the Spark suite must run "
                    "(make system-deps installs a headless JRE)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """One local SparkSession for the whole test session (local[1], UTC, no UI)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        spark_unavailable("pyspark is not installed (the [spark] extra)")
    if shutil.which("java") is None:
        spark_unavailable("Spark needs Java (java not on PATH)")
    from journeymap.engine.backend import spark_session as make_session

    session = make_session("local[1]", conf=SPARK_TEST_CONF, app_name="journeymap-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def spark_con(spark_session: Any, parity_workspace: Workspace) -> ibis.BaseBackend:
    from journeymap.engine.backend import SPARK_DIR, spark_backend
    from journeymap.engine.spark_export import export_store, register_layout

    root = export_store(parity_workspace.store, parity_workspace.root / SPARK_DIR)
    register_layout(spark_session, root)
    return spark_backend(spark_session)


@pytest.fixture(params=[pytest.param(b, marks=[pytest.mark.spark, pytest.mark.slow] if b == "spark" else [])
                        for b in BACKENDS], scope="session")
def backend_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def backend(backend_name: str, request: pytest.FixtureRequest,
            parity_workspace: Workspace) -> ibis.BaseBackend:
    """The Ibis backend under test, over the parity workspace's data."""
    for marker in request.node.iter_markers("notimpl"):
        if backend_name in marker.args[0]:
            request.node.add_marker(pytest.mark.xfail(
                reason=marker.kwargs.get("reason", "not implemented"), strict=True))
    if backend_name == "duckdb":
        return parity_workspace.store.ibis()
    con: ibis.BaseBackend = request.getfixturevalue("spark_con")
    return con


@pytest.fixture(scope="session")
def engine_demo_root(demo_2k) -> Path:  # noqa: ANN001 - tests.conftest.DemoData
    """The 2,000-customer demo workspace (tests/conftest.py), built once per session."""
    return demo_2k.root
