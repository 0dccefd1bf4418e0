"""The one registry of analysis sections, with what each reads.

A section is one key of the analysis dict (``analyze --json``, DESIGN §3.3).  It runs
in one of two phases:

* ``journeys`` — on the journey table (:class:`journeymap.engine.analyze.Analysis`),
  registered by the engine; all of them run side by side in one pass.
* ``results`` — on the store and the sections before it
  (:class:`journeymap.analysis.Context`), registered by the analysis layer, which may
  not be imported by the engine: the engine declares the contract keys it leaves to
  that layer (``pain_points``, ``segments``) with a ``default`` it writes when run alone.

A section names the sections it ``reads`` (asking for it computes them too) and those it
``uses`` when they are computed anyway (it waits for them); the run order follows from
these — sections with nothing left to wait for run side by side, heaviest (``cost``)
first.  ``fast=False`` sections are left out by ``--fast``, ``page=False`` ones by the
map page; ``hidden`` ones feed other sections and never appear in the output; ``also``
names other keys a section writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal

Phase = Literal["journeys", "results"]


@dataclass(frozen=True)
class Section:
    name: str
    run: Callable[[Any], Any] | None
    phase: Phase = "journeys"
    reads: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()
    cost: float = 0.0
    fast: bool = True
    page: bool = True
    hidden: bool = False
    also: tuple[str, ...] = ()
    default: Callable[[], Any] | None = None


class SectionRegistry(dict[str, Section]):
    """Sections by name, in the order of the output (registration order)."""

    def register(self, name: str, run: Callable[[Any], Any] | None, **spec: Any) -> Section:
        """Add the section ``name``, or complete a declared one in its place (a declared
        section keeps its position and its fields but those given)."""
        section = replace(self[name], run=run, **spec) if name in self else Section(name, run, **spec)
        self[name] = section
        return section

    def names(self) -> list[str]:
        """Every name ``sections=`` may ask for: each visible section, then the keys
        they also write."""
        shown = [s.name for s in self.values() if not s.hidden]
        return list(dict.fromkeys([*shown, *(k for s in self.values() if not s.hidden for k in s.also)]))

    def writer(self, key: str) -> str:
        """The section that writes ``key`` (itself, or the one that ``also`` writes it)."""
        if key in self:
            return key
        return next(s.name for s in self.values() if key in s.also)

    def needed(self, wanted: Iterable[str]) -> list[str]:
        """``wanted`` and every section they read, transitively, in output order."""
        todo, found = [self.writer(w) for w in wanted], set()
        while todo:
            name = todo.pop()
            if name not in found:
                found.add(name)
                todo.extend(self[name].reads)
        return [name for name in self if name in found]

    def waves(self, names: Iterable[str]) -> list[list[str]]:
        """``names`` in waves: each wave's sections wait only for earlier waves' (what
        they read or use among ``names``); a wave keeps output order."""
        left = [n for n in self if n in set(names)]
        done: set[str] = set()
        out: list[list[str]] = []
        while left:
            wave = [n for n in left
                    if all(d in done or d not in left for d in (*self[n].reads, *self[n].uses))]
            if not wave:
                raise ValueError(f"sections wait for each other: {', '.join(left)}")
            out.append(wave)
            done.update(wave)
            left = [n for n in left if n not in done]
        return out

    def costs(self) -> dict[str, float]:
        return {name: s.cost for name, s in self.items()}


#: every section of an analysis: the engine's register themselves in
#: :mod:`journeymap.engine.analyze`, the others in :mod:`journeymap.analysis`
SECTIONS = SectionRegistry()
