"""The layers of docs/architecture.md hold: every import points down, and no cycle.

Every ``import`` of a journeymap module counts — at the top, inside a function or under
``TYPE_CHECKING`` — so a lazy import cannot hide a wrong-way dependency.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src"

#: The layers, bottom first; a package may import its own layer's modules and any below.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("journeymap", "errors", "progress", "version"),
    ("model",),
    ("data",),
    ("config",),
    ("engine",),
    ("metrics", "text"),
    ("render",),
    ("analysis", "reports"),
    ("workspace", "live_data", "collector", "touchpoint_surveys", "snapshots"),
    ("app",),
    ("commands", "cli", "cli_progress", "demo", "docs_gen", "api"),
)

#: Which lower layers each package may import (beyond itself and the base layer): the
#: engine never reads metrics or text, rendering reads only the document model, and the
#: peers ``metrics`` and ``text`` do not import each other.
MAY_IMPORT: dict[str, set[str]] = {
    "model": set(),
    "data": set(),
    "config": {"data"},
    "engine": {"model", "data", "config"},
    "metrics": {"model", "data", "config", "engine"},
    "text": {"model", "data", "config", "engine"},
    "render": {"model"},
    "analysis": {"model", "data", "config", "engine", "metrics", "text"},
    "reports": {"model", "data", "config", "engine", "metrics", "text"},
    "workspace": {"model", "data", "config", "engine", "metrics", "text", "render", "analysis", "reports",
                  "collector", "touchpoint_surveys", "snapshots", "live_data"},
    "live_data": {"model", "data", "config", "engine", "collector", "touchpoint_surveys", "snapshots"},
    "snapshots": set(),
    "collector": {"data", "config", "touchpoint_surveys"},
    "touchpoint_surveys": {"model", "data", "config", "engine"},
}
FRONT_ENDS = {"commands", "cli", "cli_progress", "demo", "docs_gen", "app", "api"}
#: The package itself gives the Python API's names (``journeymap.open_workspace``),
#: loading ``journeymap.api`` on first use: the one import of a front end from the base.
PACKAGE_GIVES = {"api"}
#: Front ends call the service (workspace, reports), the document model, rendering's pure
#: functions and each other; from the layers the service wraps they import only the
#: option types the service's methods take.
FRONT_END_MAY_IMPORT = {"workspace", "reports", "model", "render", "config", "commands", "cli_progress",
                        "demo", "cli", "app", "api", "collector", "touchpoint_surveys", "snapshots"}
OPTION_TYPES = {
    "journeymap.engine.funnels": {"FunnelSpec"},
    "journeymap.engine.journeys": {"JourneyOptions"},
    "journeymap.metrics.clv": {"ClvOptions"},
    "journeymap.data.read_transcripts": {"TranscriptMeta"},
    "journeymap.data.ingest": {"IngestReport"},
    "journeymap.analysis": {"Filters"},
}
BASE = set(LAYERS[0])


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _modules() -> dict[str, Path]:
    found = {}
    for path in (SRC / "journeymap").rglob("*.py"):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        found[name] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> list[tuple[str, set[str], int]]:
    """(imported module, names taken from it, line) for every journeymap import."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("journeymap"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                if sub in modules:
                    out.append((sub, set(), node.lineno))
                else:
                    out.append((node.module, {alias.name}, node.lineno))
        elif isinstance(node, ast.Import):
            out += [(a.name, set(), node.lineno) for a in node.names if a.name.startswith("journeymap")]
    return out


def _allowed(src_pkg: str, target: str, names: set[str]) -> bool:
    dst_pkg = _package(target)
    if dst_pkg == src_pkg or dst_pkg in BASE or target == "journeymap":
        return True
    if src_pkg == "journeymap" and dst_pkg in PACKAGE_GIVES:
        return True
    if src_pkg in FRONT_ENDS:
        return dst_pkg in FRONT_END_MAY_IMPORT or (bool(names) and names <= OPTION_TYPES.get(target, set()))
    return dst_pkg in MAY_IMPORT.get(src_pkg, set())


def test_every_package_has_a_layer() -> None:
    layered = {p for layer in LAYERS for p in layer}
    packages = {_package(m) for m in _modules()}
    assert packages <= layered, f"packages without a layer in LAYERS: {sorted(packages - layered)}"


def test_imports_point_down_the_layers() -> None:
    modules = _modules()
    wrong = []
    for name, path in sorted(modules.items()):
        pkg = _package(name)
        for target, names, line in _imports(path, modules):
            if not _allowed(pkg, target, names):
                what = f"{target} ({', '.join(sorted(names))})" if names else target
                wrong.append(f"{path.relative_to(SRC)}:{line}: {pkg} imports {what}")
    assert not wrong, "imports against docs/architecture.md:\n" + "\n".join(wrong)


def test_no_import_cycles() -> None:
    modules = _modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for target, _, _ in _imports(path, modules):
            if target in modules and target != name:
                graph[name].add(target)
    cycles = _cycles(graph, list(modules))
    assert not cycles, f"import cycles: {cycles}"


def _cycles(graph: dict[str, set[str]], nodes: list[str]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


@pytest.mark.parametrize(("graph", "expected"), [
    ({"a": {"b"}, "b": {"a"}, "c": {"a"}}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
])
def test_the_cycle_finder_finds_cycles(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert _cycles(defaultdict(set, graph), list(graph)) == expected


def test_the_layer_rule_rejects_a_wrong_way_import() -> None:
    assert not _allowed("render", "journeymap.engine.coverage", set())
    assert not _allowed("engine", "journeymap.metrics.clv", set())
    assert not _allowed("commands", "journeymap.engine.segments", {"segment_comparison"})
    assert _allowed("commands", "journeymap.engine.funnels", {"FunnelSpec"})
    assert _allowed("workspace", "journeymap.render.exports", {"export"})


#: What is defined once, where (issue 9): the scope of an analysis, the progress type,
#: how a moment is written, the backend question.
DEFINED_ONCE = {
    "event_names": "journeymap.engine.scope", "persona_selection": "journeymap.engine.scope",
    "persona_events": "journeymap.engine.scope", "persona_customers": "journeymap.engine.scope",
    "has_table": "journeymap.engine.scope", "optional_table": "journeymap.engine.scope",
    "iso": "journeymap.engine.scope", "_iso": None, "Progress": "journeymap.progress",
    "capabilities": "journeymap.engine.backend",
}


def test_shared_pieces_are_defined_once() -> None:
    where: dict[str, list[str]] = defaultdict(list)
    for name, path in _modules().items():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in DEFINED_ONCE:
                where[node.name].append(name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                where.update({t.id: where[t.id] + [name] for t in targets
                              if isinstance(t, ast.Name) and t.id in DEFINED_ONCE})
    for piece, home in DEFINED_ONCE.items():
        assert where.get(piece, []) == ([home] if home else []), f"{piece} defined in {where.get(piece)}"


def test_only_the_backend_module_asks_which_engine_runs() -> None:
    """``con.name`` (``"duckdb"``, ``"pyspark"``) is read in engine/backend.py alone; every
    other module asks ``capabilities(con)`` (issue 9, point 2)."""
    askers = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and node.attr == "name"
                    and isinstance(node.value, ast.Name) and node.value.id in {"con", "backend"}):
                askers.append(name)
            if isinstance(node, ast.Constant) and node.value in {"pyspark"}:
                askers.append(name)
    assert set(askers) == {"journeymap.engine.backend"}, sorted(set(askers))  # found there, only there
