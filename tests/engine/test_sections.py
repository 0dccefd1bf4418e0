"""The one section registry: what a section reads is computed first, and waits decide the order."""

from __future__ import annotations

import pytest

import journeymap.analysis  # noqa: F401 - registers the analysis layer's sections
from journeymap.engine.sections import SECTIONS, SectionRegistry


def _registry() -> SectionRegistry:
    r = SectionRegistry()
    r.register("base", lambda a: 1)
    r.register("later", None, phase="results", default=list)  # declared by a lower layer
    r.register("x", lambda c: 2, phase="results", reads=("base",))
    r.register("hidden_feed", lambda c: 3, phase="results", hidden=True)
    r.register("later", lambda c: 4, phase="results", reads=("x", "hidden_feed"), uses=("slow",),
               also=("later_too",))
    r.register("slow", lambda c: 5, phase="results", fast=False)
    return r


def test_a_declared_section_keeps_its_place_when_completed() -> None:
    r = _registry()
    assert list(r) == ["base", "later", "x", "hidden_feed", "slow"]
    assert r["later"].run is not None and r["later"].default is list
    assert r.names() == ["base", "later", "x", "slow", "later_too"]  # hidden left out, also-keys last


def test_needed_adds_what_is_read_not_what_is_only_used() -> None:
    r = _registry()
    assert r.needed(["later_too"]) == ["base", "later", "x", "hidden_feed"]
    assert r.needed(["slow"]) == ["slow"]


def test_waves_wait_for_reads_and_for_uses_when_computed() -> None:
    r = _registry()
    assert r.waves(["later", "x", "hidden_feed"]) == [["x", "hidden_feed"], ["later"]]
    assert r.waves(["later", "x", "hidden_feed", "slow"]) == [["x", "hidden_feed", "slow"], ["later"]]


def test_a_cycle_is_refused() -> None:
    r = SectionRegistry()
    r.register("a", None, reads=("b",))
    r.register("b", None, reads=("a",))
    with pytest.raises(ValueError, match="wait for each other"):
        r.waves(["a", "b"])


def test_the_real_registry_is_consistent() -> None:
    for section in SECTIONS.values():
        assert set(section.reads) | set(section.uses) <= set(SECTIONS), section.name
        assert section.run is not None, f"{section.name}: declared but never registered"
    results = [n for n, s in SECTIONS.items() if s.phase == "results"]
    waves = SECTIONS.waves(results)
    assert sorted(waves[-1]) == ["alerts", "pain_points"] and len(waves) == 2  # they read the others
    assert "behaviour" not in SECTIONS.names() and "opportunities" in SECTIONS.names()
