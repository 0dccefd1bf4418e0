"""Sections run side by side on DuckDB (one per thread, each on its own cursor): the
same result as one by one, errors propagate, and no scratch table is left behind."""

from __future__ import annotations

from typing import Any

import pytest

from journeymap.engine import analyze as analyze_module
from journeymap.engine.analyze import SECTIONS, analyze_map, register_section
from journeymap.model import load_map_text
from journeymap.workspace import Workspace
from tests.engine.test_parity import MAP

pytestmark = pytest.mark.slow


def _scratch_tables(ws: Workspace) -> list[Any]:
    return ws.store.ibis().raw_sql(  # type: ignore[attr-defined]
        "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'jm_%'").fetchall()


def test_side_by_side_equals_one_by_one(parity_workspace: Workspace,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    jmap = load_map_text(MAP, "parity.yaml")
    con = parity_workspace.store.ibis()
    parallel = analyze_map(con, jmap, by="segment", paths_to="upgrade")
    monkeypatch.setattr(analyze_module, "shared_scratch", lambda con: None)  # no shared catalog
    sequential = analyze_map(con, jmap, by="segment", paths_to="upgrade")
    assert parallel == sequential
    assert _scratch_tables(parity_workspace) == []


def test_a_failing_section_stops_the_analysis_cleanly(parity_workspace: Workspace) -> None:
    def boom(a: Any) -> Any:
        raise RuntimeError("section failed")

    register_section("boom", boom)
    try:
        with pytest.raises(RuntimeError, match="section failed"):
            analyze_map(parity_workspace.store.ibis(), load_map_text(MAP, "parity.yaml"),
                        sections=("stages", "transitions", "boom", "paths", "funnel"))
    finally:
        del SECTIONS["boom"]
    assert _scratch_tables(parity_workspace) == []
