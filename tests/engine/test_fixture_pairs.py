"""Fixture pairs, sqlglot style: tests/fixtures/journeys/<case>/{events.csv, map.yaml,
expected.json}.  Every case is ingested into a fresh workspace and analysed; each
section named in expected.json must contain the expected rows (rows are matched on
their identifying keys; only the fields given are compared, floats to 1e-6)."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import pytest

from journeymap.engine.funnels import FunnelSpec
from journeymap.model import load_map
from journeymap.workspace import Workspace

CASES = sorted(p for p in (Path(__file__).parents[1] / "fixtures" / "journeys").iterdir()
               if p.is_dir())
KEYS = {"touchpoints": ("id",), "transitions": ("from", "to"), "stages": ("id",),
        "funnel": ("step",), "paths": ("path",), "decay_points": ("stage", "touchpoint")}


def _same(got: Any, want: Any, where: str) -> None:
    if isinstance(want, float) or (isinstance(want, int) and isinstance(got, float)):
        assert got is not None and math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9), \
            f"{where}: {got} != {want}"
    elif isinstance(want, dict):
        for k, v in want.items():
            assert k in got, f"{where}: missing {k}"
            _same(got[k], v, f"{where}.{k}")
    elif isinstance(want, list) and want and isinstance(want[0], dict) and where.count(".") == 1:
        _rows(got, want, where)
    else:
        assert got == want, f"{where}: {got!r} != {want!r}"


def _rows(got: list[dict[str, Any]], want: list[dict[str, Any]], where: str) -> None:
    section = where.split(".")[-1]
    keys = KEYS.get(section, ())
    for row in want:
        match = [g for g in got if all(g.get(k) == row.get(k) for k in keys)] if keys else got
        assert match, f"{where}: no row {({k: row.get(k) for k in keys})} in {got}"
        for k, v in row.items():
            if isinstance(v, list) and v and isinstance(v[0], dict):
                assert match[0][k] == v, f"{where}[{row}].{k}: {match[0][k]} != {v}"
            else:
                _same(match[0].get(k), v, f"{where}[{[row.get(k) for k in keys]}].{k}")
    if section in ("transitions", "paths") and keys:
        assert len(got) == len(want), f"{where}: {len(got)} rows, expected {len(want)}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture_pair(case: Path, tmp_path: Path) -> None:
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    spec = expected.pop("funnel_spec", None)
    expected.pop("_comment", None)
    funnel_spec = None
    if spec:
        window = spec.get("window_seconds")
        funnel_spec = FunnelSpec(tuple(spec["steps"]), level=spec.get("level", "touchpoint"),
                                 order=spec.get("order", "loose"),
                                 window=dt.timedelta(seconds=window) if window else None,
                                 exclude=tuple(spec.get("exclude", ())))
    with Workspace.create(tmp_path / "ws") as ws:
        ws.ingest("events", [case / "events.csv"])
        result = ws.analyze(load_map(case / "map.yaml"), funnel_spec=funnel_spec)
    for section, want in expected.items():
        if isinstance(want, list):
            _rows(result[section], want, f"{case.name}.{section}")
        else:
            _same(result[section], want, f"{case.name}.{section}")
