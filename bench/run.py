"""``make bench``: journeymap's ingest and analyze beside pm4py and retentioneering.

    python bench/run.py [--sizes 1e6,1e7,1e8] [--quick] [--repeats 3] [--peers-max 1e7] [--reuse]

For each size: generate the event log (cached under bench/out/), time ``ingest`` into
a fresh workspace, draft a map with ``discover`` (setup), time ``analyze`` of that map
(stage funnel, transitions, top paths, a 4-step funnel), and time the peers on the
same Parquet file up to ``--peers-max`` events.  Every measurement is a fresh process
(imports included); wall time and peak RSS are the median of ``--repeats`` runs (one
run past 10 M events).  ``--reuse`` keeps workspaces already ingested (their ingest
rows stay from the run that measured them).  Prints a table and writes bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen import generate  # noqa: E402

OUT = HERE / "out"
JOBS = HERE / "jobs.py"


@dataclass
class Measure:
    tool: str
    task: str
    events: int
    wall: float
    rss: int  # bytes
    runs: int
    ok: bool = True
    note: str = ""
    code: str = ""  # the commit measured (+ when the engine had uncommitted edits)


def code_version() -> str:
    """The checkout's commit, with + when src/ has uncommitted changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "../src"], cwd=HERE,
                               text=True, capture_output=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
    return head + ("+" if dirty else "")


def run_once(args: list[str], timeout: float) -> tuple[float, int, bool, str]:
    """Wall seconds, peak RSS (bytes) of one fresh process, whether it succeeded."""
    env = {**os.environ, "RETENTIONEERING_NO_TRACK": "1", "PYTHONWARNINGS": "ignore"}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(JOBS), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return time.perf_counter() - start, 0, False, f"timed out after {timeout:.0f} s"
    wall = time.perf_counter() - start
    rss = _peak_rss()
    if proc.returncode != 0:
        last = (err.decode(errors="replace").strip().splitlines() or ["failed"])[-1]
        return wall, rss, False, last[:160]
    return wall, rss, True, ""


def _peak_rss() -> int:
    """Peak RSS of the reaped job: RUSAGE_CHILDREN keeps the maximum over all children,
    so each job runs under its own short-lived runner process (see measure())."""
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


def measure(tool: str, task: str, events: int, args: list[str], repeats: int,
            timeout: float = 1800, before: list[str] | None = None) -> Measure:
    walls, rsses, note = [], [], ""
    for _ in range(repeats):
        if before:
            shutil.rmtree(before[0], ignore_errors=True)
        got = subprocess.run([sys.executable, __file__, "--one", str(timeout), "--", *args],
                             capture_output=True, text=True)
        parts = got.stdout.rstrip("\n").split("\t") if got.returncode == 0 else []
        if len(parts) != 4 or parts[2] != "ok":
            note = parts[3] if len(parts) == 4 else (got.stderr.strip()[-160:] or "failed")
            return Measure(tool, task, events, float(parts[0]) if parts else 0.0,
                           int(parts[1]) if parts else 0, len(walls) + 1, False, note)
        walls.append(float(parts[0]))
        rsses.append(int(parts[1]))
    return Measure(tool, task, events, statistics.median(walls), int(statistics.median(rsses)),
                   repeats, True, note, code_version())


def _fmt_size(n: int) -> str:
    return f"{n / 1e6:g} M"


def _gib(b: int) -> str:
    return f"{b / 2**30:.2f} GiB"


def machine() -> dict[str, str]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    versions = {}
    for pkg in ("journeymap", "duckdb", "ibis-framework", "pyarrow", "numpy", "pandas",
                "pm4py", "retentioneering"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = "not installed"
    return {"nproc": str(os.cpu_count()), "ram": _gib(ram), "cpu": cpu or "unknown",
            "python": platform.python_version(), "os": platform.platform(),
            **{f"v:{k}": v for k, v in versions.items()}}


def floors(results: list[Measure]) -> list[str]:
    """The issue's floors, checked against this run's numbers."""
    lines = []
    get = {(m.tool, m.task, m.events): m for m in results if m.ok}
    a10 = get.get(("journeymap", "analyze", 10_000_000))
    if a10:
        lines.append(f"- analyze, 10 M events: {a10.wall:.2f} s (floor ≤ 4 s): "
                     f"{'met' if a10.wall <= 4 else 'NOT met'}")
        for peer in ("pm4py", "retentioneering"):
            p = next((m for (t, _, e), m in get.items() if t == peer and e == 10_000_000), None)
            if p:
                ratio = p.wall / a10.wall
                lines.append(f"- vs {peer} at 10 M: {ratio:.1f}× faster (floor ≥ 6×): "
                             f"{'met' if ratio >= 6 else 'NOT met'}")
    a100 = get.get(("journeymap", "analyze", 100_000_000))
    if a100:
        lines.append(f"- analyze, 100 M events: {a100.wall:.1f} s, peak RSS {_gib(a100.rss)} "
                     f"(floors ≤ 60 s, ≤ 8 GiB): "
                     f"{'met' if a100.wall <= 60 and a100.rss <= 8 * 2**30 else 'NOT met'}")
    for small, big in ((1_000_000, 10_000_000), (10_000_000, 100_000_000)):
        s, b = get.get(("journeymap", "analyze", small)), get.get(("journeymap", "analyze", big))
        if s and b:
            ratio = b.wall / s.wall
            lines.append(f"- analyze scaling {_fmt_size(small)} → {_fmt_size(big)}: {ratio:.1f}× "
                         f"time for 10× events (floor ≤ 12×): {'met' if ratio <= 12 else 'NOT met'}")
    return lines


def table(results: list[Measure]) -> str:
    rows = ["| events | tool | task | wall (s) | peak RSS | runs | code | note |",
            "|---:|---|---|---:|---:|---:|---|---|"]
    for m in results:
        wall = f"{m.wall:.2f}" if m.ok else "—"
        rows.append(f"| {_fmt_size(m.events)} | {m.tool} | {m.task} | {wall} | "
                    f"{_gib(m.rss) if m.rss else '—'} | {m.runs} | {m.code} | {m.note} |")
    return "\n".join(rows)


def write_results(results: list[Measure], info: dict[str, str], argv: list[str]) -> Path:
    versions = ", ".join(f"{k[2:]} {v}" for k, v in info.items() if k.startswith("v:"))
    text = (
        "# Benchmark results\n\n"
        f"`python bench/run.py {' '.join(argv)}` on {time.strftime('%Y-%m-%d')}.\n\n"
        f"Machine: {info['nproc']} cores ({info['cpu']}), {info['ram']} RAM, "
        f"Python {info['python']}, {info['os']}.\n\nVersions: {versions}.\n\n"
        "Each number is a whole process (imports included): wall time and peak RSS, the "
        "median of the runs shown. journeymap `analyze` = stage funnel, transitions, top "
        "paths and a 4-step funnel of a map drafted by `discover`; pm4py = directly-follows "
        "graph + variants; retentioneering = eventstream + transition graph + step matrix "
        "+ funnel, on the same Parquet file. `code` is the commit measured (+: uncommitted "
        "engine edits); rows of earlier runs are kept where not measured again. Other work "
        "sharing the machine during a run makes its numbers slower, never faster.\n\n"
        f"{table(results)}\n\n## Floors\n\n" + ("\n".join(floors(results)) or "- (sizes run do not cover the floors)") + "\n"
    )
    path = HERE / "RESULTS.md"
    path.write_text(text, encoding="utf-8")
    return path


def merge_earlier(results: list[Measure], path: Path) -> list[Measure]:
    """This run's measurements plus earlier ones (bench/out/results.json) for the rows
    (tool, task, size) not measured now, so `--sizes 1e8` alone still yields the whole
    table; sorted by size."""
    import json
    from dataclasses import asdict

    now = {(m.tool, m.task, m.events) for m in results}
    try:
        earlier = [Measure(**d) for d in json.loads(path.read_text(encoding="utf-8"))]
    except (OSError, ValueError, TypeError):
        earlier = []
    merged = [m for m in earlier if (m.tool, m.task, m.events) not in now] + results
    order = {"journeymap": 0, "pm4py": 1, "retentioneering": 2}
    merged.sort(key=lambda m: (m.events, order.get(m.tool, 9), m.task != "ingest"))
    path.write_text(json.dumps([asdict(m) for m in merged], indent=1), encoding="utf-8")
    return merged


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:  # a runner process: one job, its own RUSAGE_CHILDREN
        wall, rss, ok, note = run_once(argv[3:], float(argv[1]))
        print(f"{wall:.3f}\t{rss}\t{'ok' if ok else 'failed'}\t{note}")
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6,1e7,1e8")
    parser.add_argument("--quick", action="store_true", help="1 M events, one run, no peers")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--peers-max", type=float, default=1e7)
    parser.add_argument("--reuse", action="store_true",
                        help="keep existing workspaces: measure analyze (and the peers), not ingest")
    args = parser.parse_args(argv)
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    repeats, peers_max = args.repeats, int(args.peers_max)
    if args.quick:
        sizes, repeats, peers_max = [1_000_000], 1, 0
    results: list[Measure] = []
    for n in sizes:
        reps = repeats if n <= 10_000_000 else 1
        data = generate(n, OUT / f"events-{n}.parquet")
        ws = OUT / f"ws-{n}"
        print(f"{_fmt_size(n)} events: {data}", flush=True)
        if not (args.reuse and (ws / "journeymap.duckdb").exists()):
            results.append(measure("journeymap", "ingest", n, ["ingest", str(ws), str(data)],
                                   reps, before=[str(ws)]))
        map_file = OUT / f"discovered-{n}.yaml"
        subprocess.run([sys.executable, str(JOBS), "discover", str(ws), str(map_file)], check=True)
        results.append(measure("journeymap", "analyze", n,
                               ["analyze", str(ws), str(map_file), str(OUT / f"analysis-{n}.json")],
                               reps))
        if n <= peers_max:
            results.append(measure("pm4py", "dfg + variants", n, ["pm4py", str(data)], reps))
            results.append(measure("retentioneering", "graph + steps + funnel", n,
                                   ["retentioneering", str(data)], reps))
        for m in results[-4:]:
            if m.events == n:
                print(f"  {m.tool:16} {m.task:24} {m.wall:8.2f} s  {_gib(m.rss):>10}  {m.note}",
                      flush=True)
    results = merge_earlier(results, OUT / "results.json")
    print()
    print(table(results))
    print("\n".join(floors(results)))
    path = write_results(results, machine(), argv)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
