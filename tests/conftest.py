"""Fixtures every test package shares: the 2,000-customer demo company, built once.

``demo_2k`` generates the demo (seed 7) and loads all five of its files — customers,
events, feedback, transactions, transcripts — into one workspace, once per test
session; package fixtures open that workspace (read-only: a test that changes data
builds its own).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from journeymap.demo.generate import DemoFiles, generate_demo
from journeymap.workspace import Workspace

def pytest_configure(config: pytest.Config) -> None:
    """pytest-xdist's workers start with COLUMNS=80, and a Rich console made at import
    keeps the width it found then: the CLI's tables would be cut to 80 columns in some
    tests and not others.  Without it, each console reads COLUMNS when it prints
    (CliRunner's ``env``).  Runs before any test module imports the CLI."""
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)


DEMO_KINDS = ("customers", "events", "feedback", "transactions", "transcripts")


@dataclass(frozen=True)
class DemoData:
    """The built demo: its workspace folder, the generated files and the ground truth."""

    root: Path
    files: DemoFiles
    truth: dict[str, Any]

    def effect(self, effect_id: str) -> dict[str, Any]:
        return next(e for e in self.truth["effects"] if e["id"] == effect_id)


@pytest.fixture(scope="session")
def demo_2k(tmp_path_factory: pytest.TempPathFactory) -> DemoData:
    root = tmp_path_factory.mktemp("demo-2k")
    with Workspace.create(root) as ws:
        files = generate_demo(ws.root, customers=2000, seed=7)
        for kind in DEMO_KINDS:
            ws.ingest(kind, [getattr(files, kind)])
    return DemoData(root, files, json.loads(files.ground_truth.read_text(encoding="utf-8")))
