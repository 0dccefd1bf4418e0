"""`journeymap demo`: make a workspace, generate the demo company, load it, render it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from journeymap.config import CONFIG_NAME
from journeymap.errors import MapValidationError, WorkspaceError
from journeymap.progress import Progress
from journeymap.workspace import Workspace

if TYPE_CHECKING:
    from journeymap.data.ingest import IngestReport

GROUND_TRUTH = "ground_truth.json"


@dataclass
class DemoResult:
    workspace: Path
    ingests: list[IngestReport] = field(default_factory=list)
    maps: list[Path] = field(default_factory=list)
    pages: list[Path] = field(default_factory=list)
    index: Path = Path()
    ground_truth: Path = Path()


def _prepare(directory: Path) -> Workspace:
    """A fresh demo workspace; refuses to touch a workspace the demo did not make."""
    root = directory.resolve()
    if (root / CONFIG_NAME).exists() and not (root / GROUND_TRUTH).exists():
        raise WorkspaceError(
            f"{directory}: holds a workspace the demo did not make; choose another folder"
        )
    if root.exists() and any(root.iterdir()) and not (root / CONFIG_NAME).exists():
        raise WorkspaceError(f"{directory}: folder is not empty; choose a new or empty folder")
    ws = Workspace.create(root, name="demo")
    store = ws.store_path
    for stale in (store, store.with_name(store.name + ".wal")):
        if stale.exists():  # the demo regenerates everything: start the store afresh
            os.remove(stale)
    return ws


def run_demo(directory: str | os.PathLike[str], *, customers: int = 50_000, seed: int = 7,
             progress: Progress | None = None) -> DemoResult:
    from journeymap.demo.generate import generate_demo
    from journeymap.render.index import render_index

    ws = _prepare(Path(directory))
    with ws:
        files = generate_demo(ws.root, customers=customers, seed=seed, progress=progress)
        result = DemoResult(workspace=ws.root, ground_truth=ws.root / GROUND_TRUTH)
        for kind in ("customers", "events", "feedback", "transactions", "transcripts"):
            path = getattr(files, kind)
            result.ingests.append(ws.ingest(kind, [path], progress=progress))
        issues = ws.validate()
        if issues:
            raise MapValidationError(issues)
        result.maps = ws.map_paths()
        for map_path in result.maps:  # the demo's personas start the persona library
            ws.save_persona(ws.load_map(map_path).persona)
        entries = []
        for i, map_path in enumerate(result.maps):
            jmap = ws.load_map(map_path)
            page = ws.render(map_path, ws.reports_dir / f"{jmap.id}.html")
            result.pages.append(page)
            entries.append((jmap, page))
            if progress:
                progress("Rendering maps", i + 1, len(result.maps))
        result.index = render_index("Demo company", entries, ws.reports_dir / "index.html")
    return result
