"""Fixtures for the app: a small demo workspace (300 customers; events, customers and
feedback), built once per session and copied for each test (the app writes map files
and its database into the workspace), and a client of the real app on it (SQLite)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

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


@pytest.fixture
def client(workspace: Path) -> Iterator[TestClient]:
    app = create_app(workspace, user="ana")
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        token = c.get("/api/session").json()["csrf_token"]
        c.headers["X-CSRF-Token"] = token
        yield c
