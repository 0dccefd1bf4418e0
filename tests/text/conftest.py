"""Fixtures for text tests: a 2,000-customer demo store with its feedback and transcripts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from journeymap.data.store import Store
from journeymap.model import load_map
from journeymap.model.document import JourneyMap
from journeymap.workspace import Workspace


@dataclass
class Demo:
    store: Store
    maps: dict[str, JourneyMap]
    truth: dict[str, Any]


@pytest.fixture(scope="package")
def demo(demo_2k) -> Iterator[Demo]:  # noqa: ANN001 - tests.conftest.DemoData
    """The 2,000-customer demo (tests/conftest.py, built once per session): its store,
    maps and ground truth."""
    with Workspace.open(demo_2k.root) as ws:
        maps = {p.stem: load_map(p) for p in demo_2k.files.maps}
        yield Demo(ws.store, maps, demo_2k.truth)
