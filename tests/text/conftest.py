"""Fixtures for text tests: a 2,000-customer demo store with its feedback and transcripts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from journeymap.demo.generate import generate_demo
from journeymap.data.ingest import ingest
from journeymap.data.store import Store
from journeymap.model import load_map
from journeymap.model.document import JourneyMap


@dataclass
class Demo:
    store: Store
    maps: dict[str, JourneyMap]
    truth: dict[str, Any]


@pytest.fixture(scope="package")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    root = tmp_path_factory.mktemp("text-demo")
    files = generate_demo(root, customers=2000)
    store = Store(root / "journeymap.duckdb")
    for kind in ("customers", "feedback", "transcripts"):
        ingest(store, kind, [getattr(files, kind)])
    maps = {p.stem: load_map(p) for p in files.maps}
    yield Demo(store, maps, json.loads(files.ground_truth.read_text()))
    store.close()
