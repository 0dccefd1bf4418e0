"""Fixtures for the app: a small demo workspace (300 customers; events, customers and
feedback), built once per session and copied for each test (the app writes map files
and its database into the workspace), and a client of the real app on it — once with
its metadata in SQLite (the default) and once in PostgreSQL, a fresh database per test
on the server ``JOURNEYMAP_TEST_PG_URL`` names (``.ci/postgres.sh start``; ``.ci/run``
starts one; under ``CI`` a missing server fails instead of skipping)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from journeymap.app.hosting import create_server
from journeymap.app.main import create_app
from journeymap.demo.generate import generate_demo
from journeymap.workspace import Workspace


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("app-demo")
    with Workspace.create(root) as ws:
        files = generate_demo(ws.root, customers=300, seed=3)
        for kind in ("customers", "events", "feedback"):
            ws.ingest(kind, [getattr(files, kind)])
    return root


@pytest.fixture
def workspace(small_demo: Path, tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(small_demo, root)
    return root


def server_of(small_demo: Path, tmp_path: Path, database_url: str | None, names: tuple[str, ...]):  # noqa: ANN201
    """A server (``create_server``) with a copy of the demo workspace per name, all keeping
    their metadata in one database: ``database_url``, else a SQLite file beside them."""
    roots = {}
    for name in names:
        roots[name] = tmp_path / name
        shutil.copytree(small_demo, roots[name])
    return create_server(roots, database_url=database_url or f"sqlite:///{tmp_path / 'server.sqlite'}")


PG_ENV = "JOURNEYMAP_TEST_PG_URL"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None (the workspace's SQLite file), or a new, empty PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    base = os.environ.get(PG_ENV)
    if not base:
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"CI runs the app's tests on PostgreSQL too: set {PG_ENV} (.ci/postgres.sh start)")
        pytest.skip(f"no PostgreSQL: set {PG_ENV} (.ci/postgres.sh start)")
    from sqlalchemy import create_engine, text

    name = f"jm_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"{base.rsplit('/', 1)[0]}/{name}"
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def client(workspace: Path, database_url: str | None) -> Iterator[TestClient]:
    app = create_app(workspace, user="ana", database_url=database_url)
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        token = c.get("/api/session").json()["csrf_token"]
        c.headers["X-CSRF-Token"] = token
        yield c
