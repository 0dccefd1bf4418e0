"""Fixtures for metrics tests: the CDNOW data shipped in ``lifetimes`` (read as files,
never imported: the package's code does not import cleanly under current pandas) and
the 2,000-customer demo workspace, built once per session."""

from __future__ import annotations

import csv
import importlib.util
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from journeymap.workspace import Workspace


def lifetimes_datasets() -> Path:
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("lifetimes (test extra) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets"


@pytest.fixture(scope="session")
def cdnow_summary() -> dict[str, np.ndarray]:
    """Calibration summary of the 2,357 CDNOW customers: x, t_x, T (weeks), zbar."""
    with open(lifetimes_datasets() / "cdnow_customers_summary_with_transactions.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: np.array([float(r[k]) for r in rows]) for k in ("x", "t_x", "T", "zbar")} | {
        "id": np.array([int(r["ID"]) for r in rows])}


@pytest.fixture(scope="session")
def cdnow_transactions_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CDNOW_sample.txt (customer, master id, yyyymmdd, CDs, dollars) as a transactions CSV."""
    out = tmp_path_factory.getbasetemp() / "cdnow_transactions.csv"
    lines = ["customer_id,timestamp,amount"]
    for raw in (lifetimes_datasets() / "CDNOW_sample.txt").read_text().splitlines():
        parts = raw.split()
        if len(parts) == 5:
            d = parts[2]
            lines.append(f"{int(parts[1])},{d[:4]}-{d[4:6]}-{d[6:]},{parts[4]}")
    out.write_text("\n".join(lines) + "\n")
    return out


@pytest.fixture(scope="session")
def demo(demo_2k) -> Iterator[Workspace]:  # noqa: ANN001 - tests.conftest.DemoData
    """The 2,000-customer demo workspace (tests/conftest.py), built once per session."""
    ws = Workspace.open(demo_2k.root)
    yield ws
    ws.close()
